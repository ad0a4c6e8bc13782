//! The plugin lifecycle on the mock host, through the same [`Root`] and [`RequestContext`]
//! the wasm build forwards to: ticks, reconfiguration with requests in flight, teardown.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::time::Duration;

use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::{Action, Root};
use mtls_authz_fixtures::{cert_bytes, load_policy};

const ALLOWED: &str = "mtls_authz.allowed";
const DENIED: &str = "mtls_authz.denied";
/// Allows only `GET /health`: what clinician-alice may read under `healthcare` is denied here.
const HEALTH_ONLY: &str = r#"{"rules": [{"name": "health", "methods": ["GET"], "paths": ["/health"], "allow": ["public"]}]}"#;

/// An Envoy host whose verified TLS peer is clinician-alice, asking `GET /patient-records/7`
/// (allowed by `healthcare`).
fn alice() -> MockHost {
    MockHost::new()
        .with_property("connection.mtls", [1u8])
        .with_property("connection.peer_certificate_valid", [1u8])
        .with_property(
            "connection.peer_certificate",
            cert_bytes("healthcare/clinician-alice").unwrap(),
        )
        .with_request("GET", "/patient-records/7")
}

fn configured(host: &mut MockHost, policy: &str) -> Root {
    let mut root = Root::new();
    assert!(root.configure(host, Some(policy.as_bytes())));
    root
}

/// One whole request under the root's current filter.
fn request(root: &Root, host: &mut MockHost) -> Action {
    host.next_request_to("GET", "/patient-records/7");
    let mut context = root.new_request();
    let action = context.on_request_headers(host, true);
    context.end(host);
    action
}

#[test]
fn allow_counts_wait_for_the_tick() {
    let mut host = alice();
    let root = configured(&mut host, &load_policy("healthcare"));
    assert_eq!(host.tick_period(), Some(Duration::from_secs(1)));
    for _ in 0..3 {
        assert_eq!(request(&root, &mut host), Action::Continue);
    }
    assert_eq!(host.counter(ALLOWED), Some(0));
    root.tick(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(3));
    root.tick(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(3));
}

#[test]
fn without_ticks_every_count_goes_at_once() {
    let mut host = alice().with_ticks_refused();
    let root = configured(&mut host, &load_policy("healthcare"));
    assert_eq!(host.tick_period(), None);
    assert_eq!(request(&root, &mut host), Action::Continue);
    assert_eq!(host.counter(ALLOWED), Some(1));
}

#[test]
fn reconfiguration_flushes_the_replaced_filter_first() {
    let mut host = alice();
    let mut root = configured(&mut host, &load_policy("healthcare"));
    assert_eq!(request(&root, &mut host), Action::Continue);
    assert_eq!(request(&root, &mut host), Action::Continue);
    assert_eq!(host.counter(ALLOWED), Some(0));
    assert!(root.configure(&mut host, Some(HEALTH_ONLY.as_bytes())));
    assert_eq!(host.counter(ALLOWED), Some(2));
    // The new policy is in force for new requests.
    assert_eq!(request(&root, &mut host), Action::Pause);
    assert_eq!(host.local_response().map(|r| r.status), Some(403));
    assert_eq!(host.counter(DENIED), Some(1));
}

/// A request that started under the old policy is decided by it, and its batched allow
/// count reaches the host when it ends (its filter has no other holder to flush it).
#[test]
fn a_request_in_flight_keeps_its_policy_and_its_count() {
    let mut host = alice();
    let mut root = configured(&mut host, &load_policy("healthcare"));
    let mut in_flight = root.new_request();
    assert!(root.configure(&mut host, Some(HEALTH_ONLY.as_bytes())));
    assert_eq!(
        in_flight.on_request_headers(&mut host, true),
        Action::Continue
    );
    assert_eq!(host.local_response(), None);
    assert_eq!(host.counter(ALLOWED), Some(0));
    in_flight.end(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(1));
    // Ending twice (the context's end, then its drop) counts once.
    in_flight.end(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(1));
    // A request under the root's own filter does not flush when it ends: the tick does.
    host.next_request_to("GET", "/health");
    let mut current = root.new_request();
    assert_eq!(
        current.on_request_headers(&mut host, true),
        Action::Continue
    );
    current.end(&mut host);
    assert_eq!(host.counter("mtls_authz.rule.health.allowed"), Some(0));
    root.tick(&mut host);
    assert_eq!(host.counter("mtls_authz.rule.health.allowed"), Some(1));
    assert_eq!(host.counter(ALLOWED), Some(2));
}

#[test]
fn teardown_flushes_what_is_batched() {
    let mut host = alice();
    let root = configured(&mut host, &load_policy("healthcare"));
    assert_eq!(request(&root, &mut host), Action::Continue);
    assert_eq!(host.counter(ALLOWED), Some(0));
    root.teardown(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(1));
}

/// A refused reconfiguration flushes the old filter and serves nothing (500), never the old
/// policy; a request already in flight still finishes under it.
#[test]
fn a_refused_reconfiguration_serves_nothing() {
    let mut host = alice();
    let mut root = configured(&mut host, &load_policy("healthcare"));
    assert_eq!(request(&root, &mut host), Action::Continue);
    let mut in_flight = root.new_request();
    assert!(!root.configure(&mut host, Some(b"{\"rules\": 7}")));
    assert!(root.filter().is_none());
    assert_eq!(host.counter(ALLOWED), Some(1));
    assert_eq!(request(&root, &mut host), Action::Pause);
    assert_eq!(host.local_response().map(|r| r.status), Some(500));
    host.next_request_to("GET", "/patient-records/7");
    assert_eq!(
        in_flight.on_request_headers(&mut host, true),
        Action::Continue
    );
    in_flight.end(&mut host);
    assert_eq!(host.counter(ALLOWED), Some(2));
}

#[test]
fn an_unconfigured_root_answers_500() {
    let mut host = alice();
    let root = Root::new();
    assert_eq!(request(&root, &mut host), Action::Pause);
    assert_eq!(host.local_response().map(|r| r.status), Some(500));
    root.tick(&mut host);
    root.teardown(&mut host);
}
