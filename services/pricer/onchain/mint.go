package onchain

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// Token program names as they appear in events.TokenInfo.TokenProgram.
const (
	ProgramSPLToken     = "spl-token"
	ProgramSPLToken2022 = "spl-token-2022"
)

const (
	mintLen        = 82
	tokenAccLen    = 165 // the account-type byte of Token-2022 follows the base token-account size
	accountTypeMnt = 1
	extTokenMeta   = 19 // Token-2022 ExtensionType::TokenMetadata
)

// ErrNotMint reports an account that exists but is not an initialized SPL mint.
var ErrNotMint = errors.New("account is not an SPL token mint")

// Mint is a decoded SPL Token or Token-2022 mint account.
type Mint struct {
	Program  string // ProgramSPLToken or ProgramSPLToken2022
	Supply   uint64
	Decimals uint8
	// Metadata is the Token-2022 TokenMetadata extension, when the mint carries one.
	Metadata *TokenMetadata
}

// TokenMetadata is what a token says about itself: from Metaplex or the Token-2022 extension.
// Strings are already cleaned (see CleanText).
type TokenMetadata struct {
	Name   string
	Symbol string
	URI    string
}

// DecodeMint decodes a mint account owned by owner. Anything else (another owner, a token
// account, an uninitialized mint, a truncated buffer) is ErrNotMint, possibly wrapped.
func DecodeMint(owner solana.PublicKey, data []byte) (Mint, error) {
	var m Mint
	switch {
	case owner.Equals(solana.TokenProgramID):
		m.Program = ProgramSPLToken
		if len(data) != mintLen {
			return Mint{}, fmt.Errorf("%w: %d bytes", ErrNotMint, len(data))
		}
	case owner.Equals(solana.Token2022ProgramID):
		m.Program = ProgramSPLToken2022
		// A Token-2022 mint is 82 bytes, or has extensions after a padded base and an
		// account-type byte of 1 at offset 165 (token accounts have 2 there).
		if len(data) != mintLen && (len(data) <= tokenAccLen || data[tokenAccLen] != accountTypeMnt) {
			return Mint{}, fmt.Errorf("%w: %d bytes", ErrNotMint, len(data))
		}
	default:
		return Mint{}, fmt.Errorf("%w: owner %s", ErrNotMint, owner)
	}
	if data[45] != 1 {
		return Mint{}, fmt.Errorf("%w: not initialized", ErrNotMint)
	}
	m.Supply = binary.LittleEndian.Uint64(data[36:44])
	m.Decimals = data[44]
	if m.Program == ProgramSPLToken2022 && len(data) > tokenAccLen+1 {
		md, err := tokenMetadataExtension(data[tokenAccLen+1:])
		if err != nil {
			return Mint{}, fmt.Errorf("%w: %v", ErrNotMint, err)
		}
		m.Metadata = md
	}
	return m, nil
}

// tokenMetadataExtension walks the TLV extension area (u16 type, u16 length, value) and decodes
// the TokenMetadata extension if present.
func tokenMetadataExtension(tlv []byte) (*TokenMetadata, error) {
	for off := 0; off+4 <= len(tlv); {
		typ := binary.LittleEndian.Uint16(tlv[off:])
		n := int(binary.LittleEndian.Uint16(tlv[off+2:]))
		off += 4
		if typ == 0 { // Uninitialized: the rest is padding
			return nil, nil
		}
		if off+n > len(tlv) {
			return nil, fmt.Errorf("extension %d overruns the account", typ)
		}
		if typ == extTokenMeta {
			return decodeTokenMetadata(tlv[off : off+n])
		}
		off += n
	}
	return nil, nil
}

// decodeTokenMetadata decodes the spl-token-metadata-interface TokenMetadata value:
// update_authority (32), mint (32), name, symbol, uri (Borsh strings), additional metadata.
func decodeTokenMetadata(b []byte) (*TokenMetadata, error) {
	r := reader{b: b}
	r.bytes(64)
	name := r.str(len(b))
	symbol := r.str(len(b))
	uri := r.str(len(b))
	if r.err != nil {
		return nil, fmt.Errorf("token metadata: %w", r.err)
	}
	return &TokenMetadata{Name: CleanText(name, MaxNameRunes), Symbol: CleanText(symbol, MaxSymbolRunes), URI: CleanURI(uri)}, nil
}
