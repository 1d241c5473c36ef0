//! The one top-level error of the CLI: "could not check" (exit 2), never "checked and found bad".

use crate::exit;
use std::process::ExitCode;

/// Why a command could not decide anything. Always exit code 2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The arguments do not make sense together.
    #[error("usage: {0}")]
    Usage(String),
    /// A file or stream could not be read or written.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An input that names its own position (file, line, JSON path) in the message.
    #[error("{0}")]
    Input(String),
}

impl CliError {
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn code(&self) -> ExitCode {
        ExitCode::from(exit::USAGE_OR_IO)
    }
}
