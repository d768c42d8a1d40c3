#!/usr/bin/env bash
# make test: formatting, vet, every module's tests with -race, and the web3.js compatibility check.
# Postgres: uses TEST_DATABASE_URL or the local server; when none answers, starts a private
# throwaway server from the installed PostgreSQL binaries (see scripts/ensure-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=(libs services/campaign services/indexer services/pricer services/gateway tools)

source scripts/ensure-postgres.sh

echo "== gofmt"
out=$(gofmt -l "${MODULES[@]}")
if [ -n "$out" ]; then echo "gofmt needed:"; echo "$out"; exit 1; fi

echo "== go vet"
for m in "${MODULES[@]}"; do (cd "$m" && go vet ./...); done

echo "== go test -race"
status=0
for m in "${MODULES[@]}"; do
  echo "-- $m"
  (cd "$m" && go test -race -count=1 -timeout 20m ./...) || status=1
done

echo "== web3.js compatibility"
bash libs/solana/soltest/web3js/run.sh || status=1

if [ $status -ne 0 ]; then echo "FAILED"; exit 1; fi
echo "all tests passed"
