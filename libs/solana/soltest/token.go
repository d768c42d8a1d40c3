package soltest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strings"

	"github.com/gagliardetto/solana-go"
)

func ed25519NewKeyFromSeed(seed []byte) []byte { return ed25519.NewKeyFromSeed(seed) }

const (
	mintLen         = 82
	tokenAccountLen = 165
)

// mintState is the SPL mint layout (82 bytes, same in Token and Token-2022).
type mintState struct {
	authority       *solana.PublicKey
	supply          uint64
	decimals        uint8
	initialized     bool
	freezeAuthority *solana.PublicKey
}

func decodeMint(d []byte) (mintState, bool) {
	if len(d) < mintLen {
		return mintState{}, false
	}
	var m mintState
	if binary.LittleEndian.Uint32(d[0:]) == 1 {
		pk := solana.PublicKeyFromBytes(d[4:36])
		m.authority = &pk
	}
	m.supply = binary.LittleEndian.Uint64(d[36:])
	m.decimals = d[44]
	m.initialized = d[45] == 1
	if binary.LittleEndian.Uint32(d[46:]) == 1 {
		pk := solana.PublicKeyFromBytes(d[50:82])
		m.freezeAuthority = &pk
	}
	// A Token-2022 account of exactly 165+ bytes with account type 2 is a token account, not a mint.
	if len(d) > mintLen && (len(d) < 166 || d[165] != 1) {
		return mintState{}, false
	}
	return m, m.initialized
}

func (m mintState) encode() []byte {
	d := make([]byte, mintLen)
	if m.authority != nil {
		binary.LittleEndian.PutUint32(d[0:], 1)
		copy(d[4:36], m.authority[:])
	}
	binary.LittleEndian.PutUint64(d[36:], m.supply)
	d[44] = m.decimals
	if m.initialized {
		d[45] = 1
	}
	if m.freezeAuthority != nil {
		binary.LittleEndian.PutUint32(d[46:], 1)
		copy(d[50:82], m.freezeAuthority[:])
	}
	return d
}

// tokenState is the SPL token-account layout (165 bytes; Token-2022 appends the account type and
// extensions).
type tokenState struct {
	mint, owner solana.PublicKey
	amount      uint64
	delegate    *solana.PublicKey
	state       uint8 // 0 uninitialized, 1 initialized, 2 frozen
	native      *uint64
	delegated   uint64
	closeAuth   *solana.PublicKey
}

func decodeToken(d []byte) (tokenState, bool) {
	if len(d) < tokenAccountLen || (len(d) > tokenAccountLen && d[tokenAccountLen] != 2) {
		return tokenState{}, false
	}
	var t tokenState
	t.mint = solana.PublicKeyFromBytes(d[0:32])
	t.owner = solana.PublicKeyFromBytes(d[32:64])
	t.amount = binary.LittleEndian.Uint64(d[64:])
	if binary.LittleEndian.Uint32(d[72:]) == 1 {
		pk := solana.PublicKeyFromBytes(d[76:108])
		t.delegate = &pk
	}
	t.state = d[108]
	if binary.LittleEndian.Uint32(d[109:]) == 1 {
		v := binary.LittleEndian.Uint64(d[113:])
		t.native = &v
	}
	t.delegated = binary.LittleEndian.Uint64(d[121:])
	if binary.LittleEndian.Uint32(d[129:]) == 1 {
		pk := solana.PublicKeyFromBytes(d[133:165])
		t.closeAuth = &pk
	}
	return t, t.state != 0
}

// encodeInto writes the base layout into d (which keeps any Token-2022 tail).
func (t tokenState) encodeInto(d []byte) {
	copy(d[0:32], t.mint[:])
	copy(d[32:64], t.owner[:])
	binary.LittleEndian.PutUint64(d[64:], t.amount)
	for i := 72; i < 165; i++ {
		d[i] = 0
	}
	if t.delegate != nil {
		binary.LittleEndian.PutUint32(d[72:], 1)
		copy(d[76:108], t.delegate[:])
	}
	d[108] = t.state
	if t.native != nil {
		binary.LittleEndian.PutUint32(d[109:], 1)
		binary.LittleEndian.PutUint64(d[113:], *t.native)
	}
	binary.LittleEndian.PutUint64(d[121:], t.delegated)
	if t.closeAuth != nil {
		binary.LittleEndian.PutUint32(d[129:], 1)
		copy(d[133:165], t.closeAuth[:])
	}
}

// newTokenAccountData builds an initialized token account; Token-2022 accounts carry the
// ImmutableOwner extension like associated token accounts do (170 bytes).
func newTokenAccountData(mint, owner solana.PublicKey, program solana.PublicKey) []byte {
	n := tokenAccountLen
	if program == solana.Token2022ProgramID {
		n = 170
	}
	d := make([]byte, n)
	tokenState{mint: mint, owner: owner, state: 1}.encodeInto(d)
	if n == 170 {
		d[165] = 2                                // AccountType::Account
		binary.LittleEndian.PutUint16(d[166:], 7) // ExtensionType::ImmutableOwner, length 0
	}
	return d
}

func isTokenProgram(p solana.PublicKey) bool {
	return p == solana.TokenProgramID || p == solana.Token2022ProgramID
}

// AssociatedTokenAddress derives the associated token account of owner for mint under the given
// token program (Token or Token-2022).
func AssociatedTokenAddress(owner, mint, tokenProgram solana.PublicKey) solana.PublicKey {
	pk, _, err := solana.FindProgramAddress([][]byte{owner[:], tokenProgram[:], mint[:]}, solana.SPLAssociatedTokenAccountProgramID)
	if err != nil {
		panic("soltest: no associated token address: " + err.Error())
	}
	return pk
}

// CreateMint creates an initialized mint with the given mint authority and decimals under the
// Token program, or Token-2022 when token2022 is true, visible at every commitment at once.
func (c *Chain) CreateMint(authority solana.PublicKey, decimals uint8, token2022 bool) solana.PublicKey {
	c.mu.Lock()
	n := len(c.accounts)
	c.mu.Unlock()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	sum := sha256.Sum256(append(append([]byte("soltest mint"), authority[:]...), b[:]...))
	mint := solana.PublicKeyFromBytes(sum[:])
	prog := solana.TokenProgramID
	if token2022 {
		prog = solana.Token2022ProgramID
	}
	auth := authority
	c.SetAccount(mint, Account{Lamports: rentExempt(mintLen), Owner: prog,
		Data: mintState{authority: &auth, decimals: decimals, initialized: true}.encode()})
	return mint
}

// MintTo credits amount raw units of mint to owner's associated token account, creating it when
// absent, and raises the mint's supply. Like SetAccount it writes state directly (no transaction),
// visible at every commitment. It returns the associated token account.
func (c *Chain) MintTo(mint, owner solana.PublicKey, amount uint64) solana.PublicKey {
	c.mu.Lock()
	ma := c.currentLocked(mint)
	if ma == nil {
		c.mu.Unlock()
		panic("soltest: MintTo: unknown mint " + mint.String())
	}
	prog := ma.Owner
	ms, ok := decodeMint(ma.Data)
	if !ok {
		c.mu.Unlock()
		panic("soltest: MintTo: not a mint " + mint.String())
	}
	ata := AssociatedTokenAddress(owner, mint, prog)
	var data []byte
	lamports := uint64(0)
	if cur := c.currentLocked(ata); cur != nil {
		data = append([]byte(nil), cur.Data...)
		lamports = cur.Lamports
	} else {
		data = newTokenAccountData(mint, owner, prog)
		lamports = rentExempt(len(data))
	}
	ts, _ := decodeToken(data)
	ts.amount += amount
	ts.encodeInto(data)
	ms.supply += amount
	mdata := append([]byte(nil), ma.Data...)
	copy(mdata, ms.encode())
	c.mu.Unlock()
	c.SetAccount(mint, Account{Lamports: ma.Lamports, Owner: prog, Data: mdata})
	c.SetAccount(ata, Account{Lamports: lamports, Owner: prog, Data: data})
	return ata
}

// TokenBalance returns the processed raw amount held by a token account (0 when absent).
func (c *Chain) TokenBalance(tokenAccount solana.PublicKey) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a := c.currentLocked(tokenAccount); a != nil && isTokenProgram(a.Owner) {
		if t, ok := decodeToken(a.Data); ok {
			return t.amount
		}
	}
	return 0
}

// uiAmount renders raw units with decimals as Solana's uiTokenAmount object. uiAmount is the
// lossy float Solana sends (null for zero in token balances when nullZero is set).
func uiTokenAmount(amount uint64, decimals uint8, nullZero bool) map[string]any {
	s := uiAmountString(amount, decimals)
	var ui any
	if amount == 0 && nullZero {
		ui = nil
	} else {
		f, _ := new(big.Float).SetString(s)
		v, _ := f.Float64()
		ui = v
	}
	return map[string]any{"amount": uintStr(amount), "decimals": decimals, "uiAmount": ui, "uiAmountString": s}
}

// uiAmountString formats raw units exactly, trimming trailing zeros like Solana does.
func uiAmountString(amount uint64, decimals uint8) string {
	s := uintStr(amount)
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	for len(s) <= d {
		s = "0" + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

func uintStr(v uint64) string { return new(big.Int).SetUint64(v).String() }

func programName(p solana.PublicKey) string {
	if p == solana.Token2022ProgramID {
		return "spl-token-2022"
	}
	return "spl-token"
}
