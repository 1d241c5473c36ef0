//! How the binary behaves at its output edge: a closed pipe, and diagnostics that point into files.

use crate::util::{root, tempfile_lite::TempDir};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// One valid golden event, compact, as one JSON Lines line.
fn valid_event_line() -> String {
    let path = root().join("fixtures/events/agent.certificate.rotated/valid-rekey-requested.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture parses");
    fixture["event"].to_string()
}

/// `contracts validate big.jsonl | head -1`: the reader closes the pipe after one line while
/// megabytes of verdicts are still to come, so the writer meets EPIPE mid-stream, not at the
/// final flush; it must stop quietly with exit 0.
#[test]
fn broken_pipe_mid_stream_exits_0_quietly() {
    let dir = TempDir::new();
    let input = dir.path().join("big.jsonl");
    let line = valid_event_line();
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
    // 40,000 events give ~8 MB of JSON verdicts: far beyond any pipe buffer (64 KiB on Linux).
    for _ in 0..40_000 {
        writeln!(f, "{line}").expect("write");
    }
    f.flush().expect("flush");
    drop(f);
    for jobs in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_contracts"))
            .args(["validate", "--format", "json", "--jobs", jobs])
            .arg(&input)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn contracts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("first line");
        assert!(first.contains("\"verdict\""), "first record: {first}");
        drop(stdout); // `head -1` exits: the pipe's read end is gone
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "--jobs {jobs}: a closed pipe is not an error; stderr: {stderr}"
        );
        assert!(
            stderr.is_empty(),
            "--jobs {jobs}: nothing on stderr, got: {stderr}"
        );
    }
}
