//! v1.1 `tokens.jwks_fetch` on the mock host: the root fetches the issuer's key set on its tick
//! like a CRL, tokens fail closed before the first good set, a bad set never replaces the last
//! good one, a new set takes effect on the next request (the verified-token cache cannot keep
//! a token whose key was removed), and a reconfiguration keeps the fetched set.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::time::Duration;

mod common;

use common::{answer, configured, mtls_host, one_call, ALLOWED};
use mtls_authz_filter::host::mock::{HttpCall, MockHost};
use mtls_authz_filter::Root;
use mtls_authz_fixtures::{cert_bytes, load_policy, tokens};
use serde_json::{json, Value};

/// The token fixtures' time (tests/fixtures/tokens/manifest.json).
const NOW: u64 = 1_795_392_000;

/// The `tokens` fixture policy with `jwks_fetch` (path `path`) and no inline `jwks`.
fn policy(path: &str) -> String {
    let mut doc: Value = serde_json::from_str(&load_policy("tokens")).unwrap();
    let tokens = doc["tokens"].as_object_mut().unwrap();
    tokens.remove("jwks");
    tokens.insert(
        String::from("jwks_fetch"),
        json!({"upstream": "idp", "authority": "idp.example", "path": path,
               "refresh_seconds": 60, "timeout_seconds": 5}),
    );
    doc.to_string()
}

/// The fixture JWKS without the keys whose kid is in `without`.
fn jwks_without(without: &[&str]) -> Vec<u8> {
    let mut set: Value = serde_json::from_slice(&tokens::read("jwks.json")).unwrap();
    set["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|key| !without.contains(&key["kid"].as_str().unwrap_or_default()));
    set.to_string().into_bytes()
}

fn host() -> MockHost {
    mtls_host().with_time(NOW).with_property(
        "connection.peer_certificate",
        cert_bytes("healthcare/clinician-alice").unwrap(),
    )
}

/// GET /patient-records/1 by clinician-alice with the fixture token `token`: `allowed`, or
/// the deny reason the filter logged.
fn decide(root: &Root, host: &mut MockHost, token: &str) -> String {
    host.next_request_to("GET", "/patient-records/1");
    let bearer = format!(
        "Bearer {}",
        String::from_utf8(tokens::token(token)).unwrap()
    );
    host.push_header("authorization", bearer);
    common::decide(root, host)
}

/// Ticks at `secs` after NOW and returns the fetch that started.
fn fetch_at(root: &Root, host: &mut MockHost, secs: u64) -> HttpCall {
    host.set_time(NOW + secs);
    root.tick(host);
    one_call(host)
}

fn counter(host: &MockHost, outcome: &str) -> u64 {
    host.counter(&format!("mtls_authz.jwks.{outcome}")).unwrap()
}

const FULL_SET: &str =
    "JWKS installed: 5 keys (kid \"es256-1\", \"es256-2\", \"es384-1\", \"rsa-1\", \"ed25519-1\")";

#[test]
fn tokens_fail_closed_until_the_first_key_set_is_fetched() {
    let mut host = host();
    let root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    assert_eq!(call.upstream, "idp");
    assert_eq!(call.timeout, Duration::from_secs(5));
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header(":method"), Some("GET"));
    assert_eq!(header(":path"), Some("/jwks.json"));
    assert_eq!(header(":authority"), Some("idp.example"));
    assert_eq!(header("accept"), Some("application/jwk-set+json"));

    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_keys_unavailable"
    );
    let logs = answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));
    assert_eq!(logs, [format!("mtls-authz: {FULL_SET}; first key set")]);
    assert_eq!(counter(&host, "installed"), 1);
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);
}

#[test]
fn a_bad_or_failed_fetch_never_replaces_the_last_good_key_set() {
    let mut host = host();
    let root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &jwks_without(&["es256-1"]));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);

    let call = fetch_at(&root, &mut host, 60);
    let logs = answer(&root, &mut host, &call, 200, b"{\"keys\": [");
    assert_eq!(logs.len(), 1);
    assert!(
        logs[0].starts_with("mtls-authz: JWKS refused (jwks_bad_json): ")
            && logs[0].ends_with("; the last good key set stays"),
        "{logs:?}"
    );
    // Retries after 5 s (backoff), not the interval.
    let call = fetch_at(&root, &mut host, 65);
    let logs = answer(
        &root,
        &mut host,
        &call,
        200,
        &tokens::read("jwks-no-usable-key.json"),
    );
    assert_eq!(
        logs,
        ["mtls-authz: JWKS refused (jwks_no_usable_key): no key of the JWKS can verify signatures (1 skipped); the last good key set stays"]
    );
    let call = fetch_at(&root, &mut host, 75);
    let logs = answer(&root, &mut host, &call, 503, b"");
    assert_eq!(
        logs,
        ["mtls-authz: JWKS fetch failed: HTTP status 503; the last good key set stays"]
    );
    assert_eq!(counter(&host, "refused"), 2);
    assert_eq!(counter(&host, "fetch_failed"), 1);
    // The set in force is still the first one.
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );

    // A body over the limit is refused before it is read.
    let call = fetch_at(&root, &mut host, 95);
    host.next_request();
    let reads = host.http_body_reads();
    root.on_http_call_response(&mut host, call.token, 256 * 1024 + 1);
    assert_eq!(host.http_body_reads(), reads);
    assert_eq!(counter(&host, "refused"), 3);
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);
}

/// Key rotation: a token signed with a key the set does not have is refused until the set
/// that has it is fetched; a key removed from the set stops verifying at once, even for a
/// token the cache holds.
#[test]
fn a_new_key_set_takes_effect_on_the_next_request_and_clears_the_token_cache() {
    let mut host = host();
    let root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &jwks_without(&["es256-1"]));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);
    assert_eq!(root.filter().unwrap().cached_tokens(), 1);

    let call = fetch_at(&root, &mut host, 60);
    answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));
    assert_eq!(root.filter().unwrap().cached_tokens(), 0);
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);
    assert_eq!(decide(&root, &mut host, "valid-eddsa"), ALLOWED);
    assert_eq!(root.filter().unwrap().cached_tokens(), 2);

    // The same set again: unchanged, the cache kept.
    let call = fetch_at(&root, &mut host, 120);
    let logs = answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));
    assert_eq!(logs, ["mtls-authz: JWKS unchanged (5 keys)"]);
    assert_eq!(counter(&host, "unchanged"), 1);
    assert_eq!(root.filter().unwrap().cached_tokens(), 2);

    // ed25519-1 retired: its cached token is refused on the next request.
    let call = fetch_at(&root, &mut host, 180);
    let logs = answer(&root, &mut host, &call, 200, &jwks_without(&["ed25519-1"]));
    assert_eq!(
        logs,
        ["mtls-authz: JWKS installed: 4 keys (kid \"es256-1\", \"es256-2\", \"es384-1\", \"rsa-1\"); replaced the previous set"]
    );
    assert_eq!(
        decide(&root, &mut host, "valid-eddsa"),
        "unauthenticated:token_unknown_kid"
    );
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);
    assert_eq!(counter(&host, "installed"), 3);
}

#[test]
fn a_reconfiguration_keeps_the_fetched_key_set_for_the_same_fetch_only() {
    let mut host = host();
    let mut root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));

    // Same fetch: the set is in force at once, and fetched again on the next tick.
    host.next_request();
    assert!(root.configure(&mut host, Some(policy("/jwks.json").as_bytes())));
    assert!(host.logs().iter().any(|(_, line)| {
        line
        == "mtls-authz: JWKS: the key set fetched before is in force (5 keys) until the next fetch"
    }));
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);
    root.tick(&mut host);
    let call = one_call(&mut host);
    let logs = answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));
    assert_eq!(logs, ["mtls-authz: JWKS unchanged (5 keys)"]);

    // Another path: nothing carried over, refused until the new fetch answers.
    host.next_request();
    assert!(root.configure(&mut host, Some(policy("/other.json").as_bytes())));
    assert!(host.logs().iter().any(|(_, line)| line
        == "mtls-authz: JWKS: no key set yet: tokens are refused (token_keys_unavailable) until one is fetched"));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_keys_unavailable"
    );
}

/// Only a *fetched* set is carried over, and only to the same `jwks_fetch`: with the inline
/// set added it stays in force; with another fetch the new inline set is; an inline set is
/// never carried (a fetch-only policy after it starts with none).
#[test]
fn only_a_fetched_set_is_carried_over_and_only_to_the_same_fetch() {
    let with_inline = |path: &str| {
        let mut doc: Value = serde_json::from_str(&policy(path)).unwrap();
        let inline: Value = serde_json::from_str(&load_policy("tokens")).unwrap();
        doc["tokens"]["jwks"] = inline["tokens"]["jwks"].clone();
        doc.to_string()
    };
    let mut host = host();
    let mut root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &jwks_without(&["es256-1"]));

    host.next_request();
    assert!(root.configure(&mut host, Some(with_inline("/jwks.json").as_bytes())));
    assert!(host.logs().iter().any(|(_, line)| {
        line
        == "mtls-authz: JWKS: the key set fetched before is in force (4 keys) until the next fetch"
    }));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );

    host.next_request();
    assert!(root.configure(&mut host, Some(with_inline("/other.json").as_bytes())));
    assert!(host.logs().iter().any(|(_, line)| {
        line == "mtls-authz: JWKS: the inline key set is in force (5 keys) until a fetch installs one"
    }));
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);

    host.next_request();
    assert!(root.configure(&mut host, Some(policy("/other.json").as_bytes())));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_keys_unavailable"
    );
}

/// Two listeners' filters in one VM fetch from different sources: each source's last set is
/// kept on its own, so a new root for the first source (a changed configuration, here only
/// its refresh interval) starts from that source's set, not from the other's or from none.
#[test]
fn each_fetch_source_keeps_its_own_last_set_in_the_vm() {
    let mut host = host();
    let first = configured(&mut host, &policy("/first.json"));
    let call = one_call(&mut host);
    answer(&first, &mut host, &call, 200, &jwks_without(&["es256-1"]));
    let second = configured(&mut host, &policy("/second.json"));
    let call = one_call(&mut host);
    answer(&second, &mut host, &call, 200, &jwks_without(&[]));
    assert_eq!(decide(&second, &mut host, "valid-es256"), ALLOWED);

    host.next_request();
    let mut changed: Value = serde_json::from_str(&policy("/first.json")).unwrap();
    changed["tokens"]["jwks_fetch"]["refresh_seconds"] = json!(120);
    let new_first = configured(&mut host, &changed.to_string());
    assert!(host.logs().iter().any(|(_, line)| {
        line
        == "mtls-authz: JWKS: the key set fetched before is in force (4 keys) until the next fetch"
    }));
    let _first_fetch = one_call(&mut host);
    assert_eq!(
        decide(&new_first, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );
    assert_eq!(decide(&new_first, &mut host, "valid-eddsa"), ALLOWED);
}

/// Envoy gives a changed configuration a new root context in the same VM: with the same
/// `jwks_fetch` it starts from the VM's last fetched set, before its own fetch answers.
#[test]
fn a_new_root_with_the_same_fetch_starts_from_the_last_set_the_vm_fetched() {
    let mut host = host();
    let root = configured(&mut host, &policy("/jwks.json"));
    let call = one_call(&mut host);
    answer(&root, &mut host, &call, 200, &jwks_without(&["es256-1"]));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );
    host.next_request();
    let new_root = configured(&mut host, &policy("/jwks.json"));
    assert!(host.logs().iter().any(|(_, line)| {
        line
        == "mtls-authz: JWKS: the key set fetched before is in force (4 keys) until the next fetch"
    }));
    let _first_fetch = one_call(&mut host);
    assert_eq!(
        decide(&new_root, &mut host, "valid-es256"),
        "unauthenticated:token_unknown_kid"
    );
    assert_eq!(decide(&new_root, &mut host, "valid-es384"), ALLOWED);
    // Another fetch spec takes nothing of it.
    let other = configured(&mut host, &policy("/other.json"));
    assert_eq!(
        decide(&other, &mut host, "valid-es384"),
        "unauthenticated:token_keys_unavailable"
    );
}

#[test]
fn a_fetch_that_cannot_be_sent_counts_as_failed_and_keys_stay_unavailable() {
    let mut host = host();
    host.set_http_calls_fail(true);
    let root = configured(&mut host, &policy("/jwks.json"));
    assert!(host.take_http_calls().is_empty());
    assert_eq!(counter(&host, "fetch_failed"), 1);
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_keys_unavailable"
    );
    // The next try is 5 s later.
    host.set_http_calls_fail(false);
    host.set_time(NOW + 4);
    root.tick(&mut host);
    assert!(host.take_http_calls().is_empty());
    let call = fetch_at(&root, &mut host, 5);
    answer(&root, &mut host, &call, 200, &tokens::read("jwks.json"));
    assert_eq!(decide(&root, &mut host, "valid-es256"), ALLOWED);
}

/// A host that refuses ticks fetches nothing: warned at configuration, tokens refused (no
/// inline set).
#[test]
fn without_ticks_no_key_set_is_fetched_and_tokens_fail_closed() {
    let mut host = host().with_ticks_refused();
    let mut root = Root::new();
    assert!(root.configure(&mut host, Some(policy("/jwks.json").as_bytes())));
    assert!(host.logs().iter().any(|(_, line)| line
        == "mtls-authz: the host refused a tick period: no JWKS will be fetched, so tokens are verified with the inline keys only (none: refused)"));
    assert_eq!(
        decide(&root, &mut host, "valid-es256"),
        "unauthenticated:token_keys_unavailable"
    );
    assert!(host.take_http_calls().is_empty());
}
