//! `cert_der`, `cert_pem`: certificate parsing ([`Identity::from_der`], [`Identity::from_pem`]).

use mtls_authz_core::hex;
use mtls_authz_core::{ClientCert, Identity, Policy, Request, Selector, UnixTime};
use sha2::{Digest, Sha256};

use crate::dn;
use crate::forward::{assert_header_safe, percent_decode};
use crate::json_writer;

/// Selectors every accepted certificate's identity is forwarded with (plus `ext.<oid>` for
/// each extension it carries).
const FORWARDED: &[&str] = &[
    "subject",
    "issuer",
    "subject.CN",
    "subject.OU",
    "subject.O",
    "subject.2.5.4.45",
    "issuer.CN",
    "san.dns",
    "san.uri",
    "san.email",
    "san.ip",
    "spiffe_id",
    "serial",
    "fingerprint_sha256",
    "eku",
];

/// Most `ext.<oid>` headers one certificate adds (bounds the work per input).
const MAX_EXTENSION_HEADERS: usize = 8;

/// DER input: see the crate table.
pub fn check_der(data: &[u8]) {
    if let Ok(identity) = Identity::from_der(data) {
        let fingerprint: [u8; 32] = Sha256::digest(data).into();
        assert_eq!(
            identity.fingerprint_sha256, fingerprint,
            "fingerprint is not the SHA-256 of the DER"
        );
        check_identity(&identity);
    }
}

/// PEM input: see the crate table.
pub fn check_pem(data: &[u8]) {
    if let Ok(identity) = Identity::from_pem(data) {
        // `parse` sniffs the format: what PEM parsing accepts, it must read as PEM too.
        assert_eq!(
            Identity::parse(data).as_ref(),
            Ok(&identity),
            "parse and from_pem disagree"
        );
        check_identity(&identity);
    }
}

/// What holds for every identity the parser accepted.
pub fn check_identity(identity: &Identity) {
    assert_eq!(
        identity.fingerprint_sha256_hex,
        hex::to_hex(&identity.fingerprint_sha256),
        "fingerprint hex"
    );
    // A negative serial (refused by the identity checks) renders as `-` + its magnitude.
    let serial = identity
        .serial
        .strip_prefix('-')
        .unwrap_or(&identity.serial);
    assert!(
        !serial.is_empty()
            && serial
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "serial {serial:?} is not lowercase hex"
    );
    assert!(
        serial == "0" || !serial.starts_with("00"),
        "serial {serial:?} keeps a leading zero octet"
    );
    for dn in [&identity.subject, &identity.issuer] {
        if !dn.rdns.is_empty() {
            dn::assert_boundaries(dn);
            dn::assert_pin_round_trip(dn);
        }
    }
    check_forward_headers(identity);
}

/// Every selector's forward header is header-safe and decodes back to the identity's values.
fn check_forward_headers(identity: &Identity) {
    let mut selectors: Vec<String> = FORWARDED.iter().map(|s| s.to_string()).collect();
    for (oid, _) in identity.extensions.iter().take(MAX_EXTENSION_HEADERS) {
        let selector = format!("ext.{oid}");
        if !selectors.contains(&selector) {
            selectors.push(selector);
        }
    }
    let headers: Vec<String> = selectors
        .iter()
        .enumerate()
        .map(|(i, selector)| format!("\"x-s{i}\":{}", json_writer::string(selector)))
        .collect();
    let policy = format!(
        r#"{{"identity":{{"require_client_auth_eku":false}},"rules":[{{"name":"all","paths":["/**"],"allow":["authenticated"]}}],"forward_headers":{{{}}}}}"#,
        headers.join(",")
    );
    let policy = Policy::from_json(&policy).unwrap_or_else(|e| panic!("{policy}: {e}"));
    let request = Request {
        method: "GET",
        path: "/",
    };
    let decision = policy.evaluate(
        &request,
        ClientCert::Present(identity),
        UnixTime(identity.not_before.0),
    );
    let rendered = policy.forward_header_values(identity, &decision);
    for (i, selector_text) in selectors.iter().enumerate() {
        let name = format!("x-s{i}");
        let selector = Selector::parse(selector_text).expect("valid selector");
        let values = selector.values(identity);
        let header = rendered.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        let Some(header) = header else {
            assert!(
                values.is_empty(),
                "{selector_text}: values {values:?} not forwarded"
            );
            continue;
        };
        assert_header_safe(header);
        let decoded: Vec<Vec<u8>> = if selector.is_multi_valued() {
            header.split(',').map(percent_decode).collect()
        } else {
            vec![percent_decode(header)]
        };
        let want: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        assert_eq!(
            decoded, want,
            "{selector_text}: header {header:?} does not decode to the identity's values"
        );
    }
}
