# Benchmark targets (owned by the performance work).
.PHONY: bench
bench:
	$(CARGO) bench -p contracts-bench
