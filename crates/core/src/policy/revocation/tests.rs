//! v1.1 `certificate` and `revocation` against the generated fixtures (gen_crls.py): the
//! health CA's CRLs revoke `healthcare/revoked-clinician` (number 2) or put `admin-bob` on
//! hold (number 4).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::identity::{ClientCert, Identity};
use crate::policy::{NoToken, Policy, PolicyError, Request};
use crate::time::UnixTime;

/// 2026-11-23T00:00:00Z, the fixtures' default request time (the CRLs run 11-20 to 11-27).
const NOW: UnixTime = UnixTime(1_795_392_000);
/// 2026-11-27T00:00:00Z, the fixture CRLs' nextUpdate.
const NEXT_UPDATE: u64 = 1_795_737_600;

fn text(path: &str) -> String {
    String::from_utf8(mtls_authz_fixtures::files::read(path).unwrap()).unwrap()
}

fn identity(name: &str) -> Identity {
    Identity::parse(&mtls_authz_fixtures::cert_bytes(name).unwrap()).unwrap()
}

fn health_ca() -> String {
    text("certs/ca/health-issuing.pem")
}

/// A policy whose `health` issuer has `revocation` (a JSON object, or none) and whose one
/// rule allows every authenticated client on `/`.
fn policy_with(issuer_extra: &str) -> Result<Policy, PolicyError> {
    let ca = serde_json::to_string(&health_ca()).unwrap();
    Policy::from_json(&format!(
        r#"{{"issuers": {{"health": {{"certificate": {ca}{issuer_extra}}}}},
            "rules": [{{"name": "r", "paths": ["/**"], "allow": ["authenticated"]}}]}}"#
    ))
}

/// `revocation` with fixture CRL `crl` inline, as base64 of its DER.
fn inline(crl: &str) -> String {
    let der =
        STANDARD.encode(mtls_authz_fixtures::files::read(&format!("crls/{crl}.crl")).unwrap());
    format!(r#", "revocation": {{"crl": "{der}"}}"#)
}

fn reason(policy: &Policy, identity: &Identity, now: UnixTime) -> String {
    let request = Request {
        method: "GET",
        path: "/x",
    };
    policy
        .evaluate(&request, ClientCert::Present(identity), now)
        .reason
        .to_string()
}

fn reason_with(
    policy: &Policy,
    identity: &Identity,
    now: UnixTime,
    crls: &super::CrlStore,
) -> String {
    let request = Request {
        method: "GET",
        path: "/x",
    };
    policy
        .evaluate_with(
            &request,
            crate::authority::RequestAuthority::default(),
            ClientCert::Present(identity),
            now,
            None,
            false,
            Some(crls),
            &mut NoToken,
        )
        .reason
        .to_string()
}

const ALLOWED: &str = "allow:rule[r]:role[authenticated]";

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn certificate_gives_subject_and_key_id() {
    let policy = policy_with("").unwrap();
    assert_eq!(
        reason(&policy, &identity("healthcare/clinician-alice"), NOW),
        ALLOWED
    );
    // Agreeing subject and key_id may be written too; disagreeing ones are refused.
    let ca = crate::crl::CaCertificate::parse(health_ca().as_bytes()).unwrap();
    let ski = ca.key_id_hex().unwrap();
    let subject = ca.subject().rfc4514.clone();
    policy_with(&format!(r#", "subject": "{subject}", "key_id": "{ski}""#)).unwrap();
    for (extra, path, detail) in [
        (
            String::from(r#", "subject": "CN=Other""#),
            "issuers.health.subject",
            format!("does not agree with `certificate`, whose subject is \"{subject}\""),
        ),
        (
            String::from(r#", "key_id": "abcd""#),
            "issuers.health.key_id",
            format!("does not agree with `certificate`, whose subjectKeyIdentifier is {ski}"),
        ),
    ] {
        assert_eq!(
            policy_with(&extra).unwrap_err(),
            PolicyError::Invalid {
                path: String::from(path),
                detail
            }
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn contract_errors_name_the_field() {
    let rules = r#""rules": []"#;
    for (json, path, detail) in [
        (
            format!(r#"{{"issuers": {{"ca": {{}}}}, {rules}}}"#),
            "issuers.ca",
            "give `subject` (the issuer DN) or `certificate` (the CA certificate in PEM)",
        ),
        (
            format!(
                r#"{{"issuers": {{"ca": {{"subject": "CN=CA", "revocation": {{"crl": "x"}}}}}}, {rules}}}"#
            ),
            "issuers.ca.revocation",
            "needs `certificate`: the CA whose key verifies this issuer's CRLs",
        ),
    ] {
        assert_eq!(
            Policy::from_json(&json).unwrap_err(),
            PolicyError::Invalid {
                path: String::from(path),
                detail: String::from(detail)
            },
            "{json}"
        );
    }
    let cases: Vec<(String, &str, &str)> = Vec::from([
        (
            String::from(r#", "revocation": {}"#),
            "issuers.health.revocation",
            "give a CRL source: `crl` (inline), `fetch`, or both",
        ),
        (
            inline("health-p256").replace(r#""crl": ""#, r#""crl": "A"#),
            "issuers.health.revocation.crl",
            "",
        ),
        (
            String::from(
                r#", "revocation": {"fetch": {"upstream": "crl", "authority": "crl", "path": "x"}}"#,
            ),
            "issuers.health.revocation.fetch.path",
            "must start with `/`",
        ),
        (
            String::from(
                r#", "revocation": {"fetch": {"upstream": "crl", "authority": "crl", "path": "/x", "refresh_seconds": 10, "timeout_seconds": 10}}"#,
            ),
            "issuers.health.revocation.fetch.timeout_seconds",
            "timeout must be at least 1 second and shorter than the interval",
        ),
    ]);
    for (extra, path, detail) in cases {
        match policy_with(&extra).unwrap_err() {
            PolicyError::Invalid {
                path: at,
                detail: d,
            } => {
                assert_eq!(at, path, "{extra}");
                if !detail.is_empty() {
                    assert_eq!(d, detail);
                }
            }
            other => panic!("{other:?}"),
        }
    }
    // A CRL of another CA (bad signature, same-name rogue) is refused at compile time.
    let bad =
        STANDARD.encode(mtls_authz_fixtures::files::read("crls/rogue-same-name.crl").unwrap());
    let error = policy_with(&format!(r#", "revocation": {{"crl": "{bad}"}}"#)).unwrap_err();
    assert!(
        matches!(&error, PolicyError::Invalid { path, .. } if path == "issuers.health.revocation.crl"),
        "{error:?}"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn inline_crl_revokes_its_issuers_certificates_only() {
    let policy = policy_with(&inline("health-p256")).unwrap();
    assert_eq!(
        reason(&policy, &identity("healthcare/revoked-clinician"), NOW),
        "unauthenticated:revoked_crl"
    );
    assert_eq!(
        reason(&policy, &identity("healthcare/clinician-alice"), NOW),
        ALLOWED
    );
    // billing-api's serial is listed, but the services CA issued it: not this CRL's business.
    assert_eq!(
        reason(&policy, &identity("services/billing-api"), NOW),
        ALLOWED
    );
    // PEM is the same CRL.
    let pem = serde_json::to_string(&text("crls/health-p256.pem")).unwrap();
    let policy = policy_with(&format!(r#", "revocation": {{"crl": {pem}}}"#)).unwrap();
    assert_eq!(
        reason(&policy, &identity("healthcare/revoked-clinician"), NOW),
        "unauthenticated:revoked_crl"
    );
}

/// F1: a revoked certificate without an authorityKeyIdentifier is still judged by its
/// issuer's CRL (selected by DN); one whose AKI names another key is not this CA's.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn certificate_without_aki_is_still_checked() {
    let policy = policy_with(&inline("health-p256")).unwrap();
    let mut revoked = identity("healthcare/revoked-clinician");
    revoked.authority_key_id = None;
    assert_eq!(
        reason(&policy, &revoked, NOW),
        "unauthenticated:revoked_crl"
    );
    let mut other_key = identity("healthcare/revoked-clinician");
    other_key.authority_key_id = Some(String::from("00"));
    assert_eq!(reason(&policy, &other_key, NOW), ALLOWED);
}

/// A certificate whose AKI names this CA's key but whose issuer DN differs only in letter case
/// (chain building in OpenSSL and BoringSSL ignores case, so the proxy accepts it) does not
/// skip the CRL: the key decides that the CA may have issued it, and the CRL, which names the
/// CA exactly, cannot judge it: refused (review finding).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn issuer_dn_in_another_letter_case_does_not_skip_the_crl() {
    let policy = policy_with(&inline("health-p256")).unwrap();
    let mut variant = identity("healthcare/revoked-clinician");
    let rdns = variant
        .issuer
        .rdns
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let mut attribute = attribute.clone();
                    attribute.value = attribute.value.to_lowercase();
                    attribute
                })
                .collect()
        })
        .collect();
    variant.issuer = crate::dn::DistinguishedName::from_rdns(rdns);
    assert!(variant.authority_key_id.is_some());
    assert_eq!(
        reason(&policy, &variant, NOW),
        "unauthenticated:revocation_unavailable"
    );
    // Without an AKI the DN decides: another name is another issuer.
    variant.authority_key_id = None;
    assert_eq!(reason(&policy, &variant, NOW), ALLOWED);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn hold_revokes() {
    let policy = policy_with(&inline("health-hold")).unwrap();
    assert_eq!(
        reason(&policy, &identity("healthcare/admin-bob"), NOW),
        "unauthenticated:revoked_crl"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn stale_or_missing_crl_fails_closed_unless_allowed() {
    let alice = identity("healthcare/clinician-alice");
    let fetch =
        r#""fetch": {"upstream": "crl", "authority": "crl.example", "path": "/health.crl"}"#;
    // Fetched only, nothing fetched yet.
    let policy = policy_with(&format!(r#", "revocation": {{{fetch}}}"#)).unwrap();
    assert_eq!(
        reason(&policy, &alice, NOW),
        "unauthenticated:revocation_unavailable"
    );
    let allow = policy_with(&format!(
        r#", "revocation": {{{fetch}, "when_unavailable": "allow"}}"#
    ))
    .unwrap();
    assert_eq!(reason(&allow, &alice, NOW), ALLOWED);
    // Stale: past nextUpdate plus the grace.
    let policy = policy_with(&inline("health-p256")).unwrap();
    let mut crls = policy.crl_store(NOW);
    let after = |secs| UnixTime(NEXT_UPDATE + secs);
    assert_eq!(reason_with(&policy, &alice, after(0), &crls), ALLOWED);
    assert_eq!(
        reason_with(&policy, &alice, after(1), &crls),
        "unauthenticated:revocation_unavailable"
    );
    let graced =
        policy_with(&inline("health-p256").replace('}', r#", "grace_seconds": 60}"#)).unwrap();
    let graced_crls = graced.crl_store(NOW);
    assert_eq!(
        reason_with(&graced, &alice, after(60), &graced_crls),
        ALLOWED
    );
    assert_eq!(
        reason_with(&graced, &alice, after(61), &graced_crls),
        "unauthenticated:revocation_unavailable"
    );
    // A store of another policy (no sources) is unavailable, not good.
    crls = super::CrlStore::default();
    assert_eq!(
        reason_with(&policy, &alice, NOW, &crls),
        "unauthenticated:revocation_unavailable"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn check_crl_offers_to_every_issuer_whose_ca_verifies_it() {
    let ca = serde_json::to_string(&health_ca()).unwrap();
    let fetch = r#""revocation": {"fetch": {"upstream": "crl", "authority": "a", "path": "/c"}}"#;
    let policy = Policy::from_json(&format!(
        r#"{{"issuers": {{"a": {{"certificate": {ca}, {fetch}}}, "b": {{"certificate": {ca}, {fetch}}}}},
            "rules": [{{"name": "r", "paths": ["/**"], "allow": ["authenticated"]}}]}}"#
    ))
    .unwrap();
    let mut crls = policy.crl_store(NOW);
    let crl = mtls_authz_fixtures::files::read("crls/health-p256.crl").unwrap();
    let updates = crls.offer_to_matching(&crl, NOW);
    assert_eq!(
        updates
            .iter()
            .map(|(i, u)| (*i, u.code()))
            .collect::<Vec<_>>(),
        [(0, "installed"), (1, "installed")]
    );
    let other = mtls_authz_fixtures::files::read("crls/p384.crl").unwrap();
    assert!(crls.offer_to_matching(&other, NOW).is_empty());
    assert_eq!(
        reason_with(
            &policy,
            &identity("healthcare/revoked-clinician"),
            NOW,
            &crls
        ),
        "unauthenticated:revoked_crl"
    );
}
