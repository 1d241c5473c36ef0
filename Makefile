# The one task runner. .ci/run only calls these targets.
SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
CONTRACTS := $(TARGET_DIR)/debug/contracts
NEXTEST := $(shell command -v cargo-nextest 2>/dev/null)

.PHONY: all build validate-contracts test lint fmt docs bench bench-baseline bench-compare soak soak-fastpath fuzz

all: validate-contracts test

build:
	$(CARGO) build --quiet -p contracts-cli

## The conformance gate on this repository's own contracts.
validate-contracts: build
	$(CONTRACTS) check

## Unit, property and integration tests (cargo-nextest when present, else cargo test).
test:
ifneq ($(NEXTEST),)
	$(CARGO) nextest run --workspace $(NEXTEST_ARGS)
	$(CARGO) test --workspace --doc --quiet
else
	$(CARGO) test --workspace
endif

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

fmt:
	$(CARGO) fmt --all

## Regenerate docs/events.md from the schemas, docs/streams.md from the stream rules.
docs: build
	$(CONTRACTS) docs > docs/events.md
	$(CONTRACTS) docs --streams > docs/streams.md
include benches/bench.mk

## Long property campaign: SOAK_CASES per property and event type (4 properties), shard K/N;
## then the fast path's differential soak, FASTPATH_SOAK_EVENTS events over every type (a
## disagreement is shrunk and saved under corpus/fastpath/).
SOAK_CASES ?= 25000
SHARD ?= 1/1
FASTPATH_SOAK_EVENTS ?= 1000000
soak: soak-fastpath
	PROPTEST_CASES=$(SOAK_CASES) SOAK_SHARD=$(SHARD) $(CARGO) test --release -p contracts-core --test it properties -- --nocapture

soak-fastpath:
	FASTPATH_SOAK_EVENTS=$(FASTPATH_SOAK_EVENTS) $(CARGO) test --release -p contracts-core --test it fastpath_soak -- --ignored --nocapture

## cargo-fuzz targets, FUZZ_SECONDS each (installs cargo-fuzz if missing; RUSTC_BOOTSTRAP lets
## the stable toolchain take the sanitizer flags cargo-fuzz passes).
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	mkdir -p harness/fuzz/corpus/validate_bytes harness/fuzz/corpus/generate_valid
	for f in fixtures/events/*/*.json; do python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["event"]))' "$$f" > "harness/fuzz/corpus/validate_bytes/$$(basename $$(dirname $$f))-$$(basename $$f)"; done
	RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir harness/fuzz validate_bytes harness/fuzz/corpus/validate_bytes -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096
	RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir harness/fuzz generate_valid harness/fuzz/corpus/generate_valid -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096
