//! Connecting to NATS and binding JetStream streams and durable consumers.
//!
//! The broker commands run on one current-thread runtime: validation is CPU work done between
//! awaits, and one thread per process keeps a monitor's cost plain to measure (scale out by
//! starting more processes on the same durable, which is how JetStream shares a pull consumer).

use crate::error::CliError;
use async_nats::jetstream::{self, consumer, stream};
use std::time::Duration;

/// The default server: what `contracts broker up` starts.
pub(crate) const DEFAULT_SERVER: &str = "nats://127.0.0.1:4222";

/// How long to wait for the first connection before saying the server is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Headers of a dead-lettered message (the event is its unchanged payload).
pub(crate) mod header {
    /// `invalid` or `unreadable`.
    pub(crate) const VERDICT: &str = "Contracts-Verdict";
    /// The event's `event_type`, when it has one.
    pub(crate) const EVENT_TYPE: &str = "Contracts-Event-Type";
    /// The event's `event_id`, when it has one.
    pub(crate) const EVENT_ID: &str = "Contracts-Event-Id";
    /// The subject the event was published on.
    pub(crate) const SOURCE_SUBJECT: &str = "Contracts-Source-Subject";
    /// `<stream>:<sequence>` of the judged message.
    pub(crate) const SOURCE: &str = "Contracts-Source";
    /// The violations as a JSON array of `{keyword, instance_path, schema_path, message}`.
    pub(crate) const VIOLATIONS: &str = "Contracts-Violations";
    /// How many violations there were in all, when `Contracts-Violations` holds fewer.
    pub(crate) const VIOLATIONS_TOTAL: &str = "Contracts-Violations-Total";
}

/// A current-thread runtime with I/O and timers.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("tokio runtime", e))
}

/// Connect to `url`; an unreachable server is an I/O error that says how to start one.
pub(crate) async fn connect(url: &str) -> Result<async_nats::Client, CliError> {
    let opts = async_nats::ConnectOptions::new().connection_timeout(CONNECT_TIMEOUT);
    opts.connect(url).await.map_err(|e| {
        CliError::Input(format!(
            "cannot connect to NATS at {url}: {e} (start one with `contracts broker up`)"
        ))
    })
}

/// A JetStream context whose publishes await acks with at most `inflight` outstanding.
pub(crate) fn jetstream(client: async_nats::Client, inflight: usize) -> jetstream::Context {
    jetstream::context::ContextBuilder::new()
        .max_ack_inflight(inflight)
        .backpressure_on_inflight(true)
        .build(client)
}

/// The stream `name` capturing `subjects`, created (file storage) when missing.
pub(crate) async fn bind_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: &[String],
) -> Result<stream::Stream, CliError> {
    js.get_or_create_stream(stream::Config {
        name: name.to_owned(),
        subjects: subjects.to_vec(),
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| CliError::Input(format!("cannot bind or create stream {name}: {e}")))
}

/// The durable pull consumer `durable` on `stream`, created when missing: explicit acks, and a
/// message not acked within `ack_wait` goes to another worker.
pub(crate) async fn bind_consumer(
    stream: &stream::Stream,
    durable: &str,
    ack_wait: Duration,
) -> Result<consumer::PullConsumer, CliError> {
    stream
        .get_or_create_consumer(
            durable,
            consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            CliError::Input(format!(
                "cannot bind or create durable consumer {durable} on stream {}: {e}",
                stream.cached_info().config.name
            ))
        })
}

/// Whether the NATS subject `subject` is matched by `pattern` (`*` one token, `>` the rest).
pub(crate) fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut s = subject.split('.');
    for p in pattern.split('.') {
        match (p, s.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(t)) if p == t => {}
            _ => return false,
        }
    }
    s.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn subject_wildcards_follow_nats() {
        assert!(subject_matches(
            "oneprotect.events.>",
            "oneprotect.events.asset"
        ));
        assert!(subject_matches(
            "oneprotect.events.>",
            "oneprotect.events.a.b"
        ));
        assert!(!subject_matches("oneprotect.events.>", "oneprotect.events"));
        assert!(subject_matches(
            "oneprotect.*.asset",
            "oneprotect.events.asset"
        ));
        assert!(!subject_matches("oneprotect.*", "oneprotect.events.asset"));
        assert!(!subject_matches(
            "oneprotect.dead",
            "oneprotect.events.asset"
        ));
        assert!(subject_matches("a.b", "a.b"));
    }
}
