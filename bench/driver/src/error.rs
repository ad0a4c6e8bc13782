//! The driver's one error type: what was being done and what went wrong, printed at exit.

use std::fmt;

use mtls_authz_e2e::E2eError;

/// A failure that stops the benchmark.
#[derive(Debug)]
pub(crate) struct BenchError(String);

impl BenchError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// An I/O error with what was being done.
    pub(crate) fn io(what: impl fmt::Display, error: std::io::Error) -> Self {
        Self(format!("{what}: {error}"))
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

impl From<E2eError> for BenchError {
    fn from(error: E2eError) -> Self {
        Self(error.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, BenchError>;
