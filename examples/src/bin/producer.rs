//! example-producer: a toy detection service that emits `alert.created` events and the
//! `ticket.created` events its ticketing side makes of them, as JSON Lines on stdout or POSTed
//! to `--post URL` (docs/protocols.md §3).
//!
//! `--count N` (default 10) alerts. `--bug received-at`: every third event carries the broker's
//! `received_at` in its envelope.

use contracts_examples::{Flags, alert, ticket_for};
use std::io::Write;

fn run(flags: &Flags) -> Result<(), String> {
    let count: u64 = flags
        .get("count")
        .unwrap_or("10")
        .parse()
        .map_err(|_| "--count takes a number")?;
    let post = flags.get("post").map(str::to_owned);
    let mut stdout = std::io::stdout().lock();
    let mut n = 0u64;
    for i in 0..count {
        let a = alert(i);
        let t = ticket_for(&a, i + 1);
        for mut event in [a, t] {
            n += 1;
            if flags.bug() == "received-at" && n % 3 == 0 {
                event["received_at"] = "2025-11-03T09:14:03Z".into();
            }
            let text = event.to_string();
            match &post {
                Some(url) => post_one(url, &text)?,
                None => writeln!(stdout, "{text}").map_err(|e| e.to_string())?,
            }
        }
    }
    Ok(())
}

/// A minimal HTTP/1.1 POST over a plain socket: the example needs no client library.
fn post_one(url: &str, body: &str) -> Result<(), String> {
    use std::io::Read;
    let rest = url
        .strip_prefix("http://")
        .ok_or("--post takes an http:// URL")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    Ok(())
}

fn main() -> std::process::ExitCode {
    match Flags::parse().and_then(|f| run(&f)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // an example program's one diagnostic
            {
                eprintln!("example-producer: {e}");
            }
            std::process::ExitCode::from(2)
        }
    }
}
