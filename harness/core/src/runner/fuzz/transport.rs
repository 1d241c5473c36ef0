//! Transports: how one event reaches the program under test and how its answer comes back.
//!
//! Invariants:
//! - a send never blocks past its timeout: stdio answers are read by a thread and awaited with
//!   `recv_timeout`; HTTP requests carry a global timeout;
//! - a child that died or hung is killed and reaped, and the next send starts a fresh one;
//! - the child runs in its own process group, so a Ctrl-C meant for the harness does not kill it
//!   and get reported as a crash; the whole group is killed on every restart and at the end, so
//!   a grandchild that inherited stdout (`sleep 3600 &`) can neither hold the answer stream open
//!   nor outlive the run;
//! - a child that exits is noticed while its answer is awaited (a grandchild holding stdout
//!   keeps the pipe open, so end-of-file alone would wait for the whole timeout);
//! - an answer line already waiting when the next event is sent is a surplus answer to an
//!   earlier event: it is reported, and the child restarted, so no answer is ever attributed to
//!   the wrong event.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest answer line or body read from a program (16 MiB, as for input events): a program
/// that streams without end is a protocol error, not an out-of-memory.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;
/// How often a pending answer is interrupted to check whether the child is still alive.
const LIVENESS_POLL: Duration = Duration::from_millis(50);
/// How long an exited child's last answer may take to come through the pipe.
const EXIT_GRACE: Duration = Duration::from_millis(100);

/// Lines of a child's stderr kept to explain a crash: the first ones (a panic message) and the
/// last ones (what it said just before dying), since a backtrace can sit between them.
const STDERR_HEAD_LINES: usize = 4;
const STDERR_TAIL_LINES: usize = 6;

/// The start and the end of what a child wrote on stderr.
#[derive(Debug, Default)]
struct StderrLog {
    head: Vec<String>,
    tail: VecDeque<String>,
    skipped: u64,
}

impl StderrLog {
    fn push(&mut self, line: String) {
        if self.head.len() < STDERR_HEAD_LINES {
            self.head.push(line);
            return;
        }
        if self.tail.len() == STDERR_TAIL_LINES {
            self.tail.pop_front();
            self.skipped += 1;
        }
        self.tail.push_back(line);
    }

    fn text(&self) -> String {
        let mut lines = self.head.clone();
        if self.skipped > 0 {
            lines.push(format!("[... {} lines ...]", self.skipped));
        }
        lines.extend(self.tail.iter().cloned());
        lines.join("\n")
    }
}

/// What came back for one sent event, before any contract is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// One line on the child's stdout (without its newline).
    Line(String),
    /// An HTTP response.
    Http {
        /// The status code.
        status: u16,
        /// The body as text (lossy UTF-8).
        body: String,
    },
    /// No answer within the timeout (the child has been killed).
    Timeout,
    /// A line that arrived before this event was sent: an earlier event was answered more than
    /// once (the child has been restarted; this event was not sent).
    Surplus(String),
    /// The program died or the connection failed; the text says how.
    Crash(String),
}

/// Why a transport could not be used at all (exit 2: the program cannot be started).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// `--cmd` was empty or its quoting is unbalanced.
    #[error("cannot parse command line {command:?}: {message}")]
    Command {
        /// The command line.
        command: String,
        /// What is wrong.
        message: String,
    },
    /// The child could not be spawned.
    #[error("cannot start {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The URL is not an `http://` URL.
    #[error("{url}: not an http:// URL")]
    Url {
        /// The URL as given.
        url: String,
    },
}

/// Something that takes one event (a JSON text without newlines) and returns the program's reply.
pub trait Transport {
    /// Deliver one event and wait for the answer, at most the transport's timeout.
    ///
    /// # Errors
    /// Only when the program cannot be (re)started; a crash or a hang is a [`Reply`], not an error.
    fn send(&mut self, event: &str) -> Result<Reply, TransportError>;
    /// How many times the program was (re)started; 1 after the first start.
    fn starts(&self) -> u64;
    /// A short name for corpus directories and reports (`example-consumer`, `127.0.0.1_8080`).
    fn name(&self) -> String;
    /// How to reach the program again, as flags of `contracts` (`--cmd '...'` or `--http URL`).
    fn describe(&self) -> String;
}

/// Split a command line into program and arguments: whitespace separates, single and double
/// quotes group, backslash escapes outside single quotes. No expansion of any kind.
///
/// # Errors
/// An empty command or an unterminated quote.
pub fn split_command(command: &str) -> Result<Vec<String>, TransportError> {
    let err = |message: &str| TransportError::Command {
        command: command.to_owned(),
        message: message.to_owned(),
    };
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(err("unterminated single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => {
                            cur.push(chars.next().ok_or_else(|| err("trailing backslash"))?)
                        }
                        Some(c) => cur.push(c),
                        None => return Err(err("unterminated double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().ok_or_else(|| err("trailing backslash"))?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err(err("empty command"));
    }
    Ok(words)
}

/// Quote `word` for a POSIX shell when it needs it (for "reproduce with" lines).
#[must_use]
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Option<String>>,
    stderr_log: Arc<Mutex<StderrLog>>,
}

/// A child process spoken to over stdin/stdout, one JSON line in, one line out.
pub struct StdioTransport {
    command: String,
    argv: Vec<String>,
    timeout: Duration,
    running: Option<Running>,
    starts: u64,
}

impl std::fmt::Debug for StdioTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioTransport")
            .field("argv", &self.argv)
            .field("timeout", &self.timeout)
            .field("starts", &self.starts)
            .finish_non_exhaustive()
    }
}

impl StdioTransport {
    /// Parse `command` and start the program once, so that a program that cannot start is a
    /// usage error before any case runs.
    ///
    /// # Errors
    /// A command line that does not parse, or a program that cannot be spawned.
    pub fn start(command: &str, timeout: Duration) -> Result<Self, TransportError> {
        let argv = split_command(command)?;
        let mut t = StdioTransport {
            command: command.to_owned(),
            argv,
            timeout,
            running: None,
            starts: 0,
        };
        t.spawn()?;
        Ok(t)
    }

    fn spawn(&mut self) -> Result<(), TransportError> {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().map_err(|source| TransportError::Spawn {
            program: self.argv[0].clone(),
            source,
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TransportError::Spawn {
                program: self.argv[0].clone(),
                source: std::io::Error::other("no pipes to the child"),
            });
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                let mut limited = (&mut reader).take(MAX_ANSWER_BYTES as u64 + 1);
                match limited.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                    Ok(_) => {
                        if buf.last() == Some(&b'\n') {
                            buf.pop();
                            if buf.last() == Some(&b'\r') {
                                buf.pop();
                            }
                        }
                        if tx
                            .send(Some(String::from_utf8_lossy(&buf).into_owned()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        let log = Arc::new(Mutex::new(StderrLog::default()));
        let log_w = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if let Ok(mut l) = log_w.lock() {
                    l.push(line);
                }
            }
        });
        self.running = Some(Running {
            child,
            stdin,
            lines: rx,
            stderr_log: log,
        });
        self.starts += 1;
        Ok(())
    }

    /// Kill and reap the child and its process group, returning how the child ended and its
    /// last stderr lines.
    fn reap(&mut self, kill: bool) -> String {
        let Some(mut r) = self.running.take() else {
            return String::new();
        };
        drop(r.stdin);
        if kill {
            kill_group(&r.child);
            let _ = r.child.kill();
        }
        // A child whose stdout closed is exiting; give it a moment to be reaped with its status.
        let mut status = None;
        for _ in 0..50 {
            if let Ok(Some(s)) = r.child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = match status {
            Some(s) => s.to_string(),
            None => {
                kill_group(&r.child);
                let _ = r.child.kill();
                r.child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string())
            }
        };
        // Whatever the child left behind in its group (a grandchild holding stdout) goes too.
        kill_group(&r.child);
        // Let the stderr thread drain what the child wrote before it died.
        std::thread::sleep(Duration::from_millis(20));
        let tail = r.stderr_log.lock().map(|l| l.text()).unwrap_or_default();
        if tail.is_empty() {
            status
        } else {
            format!("{status}; stderr:\n{tail}")
        }
    }
}

impl Transport for StdioTransport {
    fn send(&mut self, event: &str) -> Result<Reply, TransportError> {
        if self.running.is_none() {
            self.spawn()?;
        }
        let Some(r) = self.running.as_mut() else {
            return Ok(Reply::Crash("not running".into()));
        };
        if let Ok(Some(extra)) = r.lines.try_recv() {
            self.reap(true);
            return Ok(Reply::Surplus(extra));
        }
        let written = r
            .stdin
            .write_all(event.as_bytes())
            .and_then(|()| r.stdin.write_all(b"\n"))
            .and_then(|()| r.stdin.flush());
        if written.is_err() {
            let how = self.reap(false);
            return Ok(Reply::Crash(format!("stdin closed: {how}")));
        }
        let deadline = Instant::now() + self.timeout;
        let mut exited_at: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                self.reap(true);
                return Ok(Reply::Timeout);
            }
            let wait = (deadline - now).min(LIVENESS_POLL);
            match r.lines.recv_timeout(wait) {
                Ok(Some(line)) => return Ok(Reply::Line(line)),
                Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                    let how = self.reap(false);
                    return Ok(Reply::Crash(format!("exited without answering: {how}")));
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Exited, but something else holds its stdout open: give the pipe a moment
                    // for a last answer, then call it a crash instead of waiting out the timeout.
                    let exited = exited_at.is_some() || matches!(r.child.try_wait(), Ok(Some(_)));
                    if exited {
                        let since = *exited_at.get_or_insert(now);
                        if now.duration_since(since) >= EXIT_GRACE {
                            let how = self.reap(false);
                            return Ok(Reply::Crash(format!(
                                "exited without answering (its stdout still held open by a \
                                 process it started): {how}"
                            )));
                        }
                    }
                }
            }
        }
    }

    fn starts(&self) -> u64 {
        self.starts
    }

    fn name(&self) -> String {
        let program = std::path::Path::new(&self.argv[0]).file_stem().map_or_else(
            || self.argv[0].clone(),
            |s| s.to_string_lossy().into_owned(),
        );
        sanitize_name(&program)
    }

    fn describe(&self) -> String {
        format!("--cmd {}", shell_quote(&self.command))
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        if self.running.is_some() {
            self.reap(true);
        }
    }
}

/// `SIGKILL` to the child's process group (its pid: it was started with `process_group(0)`).
/// The group may be gone already; that is the usual case and not an error.
#[cfg(unix)]
pub(crate) fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(not(unix))]
pub(crate) fn kill_group(_child: &Child) {}

/// An HTTP endpoint: each event is POSTed as `application/json`.
pub struct HttpTransport {
    url: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// An HTTP transport to `url` with a per-request `timeout`.
    ///
    /// # Errors
    /// A URL that is not `http://`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, TransportError> {
        if !url.starts_with("http://") {
            return Err(TransportError::Url {
                url: url.to_owned(),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .new_agent();
        Ok(HttpTransport {
            url: url.to_owned(),
            agent,
        })
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, event: &str) -> Result<Reply, TransportError> {
        let res = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(event);
        match res {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_ANSWER_BYTES as u64)
                    .read_to_string();
                match body {
                    Ok(body) => Ok(Reply::Http { status, body }),
                    Err(ureq::Error::Timeout(_)) => Ok(Reply::Timeout),
                    Err(e) => Ok(Reply::Http {
                        status,
                        body: format!("(unreadable body: {e})"),
                    }),
                }
            }
            Err(ureq::Error::Timeout(_)) => Ok(Reply::Timeout),
            Err(e) => Ok(Reply::Crash(format!("request failed: {e}"))),
        }
    }

    fn starts(&self) -> u64 {
        1
    }

    fn name(&self) -> String {
        let rest = self.url.trim_start_matches("http://");
        sanitize_name(rest.split('/').next().unwrap_or(rest))
    }

    fn describe(&self) -> String {
        format!("--http {}", shell_quote(&self.url))
    }
}

/// Letters, digits, `-`, `_` and `.`; anything else becomes `_` (a directory name).
#[must_use]
pub fn sanitize_name(s: &str) -> String {
    let name: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("program{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("prog a b", &["prog", "a", "b"])]
    #[case::double_quotes(r#"prog "a b" c"#, &["prog", "a b", "c"])]
    #[case::single_quotes("prog 'a \"b' c", &["prog", "a \"b", "c"])]
    #[case::escaped_space(r"prog a\ b", &["prog", "a b"])]
    #[case::glued_quotes(r#"prog --x="1 2""#, &["prog", "--x=1 2"])]
    fn commands_split_like_a_shell(#[case] line: &str, #[case] want: &[&str]) {
        assert_eq!(split_command(line).expect("parses"), want);
    }

    #[rstest]
    #[case::empty("")]
    #[case::unterminated("prog 'a")]
    fn bad_commands_are_refused(#[case] line: &str) {
        assert!(split_command(line).is_err());
    }

    #[test]
    fn quoting_round_trips_through_split() {
        let word = "it's a \"test\"";
        let quoted = shell_quote(word);
        assert_eq!(split_command(&quoted).expect("parses"), [word]);
    }

    #[cfg(unix)]
    #[test]
    fn a_hung_child_times_out_and_a_dead_one_restarts() {
        // `cat` echoes: a protocol-level answer; `sleep` never answers.
        let mut cat = StdioTransport::start("cat", Duration::from_secs(5)).expect("cat starts");
        assert_eq!(cat.send("{}").expect("sent"), Reply::Line("{}".into()));
        let mut sleeper =
            StdioTransport::start("sleep 30", Duration::from_millis(200)).expect("sleep starts");
        assert_eq!(sleeper.send("{}").expect("sent"), Reply::Timeout);
        let mut dead = StdioTransport::start("true", Duration::from_secs(5)).expect("true starts");
        assert!(matches!(dead.send("{}").expect("sent"), Reply::Crash(_)));
        assert!(matches!(dead.send("{}").expect("sent"), Reply::Crash(_)));
        assert_eq!(dead.starts(), 2);
    }
}
