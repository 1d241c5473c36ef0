//! Shared pieces of the example programs that the fuzz runners drive in tests: the serving loop
//! (one JSON line in, one line out on stdio; or HTTP on loopback) and the event builders.
//!
//! Each binary plays one role of docs/protocols.md and can plant one bug with `--bug`, so the
//! integration tests can prove that the harness finds and shrinks it.

use serde_json::{Value, json};
use std::io::{BufRead, Write};

/// What a program answers to one event: a protocol line (stdio) and an HTTP status and body.
pub struct Answer {
    /// The stdio line, without newline.
    pub line: String,
    /// The HTTP status.
    pub status: u16,
    /// The HTTP body.
    pub body: String,
}

impl Answer {
    /// `accept` / 202.
    #[must_use]
    pub fn accept() -> Self {
        Answer {
            line: "accept".into(),
            status: 202,
            body: String::new(),
        }
    }

    /// `reject <why>` / 422.
    #[must_use]
    pub fn reject(why: &str) -> Self {
        let why = why.replace(['\n', '\r'], " ");
        Answer {
            line: format!("reject {why}"),
            status: 422,
            body: why,
        }
    }

    /// A JSON array of emitted events / 200.
    #[must_use]
    pub fn emitted(events: &[Value]) -> Self {
        let text = Value::from(events.to_vec()).to_string();
        Answer {
            line: text.clone(),
            status: 200,
            body: text,
        }
    }
}

/// Command-line flags common to the examples: `--specs DIR`, `--bug NAME`, `--http ADDR`,
/// plus any `--KEY VALUE` the binary reads with [`Flags::get`].
pub struct Flags(Vec<(String, String)>);

impl Flags {
    /// Parse `--key value` pairs.
    ///
    /// # Errors
    /// A flag without a value.
    pub fn parse() -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(k) = args.next() {
            let Some(key) = k.strip_prefix("--") else {
                return Err(format!("unexpected argument {k}"));
            };
            let v = args
                .next()
                .ok_or_else(|| format!("--{key} needs a value"))?;
            pairs.push((key.to_owned(), v));
        }
        Ok(Flags(pairs))
    }

    /// The value of `--key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `--bug`, default `none`.
    #[must_use]
    pub fn bug(&self) -> &str {
        self.get("bug").unwrap_or("none")
    }

    /// The registry from `--specs` (default `specs`).
    ///
    /// # Errors
    /// The specs do not load.
    pub fn registry(&self) -> Result<contracts_core::Registry, String> {
        let dir = self.get("specs").unwrap_or("specs");
        contracts_core::Registry::load(std::path::Path::new(dir)).map_err(|e| e.to_string())
    }
}

/// Serve `handle` on stdio (one line per event) or, with `--http ADDR`, over HTTP on that
/// address, printing `listening on http://ADDR` first.
///
/// # Errors
/// I/O on stdio, or the address cannot be bound.
pub fn serve(flags: &Flags, mut handle: impl FnMut(&[u8]) -> Answer) -> Result<(), String> {
    if let Some(addr) = flags.get("http") {
        let server =
            tiny_http::Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = server
            .server_addr()
            .to_ip()
            .map_or_else(|| addr.to_owned(), |a| a.to_string());
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on http://{bound}").map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
        for mut request in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let a = handle(&body);
            let response = tiny_http::Response::from_string(a.body).with_status_code(a.status);
            let _ = request.respond(response);
        }
        return Ok(());
    }
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().split(b'\n') {
        let line = line.map_err(|e| e.to_string())?;
        let a = handle(&line);
        writeln!(stdout, "{}", a.line).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// 64-bit FNV-1a.
#[must_use]
pub fn fnv(bytes: &[u8], salt: u64) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325 ^ salt, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A version-4, RFC-variant UUID derived from `seed` (deterministic: same input, same event).
#[must_use]
pub fn uuid_from(seed: &[u8], salt: u64) -> String {
    let a = fnv(seed, salt);
    let b = fnv(seed, salt.wrapping_add(0x9e37_79b9_7f4a_7c15));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// The platform operations tenant: where the leaking ticketer files critical tickets.
pub const OPS_TENANT: &str = "00000000-0000-4000-8000-0000000000ff";

/// The `ticket.created` event a ticketer emits for an `alert.created` input.
#[must_use]
pub fn ticket_for(alert: &Value, seq: u64) -> Value {
    let id = alert
        .get("event_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .as_bytes()
        .to_vec();
    let p = &alert["payload"];
    let priority = match p["severity"].as_str() {
        Some("critical") => "p1",
        Some("high") => "p2",
        Some("medium") => "p3",
        _ => "p4",
    };
    json!({
        "event_id": uuid_from(&id, 1),
        "event_type": "ticket.created",
        "schema_version": "1.0",
        "tenant_id": alert["tenant_id"],
        "source": "/services/ticketing",
        "timestamp": alert["timestamp"],
        "correlation_id": alert["correlation_id"],
        "causation_id": alert["event_id"],
        "payload": {
            "ticket_id": uuid_from(&id, 2),
            "ticket_key": format!("SEC-{}", seq % 999_999_999 + 1),
            "title": p["title"],
            "kind": "alert_triage",
            "priority": priority,
            "status": "new",
            "reporter": {"kind": "system", "id": null},
            "assignee_user_id": null,
            "origin": {"kind": "alert", "ref_id": p["alert_id"]}
        }
    })
}

/// The `n`-th `alert.created` event of a toy detection service.
#[must_use]
pub fn alert(n: u64) -> Value {
    let seed = n.to_le_bytes();
    let severities = ["informational", "low", "medium", "high", "critical"];
    #[allow(clippy::cast_possible_truncation)] // n % 5 < 5
    let severity = severities[(n % 5) as usize];
    json!({
        "event_id": uuid_from(&seed, 10),
        "event_type": "alert.created",
        "schema_version": "1.0",
        "tenant_id": "7c0e3f52-2d4b-4f8e-9a61-5b3c8d2e1f90",
        "source": "/services/detections",
        "timestamp": "2025-11-03T09:14:02.530Z",
        "correlation_id": uuid_from(&seed, 11),
        "causation_id": null,
        "payload": {
            "alert_id": uuid_from(&seed, 12),
            "origin": {"family": "platform", "event_type": "platform.health.degraded", "event_id": uuid_from(&seed, 13)},
            "title": format!("Health check {n} failed"),
            "severity": severity,
            "status": "new",
            "asset_ids": []
        }
    })
}
