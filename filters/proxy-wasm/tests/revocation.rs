//! v1.1 revocation on the mock host: the root fetches each issuer's CRL on its tick with
//! `dispatch_http_call`, requests are judged against the CRL in force, and every way a fetch
//! can go wrong keeps the last good CRL (or fails closed when there is none).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::time::Duration;

mod common;

use common::{answer, configured, mtls_host as host, one_call, ALLOWED};
use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::host::LogLevel;
use mtls_authz_filter::Root;
use mtls_authz_fixtures::{cert_bytes, files};

/// 2026-11-23T00:00:00Z (MockHost's clock): inside the fixture CRLs' 11-20..11-27 window.
const NOW: u64 = 1_795_392_000;
/// The fixture CRLs' nextUpdate, 2026-11-27T00:00:00Z.
const NEXT_UPDATE: u64 = 1_795_737_600;
const REVOKED: &str = "unauthenticated:revoked_crl";
const UNAVAILABLE: &str = "unauthenticated:revocation_unavailable";

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// The health issuer with its CA certificate and `revocation` (JSON members), one rule
/// allowing every authenticated client.
fn policy(revocation: &str) -> String {
    let ca = json_string(&String::from_utf8(cert_bytes("ca/health-issuing").unwrap()).unwrap());
    format!(
        r#"{{"issuers": {{"health": {{"certificate": {ca}, "revocation": {{{revocation}}}}}}},
            "rules": [{{"name": "any", "paths": ["/**"], "allow": ["authenticated"]}}]}}"#
    )
}

const FETCH: &str = r#""fetch": {"upstream": "crl_server", "authority": "crl.example", "path": "/health.crl", "refresh_seconds": 60, "timeout_seconds": 5}"#;

fn crl(name: &str) -> Vec<u8> {
    files::read(&format!("crls/{name}.crl")).unwrap()
}

/// One request by `cert`: `allowed`, or the deny reason the filter logged.
fn decide(root: &Root, host: &mut MockHost, cert: &str) -> String {
    host.next_request_to("GET", "/records");
    host.set_property("connection.peer_certificate", cert_bytes(cert).unwrap());
    common::decide(root, host)
}

fn counter(host: &MockHost, outcome: &str) -> u64 {
    host.counter(&format!("mtls_authz.crl.health.{outcome}"))
        .unwrap()
}

#[test]
fn requests_before_the_first_fetch_fail_closed_then_the_crl_decides() {
    let mut host = host();
    let root = configured(&mut host, &policy(FETCH));
    let call = one_call(&mut host);
    assert_eq!(call.upstream, "crl_server");
    assert_eq!(call.timeout, Duration::from_secs(5));
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header(":method"), Some("GET"));
    assert_eq!(header(":path"), Some("/health.crl"));
    assert_eq!(header(":authority"), Some("crl.example"));
    // No CRL yet: every certificate of the issuer is refused.
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        UNAVAILABLE
    );
    // Another CA's certificate is not this issuer's business.
    assert_eq!(decide(&root, &mut host, "services/billing-api"), ALLOWED);

    let logs = answer(&root, &mut host, &call, 200, &crl("health-p256"));
    assert_eq!(
        logs,
        ["mtls-authz: issuer health: CRL number 2 installed: 3 entries, next update 2026-11-27T00:00:00Z (first CRL)"]
    );
    assert_eq!(counter(&host, "installed"), 1);
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        ALLOWED
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/revoked-clinician"),
        REVOKED
    );
    // Listed serial, other CA: not revoked.
    assert_eq!(decide(&root, &mut host, "services/billing-api"), ALLOWED);
}

/// The same filter (the same long-lived connection) denies a certificate it allowed once a
/// CRL revoking it is fetched; the new CRL keeps the earlier revocations. F1: a certificate
/// without an authorityKeyIdentifier is judged by its issuer's CRL too.
#[test]
fn a_newer_crl_revokes_on_the_next_request() {
    let mut host = host();
    let root = configured(&mut host, &policy(FETCH));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-p256"));
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), ALLOWED);
    assert_eq!(decide(&root, &mut host, "crl/health-no-aki"), ALLOWED);

    // Not due before the interval.
    host.set_time(NOW + 59);
    root.tick(&mut host);
    assert!(host.take_http_calls().is_empty());
    host.set_time(NOW + 60);
    root.tick(&mut host);
    let call = one_call(&mut host);
    let logs = answer(&root, &mut host, &call, 200, &crl("health-next"));
    assert_eq!(
        logs,
        ["mtls-authz: issuer health: CRL number 5 installed: 5 entries, next update 2026-11-27T00:00:00Z (replaced number 2)"]
    );
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    assert_eq!(decide(&root, &mut host, "crl/health-no-aki"), REVOKED);
    assert_eq!(
        decide(&root, &mut host, "healthcare/revoked-clinician"),
        REVOKED
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        ALLOWED
    );

    // The same CRL again: unchanged.
    host.set_time(NOW + 120);
    root.tick(&mut host);
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-next"));
    assert_eq!(counter(&host, "unchanged"), 1);
    assert_eq!(counter(&host, "installed"), 2);
}

#[test]
fn bad_older_or_failed_fetches_keep_the_last_good_crl_until_it_is_stale() {
    let mut host = host();
    let root = configured(&mut host, &policy(FETCH));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-next"));
    let mut at = NOW;
    let mut next = |root: &Root, host: &mut MockHost, status: u16, body: &[u8]| {
        at += 60;
        host.set_time(at);
        root.tick(host);
        let call = one_call(host);
        answer(root, host, &call, status, body)
    };
    for (status, body, log) in [
        (
            200,
            crl("bad-signature"),
            "mtls-authz: issuer health: CRL refused (crl_bad_signature)",
        ),
        (
            200,
            crl("rogue-same-name"),
            "mtls-authz: issuer health: CRL refused (",
        ),
        (
            200,
            crl("health-p256"),
            "mtls-authz: issuer health: CRL not installed: ",
        ),
        (
            200,
            b"not a CRL".to_vec(),
            "mtls-authz: issuer health: CRL refused (",
        ),
        (
            503,
            Vec::new(),
            "mtls-authz: issuer health: CRL fetch failed: HTTP status 503",
        ),
    ] {
        let logs = next(&root, &mut host, status, &body);
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert!(logs[0].starts_with(log), "{logs:?}");
        assert_eq!(host.logs()[0].0, LogLevel::Warn);
        // Number 5 stays in force.
        assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
        assert_eq!(
            decide(&root, &mut host, "healthcare/clinician-alice"),
            ALLOWED
        );
    }
    assert_eq!(counter(&host, "refused"), 4);
    assert_eq!(counter(&host, "fetch_failed"), 1);
    // Past nextUpdate (no grace) with every fetch failing: stale, refused.
    host.set_time(NEXT_UPDATE + 1);
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        UNAVAILABLE
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/admin-bob"),
        UNAVAILABLE
    );
}

/// F3: a body over the CRL size limit is refused without being read.
#[test]
fn an_oversized_body_is_refused_unread() {
    let mut host = host();
    let root = configured(&mut host, &policy(FETCH));
    let call = one_call(&mut host);
    host.set_http_call_response(Some(200), crl("health-p256"));
    root.on_http_call_response(&mut host, call.token, 64 * 1024 * 1024);
    assert_eq!(host.http_body_reads(), 0);
    assert_eq!(counter(&host, "refused"), 1);
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        UNAVAILABLE
    );
    // An answer to an unknown token is ignored.
    root.on_http_call_response(&mut host, 999, 10);
    assert_eq!(host.http_body_reads(), 0);
}

#[test]
fn transport_failures_and_timeouts_retry_with_backoff() {
    let mut host = host();
    host.set_http_calls_fail(true);
    let root = configured(&mut host, &policy(FETCH));
    assert!(host.take_http_calls().is_empty());
    assert_eq!(counter(&host, "fetch_failed"), 1);
    host.set_http_calls_fail(false);
    host.set_time(NOW + 4);
    root.tick(&mut host);
    assert!(host.take_http_calls().is_empty());
    host.set_time(NOW + 5);
    root.tick(&mut host);
    let lost = one_call(&mut host);
    // Never answered: abandoned a second after the timeout, then retried.
    host.set_time(NOW + 11);
    root.tick(&mut host);
    assert_eq!(counter(&host, "fetch_failed"), 2);
    assert!(host.take_http_calls().is_empty());
    // The late answer is ignored.
    answer(&root, &mut host, &lost, 200, &crl("health-p256"));
    assert_eq!(counter(&host, "installed"), 0);
    host.set_time(NOW + 21);
    root.tick(&mut host);
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-p256"));
    assert_eq!(counter(&host, "installed"), 1);
}

/// F2: a reconfiguration keeps a fetched CRL newer than the new policy's inline one.
#[test]
fn reconfiguration_does_not_roll_back_to_an_older_inline_crl() {
    use base64::Engine as _;
    let inline = |name: &str| {
        format!(
            r#""crl": "{}""#,
            base64::engine::general_purpose::STANDARD.encode(crl(name))
        )
    };
    let mut host = host();
    let mut root = configured(
        &mut host,
        &policy(&format!("{}, {FETCH}", inline("health-p256"))),
    );
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), ALLOWED);
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-next"));
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    // Reconfigured with the same CA and the older inline CRL (no fetch): number 5 stays.
    assert!(root.configure(&mut host, Some(policy(&inline("health-p256")).as_bytes())));
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    // Envoy gives a changed configuration a NEW root context in the same VM: it starts from
    // the VM's newest list of that CA (number 5), not from its older inline CRL, also before
    // its first fetch answers and while fetches fail (review finding).
    let new_root = configured(
        &mut host,
        &policy(&format!("{}, {FETCH}", inline("health-p256"))),
    );
    assert_eq!(
        decide(&new_root, &mut host, "healthcare/admin-bob"),
        REVOKED
    );
    let call = one_call(&mut host);
    answer(&new_root, &mut host, &call, 503, b"");
    assert_eq!(
        decide(&new_root, &mut host, "healthcare/admin-bob"),
        REVOKED
    );
}

/// A newer inline CRL not yet valid at configuration is installed once it is, even while an
/// older list carried over from the previous configuration is in force (review finding).
#[test]
fn a_newer_inline_crl_replaces_a_carried_over_older_one_once_valid() {
    use base64::Engine as _;
    let config = |name: &str| {
        policy(&format!(
            r#""crl": "{}", "grace_seconds": 86400"#,
            base64::engine::general_purpose::STANDARD.encode(crl(name))
        ))
    };
    // health-older: number 1, thisUpdate 11-13, nextUpdate 11-20; health-next: number 5,
    // thisUpdate 11-20 (admin-bob on hold).
    let nov19_noon = NOW - 4 * 86_400 + 12 * 3600;
    let nov20_1am = NOW - 3 * 86_400 + 3600;
    let mut host = host();
    host.set_time(nov19_noon);
    let mut root = configured(&mut host, &config("health-older"));
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), ALLOWED);
    assert!(root.configure(&mut host, Some(config("health-next").as_bytes())));
    // Not valid yet: number 1 stays in force.
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), ALLOWED);
    host.set_time(nov20_1am);
    host.next_request();
    root.tick(&mut host);
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    // A day later number 1 would be stale; number 5 decides.
    host.set_time(nov20_1am + 86_400);
    host.next_request();
    root.tick(&mut host);
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        ALLOWED
    );
}

#[test]
fn when_unavailable_allow_is_explicit() {
    let mut host = host();
    let root = configured(
        &mut host,
        &policy(&format!(r#"{FETCH}, "when_unavailable": "allow""#)),
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        ALLOWED
    );
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &crl("health-p256"));
    assert_eq!(
        decide(&root, &mut host, "healthcare/revoked-clinician"),
        REVOKED
    );
}

/// An inline CRL whose thisUpdate is ahead of the clock at configuration (a CRL published a
/// moment ago, a proxy clock slightly behind) is installed by a later tick; until then the
/// issuer's certificates fail closed.
#[test]
fn an_inline_crl_not_yet_valid_is_installed_once_it_is() {
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD.encode(crl("health-p256"));
    let mut host = host();
    // 2026-11-19, before the CRL's thisUpdate (11-20).
    host.set_time(NOW - 4 * 86_400);
    let root = configured(&mut host, &policy(&format!(r#""crl": "{der}""#)));
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        UNAVAILABLE
    );
    host.set_time(NOW);
    host.next_request();
    root.tick(&mut host);
    assert_eq!(
        host.logs()
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>(),
        ["mtls-authz: issuer health: inline CRL number 2 installed: 3 entries, next update 2026-11-27T00:00:00Z (first CRL)"]
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/revoked-clinician"),
        REVOKED
    );
    assert_eq!(
        decide(&root, &mut host, "healthcare/clinician-alice"),
        ALLOWED
    );
}

/// F2 with inline CRLs only, on the same root and on a new one: a policy whose inline CRL is
/// older (number 2) than the one in force (number 4) keeps number 4, and going back to the
/// policy with number 4 keeps it too.
#[test]
fn an_older_inline_crl_never_replaces_a_newer_inline_one_in_force() {
    use base64::Engine as _;
    let config = |name: &str| {
        policy(&format!(
            r#""crl": "{}""#,
            base64::engine::general_purpose::STANDARD.encode(crl(name))
        ))
    };
    let in_force = |host: &MockHost| {
        host.logs()
            .iter()
            .filter(|(_, line)| line.starts_with("mtls-authz: issuer health: CRL number"))
            .map(|(_, line)| line.clone())
            .collect::<Vec<_>>()
    };
    let mut host = host();
    let mut root = configured(&mut host, &config("health-hold"));
    assert_eq!(
        in_force(&host),
        ["mtls-authz: issuer health: CRL number 4 in force (1 entries)"]
    );
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    host.next_request();
    assert!(root.configure(&mut host, Some(config("health-p256").as_bytes())));
    assert_eq!(
        in_force(&host),
        ["mtls-authz: issuer health: CRL number 4 in force (1 entries)"]
    );
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
    host.next_request();
    let new_root = configured(&mut host, &config("health-p256"));
    assert_eq!(
        in_force(&host),
        ["mtls-authz: issuer health: CRL number 4 in force (1 entries)"]
    );
    assert_eq!(
        decide(&new_root, &mut host, "healthcare/admin-bob"),
        REVOKED
    );
    host.next_request();
    assert!(root.configure(&mut host, Some(config("health-hold").as_bytes())));
    assert_eq!(
        in_force(&host),
        ["mtls-authz: issuer health: CRL number 4 in force (1 entries)"]
    );
    assert_eq!(decide(&root, &mut host, "healthcare/admin-bob"), REVOKED);
}
