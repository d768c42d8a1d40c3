package soltest

import (
	"encoding/base64"
	"encoding/json"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/mr-tron/base58"
)

func (c *Chain) rpcSendTransaction(p []json.RawMessage) (any, *rpcError) {
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
		return nil, invalidParams("invalid " + map[bool]string{true: "base64", false: "base58"}[cfg.Encoding == "base64"] + " encoding: " + err.Error())
	}
	sig, rerr := c.sendRaw(raw, !cfg.SkipPreflight, false)
	if rerr != nil {
		return nil, rerr
	}
	return sig.String(), nil
}

func (c *Chain) rpcGetTransaction(p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	sig, e := parseSignature(p[0])
	if e != nil {
		return nil, e
	}
	cfg, e := parseConfig(p, 1)
	if e != nil {
		return nil, e
	}
	switch cfg.Encoding {
	case "", "json", "jsonParsed", "base64", "base58":
	default:
		return nil, invalidParams("Invalid params: unknown variant `" + cfg.Encoding + "`, expected one of `binary`, `base64`, `base58`, `json`, `jsonParsed`.")
	}
	if normCommitment(cfg.Commitment) == rpc.CommitmentProcessed {
		return nil, errBelowConfirmed
	}
	c.mu.RLock()
	r, ok := c.txs[sig]
	s := c.commitSlotLocked(cfg.Commitment)
	if !ok || r.dropped || (r.fixture == nil && r.slot > s) {
		c.mu.RUnlock()
		return nil, nil
	}
	c.mu.RUnlock()
	isV0 := r.v0 || r.fixtureVersion == "0"
	if isV0 && cfg.MaxSupportedTransactionVersion == nil {
		return nil, &rpcError{Code: -32015, Message: `Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0`}
	}
	if r.fixture != nil {
		return json.RawMessage(r.fixture), nil
	}
	enc := cfg.Encoding
	if enc == "" {
		enc = "json"
	}
	return c.renderTx(r, enc, cfg.MaxSupportedTransactionVersion != nil), nil
}

func (c *Chain) rpcGetSignaturesForAddress(p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	pk, e := parsePubkey(p[0])
	if e != nil {
		return nil, e
	}
	cfg, e := parseConfig(p, 1)
	if e != nil {
		return nil, e
	}
	if normCommitment(cfg.Commitment) == rpc.CommitmentProcessed {
		return nil, errBelowConfirmed
	}
	limit := 1000
	if cfg.Limit != nil {
		limit = *cfg.Limit
		if limit < 1 || limit > 1000 {
			return nil, invalidParams("Invalid limit; max 1000")
		}
	}
	var before, until *solana.Signature
	for _, x := range []struct {
		s   string
		dst **solana.Signature
	}{{cfg.Before, &before}, {cfg.Until, &until}} {
		if x.s == "" {
			continue
		}
		b, err := base58.Decode(x.s)
		if err != nil || len(b) != 64 {
			return nil, invalidParams("Invalid param: Invalid")
		}
		sg := solana.SignatureFromBytes(b)
		*x.dst = &sg
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.commitSlotLocked(cfg.Commitment)
	if lag := c.faults.lag(); lag > 0 {
		if s > lag {
			s -= lag
		} else {
			s = 0
		}
	}
	fin := c.commitSlotLocked(rpc.CommitmentFinalized)
	list := c.byAddr[pk]
	out := make([]any, 0, min(limit, len(list)))
	started := before == nil
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		r := list[i]
		if !started {
			if r.sig == *before {
				started = true
			}
			continue
		}
		if until != nil && r.sig == *until {
			break
		}
		if r.dropped || (r.fixture == nil && r.entry == nil && r.slot > s) {
			continue
		}
		if r.entry != nil {
			out = append(out, json.RawMessage(r.entry))
			continue
		}
		status := "confirmed"
		if r.fixture != nil || r.slot <= fin {
			status = "finalized"
		} else if r.slot > c.commitSlotLocked(rpc.CommitmentConfirmed) {
			status = "processed"
		}
		var memo any
		if r.fixture != nil {
			if r.fixtureMemo != nil {
				memo = *r.fixtureMemo
			}
		} else {
			memo = rpcMemo(r.memos)
		}
		errv := r.err
		if r.fixture != nil {
			errv = r.fixtureErr
		}
		out = append(out, map[string]any{"blockTime": r.blockTime, "confirmationStatus": status, "err": errv, "memo": memo, "signature": r.sig.String(), "slot": r.slot})
	}
	return out, nil
}

func (c *Chain) rpcGetSignatureStatuses(p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	var strs []string
	if json.Unmarshal(p[0], &strs) != nil {
		return nil, invalidParams("Invalid params: invalid type: expected a sequence.")
	}
	if len(strs) > 256 {
		return nil, invalidParams("Too many inputs provided; max 256")
	}
	if _, e := parseConfig(p, 1); e != nil {
		return nil, e
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	conf := c.commitSlotLocked(rpc.CommitmentConfirmed)
	fin := c.commitSlotLocked(rpc.CommitmentFinalized)
	vals := make([]any, len(strs))
	for i, s := range strs {
		b, err := base58.Decode(s)
		if err != nil || len(b) != 64 {
			return nil, invalidParams("Invalid param: Invalid")
		}
		r, ok := c.txs[solana.SignatureFromBytes(b)]
		if !ok || r.dropped || (r.fixture == nil && r.entry != nil) {
			continue
		}
		if r.fixture != nil {
			vals[i] = map[string]any{"confirmationStatus": "finalized", "confirmations": nil, "err": r.fixtureErr, "slot": r.slot, "status": status(r.fixtureErr)}
			continue
		}
		st := map[string]any{"err": r.err, "slot": r.slot, "status": status(r.err)}
		switch {
		case r.slot <= fin:
			st["confirmationStatus"], st["confirmations"] = "finalized", nil
		case r.slot <= conf:
			st["confirmationStatus"], st["confirmations"] = "confirmed", c.slot-r.slot
		default:
			st["confirmationStatus"], st["confirmations"] = "processed", 0
		}
		vals[i] = st
	}
	return withCtx(c.ctx(c.slot), vals), nil
}

func status(err any) map[string]any {
	if err == nil {
		return map[string]any{"Ok": nil}
	}
	return map[string]any{"Err": err}
}
