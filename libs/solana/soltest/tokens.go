package soltest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"sort"

	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

func (c *Chain) rpcToken(method string, p []json.RawMessage) (any, *rpcError) {
	if e := need(p, 1); e != nil {
		return nil, e
	}
	pk, e := parsePubkey(p[0])
	if e != nil {
		return nil, e
	}
	cfgIdx := 1
	var filter commonConfig
	if method == "getTokenAccountsByOwner" {
		if e := need(p, 2); e != nil {
			return nil, e
		}
		if json.Unmarshal(p[1], &filter) != nil || (filter.Mint == "") == (filter.ProgramID == "") {
			return nil, invalidParams("Invalid params: data did not match any variant of untagged enum RpcTokenAccountsFilter.")
		}
		cfgIdx = 2
	}
	cfg, e := parseConfig(p, cfgIdx)
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
	a := c.accountAtLocked(pk, s)
	switch method {
	case "getTokenSupply":
		var ms mintState
		ok := false
		if a != nil && isTokenProgram(a.Owner) {
			ms, ok = decodeMint(a.Data)
		}
		if !ok {
			return nil, invalidParams("Invalid param: not a Token mint")
		}
		return withCtx(c.ctx(s), uiTokenAmount(ms.supply, ms.decimals, false)), nil
	case "getTokenAccountBalance":
		var ts tokenState
		ok := false
		if a != nil && isTokenProgram(a.Owner) {
			ts, ok = decodeToken(a.Data)
		}
		if !ok {
			return nil, invalidParams("Invalid param: not a Token account")
		}
		return withCtx(c.ctx(s), uiTokenAmount(ts.amount, c.decimalsLocked(ts.mint, s), false)), nil
	case "getTokenLargestAccounts":
		if a == nil || !isTokenProgram(a.Owner) {
			return nil, invalidParams("Invalid param: not a Token mint")
		}
		ms, ok := decodeMint(a.Data)
		if !ok {
			return nil, invalidParams("Invalid param: not a Token mint")
		}
		type holder struct {
			pk  solana.PublicKey
			amt uint64
		}
		var hs []holder
		for k := range c.accounts {
			ta := c.accountAtLocked(k, s)
			if ta == nil || ta.Owner != a.Owner {
				continue
			}
			if t, ok := decodeToken(ta.Data); ok && t.mint == pk {
				hs = append(hs, holder{k, t.amount})
			}
		}
		sort.Slice(hs, func(i, j int) bool {
			if hs[i].amt != hs[j].amt {
				return hs[i].amt > hs[j].amt
			}
			return hs[i].pk.String() < hs[j].pk.String()
		})
		if len(hs) > 20 {
			hs = hs[:20]
		}
		out := make([]any, len(hs))
		for i, h := range hs {
			m := uiTokenAmount(h.amt, ms.decimals, false)
			m["address"] = h.pk.String()
			out[i] = m
		}
		return withCtx(c.ctx(s), out), nil
	case "getTokenAccountsByOwner":
		var mint, prog solana.PublicKey
		var err error
		if filter.Mint != "" {
			if mint, err = solana.PublicKeyFromBase58(filter.Mint); err != nil {
				return nil, invalidParams("Invalid param: Invalid")
			}
			ma := c.accountAtLocked(mint, s)
			if ma == nil || !isTokenProgram(ma.Owner) {
				return nil, invalidParams("Invalid param: could not find mint")
			}
			prog = ma.Owner
		} else {
			if prog, err = solana.PublicKeyFromBase58(filter.ProgramID); err != nil {
				return nil, invalidParams("Invalid param: Invalid")
			}
			if !isTokenProgram(prog) {
				return nil, invalidParams("Invalid param: unrecognized Token program id")
			}
		}
		out := []any{}
		for _, k := range c.sortedKeysLocked() {
			ta := c.accountAtLocked(k, s)
			if ta == nil || ta.Owner != prog {
				continue
			}
			if t, ok := decodeToken(ta.Data); ok && t.owner == pk && (mint.IsZero() || t.mint == mint) {
				out = append(out, map[string]any{"pubkey": k.String(), "account": c.renderAccountLocked(k, ta, cfg.Encoding, cfg.DataSlice)})
			}
		}
		return withCtx(c.ctx(s), out), nil
	case "getProgramAccounts":
		filters, e := parseFilters(cfg.Filters)
		if e != nil {
			return nil, e
		}
		out := []any{}
		for _, k := range c.sortedKeysLocked() {
			ta := c.accountAtLocked(k, s)
			if ta == nil || ta.Owner != pk {
				continue
			}
			match := true
			for _, f := range filters {
				if !f(ta.Data) {
					match = false
					break
				}
			}
			if match {
				out = append(out, map[string]any{"pubkey": k.String(), "account": c.renderAccountLocked(k, ta, cfg.Encoding, cfg.DataSlice)})
			}
		}
		if cfg.WithContext {
			return withCtx(c.ctx(s), out), nil
		}
		return out, nil
	}
	return nil, &rpcError{Code: -32601, Message: "Method not found"}
}

func (c *Chain) decimalsLocked(mint solana.PublicKey, s uint64) uint8 {
	if ma := c.accountAtLocked(mint, s); ma != nil {
		if ms, ok := decodeMint(ma.Data); ok {
			return ms.decimals
		}
	}
	return 0
}

func (c *Chain) sortedKeysLocked() []solana.PublicKey {
	keys := make([]solana.PublicKey, 0, len(c.accounts))
	for k := range c.accounts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	return keys
}

func parseFilters(raw []json.RawMessage) ([]func([]byte) bool, *rpcError) {
	if len(raw) > 4 {
		return nil, invalidParams("Too many filters provided; max 4")
	}
	var out []func([]byte) bool
	for _, r := range raw {
		var f struct {
			DataSize *int `json:"dataSize"`
			Memcmp   *struct {
				Offset   int    `json:"offset"`
				Bytes    string `json:"bytes"`
				Encoding string `json:"encoding"`
			} `json:"memcmp"`
		}
		if err := json.Unmarshal(r, &f); err != nil || (f.DataSize == nil && f.Memcmp == nil) {
			return nil, invalidParams("Invalid params: data did not match any variant of untagged enum RpcFilterType.")
		}
		if f.DataSize != nil {
			n := *f.DataSize
			out = append(out, func(d []byte) bool { return len(d) == n })
			continue
		}
		m := f.Memcmp
		var want []byte
		var err error
		switch m.Encoding {
		case "", "base58":
			want, err = base58.Decode(m.Bytes)
		case "base64":
			want, err = base64.StdEncoding.DecodeString(m.Bytes)
		default:
			err = io.ErrUnexpectedEOF
		}
		if err != nil || len(want) > 128 {
			return nil, invalidParams("Invalid param: Encoded binary (base 58) data should be less than 129 bytes")
		}
		off := m.Offset
		out = append(out, func(d []byte) bool { return off+len(want) <= len(d) && bytes.Equal(d[off:off+len(want)], want) })
	}
	return out, nil
}
