//! The contracts a program's answer is held to: one reply in, at most one finding out.
//!
//! Consumer (docs/protocols.md §1): a valid event must be accepted; in strict mode an invalid one
//! must be rejected. Processor (§2): the same for its input, and every emitted event must be valid
//! and keep the input's `tenant_id` and `correlation_id`, with `causation_id` = the input's
//! `event_id` (catalogue §2.4). For everyone: no crash, no hang, no 5xx, no protocol error.

use super::transport::Reply;
use crate::registry::Registry;
use serde::Serialize;
use serde_json::Value;

/// What kind of program is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes an event, answers accept or reject.
    Consumer,
    /// Takes an event, answers the events it emits (or reject).
    Processor,
}

/// How invalid input is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// An invalid event must be rejected.
    Strict,
    /// An invalid event may be accepted (what a processor emits is still checked).
    Tolerant,
}

/// The kinds of contract failure. The kebab-case spelling is stable output (API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A valid event was rejected.
    RejectedValid,
    /// An invalid event was accepted (strict mode).
    AcceptedInvalid,
    /// The program died, the connection failed, or it answered 5xx.
    Crash,
    /// No answer within the timeout.
    Timeout,
    /// The answer does not follow the wire protocol.
    ProtocolError,
    /// A processor emitted an event that is not valid.
    InvalidOutput,
    /// A processor emitted an event for another tenant: a security failure.
    TenantCrossed,
    /// A processor emitted an event whose correlation_id or causation_id does not chain to its input.
    BrokenLineage,
}

impl Kind {
    /// The stable spelling (`rejected-valid`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RejectedValid => "rejected-valid",
            Kind::AcceptedInvalid => "accepted-invalid",
            Kind::Crash => "crash",
            Kind::Timeout => "timeout",
            Kind::ProtocolError => "protocol-error",
            Kind::InvalidOutput => "invalid-output",
            Kind::TenantCrossed => "tenant-crossed",
            Kind::BrokenLineage => "broken-lineage",
        }
    }

    /// Whether the failure is a security one (reported as such).
    #[must_use]
    pub fn is_security(self) -> bool {
        self == Kind::TenantCrossed
    }

    /// Whether the program broke down (as opposed to answering wrongly).
    #[must_use]
    pub fn is_breakdown(self) -> bool {
        matches!(self, Kind::Crash | Kind::Timeout)
    }
}

/// What the input event is, as the registry (the referee) judged it, and what it was aimed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Aim {
    /// The keyword the mutation breaks (JSON Schema keyword or a harness rule).
    pub keyword: String,
    /// Where, as an RFC 6901 pointer.
    pub instance_path: String,
    /// How the mutation was made (`add_forbidden`, `persistence_field`, ...).
    pub class: String,
}

/// One contract failure seen in one reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The kind.
    pub kind: Kind,
    /// The keyword involved: the mutation's (accepted-invalid) or the emitted event's first
    /// violation (invalid-output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Where: the mutation's path, or the path in the emitted event, or the lineage field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_path: Option<String>,
    /// Human detail: the reject reason, the exit status and stderr tail, the bad answer.
    pub detail: String,
}

impl Finding {
    fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Finding {
            kind,
            keyword: None,
            instance_path: None,
            detail: detail.into(),
        }
    }

    /// What makes two findings "the same bug" for shrinking and de-duplication: the kind, plus
    /// the keyword for accepted-invalid and invalid-output, plus the field for broken-lineage.
    #[must_use]
    pub fn signature(&self) -> String {
        match self.kind {
            Kind::AcceptedInvalid | Kind::InvalidOutput => {
                format!(
                    "{} {}",
                    self.kind.as_str(),
                    self.keyword.as_deref().unwrap_or("")
                )
            }
            Kind::BrokenLineage => format!(
                "{} {}",
                self.kind.as_str(),
                self.instance_path.as_deref().unwrap_or("")
            ),
            Kind::RejectedValid
            | Kind::Crash
            | Kind::Timeout
            | Kind::ProtocolError
            | Kind::TenantCrossed => self.kind.as_str().to_owned(),
        }
    }
}

/// Longest excerpt of a bad answer quoted in a finding.
const EXCERPT: usize = 200;

fn excerpt(s: &str) -> String {
    if s.len() <= EXCERPT {
        return s.to_owned();
    }
    let mut end = EXCERPT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// A reply reduced to what the protocol allows.
enum Answer {
    Accept,
    Reject(String),
    Emitted(Vec<Value>),
}

fn parse_consumer(reply: &Reply) -> Result<Answer, Finding> {
    match reply {
        Reply::Line(line) => {
            let line = line.trim_end();
            if line == "accept" {
                Ok(Answer::Accept)
            } else if line == "reject" {
                Ok(Answer::Reject(String::new()))
            } else if let Some(why) = line.strip_prefix("reject ") {
                Ok(Answer::Reject(why.to_owned()))
            } else {
                Err(Finding::new(
                    Kind::ProtocolError,
                    format!(
                        "expected `accept` or `reject <reason>`, got {:?}",
                        excerpt(line)
                    ),
                ))
            }
        }
        Reply::Http { status, body } => match status {
            200..=299 => Ok(Answer::Accept),
            400..=499 => Ok(Answer::Reject(format!(
                "HTTP {status}: {}",
                excerpt(body.trim())
            ))),
            _ => http_breakdown(*status, body),
        },
        Reply::Timeout | Reply::Crash(_) | Reply::Surplus(_) => Err(breakdown(reply)),
    }
}

fn parse_processor(reply: &Reply) -> Result<Answer, Finding> {
    let array = |text: &str, what: &str| -> Result<Answer, Finding> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(events)) => Ok(Answer::Emitted(events)),
            Ok(_) | Err(_) => Err(Finding::new(
                Kind::ProtocolError,
                format!("expected {what}, got {:?}", excerpt(text)),
            )),
        }
    };
    match reply {
        Reply::Line(line) => {
            if line == "reject" {
                Ok(Answer::Reject(String::new()))
            } else if let Some(why) = line.strip_prefix("reject ") {
                Ok(Answer::Reject(why.to_owned()))
            } else {
                array(line, "a JSON array of emitted events or `reject <reason>`")
            }
        }
        Reply::Http { status, body } => match status {
            200..=299 => array(body, "a JSON array of emitted events as the body"),
            400..=499 => Ok(Answer::Reject(format!(
                "HTTP {status}: {}",
                excerpt(body.trim())
            ))),
            _ => http_breakdown(*status, body),
        },
        Reply::Timeout | Reply::Crash(_) | Reply::Surplus(_) => Err(breakdown(reply)),
    }
}

fn http_breakdown(status: u16, body: &str) -> Result<Answer, Finding> {
    let kind = if status >= 500 {
        Kind::Crash
    } else {
        Kind::ProtocolError
    };
    Err(Finding::new(
        kind,
        format!("answered HTTP {status}: {}", excerpt(body.trim())),
    ))
}

fn breakdown(reply: &Reply) -> Finding {
    match reply {
        Reply::Timeout => Finding::new(Kind::Timeout, "no answer within the timeout; killed"),
        Reply::Crash(how) => Finding::new(Kind::Crash, how.clone()),
        Reply::Surplus(line) => Finding::new(
            Kind::ProtocolError,
            format!(
                "an extra answer line {:?} was waiting before this event was sent: an earlier \
                 event was answered more than once (the program was restarted)",
                excerpt(line)
            ),
        ),
        Reply::Line(_) | Reply::Http { .. } => {
            Finding::new(Kind::ProtocolError, "unexpected reply")
        }
    }
}

/// Judge one reply to one input event. `aim` is `None` for a valid input (the registry's
/// verdict), and names the mutation for an invalid one. `None` means the contract held.
#[must_use]
pub fn judge(
    registry: &Registry,
    role: Role,
    mode: Mode,
    input: &Value,
    aim: Option<&Aim>,
    reply: &Reply,
) -> Option<Finding> {
    let answer = match role {
        Role::Consumer => parse_consumer(reply),
        Role::Processor => parse_processor(reply),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(f) => return Some(f),
    };
    match (aim, answer) {
        (None, Answer::Reject(why)) => Some(Finding::new(
            Kind::RejectedValid,
            format!("rejected a valid event: {}", excerpt(&why)),
        )),
        (Some(aim), Answer::Accept) if mode == Mode::Strict => {
            Some(accepted_invalid(aim, "accepted"))
        }
        (Some(aim), Answer::Emitted(_)) if mode == Mode::Strict => {
            Some(accepted_invalid(aim, "processed"))
        }
        (_, Answer::Emitted(events)) => check_emitted(registry, input, &events),
        (_, Answer::Accept | Answer::Reject(_)) => None,
    }
}

fn accepted_invalid(aim: &Aim, verb: &str) -> Finding {
    Finding {
        kind: Kind::AcceptedInvalid,
        keyword: Some(aim.keyword.clone()),
        instance_path: Some(aim.instance_path.clone()),
        detail: format!(
            "{verb} an event that breaks `{}` at {}",
            aim.keyword,
            if aim.instance_path.is_empty() {
                "/"
            } else {
                &aim.instance_path
            }
        ),
    }
}

/// Every emitted event: valid, same tenant, and chained to its input. The worst problem wins:
/// a crossed tenant first (security), then an invalid event, then broken lineage.
fn check_emitted(registry: &Registry, input: &Value, events: &[Value]) -> Option<Finding> {
    let field = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut worst: Option<(u8, Finding)> = None;
    let mut keep = |rank: u8, f: Finding| {
        if worst.as_ref().is_none_or(|(r, _)| rank < *r) {
            worst = Some((rank, f));
        }
    };
    for (i, out) in events.iter().enumerate() {
        if !out.is_object() {
            keep(
                1,
                Finding::new(
                    Kind::ProtocolError,
                    format!("emitted item {i} is not a JSON object"),
                ),
            );
            continue;
        }
        if let Some(tenant) = field(input, "tenant_id") {
            let got = field(out, "tenant_id");
            if got.as_deref() != Some(tenant.as_str()) {
                keep(
                    0,
                    Finding {
                        kind: Kind::TenantCrossed,
                        keyword: None,
                        instance_path: Some("/tenant_id".into()),
                        detail: format!(
                            "SECURITY: emitted event {i} has tenant_id {} but its input belongs to tenant {tenant}",
                            got.unwrap_or_else(|| "(missing)".to_owned())
                        ),
                    },
                );
            }
        }
        let verdict = registry.validate_value(out);
        if let Some(v) = verdict.violations.first() {
            keep(
                2,
                Finding {
                    kind: Kind::InvalidOutput,
                    keyword: Some(v.keyword.clone()),
                    instance_path: Some(v.instance_path.clone()),
                    detail: format!(
                        "emitted event {i} ({}) is invalid: {} at {}: {}",
                        verdict.event_type.as_deref().unwrap_or("no event_type"),
                        v.keyword,
                        if v.instance_path.is_empty() {
                            "/"
                        } else {
                            &v.instance_path
                        },
                        v.message
                    ),
                },
            );
        }
        for (name, want) in [
            ("correlation_id", field(input, "correlation_id")),
            ("causation_id", field(input, "event_id")),
        ] {
            let Some(want) = want else { continue };
            let got = out.get(name);
            if got.and_then(Value::as_str) != Some(want.as_str()) {
                let source = if name == "causation_id" {
                    "event_id"
                } else {
                    name
                };
                keep(
                    3,
                    Finding {
                        kind: Kind::BrokenLineage,
                        keyword: None,
                        instance_path: Some(format!("/{name}")),
                        detail: format!(
                            "emitted event {i} has {name} {} but must carry the input's {source} {want}",
                            got.map_or_else(|| "(missing)".to_owned(), Value::to_string)
                        ),
                    },
                );
            }
        }
    }
    worst.map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn aim() -> Aim {
        Aim {
            keyword: "persistence_metadata".into(),
            instance_path: "/received_at".into(),
            class: "persistence_field".into(),
        }
    }

    fn registry() -> Registry {
        Registry::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs"))
            .expect("specs load")
    }

    #[rstest]
    // A valid event accepted: the contract held.
    #[case::valid_accepted(false, Mode::Strict, Reply::Line("accept".into()), None)]
    // A valid event rejected.
    #[case::valid_rejected(false, Mode::Strict, Reply::Line("reject nope".into()), Some(Kind::RejectedValid))]
    // An invalid event accepted in strict mode.
    #[case::invalid_accepted(true, Mode::Strict, Reply::Line("accept".into()), Some(Kind::AcceptedInvalid))]
    // ... which tolerant mode allows.
    #[case::invalid_tolerated(true, Mode::Tolerant, Reply::Line("accept".into()), None)]
    // Anything but accept/reject is a protocol error.
    #[case::gibberish(false, Mode::Strict, Reply::Line("ok".into()), Some(Kind::ProtocolError))]
    // HTTP: 2xx accepts, 4xx rejects, 5xx is a crash, 3xx a protocol error.
    #[case::http_2xx(false, Mode::Strict, Reply::Http { status: 204, body: String::new() }, None)]
    #[case::http_4xx(true, Mode::Strict, Reply::Http { status: 422, body: String::new() }, None)]
    #[case::http_5xx(false, Mode::Strict, Reply::Http { status: 500, body: String::new() }, Some(Kind::Crash))]
    #[case::http_3xx(false, Mode::Strict, Reply::Http { status: 302, body: String::new() }, Some(Kind::ProtocolError))]
    #[case::timeout(false, Mode::Strict, Reply::Timeout, Some(Kind::Timeout))]
    fn consumer_replies_are_judged(
        #[case] invalid: bool,
        #[case] mode: Mode,
        #[case] reply: Reply,
        #[case] want: Option<Kind>,
    ) {
        let r = registry();
        let a = aim();
        let got = judge(
            &r,
            Role::Consumer,
            mode,
            &Value::Null,
            invalid.then_some(&a),
            &reply,
        );
        assert_eq!(got.map(|f| f.kind), want);
    }

    #[test]
    fn processor_lineage_and_tenant_are_checked() {
        let r = registry();
        let input = serde_json::json!({"event_id": "e", "tenant_id": "t", "correlation_id": "c"});
        let emitted = |tenant: &str, cause: Value| {
            Reply::Line(
                serde_json::json!([{"tenant_id": tenant, "correlation_id": "c", "causation_id": cause}])
                    .to_string(),
            )
        };
        let crossed = judge(
            &r,
            Role::Processor,
            Mode::Strict,
            &input,
            None,
            &emitted("u", "e".into()),
        );
        assert_eq!(crossed.map(|f| f.kind), Some(Kind::TenantCrossed));
        let dropped = judge(
            &r,
            Role::Processor,
            Mode::Strict,
            &input,
            None,
            &emitted("t", Value::Null),
        );
        // The emitted event is also invalid (it is no real event): invalid-output outranks lineage.
        assert_eq!(dropped.map(|f| f.kind), Some(Kind::InvalidOutput));
        let nothing = judge(
            &r,
            Role::Processor,
            Mode::Strict,
            &input,
            None,
            &Reply::Line("[]".into()),
        );
        assert_eq!(nothing, None);
    }
}
