# Benchmark targets (benches/). Included by the root Makefile; never part of `make test`.
#
#   make bench            every criterion bench (HTML report in target/criterion/), then the ratio
#                         table of docs/performance.md from the medians (target/bench/criterion.json)
#   make bench-baseline   instructions per event under callgrind + quick criterion medians, saved
#                         as target/bench/baseline.json (BENCH_BASELINE=path to keep it elsewhere)
#   make bench-compare    the same, compared with the baseline: exits 1 when a cell's instructions
#                         per event grew past BENCH_THRESHOLD_PCT (default 3); writes
#                         target/bench/summary.json (bench, Ir/event, median, throughput, commit)
#   make bench-peers      ajv (Node) side by side with the Rust path on the same corpus
.PHONY: bench bench-baseline bench-compare bench-peers bench-bins

BENCH_TRACK := target/release/bench-track

bench-bins:
	$(CARGO) build --release --quiet -p contracts-bench --bins

bench: bench-bins
	$(CARGO) bench -p contracts-bench
	$(BENCH_TRACK) report

# Quick criterion medians for the summary (informative only: time is noisy on shared machines),
# then the callgrind counts that gate.
bench-baseline: bench-bins
	CONTRACTS_BENCH_QUICK=1 $(CARGO) bench --quiet -p contracts-bench --bench validate -- --noplot
	$(BENCH_TRACK) baseline

bench-compare: bench-bins
	CONTRACTS_BENCH_QUICK=1 $(CARGO) bench --quiet -p contracts-bench --bench validate -- --noplot
	$(BENCH_TRACK) compare

bench-peers: bench-bins
	bash benches/peers/run.sh
