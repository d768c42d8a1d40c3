package soltest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/mr-tron/base58"
)

const (
	apiVersion  = "2.3.6"
	featureSet  = 3294202862
	maxBodySize = 50 << 20
)

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

func invalidParams(msg string) *rpcError { return &rpcError{Code: -32602, Message: msg} }

func idOrNull(id json.RawMessage) []byte {
	if len(id) == 0 {
		return []byte("null")
	}
	return id
}

func resultFrame(id json.RawMessage, result any) []byte {
	r, err := json.Marshal(result)
	if err != nil {
		return errorFrame(id, &rpcError{Code: -32603, Message: "Internal error"})
	}
	b := make([]byte, 0, len(r)+48)
	b = append(b, `{"jsonrpc":"2.0","result":`...)
	b = append(b, r...)
	b = append(b, `,"id":`...)
	b = append(b, idOrNull(id)...)
	return append(b, '}')
}

func errorFrame(id json.RawMessage, e *rpcError) []byte {
	r, _ := json.Marshal(e)
	b := make([]byte, 0, len(r)+48)
	b = append(b, `{"jsonrpc":"2.0","error":`...)
	b = append(b, r...)
	b = append(b, `,"id":`...)
	b = append(b, idOrNull(id)...)
	return append(b, '}')
}

// serveRPC answers JSON-RPC over HTTP POST, single or batch, and upgrades WebSocket requests.
func (c *Chain) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "" {
		c.serveWS(w, r)
		return
	}
	if r.Method != http.MethodPost {
		if r.Method == http.MethodGet && r.URL.Path == "/health" {
			io.WriteString(w, "ok")
			return
		}
		http.Error(w, "Used HTTP Method is not allowed. POST or OPTIONS is required", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize))
	if err != nil {
		return
	}
	if d := c.faults.getLatency(); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var reqs []json.RawMessage
		if err := json.Unmarshal(trimmed, &reqs); err != nil {
			w.Write(errorFrame(nil, &rpcError{Code: -32700, Message: "Parse error"}))
			return
		}
		if len(reqs) == 0 {
			w.Write(errorFrame(nil, &rpcError{Code: -32600, Message: "Invalid request"}))
			return
		}
		if limited, mode := c.faults.limited(); limited {
			c.writeRateLimited(w, nil, mode)
			return
		}
		out := []byte{'['}
		for i, raw := range reqs {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, c.handleOne(raw)...)
		}
		w.Write(append(out, ']'))
		return
	}
	if limited, mode := c.faults.limited(); limited {
		var req rpcRequest
		_ = json.Unmarshal(body, &req)
		c.calls.inc(req.Method)
		c.writeRateLimited(w, req.ID, mode)
		return
	}
	w.Write(c.handleOne(body))
}

func (c *Chain) writeRateLimited(w http.ResponseWriter, id json.RawMessage, mode RateLimitMode) {
	frame := errorFrame(id, &rpcError{Code: 429, Message: rateLimitMessage})
	if mode == RateLimitHTTP {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}
	w.Write(frame)
}

func (c *Chain) handleOne(raw []byte) (out []byte) {
	var req rpcRequest
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("soltest: panic in JSON-RPC handler", "method", req.Method, "panic", r)
			out = errorFrame(req.ID, &rpcError{Code: -32603, Message: "Internal error"})
		}
	}()
	if err := json.Unmarshal(raw, &req); err != nil {
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) != nil {
			return errorFrame(nil, &rpcError{Code: -32700, Message: "Parse error"})
		}
		return errorFrame(probe["id"], &rpcError{Code: -32602, Message: "Invalid params: invalid type: expected a sequence."})
	}
	if req.Method == "" || req.JSONRPC != "2.0" {
		return errorFrame(req.ID, &rpcError{Code: -32600, Message: "Invalid request"})
	}
	c.calls.inc(req.Method)
	res, e := c.call(req.Method, req.Params)
	if e != nil {
		return errorFrame(req.ID, e)
	}
	return resultFrame(req.ID, res)
}

// commonConfig is the union of the configuration objects Solana's methods accept.
type commonConfig struct {
	Commitment                     rpc.CommitmentType `json:"commitment"`
	Encoding                       string             `json:"encoding"`
	MinContextSlot                 *uint64            `json:"minContextSlot"`
	DataSlice                      *dataSlice         `json:"dataSlice"`
	MaxSupportedTransactionVersion *int               `json:"maxSupportedTransactionVersion"`
	SkipPreflight                  bool               `json:"skipPreflight"`
	PreflightCommitment            rpc.CommitmentType `json:"preflightCommitment"`
	SearchTransactionHistory       bool               `json:"searchTransactionHistory"`
	Limit                          *int               `json:"limit"`
	Before                         string             `json:"before"`
	Until                          string             `json:"until"`
	WithContext                    bool               `json:"withContext"`
	Filters                        []json.RawMessage  `json:"filters"`
	Mint                           string             `json:"mint"`
	ProgramID                      string             `json:"programId"`
}

func parseConfig(p []json.RawMessage, i int) (commonConfig, *rpcError) {
	var cfg commonConfig
	if len(p) > i && string(p[i]) != "null" {
		if err := json.Unmarshal(p[i], &cfg); err != nil {
			return cfg, invalidParams("Invalid params: " + err.Error() + ".")
		}
	}
	if ds := cfg.DataSlice; ds != nil && (ds.Offset < 0 || ds.Length < 0) {
		return cfg, invalidParams("Invalid params: invalid value: integer, expected usize.")
	}
	switch cfg.Commitment {
	case "", rpc.CommitmentProcessed, rpc.CommitmentConfirmed, rpc.CommitmentFinalized, "recent", "single", "singleGossip", "root", "max":
	default:
		return cfg, invalidParams("Invalid params: unknown variant `" + string(cfg.Commitment) + "`, expected one of `processed`, `confirmed`, `finalized`.")
	}
	return cfg, nil
}

func parsePubkey(raw json.RawMessage) (solana.PublicKey, *rpcError) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return solana.PublicKey{}, invalidParams("Invalid params: invalid type: expected a string.")
	}
	pk, err := solana.PublicKeyFromBase58(s)
	if err != nil {
		return pk, invalidParams("Invalid param: Invalid")
	}
	return pk, nil
}

func parseSignature(raw json.RawMessage) (solana.Signature, *rpcError) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return solana.Signature{}, invalidParams("Invalid params: invalid type: expected a string.")
	}
	b, err := base58.Decode(s)
	if err != nil || len(b) != 64 {
		return solana.Signature{}, invalidParams("Invalid param: Invalid")
	}
	return solana.SignatureFromBytes(b), nil
}

func need(p []json.RawMessage, n int) *rpcError {
	if len(p) < n {
		return invalidParams("Invalid params: invalid length " + strconv.Itoa(len(p)) + ", expected " + strconv.Itoa(n) + " element" + map[bool]string{true: "", false: "s"}[n == 1] + ".")
	}
	return nil
}

var errBelowConfirmed = invalidParams("Method does not support commitment below `confirmed`")

func (c *Chain) ctx(slot uint64) map[string]any {
	return map[string]any{"apiVersion": apiVersion, "slot": slot}
}

func withCtx(ctx map[string]any, v any) map[string]any {
	return map[string]any{"context": ctx, "value": v}
}

// call dispatches one JSON-RPC method.
func (c *Chain) call(method string, p []json.RawMessage) (any, *rpcError) {
	switch method {
	case "getHealth":
		return "ok", nil
	case "getVersion":
		return map[string]any{"feature-set": featureSet, "solana-core": apiVersion}, nil
	case "getGenesisHash":
		return c.blockHash(0).String(), nil
	case "getSlot", "getBlockHeight":
		cfg, e := parseConfig(p, 0)
		if e != nil {
			return nil, e
		}
		return c.Slot(cfg.Commitment), nil
	case "getEpochInfo":
		cfg, e := parseConfig(p, 0)
		if e != nil {
			return nil, e
		}
		s := c.Slot(cfg.Commitment)
		return map[string]any{"absoluteSlot": s, "blockHeight": s, "epoch": s / 432000, "slotIndex": s % 432000, "slotsInEpoch": 432000, "transactionCount": c.txCount()}, nil
	case "getLatestBlockhash":
		cfg, e := parseConfig(p, 0)
		if e != nil {
			return nil, e
		}
		c.mu.RLock()
		s := c.commitSlotLocked(cfg.Commitment)
		if e := checkMin(cfg, s); e != nil {
			c.mu.RUnlock()
			return nil, e
		}
		h := c.slotHash[s]
		c.mu.RUnlock()
		return withCtx(c.ctx(s), map[string]any{"blockhash": h.String(), "lastValidBlockHeight": s + blockhashValidity}), nil
	case "isBlockhashValid":
		if e := need(p, 1); e != nil {
			return nil, e
		}
		var hs string
		if json.Unmarshal(p[0], &hs) != nil {
			return nil, invalidParams("Invalid params: invalid type: expected a string.")
		}
		h, err := solana.HashFromBase58(hs)
		if err != nil {
			return nil, invalidParams("Invalid param: Invalid")
		}
		cfg, e := parseConfig(p, 1)
		if e != nil {
			return nil, e
		}
		c.mu.RLock()
		defer c.mu.RUnlock()
		s := c.commitSlotLocked(cfg.Commitment)
		hs2, ok := c.hashes[h]
		return withCtx(c.ctx(s), ok && hs2 <= s), nil
	case "getBalance":
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
		c.mu.RLock()
		defer c.mu.RUnlock()
		s := c.commitSlotLocked(cfg.Commitment)
		if e := checkMin(cfg, s); e != nil {
			return nil, e
		}
		var bal uint64
		if a := c.accountAtLocked(pk, s); a != nil {
			bal = a.Lamports
		}
		return withCtx(c.ctx(s), bal), nil
	case "getAccountInfo":
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
		if e := checkEncoding(cfg.Encoding); e != nil {
			return nil, e
		}
		c.mu.RLock()
		defer c.mu.RUnlock()
		s := c.commitSlotLocked(cfg.Commitment)
		if e := checkMin(cfg, s); e != nil {
			return nil, e
		}
		return withCtx(c.ctx(s), c.renderAccountLocked(pk, c.accountAtLocked(pk, s), cfg.Encoding, cfg.DataSlice)), nil
	case "getMultipleAccounts":
		if e := need(p, 1); e != nil {
			return nil, e
		}
		var strs []string
		if json.Unmarshal(p[0], &strs) != nil {
			return nil, invalidParams("Invalid params: invalid type: expected a sequence.")
		}
		if len(strs) > 100 {
			return nil, invalidParams("Too many inputs provided; max 100")
		}
		cfg, e := parseConfig(p, 1)
		if e != nil {
			return nil, e
		}
		if e := checkEncoding(cfg.Encoding); e != nil {
			return nil, e
		}
		keys := make([]solana.PublicKey, len(strs))
		for i, s := range strs {
			pk, err := solana.PublicKeyFromBase58(s)
			if err != nil {
				return nil, invalidParams("Invalid param: Invalid")
			}
			keys[i] = pk
		}
		c.mu.RLock()
		defer c.mu.RUnlock()
		s := c.commitSlotLocked(cfg.Commitment)
		if e := checkMin(cfg, s); e != nil {
			return nil, e
		}
		vals := make([]any, len(keys))
		for i, pk := range keys {
			vals[i] = c.renderAccountLocked(pk, c.accountAtLocked(pk, s), cfg.Encoding, cfg.DataSlice)
		}
		return withCtx(c.ctx(s), vals), nil
	case "getMinimumBalanceForRentExemption":
		n := 0
		if len(p) > 0 {
			if json.Unmarshal(p[0], &n) != nil || n < 0 {
				return nil, invalidParams("Invalid params: invalid type: expected usize.")
			}
		}
		return rentExempt(n), nil
	case "requestAirdrop":
		if e := need(p, 2); e != nil {
			return nil, e
		}
		pk, e := parsePubkey(p[0])
		if e != nil {
			return nil, e
		}
		var lam uint64
		if json.Unmarshal(p[1], &lam) != nil {
			return nil, invalidParams("Invalid params: invalid type: expected u64.")
		}
		sig, err := c.airdrop(pk, lam)
		if err != nil {
			return nil, &rpcError{Code: -32603, Message: "Internal error"}
		}
		return sig.String(), nil
	case "getBlock":
		// The simulator keeps no blocks; it answers like a node whose ledger lacks the slot.
		if e := need(p, 1); e != nil {
			return nil, e
		}
		var slot uint64
		if json.Unmarshal(p[0], &slot) != nil {
			return nil, invalidParams("Invalid params: invalid type: expected u64.")
		}
		return nil, &rpcError{Code: -32009, Message: "Slot " + strconv.FormatUint(slot, 10) + " was skipped, or missing in long-term storage"}
	case "sendTransaction":
		return c.rpcSendTransaction(p)
	case "simulateTransaction":
		return c.rpcSimulateTransaction(p)
	case "getFeeForMessage":
		return c.rpcGetFeeForMessage(p)
	case "getTransaction":
		return c.rpcGetTransaction(p)
	case "getSignaturesForAddress":
		return c.rpcGetSignaturesForAddress(p)
	case "getSignatureStatuses":
		return c.rpcGetSignatureStatuses(p)
	case "getTokenSupply", "getTokenAccountBalance", "getTokenLargestAccounts", "getTokenAccountsByOwner", "getProgramAccounts":
		return c.rpcToken(method, p)
	}
	return nil, &rpcError{Code: -32601, Message: "Method not found"}
}

func checkMin(cfg commonConfig, s uint64) *rpcError {
	if cfg.MinContextSlot != nil && *cfg.MinContextSlot > s {
		return &rpcError{Code: -32016, Message: "Minimum context slot has not been reached", Data: map[string]any{"contextSlot": s}}
	}
	return nil
}

func checkEncoding(enc string) *rpcError {
	switch enc {
	case "", "base58", "base64", "base64+zstd", "jsonParsed":
		return nil
	}
	return invalidParams("Invalid params: unknown variant `" + enc + "`, expected one of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`.")
}

func (c *Chain) txCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.txs)
}
