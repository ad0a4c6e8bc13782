//! The request as the filter receives it: headers from `--header`, the client certificate
//! chosen by `identity.sources`, and the headers the upstream ends up with.

use mtls_authz_core::xfcc::XfccError;
use mtls_authz_core::{forward, xfcc, CertError, Decision, Identity, Mode, Policy, Source};

use crate::error::CliError;

use mtls_authz_core::strip::SHADOW_HEADER;
pub(super) use mtls_authz_core::strip::XFCC_HEADER;

/// Parses `--header NAME:VALUE` (name lower-cased, value trimmed).
pub(super) fn parse_header(raw: &str) -> Result<(String, String), CliError> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| CliError::argument("--header", format!("`{raw}` is not NAME:VALUE")))?;
    let name = name.trim().to_ascii_lowercase();
    if !forward::is_token(&name) {
        return Err(CliError::argument(
            "--header",
            format!("`{raw}`: header name must be an HTTP token"),
        ));
    }
    Ok((name, value.trim().to_owned()))
}

/// Where the certificate came from, for the explanation.
#[derive(Debug)]
pub(super) enum Presented {
    None,
    Peer(Identity),
    Xfcc(Result<Identity, CertError>),
    /// The header does not parse; the certificate error is the filter's (`CertError::from`).
    XfccMalformed(XfccError, CertError),
}

/// Follows `identity.sources` like the filter: the first source that yields a certificate wins.
pub(super) fn present_certificate(
    policy: &Policy,
    peer: Option<Identity>,
    headers: &[(String, String)],
) -> Result<Presented, CliError> {
    let xfcc_value: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == XFCC_HEADER)
        .map(|(_, v)| v.as_str())
        .collect();
    let mut peer = peer;
    for source in policy.sources() {
        match source {
            Source::PeerCertificate => {
                if let Some(identity) = peer.take() {
                    return Ok(Presented::Peer(identity));
                }
            }
            Source::Xfcc if !xfcc_value.is_empty() => {
                return Ok(match xfcc::last_element_cert(&xfcc_value.join(",")) {
                    Ok(Some(pem)) => Presented::Xfcc(Identity::parse(&pem)),
                    Ok(None) => continue,
                    Err(e) => Presented::XfccMalformed(e.clone(), CertError::from(e)),
                });
            }
            Source::Xfcc => {}
        }
    }
    Ok(Presented::None)
}

/// What the upstream sees on allow: forward headers set from the identity, and every header the
/// filter strips (`Policy::stripped_headers`: the same list the filter removes).
/// The request is forwarded when allowed, and always in shadow mode; nothing reaches the
/// upstream otherwise.
pub(super) fn upstream_view(
    policy: &Policy,
    identity: Option<&Identity>,
    decision: &Decision,
    inbound: &[(String, String)],
) -> (Vec<(String, String)>, Vec<String>) {
    let shadow = policy.mode() == Mode::Shadow;
    if !decision.is_allowed() && !shadow {
        return (Vec::new(), Vec::new());
    }
    let mut set: Vec<(String, String)> = identity
        .map(|i| {
            policy
                .forward_header_values(i, decision)
                .into_iter()
                .map(|(name, value)| (String::from(name), value))
                .collect()
        })
        .unwrap_or_default();
    if shadow {
        set.push((String::from(SHADOW_HEADER), decision.reason.to_string()));
    }
    let stripped = policy.stripped_headers();
    let mut removed: Vec<String> = Vec::new();
    for (name, _) in inbound {
        if stripped.must_remove(name) && !removed.contains(name) {
            removed.push(name.clone());
        }
    }
    (set, removed)
}
