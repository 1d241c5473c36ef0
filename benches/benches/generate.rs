//! Generation and mutation throughput of the corpus builder (per event).
//!
//! `contracts_gen::Generator` is not usable yet; when it lands, its cells join this file as
//! `generate/valid/<family>` beside the fixture-variant ones.

use contracts_bench::corpus::{Mutation, fresh_ids, mutate};
use contracts_bench::{Rng, SEED};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn generate(c: &mut Criterion) {
    let fixtures =
        contracts_core::fixtures::load_dir(&contracts_bench::root().join("fixtures/events"))
            .expect("fixtures load");
    let valid: Vec<serde_json::Value> = fixtures
        .iter()
        .filter(|f| f.fixture.valid)
        .map(|f| f.fixture.event.clone())
        .collect();
    let mut g = c.benchmark_group("generate");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(valid.len() as u64));
    g.bench_function("variant", |b| {
        let mut rng = Rng::new(SEED);
        b.iter(|| {
            for event in &valid {
                let mut e = event.clone();
                fresh_ids(&mut e, &mut rng);
                black_box(serde_json::to_vec(&e).is_ok());
            }
        });
    });
    for (name, kind) in [
        ("drop_member", Mutation::DropMember),
        ("wrong_type", Mutation::WrongType),
        ("bad_format", Mutation::BadFormat),
        ("persistence", Mutation::Persistence),
        ("extra_member", Mutation::ExtraMember),
        ("bad_pattern", Mutation::BadPattern),
    ] {
        g.bench_function(BenchmarkId::new("mutate", name), |b| {
            let mut rng = Rng::new(SEED);
            b.iter(|| {
                for event in &valid {
                    let mut e = event.clone();
                    mutate(&mut e, kind, &mut rng);
                    black_box(serde_json::to_vec(&e).is_ok());
                }
            });
        });
    }
    g.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
