# The one task runner. .ci/run only calls these targets.
SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
CONTRACTS := $(TARGET_DIR)/debug/contracts
NEXTEST := $(shell command -v cargo-nextest 2>/dev/null)

.PHONY: all build validate-contracts test lint fmt docs bench bench-baseline bench-compare soak fuzz

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

## Regenerate docs/events.md from the schemas.
docs: build
	$(CONTRACTS) docs > docs/events.md
include benches/bench.mk
