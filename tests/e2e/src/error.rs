//! The one error type of the e2e layer: what was being done, and what went wrong.

use std::fmt;

/// A failure while preparing or driving the end-to-end setup.
#[derive(Debug)]
#[non_exhaustive]
pub enum E2eError {
    /// A file or socket operation failed.
    Io {
        /// What was being done, e.g. "reading tests/fixtures/policies/x.json".
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A child process (Envoy, curl, cargo, a script) did not do what was needed.
    Process {
        /// Which process and what was expected of it.
        what: String,
        /// Exit status, log excerpt or other detail.
        detail: String,
    },
    /// The Envoy template could not be rendered.
    Template(String),
    /// Something answered, but not in the expected shape (admin API, echo JSON, curl output).
    Protocol(String),
}

impl E2eError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    /// A process failure with its detail.
    pub fn process(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Process {
            what: what.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for E2eError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { what, source } => write!(f, "{what}: {source}"),
            Self::Process { what, detail } => write!(f, "{what}: {detail}"),
            Self::Template(msg) => write!(f, "rendering the Envoy template: {msg}"),
            Self::Protocol(msg) => write!(f, "unexpected answer: {msg}"),
        }
    }
}

impl std::error::Error for E2eError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
