//! Registry build for the whole catalogue: read, meta-validate and compile every schema once.

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn registry(c: &mut Criterion) {
    let specs = contracts_bench::root().join("specs");
    let mut g = c.benchmark_group("registry");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("load", |b| {
        b.iter(|| contracts_core::Registry::load(&specs).expect("specs/ loads"));
    });
    g.finish();
}

criterion_group!(benches, registry);
criterion_main!(benches);
