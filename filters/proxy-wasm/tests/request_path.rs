//! The filter's request path on the mock host: what the client gets back, what the upstream
//! would see, what is logged and counted. Certificates and policies come from the shared
//! fixture set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failure should stop the test loudly"
)]

use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::host::LogLevel;
use mtls_authz_filter::{Filter, Verdict};
use mtls_authz_fixtures::{cert_bytes, load_policy, xfcc::url_encode};

const PEER_CERT: &str = "connection.peer_certificate";
const MTLS: &str = "connection.mtls";
const VALID: &str = "connection.peer_certificate_valid";
const DIGEST: &str = "connection.sha256_peer_certificate_digest";
const NGX_VERIFY: &str = "ngx.ssl_client_verify";
const NGX_CERT: &str = "ngx.ssl_client_raw_cert";
const NGX_REQUEST_URI: &str = "ngx.request_uri";
const NGX_CONNECTION: &str = "ngx.connection";

fn pem(name: &str) -> Vec<u8> {
    cert_bytes(name).unwrap_or_else(|| panic!("fixture cert {name}"))
}

fn configure(host: &mut MockHost, policy_json: &str) -> Filter {
    Filter::configure(host, Some(policy_json.as_bytes())).expect("policy compiles")
}

fn policy_with(name: &str, extra: &[(&str, serde_json::Value)]) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(&load_policy(name)).unwrap();
    for (key, value) in extra {
        doc[*key] = value.clone();
    }
    doc.to_string()
}

/// An Envoy host whose TLS peer presented `cert`, which Envoy verified.
fn envoy_client(cert: &str) -> MockHost {
    MockHost::new()
        .with_property(MTLS, [1u8])
        .with_property(VALID, [1u8])
        .with_property(PEER_CERT, pem(cert))
}

fn run(host: &mut MockHost, policy: &str) -> Verdict {
    let filter = configure(host, &load_policy(policy));
    filter.on_request_headers(host)
}

fn deny_reason(host: &MockHost) -> Option<String> {
    host.logs().iter().find_map(|(_, line)| {
        line.split(' ')
            .find_map(|field| field.strip_prefix("reason="))
            .map(str::to_string)
    })
}

#[test]
fn allowed_request_gets_identity_headers() {
    let mut host =
        envoy_client("healthcare/clinician-alice").with_request("GET", "/patient-records/7");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.local_response(), None);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
    assert!(host
        .header("x-client-subject")
        .is_some_and(|s| s.starts_with("CN=")));
    assert_eq!(host.counter("mtls_authz.allowed"), Some(1));
    assert_eq!(
        host.counter("mtls_authz.rule.records-read.allowed"),
        Some(1)
    );
}

#[test]
fn with_ticks_allow_counts_wait_for_the_tick_and_denies_do_not() {
    let mut host = envoy_client("healthcare/clinician-alice");
    let filter = configure(&mut host, &load_policy("healthcare"));
    filter.ticks_enabled();
    for _ in 0..3 {
        host.next_request_to("GET", "/patient-records/7");
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    }
    host.next_request_to("DELETE", "/patient-records/7");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(host.counter("mtls_authz.allowed"), Some(0));
    assert_eq!(host.counter("mtls_authz.denied"), Some(1));
    filter.on_tick(&mut host);
    assert_eq!(host.counter("mtls_authz.allowed"), Some(3));
    assert_eq!(
        host.counter("mtls_authz.rule.records-read.allowed"),
        Some(3)
    );
    assert_eq!(host.counter("mtls_authz.denied"), Some(1));
}

#[test]
fn url_encoded_peer_certificate_is_accepted() {
    let encoded = url_encode(&pem("healthcare/clinician-alice"));
    let mut host = MockHost::new()
        .with_property(MTLS, b"true")
        .with_property(VALID, [1u8])
        .with_property(PEER_CERT, encoded)
        .with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

#[test]
fn spoofed_identity_header_is_replaced() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/7")
        .with_header("x-client-role", "admin")
        .with_header("X-Client-Role", "admin");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.header_values("x-client-role"), ["clinician"]);
}

#[test]
fn spoofed_identity_header_is_removed_without_identity() {
    let mut host = MockHost::new()
        .with_request("GET", "/healthz")
        .with_header("x-client-role", "admin")
        .with_header("x-client-subject", "CN=root")
        .with_header("x-client-role", "admin2");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.header("x-client-role"), None);
    assert_eq!(host.header("x-client-subject"), None);
}

#[test]
fn every_instance_of_method_override_headers_is_removed() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/7")
        .with_header("x-http-method-override", "DELETE")
        .with_header("X-HTTP-Method-Override", "PUT")
        .with_header("x-http-method", "DELETE")
        .with_header("x-method-override", "DELETE");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    for name in [
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    ] {
        assert!(host.header_values(name).is_empty(), "{name} still present");
    }
}

/// WSGI/CGI upstreams (gunicorn < 22, uWSGI, PHP) and Envoy's default
/// `headers_with_underscores_action: ALLOW` make `x_client_role` and `x-client-role` the same
/// `HTTP_X_CLIENT_ROLE`: an underscore spelling of a protected header is a spoofed copy.
#[test]
fn underscore_spellings_of_protected_headers_are_removed() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/7")
        .with_header("x_client_role", "admin")
        .with_header("X_Client-Subject", "CN=root")
        .with_header("x_http_method_override", "DELETE")
        .with_header("x_forwarded_client_cert", "Cert=forged")
        .with_header("x_mtls_authz_shadow", "allow:rule[admin]:role[admin]")
        .with_header("x_unrelated_header", "kept");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    for name in [
        "x_client_role",
        "X_Client-Subject",
        "x_http_method_override",
        "x_forwarded_client_cert",
        "x_mtls_authz_shadow",
    ] {
        assert!(host.header_values(name).is_empty(), "{name} still present");
    }
    assert_eq!(host.header_values("x-client-role"), ["clinician"]);
    assert_eq!(host.header_values("x_unrelated_header"), ["kept"]);
}

#[test]
fn underscore_spelling_is_removed_without_identity() {
    let mut host = MockHost::new()
        .with_request("GET", "/healthz")
        .with_header("x_client_role", "admin");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert!(host.header_values("x_client_role").is_empty());
    assert_eq!(host.header("x-client-role"), None);
}

/// Symfony < 3.4.14, Zend Framework, Yii and IIS-style front controllers route on
/// `X-Original-URL` / `X-Rewrite-URL` instead of the request line: the path that was
/// authorised would not be the path that is served.
#[test]
fn path_override_headers_are_removed() {
    let mut host = MockHost::new()
        .with_request("GET", "/healthz")
        .with_header("x-original-url", "/admin/users")
        .with_header("X-Rewrite-URL", "/admin/users")
        .with_header("x_original_url", "/admin/users");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    for name in ["x-original-url", "x-rewrite-url", "x_original_url"] {
        assert!(host.header_values(name).is_empty(), "{name} still present");
    }
}

#[test]
fn xfcc_is_removed_when_not_a_source() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/7")
        .with_header("x-forwarded-client-cert", "By=x;Cert=abc")
        .with_header("x-forwarded-client-cert", "Hash=00");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert!(host.header_values("x-forwarded-client-cert").is_empty());
}

#[test]
fn forbidden_request_gets_403_json() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("DELETE", "/patient-records/7")
        .with_header("x-request-id", "req-403");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    let response = host.local_response().expect("a local response");
    assert_eq!(response.status, 403);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.json(),
        serde_json::json!({"error": "forbidden", "request_id": "req-403"})
    );
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("forbidden:rule[records-write]:role_not_held")
    );
    let line = &host
        .logs()
        .iter()
        .find(|(_, l)| l.contains(" deny "))
        .unwrap();
    assert_eq!(line.0, LogLevel::Info);
    assert!(line.1.contains("rule=records-write"), "{}", line.1);
    assert!(line.1.contains("request_id=req-403"), "{}", line.1);
    assert!(line.1.contains("subject=\"CN="), "{}", line.1);
    assert_eq!(host.counter("mtls_authz.denied"), Some(1));
    assert_eq!(
        host.counter("mtls_authz.rule.records-write.denied"),
        Some(1)
    );
    assert_eq!(host.counter("mtls_authz.allowed"), Some(0));
}

#[test]
fn missing_certificate_gets_401_with_generated_request_id() {
    let mut host = MockHost::new().with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    let response = host.local_response().unwrap();
    assert_eq!(response.status, 401);
    let body = response.json();
    assert_eq!(body["error"], "unauthenticated");
    assert!(body["request_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("mtls-authz-")));
    assert_eq!(body.as_object().unwrap().len(), 2);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:no_certificate")
    );
    assert_eq!(host.counter("mtls_authz.unauthenticated"), Some(1));
}

#[test]
fn unnormalisable_path_gets_400() {
    let mut host = envoy_client("healthcare/admin-bob").with_request("GET", "/patient-records%2F7");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 400);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:encoded_slash")
    );
    assert_eq!(host.counter("mtls_authz.bad_request"), Some(1));
}

#[test]
fn upstream_receives_the_normalised_path() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/./a//b/../7?x=1");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(
        host.header(":path").as_deref(),
        Some("/patient-records/a/7?x=1")
    );
}

#[test]
fn expose_reason_puts_rule_and_reason_in_the_body() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("DELETE", "/patient-records/7")
        .with_header("x-request-id", "r1");
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("expose_reason", serde_json::json!(true))]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        host.local_response().unwrap().json(),
        serde_json::json!({
            "error": "forbidden",
            "request_id": "r1",
            "rule": "records-write",
            "reason": "forbidden:rule[records-write]:role_not_held"
        })
    );
}

#[test]
fn property_read_error_denies_with_401() {
    let mut host = MockHost::new()
        .with_property(MTLS, [1u8])
        .with_property(VALID, [1u8])
        .with_property_error(PEER_CERT, "InternalFailure")
        .with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 401);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
    assert_eq!(host.counter("mtls_authz.host_error"), Some(1));
    assert!(host
        .logs()
        .iter()
        .any(|(level, l)| *level == LogLevel::Warn && l.contains("connection.peer_certificate")));
}

#[test]
fn digest_read_error_denies_with_401() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_property_error(DIGEST, "SerializationFailure")
        .with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 401);
}

#[test]
fn property_read_error_still_serves_public_routes() {
    let mut host = MockHost::new()
        .with_property_error(PEER_CERT, "InternalFailure")
        .with_request("GET", "/healthz");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
}

/// `connection.peer_certificate_valid` false (ACCEPT_UNTRUSTED, or a resumed TLS session in
/// Envoy 1.40): the certificate is not parsed, not served from the cache, never an identity.
#[test]
fn a_certificate_envoy_did_not_verify_is_unverified() {
    for (valid, with_digest) in [
        (Some(&[0u8][..]), true),
        (Some(&[0u8][..]), false),
        (None, true),
        (None, false),
        (Some(&b"yes"[..]), false),
        (Some(&[2u8][..]), true),
    ] {
        let mut host = MockHost::new()
            .with_property(MTLS, [1u8])
            .with_property(PEER_CERT, pem("healthcare/admin-bob"))
            .with_request("GET", "/patient-records");
        if let Some(valid) = valid {
            host = host.with_property(VALID, valid);
        }
        if with_digest {
            host = host.with_property(DIGEST, "ab".repeat(32));
        }
        let filter = configure(
            &mut host,
            &policy_with("healthcare", &[("host", "envoy".into())]),
        );
        // Cached from an earlier, verified request on another connection: still refused.
        if with_digest {
            let mut verified = host.clone().with_property(VALID, [1u8]);
            assert_eq!(filter.on_request_headers(&mut verified), Verdict::Continue);
            assert_eq!(filter.cached_identities(), 1);
        }
        let label = format!("valid {valid:?}, digest {with_digest}");
        assert_eq!(
            filter.on_request_headers(&mut host),
            Verdict::Respond,
            "{label}"
        );
        assert_eq!(
            deny_reason(&host).as_deref(),
            Some("unauthenticated:certificate_unverified"),
            "{label}"
        );
        // A public route still answers, without identity headers.
        host.next_request_to("GET", "/healthz");
        host.push_header("x-client-role", "admin");
        assert_eq!(
            filter.on_request_headers(&mut host),
            Verdict::Continue,
            "{label}"
        );
        assert_eq!(host.header("x-client-role"), None, "{label}");
    }
}

#[test]
fn listener_verification_accepts_what_envoy_reports_unvalidated() {
    // A resumed TLS session on a listener that verifies every handshake: Envoy 1.40 reports
    // `false`, and with `peer_verification: listener` the filter does not refuse it.
    let mut host = MockHost::new()
        .with_property(MTLS, [1u8])
        .with_property(VALID, [0u8])
        .with_property(DIGEST, "ab".repeat(32))
        .with_property(PEER_CERT, pem("healthcare/admin-bob"))
        .with_request("DELETE", "/patient-records/1");
    let policy = policy_with(
        "healthcare",
        &[
            ("host", "envoy".into()),
            (
                "identity",
                serde_json::json!({"peer_verification": "listener"}),
            ),
        ],
    );
    let filter = configure(&mut host, &policy);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("admin"));
    // The flag is not even read: a cache hit is one property read.
    host.next_request_to("DELETE", "/patient-records/1");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.property_reads(), 1);
}

#[test]
fn mtls_false_means_no_certificate() {
    let mut host = MockHost::new()
        .with_property(MTLS, [0u8])
        .with_property(PEER_CERT, pem("healthcare/admin-bob"))
        .with_request("GET", "/patient-records");
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("host", "envoy".into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:no_certificate")
    );
}

#[test]
fn unreadable_mtls_flag_is_unverified() {
    let mut host = MockHost::new()
        .with_property(MTLS, b"yes")
        .with_property(PEER_CERT, pem("healthcare/admin-bob"))
        .with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
}

#[test]
fn header_read_failure_answers_500() {
    let mut host = MockHost::new().with_header_read_failure();
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    let response = host.local_response().unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.json()["error"], "internal_error");
    assert_eq!(host.counter("mtls_authz.host_error"), Some(1));
}

#[test]
fn header_write_failure_answers_500_instead_of_forwarding() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/7")
        .with_header("x-client-role", "admin")
        .with_header_write_failure();
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 500);
    assert_eq!(host.counter("mtls_authz.allowed"), Some(0));
}

#[test]
fn clock_failure_makes_the_certificate_unverified() {
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("GET", "/patient-records")
        .with_clock_failure();
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
}

#[test]
fn unconfigured_vm_answers_500() {
    let mut host = MockHost::new().with_request("GET", "/healthz");
    assert_eq!(
        mtls_authz_filter::request::not_configured(&mut host),
        Verdict::Respond
    );
    assert_eq!(host.local_response().unwrap().status, 500);
}

// --- configuration ---------------------------------------------------------------------

#[test]
fn refused_configuration_logs_the_field() {
    let mut host = MockHost::new();
    let err = Filter::configure(&mut host, Some(br#"{"rules": [], "mode": "block"}"#)).unwrap_err();
    let (level, line) = host.logs().last().unwrap();
    assert_eq!(*level, LogLevel::Error);
    assert_eq!(line, &format!("mtls-authz: configuration refused: {err}"));
    assert!(line.contains("mode"), "{line}");
}

#[test]
fn refused_configuration_for_missing_or_non_utf8_bytes() {
    let mut host = MockHost::new();
    assert!(Filter::configure(&mut host, None).is_err());
    assert!(Filter::configure(&mut host, Some(b"")).is_err());
    assert!(Filter::configure(&mut host, Some(b"\xff\xfe")).is_err());
    assert_eq!(host.logs().len(), 3);
    assert!(host.logs().iter().all(|(l, _)| *l == LogLevel::Error));
}

#[test]
fn bad_host_field_is_refused() {
    let mut host = MockHost::new();
    let err = Filter::configure(
        &mut host,
        Some(policy_with("healthcare", &[("host", "istio".into())]).as_bytes()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("host"), "{err}");
    let err = Filter::configure(
        &mut host,
        Some(policy_with("healthcare", &[("identity_cache_size", 100_000.into())]).as_bytes()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("identity_cache_size"), "{err}");
}

// --- NGINX ------------------------------------------------------------------------------

fn nginx(verify: Option<&str>, cert: Option<&str>) -> MockHost {
    nginx_request(verify, cert, "/patient-records", "/patient-records")
}

/// An NGINX request as ngx_wasm_module shows it: `:path` is NGINX's own decoded and
/// normalised `$uri` (plus `?args`), `ngx.request_uri` the request-target as the client sent
/// it — which is what `proxy_pass` without a URI part forwards upstream.
fn nginx_request(
    verify: Option<&str>,
    cert: Option<&str>,
    nginx_path: &str,
    request_uri: &str,
) -> MockHost {
    let mut host = MockHost::nginx()
        .with_request("GET", nginx_path)
        .with_property(NGX_REQUEST_URI, request_uri);
    if let Some(verify) = verify {
        host = host.with_property(NGX_VERIFY, verify);
    }
    if let Some(cert) = cert {
        host = host.with_property(NGX_CERT, pem(cert));
    }
    host
}

fn run_nginx(mut host: MockHost) -> (Verdict, MockHost) {
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("host", "nginx".into())]),
    );
    (filter.on_request_headers(&mut host), host)
}

#[test]
fn nginx_success_uses_the_raw_certificate() {
    let (verdict, host) = run_nginx(nginx(Some("SUCCESS"), Some("healthcare/clinician-alice")));
    assert_eq!(verdict, Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

#[test]
fn nginx_failed_verification_is_unverified() {
    let (verdict, host) = run_nginx(nginx(
        Some("FAILED:certificate has expired"),
        Some("healthcare/clinician-alice"),
    ));
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
}

#[test]
fn nginx_none_is_no_certificate() {
    let (verdict, host) = run_nginx(nginx(Some("NONE"), Some("healthcare/clinician-alice")));
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:no_certificate")
    );
}

#[test]
fn nginx_missing_properties_are_no_certificate() {
    let (verdict, host) = run_nginx(nginx(None, None));
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 401);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:no_certificate")
    );
}

#[test]
fn nginx_success_without_certificate_is_unverified() {
    let (_, host) = run_nginx(nginx(Some("SUCCESS"), None));
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
}

#[test]
fn nginx_properties_are_ignored_in_envoy_mode() {
    let mut host = nginx(Some("SUCCESS"), Some("healthcare/admin-bob"));
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("host", "envoy".into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:no_certificate")
    );
}

#[test]
fn auto_mode_reads_nginx_properties_where_ngx_request_uri_exists() {
    // ngx_wasm_module answers `connection.mtls` as text and has no peer_certificate.
    let host =
        nginx(Some("SUCCESS"), Some("healthcare/clinician-alice")).with_property(MTLS, "true");
    let mut host = host;
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));

    let mut host = nginx(
        Some("FAILED:unable to get issuer"),
        Some("healthcare/clinician-alice"),
    )
    .with_property(MTLS, "false");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_unverified")
    );
}

/// NGINX decodes `%2F` and resolves the `..` before any filter runs: authorising its `$uri`
/// (`/healthz`, public) would let the upstream, which receives `/admin/..%2Fhealthz` as sent,
/// route the request to an admin handler.
#[test]
fn nginx_authorises_the_request_uri_not_its_decoded_path() {
    let host = nginx_request(
        Some("SUCCESS"),
        Some("healthcare/clinician-alice"),
        "/healthz",
        "/admin/..%2Fhealthz",
    );
    let (verdict, host) = run_nginx(host);
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 400);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:encoded_slash")
    );
}

/// NGINX forwards the request-target as sent (`proxy_pass` without a URI part) and
/// ngx_wasm_module's `:path` setter only changes `$uri`: a path that normalisation would
/// change cannot reach the upstream normalised, so it is refused.
#[test]
fn nginx_refuses_paths_it_would_forward_unnormalised() {
    for request_uri in [
        "/admin/../healthz",
        "/admin/%2e%2e/healthz",
        "//healthz",
        "/healthz/.",
        "/healthz#x",
    ] {
        let host = nginx_request(
            Some("SUCCESS"),
            Some("healthcare/admin-bob"),
            "/healthz",
            request_uri,
        );
        let (verdict, host) = run_nginx(host);
        assert_eq!(verdict, Verdict::Respond, "{request_uri}");
        assert_eq!(host.local_response().unwrap().status, 400, "{request_uri}");
        assert_eq!(
            deny_reason(&host).as_deref(),
            Some("bad_request:path_not_normalized"),
            "{request_uri}"
        );
    }
}

#[test]
fn nginx_forwards_a_normal_request_uri_without_touching_the_path() {
    // NGINX's `$uri` holds the decoded bytes; ngx_wasm_module refuses (traps on) a `:path`
    // with a query, so the filter must not write `:path` there.
    let nginx_path = "/patient-records/caf\u{e9}/?x=%2F";
    let host = nginx_request(
        Some("SUCCESS"),
        Some("healthcare/clinician-alice"),
        nginx_path,
        "/patient-records/caf%c3%a9/?x=%2F",
    );
    let (verdict, host) = run_nginx(host);
    assert_eq!(verdict, Verdict::Continue);
    assert_eq!(host.header(":path").as_deref(), Some(nginx_path));
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

#[test]
fn auto_mode_authorises_the_nginx_request_uri() {
    let mut host = nginx_request(None, None, "/healthz", "/admin/..%2Fhealthz");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:encoded_slash")
    );
}

#[test]
fn nginx_without_the_request_uri_answers_500() {
    let mut host = MockHost::new()
        .with_request("GET", "/healthz")
        .with_property(NGX_VERIFY, "NONE");
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("host", "nginx".into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    let response = host.local_response().unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.json()["error"], "internal_error");
}

#[test]
fn envoy_mode_ignores_the_nginx_request_uri() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/1")
        .with_property(NGX_REQUEST_URI, "/admin/users");
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("host", "envoy".into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

// --- shadow mode ------------------------------------------------------------------------

#[test]
fn shadow_mode_forwards_a_deny_with_the_verdict() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("DELETE", "/patient-records/7")
        .with_header("x-mtls-authz-shadow", "allow:rule[x]:role[admin]")
        .with_header("x-client-role", "admin")
        .with_header("x-http-method-override", "GET");
    assert_eq!(run(&mut host, "shadow"), Verdict::Continue);
    assert_eq!(host.local_response(), None);
    assert_eq!(
        host.header("x-mtls-authz-shadow").as_deref(),
        Some("forbidden:rule[records-write]:role_not_held")
    );
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
    assert_eq!(host.header("x-http-method-override"), None);
    assert_eq!(host.counter("mtls_authz.shadow_denied"), Some(1));
    assert_eq!(host.counter("mtls_authz.denied"), Some(0));
    assert!(host.logs().iter().any(|(_, l)| l.contains("shadow-deny")));
}

#[test]
fn shadow_mode_without_identity_sets_no_identity_headers() {
    let mut host = MockHost::new()
        .with_request("GET", "/patient-records")
        .with_header("x-client-role", "admin");
    assert_eq!(run(&mut host, "shadow"), Verdict::Continue);
    assert_eq!(host.header("x-client-role"), None);
    assert_eq!(
        host.header("x-mtls-authz-shadow").as_deref(),
        Some("unauthenticated:no_certificate")
    );
}

#[test]
fn shadow_mode_marks_allowed_requests_too() {
    let mut host =
        envoy_client("healthcare/admin-bob").with_request("DELETE", "/patient-records/7");
    assert_eq!(run(&mut host, "shadow"), Verdict::Continue);
    assert_eq!(
        host.header("x-mtls-authz-shadow").as_deref(),
        Some("allow:rule[records-write]:role[admin]")
    );
    assert_eq!(host.counter("mtls_authz.allowed"), Some(1));
    assert_eq!(host.counter("mtls_authz.shadow_denied"), Some(0));
}

// --- XFCC -------------------------------------------------------------------------------

fn xfcc_value(cert: &str) -> String {
    format!(
        "By=spiffe://edge;Cert=\"{}\";Subject=\"CN=x,Cert=evil\"",
        url_encode(&pem(cert))
    )
}

#[test]
fn xfcc_source_uses_the_last_element() {
    let mut host = MockHost::new()
        .with_request("GET", "/patient-records")
        .with_header(
            "x-forwarded-client-cert",
            xfcc_value("healthcare/billing-carol"),
        )
        .with_header(
            "x-forwarded-client-cert",
            xfcc_value("healthcare/clinician-alice"),
        );
    assert_eq!(run(&mut host, "xfcc"), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

#[test]
fn malformed_xfcc_is_a_parse_error() {
    let mut host = MockHost::new()
        .with_request("GET", "/patient-records")
        .with_header("x-forwarded-client-cert", "Cert=\"unterminated");
    assert_eq!(run(&mut host, "xfcc"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_parse_error")
    );
}

// --- identity cache ---------------------------------------------------------------------

/// A digest the mock host reports for the peer certificate (any 64 hex digits do).
const FAKE_DIGEST_BYTE_HEX: &str = "aa";

/// With `"host": "envoy"`, and with `auto` once the first request showed Envoy (no
/// `ngx.request_uri`, Envoy's digest present): the first `auto` request asks for
/// `ngx.request_uri` too.
#[test]
fn cache_hit_by_digest_costs_two_property_reads() {
    for host_kind in ["envoy", "auto"] {
        let digest = FAKE_DIGEST_BYTE_HEX.repeat(32);
        let mut host = envoy_client("healthcare/clinician-alice")
            .with_property(DIGEST, &digest)
            .with_request("GET", "/patient-records");
        let filter = configure(
            &mut host,
            &policy_with("healthcare", &[("host", host_kind.into())]),
        );
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
        let first_request_uri_read = usize::from(host_kind == "auto");
        assert_eq!(
            host.property_reads(),
            4 + first_request_uri_read,
            "{host_kind}: digest, validity, mtls, certificate"
        );
        assert_eq!(filter.cached_identities(), 1);

        host.next_request_to("GET", "/patient-records");
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
        assert_eq!(host.property_reads(), 2, "{host_kind}: digest, validity");
        assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
    }
}

/// Runs one more `GET /patient-records` on `host` and returns how many properties it read.
fn property_reads_of_next_request(filter: &Filter, host: &mut MockHost) -> usize {
    host.next_request_to("GET", "/patient-records");
    assert_eq!(filter.on_request_headers(host), Verdict::Continue);
    host.property_reads()
}

/// ngx_wasm_module logs an `[alert] NYI` for every Envoy property it lacks: `auto` tells the
/// proxy apart by `ngx.request_uri` before reading any certificate property.
#[test]
fn auto_never_reads_envoy_properties_in_nginx() {
    let mut host = nginx(Some("SUCCESS"), Some("healthcare/clinician-alice"));
    let filter = configure(&mut host, &load_policy("healthcare"));
    for _ in 0..2 {
        assert_eq!(property_reads_of_next_request(&filter, &mut host), 4);
        assert_eq!(
            host.properties_read(),
            [NGX_REQUEST_URI, NGX_CONNECTION, NGX_VERIFY, NGX_CERT],
            "no connection serial here: nothing to cache the handshake by"
        );
        assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
    }
}

#[test]
fn auto_takes_a_host_with_both_signs_for_nginx() {
    // An NGINX that one day implemented Envoy's digest property must still be NGINX: its
    // `ngx.request_uri` wins, so the request-target as sent stays what is authorised.
    let mut host = nginx_request(
        Some("SUCCESS"),
        Some("healthcare/clinician-alice"),
        "/healthz",
        "/admin/..%2Fhealthz",
    )
    .with_property(DIGEST, FAKE_DIGEST_BYTE_HEX.repeat(32));
    let filter = configure(&mut host, &load_policy("healthcare"));
    for _ in 0..2 {
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
        host.next_request_to("GET", "/healthz");
    }
}

#[test]
fn auto_without_a_client_certificate_learns_nothing() {
    // No digest: nothing proves Envoy, so every request keeps asking for ngx.request_uri;
    // without it this is Envoy, and NGINX's properties are never read.
    let mut host = MockHost::new().with_request("GET", "/healthz");
    let filter = configure(&mut host, &load_policy("healthcare"));
    for _ in 0..2 {
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
        assert_eq!(
            host.properties_read(),
            [NGX_REQUEST_URI, DIGEST, VALID, MTLS, PEER_CERT]
        );
        host.next_request_to("GET", "/healthz");
    }
}

#[test]
fn cache_never_reuses_a_decision() {
    // Same certificate, cached; the second request is evaluated again (and denied).
    let mut host =
        envoy_client("healthcare/clinician-alice").with_request("GET", "/patient-records");
    let filter = configure(&mut host, &load_policy("healthcare"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    host.next_request_to("DELETE", "/patient-records/1");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 403);
}

#[test]
fn cache_keeps_validity_checks_per_request() {
    // Cached while valid (2020-06-01), refused once the clock passes notAfter (2021).
    let mut host = envoy_client("attack/expired")
        .with_request("GET", "/whoami")
        .with_time(1_590_969_600);
    let filter = configure(&mut host, &load_policy("healthcare"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(filter.cached_identities(), 1);
    host.next_request_to("GET", "/whoami");
    host.set_time(1_795_392_000);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_expired")
    );
}

#[test]
fn cache_is_bounded_by_identity_cache_size() {
    let certs = [
        "healthcare/clinician-alice",
        "healthcare/admin-bob",
        "healthcare/billing-carol",
        "services/billing-api",
    ];
    let mut host = MockHost::new()
        .with_property(MTLS, [1u8])
        .with_property(VALID, [1u8]);
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("identity_cache_size", 2.into())]),
    );
    for cert in certs {
        host.next_request_to("GET", "/whoami");
        host.set_property(PEER_CERT, pem(cert));
        filter.on_request_headers(&mut host);
        assert!(filter.cached_identities() <= 2);
    }
    assert_eq!(filter.cached_identities(), 2);
}

#[test]
fn cache_size_zero_disables_the_cache() {
    let mut host =
        envoy_client("healthcare/clinician-alice").with_request("GET", "/patient-records");
    let filter = configure(
        &mut host,
        &policy_with("healthcare", &[("identity_cache_size", 0.into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(filter.cached_identities(), 0);
}

// --- several sources --------------------------------------------------------------------

#[test]
fn next_source_is_tried_only_when_the_first_has_no_certificate() {
    // xfcc-fallback lists ["xfcc", "peer_certificate"].
    let mut host =
        envoy_client("healthcare/clinician-alice").with_request("GET", "/patient-records");
    assert_eq!(run(&mut host, "xfcc-fallback"), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));

    // An XFCC element without Cert is "no certificate here": the peer certificate is used.
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records")
        .with_header("x-forwarded-client-cert", "By=spiffe://edge;Hash=00");
    assert_eq!(run(&mut host, "xfcc-fallback"), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
}

#[test]
fn a_refused_first_source_is_not_replaced_by_the_next() {
    // A malformed XFCC stops the search although the TLS peer has a good certificate.
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("GET", "/patient-records")
        .with_header("x-forwarded-client-cert", "Cert=%zz");
    assert_eq!(run(&mut host, "xfcc-fallback"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:certificate_parse_error")
    );
}

#[test]
fn xfcc_underscore_spelling_is_removed_when_xfcc_is_a_source() {
    let value = xfcc_value("healthcare/clinician-alice");
    let mut host = MockHost::new()
        .with_request("GET", "/patient-records")
        .with_header("x-forwarded-client-cert", &value)
        .with_header("x_forwarded_client_cert", "Cert=forged");
    assert_eq!(run(&mut host, "xfcc"), Verdict::Continue);
    assert_eq!(host.header("x-forwarded-client-cert"), Some(value));
    assert!(host.header_values("x_forwarded_client_cert").is_empty());
}

#[test]
fn xfcc_is_kept_for_the_upstream_when_it_is_a_source() {
    let value = xfcc_value("healthcare/clinician-alice");
    let mut host = MockHost::new()
        .with_request("GET", "/patient-records")
        .with_header("x-forwarded-client-cert", &value);
    assert_eq!(run(&mut host, "xfcc"), Verdict::Continue);
    assert_eq!(host.header("x-forwarded-client-cert"), Some(value));
}

/// Trailers carry no identity: every protected name goes from them too, in every spelling,
/// and XFCC even when it is a trusted source (the filter reads XFCC from headers only).
#[test]
fn protected_names_are_stripped_from_request_trailers() {
    for policy in ["healthcare", "xfcc"] {
        let mut host = envoy_client("healthcare/clinician-alice")
            .with_request("POST", "/upload")
            .with_trailer("x-client-role", "admin")
            .with_trailer("X_Client_Role", "admin")
            .with_trailer("x-client-subject", "CN=root")
            .with_trailer("x-http-method-override", "DELETE")
            .with_trailer("x-original-url", "/admin")
            .with_trailer("x-mtls-authz-shadow", "allow")
            .with_trailer("x-forwarded-client-cert", "Cert=\"x\"")
            .with_trailer("x-checksum", "abc")
            .with_trailer("grpc-status", "0");
        let filter = configure(&mut host, &load_policy(policy));
        assert_eq!(filter.on_request_trailers(&mut host), Verdict::Continue);
        let names: Vec<&str> = host.trailers().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-checksum", "grpc-status"], "{policy}");
        assert_eq!(host.local_response(), None);
        let logged: Vec<&str> = host
            .logs()
            .iter()
            .filter(|(_, line)| line.contains("request trailers removed"))
            .map(|(_, line)| line.as_str())
            .collect();
        assert_eq!(
            logged,
            ["mtls-authz: request trailers removed: x-client-role,X_Client_Role,x-client-subject,x-http-method-override,x-original-url,x-mtls-authz-shadow,x-forwarded-client-cert"],
            "{policy}"
        );
    }
}

/// NGINX discards request trailers before any filter (and ngx_wasm_module never calls the
/// trailer hook): the NGINX mock has none to give.
#[test]
fn the_nginx_mock_has_no_request_trailers() {
    let host = nginx(Some("SUCCESS"), Some("healthcare/clinician-alice"))
        .with_trailer("x-client-role", "admin");
    assert!(host.trailers().is_empty());
}

#[test]
fn a_trailer_host_failure_answers_500() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("POST", "/upload")
        .with_trailer_read_failure();
    let filter = configure(&mut host, &load_policy("healthcare"));
    assert_eq!(filter.on_request_trailers(&mut host), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 500);
    assert_eq!(host.counter("mtls_authz.host_error"), Some(1));

    let mut host = envoy_client("healthcare/clinician-alice")
        .with_trailer("x-client-role", "admin")
        .with_header_write_failure();
    let filter = configure(&mut host, &load_policy("healthcare"));
    assert_eq!(filter.on_request_trailers(&mut host), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 500);
}

#[test]
fn trailers_without_protected_names_are_untouched() {
    let mut host = envoy_client("healthcare/clinician-alice").with_trailer("x-sum", "1");
    let filter = configure(&mut host, &load_policy("healthcare"));
    let reads = host.property_reads();
    assert_eq!(filter.on_request_trailers(&mut host), Verdict::Continue);
    assert_eq!(host.trailer_values("x-sum"), ["1"]);
    assert_eq!(host.property_reads(), reads);
}

/// A query with raw bytes ≥ 0x80 that are not UTF-8 reaches the upstream byte for byte when
/// the path part is rewritten (never as U+FFFD replacement characters).
#[test]
fn a_rewritten_path_keeps_raw_query_bytes() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_header(":method", "GET")
        .with_header(":path", b"/x/../patient-records/7?q=\xff\xfe%80&n=\xc3\xa9");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(
        host.header_bytes(":path"),
        [&b"/patient-records/7?q=\xff\xfe%80&n=\xc3\xa9"[..]]
    );
    // Not rewritten: the bytes stay exactly as received.
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_header(":method", "GET")
        .with_header(":path", b"/patient-records/7?q=\xff");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(
        host.header_bytes(":path"),
        [&b"/patient-records/7?q=\xff"[..]]
    );
    // A raw non-UTF-8 byte in the PATH part is refused, as any raw non-ASCII byte.
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_header(":method", "GET")
        .with_header(":path", b"/patient-records/\xff");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:control_character")
    );
}

fn with_form_check(max: u64) -> String {
    policy_with(
        "healthcare",
        &[("form_body_check", serde_json::json!({ "max_bytes": max }))],
    )
}

/// A body the host reports but cannot hand over whole (NGINX: one over
/// `client_body_buffer_size`, written to a temp file ngx_wasm_module does not read for filters)
/// is never taken for an empty one: 500, logged with the fix.
#[test]
fn a_body_the_host_cannot_hand_over_is_refused() {
    for body in [None, Some("a=1")] {
        let mut host = MockHost::nginx()
            .with_request("POST", "/patient-records/1")
            .with_property(NGX_REQUEST_URI, "/patient-records/1")
            .with_property(NGX_VERIFY, "SUCCESS")
            .with_property(NGX_CERT, pem("healthcare/admin-bob"))
            .with_header("content-type", "application/x-www-form-urlencoded");
        if let Some(body) = body {
            host = host.with_body(body);
        }
        let filter = configure(
            &mut host,
            &policy_with(
                "healthcare",
                &[
                    ("host", "nginx".into()),
                    ("form_body_check", serde_json::json!({ "max_bytes": 65536 })),
                ],
            ),
        );
        let Verdict::WaitForBody(pending) = filter.on_request_headers(&mut host) else {
            panic!("not held");
        };
        assert_eq!(
            filter.on_request_body(&mut host, pending, 20_000, true),
            Verdict::Respond
        );
        assert_eq!(host.local_response().unwrap().status, 500, "{body:?}");
        assert!(
            host.logs()
                .iter()
                .any(|(_, line)| line.contains("reason=host_error")
                    && line.contains("client_body_buffer_size")),
            "{:?}",
            host.logs()
        );
        assert_eq!(host.counter("mtls_authz.host_error"), Some(1));
    }
}

/// `form_body_check`: an allowed request with a form body is held until its body is checked.
#[test]
fn form_bodies_are_checked_for_method_overrides() {
    for (content_type, body, expected) in [
        (
            "application/x-www-form-urlencoded",
            "a=1&_method=DELETE",
            Some("bad_request:method_override"),
        ),
        ("application/x-www-form-urlencoded", "a=1&b=2", None),
        (
            "application/json",
            r#"{"_method": "DELETE"}"#,
            Some("bad_request:method_override"),
        ),
        ("application/json", r#"{"a": "_method"}"#, None),
        (
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--b--\r\n",
            Some("bad_request:method_override"),
        ),
        (
            "multipart/form-data; boundary=b",
            "junk",
            Some("bad_request:form_body_malformed"),
        ),
    ] {
        let mut host = envoy_client("healthcare/admin-bob")
            .with_request("POST", "/patient-records/1")
            .with_header("content-type", content_type)
            .with_header("x-request-id", "body-1")
            .with_body(body);
        let filter = configure(&mut host, &with_form_check(1024));
        let Verdict::WaitForBody(pending) = filter.on_request_headers(&mut host) else {
            panic!("{content_type}: not held for its body");
        };
        assert_eq!(host.local_response(), None);
        // Still buffering: nothing decided.
        let partial = filter.on_request_body(&mut host, pending.clone(), 1, false);
        assert_eq!(partial, Verdict::WaitForBody(pending.clone()));
        let verdict = filter.on_request_body(&mut host, pending, body.len(), true);
        match expected {
            None => {
                assert_eq!(verdict, Verdict::Continue, "{content_type} {body}");
                assert_eq!(host.counter("mtls_authz.allowed"), Some(1));
            }
            Some(reason) => {
                assert_eq!(verdict, Verdict::Respond, "{content_type} {body}");
                let response = host.local_response().unwrap();
                assert_eq!(response.status, 400);
                assert_eq!(
                    response.json(),
                    serde_json::json!({"error": "bad_request", "request_id": "body-1"})
                );
                assert_eq!(deny_reason(&host).as_deref(), Some(reason));
                assert_eq!(host.counter("mtls_authz.bad_request"), Some(1));
                assert_eq!(host.counter("mtls_authz.allowed"), Some(0));
            }
        }
    }
}

#[test]
fn form_bodies_over_the_cap_are_refused_without_reading_them() {
    // Refused as soon as the buffer passes the cap, before the body is complete.
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("POST", "/patient-records/1")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("content-length", "11");
    let filter = configure(&mut host, &with_form_check(10));
    let Verdict::WaitForBody(pending) = filter.on_request_headers(&mut host) else {
        panic!("not held");
    };
    assert_eq!(
        filter.on_request_body(&mut host, pending, 11, false),
        Verdict::Respond
    );
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:form_body_too_large")
    );
}

#[test]
fn form_body_check_leaves_other_requests_alone() {
    let filter_for = |host: &mut MockHost, policy: &str| configure(host, policy);
    // Not a form type; off; denied anyway; shadow mode never holds a request.
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("POST", "/patient-records/1")
        .with_header("content-type", "text/plain");
    let filter = filter_for(&mut host, &with_form_check(10));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("POST", "/patient-records/1")
        .with_header("content-type", "application/x-www-form-urlencoded");
    let filter = filter_for(&mut host, &load_policy("healthcare"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    let mut host = envoy_client("healthcare/billing-carol")
        .with_request("POST", "/patient-records/1")
        .with_header("content-type", "application/x-www-form-urlencoded");
    let filter = filter_for(&mut host, &with_form_check(10));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    let mut host = envoy_client("healthcare/admin-bob")
        .with_request("POST", "/patient-records/1")
        .with_header("content-type", "application/x-www-form-urlencoded");
    let shadow = policy_with(
        "healthcare",
        &[
            ("mode", "shadow".into()),
            ("form_body_check", serde_json::json!({"max_bytes": 10})),
        ],
    );
    let filter = filter_for(&mut host, &shadow);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
}

// --- NGINX: headers the filter cannot take away, and the connection cache ----------------

/// An NGINX connection (serial `connection`) whose client presented `cert`, verified.
fn nginx_connection(cert: &str, connection: u64) -> MockHost {
    nginx(Some("SUCCESS"), Some(cert)).with_property(NGX_CONNECTION, connection.to_string())
}

fn nginx_filter(host: &mut MockHost, policy: &str) -> Filter {
    configure(host, &policy_with(policy, &[("host", "nginx".into())]))
}

/// The request of the NGINX report: allowed, and in NGINX every spoofed copy would have
/// reached the upstream next to the filter's own headers — so it is refused.
#[test]
fn nginx_refuses_an_allowed_request_that_carries_spoofable_headers() {
    let spoofed = [
        ("x-client-role", "x-client-role"),
        ("X-Client-Subject", "x-client-subject"),
        ("x-http-method-override", "x-http-method-override"),
        ("X-HTTP-Method", "x-http-method"),
        ("x-method-override", "x-method-override"),
        ("x-original-url", "x-original-url"),
        ("X-Rewrite-URL", "x-rewrite-url"),
        ("x-forwarded-client-cert", "x-forwarded-client-cert"),
        ("x-mtls-authz-shadow", "x-mtls-authz-shadow"),
        ("x_client_role", "x-client-role"),
        ("X_Forwarded_Client-Cert", "x-forwarded-client-cert"),
    ];
    for (sent, canonical) in spoofed {
        let mut host = nginx_connection("healthcare/clinician-alice", 1)
            .with_header("accept", "*/*")
            .with_header(sent, "admin");
        let filter = nginx_filter(&mut host, "healthcare");
        assert_eq!(
            filter.on_request_headers(&mut host),
            Verdict::Respond,
            "{sent}"
        );
        let response = host.local_response().unwrap();
        assert_eq!(response.status, 400, "{sent}");
        assert_eq!(response.json()["error"], "bad_request", "{sent}");
        assert_eq!(
            deny_reason(&host),
            Some(format!("bad_request:spoofable_header[{canonical}]")),
            "{sent}"
        );
        assert_eq!(host.counter("mtls_authz.bad_request"), Some(1), "{sent}");
    }
}

#[test]
fn nginx_keeps_the_policy_reason_when_the_request_is_denied_anyway() {
    let mut host = nginx_connection("healthcare/billing-carol", 1)
        .with_header("x-client-role", "admin")
        .with_header("x-http-method-override", "GET");
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 403);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("forbidden:rule[records-read]:role_not_held")
    );
}

#[test]
fn nginx_refuses_spoofable_headers_in_shadow_mode_too() {
    let mut host = nginx_connection("healthcare/clinician-alice", 1)
        .with_header("x-mtls-authz-shadow", "allow:rule[x]:role[admin]");
    let filter = nginx_filter(&mut host, "shadow");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:spoofable_header[x-mtls-authz-shadow]")
    );
    assert_eq!(host.counter("mtls_authz.shadow_denied"), Some(0));
}

#[test]
fn nginx_forwards_a_clean_request_with_exactly_one_of_each_identity_header() {
    let mut host = nginx_connection("healthcare/clinician-alice", 1);
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.header_values("x-client-role"), ["clinician"]);
    assert_eq!(
        host.header_values("x-client-subject"),
        ["CN=alice,OU=Clinicians,O=Example Health"]
    );
}

/// ngx_wasm_module shows a filter at most 100 header entries; the rest could hide a spoofed
/// header, so a map that long is refused.
#[test]
fn nginx_refuses_a_request_whose_headers_the_filter_cannot_all_see() {
    for (extra, hidden_spoof) in [(98, false), (150, true)] {
        let mut host = nginx_connection("healthcare/clinician-alice", 1);
        for i in 0..extra {
            host.push_header(&format!("x-filler-{i}"), "v");
        }
        if hidden_spoof {
            host.push_header("x-client-role", "admin");
        }
        let filter = nginx_filter(&mut host, "healthcare");
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
        assert_eq!(
            deny_reason(&host).as_deref(),
            Some("bad_request:too_many_headers")
        );
    }
    // 2 pseudo-headers + 97 = 99 entries: all visible, forwarded.
    let mut host = nginx_connection("healthcare/clinician-alice", 1);
    for i in 0..97 {
        host.push_header(&format!("x-filler-{i}"), "v");
    }
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
}

/// Envoy really removes: the same request is forwarded there, spoofed copies gone.
#[test]
fn envoy_strips_what_nginx_refuses() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records")
        .with_header("x-client-role", "admin")
        .with_header("x-http-method-override", "DELETE");
    assert_eq!(run(&mut host, "healthcare"), Verdict::Continue);
    assert_eq!(host.header_values("x-client-role"), ["clinician"]);
    assert!(host.header_values("x-http-method-override").is_empty());
}

#[test]
fn nginx_reads_a_connections_certificate_once() {
    let mut host = nginx_connection("healthcare/clinician-alice", 41);
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(
        host.properties_read(),
        [NGX_REQUEST_URI, NGX_CONNECTION, NGX_VERIFY, NGX_CERT]
    );
    for _ in 0..3 {
        host.next_request_to("GET", "/patient-records");
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
        assert_eq!(host.properties_read(), [NGX_REQUEST_URI, NGX_CONNECTION]);
        assert_eq!(host.header_values("x-client-role"), ["clinician"]);
    }
    // Another connection of another client: its own handshake is read.
    host.next_request_to("GET", "/patient-records");
    host.set_property(NGX_CONNECTION, "42");
    host.set_property(NGX_CERT, pem("healthcare/billing-carol"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(host.property_reads(), 4);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("forbidden:rule[records-read]:role_not_held")
    );
}

#[test]
fn nginx_remembers_an_unverified_or_absent_certificate_per_connection_too() {
    for (verify, reason) in [
        ("FAILED:self-signed certificate", "certificate_unverified"),
        ("NONE", "no_certificate"),
    ] {
        let mut host = nginx(Some(verify), Some("healthcare/clinician-alice"))
            .with_property(NGX_CONNECTION, "7");
        let filter = nginx_filter(&mut host, "healthcare");
        for reads in [4, 2] {
            assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
            assert_eq!(
                deny_reason(&host),
                Some(format!("unauthenticated:{reason}"))
            );
            assert!(host.property_reads() <= reads, "{verify}");
            host.next_request_to("GET", "/patient-records");
        }
    }
}

#[test]
fn nginx_connection_entries_expire_and_host_failures_are_not_remembered() {
    let mut host = nginx_connection("healthcare/clinician-alice", 9).with_time(1_795_392_000);
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    host.next_request_to("GET", "/patient-records");
    host.set_time(1_795_392_000 + 299);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.property_reads(), 2);
    host.next_request_to("GET", "/patient-records");
    host.set_time(1_795_392_000 + 300);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(
        host.property_reads(),
        4,
        "expired: the handshake is read again"
    );

    let mut host = MockHost::nginx()
        .with_request("GET", "/patient-records")
        .with_property(NGX_REQUEST_URI, "/patient-records")
        .with_property(NGX_CONNECTION, "3")
        .with_property_error(NGX_VERIFY, "InternalFailure");
    let filter = nginx_filter(&mut host, "healthcare");
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    host.next_request_to("GET", "/patient-records");
    host.set_property(NGX_VERIFY, "SUCCESS");
    host.set_property(NGX_CERT, pem("healthcare/clinician-alice"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
}

#[test]
fn nginx_without_a_usable_connection_serial_reads_the_handshake_every_time() {
    for serial in ["", "-1", "abc"] {
        let mut host = nginx(Some("SUCCESS"), Some("healthcare/clinician-alice"))
            .with_property(NGX_CONNECTION, serial);
        let filter = nginx_filter(&mut host, "healthcare");
        for _ in 0..2 {
            assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
            assert_eq!(host.property_reads(), 4, "{serial:?}");
            host.next_request_to("GET", "/patient-records");
        }
    }
}

// ---------------------------------------------------------------- v1.1 hosts

const NGX_HOST: &str = "ngx.host";
const NGX_HTTP_HOST: &str = "ngx.http_host";

/// A policy without `hosts` never reads the authority: no `ngx.host`, and an authority that a
/// policy with `hosts` would refuse changes nothing.
#[test]
fn a_policy_without_hosts_makes_no_authority_call() {
    let host = nginx(Some("SUCCESS"), Some("healthcare/clinician-alice"))
        .with_header("host", "user@evil:1:2")
        .with_absolute_form_host("elsewhere");
    let (verdict, host) = run_nginx(host);
    assert_eq!(verdict, Verdict::Continue);
    assert!(!host
        .properties_read()
        .iter()
        .any(|p| p == NGX_HOST || p == NGX_HTTP_HOST));
}

fn run_hosts(mut host: MockHost, proxy: &str) -> (Verdict, MockHost) {
    let filter = configure(&mut host, &policy_with("hosts", &[("host", proxy.into())]));
    (filter.on_request_headers(&mut host), host)
}

fn nginx_hosts_request(path: &str) -> MockHost {
    nginx_request(
        Some("SUCCESS"),
        Some("healthcare/clinician-alice"),
        path,
        path,
    )
}

/// NGINX: `$host` decides — the host NGINX routed on (ngx_wasm_module's own `:authority` is
/// the server_name, never the client's), normalised by NGINX.
#[test]
fn nginx_decides_on_the_host_nginx_routes_on() {
    let host = nginx_hosts_request("/patient-records/1")
        .with_header(":authority", "localhost:10443")
        .with_header("Host", "ADMIN.example.org.:8443");
    let (verdict, host) = run_hosts(host, "nginx");
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("forbidden:rule[admin-records]:role_not_held")
    );
    assert!(host.properties_read().iter().any(|p| p == NGX_HOST));
}

/// An absolute-form target NGINX routes on, naming another host than `Host`, however the
/// request line spells it (several spaces, any scheme): the filter never parses the request
/// line, `$host` and `$http_host` disagree.
#[test]
fn nginx_absolute_form_target_other_than_host_is_refused() {
    let host = nginx_hosts_request("/patient-records/1")
        .with_header("Host", "records.example.org")
        .with_absolute_form_host("admin.example.org");
    let (verdict, host) = run_hosts(host, "nginx");
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:authority_mismatch")
    );
}

/// HTTP/1.0 without `Host`: `$host` would be the server name, so no `$http_host` means no
/// authority, even when the server name would allow.
#[test]
fn nginx_without_host_header_is_authority_missing() {
    let host = nginx_hosts_request("/patient-records/1")
        .with_property("ngx.server_name", "records.example.org");
    let (verdict, host) = run_hosts(host, "nginx");
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:authority_missing")
    );
}

/// `$host` unreadable while `Host` exists: fail closed.
#[test]
fn nginx_without_host_variable_fails_closed() {
    let host = nginx_hosts_request("/patient-records/1")
        .with_header("host", "records.example.org")
        .with_property_error(NGX_HOST, "InternalFailure");
    let (verdict, host) = run_hosts(host, "nginx");
    assert_eq!(verdict, Verdict::Respond);
    assert_eq!(host.local_response().unwrap().status, 500);
}

/// The NGINX mock answers only real NGINX variables: a made-up one is a host error.
#[test]
fn nginx_mock_refuses_made_up_variables() {
    use mtls_authz_filter::host::Host as _;
    let host = MockHost::nginx().with_header("host", "a.example.org");
    assert!(host.get_property(&["ngx", "request_line"]).is_err());
    assert_eq!(
        host.get_property(&["ngx", "http_host"]).unwrap().as_deref(),
        Some(&b"a.example.org"[..])
    );
}

/// Envoy: `:authority`, and a `host` header (which Envoy never leaves next to it) is not it.
#[test]
fn envoy_reads_the_authority_pseudo_header() {
    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/1")
        .with_header(":authority", "records.example.org")
        .with_header("x-forwarded-host", "admin.example.org");
    let (verdict, _) = {
        let filter = configure(
            &mut host,
            &policy_with("hosts", &[("host", "envoy".into())]),
        );
        (filter.on_request_headers(&mut host), ())
    };
    assert_eq!(verdict, Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));

    let mut host = envoy_client("healthcare/clinician-alice")
        .with_request("GET", "/patient-records/1")
        .with_header("host", "records.example.org");
    let filter = configure(
        &mut host,
        &policy_with("hosts", &[("host", "envoy".into())]),
    );
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("bad_request:authority_missing")
    );
}

/// v1.1 `tokens`: a verified token is cached per VM (one entry per token, whatever the number
/// of requests), binding is still checked on every request against that request's
/// certificate, refused tokens are never cached, and the token header is forwarded unchanged.
#[test]
fn verified_tokens_are_cached_per_vm_and_bound_on_every_request() {
    let token = String::from_utf8(mtls_authz_fixtures::tokens::token("valid-es256")).unwrap();
    let bearer = format!("Bearer {token}");
    let mut config_host = MockHost::new();
    let filter = configure(&mut config_host, &load_policy("tokens"));
    let request = |cert: &str, value: &str| {
        envoy_client(cert)
            .with_request("GET", "/patient-records/1")
            .with_header("authorization", value)
    };
    for _ in 0..3 {
        let mut host = request("healthcare/clinician-alice", &bearer);
        assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
        assert_eq!(
            host.header("authorization").as_deref(),
            Some(bearer.as_str())
        );
    }
    assert_eq!(filter.cached_tokens(), 1);
    // The cached token replayed over another client's connection: refused.
    let mut host = request("healthcare/admin-bob", &bearer);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:token_binding_mismatch")
    );
    let expired = String::from_utf8(mtls_authz_fixtures::tokens::token("expired")).unwrap();
    let mut host = request("healthcare/clinician-alice", &format!("Bearer {expired}"));
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Respond);
    assert_eq!(
        deny_reason(&host).as_deref(),
        Some("unauthenticated:token_expired")
    );
    assert_eq!(filter.cached_tokens(), 1);
}
