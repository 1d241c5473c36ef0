//! The producer check: validate what a producer emits (its stdout, POSTs it sends to a loopback
//! listener, or files), and report per event type what was seen, what was invalid and why, and
//! which catalogue types never came.
//!
//! Invariants: every event read becomes one [`ProducerEvent::Seen`] (an unreadable line too, as
//! an unreadable verdict), so `valid + invalid + unreadable = seen`; the [`ProducerReport`] owns
//! the counts; every source stops by itself (end of stream, `max_events`, `max_time`, the stop
//! flag), and a started producer is killed when the time is up.

use crate::input::{Events, InputError, Item};
use crate::registry::Registry;
use crate::validate::{Status, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a listener or a child is polled for the stop flag and the time budget.
const POLL: Duration = Duration::from_millis(50);
/// Largest POST body accepted by the listener (an event is at most 16 MiB, as on any input).
const MAX_BODY: u64 = crate::input::MAX_EVENT_BYTES as u64;

/// When a producer check stops on its own.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Stop after this long (a started producer is killed).
    pub max_time: Option<Duration>,
    /// Raised from outside (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

/// What the producer check tells its report.
#[derive(Debug, Clone)]
pub enum ProducerEvent {
    /// One event was read and judged; `origin` says where (`file:line`, `POST #n`, `stdout:line`).
    Seen {
        /// Where it came from.
        origin: String,
        /// The registry's verdict.
        verdict: Verdict,
    },
    /// The source ended; `note` says how when it was not the natural end.
    Ended {
        /// `None` at the natural end of the input, else why it stopped.
        note: Option<String>,
    },
}

/// Counts of one event type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TypeReport {
    /// Events seen.
    pub seen: u64,
    /// Of which invalid.
    pub invalid: u64,
    /// Violations by `keyword at path`, counted.
    pub reasons: BTreeMap<String, u64>,
}

/// What a producer emitted, added up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProducerReport {
    /// Events seen.
    pub seen: u64,
    /// Valid events.
    pub valid: u64,
    /// Invalid events (parsed, at least one violation).
    pub invalid: u64,
    /// Unreadable events (not JSON).
    pub unreadable: u64,
    /// Per event type (`(no event_type)` for events without one, `(unreadable)` for non-JSON).
    pub by_type: BTreeMap<String, TypeReport>,
    /// Up to [`MAX_EXAMPLES`] invalid events' origins and first violation, for the human report.
    pub examples: Vec<(String, String)>,
    /// Why the source stopped early, if it did.
    pub note: Option<String>,
}

/// Invalid events quoted individually in a report; the rest are only counted.
pub const MAX_EXAMPLES: usize = 20;

impl ProducerReport {
    /// Add one event.
    pub fn apply(&mut self, e: &ProducerEvent) {
        match e {
            ProducerEvent::Seen { origin, verdict } => {
                self.seen += 1;
                let key = match (verdict.status, &verdict.event_type) {
                    (Status::Unreadable, _) => "(unreadable)".to_owned(),
                    (_, Some(t)) => t.clone(),
                    (_, None) => "(no event_type)".to_owned(),
                };
                let t = self.by_type.entry(key).or_default();
                t.seen += 1;
                match verdict.status {
                    Status::Valid => self.valid += 1,
                    Status::Invalid => self.invalid += 1,
                    Status::Unreadable => self.unreadable += 1,
                }
                if verdict.status != Status::Valid {
                    t.invalid += 1;
                    for v in &verdict.violations {
                        let at = if v.instance_path.is_empty() {
                            "/"
                        } else {
                            &v.instance_path
                        };
                        *t.reasons
                            .entry(format!("{} at {at}", v.keyword))
                            .or_default() += 1;
                    }
                    if self.examples.len() < MAX_EXAMPLES {
                        let first = verdict.violations.first().map_or_else(String::new, |v| {
                            format!("{} at {}: {}", v.keyword, v.instance_path, v.message)
                        });
                        self.examples.push((origin.clone(), first));
                    }
                }
            }
            ProducerEvent::Ended { note } => self.note.clone_from(note),
        }
    }

    /// Catalogue event types the producer never emitted (validly or not), sorted.
    #[must_use]
    pub fn never_emitted(&self, registry: &Registry) -> Vec<String> {
        let mut types: Vec<String> = registry
            .contracts()
            .iter()
            .map(|c| c.event_type.clone())
            .filter(|t| !self.by_type.contains_key(t))
            .collect();
        types.dedup();
        types
    }

    /// Whether anything invalid or unreadable was emitted.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.invalid + self.unreadable > 0
    }
}

/// Why a producer check could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerError {
    /// An input could not be read.
    #[error("{name}: cannot read")]
    Io {
        /// The input.
        name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The producer could not be started.
    #[error(transparent)]
    Start(#[from] super::fuzz::TransportError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {message}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
}

fn judge(registry: &Registry, item: &Item) -> Verdict {
    match &item.bytes {
        Ok(b) => registry.validate_bytes(b),
        Err(why) => Verdict::unreadable(why.clone()),
    }
}

/// Judge every event of a JSON Lines (or one JSON document) stream named `name`.
///
/// # Errors
/// The stream cannot be read. An empty stream is no error: it emitted nothing.
pub fn check_stream<R: BufRead>(
    registry: &Registry,
    reader: R,
    name: &str,
    limits: &Limits,
    sink: &mut dyn FnMut(&ProducerEvent),
) -> Result<(), ProducerError> {
    let mut events = Events::new(reader);
    let mut n = 0u64;
    loop {
        if limits.stop.load(Ordering::Relaxed) {
            sink(&ProducerEvent::Ended {
                note: Some("interrupted".into()),
            });
            return Ok(());
        }
        let item = match events.next_item() {
            Ok(Some(item)) => item,
            Ok(None) | Err(InputError::Empty) => break,
            Err(InputError::Io(source)) => {
                return Err(ProducerError::Io {
                    name: name.to_owned(),
                    source,
                });
            }
        };
        let origin = match item.index {
            Some(i) => format!("{name}:{}[{i}]", item.line),
            None => format!("{name}:{}", item.line),
        };
        sink(&ProducerEvent::Seen {
            origin,
            verdict: judge(registry, &item),
        });
        n += 1;
        if limits.max_events.is_some_and(|m| n >= m) {
            sink(&ProducerEvent::Ended {
                note: Some(format!("stopped after --max-events {n}")),
            });
            return Ok(());
        }
    }
    sink(&ProducerEvent::Ended { note: None });
    Ok(())
}

/// Start `command` and judge what it writes on stdout until it exits (or the limits end it).
///
/// # Errors
/// The command does not parse or cannot be started, or its stdout cannot be read.
pub fn check_command(
    registry: &Registry,
    command: &str,
    limits: &Limits,
    sink: &mut dyn FnMut(&ProducerEvent),
) -> Result<(), ProducerError> {
    let argv = super::fuzz::transport::split_command(command)?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0); // Ctrl-C is the harness's to handle
    }
    let mut child = cmd
        .spawn()
        .map_err(|source| super::fuzz::TransportError::Spawn {
            program: argv[0].clone(),
            source,
        })?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(());
    };
    // The reader runs in its own thread so this one can poll the stop flag and the time budget
    // and kill the child, which ends the read.
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel::<ProducerEvent>();
    let mut killed: Option<&str> = None;
    let read = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut forward = |e: &ProducerEvent| {
                let _ = tx.send(e.clone());
            };
            check_stream(
                registry,
                BufReader::new(stdout),
                "stdout",
                &Limits::default(),
                &mut forward,
            )
        });
        let mut seen = 0u64;
        loop {
            match rx.recv_timeout(POLL) {
                Ok(e @ ProducerEvent::Seen { .. }) => {
                    seen += 1;
                    sink(&e);
                }
                Ok(ProducerEvent::Ended { .. })
                | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if killed.is_none() {
                killed = if limits.stop.load(Ordering::Relaxed) {
                    Some("interrupted; producer killed")
                } else if limits.max_time.is_some_and(|t| start.elapsed() >= t) {
                    Some("time budget spent; producer killed")
                } else if limits.max_events.is_some_and(|m| seen >= m) {
                    Some("--max-events reached; producer killed")
                } else {
                    None
                };
                if killed.is_some() {
                    // The whole group: a grandchild holding stdout would keep the read open.
                    super::fuzz::transport::kill_group(&child);
                    let _ = child.kill();
                }
            }
        }
        reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    super::fuzz::transport::kill_group(&child);
    let _ = child.kill();
    let _ = child.wait();
    read?;
    sink(&ProducerEvent::Ended {
        note: killed.map(str::to_owned),
    });
    Ok(())
}

/// Listen on `addr` (loopback) and judge the body of every POST as one event (or a JSON Lines
/// batch). Each POST is answered 202 when all its events are valid, else 422 with the first
/// violation. `on_bound` gets the bound address (useful with port 0).
///
/// # Errors
/// The address cannot be bound.
pub fn check_listen(
    registry: &Registry,
    addr: &str,
    limits: &Limits,
    on_bound: &mut dyn FnMut(&str),
    sink: &mut dyn FnMut(&ProducerEvent),
) -> Result<(), ProducerError> {
    let server = tiny_http::Server::http(addr).map_err(|e| ProducerError::Listen {
        addr: addr.to_owned(),
        message: e.to_string(),
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| addr.to_owned(), |a| a.to_string());
    on_bound(&bound);
    let start = Instant::now();
    let mut posts = 0u64;
    let mut seen = 0u64;
    let note = loop {
        if limits.stop.load(Ordering::Relaxed) {
            break Some("interrupted".to_owned());
        }
        if limits.max_time.is_some_and(|t| start.elapsed() >= t) {
            break Some("time budget spent".to_owned());
        }
        if limits.max_events.is_some_and(|m| seen >= m) {
            break Some(format!("stopped after --max-events {seen}"));
        }
        let Ok(Some(mut request)) = server.recv_timeout(POLL) else {
            continue;
        };
        posts += 1;
        if *request.method() != tiny_http::Method::Post {
            let _ = request.respond(
                tiny_http::Response::from_string("POST events here\n").with_status_code(405),
            );
            continue;
        }
        let mut body = Vec::new();
        let read = std::io::Read::read_to_end(
            &mut std::io::Read::take(request.as_reader(), MAX_BODY),
            &mut body,
        );
        let mut first_bad: Option<String> = None;
        if let Err(e) = read {
            first_bad = Some(format!("cannot read body: {e}"));
        }
        let name = format!("POST #{posts}");
        let mut forward = |e: &ProducerEvent| {
            if let ProducerEvent::Seen { verdict, .. } = e {
                seen += 1;
                if first_bad.is_none() {
                    first_bad = verdict
                        .violations
                        .first()
                        .map(|v| format!("{} at {}: {}", v.keyword, v.instance_path, v.message));
                }
                sink(e);
            }
        };
        let _ = check_stream(
            registry,
            body.as_slice(),
            &name,
            &Limits::default(),
            &mut forward,
        );
        let response = match first_bad {
            None => tiny_http::Response::from_string("").with_status_code(202),
            Some(why) => tiny_http::Response::from_string(why).with_status_code(422),
        };
        let _ = request.respond(response);
    };
    sink(&ProducerEvent::Ended { note });
    Ok(())
}
