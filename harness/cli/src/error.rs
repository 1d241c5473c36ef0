//! The one top-level error of the CLI: "could not check" (exit 2), never "checked and found bad".

use crate::exit;
use std::process::ExitCode;

/// Why a command could not decide anything. Always exit code 2.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum CliError {
    /// The arguments do not make sense together.
    #[error("usage: {0}")]
    Usage(String),
    /// A file or stream could not be read or written (the cause says how).
    #[error("cannot read or write {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An input that names its own position (file, line, JSON path) in the message.
    #[error("{0}")]
    Input(String),
    /// An error from a lower layer, kept whole so its causes print as a chain, each once.
    #[error(transparent)]
    Caused(Box<dyn std::error::Error + Send + Sync>),
    /// An input file with a defect at a known place: rendered with a snippet of the file.
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(Box<crate::diag::FileDiagnostic>),
}

impl CliError {
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }

    /// `e` with its cause chain intact.
    pub(crate) fn caused(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        CliError::Caused(Box::new(e))
    }

    /// True when stdout's reader went away (`contracts validate big.jsonl | head`): the reader
    /// asked for no more, so the command stops quietly with exit 0 (ripgrep does the same).
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    pub(crate) fn code(&self) -> ExitCode {
        ExitCode::from(exit::USAGE_OR_IO)
    }
}
