package soltest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

// u64Max is the rentEpoch Solana reports for rent-exempt accounts.
var u64Max = json.Number("18446744073709551615")

type dataSlice struct {
	Offset int `json:"offset"`
	Length int `json:"length"`
}

// renderAccountLocked renders an account value for getAccountInfo and friends (nil → null).
func (c *Chain) renderAccountLocked(pk solana.PublicKey, a *Account, encoding string, ds *dataSlice) any {
	if a == nil {
		return nil
	}
	data := a.Data
	if ds != nil {
		lo := min(ds.Offset, len(data))
		hi := min(lo+ds.Length, len(data))
		data = data[lo:hi]
	}
	var rentEpoch any = u64Max
	if c.fixtures != nil {
		if re, ok := c.fixtures.rentEpoch[pk]; ok {
			rentEpoch = re
		}
	}
	out := map[string]any{
		"executable": a.Executable,
		"lamports":   a.Lamports,
		"owner":      a.Owner.String(),
		"rentEpoch":  rentEpoch,
		"space":      len(a.Data),
	}
	if c.fixtures != nil && c.fixtures.noSpace[pk] {
		delete(out, "space")
	}
	switch encoding {
	case "jsonParsed":
		if ds == nil {
			if p := parseAccountData(c, a); p != nil {
				out["data"] = p
				return out
			}
		}
		out["data"] = []string{base64.StdEncoding.EncodeToString(data), "base64"}
	case "base64":
		out["data"] = []string{base64.StdEncoding.EncodeToString(data), "base64"}
	case "base64+zstd":
		out["data"] = []string{base64.StdEncoding.EncodeToString(zstdFrame(data)), "base64+zstd"}
	default: // base58 (the default encoding)
		out["data"] = []string{base58.Encode(data), "base58"}
	}
	return out
}

// zstdFrame wraps data in a raw (uncompressed) zstd frame, which every zstd decoder accepts.
func zstdFrame(data []byte) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20 | 0x00} // magic; single segment, 1-byte content size
	if len(data) > 255 {
		b[4] = 0xa0 // single segment, 4-byte content size
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	} else {
		b = append(b, byte(len(data)))
	}
	// One last raw block: header = last(1) | type raw(0) | size<<3.
	for off := 0; ; {
		n := min(len(data)-off, 128*1024-1)
		last := off+n == len(data)
		h := uint32(n) << 3
		if last {
			h |= 1
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16))
		b = append(b, data[off:off+n]...)
		off += n
		if last {
			return b
		}
	}
}

// parseAccountData renders jsonParsed data for mints and token accounts; nil means not parsable.
func parseAccountData(c *Chain, a *Account) any {
	if !isTokenProgram(a.Owner) {
		return nil
	}
	prog := programName(a.Owner)
	if t, ok := decodeToken(a.Data); ok {
		var dec uint8
		if ma := c.currentLocked(t.mint); ma != nil {
			if ms, ok := decodeMint(ma.Data); ok {
				dec = ms.decimals
			}
		}
		state := "initialized"
		if t.state == 2 {
			state = "frozen"
		}
		info := map[string]any{
			"isNative":    t.native != nil,
			"mint":        t.mint.String(),
			"owner":       t.owner.String(),
			"state":       state,
			"tokenAmount": uiTokenAmount(t.amount, dec, false),
		}
		if t.delegate != nil {
			info["delegate"] = t.delegate.String()
			info["delegatedAmount"] = uiTokenAmount(t.delegated, dec, false)
		}
		if t.native != nil {
			info["rentExemptReserve"] = uiTokenAmount(*t.native, 9, false)
		}
		if t.closeAuth != nil {
			info["closeAuthority"] = t.closeAuth.String()
		}
		if len(a.Data) == 170 {
			info["extensions"] = []any{map[string]any{"extension": "immutableOwner"}}
		}
		return map[string]any{"program": prog, "parsed": map[string]any{"info": info, "type": "account"}, "space": len(a.Data)}
	}
	if m, ok := decodeMint(a.Data); ok {
		info := map[string]any{
			"decimals":        m.decimals,
			"freezeAuthority": nil,
			"isInitialized":   m.initialized,
			"mintAuthority":   nil,
			"supply":          uintStr(m.supply),
		}
		if m.authority != nil {
			info["mintAuthority"] = m.authority.String()
		}
		if m.freezeAuthority != nil {
			info["freezeAuthority"] = m.freezeAuthority.String()
		}
		return map[string]any{"program": prog, "parsed": map[string]any{"info": info, "type": "mint"}, "space": len(a.Data)}
	}
	return nil
}

// renderTx renders a landed transaction for getTransaction in the given encoding.
func (c *Chain) renderTx(r *txRecord, encoding string, withVersion bool) map[string]any {
	meta := map[string]any{
		"computeUnitsConsumed": r.cu,
		"err":                  r.err,
		"fee":                  r.fee,
		"logMessages":          r.logs,
		"postBalances":         r.postBal,
		"preBalances":          r.preBal,
		"preTokenBalances":     renderTokenBals(r.preTok),
		"postTokenBalances":    renderTokenBals(r.postTok),
		"rewards":              []any{},
		"status":               map[string]any{"Ok": nil},
	}
	if r.err != nil {
		meta["status"] = map[string]any{"Err": r.err}
	}
	parsed := encoding == "jsonParsed"
	inner := make([]any, 0, len(r.inner))
	for _, g := range r.inner {
		ixs := make([]any, 0, len(g.ixs))
		for _, ix := range g.ixs {
			if parsed {
				p := c.parsedIx(r, ix.program, ix.accounts, ix.data)
				p["stackHeight"] = ix.height
				ixs = append(ixs, p)
			} else {
				ixs = append(ixs, map[string]any{"accounts": u16s(ix.accounts), "data": base58.Encode(ix.data), "programIdIndex": ix.program, "stackHeight": ix.height})
			}
		}
		inner = append(inner, map[string]any{"index": g.index, "instructions": ixs})
	}
	meta["innerInstructions"] = inner
	if !parsed {
		meta["loadedAddresses"] = map[string]any{"readonly": keyStrings(r.loadedR), "writable": keyStrings(r.loadedW)}
	}
	out := map[string]any{"blockTime": r.blockTime, "meta": meta, "slot": r.slot}
	if withVersion {
		if r.v0 {
			out["version"] = 0
		} else {
			out["version"] = "legacy"
		}
	}
	m := &r.tx.Message
	sigs := make([]string, len(r.tx.Signatures))
	for i, s := range r.tx.Signatures {
		sigs[i] = s.String()
	}
	switch encoding {
	case "base64":
		out["transaction"] = []string{base64.StdEncoding.EncodeToString(r.raw), "base64"}
		return out
	case "base58":
		out["transaction"] = []string{base58.Encode(r.raw), "base58"}
		return out
	}
	msg := map[string]any{"recentBlockhash": m.RecentBlockhash.String()}
	if r.v0 {
		lookups := make([]any, 0, len(m.AddressTableLookups))
		for _, l := range m.AddressTableLookups {
			lookups = append(lookups, map[string]any{"accountKey": l.AccountKey.String(), "readonlyIndexes": u8s(l.ReadonlyIndexes), "writableIndexes": u8s(l.WritableIndexes)})
		}
		msg["addressTableLookups"] = lookups
	} else if parsed {
		msg["addressTableLookups"] = nil
	}
	ixs := make([]any, 0, len(m.Instructions))
	if parsed {
		keys := make([]any, len(r.keys))
		for i, k := range r.keys {
			src := "transaction"
			if i >= r.nStatic {
				src = "lookupTable"
			}
			keys[i] = map[string]any{"pubkey": k.String(), "signer": r.signer[i], "source": src, "writable": r.writable[i]}
		}
		msg["accountKeys"] = keys
		for _, ix := range m.Instructions {
			p := c.parsedIx(r, ix.ProgramIDIndex, ix.Accounts, ix.Data)
			p["stackHeight"] = nil
			ixs = append(ixs, p)
		}
	} else {
		msg["accountKeys"] = keyStrings(m.AccountKeys)
		msg["header"] = map[string]any{"numReadonlySignedAccounts": m.Header.NumReadonlySignedAccounts, "numReadonlyUnsignedAccounts": m.Header.NumReadonlyUnsignedAccounts, "numRequiredSignatures": m.Header.NumRequiredSignatures}
		for _, ix := range m.Instructions {
			ixs = append(ixs, map[string]any{"accounts": u16s(ix.Accounts), "data": base58.Encode(ix.Data), "programIdIndex": ix.ProgramIDIndex, "stackHeight": 1})
		}
	}
	msg["instructions"] = ixs
	out["transaction"] = map[string]any{"message": msg, "signatures": sigs}
	return out
}

func u16s(v []uint16) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func u8s(v []uint8) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func keyStrings(keys []solana.PublicKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

func renderTokenBals(tb []tokenBal) []any {
	out := make([]any, 0, len(tb))
	for _, t := range tb {
		out = append(out, map[string]any{"accountIndex": t.idx, "mint": t.mint.String(), "owner": t.owner.String(),
			"programId": t.program.String(), "uiTokenAmount": uiTokenAmount(t.amount, t.decimals, true)})
	}
	return out
}

// parsedIx renders one instruction as jsonParsed does: parsed for the System, SPL Token,
// associated-token-account and Memo programs, raw (base58 data, account addresses) otherwise.
func (c *Chain) parsedIx(r *txRecord, prog uint16, accts []uint16, data []byte) map[string]any {
	pid := r.keys[prog]
	k := func(i int) string {
		if i < len(accts) {
			return r.keys[accts[i]].String()
		}
		return ""
	}
	raw := func() map[string]any {
		as := make([]string, len(accts))
		for i, a := range accts {
			as[i] = r.keys[a].String()
		}
		return map[string]any{"accounts": as, "data": base58.Encode(data), "programId": pid.String()}
	}
	wrap := func(program, typ string, info map[string]any) map[string]any {
		return map[string]any{"parsed": map[string]any{"info": info, "type": typ}, "program": program, "programId": pid.String()}
	}
	switch pid {
	case solana.SystemProgramID:
		if len(data) < 4 {
			return raw()
		}
		switch binary.LittleEndian.Uint32(data) {
		case 0:
			if len(data) >= 52 && len(accts) >= 2 {
				return wrap("system", "createAccount", map[string]any{"lamports": binary.LittleEndian.Uint64(data[4:]), "newAccount": k(1),
					"owner": solana.PublicKeyFromBytes(data[20:52]).String(), "source": k(0), "space": binary.LittleEndian.Uint64(data[12:])})
			}
		case 2:
			if len(data) >= 12 && len(accts) >= 2 {
				return wrap("system", "transfer", map[string]any{"destination": k(1), "lamports": binary.LittleEndian.Uint64(data[4:]), "source": k(0)})
			}
		case 11:
			if len(data) >= 20 && len(accts) >= 3 {
				sl := binary.LittleEndian.Uint64(data[12:])
				if sl <= 32 && len(data) >= 20+int(sl)+32 {
					return wrap("system", "transferWithSeed", map[string]any{"destination": k(2), "lamports": binary.LittleEndian.Uint64(data[4:]),
						"source": k(0), "sourceBase": k(1), "sourceOwner": solana.PublicKeyFromBytes(data[20+sl : 52+sl]).String(), "sourceSeed": string(data[20 : 20+sl])})
				}
			}
		}
	case solana.TokenProgramID, solana.Token2022ProgramID:
		if len(data) == 0 {
			return raw()
		}
		pn := programName(pid)
		switch data[0] {
		case 3:
			if len(data) >= 9 && len(accts) >= 3 {
				return wrap(pn, "transfer", map[string]any{"amount": strconv.FormatUint(binary.LittleEndian.Uint64(data[1:]), 10), "authority": k(2), "destination": k(1), "source": k(0)})
			}
		case 12:
			if len(data) >= 10 && len(accts) >= 4 {
				return wrap(pn, "transferChecked", map[string]any{"authority": k(3), "destination": k(2), "mint": k(1), "source": k(0),
					"tokenAmount": uiTokenAmount(binary.LittleEndian.Uint64(data[1:]), data[9], false)})
			}
		case 21:
			if len(accts) >= 1 {
				return wrap(pn, "getAccountDataSize", map[string]any{"extensionTypes": []string{"immutableOwner"}, "mint": k(0)})
			}
		case 22:
			if len(accts) >= 1 {
				return wrap(pn, "initializeImmutableOwner", map[string]any{"account": k(0)})
			}
		case 18:
			if len(accts) >= 2 && len(data) >= 33 {
				return wrap(pn, "initializeAccount3", map[string]any{"account": k(0), "mint": k(1), "owner": solana.PublicKeyFromBytes(data[1:33]).String()})
			}
		}
	case solana.SPLAssociatedTokenAccountProgramID:
		if len(accts) >= 6 && (len(data) == 0 || data[0] <= 1) {
			typ := "create"
			if len(data) > 0 && data[0] == 1 {
				typ = "createIdempotent"
			}
			return wrap("spl-associated-token-account", typ, map[string]any{"account": k(1), "mint": k(3), "source": k(0),
				"systemProgram": k(4), "tokenProgram": k(5), "wallet": k(2)})
		}
	case solana.MemoProgramID, memoV1:
		return map[string]any{"parsed": string(data), "program": "spl-memo", "programId": pid.String()}
	}
	return raw()
}

// rpcMemo renders memos as getSignaturesForAddress does: "[len] text", joined by "; ".
func rpcMemo(memos []string) any {
	if len(memos) == 0 {
		return nil
	}
	s := ""
	for i, m := range memos {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("[%d] %s", len(m), m)
	}
	return s
}
