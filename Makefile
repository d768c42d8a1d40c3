# The two commands: `make run` starts the whole backend on this machine; `make test` runs everything.
SHELL := /bin/bash
MODULES := libs services/campaign services/indexer services/pricer services/gateway tools
SERVICES := campaign indexer pricer gateway
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Shared with every Dockerfile: a test checks that they build the same way.
GO_BUILD_FLAGS := -trimpath -ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)"

.PHONY: run test build bench fuzz lint check-format vet test-go test-web3js clean

## run: the whole backend on this machine (embedded NATS, local Postgres, simulator unless SOLANA_RPC_URL is set)
run:
	@mkdir -p bin
	@go build -o bin/devstack ./tools/devstack
	@./bin/devstack

## test: every module's tests with -race, gofmt and go vet, and the web3.js compatibility check
test:
	@bash scripts/test.sh

## build: static binaries of the four services into bin/, stamped with version and commit
build:
	@mkdir -p bin
	@for s in $(SERVICES); do \
		echo "build bin/$$s"; \
		CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o bin/$$s ./services/$$s/cmd/$$s || exit 1; \
	done

## bench: the benchmark tool (long; not part of make test)
bench:
	go run ./tools/bench all

## fuzz: run every fuzz target for FUZZTIME (default 30s) each
fuzz:
	@bash scripts/fuzz.sh $${FUZZTIME:-30s}

lint: check-format vet

check-format:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do (cd $$m && go vet ./...) || exit 1; done

clean:
	rm -rf bin .data .pgtmp
