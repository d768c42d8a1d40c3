package onchain

import (
	"bytes"
	"errors"

	"github.com/gagliardetto/solana-go"
)

// PumpFunProgram is the pump.fun bonding-curve program.
var PumpFunProgram = solana.MustPublicKeyFromBase58("6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P")

// bondingCurveDisc is the Anchor discriminator of BondingCurve (sha256("account:BondingCurve")[:8]).
var bondingCurveDisc = []byte{23, 183, 248, 55, 96, 216, 172, 96}

// BondingCurvePDA is the pump.fun bonding curve of mint: PDA(["bonding-curve", mint], program).
func BondingCurvePDA(mint solana.PublicKey) (solana.PublicKey, error) {
	pk, _, err := solana.FindProgramAddress([][]byte{[]byte("bonding-curve"), mint[:]}, PumpFunProgram)
	return pk, err
}

// BondingCurve is the state of a pump.fun bonding curve.
type BondingCurve struct {
	VirtualTokenReserves uint64
	VirtualSOLReserves   uint64
	RealTokenReserves    uint64
	RealSOLReserves      uint64
	TokenTotalSupply     uint64
	Complete             bool // the curve filled and the token graduated to a DEX
}

// DecodeBondingCurve decodes a pump.fun BondingCurve account (discriminator, five u64 and the
// complete flag; newer versions append fields, which are ignored).
func DecodeBondingCurve(data []byte) (BondingCurve, error) {
	var c BondingCurve
	r := reader{b: data}
	if d := r.bytes(8); r.err == nil && !bytes.Equal(d, bondingCurveDisc) {
		return c, errors.New("pumpfun: not a BondingCurve account (discriminator)")
	}
	c.VirtualTokenReserves = r.u64()
	c.VirtualSOLReserves = r.u64()
	c.RealTokenReserves = r.u64()
	c.RealSOLReserves = r.u64()
	c.TokenTotalSupply = r.u64()
	complete := r.u8()
	if r.err != nil {
		return BondingCurve{}, errors.New("pumpfun: " + r.err.Error())
	}
	c.Complete = complete == 1
	return c, nil
}
