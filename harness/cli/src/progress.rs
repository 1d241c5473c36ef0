//! Progress bars and spinners on stderr for runs that can last more than a couple of seconds.
//!
//! Drawn only when stderr is a terminal, and never under `CI=true` or `--quiet`: logs and pipes
//! get no escape codes, and stdout (the results) is never touched. Every handle is cheap when
//! hidden, so callers update it unconditionally. indicatif redraws at most 20 times a second
//! whatever the update rate, so a tight loop may call [`Progress::inc`] per item.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress for the rest of the process.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress may be drawn: a terminal on stderr, not CI, not `--quiet`.
pub(crate) fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::env::var("CI").map_or(true, |v| v != "true")
        && std::io::stderr().is_terminal()
}

/// A bar (known total) or spinner (unknown total); hidden when [`enabled`] is false.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `total` `unit`s (`cases`, `events`) with position, rate and ETA.
    pub(crate) fn bar(total: u64, what: &str, unit: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), target());
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} \
                 {{rate}} eta {{eta}} {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", rate)
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// A spinner counting `unit`s with their rate, for runs of unknown length.
    pub(crate) fn spinner(what: &str, unit: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, target());
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what}: {{human_pos}} {unit} ({{rate}}), {{elapsed}} {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key("rate", rate),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// A bar over the bytes of one input of `total` bytes (a spinner when the size is unknown,
    /// as for stdin), with throughput and ETA; see [`Progress::wrap`].
    pub(crate) fn reading(what: &str, total: Option<u64>) -> Self {
        // Someone typing events into a terminal needs no spinner over their input.
        let typed = what == "-" && std::io::stdin().is_terminal();
        let draw = if typed {
            ProgressDrawTarget::hidden()
        } else {
            target()
        };
        let bar = ProgressBar::with_draw_target(total, draw);
        let template = if total.is_some() {
            format!(
                "{{spinner}} {what} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{binary_bytes_per_sec}} eta {{eta}}"
            )
        } else {
            format!("{{spinner}} {what}: {{bytes}} ({{binary_bytes_per_sec}}), {{elapsed}}")
        };
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// `reader`, counting its bytes into this bar. Off a terminal the reader is returned as it
    /// is: the hot path pays nothing for a bar nobody sees.
    pub(crate) fn wrap(
        &self,
        reader: Box<dyn std::io::BufRead + Send>,
    ) -> Box<dyn std::io::BufRead + Send> {
        if self.visible() {
            Box::new(self.bar.wrap_read(reader))
        } else {
            reader
        }
    }

    /// `n` more done.
    pub(crate) fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Done so far, when the caller counts.
    pub(crate) fn set_position(&self, n: u64) {
        self.bar.set_position(n);
    }

    /// The note after the counts (failures so far, what is being shrunk).
    pub(crate) fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Whether anything is drawn (callers skip building messages otherwise).
    pub(crate) fn visible(&self) -> bool {
        !self.bar.is_hidden()
    }
}

impl Drop for Progress {
    /// Clear the line, so the report that follows starts on a clean terminal.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Show a fuzz run's state: cases sent, failures so far, and the failure being shrunk.
pub(crate) fn fuzz_update(
    p: &Progress,
    report: &contracts_core::runner::fuzz::FuzzReport,
    e: &contracts_core::runner::fuzz::RunEvent,
) {
    if !p.visible() {
        return;
    }
    p.set_position(report.cases);
    if let contracts_core::runner::fuzz::RunEvent::Shrinking { signature } = e {
        p.set_message(format!(
            "{} failed; shrinking {signature}",
            report.failed_cases
        ));
    } else {
        p.set_message(format!("{} failed", report.failed_cases));
    }
}

/// Items per second, whole: `1234/s` (indicatif's own key prints four decimals).
fn rate(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0}/s", state.per_sec());
}

fn target() -> ProgressDrawTarget {
    if enabled() {
        ProgressDrawTarget::stderr_with_hz(20)
    } else {
        ProgressDrawTarget::hidden()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under `cargo test` stderr is captured (not a terminal): every handle is hidden, and
    /// updating it is harmless.
    #[test]
    fn hidden_off_a_terminal_and_safe_to_update() {
        let p = Progress::bar(10, "gen", "events");
        p.inc(3);
        p.set_message("x");
        assert!(!p.visible());
        set_quiet(true);
        assert!(!enabled());
        set_quiet(false);
    }
}
