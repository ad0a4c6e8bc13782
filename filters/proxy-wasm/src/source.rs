//! Where the client certificate comes from: host properties (Envoy or NGINX) and, only when
//! the policy lists it, the `x-forwarded-client-cert` header.
//!
//! Sources are tried in policy order; only "no certificate here" moves on to the next. A
//! certificate that failed verification, a host failure or an unreadable header stop the
//! search: a later (weaker) source must never stand in for a refused one.
//!
//! The proxy is known before any certificate property is read ([`crate::target`]), so each
//! proxy's properties are read only in that proxy (ngx_wasm_module logs an `[alert] NYI` for
//! every Envoy property it lacks).

use std::rc::Rc;

use mtls_authz_core::identity::MAX_CERT_PEM_LEN;
use mtls_authz_core::xfcc::{self, XfccError};
use mtls_authz_core::{CertError, Identity, PeerVerification, Policy, Source};

use crate::cache::{CacheKey, Certificate, ConnectionCache, IdentityCache, Parsed};
use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};
use crate::target::Proxy;

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
/// NGINX (`$connection`): the connection's serial number (an HTTP/2 stream reports its
/// connection's), the key of [`ConnectionCertificates`].
pub const NGINX_CONNECTION: &[&str] = &["ngx", "connection"];
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
    Parsed(Rc<Certificate>),
}

impl ClientCertificate {
    /// The parsed identity, when there is one.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            ClientCertificate::Parsed(certificate) => certificate.identity(),
            _ => None,
        }
    }
}

/// What NGINX's TLS handshake gave one connection, remembered per connection serial (see
/// [`ConnectionCache`] for why that key is sound). Never a host failure, and never the
/// certificate itself: a verified one is found again in the [`IdentityCache`] by its key, so
/// every parsed certificate the filter keeps counts against that cache's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// `ssl_client_verify` `NONE` (or not a TLS connection).
    NoCertificate,
    /// `FAILED:<reason>`, an unknown value, or `SUCCESS` without a certificate.
    Unverified,
    /// `SUCCESS`; the certificate's [`IdentityCache`] key.
    Verified(CacheKey),
}

/// NGINX: connection serial → what its handshake gave.
pub type ConnectionCertificates = ConnectionCache<Handshake>;

// docs/DECISIONS.md promises under 128 bytes per remembered NGINX connection.
const _: () = assert!(ConnectionCertificates::ENTRY_BYTES < 128);

/// The caches a certificate lookup may use.
pub struct Caches<'a> {
    /// Parsed certificates by content.
    pub identities: &'a mut IdentityCache,
    /// NGINX: connection serial → what its handshake gave.
    pub connections: &'a mut ConnectionCertificates,
    /// The host clock (nanoseconds) for connection entries' age; `None` (clock failed): the
    /// connection cache is not used.
    pub now: Option<u64>,
}

/// One source's answer.
enum Found {
    /// Nothing here; try the next source.
    Nothing,
    /// A final answer.
    Certificate(ClientCertificate),
}

/// Reads the client certificate from `policy`'s sources, in order, with `proxy`'s
/// properties, trusting the proxy's verification as `identity.peer_verification` says. Sets
/// `envoy_digest_seen` when Envoy's peer-certificate digest property was present (one of the
/// signs `auto` learns the proxy from).
pub fn client_certificate<H: Host>(
    host: &mut H,
    headers: &RequestHeaders,
    policy: &Policy,
    proxy: Proxy,
    caches: Caches<'_>,
    envoy_digest_seen: &mut bool,
) -> ClientCertificate {
    let Caches {
        identities,
        connections,
        now,
    } = caches;
    for source in policy.sources() {
        let found = match source {
            Source::PeerCertificate => match proxy {
                Proxy::Envoy => envoy(
                    host,
                    identities,
                    policy,
                    policy.peer_verification(),
                    envoy_digest_seen,
                ),
                Proxy::Nginx => nginx(host, identities, connections, now, policy),
            },
            Source::Xfcc => forwarded_certificate(headers, identities, policy),
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

fn unverified() -> Found {
    Found::Certificate(ClientCertificate::Unverified)
}

/// Envoy: the digest (the cache key) and, with `connection` verification, whether Envoy
/// verified the certificate on this connection (a cache hit = these two property reads);
/// on a miss `connection.mtls` and the PEM. A certificate Envoy does not report verified —
/// `false`, or no answer (an Envoy without the property) — is never parsed or served from
/// the cache: it is `certificate_unverified`.
fn envoy<H: Host>(
    host: &mut H,
    cache: &mut IdentityCache,
    policy: &Policy,
    verification: PeerVerification,
    digest_seen: &mut bool,
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
        return unverified();
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
            None => return unverified(),
        },
        Err(err) => return host_failed(err),
    }
    let pem = match host.get_property(ENVOY_PEER_CERTIFICATE) {
        Ok(Some(pem)) if !pem.is_empty() => pem,
        Ok(_) => return Found::Nothing,
        Err(err) => return host_failed(err),
    };
    if !verified {
        return unverified();
    }
    let pem = match decode_envoy_pem(pem) {
        Ok(pem) => pem,
        Err(err) => return parsed_failure(err),
    };
    let key = digest_key.unwrap_or_else(|| CacheKey::of_bytes(&pem));
    Found::Certificate(ClientCertificate::Parsed(parse_cached(
        cache, key, &pem, policy,
    )))
}

/// NGINX: what the connection's handshake gave — from the connection cache when this
/// connection was seen before and its certificate is still in the identity cache (one
/// property read), else read from NGINX and remembered. `identity.peer_verification` does
/// not matter here: NGINX's own verdict (`ssl_client_verify`) is read for every connection,
/// resumed sessions included, and a remembered connection costs nothing more.
fn nginx<H: Host>(
    host: &mut H,
    identities: &mut IdentityCache,
    connections: &mut ConnectionCertificates,
    now: Option<u64>,
    policy: &Policy,
) -> Found {
    // Only an optimisation: a serial that cannot be read or parsed reads the certificate.
    let serial = host
        .get_property(NGINX_CONNECTION)
        .ok()
        .flatten()
        .and_then(|value| parse_serial(&value));
    let slot = serial.zip(now);
    if let Some((serial, now)) = slot {
        match connections.get(serial, now) {
            Some(Handshake::NoCertificate) => return Found::Nothing,
            Some(Handshake::Unverified) => return unverified(),
            Some(Handshake::Verified(key)) => {
                if let Some(hit) = identities.get(&key) {
                    return Found::Certificate(ClientCertificate::Parsed(hit));
                }
                // The identity cache let it go: read the handshake again.
            }
            None => {}
        }
    }
    let (found, handshake) = nginx_handshake(host, identities, policy);
    if let (Some((serial, now)), Some(handshake)) = (slot, handshake) {
        connections.insert(serial, now, handshake);
    }
    found
}

/// A connection serial: 1 to 20 ASCII digits that fit in a u64.
fn parse_serial(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 20 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// NGINX: the raw certificate counts only when `ssl_client_verify` is `SUCCESS`. Also what
/// to remember for the connection (`None` after a host failure: nothing).
fn nginx_handshake<H: Host>(
    host: &mut H,
    cache: &mut IdentityCache,
    policy: &Policy,
) -> (Found, Option<Handshake>) {
    let verify = match host.get_property(NGINX_CLIENT_VERIFY) {
        Ok(Some(verify)) => verify,
        Ok(None) => return (Found::Nothing, Some(Handshake::NoCertificate)),
        Err(err) => return (host_failed(err), None),
    };
    match verify.as_slice() {
        b"SUCCESS" => {}
        // `NONE`: no certificate; empty: not a TLS connection.
        b"NONE" | b"" => return (Found::Nothing, Some(Handshake::NoCertificate)),
        // `FAILED:<reason>` and anything unknown: never trust the certificate.
        _ => return (unverified(), Some(Handshake::Unverified)),
    }
    match host.get_property(NGINX_CLIENT_RAW_CERT) {
        Ok(Some(pem)) if !pem.is_empty() => {
            let key = CacheKey::of_bytes(&pem);
            let certificate = parse_cached(cache, key, &pem, policy);
            (
                Found::Certificate(ClientCertificate::Parsed(certificate)),
                Some(Handshake::Verified(key)),
            )
        }
        // Verified but no certificate to read: inconsistent, so refuse it.
        Ok(_) => (unverified(), Some(Handshake::Unverified)),
        Err(err) => (host_failed(err), None),
    }
}

/// `x-forwarded-client-cert`: every instance joined with `,` in order, last element's `Cert`.
fn forwarded_certificate(
    headers: &RequestHeaders,
    cache: &mut IdentityCache,
    policy: &Policy,
) -> Found {
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
            Found::Certificate(ClientCertificate::Parsed(parse_cached(
                cache, key, &pem, policy,
            )))
        }
        Ok(None) => Found::Nothing,
        Err(err) => parsed_failure(CertError::from(err)),
    }
}

fn parsed_failure(err: CertError) -> Found {
    Found::Certificate(ClientCertificate::Parsed(Rc::new(Certificate::failed(err))))
}

fn parse_cached(
    cache: &mut IdentityCache,
    key: CacheKey,
    bytes: &[u8],
    policy: &Policy,
) -> Rc<Certificate> {
    if let Some(hit) = cache.get(&key) {
        return hit;
    }
    cache.insert(key, Certificate::new(parse_certificate(bytes), policy))
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
    fn connection_serials_are_plain_decimal_u64() {
        assert_eq!(parse_serial(b"1"), Some(1));
        assert_eq!(parse_serial(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"-1",
            b"+1",
            b" 1",
            b"1a",
            b"123456789012345678901",
        ] {
            assert_eq!(parse_serial(bad), None, "{bad:?}");
        }
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
