package onchain

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
)

// Well-known Pyth addresses on mainnet.
var (
	// PythReceiverProgram owns PriceUpdateV2 accounts.
	PythReceiverProgram = solana.MustPublicKeyFromBase58("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ")
	// PythSOLUSDAccount is the sponsored SOL/USD price feed account (shard 0).
	PythSOLUSDAccount = solana.MustPublicKeyFromBase58("7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE")
)

// PythSOLUSDFeedID is the Pyth feed id of SOL/USD, hex.
const PythSOLUSDFeedID = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"

// priceUpdateV2Disc is the Anchor discriminator of PriceUpdateV2 (sha256("account:PriceUpdateV2")[:8]).
var priceUpdateV2Disc = []byte{34, 241, 35, 99, 157, 126, 244, 205}

// Verification levels of a PriceUpdateV2.
const (
	VerificationPartial = "partial"
	VerificationFull    = "full"
)

// PythPrice is a decoded PriceUpdateV2 account.
type PythPrice struct {
	WriteAuthority solana.PublicKey
	Verification   string // VerificationPartial or VerificationFull
	NumSignatures  uint8  // only for partial verification
	FeedID         [32]byte
	Price          int64
	Conf           uint64
	Expo           int32
	PublishTime    int64 // unix seconds
	PrevPublish    int64
	EMAPrice       int64
	EMAConf        uint64
	PostedSlot     uint64
}

// FeedIDHex is the feed id as lowercase hex.
func (p PythPrice) FeedIDHex() string { return hex.EncodeToString(p.FeedID[:]) }

// DecodePriceUpdateV2 decodes a Pyth receiver PriceUpdateV2 account. The verification level is a
// Borsh enum: tag 0 (Partial) carries one extra byte (num_signatures) before the price message,
// tag 1 (Full) carries none, so every later offset depends on the tag.
func DecodePriceUpdateV2(data []byte) (PythPrice, error) {
	var p PythPrice
	r := reader{b: data}
	disc := r.bytes(8)
	if r.err == nil && !bytes.Equal(disc, priceUpdateV2Disc) {
		return p, errors.New("pyth: not a PriceUpdateV2 account (discriminator)")
	}
	copy(p.WriteAuthority[:], r.bytes(32))
	switch tag := r.u8(); {
	case r.err != nil:
	case tag == 0:
		p.Verification = VerificationPartial
		p.NumSignatures = r.u8()
	case tag == 1:
		p.Verification = VerificationFull
	default:
		return p, fmt.Errorf("pyth: unknown verification level %d", tag)
	}
	copy(p.FeedID[:], r.bytes(32))
	p.Price = int64(r.u64())
	p.Conf = r.u64()
	p.Expo = int32(r.u32())
	p.PublishTime = int64(r.u64())
	p.PrevPublish = int64(r.u64())
	p.EMAPrice = int64(r.u64())
	p.EMAConf = r.u64()
	p.PostedSlot = r.u64()
	if r.err != nil {
		return PythPrice{}, fmt.Errorf("pyth: %w", r.err)
	}
	return p, nil
}

// DecimalString returns the exact value of the integer price scaled by 10^expo as a canonical
// decimal string ("9385943752", -8 → "93.85943752"). It refuses non-positive prices and absurd
// exponents, so the result is always a usable price.
func (p PythPrice) DecimalString() (string, error) {
	return ScaledDecimal(p.Price, p.Expo)
}

// ScaledDecimal renders v × 10^expo exactly. v must be positive and expo within ±40.
func ScaledDecimal(v int64, expo int32) (string, error) {
	if v <= 0 {
		return "", fmt.Errorf("price %d is not positive", v)
	}
	if expo < -40 || expo > 40 {
		return "", fmt.Errorf("exponent %d out of range", expo)
	}
	digits := strconv.FormatInt(v, 10)
	if expo >= 0 {
		return digits + strings.Repeat("0", int(expo)), nil
	}
	n := int(-expo)
	if len(digits) <= n {
		digits = strings.Repeat("0", n-len(digits)+1) + digits
	}
	ip, fp := digits[:len(digits)-n], strings.TrimRight(digits[len(digits)-n:], "0")
	if fp == "" {
		return ip, nil
	}
	return ip + "." + fp, nil
}

// reader reads little-endian fields and remembers the first short read.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("short data: need %d bytes at offset %d, have %d", n, r.off, len(r.b))
		return nil
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

func (r *reader) u8() uint8 {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// str reads a Borsh string (u32 length + bytes), refusing lengths above max.
func (r *reader) str(max int) string {
	n := r.u32()
	if r.err != nil {
		return ""
	}
	if int64(n) > int64(max) {
		r.err = fmt.Errorf("string length %d over limit %d", n, max)
		return ""
	}
	return string(r.bytes(int(n)))
}
