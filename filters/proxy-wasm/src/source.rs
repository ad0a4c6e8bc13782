//! Where the client certificate comes from: host properties (Envoy or NGINX) and, only when
//! the policy lists it, the `x-forwarded-client-cert` header.
//!
//! Sources are tried in policy order; only "no certificate here" moves on to the next. A
//! certificate that failed verification, a host failure or an unreadable header stop the
//! search: a later (weaker) source must never stand in for a refused one.

use std::rc::Rc;

use mtls_authz_core::identity::MAX_CERT_PEM_LEN;
use mtls_authz_core::xfcc::{self, XfccError};
use mtls_authz_core::{CertError, Identity, PeerVerification, Source};

use crate::cache::{CacheKey, IdentityCache, Parsed};
use crate::config::HostKind;
use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};

/// Envoy: the peer certificate's PEM (URL-encoded in some versions, plain in others).
pub const ENVOY_PEER_CERTIFICATE: &[&str] = &["connection", "peer_certificate"];
/// Envoy: whether the downstream connection is TLS with a client certificate.
pub const ENVOY_MTLS: &[&str] = &["connection", "mtls"];
/// Envoy: hex SHA-256 of the peer certificate's DER (the identity cache key).
pub const ENVOY_PEER_DIGEST: &[&str] = &["connection", "sha256_peer_certificate_digest"];
/// Envoy (≥ 1.39): whether the TLS layer verified the peer certificate on this connection
/// (a one-byte bool). `false` for a certificate let through unverified (`ACCEPT_UNTRUSTED`)
/// and, in Envoy 1.40, for every resumed TLS session.
pub const ENVOY_PEER_CERTIFICATE_VALID: &[&str] = &["connection", "peer_certificate_valid"];
/// NGINX (`$ssl_client_verify`): `SUCCESS`, `FAILED:<reason>` or `NONE`.
pub const NGINX_CLIENT_VERIFY: &[&str] = &["ngx", "ssl_client_verify"];
/// NGINX (`$ssl_client_raw_cert`): the client certificate's PEM.
pub const NGINX_CLIENT_RAW_CERT: &[&str] = &["ngx", "ssl_client_raw_cert"];
/// The forwarded-certificate header (lower case).
pub use mtls_authz_core::strip::XFCC_HEADER;

/// What is known about the client certificate of one request.
#[derive(Clone, Debug)]
pub enum ClientCertificate {
    /// No source had a certificate.
    Absent,
    /// The host says the certificate did not verify (or cannot say that it did).
    Unverified,
    /// The host failed while reading the certificate: deny, and count it.
    HostFailed(HostError),
    /// A certificate was read; this is what parsing it produced.
    Parsed(Rc<Parsed>),
}

impl ClientCertificate {
    /// The parsed identity, when there is one.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            ClientCertificate::Parsed(parsed) => parsed.as_ref().as_ref().ok(),
            _ => None,
        }
    }
}

/// One source's answer.
enum Found {
    /// Nothing here; try the next source.
    Nothing,
    /// A final answer.
    Certificate(ClientCertificate),
}

/// Reads the client certificate from the policy's sources, in order. Sets
/// `envoy_digest_seen` when Envoy's peer-certificate digest property was present (one of the
/// signs `auto` learns the proxy from).
pub fn client_certificate<H: Host>(
    host: &mut H,
    headers: &RequestHeaders,
    sources: &[Source],
    peer: PeerSource,
    cache: &mut IdentityCache,
    envoy_digest_seen: &mut bool,
) -> ClientCertificate {
    for source in sources {
        let found = match source {
            Source::PeerCertificate => peer_certificate(host, peer, cache, envoy_digest_seen),
            Source::Xfcc => forwarded_certificate(headers, cache),
        };
        if let Found::Certificate(cert) = found {
            return cert;
        }
    }
    ClientCertificate::Absent
}

fn host_failed(err: HostError) -> Found {
    Found::Certificate(ClientCertificate::HostFailed(err))
}

/// Where the TLS peer's certificate is read, and how its verification is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerSource {
    /// Whose properties (`auto`: Envoy's, then NGINX's).
    pub kind: HostKind,
    /// How the proxy's verification is known (`identity.peer_verification`).
    pub verification: PeerVerification,
}

fn peer_certificate<H: Host>(
    host: &mut H,
    peer: PeerSource,
    cache: &mut IdentityCache,
    envoy_digest_seen: &mut bool,
) -> Found {
    let envoy = |host: &mut H, cache: &mut IdentityCache, seen: &mut bool| {
        envoy(host, cache, seen, peer.verification)
    };
    match peer.kind {
        HostKind::Envoy => envoy(host, cache, envoy_digest_seen),
        HostKind::Nginx => nginx(host, cache),
        HostKind::Auto => match envoy(host, cache, envoy_digest_seen) {
            Found::Nothing => nginx(host, cache),
            found => found,
        },
    }
}

/// Envoy: the digest (the cache key) and, with `connection` verification, whether Envoy
/// verified the certificate on this connection (a cache hit = these two property reads);
/// on a miss `connection.mtls` and the PEM. A certificate Envoy does not report verified —
/// `false`, or no answer (an Envoy without the property) — is never parsed or served from
/// the cache: it is `certificate_unverified`.
fn envoy<H: Host>(
    host: &mut H,
    cache: &mut IdentityCache,
    digest_seen: &mut bool,
    verification: PeerVerification,
) -> Found {
    let digest_key = match host.get_property(ENVOY_PEER_DIGEST) {
        Ok(digest) => {
            *digest_seen = digest.is_some();
            digest.as_deref().and_then(CacheKey::from_host_digest)
        }
        Err(err) => return host_failed(err),
    };
    let verified = match verification {
        // The flag is not needed: do not pay for reading it.
        PeerVerification::Listener => true,
        PeerVerification::Connection => match host.get_property(ENVOY_PEER_CERTIFICATE_VALID) {
            Ok(valid) => verification.trusts(valid.as_deref().and_then(parse_bool) == Some(true)),
            Err(err) => return host_failed(err),
        },
    };
    if !verified && *digest_seen {
        // A certificate was presented (Envoy hashed it) and Envoy does not vouch for it.
        return Found::Certificate(ClientCertificate::Unverified);
    }
    if let Some(hit) = digest_key
        .filter(|_| verified)
        .and_then(|key| cache.get(&key))
    {
        return Found::Certificate(ClientCertificate::Parsed(hit));
    }
    match host.get_property(ENVOY_MTLS) {
        Ok(None) => {}
        Ok(Some(flag)) => match parse_bool(&flag) {
            Some(true) => {}
            Some(false) => return Found::Nothing,
            None => return Found::Certificate(ClientCertificate::Unverified),
        },
        Err(err) => return host_failed(err),
    }
    let pem = match host.get_property(ENVOY_PEER_CERTIFICATE) {
        Ok(Some(pem)) if !pem.is_empty() => pem,
        Ok(_) => return Found::Nothing,
        Err(err) => return host_failed(err),
    };
    if !verified {
        return Found::Certificate(ClientCertificate::Unverified);
    }
    let pem = match decode_envoy_pem(pem) {
        Ok(pem) => pem,
        Err(err) => return parsed_failure(err),
    };
    let key = digest_key.unwrap_or_else(|| CacheKey::of_bytes(&pem));
    Found::Certificate(ClientCertificate::Parsed(parse_cached(cache, key, &pem)))
}

/// NGINX: the raw certificate counts only when `ssl_client_verify` is `SUCCESS`.
fn nginx<H: Host>(host: &mut H, cache: &mut IdentityCache) -> Found {
    let verify = match host.get_property(NGINX_CLIENT_VERIFY) {
        Ok(Some(verify)) => verify,
        Ok(None) => return Found::Nothing,
        Err(err) => return host_failed(err),
    };
    match verify.as_slice() {
        b"SUCCESS" => {}
        // `NONE`: no certificate; empty: not a TLS connection.
        b"NONE" | b"" => return Found::Nothing,
        // `FAILED:<reason>` and anything unknown: never trust the certificate.
        _ => return Found::Certificate(ClientCertificate::Unverified),
    }
    match host.get_property(NGINX_CLIENT_RAW_CERT) {
        Ok(Some(pem)) if !pem.is_empty() => {
            let key = CacheKey::of_bytes(&pem);
            Found::Certificate(ClientCertificate::Parsed(parse_cached(cache, key, &pem)))
        }
        // Verified but no certificate to read: inconsistent, so refuse it.
        Ok(_) => Found::Certificate(ClientCertificate::Unverified),
        Err(err) => host_failed(err),
    }
}

/// `x-forwarded-client-cert`: every instance joined with `,` in order, last element's `Cert`.
fn forwarded_certificate(headers: &RequestHeaders, cache: &mut IdentityCache) -> Found {
    let instances = headers.all(XFCC_HEADER);
    if instances.is_empty() {
        return Found::Nothing;
    }
    let mut joined = Vec::new();
    for (i, value) in instances.iter().enumerate() {
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(value);
    }
    let Ok(text) = std::str::from_utf8(&joined) else {
        return parsed_failure(CertError::Invalid {
            field: "x-forwarded-client-cert",
            detail: "header is not UTF-8".to_string(),
        });
    };
    match xfcc::last_element_cert(text) {
        Ok(Some(pem)) => {
            let key = CacheKey::of_bytes(&pem);
            Found::Certificate(ClientCertificate::Parsed(parse_cached(cache, key, &pem)))
        }
        Ok(None) => Found::Nothing,
        Err(err) => parsed_failure(CertError::from(err)),
    }
}

fn parsed_failure(err: CertError) -> Found {
    Found::Certificate(ClientCertificate::Parsed(Rc::new(Err(err))))
}

fn parse_cached(cache: &mut IdentityCache, key: CacheKey, bytes: &[u8]) -> Rc<Parsed> {
    if let Some(hit) = cache.get(&key) {
        return hit;
    }
    cache.insert(key, parse_certificate(bytes))
}

/// The one place the filter turns bytes into an [`Identity`].
pub fn parse_certificate(bytes: &[u8]) -> Parsed {
    Identity::parse(bytes)
}

/// `true`/`false` as a proxy-wasm bool (one byte 1/0, Envoy) or as text (ngx_wasm_module).
fn parse_bool(value: &[u8]) -> Option<bool> {
    match value {
        [1] | b"true" => Some(true),
        [0] | b"false" => Some(false),
        _ => None,
    }
}

/// Envoy hands the PEM plain or URL-encoded. Plain PEM never contains `%`, so a `%` means
/// URL-encoded.
fn decode_envoy_pem(pem: Vec<u8>) -> Result<Vec<u8>, CertError> {
    if !pem.contains(&b'%') {
        return Ok(pem);
    }
    if pem.len() > 3 * MAX_CERT_PEM_LEN {
        return Err(CertError::TooLarge {
            len: pem.len(),
            max: 3 * MAX_CERT_PEM_LEN,
        });
    }
    xfcc::percent_decode(&pem).map_err(|err| match err {
        XfccError::BadPercentEncoding { offset } => {
            CertError::Pem(format!("bad percent-encoding at byte {offset}"))
        }
        other => CertError::Pem(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_in_both_encodings() {
        assert_eq!(parse_bool(&[1]), Some(true));
        assert_eq!(parse_bool(&[0]), Some(false));
        assert_eq!(parse_bool(b"true"), Some(true));
        assert_eq!(parse_bool(b"false"), Some(false));
        assert_eq!(parse_bool(b"TRUE"), None);
        assert_eq!(parse_bool(b""), None);
        assert_eq!(parse_bool(&[2]), None);
    }

    #[test]
    fn envoy_pem_plain_or_url_encoded() {
        let plain = b"-----BEGIN CERTIFICATE-----\nMIIB+/==\n-----END CERTIFICATE-----\n";
        assert_eq!(decode_envoy_pem(plain.to_vec()).unwrap(), plain.to_vec());
        let encoded = b"-----BEGIN%20CERTIFICATE-----%0AMIIB+/==%0A-----END%20CERTIFICATE-----%0a";
        assert_eq!(decode_envoy_pem(encoded.to_vec()).unwrap(), plain.to_vec());
        assert_eq!(
            decode_envoy_pem(b"abc%zz".to_vec()),
            Err(CertError::Pem("bad percent-encoding at byte 3".to_string()))
        );
        assert_eq!(
            decode_envoy_pem(b"abc%4".to_vec()),
            Err(CertError::Pem("bad percent-encoding at byte 3".to_string()))
        );
        let oversized = vec![b'%'; 3 * MAX_CERT_PEM_LEN + 1];
        assert!(matches!(
            decode_envoy_pem(oversized),
            Err(CertError::TooLarge { .. })
        ));
    }
}
