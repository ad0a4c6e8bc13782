//! The core compiled to wasm32-unknown-unknown (run under node by wasm-bindgen-test, see
//! scripts/test.sh) decides like the filter does inside Envoy: every request of the example
//! scenarios (examples/envoy/*.demo.json, which the Envoy e2e test replays over real mTLS) gets
//! the status its file states. Runs natively too, so the test itself is exercised everywhere.
//!
//! Everything is embedded (`include_*!` here, the fixture loader's embedded copy for the
//! certificates): there is no file system under wasm-bindgen-test.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]

use mtls_authz_core::{ClientCert, Identity, Policy, Request, UnixTime};
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// 2026-11-23T00:00:00Z, the fixtures' default request time (every demo certificate is inside
/// or, for `attack/expired`, outside its validity window then and now).
const NOW: u64 = 1_795_392_000;

/// A fixture client certificate (PEM), by the name the demo files use: from the fixture
/// loader, which embeds the whole fixture set on wasm32.
fn cert_pem(name: &str) -> Vec<u8> {
    mtls_authz_fixtures::cert_bytes(name).unwrap_or_else(|| panic!("no fixture certificate {name}"))
}

/// Replays one scenario's demo file against its policy; returns every mismatch.
fn replay(demo_json: &str, policy_json: &str) -> Vec<String> {
    let demo: Value = serde_json::from_str(demo_json).unwrap();
    let policy = Policy::from_json(policy_json).unwrap();
    let requests = demo["requests"].as_array().unwrap();
    assert!(!requests.is_empty());
    let mut problems = Vec::new();
    for request in requests {
        let field = |name: &str| request[name].as_str().unwrap();
        let parsed = Identity::parse(&cert_pem(field("cert")));
        let client = match &parsed {
            Ok(identity) => ClientCert::Present(identity),
            Err(error) => ClientCert::Invalid(error),
        };
        let decision = policy.evaluate(
            &Request {
                method: field("method"),
                path: field("path"),
            },
            client,
            UnixTime::from_secs(NOW),
        );
        let expected = request["expect"].as_u64().unwrap();
        if u64::from(decision.status.code()) != expected {
            problems.push(format!(
                "{} {} as {}: {} ({}), expected {expected}",
                field("method"),
                field("path"),
                field("cert"),
                decision.status.code(),
                decision.reason
            ));
        }
    }
    problems
}

#[test]
fn healthcare_demo_requests_decide_as_documented() {
    let problems = replay(
        include_str!("../../../examples/envoy/healthcare.demo.json"),
        include_str!("../../../tests/fixtures/policies/healthcare.json"),
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn multitenant_demo_requests_decide_as_documented() {
    let problems = replay(
        include_str!("../../../examples/envoy/multitenant.demo.json"),
        include_str!("../../../tests/fixtures/policies/multitenant.json"),
    );
    assert!(problems.is_empty(), "{problems:#?}");
}
