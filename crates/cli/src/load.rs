//! Reading the inputs every command shares: policy documents and certificates. Each error
//! names the file; policy errors also carry the core's JSON path.

use std::path::Path;

use mtls_authz_core::policy::RawPolicy;
use mtls_authz_core::{settings, CertificateFile, Policy};

use crate::error::CliError;

fn read_bytes(file: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(file).map_err(|source| CliError::Read {
        file: file.to_path_buf(),
        source,
    })
}

fn read_text(file: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(file).map_err(|source| CliError::Read {
        file: file.to_path_buf(),
        source,
    })
}

/// A compiled policy plus the document as written (lint and the explanations read it).
#[derive(Debug)]
pub(crate) struct LoadedPolicy {
    pub(crate) policy: Policy,
    pub(crate) doc: RawPolicy,
}

/// Reads and compiles a v1 policy document exactly as the filter does (its filter settings
/// included: an out-of-range `identity_cache_size` refuses it here too).
pub(crate) fn policy(file: &Path) -> Result<LoadedPolicy, CliError> {
    let text = read_text(file)?;
    let (policy, _settings) = settings::compile(&text).map_err(|source| CliError::Policy {
        file: file.to_path_buf(),
        source,
    })?;
    let doc = RawPolicy::from_json(&text).map_err(|source| CliError::Policy {
        file: file.to_path_buf(),
        source,
    })?;
    Ok(LoadedPolicy { policy, doc })
}

/// Reads a certificate file (DER, or PEM with the leaf first and optionally its chain) and
/// parses it with the core.
pub(crate) fn certificate(file: &Path) -> Result<CertificateFile, CliError> {
    let bytes = read_bytes(file)?;
    CertificateFile::parse(&bytes).map_err(|source| CliError::Certificate {
        file: file.to_path_buf(),
        source,
    })
}

/// One line on the certificates that followed the leaf in `file`, `None` when there were none.
pub(crate) fn chain_summary(file: &CertificateFile) -> Option<String> {
    let count = file.chain.len();
    if count == 0 {
        return None;
    }
    let plural = if count == 1 { "" } else { "s" };
    let issuer = crate::output::quote(&file.leaf.issuer.rfc4514);
    let position = match file.issuer_position() {
        Some(at) => format!("chain certificate {at}"),
        None => String::from("not in the file"),
    };
    Some(format!(
        "{count} certificate{plural} followed the leaf (policies see the leaf only, as the proxy takes the first certificate); the leaf was issued by {issuer} ({position})"
    ))
}
