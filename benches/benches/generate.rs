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

/// The event types of each family (the first segment of the event type: `alert`, `scim`, ...).
fn families(
    generators: &contracts_core::events::EventGenerators,
) -> Vec<(String, Vec<&contracts_core::events::EventGenerator>)> {
    let mut by: std::collections::BTreeMap<String, Vec<_>> = std::collections::BTreeMap::new();
    for g in generators.all() {
        let family = g.event_type().split('.').next().unwrap_or("").to_owned();
        by.entry(family).or_default().push(g);
    }
    by.into_iter().collect()
}

/// Valid events and mutants per second for every family of the catalogue: one element is one
/// event (round-robin over the family's types), a mutant counts the valid event it is made from.
fn catalogue(c: &mut Criterion) {
    let registry =
        contracts_core::Registry::load(&contracts_bench::root().join("specs")).expect("specs load");
    let generators = contracts_core::events::EventGenerators::new(&registry)
        .unwrap_or_else(|(t, e)| panic!("no generator for {t}: {e}"));
    let mut g = c.benchmark_group("catalogue");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1));
    for (family, members) in families(&generators) {
        g.bench_function(BenchmarkId::new("valid", &family), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                let eg = members[usize::try_from(seed).unwrap_or(0) % members.len()];
                black_box(eg.valid(&mut contracts_gen::RngSource::new(seed)).is_ok())
            });
        });
        g.bench_function(BenchmarkId::new("mutant", &family), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                let eg = members[usize::try_from(seed).unwrap_or(0) % members.len()];
                let mut src = contracts_gen::RngSource::new(seed);
                let valid = eg.valid(&mut src).expect("valid event");
                black_box(eg.mutant(&valid, &mut src).ok().flatten().is_some())
            });
        });
    }
    g.finish();
}

/// Large public schemas (benches/schemas/, see its README): valid instances and mutants per
/// second, each mutant including the valid instance it is made from.
fn public(c: &mut Criterion) {
    let mut g = c.benchmark_group("public");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    for name in [
        "github-webhook-pull_request-opened",
        "github-webhook-workflow_run-completed",
        "asyncapi-2.5.0",
    ] {
        let path = contracts_bench::root()
            .join("benches/schemas")
            .join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).expect("benchmark schema readable");
        let schema: serde_json::Value =
            serde_json::from_str(&text).expect("benchmark schema parses");
        let opts = contracts_gen::GenOptions {
            default_draft: contracts_gen::Draft::Draft7,
            ..contracts_gen::GenOptions::default()
        };
        let generator =
            contracts_gen::Generator::new(&schema, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        g.bench_function(BenchmarkId::new("valid", name), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                black_box(
                    generator
                        .generate(&mut contracts_gen::RngSource::new(seed))
                        .is_ok(),
                )
            });
        });
        g.bench_function(BenchmarkId::new("mutant", name), |b| {
            let mut seed = SEED;
            b.iter(|| {
                seed += 1;
                let mut src = contracts_gen::RngSource::new(seed);
                let valid = generator.generate(&mut src).expect("valid instance");
                black_box(generator.mutate(&valid, &mut src).ok().flatten().is_some())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, generate, engine, catalogue, public);
criterion_main!(benches);
