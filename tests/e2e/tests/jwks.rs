//! Issue 14 (`tokens.jwks_fetch`) in a real Envoy and a real NGINX: the filter fetches the issuer's JWKS from an
//! upstream of the test (Envoy: a cluster; NGINX: host:port) on its own timer, like a CRL. A token signed with a key the
//! published set does not have is refused until the set that has it is published, then
//! accepted ON THE SAME CONNECTION; a set that fails to parse is refused and the last good one
//! stays.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod fetched;

use std::time::Duration;

use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::nginx::{self, Nginx, NginxConfig};
use mtls_authz_e2e::{examples, wasm};
use mtls_authz_fixtures::tokens;
use serde_json::{json, Value};
use std::path::PathBuf;

use fetched::{last_reason, logged, wait_every_vm, Server, Session};

const JWKS_TYPE: &str = "application/jwk-set+json";

/// The fixture JWKS without the keys whose kid is in `without`.
fn jwks_without(without: &[&str]) -> Vec<u8> {
    let mut set: Value = serde_json::from_slice(&tokens::read("jwks.json")).unwrap();
    set["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|key| !without.contains(&key["kid"].as_str().unwrap_or_default()));
    set.to_string().into_bytes()
}

/// The fixtures' `tokens` policy for `host`, its keys fetched from `upstream` every 2 s (no
/// inline `jwks`; Envoy: a cluster name, NGINX: host:port).
fn policy(host: &str, upstream: &str) -> String {
    let mut doc: Value = serde_json::from_str(&mtls_authz_fixtures::load_policy("tokens")).unwrap();
    doc["host"] = json!(host);
    let tokens = doc["tokens"].as_object_mut().unwrap();
    tokens.remove("jwks");
    tokens.insert(
        String::from("jwks_fetch"),
        json!({"upstream": upstream, "authority": "idp.example", "path": "/jwks.json",
               "refresh_seconds": 2, "timeout_seconds": 1}),
    );
    doc.to_string()
}

/// What both proxies must do, `port` their mTLS listener, `log` their log so far. Returns the
/// number of VMs that fetched.
fn published_key_sets_reach_open_connections(
    port: u16,
    log: &dyn Fn() -> String,
    server: &Server,
) -> usize {
    const FIRST: &str =
        "JWKS installed: 4 keys (kid \"es256-2\", \"es384-1\", \"rsa-1\", \"ed25519-1\"); first key set";
    wait_every_vm(log, 1, FIRST);
    std::thread::sleep(Duration::from_secs(3));
    let vms = logged(log, FIRST);

    let bearer = |name: &str| format!("Bearer {}", String::from_utf8(tokens::token(name)).unwrap());
    let (new_key, old_key) = (bearer("valid-es256"), bearer("valid-eddsa"));
    let mut alice = Session::open(port, "healthcare/clinician-alice");
    let first = alice.ask_with("/patient-records/1", &[("authorization", &new_key)]);
    assert_eq!(first["status"], 401, "{first}\n{}", log());
    assert_eq!(last_reason(log), "unauthenticated:token_unknown_kid");
    let other = alice.ask_with("/patient-records/1", &[("authorization", &old_key)]);
    assert_eq!(other["status"], 200, "{other}\n{}", log());

    // The set with es256-1 is published: the same connection's next request is allowed.
    server.publish(tokens::read("jwks.json"));
    wait_every_vm(
        log,
        vms,
        "JWKS installed: 5 keys (kid \"es256-1\", \"es256-2\", \"es384-1\", \"rsa-1\", \"ed25519-1\"); replaced the previous set",
    );
    let after = alice.ask_with("/patient-records/1", &[("authorization", &new_key)]);
    assert_eq!(after["status"], 200, "{after}\n{}", log());
    assert_eq!(after["stream"], 5, "not the same connection: {after}");

    // A set that does not parse is refused; the last good one stays.
    server.publish(b"{\"keys\": [".to_vec());
    wait_every_vm(log, vms, "JWKS refused (jwks_bad_json)");
    let kept = alice.ask_with("/patient-records/1", &[("authorization", &new_key)]);
    assert_eq!(kept["status"], 200, "{kept}\n{}", log());

    // es256-1 retired: its token, verified and cached before, is refused on the next request.
    server.publish(jwks_without(&["es256-1"]));
    wait_every_vm(
        log,
        vms,
        &FIRST.replace("first key set", "replaced the previous set"),
    );
    let retired = alice.ask_with("/patient-records/1", &[("authorization", &new_key)]);
    assert_eq!(retired["status"], 401, "{retired}\n{}", log());
    assert_eq!(last_reason(log), "unauthenticated:token_unknown_kid");
    vms
}

#[test]
fn envoy_a_published_key_set_reaches_an_open_http2_connection() {
    let upstream = EchoServer::start(0).unwrap();
    // The rotation has not reached the JWKS yet: es256-1 is missing.
    let server = Server::start(JWKS_TYPE, jwks_without(&["es256-1"]));
    let filter = FilterSetup {
        wasm: wasm::locate_or_build().unwrap(),
        policy: policy("envoy", "jwks_server"),
    };
    let yaml = EnvoyConfig::with_fixture_certs(upstream.addr().port(), Some(filter))
        .render()
        .unwrap()
        .replacen(
            "  clusters:\n",
            &fetched::cluster("jwks_server", server.port),
            1,
        );
    let envoy = Envoy::start(&envoy::binary().unwrap(), "jwks", &yaml).unwrap();
    let port = envoy.listener_port().unwrap();
    let vms = published_key_sets_reach_open_connections(port, &|| envoy.log(), &server);
    let count = |outcome: &str| {
        envoy
            .counter(&format!("wasmcustom.mtls_authz.jwks.{outcome}"))
            .unwrap()
    };
    assert!(count("installed") >= 3 * vms as u64, "{}", envoy.log());
    assert!(count("refused") >= vms as u64);
}

#[test]
fn nginx_a_published_key_set_reaches_an_open_http2_connection() {
    let upstream = EchoServer::start(0).unwrap();
    let server = Server::start(JWKS_TYPE, jwks_without(&["es256-1"]));
    let config = NginxConfig::with_fixture_certs(
        "jwks",
        Some(examples::minify_json(&policy(
            "nginx",
            &format!("127.0.0.1:{}", server.port),
        ))),
        wasm::locate_or_build().unwrap(),
        nginx::free_port().unwrap(),
        Some(upstream.addr()),
        PathBuf::new(),
    );
    let nginx = Nginx::start_on_free_port(&nginx::binary().unwrap(), "jwks", &config).unwrap();
    published_key_sets_reach_open_connections(nginx.port(), &|| nginx.log(), &server);
}
