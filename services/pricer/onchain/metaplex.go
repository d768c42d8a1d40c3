package onchain

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// MetaplexProgram is the Metaplex Token Metadata program.
var MetaplexProgram = solana.MustPublicKeyFromBase58("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s")

const metaplexKeyMetadataV1 = 4

// MetadataPDA is the Metaplex metadata account of mint: PDA(["metadata", program, mint], program).
func MetadataPDA(mint solana.PublicKey) (solana.PublicKey, error) {
	pk, _, err := solana.FindProgramAddress([][]byte{[]byte("metadata"), MetaplexProgram[:], mint[:]}, MetaplexProgram)
	return pk, err
}

// MetaplexMetadata is the part of a Metaplex metadata account the pricer uses.
type MetaplexMetadata struct {
	UpdateAuthority solana.PublicKey
	Mint            solana.PublicKey
	TokenMetadata
}

// DecodeMetaplexMetadata decodes a Metaplex MetadataV1 account: key (u8 = 4), update authority,
// mint, then name, symbol and uri as Borsh strings that Metaplex stores NUL-padded to fixed widths
// (32, 10, 200). Padding and control characters are removed.
func DecodeMetaplexMetadata(data []byte) (MetaplexMetadata, error) {
	var m MetaplexMetadata
	r := reader{b: data}
	if key := r.u8(); r.err == nil && key != metaplexKeyMetadataV1 {
		return m, fmt.Errorf("metaplex: account key %d is not MetadataV1", key)
	}
	copy(m.UpdateAuthority[:], r.bytes(32))
	copy(m.Mint[:], r.bytes(32))
	// The limits are generous multiples of Metaplex's own maxima; they only stop a hostile
	// length prefix from making us copy the whole account.
	name := r.str(4 * 32)
	symbol := r.str(4 * 10)
	uri := r.str(4 * 200)
	if r.err != nil {
		return MetaplexMetadata{}, fmt.Errorf("metaplex: %w", r.err)
	}
	m.Name = CleanText(name, MaxNameRunes)
	m.Symbol = CleanText(symbol, MaxSymbolRunes)
	m.URI = CleanURI(uri)
	return m, nil
}
