package onchain

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/solcrowd/backend/libs/fixtures"
)

// accountData extracts the base64 data of a recorded getAccountInfo response.
func accountData(t testing.TB, name string) []byte {
	t.Helper()
	var resp struct {
		Result struct {
			Value struct {
				Data  []string `json:"data"`
				Owner string   `json:"owner"`
			} `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(fixtures.Solana(name), &resp); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(resp.Result.Value.Data[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePriceUpdateV2Fixture(t *testing.T) {
	data := accountData(t, "getaccountinfo-pyth-sol-usd-priceupdatev2-base64.json")
	p, err := DecodePriceUpdateV2(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Verification != VerificationFull || p.FeedIDHex() != PythSOLUSDFeedID {
		t.Fatalf("verification %q feed %s", p.Verification, p.FeedIDHex())
	}
	if p.Price != 9385943752 || p.Expo != -8 || p.Conf != 4672083 || p.PublishTime != 1787392706 ||
		p.EMAPrice != 9409295100 || p.PostedSlot != 440897412 {
		t.Fatalf("decoded %+v", p)
	}
	usd, err := p.DecimalString()
	if err != nil || usd != "93.85943752" {
		t.Fatalf("usd %q %v", usd, err)
	}
}

func TestDecodePriceUpdateV2PartialHasExtraByte(t *testing.T) {
	full := accountData(t, "getaccountinfo-pyth-sol-usd-priceupdatev2-base64.json")
	// Re-encode the same message with verification Partial{num_signatures: 5}: one byte longer
	// before the feed id, so a decoder that ignores the tag reads a shifted price.
	partial := append([]byte{}, full[:40]...)
	partial = append(partial, 0, 5)
	partial = append(partial, full[41:133]...)
	p, err := DecodePriceUpdateV2(partial)
	if err != nil {
		t.Fatal(err)
	}
	if p.Verification != VerificationPartial || p.NumSignatures != 5 || p.Price != 9385943752 || p.PublishTime != 1787392706 {
		t.Fatalf("partial decoded %+v", p)
	}
	bad := append([]byte{}, full...)
	bad[40] = 7
	if _, err := DecodePriceUpdateV2(bad); err == nil {
		t.Fatal("unknown verification tag accepted")
	}
	if _, err := DecodePriceUpdateV2(full[:100]); err == nil {
		t.Fatal("truncated account accepted")
	}
	if _, err := DecodePriceUpdateV2(append([]byte{1}, full[1:]...)); err == nil {
		t.Fatal("wrong discriminator accepted")
	}
}

func TestDiscriminators(t *testing.T) {
	for name, want := range map[string][]byte{"account:PriceUpdateV2": priceUpdateV2Disc, "account:BondingCurve": bondingCurveDisc} {
		h := sha256.Sum256([]byte(name))
		if string(h[:8]) != string(want) {
			t.Errorf("%s discriminator %v, want %v", name, want, h[:8])
		}
	}
}

func TestScaledDecimal(t *testing.T) {
	for _, c := range []struct {
		v    int64
		e    int32
		want string
	}{
		{9385943752, -8, "93.85943752"}, {1, -8, "0.00000001"}, {100, -2, "1"}, {150, -2, "1.5"},
		{12, 3, "12000"}, {7, 0, "7"}, {9223372036854775807, -18, "9.223372036854775807"},
	} {
		got, err := ScaledDecimal(c.v, c.e)
		if err != nil || got != c.want {
			t.Errorf("ScaledDecimal(%d,%d) = %q, %v; want %q", c.v, c.e, got, err, c.want)
		}
	}
	for _, c := range []struct {
		v int64
		e int32
	}{{0, -8}, {-5, -8}, {5, 41}, {5, -41}} {
		if got, err := ScaledDecimal(c.v, c.e); err == nil {
			t.Errorf("ScaledDecimal(%d,%d) = %q, want error", c.v, c.e, got)
		}
	}
}

func TestMetaplexFixture(t *testing.T) {
	mint := solana.MustPublicKeyFromBase58("BghihYzykKNX1dMyS1snAR266G8czLi28xFK45ShCiMB")
	pda, err := MetadataPDA(mint)
	if err != nil || pda.String() != "9VHphpWFmUxVHxzWyeYJYYbQADWZ7X6PLzyWER8Lc3k2" {
		t.Fatalf("pda %s %v", pda, err)
	}
	m, err := DecodeMetaplexMetadata(accountData(t, "getaccountinfo-metaplex-metadata-base64.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Mint != mint || m.UpdateAuthority.String() != "3sJDa9yoaPGiCdCMUxPVqKractvrBoxt7NnBUktcR7Bs" {
		t.Fatalf("keys %s %s", m.Mint, m.UpdateAuthority)
	}
	if m.Name != "Gooberg #2235" || m.Symbol != "TGB" ||
		m.URI != "https://nftstorage.link/ipfs/bafybeid3vxffm77zjc2ezlzxlkejusjjpsaiiym2qbhjb2tgetqspwr7kq/2235.json" {
		t.Fatalf("metadata %q %q %q", m.Name, m.Symbol, m.URI)
	}
}

// MetaplexAccount encodes a MetadataV1 prefix the way Metaplex does, for hostile-input tests.
func metaplexAccount(mint solana.PublicKey, name, symbol, uri string) []byte {
	b := []byte{metaplexKeyMetadataV1}
	b = append(b, make([]byte, 32)...)
	b = append(b, mint[:]...)
	for _, s := range []string{name, symbol, uri} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return append(b, make([]byte, 100)...)
}

func TestMetaplexHostileStrings(t *testing.T) {
	mint := solana.NewWallet().PublicKey()
	name := "Evil\x00\x07Coin\u202e" + strings.Repeat("\x00", 20)
	m, err := DecodeMetaplexMetadata(metaplexAccount(mint, name, "E\x1bVL\x00\x00", "https://x.example/a b"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "EvilCoin" || m.Symbol != "EVL" || m.URI != "" {
		t.Fatalf("cleaned %q %q %q", m.Name, m.Symbol, m.URI)
	}
	long := strings.Repeat("a", 100)
	m, err = DecodeMetaplexMetadata(metaplexAccount(mint, long, long[:20], "https://x/"+strings.Repeat("a", 600)))
	if err != nil {
		t.Fatal(err)
	}
	if len([]rune(m.Name)) != MaxNameRunes || len([]rune(m.Symbol)) != MaxSymbolRunes || m.URI != "" {
		t.Fatalf("capped %d %d %q", len([]rune(m.Name)), len([]rune(m.Symbol)), m.URI)
	}
	// A length prefix pointing far past the account is an error, not a huge allocation.
	b := metaplexAccount(mint, "x", "y", "z")
	binary.LittleEndian.PutUint32(b[65:], 1<<31)
	if _, err := DecodeMetaplexMetadata(b); err == nil {
		t.Fatal("oversized length prefix accepted")
	}
}

// mintData builds an initialized 82-byte mint.
func mintData(supply uint64, decimals uint8) []byte {
	d := make([]byte, mintLen)
	binary.LittleEndian.PutUint64(d[36:], supply)
	d[44] = decimals
	d[45] = 1
	return d
}

func tokenMetadataTLV(name, symbol, uri string) []byte {
	v := make([]byte, 64)
	for _, s := range []string{name, symbol, uri} {
		v = binary.LittleEndian.AppendUint32(v, uint32(len(s)))
		v = append(v, s...)
	}
	v = binary.LittleEndian.AppendUint32(v, 0) // no additional metadata
	tlv := binary.LittleEndian.AppendUint16(nil, 18)
	tlv = binary.LittleEndian.AppendUint16(tlv, 64)
	tlv = append(tlv, make([]byte, 64)...) // metadata pointer, skipped
	tlv = binary.LittleEndian.AppendUint16(tlv, extTokenMeta)
	tlv = binary.LittleEndian.AppendUint16(tlv, uint16(len(v)))
	return append(tlv, v...)
}

func TestDecodeMint(t *testing.T) {
	m, err := DecodeMint(solana.TokenProgramID, mintData(8721043118453221, 6))
	if err != nil || m.Program != ProgramSPLToken || m.Supply != 8721043118453221 || m.Decimals != 6 || m.Metadata != nil {
		t.Fatalf("spl mint %+v %v", m, err)
	}
	ext := append(mintData(1000, 9), make([]byte, tokenAccLen-mintLen)...)
	ext = append(ext, accountTypeMnt)
	ext = append(ext, tokenMetadataTLV("Pumped\x00", "PMP", "ipfs://cid/1.json")...)
	m, err = DecodeMint(solana.Token2022ProgramID, ext)
	if err != nil || m.Program != ProgramSPLToken2022 || m.Decimals != 9 || m.Metadata == nil ||
		m.Metadata.Name != "Pumped" || m.Metadata.Symbol != "PMP" || m.Metadata.URI != "ipfs://cid/1.json" {
		t.Fatalf("token-2022 mint %+v %+v %v", m, m.Metadata, err)
	}
	tokenAcc := make([]byte, tokenAccLen)
	uninit := mintData(1, 1)
	uninit[45] = 0
	for name, c := range map[string]struct {
		owner solana.PublicKey
		data  []byte
	}{
		"token account":        {solana.TokenProgramID, tokenAcc},
		"2022 token account":   {solana.Token2022ProgramID, append(append([]byte{}, tokenAcc...), 2, 0, 0)},
		"system account":       {solana.SystemProgramID, nil},
		"metaplex owner":       {MetaplexProgram, mintData(1, 1)},
		"uninitialized":        {solana.TokenProgramID, uninit},
		"short":                {solana.TokenProgramID, make([]byte, 40)},
		"2022 overrunning ext": {solana.Token2022ProgramID, append(ext[:tokenAccLen+1], 19, 0, 255, 255, 1)},
	} {
		if _, err := DecodeMint(c.owner, c.data); !errors.Is(err, ErrNotMint) {
			t.Errorf("%s: err %v, want ErrNotMint", name, err)
		}
	}
}

func TestBondingCurve(t *testing.T) {
	mint := solana.MustPublicKeyFromBase58("BghihYzykKNX1dMyS1snAR266G8czLi28xFK45ShCiMB")
	pda, err := BondingCurvePDA(mint)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := solana.FindProgramAddress([][]byte{[]byte("bonding-curve"), mint[:]}, PumpFunProgram)
	if pda != want {
		t.Fatal("pda mismatch")
	}
	d := append([]byte{}, bondingCurveDisc...)
	for _, v := range []uint64{1, 2, 3, 4, 5} {
		d = binary.LittleEndian.AppendUint64(d, v)
	}
	d = append(d, 1, 0, 0)
	c, err := DecodeBondingCurve(d)
	if err != nil || !c.Complete || c.TokenTotalSupply != 5 {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := DecodeBondingCurve(d[:40]); err == nil {
		t.Fatal("short curve accepted")
	}
}

// The fuzz targets feed arbitrary bytes to every decoder: none may panic, and whatever they return
// must be clean text and a positive price.
func FuzzDecoders(f *testing.F) {
	f.Add(accountData(f, "getaccountinfo-pyth-sol-usd-priceupdatev2-base64.json"))
	f.Add(accountData(f, "getaccountinfo-metaplex-metadata-base64.json"))
	f.Add(append(append(mintData(5, 2), make([]byte, tokenAccLen-mintLen)...), append([]byte{1}, tokenMetadataTLV("a", "b", "c")...)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := DecodePriceUpdateV2(data); err == nil {
			if s, err := p.DecimalString(); err == nil && (s == "0" || strings.HasPrefix(s, "-")) {
				t.Fatalf("non-positive price %q", s)
			}
		}
		if m, err := DecodeMetaplexMetadata(data); err == nil {
			checkClean(t, m.Name, m.Symbol, m.URI)
		}
		for _, owner := range []solana.PublicKey{solana.TokenProgramID, solana.Token2022ProgramID} {
			if m, err := DecodeMint(owner, data); err == nil && m.Metadata != nil {
				checkClean(t, m.Metadata.Name, m.Metadata.Symbol, m.Metadata.URI)
			}
		}
		_, _ = DecodeBondingCurve(data)
	})
}

func checkClean(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if strings.ContainsAny(s, "\x00\x1b\n") || len(s) > MaxURIBytes*4 {
			t.Fatalf("unclean text %q", s)
		}
	}
}
