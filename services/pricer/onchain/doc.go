// Package onchain decodes the Solana account layouts the pricer reads: Pyth PriceUpdateV2 price
// accounts, SPL Token and Token-2022 mints (with the Token-2022 metadata extension), Metaplex token
// metadata and pump.fun bonding curves, and derives the PDAs where they live.
//
// Every decoder takes untrusted bytes: it checks lengths before reading, bounds every
// length-prefixed field, returns an error instead of panicking, and removes NUL padding and control
// characters from text before it leaves the package.
package onchain
