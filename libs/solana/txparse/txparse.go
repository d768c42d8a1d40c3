// Package txparse reads the transfers into watched addresses out of a getTransaction result.
//
// It accepts the result in the `jsonParsed` encoding (what the indexer requests) and in the `json`
// encoding (raw instructions with account indexes), for legacy and version-0 transactions. For a
// successful transaction it returns every System transfer / transferWithSeed to a watched address
// and every SPL Token (or Token-2022) Transfer / TransferChecked into a token account whose owner,
// per the transaction's token balances, is a watched address — from top-level and inner
// instructions alike, with account indexes resolved over static keys + loaded writable + loaded
// readonly keys.
//
// Guarantees:
//   - Amounts are exact uint64 base units read from the `lamports` / `amount` fields or from the
//     instruction data; `uiAmount` floats are never read.
//   - A failed transaction (meta.err set) yields no transfers.
//   - Transfer.Index is the position of the transfer's instruction in the flattened instruction
//     list (top-level instructions in order, each followed by its inner instructions), the
//     definition of events.Contribution.TransferIndex; it depends only on the transaction.
//   - Input that cannot be read (binary encodings, missing meta, malformed fields) is an *Error
//     wrapping ErrUndecodable; a transaction version other than legacy or 0 wraps
//     ErrUnsupportedVersion; a null result wraps ErrNotFound. No input makes Parse panic.
package txparse

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mr-tron/base58"
)

// Program ids the parser understands.
const (
	SystemProgram    = "11111111111111111111111111111111"
	TokenProgram     = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
	Token2022Program = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
	MemoProgram      = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
	MemoProgramV1    = "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"
)

// SOLDecimals is the number of decimals of a lamport amount.
const SOLDecimals = 9

// Sentinel errors; Parse returns an *Error wrapping one of them.
var (
	ErrNotFound           = errors.New("transaction not found")
	ErrUndecodable        = errors.New("undecodable transaction")
	ErrUnsupportedVersion = errors.New("unsupported transaction version")
)

// Error says why a result could not be parsed. Kind is one of the sentinel errors.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string { return "txparse: " + e.Kind.Error() + ": " + e.Detail }

// Unwrap returns Kind, so errors.Is(err, ErrUndecodable) works.
func (e *Error) Unwrap() error { return e.Kind }

func undecodable(format string, args ...any) error {
	return &Error{Kind: ErrUndecodable, Detail: fmt.Sprintf(format, args...)}
}

// Watch names what the caller cares about. Both sets hold base58 addresses.
type Watch struct {
	// Escrows are the addresses whose incoming transfers are extracted.
	Escrows map[string]bool
	// References are keys looked for among the transaction's full account list.
	References map[string]bool
}

// Transfer is one movement of value into a watched address.
type Transfer struct {
	// Index is the instruction's position in the flattened instruction list.
	Index int
	// Escrow is the watched address credited: the recipient for SOL, the token account's owner for SPL.
	Escrow string
	// Payer is where the money came from: the lamport source for SOL, the authority for SPL.
	Payer string
	// Source is the debited account: the payer for SOL, the source token account for SPL.
	Source string
	// Amount is in base units: lamports when Mint is empty, raw token units otherwise.
	Amount   uint64
	Mint     string // empty for SOL
	Decimals uint8  // 9 for SOL
	// TokenAccount is the escrow's token account that received an SPL transfer.
	TokenAccount string
	// StackHeight is 1 for a top-level instruction, 2+ for inner ones.
	StackHeight int
}

// Balance is a watched address's lamport balance around the transaction, with the SOL the
// parsed instructions moved in and out of it, for cross-checking.
type Balance struct {
	Escrow   string
	Pre      uint64
	Post     uint64
	SOLIn    uint64 // System transfers credited to it
	SOLOut   uint64 // System transfers and createAccount funding debited from it
	Funded   uint64 // createAccount funding credited to it (not a contribution)
	FeePayer bool   // it paid the transaction fee
}

// Consistent reports whether the balance delta equals what the instructions explain:
// post − pre = in + funded − out − fee (when it paid the fee). Token accounts holding wrapped SOL
// also change lamports through SPL transfers, so the check is meaningful for system accounts.
func (b Balance) Consistent(fee uint64) bool {
	want := int64(b.SOLIn) + int64(b.Funded) - int64(b.SOLOut)
	if b.FeePayer {
		want -= int64(fee)
	}
	return int64(b.Post)-int64(b.Pre) == want
}

// Tx is what Parse read from one transaction.
type Tx struct {
	Signature string
	Slot      uint64
	BlockTime int64 // 0 when the node did not report it
	Version   string
	Fee       uint64
	Failed    bool
	// Memo is the text of the transaction's Memo instructions in flattened order, joined by "; ".
	Memo string
	// Transfers into watched addresses, in Index order; empty when Failed.
	Transfers []Transfer
	// References lists the watched references found among the full account list, in key order.
	References []string
	// Balances has one entry per watched address present among the account keys.
	Balances []Balance
	// AccountKeys is the full account list: static, then loaded writable, then loaded readonly.
	AccountKeys []string
}

type rawResult struct {
	Slot        uint64          `json:"slot"`
	BlockTime   *int64          `json:"blockTime"`
	Version     json.RawMessage `json:"version"`
	Meta        *rawMeta        `json:"meta"`
	Transaction json.RawMessage `json:"transaction"`
}

type rawMeta struct {
	Err               json.RawMessage `json:"err"`
	Fee               uint64          `json:"fee"`
	PreBalances       []uint64        `json:"preBalances"`
	PostBalances      []uint64        `json:"postBalances"`
	PreTokenBalances  []tokenBalance  `json:"preTokenBalances"`
	PostTokenBalances []tokenBalance  `json:"postTokenBalances"`
	InnerInstructions []innerSet      `json:"innerInstructions"`
	LoadedAddresses   *struct {
		Writable []string `json:"writable"`
		Readonly []string `json:"readonly"`
	} `json:"loadedAddresses"`
}

type tokenBalance struct {
	AccountIndex  int    `json:"accountIndex"`
	Mint          string `json:"mint"`
	Owner         string `json:"owner"`
	UITokenAmount struct {
		Decimals uint8 `json:"decimals"`
	} `json:"uiTokenAmount"`
}

type innerSet struct {
	Index        int     `json:"index"`
	Instructions []rawIx `json:"instructions"`
}

type rawTx struct {
	Signatures []string `json:"signatures"`
	Message    struct {
		AccountKeys  []json.RawMessage `json:"accountKeys"`
		Instructions []rawIx           `json:"instructions"`
	} `json:"message"`
}

type parsedKey struct {
	Pubkey string `json:"pubkey"`
	Signer bool   `json:"signer"`
}

type rawIx struct {
	ProgramIDIndex *int            `json:"programIdIndex"`
	ProgramID      string          `json:"programId"`
	Accounts       json.RawMessage `json:"accounts"`
	Data           string          `json:"data"`
	Parsed         json.RawMessage `json:"parsed"`
	StackHeight    *int            `json:"stackHeight"`
}

type parsedIx struct {
	Type string                     `json:"type"`
	Info map[string]json.RawMessage `json:"info"`
}

// Parse reads a getTransaction result (the JSON-RPC `result` value, not the envelope).
func Parse(result []byte, w Watch) (*Tx, error) {
	result = bytes.TrimSpace(result)
	if len(result) == 0 || bytes.Equal(result, []byte("null")) {
		return nil, &Error{Kind: ErrNotFound, Detail: "null result"}
	}
	var r rawResult
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, undecodable("result: %v", err)
	}
	tx := &Tx{Slot: r.Slot}
	if r.BlockTime != nil {
		tx.BlockTime = *r.BlockTime
	}
	v, err := version(r.Version)
	if err != nil {
		return nil, err
	}
	tx.Version = v
	if r.Meta == nil {
		return nil, undecodable("no meta")
	}
	if len(r.Transaction) == 0 || r.Transaction[0] != '{' {
		return nil, undecodable("transaction is not in json or jsonParsed encoding")
	}
	var t rawTx
	if err := json.Unmarshal(r.Transaction, &t); err != nil {
		return nil, undecodable("transaction: %v", err)
	}
	if len(t.Signatures) == 0 || t.Signatures[0] == "" {
		return nil, undecodable("no signature")
	}
	tx.Signature = t.Signatures[0]
	tx.Fee = r.Meta.Fee
	tx.Failed = len(r.Meta.Err) > 0 && !bytes.Equal(r.Meta.Err, []byte("null"))

	keys, _, parsedKeys, err := accountKeys(t.Message.AccountKeys)
	if err != nil {
		return nil, err
	}
	if !parsedKeys && r.Meta.LoadedAddresses != nil {
		// The json encoding lists lookup-table accounts only here; jsonParsed already has them.
		keys = append(keys, r.Meta.LoadedAddresses.Writable...)
		keys = append(keys, r.Meta.LoadedAddresses.Readonly...)
	}
	tx.AccountKeys = keys
	for _, k := range keys {
		if w.References[k] {
			tx.References = append(tx.References, k)
		}
	}

	p := parser{w: w, keys: keys, tx: tx, balIdx: map[string]int{}}
	p.indexTokenBalances(r.Meta.PreTokenBalances, r.Meta.PostTokenBalances)
	for i, k := range keys {
		if !w.Escrows[k] {
			continue
		}
		if _, dup := p.balIdx[k]; dup {
			continue
		}
		b := Balance{Escrow: k, FeePayer: i == 0} // the fee payer is always the first key
		if i < len(r.Meta.PreBalances) {
			b.Pre = r.Meta.PreBalances[i]
		}
		if i < len(r.Meta.PostBalances) {
			b.Post = r.Meta.PostBalances[i]
		}
		p.balIdx[k] = len(tx.Balances)
		tx.Balances = append(tx.Balances, b)
	}

	inner := map[int][]rawIx{}
	for _, set := range r.Meta.InnerInstructions {
		inner[set.Index] = append(inner[set.Index], set.Instructions...)
	}
	var memos []string
	pos := 0
	for i, ix := range t.Message.Instructions {
		memo, err := p.instruction(ix, pos, 1)
		if err != nil {
			return nil, err
		}
		if memo != nil {
			memos = append(memos, *memo)
		}
		pos++
		for _, in := range inner[i] {
			memo, err := p.instruction(in, pos, 2)
			if err != nil {
				return nil, err
			}
			if memo != nil {
				memos = append(memos, *memo)
			}
			pos++
		}
	}
	tx.Memo = strings.Join(memos, "; ")
	if tx.Failed {
		// A failed transaction moved nothing but its fee.
		tx.Transfers = nil
		for i := range tx.Balances {
			tx.Balances[i].SOLIn, tx.Balances[i].SOLOut, tx.Balances[i].Funded = 0, 0, 0
		}
	}
	return tx, nil
}

func version(raw json.RawMessage) (string, error) {
	s := string(bytes.TrimSpace(raw))
	switch s {
	case "", "null", `"legacy"`:
		return "legacy", nil
	case "0":
		return "0", nil
	}
	if _, err := strconv.ParseUint(s, 10, 8); err == nil {
		return "", &Error{Kind: ErrUnsupportedVersion, Detail: "version " + s}
	}
	return "", undecodable("version %.40q", s)
}

func accountKeys(raw []json.RawMessage) (keys []string, signers []bool, parsed bool, err error) {
	keys = make([]string, 0, len(raw))
	signers = make([]bool, 0, len(raw))
	for i, k := range raw {
		k = bytes.TrimSpace(k)
		if len(k) > 0 && k[0] == '{' {
			var pk parsedKey
			if err := json.Unmarshal(k, &pk); err != nil || pk.Pubkey == "" {
				return nil, nil, false, undecodable("account key %d", i)
			}
			parsed = true
			keys = append(keys, pk.Pubkey)
			signers = append(signers, pk.Signer)
			continue
		}
		var s string
		if err := json.Unmarshal(k, &s); err != nil || s == "" {
			return nil, nil, false, undecodable("account key %d", i)
		}
		keys = append(keys, s)
		signers = append(signers, false)
	}
	return keys, signers, parsed, nil
}

type tokenInfo struct {
	mint     string
	owner    string
	decimals uint8
}

type parser struct {
	w      Watch
	keys   []string
	tx     *Tx
	tokens map[string]tokenInfo // token account address → mint/owner from token balances
	balIdx map[string]int
}

func (p *parser) indexTokenBalances(pre, post []tokenBalance) {
	p.tokens = map[string]tokenInfo{}
	for _, list := range [][]tokenBalance{pre, post} { // post wins: it names the owner after creation
		for _, tb := range list {
			if tb.AccountIndex < 0 || tb.AccountIndex >= len(p.keys) {
				continue
			}
			addr := p.keys[tb.AccountIndex]
			ti := p.tokens[addr]
			if tb.Mint != "" {
				ti.mint = tb.Mint
			}
			if tb.Owner != "" {
				ti.owner = tb.Owner
			}
			ti.decimals = tb.UITokenAmount.Decimals
			p.tokens[addr] = ti
		}
	}
}

// instruction handles one instruction at flattened position pos; it returns the memo text for a
// Memo instruction.
func (p *parser) instruction(ix rawIx, pos, defaultHeight int) (*string, error) {
	height := defaultHeight
	if ix.StackHeight != nil && *ix.StackHeight > 0 {
		height = *ix.StackHeight
	}
	program := ix.ProgramID
	if ix.ProgramIDIndex != nil {
		i := *ix.ProgramIDIndex
		if i < 0 || i >= len(p.keys) {
			return nil, undecodable("instruction %d: program index %d out of range", pos, i)
		}
		program = p.keys[i]
	}
	if len(ix.Parsed) > 0 && !bytes.Equal(ix.Parsed, []byte("null")) {
		return p.parsedInstruction(program, ix.Parsed, pos, height)
	}
	accounts, err := p.resolveAccounts(ix.Accounts, pos)
	if err != nil {
		return nil, err
	}
	data, err := base58.Decode(ix.Data)
	if err != nil && ix.Data != "" {
		return nil, undecodable("instruction %d: data is not base58", pos)
	}
	switch program {
	case SystemProgram:
		p.rawSystem(data, accounts, pos, height)
	case TokenProgram, Token2022Program:
		p.rawToken(data, accounts, pos, height)
	case MemoProgram, MemoProgramV1:
		s := string(data)
		return &s, nil
	}
	return nil, nil
}

func (p *parser) resolveAccounts(raw json.RawMessage, pos int) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var idx []int
	if err := json.Unmarshal(raw, &idx); err == nil {
		out := make([]string, len(idx))
		for j, i := range idx {
			if i < 0 || i >= len(p.keys) {
				return nil, undecodable("instruction %d: account index %d out of range", pos, i)
			}
			out[j] = p.keys[i]
		}
		return out, nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		return nil, undecodable("instruction %d: accounts", pos)
	}
	return names, nil
}

func (p *parser) rawSystem(data []byte, acc []string, pos, height int) {
	if len(data) < 12 {
		return
	}
	lamports := binary.LittleEndian.Uint64(data[4:12])
	switch binary.LittleEndian.Uint32(data[:4]) {
	case 0: // CreateAccount: funding leaves the payer
		if len(acc) >= 2 {
			p.solMove(acc[0], acc[1], lamports, pos, height, false)
		}
	case 2: // Transfer {lamports}: [from, to]
		if len(acc) >= 2 {
			p.solMove(acc[0], acc[1], lamports, pos, height, true)
		}
	case 3: // CreateAccountWithSeed {base, seed, lamports, space, owner}: [from, to, base]
		off := 4 + 32
		if len(data) < off+8 || len(acc) < 2 {
			return
		}
		seedLen := binary.LittleEndian.Uint64(data[off:])
		if seedLen > uint64(len(data)) {
			return
		}
		off += 8 + int(seedLen)
		if len(data) < off+8 {
			return
		}
		p.solMove(acc[0], acc[1], binary.LittleEndian.Uint64(data[off:]), pos, height, false)
	case 11: // TransferWithSeed {lamports, seed, owner}: [from, base, to]
		if len(acc) >= 3 {
			p.solMove(acc[0], acc[2], lamports, pos, height, true)
		}
	}
}

func (p *parser) rawToken(data []byte, acc []string, pos, height int) {
	if len(data) < 9 {
		return
	}
	amount := binary.LittleEndian.Uint64(data[1:9])
	switch data[0] {
	case 3: // Transfer {amount}: [source, destination, authority]
		if len(acc) >= 3 {
			p.splMove(acc[0], acc[1], acc[2], "", 0, false, amount, pos, height)
		}
	case 12: // TransferChecked {amount, decimals}: [source, mint, destination, authority]
		if len(acc) >= 4 && len(data) >= 10 {
			p.splMove(acc[0], acc[2], acc[3], acc[1], data[9], true, amount, pos, height)
		}
	}
}

func (p *parser) parsedInstruction(program string, raw json.RawMessage, pos, height int) (*string, error) {
	if program == MemoProgram || program == MemoProgramV1 {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, undecodable("instruction %d: memo", pos)
		}
		return &s, nil
	}
	if program != SystemProgram && program != TokenProgram && program != Token2022Program {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil
	}
	var px parsedIx
	if err := json.Unmarshal(raw, &px); err != nil {
		return nil, undecodable("instruction %d: parsed: %v", pos, err)
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(px.Info[k], &s)
		return s
	}
	num := func(k string) (uint64, error) {
		v := bytes.TrimSpace(px.Info[k])
		if len(v) > 1 && v[0] == '"' {
			v = v[1 : len(v)-1]
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, undecodable("instruction %d: %s %.30q", pos, k, v)
		}
		return n, nil
	}
	authority := func() string {
		if a := str("authority"); a != "" {
			return a
		}
		return str("multisigAuthority")
	}
	switch {
	case program == SystemProgram && (px.Type == "transfer" || px.Type == "transferWithSeed"):
		n, err := num("lamports")
		if err != nil {
			return nil, err
		}
		p.solMove(str("source"), str("destination"), n, pos, height, true)
	case program == SystemProgram && (px.Type == "createAccount" || px.Type == "createAccountWithSeed"):
		n, err := num("lamports")
		if err != nil {
			return nil, err
		}
		p.solMove(str("source"), str("newAccount"), n, pos, height, false)
	case px.Type == "transfer": // spl-token
		n, err := num("amount")
		if err != nil {
			return nil, err
		}
		p.splMove(str("source"), str("destination"), authority(), "", 0, false, n, pos, height)
	case px.Type == "transferChecked":
		var ta struct {
			Amount   string `json:"amount"`
			Decimals uint8  `json:"decimals"`
		}
		if err := json.Unmarshal(px.Info["tokenAmount"], &ta); err != nil {
			return nil, undecodable("instruction %d: tokenAmount", pos)
		}
		n, err := strconv.ParseUint(ta.Amount, 10, 64)
		if err != nil {
			return nil, undecodable("instruction %d: tokenAmount.amount %.30q", pos, ta.Amount)
		}
		p.splMove(str("source"), str("destination"), authority(), str("mint"), ta.Decimals, true, n, pos, height)
	}
	return nil, nil
}

// solMove records lamports leaving from and, when it is a transfer, arriving at a watched to.
// createAccount funding counts as outflow for the cross-check but is not a contribution.
func (p *parser) solMove(from, to string, lamports uint64, pos, height int, transfer bool) {
	if i, ok := p.balIdx[from]; ok {
		p.tx.Balances[i].SOLOut += lamports
	}
	if !transfer {
		if i, ok := p.balIdx[to]; ok {
			p.tx.Balances[i].Funded += lamports
		}
		return
	}
	if !p.w.Escrows[to] {
		return
	}
	if i, ok := p.balIdx[to]; ok {
		p.tx.Balances[i].SOLIn += lamports
	}
	p.tx.Transfers = append(p.tx.Transfers, Transfer{
		Index: pos, Escrow: to, Payer: from, Source: from, Amount: lamports, Decimals: SOLDecimals, StackHeight: height,
	})
}

func (p *parser) splMove(source, dest, authority, mint string, decimals uint8, checked bool, amount uint64, pos, height int) {
	ti, ok := p.tokens[dest]
	if !ok || ti.owner == "" || !p.w.Escrows[ti.owner] {
		return
	}
	if mint == "" {
		mint = ti.mint
	}
	if !checked {
		decimals = ti.decimals
	}
	if mint == "" {
		return // without a mint the amount has no unit; never guess
	}
	p.tx.Transfers = append(p.tx.Transfers, Transfer{
		Index: pos, Escrow: ti.owner, Payer: authority, Source: source, Amount: amount, Mint: mint,
		Decimals: decimals, TokenAccount: dest, StackHeight: height,
	})
}
