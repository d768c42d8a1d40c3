package soltest

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/gagliardetto/solana-go"
)

func (x *execCtx) need(accts []uint16, n int) *ixError {
	if len(accts) < n {
		return ixe("NotEnoughAccountKeys")
	}
	return nil
}

func (x *execCtx) system(accts []uint16, data []byte) *ixError {
	x.consume(cuBuiltin)
	if len(data) < 4 {
		return ixe("InvalidInstructionData")
	}
	switch binary.LittleEndian.Uint32(data) {
	case 2: // Transfer
		if len(data) < 12 {
			return ixe("InvalidInstructionData")
		}
		if e := x.need(accts, 2); e != nil {
			return e
		}
		return x.lamportTransfer(accts[0], accts[1], binary.LittleEndian.Uint64(data[4:]), accts[0])
	case 11: // TransferWithSeed
		if e := x.need(accts, 3); e != nil {
			return e
		}
		if len(data) < 20 {
			return ixe("InvalidInstructionData")
		}
		amt := binary.LittleEndian.Uint64(data[4:])
		sl := binary.LittleEndian.Uint64(data[12:])
		if sl > 32 || len(data) < 20+int(sl)+32 {
			return ixe("InvalidInstructionData")
		}
		seed := string(data[20 : 20+sl])
		owner := solana.PublicKeyFromBytes(data[20+sl : 20+sl+32])
		derived, err := solana.CreateWithSeed(x.keys[accts[1]], seed, owner)
		if err != nil {
			return ixe("InvalidSeeds")
		}
		if derived != x.keys[accts[0]] {
			x.log(fmt.Sprintf("Transfer: 'from' address %s does not match derived address %s", x.keys[accts[0]], derived))
			return custom(5)
		}
		return x.lamportTransfer(accts[0], accts[2], amt, accts[1])
	default:
		return nil // other System instructions are accepted as no-ops
	}
}

// lamportTransfer is System Transfer semantics; signerIdx is the account that must sign.
func (x *execCtx) lamportTransfer(from, to uint16, amt uint64, signerIdx uint16) *ixError {
	if !x.signer[signerIdx] {
		x.log(fmt.Sprintf("Transfer: `from` account %s must sign", x.keys[from]))
		return ixe("MissingRequiredSignature")
	}
	fa := x.get(from)
	if fa != nil && len(fa.Data) > 0 {
		x.log("Transfer: `from` must not carry data")
		return ixe("InvalidArgument")
	}
	if fa != nil && fa.Owner != solana.SystemProgramID {
		return ixe("ExternalAccountLamportSpend")
	}
	have := uint64(0)
	if fa != nil {
		have = fa.Lamports
	}
	if have < amt {
		x.log(fmt.Sprintf("Transfer: insufficient lamports %d, need %d", have, amt))
		return custom(1)
	}
	if !x.writable[from] || !x.writable[to] {
		return ixe("ReadonlyLamportChange")
	}
	if from == to || amt == 0 {
		return nil
	}
	ta := x.mut(to)
	if ta.Lamports+amt < ta.Lamports {
		return ixe("ArithmeticOverflow")
	}
	x.mut(from).Lamports -= amt
	ta.Lamports += amt
	x.transfers = append(x.transfers, transferRec{from: x.keys[from], to: x.keys[to], amount: amt, inner: len(x.inner) > 0})
	return nil
}

func (x *execCtx) token(pid solana.PublicKey, accts []uint16, data []byte) *ixError {
	if len(data) == 0 {
		return ixe("InvalidInstructionData")
	}
	switch data[0] {
	case 3, 12:
		checked := data[0] == 12
		name := "Transfer"
		if checked {
			name = "TransferChecked"
		}
		x.log("Program log: Instruction: " + name)
		var src, mintIdx, dst, auth uint16
		if checked {
			if len(data) < 10 {
				return ixe("InvalidInstructionData")
			}
			if e := x.need(accts, 4); e != nil {
				return e
			}
			src, mintIdx, dst, auth = accts[0], accts[1], accts[2], accts[3]
			x.consume(cuTokenChecked)
		} else {
			if len(data) < 9 {
				return ixe("InvalidInstructionData")
			}
			if e := x.need(accts, 3); e != nil {
				return e
			}
			src, dst, auth = accts[0], accts[1], accts[2]
			x.consume(cuTokenTransfer)
		}
		amt := binary.LittleEndian.Uint64(data[1:])
		sa, da := x.get(src), x.get(dst)
		if sa == nil || da == nil || sa.Owner != pid || da.Owner != pid {
			return ixe("InvalidAccountData")
		}
		st, ok1 := decodeToken(sa.Data)
		dt, ok2 := decodeToken(da.Data)
		if !ok1 || !ok2 {
			return ixe("InvalidAccountData")
		}
		if st.state == 2 || dt.state == 2 {
			x.log("Program log: Error: Account is frozen")
			return custom(17)
		}
		if st.amount < amt {
			x.log("Program log: Error: insufficient funds")
			return custom(1)
		}
		if st.mint != dt.mint {
			x.log("Program log: Error: Account not associated with this Mint")
			return custom(3)
		}
		if checked {
			if x.keys[mintIdx] != st.mint {
				x.log("Program log: Error: Account not associated with this Mint")
				return custom(3)
			}
			ma := x.get(mintIdx)
			ms, ok := mintState{}, false
			if ma != nil {
				ms, ok = decodeMint(ma.Data)
			}
			if !ok {
				return ixe("InvalidAccountData")
			}
			if ms.decimals != data[9] {
				return custom(18)
			}
		}
		authKey := x.keys[auth]
		if authKey != st.owner {
			if st.delegate == nil || *st.delegate != authKey || st.delegated < amt {
				x.log("Program log: Error: owner does not match")
				return custom(4)
			}
		}
		if !x.signer[auth] {
			return ixe("MissingRequiredSignature")
		}
		if !x.writable[src] || !x.writable[dst] {
			return ixe("ReadonlyDataModified")
		}
		if src == dst {
			return nil
		}
		sm, dm := x.mut(src), x.mut(dst)
		st.amount -= amt
		if authKey != st.owner {
			st.delegated -= amt
		}
		dt.amount += amt
		st.encodeInto(sm.Data)
		dt.encodeInto(dm.Data)
		if st.native != nil { // wrapped SOL moves lamports with the tokens
			sm.Lamports -= amt
			dm.Lamports += amt
		}
		x.transfers = append(x.transfers, transferRec{from: st.owner, to: x.keys[dst], toOwner: dt.owner, mint: st.mint, amount: amt, inner: len(x.inner) > 0})
		return nil
	case 21: // GetAccountDataSize (used by the ATA program)
		x.log("Program log: Instruction: GetAccountDataSize")
		x.consume(1622)
		return nil
	case 22:
		x.log("Program log: Instruction: InitializeImmutableOwner")
		if pid == solana.TokenProgramID {
			x.log("Program log: Please upgrade to SPL Token 2022 for immutable owner support")
		}
		x.consume(1405)
		return nil
	case 18:
		x.log("Program log: Instruction: InitializeAccount3")
		x.consume(4241)
		return nil
	default:
		x.consume(cuTokenTransfer)
		return nil // other token instructions are accepted as no-ops
	}
}

func (x *execCtx) memo(accts []uint16, data []byte) *ixError {
	for _, a := range accts {
		if !x.signer[a] {
			x.log(fmt.Sprintf("Program log: Signature missing for %s", x.keys[a]))
			return ixe("MissingRequiredSignature")
		}
	}
	if !utf8.Valid(data) {
		x.log("Program log: Invalid UTF-8, from byte 0")
		return ixe("InvalidInstructionData")
	}
	x.consume(cuMemo)
	x.log(fmt.Sprintf("Program log: Memo (len %d): %s", len(data), strconv.Quote(string(data))))
	x.memos = append(x.memos, string(data))
	return nil
}

func (x *execCtx) ata(accts []uint16, data []byte, height int) *ixError {
	idempotent := len(data) > 0 && data[0] == 1
	if len(data) > 0 && data[0] > 1 {
		return ixe("InvalidInstructionData")
	}
	if idempotent {
		x.log("Program log: CreateIdempotent")
	} else {
		x.log("Program log: Create")
	}
	if e := x.need(accts, 6); e != nil {
		return e
	}
	payer, ataI, wallet, mint, sys, tokProg := accts[0], accts[1], accts[2], accts[3], accts[4], accts[5]
	tp := x.keys[tokProg]
	if !isTokenProgram(tp) {
		return ixe("IncorrectProgramId")
	}
	if AssociatedTokenAddress(x.keys[wallet], x.keys[mint], tp) != x.keys[ataI] {
		x.log("Program log: Error: Associated address does not match seed derivation")
		return ixe("InvalidSeeds")
	}
	x.consume(cuATA)
	if cur := x.get(ataI); cur != nil && cur.Owner == tp {
		if t, ok := decodeToken(cur.Data); ok && idempotent && t.owner == x.keys[wallet] && t.mint == x.keys[mint] {
			return nil
		}
	}
	ma := x.get(mint)
	if ma == nil || ma.Owner != tp {
		return ixe("IncorrectProgramId")
	}
	if _, ok := decodeMint(ma.Data); !ok {
		return ixe("InvalidAccountData")
	}
	// Inner: GetAccountDataSize, CreateAccount, InitializeImmutableOwner, InitializeAccount3.
	if e := x.cpi(tokProg, []uint16{mint}, []byte{21, 7, 0}, height+1); e != nil {
		return e
	}
	space := uint64(tokenAccountLen)
	if tp == solana.Token2022ProgramID {
		space = 170
	}
	lam := rentExempt(int(space))
	ca := make([]byte, 52)
	binary.LittleEndian.PutUint64(ca[4:], lam)
	binary.LittleEndian.PutUint64(ca[12:], space)
	copy(ca[20:], tp[:])
	x.inner = append(x.inner, innerIx{program: sys, accounts: []uint16{payer, ataI}, data: ca, height: height + 1})
	x.log(fmt.Sprintf("Program %s invoke [%d]", solana.SystemProgramID, height+1))
	if cur := x.get(ataI); cur != nil && (cur.Lamports > 0 || len(cur.Data) > 0) {
		x.log(fmt.Sprintf("Create Account: account Address { address: %s, base: None } already in use", x.keys[ataI]))
		x.log(fmt.Sprintf("Program %s failed: custom program error: 0x0", solana.SystemProgramID))
		return custom(0)
	}
	if !x.signer[payer] {
		return ixe("MissingRequiredSignature")
	}
	pa := x.get(payer)
	if pa == nil || pa.Lamports < lam {
		have := uint64(0)
		if pa != nil {
			have = pa.Lamports
		}
		x.log(fmt.Sprintf("Transfer: insufficient lamports %d, need %d", have, lam))
		x.log(fmt.Sprintf("Program %s failed: custom program error: 0x1", solana.SystemProgramID))
		return custom(1)
	}
	x.mut(payer).Lamports -= lam
	na := x.mut(ataI)
	na.Lamports, na.Owner, na.Data = lam, tp, newTokenAccountData(x.keys[mint], x.keys[wallet], tp)
	x.log(fmt.Sprintf("Program %s success", solana.SystemProgramID))
	x.log("Program log: Initialize the associated token account")
	if e := x.cpi(tokProg, []uint16{ataI}, []byte{22}, height+1); e != nil {
		return e
	}
	w := x.keys[wallet]
	return x.cpi(tokProg, []uint16{ataI, mint}, append([]byte{18}, w[:]...), height+1)
}

func (x *execCtx) relay(accts []uint16, data []byte, height int) *ixError {
	if len(data) != 9 {
		return ixe("InvalidInstructionData")
	}
	x.consume(cuRelay)
	amt := binary.LittleEndian.Uint64(data[1:])
	switch data[0] {
	case 0:
		if e := x.need(accts, 3); e != nil {
			return e
		}
		x.log("Program log: relay lamports")
		d := make([]byte, 12)
		d[0] = 2
		binary.LittleEndian.PutUint64(d[4:], amt)
		return x.cpi(accts[2], []uint16{accts[0], accts[1]}, d, height+1)
	case 1:
		if e := x.need(accts, 4); e != nil {
			return e
		}
		x.log("Program log: relay tokens")
		d := make([]byte, 9)
		d[0] = 3
		binary.LittleEndian.PutUint64(d[1:], amt)
		return x.cpi(accts[3], []uint16{accts[0], accts[1], accts[2]}, d, height+1)
	}
	return ixe("InvalidInstructionData")
}
