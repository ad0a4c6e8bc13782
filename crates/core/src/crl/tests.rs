//! CRL validation against the generated fixtures (tests/fixtures/crls, gen_crls.py) and the
//! 100,000-entry CRL the fixture harness builds.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};

use super::*;
use crate::crypto::{EcCurve, KeyType};

/// 2026-11-23T00:00:00Z, the fixtures' default request time.
const NOW: UnixTime = UnixTime(1_795_392_000);
const DAY: u64 = 86_400;

fn fixture(path: &str) -> Vec<u8> {
    mtls_authz_fixtures::files::read(path).unwrap()
}

fn ca(name: &str) -> CaCertificate {
    CaCertificate::parse(&mtls_authz_fixtures::cert_bytes(name).unwrap()).unwrap()
}

fn identity(name: &str) -> Identity {
    Identity::parse(&mtls_authz_fixtures::cert_bytes(name).unwrap()).unwrap()
}

fn crl_bytes(name: &str) -> Vec<u8> {
    fixture(&format!("crls/{name}.crl"))
}

/// Every problem `check` finds for fixture CRL `name` against CA `ca_name`.
fn problems(name: &str, ca_name: &str) -> Vec<CrlError> {
    let der = crl_bytes(name);
    Crl::parse(&der, &CrlLimits::DEFAULT)
        .unwrap()
        .check(&ca(ca_name), NOW)
}

fn list(name: &str, ca_name: &str) -> RevocationList {
    RevocationList::from_crl(&crl_bytes(name), &ca(ca_name), NOW, &CrlLimits::DEFAULT)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

const HEALTH: &str = "ca/health-issuing";
const RSA: &str = "crl/ca-rsa";

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn good_crls_validate_with_every_algorithm() {
    let table = [
        (
            "health-p256",
            HEALTH,
            SignatureAlgorithm::EcdsaP256Sha256,
            3,
            "2",
        ),
        (
            "rsa-pkcs1-sha256",
            RSA,
            SignatureAlgorithm::RsaPkcs1Sha256,
            2,
            "2",
        ),
        (
            "rsa-pkcs1-sha384",
            RSA,
            SignatureAlgorithm::RsaPkcs1Sha384,
            2,
            "2",
        ),
        (
            "rsa-pkcs1-sha512",
            RSA,
            SignatureAlgorithm::RsaPkcs1Sha512,
            2,
            "2",
        ),
        (
            "rsa-pss-sha256",
            RSA,
            SignatureAlgorithm::RsaPssSha256,
            2,
            "2",
        ),
        (
            "rsa-pss-sha512",
            RSA,
            SignatureAlgorithm::RsaPssSha512,
            2,
            "2",
        ),
        (
            "p384",
            "crl/ca-p384",
            SignatureAlgorithm::EcdsaP384Sha384,
            1,
            "2",
        ),
        (
            "ed25519",
            "crl/ca-ed25519",
            SignatureAlgorithm::Ed25519,
            1,
            "2",
        ),
        (
            "health-empty",
            HEALTH,
            SignatureAlgorithm::EcdsaP256Sha256,
            0,
            "3",
        ),
        (
            "health-hold",
            HEALTH,
            SignatureAlgorithm::EcdsaP256Sha256,
            1,
            "4",
        ),
        (
            "idp-user-certs",
            HEALTH,
            SignatureAlgorithm::EcdsaP256Sha256,
            3,
            "2",
        ),
    ];
    for (name, ca_name, algorithm, entries, number) in table {
        let der = crl_bytes(name);
        let crl = Crl::parse(&der, &CrlLimits::DEFAULT).unwrap();
        assert_eq!(crl.signature_algorithm(), Ok(algorithm), "{name}");
        assert_eq!(crl.check(&ca(ca_name), NOW), vec![], "{name}");
        let list = crl.validate(&ca(ca_name), NOW).unwrap();
        assert_eq!(list.len(), entries, "{name}");
        assert_eq!(list.number().to_string(), number, "{name}");
        assert_eq!(format_time(list.this_update()), "2026-11-20T00:00:00Z");
        assert_eq!(format_time(list.next_update()), "2026-11-27T00:00:00Z");
        assert!(!list.is_stale(NOW, 0), "{name}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_and_der_are_the_same_crl() {
    for name in ["health-p256", "rsa-pkcs1-sha256"] {
        let pem = fixture(&format!("crls/{name}.pem"));
        let der = crl_der(&pem, &CrlLimits::DEFAULT).unwrap();
        assert_eq!(der.as_ref(), crl_bytes(name).as_slice(), "{name}");
        assert!(matches!(der, Cow::Owned(_)));
        assert!(matches!(
            crl_der(&crl_bytes(name), &CrlLimits::DEFAULT).unwrap(),
            Cow::Borrowed(_)
        ));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn revokes_only_its_own_issuers_certificates() {
    let health = list("health-p256", HEALTH);
    assert!(health.is_revoked(&identity("healthcare/revoked-clinician")));
    // Serial 0x8000000000000abc: DER 00 80 ...; listed in the CRL as the same INTEGER.
    assert!(health.is_revoked(&identity("attack/revoked-serial")));
    assert!(!health.is_revoked(&identity("healthcare/clinician-alice")));
    // billing-api's serial IS listed, but the services CA issued billing-api.
    let billing = identity("services/billing-api");
    assert!(health.contains_serial(&billing.serial));
    assert!(!health.covers(&billing));
    assert!(!health.is_revoked(&billing));
    // The other key types' CRLs revoke their own clients.
    for (crl, ca_name, client) in [
        ("rsa-pss-sha256", RSA, "crl/rsa-client"),
        ("rsa-pkcs1-sha512", RSA, "crl/rsa-client"),
        ("p384", "crl/ca-p384", "crl/p384-client"),
        ("ed25519", "crl/ca-ed25519", "crl/ed25519-client"),
    ] {
        let list = list(crl, ca_name);
        assert!(list.is_revoked(&identity(client)), "{crl}");
        assert!(
            !list.covers(&identity("healthcare/revoked-clinician")),
            "{crl}"
        );
    }
}

/// partner-a and partner-b have the same name; only the key id tells their certificates apart.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn same_name_other_key_is_not_covered() {
    let partner_a = ca("ca/partner-a");
    let partner_b_client = identity("services/partner-b-client");
    let partner_a_client = identity("services/partner-a-client");
    let list = RevocationList {
        issuer: partner_a.subject.clone(),
        issuer_key_id: partner_a.key_id_hex(),
        number: CrlNumber::from_be_bytes(&[1]),
        this_update: NOW,
        next_update: NOW,
        entry_count: 0,
        serials: RevokedSerials::default().into(),
        signature: Vec::new(),
    };
    assert!(list.covers(&partner_a_client));
    assert!(!list.covers(&partner_b_client));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn certificate_hold_is_revoked() {
    let hold = list("health-hold", HEALTH);
    assert!(hold.is_revoked(&identity("healthcare/admin-bob")));
    let der = crl_bytes("health-hold");
    let crl = Crl::parse(&der, &CrlLimits::DEFAULT).unwrap();
    let entries: Vec<CrlEntry> = crl.entries().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].serial, identity("healthcare/admin-bob").serial);
    assert_eq!(entries[0].reason, Some(RevocationReason::CertificateHold));
    assert_eq!(
        entries[0].revocation_date.map(format_time).as_deref(),
        Some("2026-11-19T12:00:00Z")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn expired_crl_is_accepted_but_stale() {
    let expired = list("expired", HEALTH);
    assert_eq!(format_time(expired.next_update()), "2026-11-10T00:00:00Z");
    assert!(expired.is_stale(NOW, 0));
    assert!(expired.is_stale(NOW, 12 * DAY));
    assert!(!expired.is_stale(NOW, 13 * DAY));
    // Stale from the second after nextUpdate.
    assert!(!expired.is_stale(expired.next_update(), 0));
    assert!(expired.is_stale(UnixTime(expired.next_update().as_secs() + 1), 0));
}

fn message(errors: &[CrlError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn refused_crls_say_why() {
    let revoked_clinician = identity("healthcare/revoked-clinician").serial;
    let billing = identity("services/billing-api").serial;
    let table: Vec<(&str, &str, Vec<String>)> = vec![
        ("bad-signature", HEALTH, vec![String::from(
            "CRL signature: ECDSA P-256 SHA-256 signature does not verify",
        )]),
        ("rogue-same-name", HEALTH, vec![
            format!(
                "the CRL's authorityKeyIdentifier {} is not the CA's subjectKeyIdentifier {}",
                ca("crl/rogue-health-ca").key_id_hex().unwrap(),
                ca(HEALTH).key_id_hex().unwrap()
            ),
            String::from("CRL signature: ECDSA P-256 SHA-256 signature does not verify"),
        ]),
        ("not-yet-valid", HEALTH, vec![String::from(
            "thisUpdate 2026-12-01T00:00:00Z is after now (2026-11-23T00:00:00Z)",
        )]),
        ("no-next-update", HEALTH, vec![String::from(
            "no nextUpdate: the CRL never says when it goes stale",
        )]),
        ("no-crl-number", HEALTH, vec![String::from(
            "no cRLNumber extension: an older CRL could not be told from a newer one",
        )]),
        ("unknown-critical-extension", HEALTH, vec![String::from(
            "unknown critical extension 1.3.6.1.4.1.55555.7",
        )]),
        ("unknown-critical-entry-extension", HEALTH, vec![format!(
            "unknown critical extension 1.3.6.1.4.1.55555.7 (entry serial {revoked_clinician})"
        )]),
        ("indirect-idp", HEALTH, vec![String::from(
            "indirect CRL (issuingDistributionPoint indirectCRL is TRUE): it could revoke other issuers' certificates; only direct CRLs are accepted",
        )]),
        ("indirect-entry", HEALTH, vec![format!(
            "indirect CRL (entry serial {billing} has a certificateIssuer extension): it could revoke other issuers' certificates; only direct CRLs are accepted"
        )]),
        ("delta", HEALTH, vec![String::from(
            "delta CRL (deltaCRLIndicator, base CRL number 1): deltas are not applied; publish a complete CRL",
        )]),
        ("idp-only-ca-certs", HEALTH, vec![String::from(
            "the CRL covers only part of its issuer's certificates (onlyContainsCACerts: it covers no client certificate); a complete CRL is required",
        )]),
        ("idp-only-some-reasons", HEALTH, vec![String::from(
            "the CRL covers only part of its issuer's certificates (onlySomeReasons: other reasons are in another CRL); a complete CRL is required",
        )]),
        // The signature itself is a valid ECDSA P-256 SHA-256 one: only the mismatch refuses it.
        ("mismatched-algorithms", HEALTH, vec![String::from(
            "tbsCertList.signature (ECDSA P-384 SHA-384) differs from signatureAlgorithm (ECDSA P-256 SHA-256)",
        )]),
        ("pss-salt-20", RSA, vec![String::from(
            "CRL signature algorithm: RSASSA-PSS parameters refused: salt length 20 (the default); it must equal the SHA-256 output length, 32",
        )]),
        ("wrong-issuer", HEALTH, vec![String::from(
            "the CRL's issuer `CN=Example Services CA,O=Example Corp` is not the CA certificate's subject `CN=Example Health Issuing CA,O=Example Health`",
        )]),
        // A good CRL against the wrong CA: every mismatch is listed.
        ("rsa-pkcs1-sha256", HEALTH, vec![
            String::from("the CRL's issuer `CN=Example RSA CRL CA,O=Example CRL Test` is not the CA certificate's subject `CN=Example Health Issuing CA,O=Example Health`"),
            format!(
                "the CRL's authorityKeyIdentifier {} is not the CA's subjectKeyIdentifier {}",
                ca(RSA).key_id_hex().unwrap(),
                ca(HEALTH).key_id_hex().unwrap()
            ),
            String::from("CRL signature: RSA PKCS#1 v1.5 SHA-256 needs an RSA key, but the key is EC P-256"),
        ]),
        // A client certificate is no CRL issuer: its keyUsage lacks cRLSign.
        ("health-p256", "healthcare/clinician-alice", vec![
            String::from("the CA certificate's keyUsage does not include cRLSign"),
            String::from("the CRL's issuer `CN=Example Health Issuing CA,O=Example Health` is not the CA certificate's subject `CN=alice,OU=Clinicians,O=Example Health`"),
            format!(
                "the CRL's authorityKeyIdentifier {} is not the CA's subjectKeyIdentifier {}",
                ca(HEALTH).key_id_hex().unwrap(),
                ca("healthcare/clinician-alice").key_id_hex().unwrap()
            ),
            String::from("CRL signature: ECDSA P-256 SHA-256 signature does not verify"),
        ]),
    ];
    for (name, ca_name, expected) in table {
        let found = problems(name, ca_name);
        assert_eq!(message(&found), expected, "{name}");
        // validate refuses with the first problem, and never yields a list.
        let error =
            RevocationList::from_crl(&crl_bytes(name), &ca(ca_name), NOW, &CrlLimits::DEFAULT)
                .unwrap_err();
        assert_eq!(Some(&error), found.first(), "{name}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn error_codes_are_stable() {
    let code = |name: &str, ca_name: &str| problems(name, ca_name)[0].code();
    assert_eq!(code("bad-signature", HEALTH), "crl_bad_signature");
    assert_eq!(code("rogue-same-name", HEALTH), "crl_key_id_mismatch");
    assert_eq!(code("not-yet-valid", HEALTH), "crl_not_yet_valid");
    assert_eq!(code("delta", HEALTH), "crl_delta");
    assert_eq!(code("indirect-idp", HEALTH), "crl_indirect");
    assert_eq!(
        code("unknown-critical-extension", HEALTH),
        "crl_unknown_critical_extension"
    );
    assert_eq!(
        code("mismatched-algorithms", HEALTH),
        "crl_algorithm_mismatch"
    );
    assert_eq!(code("pss-salt-20", RSA), "crl_unsupported_algorithm");
    assert_eq!(code("wrong-issuer", HEALTH), "crl_issuer_mismatch");
    assert_eq!(code("no-next-update", HEALTH), "crl_no_next_update");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_older_or_equal_number_never_replaces_the_current_list() {
    let mut current = list("health-p256", HEALTH);
    let older = list("health-older", HEALTH);
    assert_eq!(older.number().to_string(), "1");
    assert_eq!(
        current.replace_with(older),
        Err(ReplaceError::Older {
            current: CrlNumber::from_be_bytes(&[2]),
            offered: CrlNumber::from_be_bytes(&[1]),
        })
    );
    assert_eq!(current.number().to_string(), "2");
    assert!(current.is_revoked(&identity("healthcare/revoked-clinician")));
    // The same CRL again: unchanged, not a problem.
    assert_eq!(
        current.replace_with(list("health-p256", HEALTH)),
        Err(ReplaceError::SameNumber {
            number: CrlNumber::from_be_bytes(&[2]),
            identical: true
        })
    );
    // Another CRL under the same number: refused.
    assert_eq!(
        current.replace_with(list("idp-user-certs", HEALTH)),
        Err(ReplaceError::SameNumber {
            number: CrlNumber::from_be_bytes(&[2]),
            identical: false
        })
    );
    // Another issuer's list never replaces this one.
    assert_eq!(
        current.replace_with(list("rsa-pkcs1-sha256", RSA)),
        Err(ReplaceError::OtherIssuer)
    );
    // A newer one does.
    assert_eq!(
        current.replace_with(list("health-hold", HEALTH)),
        Ok(CrlNumber::from_be_bytes(&[2]))
    );
    assert_eq!(current.number().to_string(), "4");
    assert!(current.is_revoked(&identity("healthcare/admin-bob")));
    assert!(!current.is_revoked(&identity("healthcare/revoked-clinician")));
    assert_eq!(
        current
            .replace_with(list("health-p256", HEALTH))
            .unwrap_err()
            .to_string(),
        "CRL number 2 is older than the current 4; kept 4"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn limits_are_enforced_with_clear_errors() {
    let der = crl_bytes("health-p256");
    let two = CrlLimits {
        max_der_bytes: 1 << 20,
        max_entries: 2,
    };
    assert_eq!(
        Crl::parse(&der, &two).unwrap_err(),
        CrlError::TooManyEntries { max: 2 }
    );
    let tiny = CrlLimits {
        max_der_bytes: 100,
        max_entries: 10,
    };
    assert_eq!(
        crl_der(&der, &tiny).unwrap_err(),
        CrlError::TooLarge {
            len: der.len(),
            max: 100
        }
    );
    assert_eq!(
        Crl::parse(&der, &tiny).unwrap_err().to_string(),
        format!(
            "the CRL is {} bytes, more than the 100-byte limit",
            der.len()
        )
    );
    let pem = fixture("crls/health-p256.pem");
    let small_pem = CrlLimits {
        max_der_bytes: 10,
        max_entries: 10,
    };
    assert!(matches!(
        crl_der(&pem, &small_pem),
        Err(CrlError::TooLarge { .. })
    ));
    assert_eq!(CrlLimits::default(), CrlLimits::DEFAULT);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn malformed_input_is_an_error_not_a_panic() {
    let der = crl_bytes("health-p256");
    let limits = CrlLimits::DEFAULT;
    assert_eq!(crl_der(b"", &limits).unwrap_err(), CrlError::Empty);
    assert_eq!(Crl::parse(b"", &limits).unwrap_err(), CrlError::Empty);
    let mut trailing = der.clone();
    trailing.push(0);
    assert_eq!(
        Crl::parse(&trailing, &limits).unwrap_err(),
        CrlError::Der(String::from("data after the CertificateList"))
    );
    // Every truncation and every single-byte change: an error or a CRL, never a panic.
    for cut in 0..der.len() {
        assert!(Crl::parse(&der[..cut], &limits).is_err(), "cut {cut}");
    }
    let ca = ca(HEALTH);
    for index in 0..der.len() {
        let mut changed = der.clone();
        changed[index] ^= 0x41;
        if let Ok(crl) = Crl::parse(&changed, &limits) {
            // A change anywhere in the signed part or the signature breaks the signature.
            assert!(!crl.check(&ca, NOW).is_empty(), "byte {index}");
        }
    }
    // A revocationDate is not converted (its value never matters) but its shape is checked.
    let date = b"261119120000Z";
    let at = der.windows(date.len()).position(|w| w == date).unwrap();
    let mut bad_date = der.clone();
    bad_date[at + 3] = b'x';
    assert_eq!(
        Crl::parse(&bad_date, &limits).unwrap_err(),
        CrlError::Der(String::from(
            "revokedCertificates entry #1: revocationDate is not a DER UTCTime"
        ))
    );
    let certificate = mtls_authz_fixtures::cert_bytes("healthcare/clinician-alice").unwrap();
    assert_eq!(
        crl_der(&certificate, &limits).unwrap_err(),
        CrlError::Pem(String::from("label is `CERTIFICATE`, expected `X509 CRL`"))
    );
    let mut two = fixture("crls/health-p256.pem");
    two.extend(fixture("crls/health-p256.pem"));
    assert_eq!(
        crl_der(&two, &limits).unwrap_err(),
        CrlError::Pem(String::from("2 PEM blocks; expected one `X509 CRL`"))
    );
    assert_eq!(
        crl_der(b"not a crl", &limits).unwrap_err(),
        CrlError::Pem(String::from("no `-----BEGIN` line"))
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ca_certificates_of_every_key_type() {
    let table = [
        (HEALTH, KeyType::Ec(EcCurve::P256), 256),
        (RSA, KeyType::Rsa, 2048),
        ("crl/ca-p384", KeyType::Ec(EcCurve::P384), 384),
        ("crl/ca-ed25519", KeyType::Ed25519, 256),
    ];
    for (name, key_type, bits) in table {
        let ca = ca(name);
        let key = ca.public_key().unwrap();
        assert_eq!((key.key_type(), key.bits()), (key_type, bits), "{name}");
        assert!(ca.is_ca() && ca.may_sign_crls(), "{name}");
        assert_eq!(ca.key_id().map(<[u8]>::len), Some(20), "{name}");
    }
    assert_eq!(
        ca(HEALTH).subject().rfc4514,
        "CN=Example Health Issuing CA,O=Example Health"
    );
    let pem = mtls_authz_fixtures::cert_bytes(HEALTH).unwrap();
    let der = crate::x509::pem::certificate_der(&pem).unwrap();
    assert_eq!(
        CaCertificate::parse(&der).unwrap().key_id(),
        ca(HEALTH).key_id()
    );
    assert!(matches!(
        CaCertificate::parse(b"-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"),
        Err(CrlError::CaCertificate(_))
    ));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn crl_numbers_compare_as_numbers() {
    let n = |octets: &[u8]| CrlNumber::from_be_bytes(octets);
    assert!(n(&[0x01, 0x00]) > n(&[0xff]));
    assert!(n(&[0x00, 0x05]) == n(&[0x05]));
    assert!(n(&[]) < n(&[1]));
    assert_eq!(n(&[0x01, 0x00]).to_string(), "256");
    assert_eq!(n(&[]).to_string(), "0");
    assert_eq!(n(&[0xab; 20]).to_string(), format!("0x{}", "ab".repeat(20)));
    assert_eq!(format_time(UnixTime(0)), "1970-01-01T00:00:00Z");
    assert_eq!(format_time(UnixTime(951_782_400)), "2000-02-29T00:00:00Z");
    assert_eq!(format_time(NOW), "2026-11-23T00:00:00Z");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn serial_keys_follow_the_identity_form() {
    let key = |hex: &str| SerialKey::from_identity_hex(hex);
    assert_eq!(key("0"), SerialKey::from_octets(&[]));
    assert_eq!(key("0abc"), SerialKey::from_octets(&[0x0a, 0xbc]));
    assert_eq!(key("ABC"), None);
    assert_eq!(key("0g"), None);
    assert_eq!(key(&"ab".repeat(21)), SerialKey::from_octets(&[0xab; 21]));
    assert_eq!(key(&"ab".repeat(22)), None);
    assert_eq!(SerialKey::from_octets(&[0; 22]), None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn idp_details_are_read() {
    let der = crl_bytes("idp-user-certs");
    let crl = Crl::parse(&der, &CrlLimits::DEFAULT).unwrap();
    assert_eq!(crl.distribution_points(), ["http://crl.example/health.crl"]);
    assert!(crl.only_user_certs());
    assert!(crl.has_freshest_crl());
    assert_eq!(crl.entry_count(), 3);
    assert_eq!(crl.distinct_serials(), 3);
    assert_eq!(
        crl.authority_key_id().map(hex::to_hex),
        ca(HEALTH).key_id_hex()
    );
}

/// The 100,000-entry CRL (built by the fixture harness, signed by crl/ca-ed25519).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn hundred_thousand_entries() {
    use mtls_authz_fixtures::crl::{large_crl, large_crl_serial_hex, LARGE_CRL_ISSUER};
    let der = large_crl(100_000);
    let list =
        RevocationList::from_crl(&der, &ca(LARGE_CRL_ISSUER), NOW, &CrlLimits::DEFAULT).unwrap();
    assert_eq!((list.len(), list.entry_count()), (100_000, 100_000));
    assert_eq!(list.number().to_string(), "7");
    for index in [0, 1, 50_000, 99_999] {
        assert!(
            list.contains_serial(&large_crl_serial_hex(index)),
            "{index}"
        );
    }
    assert!(!list.contains_serial(&large_crl_serial_hex(100_000)));
    assert!(
        list.memory_bytes() < 4 * 1024 * 1024,
        "{}",
        list.memory_bytes()
    );
    let limited = CrlLimits {
        max_der_bytes: CrlLimits::DEFAULT.max_der_bytes,
        max_entries: 99_999,
    };
    assert_eq!(
        Crl::parse(&der, &limited).unwrap_err(),
        CrlError::TooManyEntries { max: 99_999 }
    );
}

/// Review F4: a list that fails its CA's signature is refused before its entries are read. A
/// forged list over the entry limit shows it: `Crl::parse` reads (counts) the entries first
/// and stops at the limit; the fetcher's `from_crl` stops at the signature.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_forged_list_is_refused_before_its_entries_are_read() {
    use mtls_authz_fixtures::crl::{large_crl, LARGE_CRL_ISSUER};
    let limited = CrlLimits {
        max_der_bytes: CrlLimits::DEFAULT.max_der_bytes,
        max_entries: 999,
    };
    let genuine = large_crl(1_000);
    // The same list, its signature's last byte changed.
    let mut forged = genuine.clone();
    if let Some(last) = forged.last_mut() {
        *last ^= 0x01;
    }
    let issuer = ca(LARGE_CRL_ISSUER);
    assert_eq!(
        Crl::parse(&forged, &limited).unwrap_err(),
        CrlError::TooManyEntries { max: 999 }
    );
    assert_eq!(
        RevocationList::from_crl(&forged, &issuer, NOW, &limited)
            .unwrap_err()
            .code(),
        "crl_bad_signature"
    );
    // Signed by the CA: its entries are read, and the limit holds there too.
    assert_eq!(
        RevocationList::from_crl(&genuine, &issuer, NOW, &limited).unwrap_err(),
        CrlError::TooManyEntries { max: 999 }
    );
    let list = RevocationList::from_crl(&genuine, &issuer, NOW, &CrlLimits::DEFAULT).unwrap();
    assert_eq!(list.entry_count(), 1_000);
    // Another CA's list: refused for its issuer, also before the entries.
    assert_eq!(
        RevocationList::from_crl(&genuine, &ca(HEALTH), NOW, &limited)
            .unwrap_err()
            .code(),
        "crl_issuer_mismatch"
    );
}

/// Found by the `crl` fuzz target (fuzz/regressions/crl/revocation-date-minute-99): a
/// revocationDate of the right DER shape but no calendar date (minute 99) passes parsing,
/// which only shape-checks dates, and must not cut the displayed entries short.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_impossible_revocation_date_still_lists_every_entry() {
    let mut der = crl_bytes("health-p256");
    let date = b"261119120000Z";
    let second = der
        .windows(date.len())
        .enumerate()
        .filter(|(_, window)| window == date)
        .nth(1)
        .map(|(at, _)| at)
        .unwrap();
    der[second + 8..second + 12].copy_from_slice(b"9999");
    let crl = Crl::parse(&der, &CrlLimits::DEFAULT).unwrap();
    let entries: Vec<CrlEntry> = crl.entries().collect();
    assert_eq!(entries.len(), crl.entry_count());
    assert_eq!(entries.len(), 3);
    let dates: Vec<bool> = entries
        .iter()
        .map(|e| e.revocation_date.is_some())
        .collect();
    assert_eq!(dates, [true, false, true]);
}

// ---- CrlSource: the per-issuer state the proxy keeps (source.rs) ----

mod source {
    use super::*;
    use crate::refresh::{FetchTicket, Poll, RefreshPlan};

    /// Fetch every 300 s, 10 s timeout, first retry after 5 s; one hour of grace.
    fn health_source() -> CrlSource {
        let plan = RefreshPlan::new(300, 10, 5).unwrap();
        CrlSource::new(ca(HEALTH), Some(plan), 3600, CrlLimits::DEFAULT)
    }

    fn at(secs: u64) -> UnixTime {
        UnixTime(NOW.as_secs() + secs)
    }

    fn fetch(source: &mut CrlSource, now: UnixTime) -> FetchTicket {
        match source.poll(now) {
            Poll::Fetch(ticket) => ticket,
            other => panic!("expected a fetch at {now:?}, got {other:?}"),
        }
    }

    fn ok(body: &[u8]) -> FetchResponse<'_> {
        FetchResponse::Http { status: 200, body }
    }

    fn revoked_clinician() -> Identity {
        identity("healthcare/revoked-clinician")
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn before_the_first_crl_every_certificate_is_unavailable() {
        let source = health_source();
        for client in ["healthcare/clinician-alice", "healthcare/revoked-clinician"] {
            assert_eq!(
                source.status(&identity(client), NOW),
                RevocationStatus::Unavailable(Unavailable::NotYetObtained),
                "{client}"
            );
        }
        assert_eq!(Unavailable::NotYetObtained.code(), "crl_not_yet_obtained");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_fetched_crl_is_installed_logged_and_decides_revocation() {
        let mut source = health_source();
        let ticket = fetch(&mut source, NOW);
        let update = source.on_response(ticket, NOW, ok(&crl_bytes("health-p256")));
        assert_eq!(
            update.to_string(),
            "CRL number 2 installed: 3 entries, next update 2026-11-27T00:00:00Z (first CRL)"
        );
        assert_eq!(update.code(), "installed");
        assert_eq!(
            source.status(&revoked_clinician(), NOW),
            RevocationStatus::Revoked
        );
        assert_eq!(
            source.status(&identity("healthcare/clinician-alice"), NOW),
            RevocationStatus::Good
        );
        // Next fetch one interval later (nextUpdate is further away).
        assert_eq!(source.schedule().unwrap().next_due(), Some(at(300)));
        assert_eq!(source.counts().installed, 1);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_newer_crl_reaches_certificates_already_judged_good() {
        let mut source = health_source();
        let ticket = fetch(&mut source, NOW);
        source.on_response(ticket, NOW, ok(&crl_bytes("health-empty")));
        let bob = identity("healthcare/admin-bob");
        assert_eq!(source.status(&bob, NOW), RevocationStatus::Good);

        let ticket = fetch(&mut source, at(300));
        let update = source.on_response(ticket, at(300), ok(&crl_bytes("health-hold")));
        assert_eq!(
            update.to_string(),
            "CRL number 4 installed: 1 entry, next update 2026-11-27T00:00:00Z (replaced number 3)"
        );
        assert_eq!(source.status(&bob, at(300)), RevocationStatus::Revoked);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn refused_crls_never_replace_the_last_good_one() {
        let mut source = health_source();
        let ticket = fetch(&mut source, NOW);
        source.on_response(ticket, NOW, ok(&crl_bytes("health-p256")));

        let mut now = at(300);
        let table = [
            ("bad-signature", "crl_bad_signature", "invalid"),
            ("rogue-same-name", "crl_key_id_mismatch", "invalid"),
            ("no-crl-number", "crl_no_number", "invalid"),
            ("not-yet-valid", "crl_not_yet_valid", "invalid"),
            ("delta", "crl_delta", "invalid"),
            ("health-older", "crl_older_number", "not_newer"),
        ];
        for (crl, refusal, code) in table {
            let ticket = fetch(&mut source, now);
            let update = source.on_response(ticket, now, ok(&crl_bytes(crl)));
            assert_eq!(
                (update.refusal_code(), update.code()),
                (Some(refusal), code),
                "{crl}: {update}"
            );
            assert_eq!(source.current().unwrap().number().to_string(), "2", "{crl}");
            assert_eq!(
                source.status(&revoked_clinician(), now),
                RevocationStatus::Revoked,
                "{crl}"
            );
            now = source.schedule().unwrap().next_due().unwrap();
        }
        let counts = source.counts();
        assert_eq!(
            (counts.installed, counts.invalid, counts.not_newer),
            (1, 5, 1)
        );
        let ticket = fetch(&mut source, now);
        assert!(source
            .on_response(ticket, now, ok(b"junk"))
            .to_string()
            .starts_with("CRL refused (crl_parse_error): "));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_same_crl_again_is_unchanged_in_pem_or_der() {
        let mut source = health_source();
        let ticket = fetch(&mut source, NOW);
        source.on_response(ticket, NOW, ok(&crl_bytes("health-p256")));
        let ticket = fetch(&mut source, at(300));
        let pem = fixture("crls/health-p256.pem");
        let update = source.on_response(ticket, at(300), ok(&pem));
        assert_eq!(
            update,
            Update::Unchanged {
                number: source.current().unwrap().number().clone()
            }
        );
        assert_eq!(update.to_string(), "CRL number 2 unchanged");
        assert_eq!(source.counts().unchanged, 1);
        assert_eq!(source.schedule().unwrap().next_due(), Some(at(600)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn failed_fetches_keep_the_last_good_crl_until_it_is_stale_then_fail_closed() {
        let mut source = health_source();
        let ticket = fetch(&mut source, NOW);
        source.on_response(ticket, NOW, ok(&crl_bytes("health-p256")));
        let alice = identity("healthcare/clinician-alice");

        let ticket = fetch(&mut source, at(300));
        let update = source.on_response(
            ticket,
            at(300),
            FetchResponse::Http {
                status: 503,
                body: b"",
            },
        );
        assert_eq!(
            update.to_string(),
            "CRL fetch failed: HTTP status 503; the last good CRL stays"
        );
        let ticket = fetch(&mut source, at(305));
        let update = source.on_response(ticket, at(305), FetchResponse::Transport);
        assert_eq!(update.code(), "fetch_failed");
        assert_eq!(source.counts().fetch_failed, 2);
        assert_eq!(source.status(&alice, at(305)), RevocationStatus::Good);

        // nextUpdate is 2026-11-27T00:00:00Z (4 days after NOW); one hour of grace.
        let next_update = UnixTime(NOW.as_secs() + 4 * DAY);
        let last_fresh = UnixTime(next_update.as_secs() + 3600);
        assert_eq!(source.status(&alice, last_fresh), RevocationStatus::Good);
        let stale = RevocationStatus::Unavailable(Unavailable::Stale { next_update });
        assert_eq!(
            source.status(&alice, UnixTime(last_fresh.as_secs() + 1)),
            stale
        );
        assert_eq!(
            source.status(&revoked_clinician(), UnixTime(last_fresh.as_secs() + 1)),
            stale
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_late_answer_to_an_abandoned_fetch_is_ignored() {
        let mut source = health_source();
        let lost = fetch(&mut source, NOW);
        assert_eq!(source.poll(at(11)), Poll::Abandoned(lost));
        assert_eq!(source.counts().fetch_failed, 1);
        let update = source.on_response(lost, at(12), ok(&crl_bytes("health-p256")));
        assert_eq!(update, Update::Ignored);
        assert!(source.current().is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_certificate_of_another_issuer_is_never_judged_by_this_crl() {
        let mut source = health_source();
        assert_eq!(
            source.offer(&crl_bytes("health-p256"), NOW).code(),
            "installed"
        );
        // The services CA issued billing-api, whose serial the health CRL happens to list:
        // it is neither good nor revoked here.
        let billing = identity("services/billing-api");
        assert_eq!(
            source.status(&billing, NOW),
            RevocationStatus::Unavailable(Unavailable::OtherIssuer)
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn an_inline_only_source_never_asks_for_a_fetch() {
        let mut source = CrlSource::new(ca(HEALTH), None, 0, CrlLimits::DEFAULT);
        assert_eq!(source.poll(NOW), Poll::Wait);
        assert_eq!(
            source.offer(&crl_bytes("health-p256"), NOW).code(),
            "installed"
        );
        assert_eq!(
            source.status(&revoked_clinician(), NOW),
            RevocationStatus::Revoked
        );
        // An answer to a fetch that was never made is ignored.
        assert_eq!(
            source.on_response(fetch_ticket_from_another_source(), NOW, ok(b"")),
            Update::Ignored
        );
    }

    fn fetch_ticket_from_another_source() -> FetchTicket {
        fetch(&mut health_source(), NOW)
    }
}
