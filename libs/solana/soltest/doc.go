// Package soltest is a Solana-compatible chain simulator for tests and local runs, in the spirit
// of net/http/httptest: NewServer starts a chain that speaks Solana's JSON-RPC (HTTP, single and
// batch) and PubSub (WebSocket) wire formats, so production clients (solana-go's rpc and rpc/ws,
// @solana/web3.js) work against it unchanged.
//
// The chain accepts real signed legacy and v0 transactions, verifies their ed25519 signatures and
// blockhash, charges fees (Config.Fee per signature plus the compute-budget priority fee) and
// executes System transfers (and transferWithSeed), SPL Token and Token-2022 Transfer and
// TransferChecked, associated-token-account Create/CreateIdempotent, Memo and ComputeBudget
// instructions. A failing instruction yields a recorded failed transaction with Solana's meta.err
// shape (e.g. {"InstructionError":[0,{"Custom":1}]}) that only pays its fee. Instructions of
// unknown programs succeed as no-ops. RelayProgramID performs transfers by CPI so that they
// appear only in meta.innerInstructions.
//
// Commitment follows Solana: a transaction is processed in the current slot, confirmed one slot
// later and finalized 32 slots later; every read honours the commitment parameter and PubSub
// notifications are sent when the transaction reaches the subscription's commitment. With
// Config.SlotInterval zero, slots advance only through Advance, which makes tests deterministic.
//
// Faults (rate limits, latency, dropped and silent sockets, skipped notifications, a lagging
// history node, fork drops, disabled subscriptions) are switched from Go through Faults and over
// HTTP under URL+"/control/". docs/simulator.md documents the methods, the control endpoint and
// measured throughput.
//
// Deviations from the brief's sketch: Faults.SetRateLimit takes a RateLimitMode, and
// "every Nth request" is the separate SetRateLimitEvery. Transfer carries To and Inner besides the
// listed fields. Additions: Account, TokenBalance, TxErr, Subscriptions (to await a client's
// subscription), Replay, Handler, AssociatedTokenAddress, FixtureAccounts and
// FixtureSignatureLists. The package must never be imported by production service code.
package soltest
