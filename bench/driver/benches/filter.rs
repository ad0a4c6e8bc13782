//! The filter's request path natively, on the mock host: what mtls-authz computes per request
//! outside the host calls (header bookkeeping, `Policy::evaluate`, identity header values).
//!
//! In Envoy the same code runs in V8 and every host call crosses the VM boundary; this bench
//! gives the compute part's floor, `bench/run.sh --probe` the host calls' price. The mock
//! host's own bookkeeping (a `Vec` of headers, counters by name) is included; `mock_only`
//! measures it alone.
//!
//! Run: `cargo bench -p mtls-authz-bench --bench filter`.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a broken fixture should stop the run loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::host::Host as _;
use mtls_authz_filter::{Filter, Verdict};

const DIGEST: &str = "connection.sha256_peer_certificate_digest";

/// The request oha sends through Envoy (headers as the filter sees them).
fn push_request(host: &mut MockHost) {
    for (name, value) in [
        (":authority", "localhost:10443"),
        (":path", "/patient-records/42"),
        (":method", "GET"),
        (":scheme", "https"),
        ("user-agent", "oha/1.16.0"),
        ("accept", "*/*"),
        ("x-forwarded-proto", "https"),
        ("x-request-id", "6f1b2c7e-3f0a-4c7e-9a53-2d9a4f1e8b10"),
    ] {
        host.push_header(name, value);
    }
}

/// The request oha sends through NGINX, as ngx_wasm_module shows it to the filter.
fn push_nginx_request(host: &mut MockHost) {
    for (name, value) in [
        (":path", "/patient-records/42"),
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost:10443"),
        ("host", "localhost:10443"),
        ("user-agent", "oha/1.16.0"),
        ("accept", "*/*"),
    ] {
        host.push_header(name, value);
    }
}

fn nginx_host(cert: &str) -> MockHost {
    let pem = mtls_authz_fixtures::cert_bytes(cert).expect("fixture certificate");
    MockHost::nginx()
        .with_property("ngx.ssl_client_verify", "SUCCESS")
        .with_property("ngx.ssl_client_raw_cert", pem)
        .with_property("ngx.request_uri", "/patient-records/42")
        .with_property("ngx.connection", "1")
}

fn envoy_host(cert: &str) -> MockHost {
    let pem = mtls_authz_fixtures::cert_bytes(cert).expect("fixture certificate");
    let der_digest = "00".repeat(32);
    MockHost::new()
        .with_property("connection.mtls", [1u8])
        .with_property("connection.peer_certificate_valid", [1u8])
        .with_property("connection.peer_certificate", pem)
        .with_property(DIGEST, der_digest)
}

fn request_path(c: &mut Criterion) {
    let policy = std::fs::read_to_string(mtls_authz_fixtures::policy_path("healthcare"))
        .expect("healthcare policy");
    let mut group = c.benchmark_group("filter");

    let mut host = envoy_host("healthcare/clinician-alice");
    let filter = Filter::configure(&mut host, Some(policy.as_bytes())).expect("policy compiles");
    host.next_request();
    push_request(&mut host);
    assert_eq!(filter.on_request_headers(&mut host), Verdict::Continue);
    assert_eq!(host.header("x-client-role").as_deref(), Some("clinician"));
    group.bench_function("allowed_cached_identity", |b| {
        b.iter(|| {
            host.next_request();
            push_request(&mut host);
            black_box(filter.on_request_headers(&mut host))
        })
    });

    // NGINX: the handshake remembered by connection serial; the request-target from
    // `ngx.request_uri`; ngx_wasm_module's header map.
    let mut nginx = nginx_host("healthcare/clinician-alice");
    let nginx_policy = policy.replacen('{', "{\"host\": \"nginx\",", 1);
    let filter =
        Filter::configure(&mut nginx, Some(nginx_policy.as_bytes())).expect("policy compiles");
    nginx.next_request();
    push_nginx_request(&mut nginx);
    assert_eq!(filter.on_request_headers(&mut nginx), Verdict::Continue);
    assert_eq!(nginx.header("x-client-role").as_deref(), Some("clinician"));
    group.bench_function("allowed_cached_identity_nginx", |b| {
        b.iter(|| {
            nginx.next_request();
            push_nginx_request(&mut nginx);
            black_box(filter.on_request_headers(&mut nginx))
        })
    });

    let mut carol = envoy_host("healthcare/billing-carol");
    let filter = Filter::configure(&mut carol, Some(policy.as_bytes())).expect("policy compiles");
    group.bench_function("denied_cached_identity", |b| {
        b.iter(|| {
            carol.next_request();
            push_request(&mut carol);
            black_box(filter.on_request_headers(&mut carol))
        })
    });

    let mut mock = envoy_host("healthcare/clinician-alice");
    group.bench_function("mock_only", |b| {
        b.iter(|| {
            mock.next_request();
            push_request(&mut mock);
            black_box((
                mock.request_headers(),
                mock.get_property(&["connection", "mtls"]),
            ))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = request_path
}
criterion_main!(benches);
