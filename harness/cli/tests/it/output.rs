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

/// A schema with a meta-schema violation: the diagnostic names the file at the planted line and
/// column (found here by a text search), shows that line with the member underlined, gives a
/// help line and a stable code, and says each thing once.
#[test]
fn schema_error_points_at_its_line_with_a_snippet_and_help() {
    let dir = crate::util::scratch_copy();
    let rel = "specs/events/types/alert.created.v1.schema.json";
    let path = dir.path().join(rel);
    let text = std::fs::read_to_string(&path).expect("schema");
    let planted = text.replacen("\"type\": \"string\"", "\"type\": \"strnig\"", 1);
    std::fs::write(&path, &planted).expect("write");
    let (line, line_text) = planted
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("strnig"))
        .expect("planted line");
    let column = line_text.find("\"type\"").expect("member") + 1;

    let o = crate::util::contracts_in(dir.path(), &["validate", "-"], Some(b"{}\n"));
    let err = crate::util::stderr(&o);
    assert_eq!(crate::util::code(&o), 2, "{err}");
    assert!(
        err.contains(&format!("[{rel}:{}:{column}]", line + 1)),
        "file:line:column header: {err}"
    );
    assert!(
        err.contains(line_text.trim()),
        "the offending line is quoted: {err}"
    );
    let underline = err
        .lines()
        .find(|l| l.contains("───┬──") || l.contains("──┬"))
        .unwrap_or_else(|| panic!("an underline: {err}"));
    assert!(underline.contains('·'), "{underline}");
    assert!(err.contains("help:"), "{err}");
    assert!(err.contains("contracts::registry::meta_schema"), "{err}");
    assert_eq!(
        err.matches("not valid under any of the schemas").count(),
        1,
        "{err}"
    );
}

/// An unreadable input names the file once and its cause once (no "caused by" repeating the
/// message).
#[test]
fn io_error_prints_each_cause_once() {
    let o = crate::util::contracts(&["validate", "no/such/file.jsonl"]);
    let err = crate::util::stderr(&o);
    assert_eq!(crate::util::code(&o), 2, "{err}");
    assert_eq!(err.matches("no/such/file.jsonl").count(), 1, "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

/// A fixture that is not JSON: the diagnostic points at the fixture file and the line of the
/// defect.
#[test]
fn fixture_error_points_at_the_fixture_line() {
    let dir = crate::util::scratch_copy();
    let rel = "fixtures/events/alert.created/broken.json";
    std::fs::write(
        dir.path().join(rel),
        "{\n  \"valid\": true,\n  \"event\": nope\n}\n",
    )
    .expect("write");
    let o = crate::util::contracts_in(dir.path(), &["replay", rel], None);
    let err = crate::util::stderr(&o);
    assert_eq!(crate::util::code(&o), 2, "{err}");
    assert!(
        err.contains(&format!("[{rel}:3:")),
        "line 3 of the fixture: {err}"
    );
    assert!(err.contains("\"event\": nope"), "{err}");
    assert!(err.contains("contracts::fixture::parse"), "{err}");
}

/// Run `contracts ARGS` under a pseudo-terminal (util-linux `script`), stdout to /dev/null;
/// what the terminal showed, or `None` (said loudly) when `script` is absent.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> Option<String> {
    let have_script = Command::new("script").arg("--version").output().is_ok();
    if !have_script {
        let strict = std::env::var("CI").is_ok_and(|v| v == "true")
            || std::env::var("REQUIRE_SUITE").is_ok_and(|v| v == "1");
        assert!(
            !strict,
            "no `script` (util-linux) to give the binary a terminal"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("\n*** progress-on-a-terminal test DID NOT RUN: no `script` on PATH ***\n");
        }
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_contracts");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args} > /dev/null"), "/dev/null"])
        .current_dir(root())
        .env_remove("CI")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A bar with rate and ETA on a terminal; nothing under CI=true, --quiet, or off a terminal.
#[test]
fn gen_progress_draws_only_on_a_terminal_outside_ci() {
    let args = "gen --event-type alert.created --count 400 --seed 3";
    let Some(shown) = on_a_terminal(args, &[]) else {
        return;
    };
    assert!(shown.contains("gen ["), "a bar on the terminal: {shown:?}");
    assert!(
        shown.contains("/400 events") && shown.contains("/s eta "),
        "{shown:?}"
    );
    for (quiet_args, env) in [
        (format!("--quiet {args}"), vec![]),
        (args.to_owned(), vec![("CI", "true")]),
    ] {
        let shown = on_a_terminal(&quiet_args, &env).expect("script is present");
        assert!(!shown.contains("gen ["), "{quiet_args} {env:?}: {shown:?}");
    }
    let piped = crate::util::contracts(&["gen", "--event-type", "alert.created", "--count", "50"]);
    assert!(
        crate::util::stderr(&piped).is_empty(),
        "off a terminal, stderr stays empty"
    );
}

/// A schema given to `gen --schema` that is not JSON: its line is quoted and underlined.
#[test]
fn gen_schema_parse_error_quotes_the_line() {
    let dir = TempDir::new();
    let path = dir.path().join("s.json");
    std::fs::write(
        &path,
        "{\n  \"type\": \"object\",\n  \"properties\": {,}\n}\n",
    )
    .expect("write");
    let o = crate::util::contracts(&["gen", "--schema", path.to_str().expect("utf-8")]);
    let err = crate::util::stderr(&o);
    assert_eq!(crate::util::code(&o), 2, "{err}");
    assert!(err.contains("s.json:3:"), "line 3: {err}");
    assert!(err.contains("\"properties\": {,}"), "{err}");
    assert!(err.contains("contracts::json::parse"), "{err}");
}

/// The gate cannot read an AsyncAPI document that is not YAML: besides its FAIL line, `check`
/// shows the document's line on stderr.
#[test]
fn check_shows_the_line_of_an_asyncapi_yaml_error() {
    let dir = crate::util::scratch_copy();
    let rel = "specs/events/asyncapi.yaml";
    let path = dir.path().join(rel);
    let text = std::fs::read_to_string(&path).expect("asyncapi");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(5, "  planted: [unclosed");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let o = crate::util::contracts_in(dir.path(), &["check"], None);
    let err = crate::util::stderr(&o);
    assert_eq!(crate::util::code(&o), 1, "{err}");
    assert!(crate::util::stdout(&o).contains("FAIL [asyncapi-schema]"));
    assert!(err.contains("contracts::asyncapi::parse"), "{err}");
    assert!(
        err.contains(&format!("[{rel}:6:")),
        "line 6, where it was planted: {err}"
    );
    assert!(err.contains("planted: [unclosed"), "{err}");
}
