package events

// Checkpoint is the INDEXER entry for one escrow: the newest signature whose events (and those of
// every older signature) JetStream has acknowledged. It only ever moves forward.
type Checkpoint struct {
	Version   int    `json:"version"`
	Escrow    string `json:"escrow"`
	Signature string `json:"signature"`
	Slot      uint64 `json:"slot"`
}
