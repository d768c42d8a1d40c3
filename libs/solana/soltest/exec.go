package soltest

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// RelayProgramID is a simulator-only program that moves value through a cross-program invocation,
// so tests can produce transfers that appear only in meta.innerInstructions (as swaps and other
// programs do on mainnet). Instruction data:
//
//	[0] + u64 LE lamports: accounts [from (signer, writable), to (writable), System program];
//	    performs an inner System transfer from → to.
//	[1] + u64 LE amount:   accounts [source token account (writable), destination token account
//	    (writable), authority (signer), token program]; performs an inner SPL Transfer.
var RelayProgramID = solana.MustPublicKeyFromBase58("Re1ay11111111111111111111111111111111111111")

var memoV1 = solana.MustPublicKeyFromBase58("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo")

// txRecord is one landed transaction (or a recorded fixture transaction). Its fields are written
// once before it is published and never change afterwards, except dropped (guarded by Chain.mu).
type txRecord struct {
	sig       solana.Signature
	slot      uint64
	blockTime int64
	raw       []byte
	tx        *solana.Transaction
	v0        bool
	keys      []solana.PublicKey // static keys, then loaded writable, then loaded readonly
	writable  []bool
	signer    []bool
	nStatic   int
	loadedW   []solana.PublicKey
	loadedR   []solana.PublicKey
	fee       uint64
	err       any // nil on success; Solana's TransactionError JSON shape otherwise
	logs      []string
	inner     []innerGroup
	preBal    []uint64
	postBal   []uint64
	preTok    []tokenBal
	postTok   []tokenBal
	cu        uint64
	memos     []string
	transfers []transferRec
	dropped   bool

	fixture        []byte // recorded getTransaction result for fixture transactions
	fixtureVersion string // "legacy", "0", or "" when the recording has no version
	fixtureErr     any
	fixtureMemo    *string
	entry          []byte // recorded getSignaturesForAddress entry (fixture signature lists)
	seq            uint64
}

type innerIx struct {
	program  uint16
	accounts []uint16
	data     []byte
	height   int
}

type innerGroup struct {
	index int
	ixs   []innerIx
}

type tokenBal struct {
	idx      int
	mint     solana.PublicKey
	owner    solana.PublicKey
	program  solana.PublicKey
	amount   uint64
	decimals uint8
}

type transferRec struct {
	from, to, toOwner, mint solana.PublicKey
	amount                  uint64
	inner                   bool
}

// rpcError is a JSON-RPC error object as Solana sends it.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return strconv.Itoa(e.Code) + ": " + e.Message }

// ixError is an instruction failure: a string such as "InvalidAccountData" or {"Custom": n}.
type ixError struct{ v any }

func custom(n int) *ixError    { return &ixError{map[string]any{"Custom": n}} }
func ixe(name string) *ixError { return &ixError{name} }

func (e *ixError) logText() string {
	if m, ok := e.v.(map[string]any); ok {
		return fmt.Sprintf("custom program error: 0x%x", m["Custom"])
	}
	if s, ok := ixErrorText[e.v.(string)]; ok {
		return s
	}
	return e.v.(string)
}

var ixErrorText = map[string]string{
	"InvalidAccountData":          "invalid account data for instruction",
	"MissingRequiredSignature":    "missing required signature for instruction",
	"InvalidInstructionData":      "invalid instruction data",
	"IncorrectProgramId":          "incorrect program id for instruction",
	"InvalidArgument":             "invalid program argument",
	"NotEnoughAccountKeys":        "insufficient account keys for instruction",
	"InvalidSeeds":                "Provided seeds do not result in a valid address",
	"ExternalAccountLamportSpend": "instruction spent from the balance of an account it does not own",
	"ReadonlyLamportChange":       "instruction changed the balance of a read-only account",
	"ReadonlyDataModified":        "instruction modified data of a read-only account",
	"IllegalOwner":                "Provided owner is not allowed",
}

// compute-unit costs charged per instruction, close to mainnet figures.
const (
	cuBuiltin       = 150
	cuTokenTransfer = 4644
	cuTokenChecked  = 6200
	cuMemo          = 4273
	cuATA           = 20545
	cuRelay         = 1200
	defaultCUPerIx  = 200_000
	maxCU           = 1_400_000
)

// execCtx runs one transaction's instructions against a copy-on-write overlay of the state.
type execCtx struct {
	c         *Chain
	keys      []solana.PublicKey
	writable  []bool
	signer    []bool
	overlay   map[solana.PublicKey]*Account
	logs      []string
	inner     []innerIx
	transfers []transferRec
	memos     []string
	remaining uint64
	used      uint64
	topIndex  int
}

func (x *execCtx) get(i uint16) *Account {
	pk := x.keys[i]
	if a, ok := x.overlay[pk]; ok {
		return a
	}
	return x.c.currentLocked(pk)
}

func (x *execCtx) getKey(pk solana.PublicKey) *Account {
	if a, ok := x.overlay[pk]; ok {
		return a
	}
	return x.c.currentLocked(pk)
}

// mut returns a private copy of account i for modification (creating an empty system account).
func (x *execCtx) mut(i uint16) *Account {
	pk := x.keys[i]
	if a, ok := x.overlay[pk]; ok && a != nil {
		return a
	}
	var cp Account
	if cur := x.c.currentLocked(pk); cur != nil {
		cp = *cur
		cp.Data = append([]byte(nil), cur.Data...)
	} else {
		cp.Owner = solana.SystemProgramID
	}
	x.overlay[pk] = &cp
	return &cp
}

func (x *execCtx) log(s string) { x.logs = append(x.logs, s) }

func (x *execCtx) consume(n uint64) {
	if n > x.remaining {
		n = x.remaining
	}
	x.remaining -= n
	x.used += n
}

// sendRaw is the single entry for sendTransaction and Submit. With preflight, a transaction that
// would fail is answered with Solana's -32002 simulation error and changes nothing; without it, a
// failing transaction lands as failed and pays its fee. Transactions that can never land (bad
// blockhash, unknown fee payer) are dropped silently without preflight, as on Solana, unless
// strict is set (Submit), which reports them.
func (c *Chain) sendRaw(raw []byte, preflight, strict bool) (sig solana.Signature, rerr *rpcError) {
	tx, err := decodeTx(raw)
	if err != nil {
		return solana.Signature{}, &rpcError{Code: -32602, Message: "invalid transaction: failed to deserialize solana_sdk::transaction::versioned::VersionedTransaction: " + err.Error()}
	}
	nsig, off := decodeShortU16(raw)
	if off < 0 || len(raw) < off+64*nsig || nsig == 0 || nsig != len(tx.Signatures) {
		return solana.Signature{}, &rpcError{Code: -32602, Message: "invalid transaction: Transaction failed to sanitize accounts offsets correctly"}
	}
	msg := raw[off+64*nsig:]
	if int(tx.Message.Header.NumRequiredSignatures) != nsig || len(tx.Message.AccountKeys) < nsig {
		return solana.Signature{}, &rpcError{Code: -32602, Message: "invalid transaction: Transaction failed to sanitize accounts offsets correctly"}
	}
	for i := 0; i < nsig; i++ {
		if !ed25519.Verify(tx.Message.AccountKeys[i][:], msg, tx.Signatures[i][:]) {
			return solana.Signature{}, &rpcError{Code: -32003, Message: "Transaction signature verification failure"}
		}
	}
	sig = tx.Signatures[0]

	c.mu.Lock()
	rec, rej := c.executeLocked(tx, raw, execMode{preflight: preflight})
	if rej != nil {
		c.mu.Unlock()
		c.log.Debug("soltest: transaction not landed", "signature", sig, "code", rej.rpc.Code, "message", rej.rpc.Message)
		if rej.dropSilently && !preflight && !strict {
			return sig, nil
		}
		return sig, rej.rpc
	}
	evs := c.recordLocked(rec)
	c.mu.Unlock()
	c.hub.publish(evs)
	return sig, nil
}

// decodeTx parses wire bytes; the decoder is third-party code fed untrusted input, so a panic in
// it is turned into an error rather than taking the simulator down.
func decodeTx(raw []byte) (tx *solana.Transaction, err error) {
	defer func() {
		if r := recover(); r != nil {
			tx, err = nil, fmt.Errorf("malformed transaction: %v", r)
		}
	}()
	tx, err = solana.TransactionFromBytes(raw)
	if err == nil && len(tx.Signatures) == 0 {
		err = errors.New("no signatures")
	}
	return tx, err
}

type rejectErr struct {
	rpc          *rpcError
	dropSilently bool
}

func simFailed(msg string, txErr any, logs []string, units uint64) *rpcError {
	if logs == nil {
		logs = []string{}
	}
	return &rpcError{Code: -32002, Message: "Transaction simulation failed: " + msg, Data: map[string]any{
		"accounts": nil, "err": txErr, "innerInstructions": nil, "loadedAccountsDataSize": 0, "logs": logs,
		"replacementBlockhash": nil, "returnData": nil, "unitsConsumed": units,
	}}
}

func reject(msg string, txErr any) *rejectErr {
	return &rejectErr{rpc: simFailed(msg, txErr, nil, 0), dropSilently: true}
}

// feeFor computes a message's fee: the base fee per signature plus the compute-budget priority
// fee, ceil(CU limit × CU price / 10⁶), saturating instead of overflowing. It also returns the
// compute-unit limit (200 000 per non-budget instruction unless set, at most 1 400 000).
func (c *Chain) feeFor(m *solana.Message, keys []solana.PublicKey, sigs int) (fee, cuLimit uint64) {
	var cuPrice uint64
	limitSet := false
	nonBudget := 0
	for _, ix := range m.Instructions {
		if int(ix.ProgramIDIndex) >= len(keys) || keys[ix.ProgramIDIndex] != solana.ComputeBudget {
			nonBudget++
			continue
		}
		d := ix.Data
		if len(d) >= 5 && d[0] == 2 {
			cuLimit, limitSet = uint64(binary.LittleEndian.Uint32(d[1:])), true
		} else if len(d) >= 9 && d[0] == 3 {
			cuPrice = binary.LittleEndian.Uint64(d[1:])
		}
	}
	if !limitSet {
		cuLimit = uint64(nonBudget) * defaultCUPerIx
	}
	cuLimit = min(cuLimit, maxCU)
	hi, lo := bits.Mul64(cuLimit, cuPrice)
	lo, carry := bits.Add64(lo, 999_999, 0)
	hi += carry
	if hi >= 1_000_000 { // the quotient would not fit in 64 bits
		return math.MaxUint64, cuLimit
	}
	prio, _ := bits.Div64(hi, lo, 1_000_000)
	base := c.fee * uint64(sigs)
	if prio > math.MaxUint64-base {
		return math.MaxUint64, cuLimit
	}
	return base + prio, cuLimit
}

// execMode says how executeLocked treats a transaction.
type execMode struct {
	preflight    bool // refuse a failing transaction instead of landing it (sendTransaction default)
	simulate     bool // run without changing any state (simulateTransaction)
	anyBlockhash bool // accept any blockhash (simulateTransaction replaceRecentBlockhash)
}

func (c *Chain) executeLocked(tx *solana.Transaction, raw []byte, mode execMode) (*txRecord, *rejectErr) {
	m := &tx.Message
	sig := tx.Signatures[0]
	if old, ok := c.txs[sig]; ok && !old.dropped && !mode.simulate {
		return nil, reject("This transaction has already been processed", "AlreadyProcessed")
	}
	if _, ok := c.hashes[m.RecentBlockhash]; !ok && !mode.anyBlockhash {
		return nil, reject("Blockhash not found", "BlockhashNotFound")
	}
	rec := &txRecord{sig: sig, slot: c.slot, blockTime: c.blockTime(c.slot), raw: raw, tx: tx, v0: m.IsVersioned()}
	// Resolve account keys: static, then every table's writable, then every table's readonly.
	keys := append([]solana.PublicKey(nil), m.AccountKeys...)
	rec.nStatic = len(keys)
	if rec.v0 {
		for _, l := range m.AddressTableLookups {
			tbl, ok := c.tables[l.AccountKey]
			if !ok {
				return nil, reject("Transaction loads an address table account that doesn't exist", "AddressLookupTableNotFound")
			}
			for _, ix := range l.WritableIndexes {
				if int(ix) >= len(tbl) {
					return nil, reject("Transaction address table lookup uses an invalid index", "InvalidAddressLookupTableIndex")
				}
				rec.loadedW = append(rec.loadedW, tbl[ix])
			}
		}
		for _, l := range m.AddressTableLookups {
			tbl := c.tables[l.AccountKey]
			for _, ix := range l.ReadonlyIndexes {
				if int(ix) >= len(tbl) {
					return nil, reject("Transaction address table lookup uses an invalid index", "InvalidAddressLookupTableIndex")
				}
				rec.loadedR = append(rec.loadedR, tbl[ix])
			}
		}
		keys = append(append(keys, rec.loadedW...), rec.loadedR...)
	}
	h := m.Header
	ns, nrs, nru := int(h.NumRequiredSignatures), int(h.NumReadonlySignedAccounts), int(h.NumReadonlyUnsignedAccounts)
	rec.keys = keys
	rec.writable = make([]bool, len(keys))
	rec.signer = make([]bool, len(keys))
	for i := range keys {
		switch {
		case i < ns:
			rec.signer[i] = true
			rec.writable[i] = i < ns-nrs
		case i < rec.nStatic:
			rec.writable[i] = i < rec.nStatic-nru
		default:
			rec.writable[i] = i < rec.nStatic+len(rec.loadedW)
		}
	}
	for _, ix := range m.Instructions {
		if int(ix.ProgramIDIndex) >= len(keys) {
			return nil, &rejectErr{rpc: &rpcError{Code: -32602, Message: "invalid transaction: Transaction failed to sanitize accounts offsets correctly"}}
		}
		for _, a := range ix.Accounts {
			if int(a) >= len(keys) {
				return nil, &rejectErr{rpc: &rpcError{Code: -32602, Message: "invalid transaction: Transaction failed to sanitize accounts offsets correctly"}}
			}
		}
	}

	var cuLimit uint64
	rec.fee, cuLimit = c.feeFor(m, keys, len(tx.Signatures))

	payer := c.currentLocked(keys[0])
	if payer == nil || payer.Lamports == 0 {
		return nil, reject("Attempt to debit an account but found no record of a prior credit.", "AccountNotFound")
	}
	if payer.Lamports < rec.fee {
		return nil, reject("Insufficient funds for fee", "InsufficientFundsForFee")
	}

	rec.preBal = make([]uint64, len(keys))
	for i, k := range keys {
		if a := c.currentLocked(k); a != nil {
			rec.preBal[i] = a.Lamports
		}
	}
	x := &execCtx{c: c, keys: keys, writable: rec.writable, signer: rec.signer, overlay: map[solana.PublicKey]*Account{}, remaining: cuLimit}
	rec.preTok = x.tokenBalances()
	x.mut(0).Lamports -= rec.fee
	feeOnly := map[solana.PublicKey]*Account{keys[0]: x.overlay[keys[0]]}
	feeCopy := *feeOnly[keys[0]]

	var txErr any
	for i, ix := range m.Instructions {
		x.topIndex = i
		x.inner = nil
		if e := x.run(ix.ProgramIDIndex, ix.Accounts, ix.Data, 1); e != nil {
			txErr = map[string]any{"InstructionError": []any{i, e.v}}
			break
		}
		if len(x.inner) > 0 {
			rec.inner = append(rec.inner, innerGroup{index: i, ixs: x.inner})
		}
	}
	if txErr == nil {
		txErr = x.rentCheck(rec)
	}
	rec.cu = x.used
	rec.logs = x.logs
	if mode.simulate {
		rec.err = txErr
		return rec, nil
	}
	if txErr != nil {
		rec.err = txErr
		if mode.preflight {
			return nil, &rejectErr{rpc: simFailed(simMessage(txErr), txErr, x.logs, x.used)}
		}
		// Only the fee is charged.
		x.overlay = map[solana.PublicKey]*Account{keys[0]: &feeCopy}
		rec.inner = nil
		x.transfers = nil
		x.memos = nil
	}
	rec.transfers = x.transfers
	rec.memos = x.memos
	rec.postBal = make([]uint64, len(keys))
	for i, k := range keys {
		if a := x.getKey(k); a != nil {
			rec.postBal[i] = a.Lamports
		}
	}
	rec.postTok = x.tokenBalances()
	for pk, a := range x.overlay {
		c.setAccountLocked(pk, a, c.slot)
		c.touchLocked(pk, c.slot)
	}
	return rec, nil
}

func (c *Chain) touchLocked(pk solana.PublicKey, s uint64) {
	t := c.slotTouch[s]
	if t == nil {
		t = map[solana.PublicKey]struct{}{}
		c.slotTouch[s] = t
	}
	t[pk] = struct{}{}
}

// recordLocked indexes a landed transaction and returns its processed-level notifications.
func (c *Chain) recordLocked(rec *txRecord) []event {
	c.seq++
	rec.seq = c.seq
	c.txs[rec.sig] = rec
	seen := make(map[solana.PublicKey]struct{}, len(rec.keys))
	for _, k := range rec.keys {
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		c.byAddr[k] = append(c.byAddr[k], rec)
	}
	c.slotTxs[rec.slot] = append(c.slotTxs[rec.slot], rec)
	for _, t := range rec.transfers {
		if !t.toOwner.IsZero() {
			c.byTokenOwner[t.toOwner] = append(c.byTokenOwner[t.toOwner], rec)
		}
	}
	evs := c.hub.txEventsLocked(rec, rpc.CommitmentProcessed)
	for pk := range seen {
		if rec.writable[indexOf(rec.keys, pk)] {
			evs = append(evs, c.hub.accountEventsLocked(pk, rec.slot, []rpc.CommitmentType{rpc.CommitmentProcessed})...)
		}
	}
	return evs
}

func indexOf(keys []solana.PublicKey, pk solana.PublicKey) int {
	for i, k := range keys {
		if k == pk {
			return i
		}
	}
	return -1
}

func simMessage(txErr any) string {
	m, ok := txErr.(map[string]any)
	if !ok {
		return fmt.Sprint(txErr)
	}
	if ie, ok := m["InstructionError"].([]any); ok {
		e := &ixError{ie[1]}
		return fmt.Sprintf("Error processing Instruction %d: %s", ie[0], e.logText())
	}
	if r, ok := m["InsufficientFundsForRent"].(map[string]any); ok {
		return fmt.Sprintf("Transaction results in an account (%v) with insufficient funds for rent", r["account_index"])
	}
	return fmt.Sprint(txErr)
}

// rentCheck rejects a transaction that leaves a writable account holding lamports below the
// rent-exempt minimum when it was rent-exempt (or empty) before, as Solana does.
func (x *execCtx) rentCheck(rec *txRecord) any {
	for i, k := range x.keys {
		a, ok := x.overlay[k]
		if !ok || a == nil || a.Lamports == 0 {
			continue
		}
		if a.Lamports >= rentExempt(len(a.Data)) {
			continue
		}
		pre := x.c.currentLocked(k)
		if pre == nil || pre.Lamports == 0 || pre.Lamports >= rentExempt(len(pre.Data)) {
			return map[string]any{"InsufficientFundsForRent": map[string]any{"account_index": i}}
		}
	}
	return nil
}

func (x *execCtx) tokenBalances() []tokenBal {
	var out []tokenBal
	for i, k := range x.keys {
		a := x.getKey(k)
		if a == nil || !isTokenProgram(a.Owner) {
			continue
		}
		t, ok := decodeToken(a.Data)
		if !ok {
			continue
		}
		var dec uint8
		if ma := x.getKey(t.mint); ma != nil {
			if ms, ok := decodeMint(ma.Data); ok {
				dec = ms.decimals
			}
		}
		out = append(out, tokenBal{idx: i, mint: t.mint, owner: t.owner, program: a.Owner, amount: t.amount, decimals: dec})
	}
	return out
}

// run executes one instruction at the given stack height.
func (x *execCtx) run(prog uint16, accts []uint16, data []byte, height int) *ixError {
	pid := x.keys[prog]
	x.log(fmt.Sprintf("Program %s invoke [%d]", pid, height))
	var err *ixError
	builtin := false
	switch pid {
	case solana.SystemProgramID:
		builtin = true
		err = x.system(accts, data)
	case solana.ComputeBudget:
		builtin = true
		x.consume(cuBuiltin)
	case solana.TokenProgramID, solana.Token2022ProgramID:
		err = x.token(pid, accts, data)
	case solana.MemoProgramID, memoV1:
		err = x.memo(accts, data)
	case solana.SPLAssociatedTokenAccountProgramID:
		err = x.ata(accts, data, height)
	case RelayProgramID:
		err = x.relay(accts, data, height)
	default:
		builtin = true // unknown programs are accepted as no-ops
	}
	if !builtin {
		x.log(fmt.Sprintf("Program %s consumed %d of %d compute units", pid, x.used, x.used+x.remaining))
	}
	if err != nil {
		x.log(fmt.Sprintf("Program %s failed: %s", pid, err.logText()))
		return err
	}
	x.log(fmt.Sprintf("Program %s success", pid))
	return nil
}

// cpi performs an inner instruction, recording it in meta.innerInstructions.
func (x *execCtx) cpi(prog uint16, accts []uint16, data []byte, height int) *ixError {
	x.inner = append(x.inner, innerIx{program: prog, accounts: accts, data: data, height: height})
	return x.run(prog, accts, data, height)
}

func decodeShortU16(b []byte) (int, int) {
	v := 0
	for i := 0; i < 3; i++ {
		if i >= len(b) {
			return 0, -1
		}
		v |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, -1
}

var errRejected = errors.New("soltest: transaction rejected")

// Submit sends a signed transaction in-process through the same path as sendTransaction with
// skipPreflight: a transaction whose instructions fail lands as failed (fee charged) and Submit
// returns its signature with a nil error. Unlike the RPC, Submit reports transactions that can
// never land (bad signature, unknown blockhash, fee payer without funds) as an error instead of
// dropping them silently.
func (c *Chain) Submit(tx *solana.Transaction) (solana.Signature, error) {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return solana.Signature{}, fmt.Errorf("soltest: encode transaction: %w", err)
	}
	sig, rerr := c.sendRaw(raw, false, true)
	if rerr != nil {
		return sig, fmt.Errorf("%w: %s", errRejected, rerr.Message)
	}
	return sig, nil
}

// TxErr returns the recorded meta.err of a landed transaction (nil for success) and whether the
// chain knows the signature.
func (c *Chain) TxErr(sig solana.Signature) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.txs[sig]
	if !ok || r.dropped {
		return nil, false
	}
	return r.err, true
}

func (c *Chain) airdrop(to solana.PublicKey, lamports uint64) (solana.Signature, error) {
	bh := c.LatestBlockhash()
	tx, err := solana.NewTransaction([]solana.Instruction{newTransferIx(c.faucet.PublicKey(), to, lamports)}, bh, solana.TransactionPayer(c.faucet.PublicKey()))
	if err != nil {
		return solana.Signature{}, err
	}
	if _, err := tx.Sign(func(solana.PublicKey) *solana.PrivateKey { return &c.faucet }); err != nil {
		return solana.Signature{}, err
	}
	sig, err := c.Submit(tx)
	if err != nil {
		return sig, err
	}
	if e, _ := c.TxErr(sig); e != nil {
		return sig, fmt.Errorf("airdrop transaction failed with %v (an amount below the rent-exempt minimum of %d lamports to a new account fails as on Solana)", e, rentExempt(0))
	}
	return sig, nil
}

// newTransferIx builds a System transfer without importing the system program package.
func newTransferIx(from, to solana.PublicKey, lamports uint64) solana.Instruction {
	d := make([]byte, 12)
	d[0] = 2
	binary.LittleEndian.PutUint64(d[4:], lamports)
	return solana.NewInstruction(solana.SystemProgramID, solana.AccountMetaSlice{
		solana.Meta(from).WRITE().SIGNER(), solana.Meta(to).WRITE()}, d)
}
