package soltest

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

// rpcSimulateTransaction runs a transaction against the processed state without changing it,
// answering like Solana: execution failures are reported in value.err (not as an RPC error).
func (c *Chain) rpcSimulateTransaction(p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	var s string
	if json.Unmarshal(p[0], &s) != nil {
		return nil, invalidParams("Invalid params: invalid type: expected a string.")
	}
	var cfg struct {
		Encoding               string `json:"encoding"`
		SigVerify              bool   `json:"sigVerify"`
		ReplaceRecentBlockhash bool   `json:"replaceRecentBlockhash"`
	}
	if len(p) > 1 && string(p[1]) != "null" {
		if err := json.Unmarshal(p[1], &cfg); err != nil {
			return nil, invalidParams("Invalid params: " + err.Error() + ".")
		}
	}
	if cfg.SigVerify && cfg.ReplaceRecentBlockhash {
		return nil, invalidParams("sigVerify may not be used with replaceRecentBlockhash")
	}
	var raw []byte
	var err error
	switch cfg.Encoding {
	case "", "base58":
		raw, err = base58.Decode(s)
	case "base64":
		raw, err = base64.StdEncoding.DecodeString(s)
	default:
		return nil, invalidParams("unsupported encoding: " + cfg.Encoding + ". Supported encodings: base58, base64")
	}
	if err != nil {
		return nil, invalidParams("invalid transaction encoding: " + err.Error())
	}
	tx, err := decodeTx(raw)
	if err != nil {
		return nil, &rpcError{Code: -32602, Message: "invalid transaction: failed to deserialize solana_sdk::transaction::versioned::VersionedTransaction: " + err.Error()}
	}
	nsig, off := decodeShortU16(raw)
	if off < 0 || nsig != len(tx.Signatures) || len(raw) < off+64*nsig || int(tx.Message.Header.NumRequiredSignatures) != nsig || len(tx.Message.AccountKeys) < nsig {
		return nil, &rpcError{Code: -32602, Message: "invalid transaction: Transaction failed to sanitize accounts offsets correctly"}
	}
	if cfg.SigVerify {
		msg := raw[off+64*nsig:]
		for i := 0; i < nsig; i++ {
			if !ed25519.Verify(tx.Message.AccountKeys[i][:], msg, tx.Signatures[i][:]) {
				return nil, &rpcError{Code: -32003, Message: "Transaction signature verification failure"}
			}
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	slot := c.slot
	value := map[string]any{"accounts": nil, "innerInstructions": nil, "loadedAccountsDataSize": 0,
		"replacementBlockhash": nil, "returnData": nil}
	if cfg.ReplaceRecentBlockhash {
		value["replacementBlockhash"] = map[string]any{"blockhash": c.slotHash[slot].String(), "lastValidBlockHeight": slot + blockhashValidity}
	}
	// Simulation never writes state, so a read lock suffices; executeLocked only reads the
	// chain when simulate is set.
	rec, rej := c.executeLocked(tx, raw, execMode{simulate: true, anyBlockhash: cfg.ReplaceRecentBlockhash})
	if rej != nil {
		if rej.rpc.Code != -32002 {
			return nil, rej.rpc
		}
		d := rej.rpc.Data.(map[string]any)
		value["err"], value["logs"], value["unitsConsumed"] = d["err"], []string{}, 0
		return withCtx(c.ctx(slot), value), nil
	}
	value["err"], value["logs"], value["unitsConsumed"] = rec.err, rec.logs, rec.cu
	return withCtx(c.ctx(slot), value), nil
}

// rpcGetFeeForMessage answers the fee a base64 message would pay, or null when its blockhash is
// no longer valid, as Solana does.
func (c *Chain) rpcGetFeeForMessage(p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	var s string
	if json.Unmarshal(p[0], &s) != nil {
		return nil, invalidParams("Invalid params: invalid type: expected a string.")
	}
	cfg, e := parseConfig(p, 1)
	if e != nil {
		return nil, e
	}
	m, err := decodeMessage(s)
	if err != nil {
		return nil, invalidParams("invalid message: " + err.Error())
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	slot := c.commitSlotLocked(cfg.Commitment)
	if _, ok := c.hashes[m.RecentBlockhash]; !ok {
		return withCtx(c.ctx(slot), nil), nil
	}
	fee, _ := c.feeFor(m, m.AccountKeys, int(m.Header.NumRequiredSignatures))
	return withCtx(c.ctx(slot), fee), nil
}

func decodeMessage(b64 string) (m *solana.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("malformed message: %v", r)
		}
	}()
	m = new(solana.Message)
	if err := m.UnmarshalBase64(b64); err != nil {
		return nil, err
	}
	return m, nil
}
