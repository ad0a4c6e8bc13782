//! The shared fixture certificates (tests/fixtures/certs) through `Identity::parse`: the
//! attack encodings must decode to exactly the values the case tables reason about.
//! Only values that do not depend on keys are asserted (names, encodings, SANs, times...).
#![allow(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns; a missing fixture should fail loudly"
)]

use mtls_authz_core::dn::ValueEncoding;
use mtls_authz_core::{CertError, CertificateFile, Identity, Selector, UnixTime};

macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/certs/", $path))
    };
}

const CN: &str = "2.5.4.3";
const OU: &str = "2.5.4.11";
const O: &str = "2.5.4.10";
/// 2025-01-01T00:00:00Z and 2099-12-31T23:59:59Z: the fixtures' normal validity window.
const NORMAL_VALIDITY: (UnixTime, UnixTime) = (
    UnixTime::from_secs(1_735_689_600),
    UnixTime::from_secs(4_102_444_799),
);

fn parse(bytes: &[u8]) -> Identity {
    Identity::parse(bytes).expect("fixture parses")
}

fn values<'a>(id: &'a Identity, oid: &'a str) -> Vec<&'a str> {
    id.subject.values(oid).collect()
}

fn ou_encoding(id: &Identity) -> ValueEncoding {
    id.subject
        .rdns
        .iter()
        .flatten()
        .find(|a| a.oid == OU)
        .expect("an OU")
        .encoding
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn normal_client() {
    let id = parse(fixture!("healthcare/clinician-alice.pem"));
    assert_eq!(
        id.subject.rfc4514,
        "CN=alice,OU=Clinicians,O=Example Health"
    );
    assert_eq!(
        id.issuer.rfc4514,
        "CN=Example Health Issuing CA,O=Example Health"
    );
    assert_eq!(id.eku, ["1.3.6.1.5.5.7.3.2", "clientAuth"]);
    assert!(id.eku_present && !id.is_ca);
    assert_eq!((id.not_before, id.not_after), NORMAL_VALIDITY);
    assert_eq!(id.spiffe_id, None);
    assert_eq!(id.fingerprint_sha256_hex.len(), 64);
    assert_eq!(id.authority_key_id.as_ref().map(String::len), Some(40));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn name_injection_attacks_stay_single_values() {
    let comma = parse(fixture!("attack/cn-comma-ou-admins.pem"));
    assert_eq!(values(&comma, CN), ["x,OU=Admins"]);
    assert_eq!(values(&comma, OU), ["Billing"]);
    assert_eq!(
        comma.subject.rfc4514,
        "CN=x\\,OU\\=Admins,OU=Billing,O=Example Health"
    );

    let nul = parse(fixture!("attack/cn-with-nul.pem"));
    assert_eq!(values(&nul, CN), ["admin\u{0}.evil"]);
    assert!(nul.subject.rfc4514.starts_with("CN=admin\\00.evil,"));

    let role = parse(fixture!("attack/cn-role-admin.pem"));
    assert_eq!(values(&role, CN), ["role=admin"]);

    let trailing = parse(fixture!("attack/ou-admins-trailing-space.pem"));
    assert_eq!(values(&trailing, OU), ["Admins "]);
    assert_eq!(
        trailing.subject.rfc4514,
        "CN=eve,OU=Admins\\ ,O=Example Health"
    );
    assert_eq!(
        values(&parse(fixture!("attack/ou-admins-lowercase.pem")), OU),
        ["admins"]
    );
    assert_eq!(
        values(&parse(fixture!("attack/ou-notadmins.pem")), OU),
        ["NotAdmins"]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn repeated_and_multi_valued_attributes_yield_every_value() {
    let multi_ou = parse(fixture!("attack/multi-ou.pem"));
    assert_eq!(values(&multi_ou, OU), ["Clinicians", "Admins"]);
    let multi_cn = parse(fixture!("attack/multi-cn.pem"));
    assert_eq!(values(&multi_cn, CN), ["alice", "admin"]);
    let rdn = parse(fixture!("attack/multi-valued-rdn.pem"));
    assert_eq!(rdn.subject.rfc4514, "OU=Clinicians+CN=x,O=Example Health");
    assert_eq!(values(&rdn, OU), ["Clinicians"]);
    assert_eq!(values(&rdn, CN), ["x"]);
    let orgs = parse(fixture!("tenants/multi-org-user.pem"));
    assert_eq!(values(&orgs, O), ["acme", "globex"]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_string_encoding_of_admins_decodes_to_admins() {
    for (bytes, encoding) in [
        (
            &fixture!("attack/bmpstring-ou.pem")[..],
            ValueEncoding::BmpString,
        ),
        (
            &fixture!("attack/teletexstring-ou.pem")[..],
            ValueEncoding::TeletexString,
        ),
        (
            &fixture!("attack/printablestring-ou.pem")[..],
            ValueEncoding::PrintableString,
        ),
    ] {
        let id = parse(bytes);
        assert_eq!(values(&id, OU), ["Admins"]);
        assert_eq!(ou_encoding(&id), encoding);
    }
    // A homoglyph (Cyrillic А) is a different string.
    let homoglyph = parse(fixture!("attack/utf8string-ou.pem"));
    assert_eq!(values(&homoglyph, OU), ["\u{410}dmins"]);
    assert_eq!(ou_encoding(&homoglyph), ValueEncoding::Utf8String);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn spiffe_ids_and_sans() {
    let billing = parse(fixture!("services/billing-api.pem"));
    assert_eq!(
        billing.spiffe_id.as_deref(),
        Some("spiffe://example.org/ns/billing/sa/api")
    );
    let two = parse(fixture!("attack/several-uri-sans.pem"));
    assert_eq!(two.san_uri.len(), 2);
    assert_eq!(two.spiffe_id, None);
    for bytes in [
        &fixture!("attack/non-spiffe-uri.pem")[..],
        &fixture!("attack/spiffe-uppercase-domain.pem")[..],
        &fixture!("attack/spiffe-uppercase-scheme.pem")[..],
        &fixture!("attack/spiffe-with-query.pem")[..],
    ] {
        let id = parse(bytes);
        assert_eq!(id.san_uri.len(), 1);
        assert_eq!(id.spiffe_id, None, "{:?}", id.san_uri);
    }
    let inventory = parse(fixture!("services/inventory.pem"));
    assert_eq!(
        inventory.san_dns,
        [
            "inventory.internal.example",
            "inventory-v2.internal.example"
        ]
    );
    assert_eq!(inventory.san_ip, ["10.0.0.5", "2001:db8::5"]);
    assert_eq!(inventory.san_email.len(), 1);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn identity_check_inputs() {
    let expired = parse(fixture!("attack/expired.pem"));
    assert_eq!(
        (expired.not_before, expired.not_after),
        (
            UnixTime::from_secs(1_577_836_800),
            UnixTime::from_secs(1_640_995_199)
        )
    );
    let future = parse(fixture!("attack/not-yet-valid.pem"));
    assert_eq!(future.not_before, UnixTime::from_secs(3_786_912_000));
    assert!(parse(fixture!("attack/ca-true-client.pem")).is_ca);
    let no_eku = parse(fixture!("attack/no-eku-extension.pem"));
    assert!(!no_eku.eku_present && no_eku.eku.is_empty());
    let server_only = parse(fixture!("attack/no-client-auth-eku.pem"));
    assert_eq!(server_only.eku, ["1.3.6.1.5.5.7.3.1", "serverAuth"]);
    assert_eq!(
        parse(fixture!("attack/serial-leading-zero.pem")).serial,
        "ff00000000000001"
    );
    assert_eq!(
        parse(fixture!("attack/revoked-serial.pem")).serial,
        "8000000000000abc"
    );
    let svc_a = parse(fixture!("services/svc-a-extension.pem"));
    assert_eq!(
        svc_a.extensions,
        [(
            "1.3.6.1.4.1.55555.1".to_string(),
            "api-client-service-a".to_string()
        )]
    );
    let a = parse(fixture!("services/partner-a-client.pem"));
    let b = parse(fixture!("services/partner-b-client.pem"));
    assert_eq!(a.issuer.rfc4514, b.issuer.rfc4514);
    assert_ne!(a.authority_key_id, b.authority_key_id);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn malformed_inputs_fail_with_the_right_error() {
    assert!(matches!(
        Identity::parse(fixture!("malformed/truncated.der")),
        Err(CertError::Der(_))
    ));
    assert!(matches!(
        Identity::parse(fixture!("malformed/garbage.der")),
        Err(CertError::Der(_))
    ));
    assert!(matches!(
        Identity::parse(fixture!("malformed/trailing-garbage.der")),
        Err(CertError::TrailingData { .. })
    ));
    assert!(matches!(
        Identity::parse(fixture!("malformed/trailing-garbage.pem")),
        Err(CertError::TrailingData { .. })
    ));
    assert_eq!(
        Identity::parse(fixture!("malformed/not-a-cert.pem")),
        Err(CertError::Pem(
            "label is `PRIVATE KEY`, expected `CERTIFICATE`".into()
        ))
    );
    assert_eq!(
        Identity::parse(fixture!("malformed/two-certs.pem")),
        Err(CertError::MultiplePem)
    );
    assert!(matches!(
        Identity::parse(fixture!("attack/oversized.pem")),
        Err(CertError::TooLarge { .. })
    ));
}

/// `Selector::for_identity` (what `inspect` lists) names every selector the way `parse`
/// reads it back, and covers each identity field: a new selector that is listed but not
/// parseable, or parseable but not listed, fails here.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_listed_selector_parses_back_to_itself() {
    let identity = parse(fixture!("services/svc-a-extension.pem"));
    let listed = Selector::for_identity(&identity);
    for (selector, values) in &listed {
        assert_eq!(Selector::parse(&selector.name()).as_ref(), Ok(selector));
        if !matches!(selector, Selector::Subject | Selector::Issuer) {
            assert_eq!(values, &selector.values(&identity));
        }
    }
    let names: Vec<String> = listed.iter().map(|(s, _)| s.name()).collect();
    for fixed in [
        "subject",
        "issuer",
        "san.dns",
        "san.uri",
        "san.email",
        "san.ip",
        "spiffe_id",
        "serial",
        "fingerprint_sha256",
        "eku",
    ] {
        assert!(
            names.iter().any(|n| n == fixed),
            "{fixed} not listed: {names:?}"
        );
    }
    assert!(names.iter().any(|n| n.starts_with("subject.")));
    assert!(names.iter().any(|n| n.starts_with("issuer.")));
    assert!(names.iter().any(|n| n.starts_with("ext.")), "{names:?}");
}

/// A certificate file is the leaf then its chain: the first block is the leaf, each later
/// one a chain certificate, text between blocks is ignored; one block reads as `parse` does.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn certificate_file_takes_the_first_certificate_as_the_leaf() {
    let leaf = fixture!("attack/leaf-under-expired-intermediate.pem");
    let chain = fixture!("attack/leaf-under-expired-intermediate.chain.pem");
    let file = CertificateFile::parse(chain).expect("chain file parses");
    assert_eq!(file.leaf, parse(leaf));
    assert_eq!(file.chain.len(), 1);
    assert_eq!(file.issuer_position(), Some(1));
    let two = CertificateFile::parse(fixture!("malformed/two-certs.pem")).expect("two leaves");
    assert_eq!(
        two.leaf.subject.rfc4514,
        "CN=alice,OU=Clinicians,O=Example Health"
    );
    assert_eq!(two.chain.len(), 1);
    assert_eq!(two.issuer_position(), None);
    let mut with_text = b"subject=leaf\n".to_vec();
    with_text.extend_from_slice(leaf);
    with_text.extend_from_slice(b"issuer=ca\n");
    with_text.extend_from_slice(fixture!("ca/health-issuing.pem"));
    let file = CertificateFile::parse(&with_text).expect("text between blocks");
    assert_eq!(file.leaf, parse(leaf));
    assert_eq!(file.chain.len(), 1);
    let single = CertificateFile::parse(leaf).expect("one block");
    assert!(single.chain.is_empty());
    assert_eq!(
        CertificateFile::parse(fixture!("malformed/truncated.der")),
        Identity::parse(fixture!("malformed/truncated.der")).map(|leaf| CertificateFile {
            leaf,
            chain: Vec::new()
        })
    );
    let mut broken = leaf.to_vec();
    broken.extend_from_slice(fixture!("malformed/not-a-cert.pem"));
    assert_eq!(
        CertificateFile::parse(&broken),
        Err(CertError::Invalid {
            field: "chain",
            detail: "certificate 1 after the leaf: certificate PEM is malformed: label is `PRIVATE KEY`, expected `CERTIFICATE`".into()
        })
    );
}

/// `attack/revoked-fingerprint-twin` is `healthcare/revoked-by-fingerprint` with its ECDSA
/// signature's `s` replaced by `n - s` (the generator checks the twin still verifies): each
/// one's signature-twin fingerprint is the other's presented fingerprint.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ecdsa_signature_twins_know_each_others_fingerprint() {
    let original = parse(fixture!("healthcare/revoked-by-fingerprint.pem"));
    let twin = parse(fixture!("attack/revoked-fingerprint-twin.pem"));
    assert_ne!(original.fingerprint_sha256, twin.fingerprint_sha256);
    assert_eq!(original.subject, twin.subject);
    assert_eq!(original.serial, twin.serial);
    assert_eq!(
        original.fingerprint_sha256_signature_twin,
        Some(twin.fingerprint_sha256)
    );
    assert_eq!(
        twin.fingerprint_sha256_signature_twin,
        Some(original.fingerprint_sha256)
    );
}
