//! Bytes to verdict against the serde_json parse floor, on the same bytes in the same run.
//!
//! `validate/<cell>` (see `contracts_bench::cell::CELLS`) is the headline table of
//! docs/performance.md; `family/{parse,verdict}/valid/<family>` splits valid events by family.
//! `CONTRACTS_BENCH_QUICK=1` keeps the headline cells only, with shorter sampling (bench-compare).

use contracts_bench::cell::{CELLS, FAST_CELLS, VARIANTS, Workload};
use contracts_bench::{Corpus, SEED};
use contracts_core::Registry;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn quick() -> bool {
    std::env::var_os("CONTRACTS_BENCH_QUICK").is_some()
}

fn headline(c: &mut Criterion) {
    cells(c, "validate", &CELLS);
}

/// The fast path beside the parse floor and the forced reference path, one run.
fn fastpath(c: &mut Criterion) {
    cells(c, "fastpath", &FAST_CELLS);
}

/// One criterion group of workload cells over the fixed corpus, side by side in one run.
fn cells(c: &mut Criterion, group: &str, cells: &[&str]) {
    let registry = contracts_bench::registry().expect("specs/ loads");
    let corpus = Corpus::build(&registry, SEED, VARIANTS);
    let work = Workload::new(&registry, &corpus);
    let mut g = c.benchmark_group(group);
    g.sample_size(if quick() { 20 } else { 50 });
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(if quick() { 2 } else { 4 }));
    for &cell in cells {
        let n = work.events(cell).map_or(0, <[_]>::len);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(cell, |b| b.iter(|| work.pass(cell)));
    }
    g.finish();
}

fn per_family(c: &mut Criterion) {
    if quick() {
        return;
    }
    let registry = contracts_bench::registry().expect("specs/ loads");
    let corpus = Corpus::build(&registry, SEED, VARIANTS);
    let mut g = c.benchmark_group("family");
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for family in corpus.families() {
        let events: Vec<&[u8]> = corpus
            .valid
            .iter()
            .filter(|e| e.family == family)
            .map(|e| e.bytes.as_slice())
            .collect();
        g.throughput(Throughput::Elements(events.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("parse/valid", &family),
            &events,
            |b, events| {
                b.iter(|| {
                    for bytes in events {
                        black_box(serde_json::from_slice::<serde_json::Value>(bytes).is_ok());
                    }
                });
            },
        );
        g.bench_with_input(
            BenchmarkId::new("validate/valid", &family),
            &events,
            |b, events| {
                b.iter(|| {
                    for bytes in events {
                        black_box(Registry::validate_bytes(&registry, bytes));
                    }
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, headline, fastpath, per_family);
criterion_main!(benches);
