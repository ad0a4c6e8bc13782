//! Per-request cost of the filter *as compiled to wasm*, to weigh size optimisations
//! (opt-level "z" vs "s", `wasm-opt`) against speed. Native criterion benches (crates/core)
//! do not see what the wasm code generator and the engine make of the code, so this runs
//! inside the engine: `scripts/wasm-hot-path.sh` builds it for wasm32-wasip1 in each profile
//! and runs it under node's WASI (V8, the engine Envoy embeds).
//!
//! Measures, on the RSA-2048 and P-256 bench leaves, a request allowed through a role match:
//! - `filter_cached`: the whole filter on the mock host with the identity cache warm (the
//!   steady state: property reads, SHA-256 cache key, evaluation, header rewrite);
//! - `evaluate`: the core's evaluation of an already-parsed identity;
//! - `cold`: certificate parse + evaluation (an identity-cache miss).
//!
//! - `token/*` (v1.1 `tokens`, clinician-alice under the tokens fixture policy, identity cache
//!   warm): `no_token`, a request to a rule without `require_token`; `cached_token`, one to a
//!   rule with it, the ES256 token in `Authorization` and in the verified-token cache (header
//!   lookup, SHA-256 of the token, lookup, binding, consistency, roles with the claims).
//!
//! Prints `name ns/iter` lines (median of several timed batches).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "measurement harness: a broken fixture should stop the run loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use mtls_authz_core::{ClientCert, Identity, Policy, Request, UnixTime};
use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::{Filter, Verdict};

const RSA2048_PEM: &[u8] = include_bytes!("../../../crates/core/benches/certs/rsa2048-leaf.pem");
const P256_PEM: &[u8] = include_bytes!("../../../crates/core/benches/certs/p256-leaf.pem");
const HEALTHCARE_POLICY: &str = include_str!("../../../tests/fixtures/policies/healthcare.json");
const TOKENS_POLICY: &str = include_str!("../../../tests/fixtures/policies/tokens.json");
const ALICE_PEM: &[u8] =
    include_bytes!("../../../tests/fixtures/certs/healthcare/clinician-alice.pem");
const ALICE_TOKEN: &str = include_str!("../../../tests/fixtures/tokens/valid-es256.jwt");

/// 2026-11-23T00:00:00Z, inside both leaves' validity window.
const NOW_SECS: u64 = 1_795_392_000;
const REQUEST: Request<'static> = Request {
    method: "GET",
    path: "/orders/42/lines/7?expand=items",
};

/// The other headers of a load-generator request as Envoy presents them to the filter.
const ENVOY_REQUEST_HEADERS: [(&str, &str); 6] = [
    (":authority", "localhost:10000"),
    (":scheme", "https"),
    ("user-agent", "oha/1.4.5"),
    ("accept", "*/*"),
    ("x-forwarded-proto", "https"),
    ("x-request-id", "0f6b2c1e-8a4d-4f7e-9b1a-2d3c4e5f6a7b"),
];

/// The healthcare policy plus an `orders` role and rule the bench leaves match (the same
/// shape as the core's criterion bench).
fn orders_policy_json() -> String {
    let mut raw: serde_json::Value = serde_json::from_str(HEALTHCARE_POLICY).unwrap();
    raw["roles"]["orders"] =
        serde_json::json!([{ "spiffe_id": ["spiffe://example.org/ns/orders/sa/api"] }]);
    raw["rules"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "name": "orders", "methods": ["GET"], "paths": ["/orders/{id}/**"], "allow": ["orders"]
        }));
    raw.to_string()
}

/// Median ns per call of `f` over `batches` timed batches of `per_batch` calls.
fn measure(name: &str, per_batch: u32, mut f: impl FnMut()) {
    const BATCHES: usize = 15;
    for _ in 0..per_batch {
        f(); // warm-up: caches, engine tiers
    }
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(per_batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    println!("{name} {:.0}", samples[BATCHES / 2]);
}

/// v1.1 `tokens`: the whole filter, identity cache warm, with and without a cached token.
fn tokens() {
    let identity = Identity::from_pem(ALICE_PEM).unwrap();
    let mut host = MockHost::new()
        .with_time(NOW_SECS)
        .with_property("connection.mtls", [1u8])
        .with_property("connection.peer_certificate_valid", [1u8])
        .with_property("connection.peer_certificate", ALICE_PEM)
        .with_property(
            "connection.sha256_peer_certificate_digest",
            &identity.fingerprint_sha256_hex,
        );
    let filter = Filter::configure(&mut host, Some(TOKENS_POLICY.as_bytes())).unwrap();
    let bearer = format!("Bearer {ALICE_TOKEN}");
    for (name, path) in [
        ("token/no_token", "/profile"),
        ("token/cached_token", "/patient-records/1"),
    ] {
        measure(name, 2_000, || {
            host.next_request_to("GET", path);
            for (name, value) in ENVOY_REQUEST_HEADERS {
                host.push_header(name, value);
            }
            host.push_header("authorization", &bearer);
            let verdict = filter.on_request_headers(black_box(&mut host));
            assert_eq!(verdict, Verdict::Continue);
        });
    }
    assert_eq!(filter.cached_tokens(), 1);
}

fn main() {
    tokens();
    let json = orders_policy_json();
    let policy = Policy::from_json(&json).unwrap();
    let now = UnixTime::from_secs(NOW_SECS);
    for (leaf, pem) in [("rsa2048", RSA2048_PEM), ("p256", P256_PEM)] {
        let identity = Identity::from_pem(pem).unwrap();
        let decision = policy.evaluate(&REQUEST, ClientCert::Present(&identity), now);
        assert_eq!(
            decision.reason.to_string(),
            "allow:rule[orders]:role[orders]"
        );

        let mut host = MockHost::new()
            .with_time(NOW_SECS)
            .with_property("connection.mtls", [1u8])
            .with_property("connection.peer_certificate_valid", [1u8])
            .with_property("connection.peer_certificate", pem)
            // Envoy's cache key: a hit costs two property reads (with the validity flag).
            .with_property(
                "connection.sha256_peer_certificate_digest",
                &identity.fingerprint_sha256_hex,
            );
        let filter = Filter::configure(&mut host, Some(json.as_bytes())).unwrap();
        measure(&format!("filter_cached/{leaf}"), 2_000, || {
            host.next_request_to(REQUEST.method, REQUEST.path);
            // What Envoy hands the filter for an oha/curl request besides the request line.
            for (name, value) in ENVOY_REQUEST_HEADERS {
                host.push_header(name, value);
            }
            let verdict = filter.on_request_headers(black_box(&mut host));
            assert_eq!(verdict, Verdict::Continue);
        });
        assert_eq!(filter.cached_identities(), 1);

        measure(&format!("evaluate/{leaf}"), 20_000, || {
            black_box(policy.evaluate(
                black_box(&REQUEST),
                ClientCert::Present(black_box(&identity)),
                now,
            ));
        });
        measure(&format!("cold/{leaf}"), 500, || {
            let identity = Identity::parse(black_box(pem));
            let client = match &identity {
                Ok(identity) => ClientCert::Present(identity),
                Err(error) => ClientCert::Invalid(error),
            };
            black_box(policy.evaluate(black_box(&REQUEST), client, now));
        });
    }
}
