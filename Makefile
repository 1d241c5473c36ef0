# The one task runner. .ci/run only calls these targets.
SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
CONTRACTS := $(TARGET_DIR)/debug/contracts
NEXTEST := $(shell command -v cargo-nextest 2>/dev/null)

.PHONY: all build validate-contracts test lint fmt docs bench bench-baseline bench-compare soak soak-fastpath soak-bytes fuzz

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
BYTE_EDIT_SOAK_EVENTS ?= 1000000
soak: soak-fastpath soak-bytes
	PROPTEST_CASES=$(SOAK_CASES) SOAK_SHARD=$(SHARD) $(CARGO) test --release -p contracts-core --test it properties -- --nocapture

soak-fastpath:
	FASTPATH_SOAK_EVENTS=$(FASTPATH_SOAK_EVENTS) $(CARGO) test --release -p contracts-core --test it fastpath_soak -- --ignored --nocapture

## Byte edits of every valid fixture (one to four bytes, rotated members, a repeated member):
## the default path and the reference path agree on BYTE_EDIT_SOAK_EVENTS events; a disagreement
## is kept under corpus/fuzz/differential/.
soak-bytes:
	BYTE_EDIT_SOAK_EVENTS=$(BYTE_EDIT_SOAK_EVENTS) $(CARGO) test --release -p contracts-core --test it byte_edit_soak -- --ignored --nocapture

## cargo-fuzz targets, FUZZ_SECONDS each (installs cargo-fuzz if missing; RUSTC_BOOTSTRAP lets
## the stable toolchain take the sanitizer flags cargo-fuzz passes). Seeds: every fixture event,
## compact and pretty, and the kept findings. A finding (a crash or a disagreement between the
## default and the reference path) is copied to corpus/fuzz/<target>/, which `make test` replays.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= differential validate_bytes generate_valid
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	mkdir -p harness/fuzz/corpus/differential harness/fuzz/corpus/validate_bytes harness/fuzz/corpus/generate_valid
	python3 -c 'import glob,json,os,shutil; \
	  [(open(f"harness/fuzz/corpus/differential/{n}","w").write(json.dumps(e,separators=(",",":"))), \
	    open(f"harness/fuzz/corpus/differential/{n}-pretty","w").write(json.dumps(e,indent=2)), \
	    shutil.copy(f"harness/fuzz/corpus/differential/{n}","harness/fuzz/corpus/validate_bytes/")) \
	   for p in sorted(glob.glob("fixtures/events/*/*.json")) \
	   for n, e in [(os.path.basename(os.path.dirname(p)) + "-" + os.path.basename(p)[:-5], json.load(open(p))["event"])]]'
	cp corpus/fuzz/differential/* harness/fuzz/corpus/differential/ 2>/dev/null || true
	for t in $(FUZZ_TARGETS); do \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir harness/fuzz $$t harness/fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 \
	  || { mkdir -p corpus/fuzz/$$t; cp harness/fuzz/artifacts/$$t/* corpus/fuzz/$$t/; \
	       echo "fuzz: $$t found a failure, kept under corpus/fuzz/$$t/ (make test replays it)"; exit 1; }; \
	done
