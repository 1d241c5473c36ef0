//! Exit codes: part of the command-line interface, so each one is documented here once.

use std::process::ExitCode;

/// Everything checked and all good; also a stdout whose reader closed the pipe early.
pub(crate) const OK: u8 = 0;
/// At least one contract was violated (an invalid event, a failed check, a found counterexample).
pub(crate) const VIOLATED: u8 = 1;
/// Usage error, unreadable input, or a schema the tool cannot use: nothing was decided.
pub(crate) const USAGE_OR_IO: u8 = 2;
/// `compat` only: nothing incompatible was shown, but some direction is neither proved nor
/// refuted (the report names the keyword it could not decide).
pub(crate) const UNDECIDED: u8 = 3;

/// What a subcommand concluded, when it could conclude at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1.
    Violated,
    /// Exit 3.
    Undecided,
}

impl Outcome {
    pub(crate) fn code(self) -> ExitCode {
        match self {
            Outcome::Ok => ExitCode::from(OK),
            Outcome::Violated => ExitCode::from(VIOLATED),
            Outcome::Undecided => ExitCode::from(UNDECIDED),
        }
    }

    /// `Violated` when `bad` is true.
    pub(crate) fn violated_if(bad: bool) -> Self {
        if bad { Outcome::Violated } else { Outcome::Ok }
    }
}
