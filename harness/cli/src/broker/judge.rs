//! One broker message's verdict: the event's contract (envelope + payload, the hot path of
//! `contracts validate`) plus where it travelled: its subject must be its event type's channel.
//!
//! Invariant: a message's verdict is `Valid` only when every check, the per-key rules included,
//! found nothing; any added violation turns a valid verdict invalid (an unreadable one stays
//! unreadable: nothing else could be read from it).

use crate::broker::channels::Channels;
use contracts_core::{Registry, Status, Verdict, Violation};

/// The keyword of a message published on another subject than its event type's channel.
pub(crate) const SUBJECT_CHANNEL: &str = "subject_channel";

/// Rules over the sequence of messages, judged per message key after the contract (the
/// `check-stream` rules plug in here). `NoRules` is the monitor's today.
pub(crate) trait MessageRules {
    /// Violations of the stream rules by this message, given its contract verdict.
    fn check(&mut self, subject: &str, payload: &[u8], verdict: &Verdict) -> Vec<Violation>;
}

/// No stream rules: the contract and the subject only.
pub(crate) struct NoRules;

impl MessageRules for NoRules {
    fn check(&mut self, _: &str, _: &[u8], _: &Verdict) -> Vec<Violation> {
        Vec::new()
    }
}

/// Judges messages against the registry, the channel map and the stream rules.
pub(crate) struct Judge<'a> {
    registry: &'a Registry,
    channels: &'a Channels,
    rules: Box<dyn MessageRules + 'a>,
}

impl<'a> Judge<'a> {
    pub(crate) fn new(
        registry: &'a Registry,
        channels: &'a Channels,
        rules: Box<dyn MessageRules + 'a>,
    ) -> Self {
        Judge {
            registry,
            channels,
            rules,
        }
    }

    /// The verdict on `payload` as received on `subject`.
    pub(crate) fn judge(&mut self, subject: &str, payload: &[u8]) -> Verdict {
        let mut verdict = self.registry.validate_bytes(payload);
        let mut extra = Vec::new();
        // An unknown type already carries `unknown_event_type`; it has no channel to compare.
        if let Some(want) = verdict
            .event_type
            .as_deref()
            .and_then(|t| self.channels.subject(t))
        {
            if want != subject {
                extra.push(Violation {
                    keyword: SUBJECT_CHANNEL.to_owned(),
                    instance_path: "/event_type".to_owned(),
                    schema_path: String::new(),
                    message: format!(
                        "published on {subject}, but this event type's AsyncAPI channel is {want}"
                    ),
                });
            }
        }
        extra.extend(self.rules.check(subject, payload, &verdict));
        if !extra.is_empty() {
            verdict.violations.extend(extra);
            if verdict.status == Status::Valid {
                verdict.status = Status::Invalid;
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture_event() -> Vec<u8> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events");
        let dir = root.join("asset.discovered");
        let file = std::fs::read_dir(&dir)
            .expect("fixtures dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .find(|p| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json");
                v["valid"] == true
            })
            .expect("a valid asset.discovered fixture");
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).expect("read")).expect("json");
        serde_json::to_vec(&v["event"]).expect("bytes")
    }

    fn setup() -> (Registry, Channels) {
        let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        (
            Registry::load(&specs).expect("specs"),
            Channels::load(&specs.join("events/asyncapi.yaml")).expect("asyncapi"),
        )
    }

    #[test]
    fn a_valid_event_on_its_channel_is_valid() {
        let (registry, channels) = setup();
        let mut judge = Judge::new(&registry, &channels, Box::new(NoRules));
        let v = judge.judge("oneprotect.events.asset", &fixture_event());
        assert!(v.is_valid(), "{:?}", v.violations);
    }

    #[test]
    fn a_valid_event_on_another_channel_is_invalid_for_its_subject() {
        let (registry, channels) = setup();
        let mut judge = Judge::new(&registry, &channels, Box::new(NoRules));
        let v = judge.judge("oneprotect.events.siem", &fixture_event());
        assert_eq!(v.status, Status::Invalid);
        assert_eq!(v.violations.len(), 1, "{:?}", v.violations);
        assert_eq!(v.violations[0].keyword, SUBJECT_CHANNEL);
        assert!(v.violations[0].message.contains("oneprotect.events.asset"));
    }

    #[test]
    fn stream_rules_add_their_violations() {
        struct Always;
        impl MessageRules for Always {
            fn check(&mut self, _: &str, _: &[u8], _: &Verdict) -> Vec<Violation> {
                vec![Violation {
                    keyword: "stream_rule".into(),
                    instance_path: String::new(),
                    schema_path: String::new(),
                    message: "always".into(),
                }]
            }
        }
        let (registry, channels) = setup();
        let mut judge = Judge::new(&registry, &channels, Box::new(Always));
        let v = judge.judge("oneprotect.events.asset", &fixture_event());
        assert_eq!(v.status, Status::Invalid);
        assert_eq!(v.violations[0].keyword, "stream_rule");
    }
}
