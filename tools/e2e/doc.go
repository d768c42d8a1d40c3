// Package e2e holds the end-to-end tests of the whole backend. They build the four service
// binaries once (with the flags `make build` uses) and run each as its own process against a real
// NATS server (embedded in the test process), a fresh database on a real PostgreSQL server and
// the chain simulator, then drive them only through their public faces: the REST API, the
// WebSocket and the chain. Faults (kill -9, NATS restarts, terminated database connections,
// dropped and silent Solana sockets, 429 storms) are injected while payments flow, and every test
// ends by comparing the ledger with the simulator's chain truth.
//
// Run it with `cd tools && go test -race -count=1 ./e2e/` (make test does). Each service's output
// is printed when a test fails; set E2E_LOG_DIR to keep every log in that directory. -short skips
// them all (and the build).
package e2e
