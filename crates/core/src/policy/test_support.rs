//! Hand-built identities for the policy unit tests (the certificate parser is tested on its
//! own; these tests only need `Identity` values with chosen attributes).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::dn::{oid_for_name, Attribute, DistinguishedName};
use crate::identity::Identity;
use crate::time::UnixTime;

/// The default request time of the tests.
pub(crate) const NOW: UnixTime = UnixTime(1_800_000_000);

/// A DN from `(short name, value)` pairs written in RFC 4514 order (last RDN first), one
/// attribute per RDN.
pub(crate) fn dn(rfc4514_order: &[(&str, &str)]) -> DistinguishedName {
    let rdns: Vec<Vec<Attribute>> = rfc4514_order
        .iter()
        .rev()
        .map(|(name, value)| vec![Attribute::utf8(oid_for_name(name).unwrap(), value)])
        .collect();
    DistinguishedName::from_rdns(rdns)
}

/// A usable client identity: `CN=<cn>,OU=<ou>,O=Example Health`, issued by
/// `CN=Example Health Issuing CA,O=Example Health` (AKI `9f1c`), clientAuth EKU, valid
/// around [`NOW`].
pub(crate) fn identity(cn: &str, ou: &str) -> Identity {
    Identity {
        subject: dn(&[("CN", cn), ("OU", ou), ("O", "Example Health")]),
        issuer: dn(&[("CN", "Example Health Issuing CA"), ("O", "Example Health")]),
        san_dns: vec![],
        san_uri: vec![],
        san_email: vec![],
        san_ip: vec![],
        spiffe_id: None,
        serial: "01ab".to_string(),
        fingerprint_sha256: [0x11; 32],
        fingerprint_sha256_hex: "11".repeat(32),
        fingerprint_sha256_signature_twin: None,
        eku: vec!["1.3.6.1.5.5.7.3.2".to_string(), "clientAuth".to_string()],
        eku_present: true,
        extensions: vec![],
        authority_key_id: Some("9f1c".to_string()),
        not_before: UnixTime(NOW.0 - 86_400),
        not_after: UnixTime(NOW.0 + 86_400),
        is_ca: false,
    }
}

/// Owned strings from string slices.
pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
