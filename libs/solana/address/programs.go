package address

// knownPrograms are well-known program and sysvar addresses. None of them can ever spend
// lamports sent to it, so money paid there is lost: they must never be used as an escrow.
var knownPrograms = map[string]string{
	"11111111111111111111111111111111":             "System Program",
	"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA":  "SPL Token program",
	"TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb":  "SPL Token-2022 program",
	"ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL": "Associated Token Account program",
	"MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr":  "Memo program",
	"Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo":  "Memo program (v1)",
	"ComputeBudget111111111111111111111111111111":  "Compute Budget program",
	"Vote111111111111111111111111111111111111111":  "Vote program",
	"Stake11111111111111111111111111111111111111":  "Stake program",
	"BPFLoaderUpgradeab1e11111111111111111111111":  "BPF Upgradeable Loader",
	"AddressLookupTab1e1111111111111111111111111":  "Address Lookup Table program",
	"metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s":  "Metaplex Token Metadata program",
	"1nc1nerator11111111111111111111111111111111":  "Incinerator",
	"SysvarC1ock11111111111111111111111111111111":  "Clock sysvar",
	"SysvarRent111111111111111111111111111111111":  "Rent sysvar",
	"SysvarRecentB1ockHashes11111111111111111111":  "RecentBlockhashes sysvar",
	"Sysvar1nstructions1111111111111111111111111":  "Instructions sysvar",
	"SysvarS1otHashes111111111111111111111111111":  "SlotHashes sysvar",
	"SysvarStakeHistory1111111111111111111111111":  "StakeHistory sysvar",
	"SysvarEpochSchedu1e111111111111111111111111":  "EpochSchedule sysvar",
	"SysvarFees111111111111111111111111111111111":  "Fees sysvar",
}

// KnownProgram reports whether s is a well-known program or sysvar address, and its name. Such
// an address can never spend what it receives, so callers refuse it where money will be sent.
func KnownProgram(s string) (name string, ok bool) {
	name, ok = knownPrograms[s]
	return name, ok
}
