//! Criterion benchmarks of the core's per-request work (issue "near-native cost per request").
//!
//! Targets on the reference machine (bench/README.md): evaluating a request with an
//! already-parsed identity under 0.5 µs median, cold parse + evaluate under 15 µs.
//!
//! Run: `cargo bench -p mtls-authz-core --bench core` (add a filter such as `parse/` to run one
//! group). The defaults are short (the machine is shared); pass `--measurement-time 10` for a
//! careful run.
//!
//! Groups:
//! - `parse/*`: certificate bytes → [`Identity`] for an RSA-2048 and a P-256 leaf, from PEM
//!   (what Envoy's `connection.peer_certificate` holds) and from DER (to see the base64 share).
//! - `compile/*`: policy JSON → compiled [`Policy`] for the fixture policies.
//! - `evaluate/*`: one request against a compiled policy with a cached identity, and cold
//!   (parse + evaluate: the cost of an identity-cache miss).
//! - `path/*`: request-target normalisation alone.
//! - `scale/*`: a policy with 1,000 rules and a role of 1,000 fingerprints, next to a 10-rule,
//!   10-fingerprint one: the two must cost about the same (no linear scans).
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup: a broken fixture should stop the run loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mtls_authz_core::{normalize_path, ClientCert, Identity, Policy, Request, UnixTime};

const RSA2048_PEM: &[u8] = include_bytes!("certs/rsa2048-leaf.pem");
const P256_PEM: &[u8] = include_bytes!("certs/p256-leaf.pem");
const HEALTHCARE_POLICY: &str = include_str!("../../../tests/fixtures/policies/healthcare.json");
const MULTITENANT_POLICY: &str = include_str!("../../../tests/fixtures/policies/multitenant.json");

/// 2026-11-23T00:00:00Z, inside both leaves' validity window.
const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);

fn leaves() -> [(&'static str, &'static [u8]); 2] {
    [("rsa2048", RSA2048_PEM), ("p256", P256_PEM)]
}

fn parsed(pem: &[u8]) -> Identity {
    Identity::from_pem(pem).expect("bench leaf parses")
}

/// DER of a PEM leaf (setup only, not measured).
fn der_of(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = std::str::from_utf8(pem)
        .expect("PEM is ASCII")
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM body is base64")
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, pem) in leaves() {
        group.bench_with_input(BenchmarkId::new("pem", name), pem, |b, pem| {
            b.iter(|| Identity::parse(black_box(pem)))
        });
        let der = der_of(pem);
        assert_eq!(Identity::from_der(&der), Identity::from_pem(pem));
        group.bench_with_input(BenchmarkId::new("der", name), der.as_slice(), |b, der| {
            b.iter(|| Identity::parse(black_box(der)))
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for (name, json) in [
        ("healthcare", HEALTHCARE_POLICY),
        ("multitenant", MULTITENANT_POLICY),
    ] {
        Policy::from_json(json).expect("fixture policy compiles");
        group.bench_with_input(BenchmarkId::from_parameter(name), json, |b, json| {
            b.iter(|| Policy::from_json(black_box(json)))
        });
    }
    group.finish();
}

/// The policy the leaves are judged by: healthcare plus a `/orders/**` rule for the leaf's
/// SPIFFE ID, so the request is allowed through a role match (the common, full-cost path).
fn orders_policy() -> Policy {
    let mut raw: serde_json::Value = serde_json::from_str(HEALTHCARE_POLICY).expect("JSON");
    raw["roles"]["orders"] =
        serde_json::json!([{ "spiffe_id": ["spiffe://example.org/ns/orders/sa/api"] }]);
    raw["rules"]
        .as_array_mut()
        .expect("rules")
        .push(serde_json::json!({
            "name": "orders", "methods": ["GET"], "paths": ["/orders/{id}/**"], "allow": ["orders"]
        }));
    Policy::from_json(&raw.to_string()).expect("bench policy compiles")
}

const REQUEST: Request<'static> = Request {
    method: "GET",
    path: "/orders/42/lines/7?expand=items",
};

fn evaluate(c: &mut Criterion) {
    let policy = orders_policy();
    let mut group = c.benchmark_group("evaluate");
    for (name, pem) in leaves() {
        let identity = parsed(pem);
        let decision = policy.evaluate(&REQUEST, ClientCert::Present(&identity), NOW);
        assert_eq!(
            decision.reason.to_string(),
            "allow:rule[orders]:role[orders]"
        );
        group.bench_with_input(
            BenchmarkId::new("cached_identity", name),
            &identity,
            |b, identity| {
                b.iter(|| {
                    policy.evaluate(
                        black_box(&REQUEST),
                        ClientCert::Present(black_box(identity)),
                        NOW,
                    )
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("cold", name), pem, |b, pem| {
            b.iter(|| {
                let identity = Identity::parse(black_box(pem));
                let client = match &identity {
                    Ok(identity) => ClientCert::Present(identity),
                    Err(error) => ClientCert::Invalid(error),
                };
                policy.evaluate(black_box(&REQUEST), client, NOW)
            })
        });
    }
    group.finish();
}

fn path(c: &mut Criterion) {
    let mut group = c.benchmark_group("path");
    for (name, raw) in [
        ("plain", "/patient-records/123"),
        ("query", "/orders/42/lines/7?expand=items&page=2"),
        ("dot_segments", "/a/./b/../c//d/%7Euser/%41"),
    ] {
        normalize_path(raw).expect("bench path normalises");
        group.bench_with_input(BenchmarkId::from_parameter(name), raw, |b, raw| {
            b.iter(|| normalize_path(black_box(raw)))
        });
    }
    group.finish();
}

/// A policy with `n` rules on distinct routes and one role of `n` fingerprints, the leaf's
/// own fingerprint last. Rule `i` allows `GET /svc-<i>/items/{id}` to that role.
fn scaled_policy(n: usize, leaf_fingerprint: &str) -> String {
    let mut fingerprints: Vec<String> = (0..n.saturating_sub(1))
        .map(|i| format!("{i:064x}"))
        .collect();
    fingerprints.push(leaf_fingerprint.to_owned());
    let rules: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "name": format!("svc-{i}"),
                "methods": ["GET"],
                "paths": [format!("/svc-{i}/items/{{id}}")],
                "allow": ["fleet"],
            })
        })
        .collect();
    serde_json::json!({
        "roles": { "fleet": [{ "fingerprint_sha256": fingerprints }] },
        "rules": rules,
    })
    .to_string()
}

fn scale(c: &mut Criterion) {
    let identity = parsed(P256_PEM);
    let mut group = c.benchmark_group("scale");
    for n in [10usize, 1000] {
        let json = scaled_policy(n, &identity.fingerprint_sha256_hex);
        let policy = Policy::from_json(&json).expect("scaled policy compiles");
        let last_route = format!("/svc-{}/items/9", n - 1);
        let request = Request {
            method: "GET",
            path: &last_route,
        };
        let decision = policy.evaluate(&request, ClientCert::Present(&identity), NOW);
        assert_eq!(
            decision.reason.to_string(),
            format!("allow:rule[svc-{}]:role[fleet]", n - 1)
        );
        group.bench_with_input(
            BenchmarkId::new("evaluate_last_rule", n),
            &request,
            |b, request| {
                b.iter(|| policy.evaluate(black_box(request), ClientCert::Present(&identity), NOW))
            },
        );
        group.bench_with_input(BenchmarkId::new("compile", n), json.as_str(), |b, json| {
            b.iter(|| Policy::from_json(black_box(json)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Short by default: the machine is shared. Override on the command line for careful runs.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = parse, compile, evaluate, path, scale
}
criterion_main!(benches);
