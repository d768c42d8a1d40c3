package soltest

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// Config tunes a Chain. The zero value is a usable manual-slot chain with Solana's default fee.
type Config struct {
	// SlotInterval produces a slot on a clock; 0 means slots advance only through Advance
	// (or the control endpoint), which keeps tests deterministic.
	SlotInterval time.Duration
	// LoadFixtures serves the recorded mainnet accounts, transactions and signature lists from
	// package fixtures alongside simulated state.
	LoadFixtures bool
	// Fee is the base fee per signature in lamports; 0 means Solana's 5000.
	Fee uint64
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Account is the state of one account as the runtime sees it.
type Account struct {
	Lamports   uint64
	Owner      solana.PublicKey
	Data       []byte
	Executable bool
}

// Transfer is one movement of value into an escrow address as recorded by the chain: a System
// transfer to the escrow, or an SPL transfer into a token account the escrow owns. Mint is zero
// for SOL.
type Transfer struct {
	Signature solana.Signature
	From      solana.PublicKey // lamport source, or the source token account's owner for SPL
	To        solana.PublicKey // the escrow, or the escrow's token account for SPL
	Amount    uint64
	Mint      solana.PublicKey
	Slot      uint64
	Finalized bool
	Inner     bool // performed by an inner (CPI) instruction
}

const (
	// finalityDepth is how many slots after its own a transaction becomes finalized.
	finalityDepth = 32
	// blockhashValidity is how many slots a blockhash stays usable, as on mainnet.
	blockhashValidity = 150
	// firstSlot is where a fresh chain starts; slot 0 holds state set before any slot ran.
	firstSlot = 1
	// defaultFee is Solana's base fee per signature in lamports.
	defaultFee = 5000
)

// version is an account's state as of one slot; an account keeps the versions needed to answer
// reads at processed, confirmed and finalized commitment.
type version struct {
	slot uint64
	acc  *Account // nil = account does not exist (deleted)
}

type history struct{ versions []version }

// Chain is the simulated ledger. All methods are safe for concurrent use.
type Chain struct {
	cfg    Config
	log    *slog.Logger
	fee    uint64
	start  time.Time
	faults *Faults
	hub    *hub
	calls  callCounter
	faucet solana.PrivateKey

	mu        sync.RWMutex
	slot      uint64 // the current (processed) slot; transactions land here
	hashes    map[solana.Hash]uint64
	slotHash  map[uint64]solana.Hash
	accounts  map[solana.PublicKey]*history
	txs       map[solana.Signature]*txRecord
	byAddr    map[solana.PublicKey][]*txRecord
	slotTxs   map[uint64][]*txRecord
	slotTouch map[uint64]map[solana.PublicKey]struct{}
	tables    map[solana.PublicKey][]solana.PublicKey
	fixtures  *fixtureSet
	seq       uint64 // landing order of transactions
	// byTokenOwner lists transactions with an SPL transfer into a token account of the key.
	byTokenOwner map[solana.PublicKey][]*txRecord

	stopClock chan struct{}
	clockDone chan struct{}
	closeOnce sync.Once
}

// New creates a chain at slot 1 with a funded faucet (used by Airdrop and requestAirdrop). With a
// SlotInterval the caller must Close it to stop the slot clock.
func New(cfg Config) *Chain {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	fee := cfg.Fee
	if fee == 0 {
		fee = defaultFee
	}
	c := &Chain{
		cfg:       cfg,
		log:       log,
		fee:       fee,
		start:     time.Now(),
		faults:    &Faults{},
		hashes:    map[solana.Hash]uint64{},
		slotHash:  map[uint64]solana.Hash{},
		accounts:  map[solana.PublicKey]*history{},
		txs:       map[solana.Signature]*txRecord{},
		byAddr:    map[solana.PublicKey][]*txRecord{},
		slotTxs:   map[uint64][]*txRecord{},
		slotTouch: map[uint64]map[solana.PublicKey]struct{}{},
		tables:    map[solana.PublicKey][]solana.PublicKey{},

		byTokenOwner: map[solana.PublicKey][]*txRecord{},
	}
	c.hub = newHub(c)
	c.faults.drop = c.hub.closeAll
	c.faults.forkDrop = c.forkDrop
	c.calls.init()
	seed := sha256.Sum256([]byte("soltest faucet"))
	c.faucet = solana.PrivateKey(ed25519NewKeyFromSeed(seed[:]))
	c.setAccountLocked(c.faucet.PublicKey(), &Account{Lamports: 1 << 62, Owner: solana.SystemProgramID}, 0)
	for _, p := range []solana.PublicKey{solana.SystemProgramID, solana.TokenProgramID, solana.Token2022ProgramID,
		solana.SPLAssociatedTokenAccountProgramID, solana.MemoProgramID, solana.ComputeBudget, RelayProgramID} {
		c.setAccountLocked(p, &Account{Lamports: 1, Owner: nativeLoader, Executable: true}, 0)
	}
	c.slot = firstSlot
	c.addHashLocked(0)
	c.addHashLocked(firstSlot)
	if cfg.LoadFixtures {
		c.fixtures = loadFixtures(c)
	}
	if cfg.SlotInterval > 0 {
		c.stopClock = make(chan struct{})
		c.clockDone = make(chan struct{})
		go c.clock(cfg.SlotInterval)
	}
	return c
}

var nativeLoader = solana.MustPublicKeyFromBase58("NativeLoader1111111111111111111111111111111")

// Close stops the slot clock; the chain stays readable.
func (c *Chain) Close() {
	c.closeOnce.Do(func() {
		if c.stopClock != nil {
			close(c.stopClock)
			<-c.clockDone
		}
		c.hub.closeAll()
	})
}

func (c *Chain) clock(d time.Duration) {
	defer close(c.clockDone)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-c.stopClock:
			return
		case <-t.C:
			c.Advance(1)
		}
	}
}

// Faults returns the switchboard of injected failures.
func (c *Chain) Faults() *Faults { return c.faults }

func (c *Chain) blockHash(slot uint64) solana.Hash {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], slot)
	copy(b[8:], "soltest!")
	return solana.Hash(sha256.Sum256(b[:]))
}

func (c *Chain) addHashLocked(slot uint64) {
	h := c.blockHash(slot)
	c.hashes[h] = slot
	c.slotHash[slot] = h
	if slot > blockhashValidity+1 {
		old := slot - blockhashValidity - 1
		if oh, ok := c.slotHash[old]; ok {
			delete(c.hashes, oh)
			delete(c.slotHash, old)
		}
	}
}

// blockTime is the Unix time of a slot: the chain's start plus 400ms per slot.
func (c *Chain) blockTime(slot uint64) int64 {
	return c.start.Add(time.Duration(slot) * 400 * time.Millisecond).Unix()
}

// commitSlotLocked maps a commitment level to the newest slot visible at that level.
func (c *Chain) commitSlotLocked(cm rpc.CommitmentType) uint64 {
	switch cm {
	case rpc.CommitmentProcessed, "recent", "single":
		return c.slot
	case rpc.CommitmentConfirmed, "singleGossip":
		if c.slot == 0 {
			return 0
		}
		return c.slot - 1
	default: // finalized, max, root, and the default
		if c.slot < finalityDepth {
			return 0
		}
		return c.slot - finalityDepth
	}
}

// Slot returns the newest slot at the given commitment ("" = finalized, as on Solana).
func (c *Chain) Slot(cm rpc.CommitmentType) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.commitSlotLocked(cm)
}

// LatestBlockhash returns the blockhash of the current slot, valid for the next 150 slots.
func (c *Chain) LatestBlockhash() solana.Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.slotHash[c.slot]
}

// accountAtLocked returns the account as of slot s, or nil.
func (c *Chain) accountAtLocked(pk solana.PublicKey, s uint64) *Account {
	h := c.accounts[pk]
	if h == nil {
		return nil
	}
	for i := len(h.versions) - 1; i >= 0; i-- {
		if h.versions[i].slot <= s {
			return h.versions[i].acc
		}
	}
	return nil
}

func (c *Chain) currentLocked(pk solana.PublicKey) *Account { return c.accountAtLocked(pk, c.slot) }

// setAccountLocked writes a new version of pk at slot s and drops versions no commitment can see.
func (c *Chain) setAccountLocked(pk solana.PublicKey, a *Account, s uint64) {
	h := c.accounts[pk]
	if h == nil {
		h = &history{}
		c.accounts[pk] = h
	}
	if n := len(h.versions); n > 0 && h.versions[n-1].slot == s {
		h.versions[n-1].acc = a
	} else {
		h.versions = append(h.versions, version{slot: s, acc: a})
	}
	fin := c.commitSlotLocked(rpc.CommitmentFinalized)
	keep := 0
	for i := len(h.versions) - 1; i >= 0; i-- {
		if h.versions[i].slot <= fin {
			keep = i
			break
		}
	}
	if keep > 0 {
		h.versions = append(h.versions[:0], h.versions[keep:]...)
	}
}

// SetAccount writes an account directly, visible at every commitment at once (as genesis state),
// and notifies account subscribers.
func (c *Chain) SetAccount(pk solana.PublicKey, a Account) {
	cp := a
	cp.Data = append([]byte(nil), a.Data...)
	c.mu.Lock()
	h := c.accounts[pk]
	if h == nil {
		h = &history{}
		c.accounts[pk] = h
	}
	h.versions = []version{{slot: 0, acc: &cp}}
	ev := c.hub.accountEventsLocked(pk, c.slot, allCommitments)
	c.mu.Unlock()
	c.hub.publish(ev)
}

// Account returns the current (processed) state of an account.
func (c *Chain) Account(pk solana.PublicKey) (Account, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.currentLocked(pk)
	if a == nil {
		return Account{}, false
	}
	cp := *a
	cp.Data = append([]byte(nil), a.Data...)
	return cp, true
}

// Balance returns the processed lamport balance of pk.
func (c *Chain) Balance(pk solana.PublicKey) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a := c.currentLocked(pk); a != nil {
		return a.Lamports
	}
	return 0
}

// Airdrop sends lamports from the chain's faucet with a real signed System transfer, exactly like
// requestAirdrop. It panics only if the faucet transaction is rejected, which is a simulator bug.
func (c *Chain) Airdrop(to solana.PublicKey, lamports uint64) solana.Signature {
	sig, err := c.airdrop(to, lamports)
	if err != nil {
		panic("soltest: airdrop: " + err.Error())
	}
	return sig
}

// Advance produces n slots now: transactions of earlier slots become confirmed and finalized and
// every subscriber is notified.
func (c *Chain) Advance(n int) {
	for i := 0; i < n; i++ {
		c.mu.Lock()
		c.slot++
		s := c.slot
		c.addHashLocked(s)
		var evs []event
		evs = append(evs, c.hub.slotEventLocked(s)...)
		if s >= 1 {
			evs = append(evs, c.commitEventsLocked(s-1, rpc.CommitmentConfirmed)...)
		}
		if s >= finalityDepth {
			fs := s - finalityDepth
			evs = append(evs, c.commitEventsLocked(fs, rpc.CommitmentFinalized)...)
			// Forget bookkeeping no commitment level needs any more.
			delete(c.slotTouch, fs)
			delete(c.slotTxs, fs)
		}
		c.mu.Unlock()
		c.hub.publish(evs)
	}
}

// commitEventsLocked builds the notifications for slot s reaching commitment cm.
func (c *Chain) commitEventsLocked(s uint64, cm rpc.CommitmentType) []event {
	var evs []event
	for _, r := range c.slotTxs[s] {
		if r.dropped {
			continue
		}
		evs = append(evs, c.hub.txEventsLocked(r, cm)...)
	}
	for pk := range c.slotTouch[s] {
		evs = append(evs, c.hub.accountEventsLocked(pk, s, []rpc.CommitmentType{cm})...)
	}
	return evs
}

var allCommitments = []rpc.CommitmentType{rpc.CommitmentProcessed, rpc.CommitmentConfirmed, rpc.CommitmentFinalized}

// CreateLookupTable stores an address lookup table usable by v0 transactions at once, and
// returns its address (owned by the Address Lookup Table program, in its on-chain layout).
func (c *Chain) CreateLookupTable(addrs []solana.PublicKey) solana.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(len(c.tables))+1)
	sum := sha256.Sum256(append([]byte("soltest lookup table"), seed[:]...))
	pk := solana.PublicKeyFromBytes(sum[:])
	c.tables[pk] = append([]solana.PublicKey(nil), addrs...)
	// Layout: u32 type(1) u64 deactivation slot u64 last extended slot u8 start index
	// COption<Pubkey> authority (1+32), u16 padding, then the addresses (56-byte header).
	data := make([]byte, 56, 56+32*len(addrs))
	binary.LittleEndian.PutUint32(data[0:], 1)
	binary.LittleEndian.PutUint64(data[4:], ^uint64(0))
	for _, a := range addrs {
		data = append(data, a[:]...)
	}
	h := &history{versions: []version{{slot: 0, acc: &Account{Lamports: rentExempt(len(data)), Owner: solana.AddressLookupTableProgramID, Data: data}}}}
	c.accounts[pk] = h
	return pk
}

// rentExempt is Solana's rent-exempt minimum for an account of n data bytes.
func rentExempt(n int) uint64 { return uint64(128+n) * 3480 * 2 }

// Subscriptions returns how many PubSub subscriptions are live, so tests can wait (poll with a
// deadline) until a client under test has subscribed before producing traffic.
func (c *Chain) Subscriptions() int { return c.hub.count() }
