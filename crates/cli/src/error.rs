//! The one error type of the CLI. Every variant is a bad input or an environment failure and
//! maps to exit code 2; its `Display` names the file (and field) so the user can fix it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use mtls_authz_core::crl::CrlError;
use mtls_authz_core::token::JwksError;
use mtls_authz_core::{CertError, PolicyError};

/// Why a command could not produce an answer.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A file could not be read.
    Read { file: PathBuf, source: io::Error },
    /// A policy document did not compile.
    Policy { file: PathBuf, source: PolicyError },
    /// A certificate file did not parse.
    Certificate { file: PathBuf, source: CertError },
    /// A CRL (or the CA certificate given to check it) could not be read as one.
    Crl { file: PathBuf, source: CrlError },
    /// A JWK set could not be read as one.
    Jwks { file: PathBuf, source: JwksError },
    /// An OpenAPI document is not valid JSON/YAML or not OpenAPI 3.x.
    OpenApi { file: PathBuf, detail: String },
    /// A command-line value is malformed (`--time`, `--header`...).
    Argument { flag: &'static str, detail: String },
    /// Writing the answer failed (e.g. closed pipe).
    Write(io::Error),
}

impl CliError {
    pub(crate) fn argument(flag: &'static str, detail: impl Into<String>) -> Self {
        CliError::Argument {
            flag,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Read { file, source } => {
                write!(f, "{}: cannot read file: {source}", file.display())
            }
            CliError::Policy { file, source } => write!(f, "{}: {source}", file.display()),
            CliError::Certificate { file, source } => {
                write!(f, "{}: invalid certificate: {source}", file.display())
            }
            CliError::Crl { file, source } => write!(f, "{}: {source}", file.display()),
            CliError::Jwks { file, source } => {
                write!(f, "{}: {source} ({})", file.display(), source.code())
            }
            CliError::OpenApi { file, detail } => {
                write!(f, "{}: invalid OpenAPI document: {detail}", file.display())
            }
            CliError::Argument { flag, detail } => write!(f, "invalid {flag}: {detail}"),
            CliError::Write(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for CliError {}
