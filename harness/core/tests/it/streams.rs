//! Stream contracts: the rule data, the fixtures, and the properties of generated streams.
//!
//! Referees: the fixtures' expectations are written from the catalogue, not from the engine; the
//! generated streams come from a reference model (`runner::streams::generate`) that reads the
//! rules on its own and shares no code with the engine that judges them.

use crate::common::{cases, root, setup};
use contracts_core::runner::streams::fixtures::{self, outcome_of_events};
use contracts_core::runner::streams::generate::{self, Family, Model, Step};
use contracts_core::runner::streams::rules::{self, RuleSet, Selector};
use contracts_core::runner::streams::run::{self, Input, Options};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

fn rule_set() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        rules::load_checked(&setup().0).expect("the stream rules load and lint clean")
    })
}

fn family(stem: &str) -> &'static Family<'static> {
    static FAMILIES: OnceLock<HashMap<String, Family<'static>>> = OnceLock::new();
    let all = FAMILIES.get_or_init(|| {
        let (registry, generators) = setup();
        rule_set()
            .files
            .iter()
            .map(|f| generate::stem(&f.rel_path))
            .filter_map(|s| Family::new(registry, generators, rule_set(), &s, 3, 0).map(|f| (s, f)))
            .collect()
    });
    all.get(stem)
        .unwrap_or_else(|| panic!("no rule file for family {stem}"))
}

#[test]
fn stream_fixtures_come_to_their_expected_rule_ids() {
    let dir = root().join("fixtures/streams");
    let all = fixtures::load_dir(&dir).expect("fixtures/streams loads");
    assert!(
        all.len() >= 2 * rule_set().files.len(),
        "at least a passing and a violating stream per family"
    );
    let failures: Vec<String> = all
        .iter()
        .filter_map(|f| {
            fixtures::replay(&setup().0, rule_set(), f)
                .map(|why| format!("{}: {why}", f.path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_rule_naming_an_unknown_event_type_or_field_is_named_by_the_lint() {
    let mut set = rule_set().clone();
    let file = &mut set.files[0];
    let rule = &mut file.file.rules[0];
    let mut bogus_type: Selector = serde_json::from_value(
        serde_json::json!({"type": "ticket.reopened", "key": "/payload/ticket_id"}),
    )
    .expect("selector");
    let mut bogus_field: Selector = serde_json::from_value(
        serde_json::json!({"type": "ticket.created", "key": "/payload/ticket_number"}),
    )
    .expect("selector");
    match &mut rule.kind {
        rules::Kind::StateMachine { events, .. }
        | rules::Kind::Counter { events, .. }
        | rules::Kind::Unique { events, .. } => {
            events.push(bogus_type.clone());
            events.push(bogus_field.clone());
        }
        rules::Kind::Reference { to, .. } => {
            bogus_type.key = Some(rules::Pointers::One("/event_id".into()));
            bogus_field.key = Some(rules::Pointers::One("/payload/ticket_number".into()));
            to.push(bogus_type);
            to.push(bogus_field);
        }
        rules::Kind::Pairing { a, .. } => {
            a.push(bogus_type);
            a.push(bogus_field);
        }
    }
    let problems = rules::lint(&setup().0, &set);
    let joined = problems.join("\n");
    assert!(
        joined.contains("unknown event type ticket.reopened"),
        "{joined}"
    );
    assert!(
        joined.contains("ticket.created has no field /payload/ticket_number"),
        "{joined}"
    );
    assert!(
        problems
            .iter()
            .all(|p| p.starts_with(&format!("specs/{}", set.files[0].rel_path))),
        "{joined}"
    );
    assert!(
        rules::lint(&setup().0, rule_set()).is_empty(),
        "the repository's rules lint clean"
    );
}

#[test]
fn finished_keys_leave_and_memory_follows_live_keys_not_stream_length() {
    // 4,000 steps over 3 tickets per tenant: tickets close and their slots take new tickets, so
    // the live state stays near the slot count while the stream grows.
    let fam = family("ticket-delivery");
    let mut model = fam.start();
    for s in generate::seeded_steps(7, 1500) {
        fam.step(&mut model, s);
    }
    let mut bytes = Vec::new();
    for e in &model.events {
        bytes.extend_from_slice(e.to_string().as_bytes());
        bytes.push(b'\n');
    }
    let input = Input {
        name: "gen".into(),
        reader: Box::new(std::io::Cursor::new(bytes)),
    };
    // A 60 s window: each delivery is over within it, so only live deliveries and the last
    // minute's identities are held.
    let opts = Options {
        window_ms: 60_000,
        merge: false,
    };
    let summary =
        run::run(&setup().0, rule_set(), vec![input], opts, &mut |_| Ok(())).expect("runs");
    assert_eq!(summary.violations, 0, "{summary:?}");
    assert_eq!(
        summary.events,
        summary.ok + summary.violated + summary.duplicate + summary.invalid + summary.unreadable
    );
    assert!(
        model.events.len() > 1000,
        "generated {}",
        model.events.len()
    );
    // Per event the engine keeps ~4 entries (R2 digest, two R3 targets, the key) for 60 s; the
    // stream advances ~2 s per event, so ~30 events' worth, plus 6 live deliveries.
    assert!(
        summary.peak_live < 400,
        "peak live entries {} for {} events",
        summary.peak_live,
        model.events.len()
    );
}

/// The reference state machine of one family, for proptest-state-machine.
macro_rules! family_machine {
    ($name:ident, $stem:literal) => {
        struct $name;
        impl ReferenceStateMachine for $name {
            type State = Model;
            type Transition = Step;
            fn init_state() -> BoxedStrategy<Model> {
                Just(family($stem).start()).boxed()
            }
            fn transitions(_state: &Model) -> BoxedStrategy<Step> {
                (
                    any::<u8>(),
                    any::<u8>(),
                    any::<u8>(),
                    any::<u16>(),
                    any::<u32>(),
                )
                    .prop_map(|(tenant, driver, slot, pick, entropy)| Step {
                        tenant,
                        driver,
                        slot,
                        pick,
                        entropy,
                    })
                    .boxed()
            }
            fn apply(mut state: Model, t: &Step) -> Model {
                family($stem).step(&mut state, *t);
                state
            }
        }
    };
}

/// Tell proptest-state-machine the test applied every transition (it shrinks unseen ones first).
fn saw_all(seen: Option<&std::sync::Arc<std::sync::atomic::AtomicUsize>>, n: usize) {
    if let Some(c) = seen {
        c.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Render the transitions from the start.
fn render(stem: &str, steps: &[Step]) -> Model {
    let fam = family(stem);
    let mut m = fam.start();
    for s in steps {
        fam.step(&mut m, *s);
    }
    m
}

fn violations(events: &[serde_json::Value]) -> BTreeSet<String> {
    outcome_of_events(&setup().0, rule_set(), events).violations
}

/// Valid streams pass; each mutant violates exactly its aimed rule.
fn family_properties<M: ReferenceStateMachine<State = Model, Transition = Step>>(
    stem: &'static str,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases(6),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&M::sequential_strategy(4..36), |(_, steps, seen)| {
        saw_all(seen.as_ref(), steps.len());
        let model = render(stem, &steps);
        let got = violations(&model.events);
        prop_assert!(
            got.is_empty(),
            "valid stream of {} events violates {got:?}",
            model.events.len()
        );
        for m in family(stem).mutants(&model) {
            let got = violations(&m.events);
            prop_assert_eq!(
                &got,
                &BTreeSet::from([m.aimed.clone()]),
                "mutant `{}` aimed at {}",
                m.operator,
                m.aimed
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{stem}: {e}");
    }
}

family_machine!(TicketModel, "ticket");
family_machine!(DeliveryModel, "ticket-delivery");
family_machine!(SshModel, "browser-ssh");
family_machine!(ComplianceModel, "compliance");
family_machine!(ScimModel, "scim");
family_machine!(AssetModel, "asset");
family_machine!(AgentModel, "agent-identity");
family_machine!(DiscoveryModel, "discovery-authorization");
family_machine!(ExportModel, "auditor-export");
family_machine!(MacosModel, "macos-intune");

#[test]
fn stream_properties_ticket() {
    family_properties::<TicketModel>("ticket");
}
#[test]
fn stream_properties_ticket_delivery() {
    family_properties::<DeliveryModel>("ticket-delivery");
}
#[test]
fn stream_properties_browser_ssh() {
    family_properties::<SshModel>("browser-ssh");
}
#[test]
fn stream_properties_compliance() {
    family_properties::<ComplianceModel>("compliance");
}
#[test]
fn stream_properties_scim() {
    family_properties::<ScimModel>("scim");
}
#[test]
fn stream_properties_asset() {
    family_properties::<AssetModel>("asset");
}
#[test]
fn stream_properties_agent_identity() {
    family_properties::<AgentModel>("agent-identity");
}
#[test]
fn stream_properties_discovery_authorization() {
    family_properties::<DiscoveryModel>("discovery-authorization");
}
#[test]
fn stream_properties_auditor_export() {
    family_properties::<ExportModel>("auditor-export");
}
#[test]
fn stream_properties_macos_intune() {
    family_properties::<MacosModel>("macos-intune");
}

/// A property that fails as soon as a stream offers a mutant aimed at `aimed` ("this mutant is
/// accepted"); proptest-state-machine then shrinks the steps, and the stream it ends with is the
/// handful of events that show the violation.
fn shrunk_size<M: ReferenceStateMachine<State = Model, Transition = Step>>(
    stem: &'static str,
    aimed: &str,
) -> (usize, usize) {
    // A fixed RNG: the sizes asserted are those of one reproducible shrink, not of a random one.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let first = std::cell::Cell::new(0usize);
    let result = runner.run(&M::sequential_strategy(20..40), |(_, steps, seen)| {
        saw_all(seen.as_ref(), steps.len());
        let model = render(stem, &steps);
        if let Some(m) = family(stem)
            .mutants(&model)
            .into_iter()
            .find(|m| m.aimed == aimed)
        {
            if first.get() == 0 {
                first.set(m.events.len());
            }
            prop_assert!(
                violations(&m.events).is_empty(),
                "{} mutant of {} events is rejected",
                m.operator,
                m.events.len()
            );
        }
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, (_, steps, _))) => {
            let model = render(stem, &steps);
            let m = family(stem)
                .mutants(&model)
                .into_iter()
                .find(|m| m.aimed == aimed)
                .expect("the shrunk stream still has the mutant");
            (first.get(), m.events.len())
        }
        other => panic!("expected the property to fail and shrink, got {other:?}"),
    }
}

#[test]
fn shrinking_reduces_a_failing_stream_to_the_events_that_show_it() {
    for (stem, aimed, at_most) in [
        // created, a status change into closed or canceled, the copy after it: 3 to 5 events.
        ("ticket", "ticket.lifecycle", 6),
        // queued, two retries (the gap needs a predecessor), the terminal event.
        ("ticket-delivery", "delivery.attempt-contiguous", 6),
    ] {
        let (before, after) = match stem {
            "ticket" => shrunk_size::<TicketModel>(stem, aimed),
            _ => shrunk_size::<DeliveryModel>(stem, aimed),
        };
        eprintln!("{stem}/{aimed}: first failing stream {before} events, shrunk to {after}");
        assert!(
            after <= at_most,
            "{stem}/{aimed}: shrunk to {after} events (first failure had {before})"
        );
        assert!(
            after < before,
            "{stem}/{aimed}: shrinking did not reduce {before} events"
        );
    }
}

#[test]
fn same_seed_same_stream() {
    let a = render("browser-ssh", &generate::seeded_steps(42, 30)).events;
    let b = render("browser-ssh", &generate::seeded_steps(42, 30)).events;
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

/// docs/streams.md's property results are what the fixed-seed run gives today.
#[test]
fn stream_docs_results_are_current() {
    let (registry, generators) = setup();
    let want = generate::docs_markdown(registry, generators, rule_set());
    let got = std::fs::read_to_string(root().join("docs/streams.md")).expect("docs/streams.md");
    assert!(got == want, "docs/streams.md is stale: run `make docs`");
}
