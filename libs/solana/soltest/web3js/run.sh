#!/usr/bin/env bash
# Runs the @solana/web3.js compatibility check: builds and starts cmd/solsim on a free port,
# installs the locked npm dependencies when needed, sends and confirms a transfer with web3.js.
# Exits 0 with "SKIPPED: node not found" when node is absent.
set -euo pipefail

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node not found (web3.js compatibility test not run)"
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libs="$(cd "$here/../../.." && pwd)"

cd "$here"
if [ ! -d node_modules/@solana/web3.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$libs" && go build -o "$tmp/solsim" ./cmd/solsim)
"$tmp/solsim" -addr 127.0.0.1:0 -slot-interval 50ms >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^WS_URL=' "$tmp/out" 2>/dev/null && break
  sleep 0.1
done
RPC_URL="$(sed -n 's/^RPC_URL=//p' "$tmp/out")"
WS_URL="$(sed -n 's/^WS_URL=//p' "$tmp/out")"
if [ -z "$RPC_URL" ] || [ -z "$WS_URL" ]; then
  echo "FAIL: solsim did not start"; cat "$tmp/err"; exit 1
fi
RPC_URL="$RPC_URL" WS_URL="$WS_URL" timeout 120 node transfer.mjs
echo "web3.js compatibility: 1 passed, 0 failed"
