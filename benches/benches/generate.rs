//! Generation and mutation throughput: the schema-derived generator (`contracts-gen`, through the
//! registry's event generators: envelope plus payload, oracle-checked) in valid and invalid mode,
//! and the fixture-variant corpus builder the validation benches use.

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

/// Instances per second of the generator on mid-sized schemas: the envelope with a payload.
fn engine(c: &mut Criterion) {
    let registry =
        contracts_core::Registry::load(&contracts_bench::root().join("specs")).expect("specs load");
    let generators = contracts_core::events::EventGenerators::new(&registry)
        .unwrap_or_else(|(t, e)| panic!("no generator for {t}: {e}"));
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    for name in ["alert.created", "asset.discovered", "scim.user.provisioned"] {
        let generator = generators.get(name, 1).expect("event type exists");
        g.bench_function(BenchmarkId::new("valid", name), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                black_box(
                    generator
                        .valid(&mut contracts_gen::RngSource::new(seed))
                        .is_ok(),
                )
            });
        });
        g.bench_function(BenchmarkId::new("invalid", name), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                let mut src = contracts_gen::RngSource::new(seed);
                let valid = generator.valid(&mut src).expect("valid event");
                black_box(generator.mutant(&valid, &mut src).ok().flatten().is_some())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, generate, engine);
criterion_main!(benches);
