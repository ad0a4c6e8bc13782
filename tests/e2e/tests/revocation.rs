//! Issue 13 in a real Envoy: the filter fetches the health CA's CRL from an upstream of the
//! test (a cluster) on its own timer, and a certificate allowed on a long-lived HTTP/2
//! connection is denied ON THAT CONNECTION once a CRL revoking it is published; a bad CRL is
//! refused and the previous one stays.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod fetched;

use std::process::Command;
use std::time::{Duration, Instant};

use fetched::{last_reason, logged, wait_every_vm, Session};
use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::nginx::{self, Nginx, NginxConfig};
use mtls_authz_e2e::{examples, paths, wasm};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The CRL server: the test upstream the filter fetches from.
type CrlServer = fetched::Server;

const CRL_TYPE: &str = "application/pkix-crl";

fn crl(name: &str) -> Vec<u8> {
    mtls_authz_fixtures::files::read(&format!("crls/{name}.crl")).unwrap()
}

/// fixtures' `revocation` policy for `host`, the health CA's CRL fetched from `upstream` every
/// 2 s (Envoy: a cluster name; NGINX: host:port).
fn policy(host: &str, upstream: &str) -> String {
    policy_with_grace(host, upstream, 4_000_000_000)
}

/// [`policy`] with another `grace_seconds`.
fn policy_with_grace(host: &str, upstream: &str, grace: u64) -> String {
    let mut doc: Value =
        serde_json::from_str(&mtls_authz_fixtures::load_policy("revocation")).unwrap();
    doc["host"] = json!(host);
    doc["issuers"]["health-ca"]["revocation"] = json!({
        "fetch": {"upstream": upstream, "authority": "crl.example", "path": "/health.crl",
                  "refresh_seconds": 2, "timeout_seconds": 1},
        "grace_seconds": grace
    });
    doc.to_string()
}

/// The rendered bootstrap plus a `crl_server` cluster for the filter's HTTP calls.
fn bootstrap(upstream_port: u16, crl_port: u16) -> String {
    let filter = FilterSetup {
        wasm: wasm::locate_or_build().unwrap(),
        policy: policy("envoy", "crl_server"),
    };
    let yaml = EnvoyConfig::with_fixture_certs(upstream_port, Some(filter))
        .render()
        .unwrap();
    assert!(yaml.contains("\n  clusters:\n"), "{yaml}");
    yaml.replacen("  clusters:\n", &crl_cluster(crl_port), 1)
}

/// A `crl_server` cluster on 127.0.0.1:`crl_port`, with the `clusters:` line it goes after.
fn crl_cluster(crl_port: u16) -> String {
    fetched::cluster("crl_server", crl_port)
}

/// What both proxies must do, `port` their mTLS listener, `log` their log so far. Returns the
/// number of VMs that fetched.
fn published_revocations_reach_open_connections(
    port: u16,
    log: &dyn Fn() -> String,
    server: &CrlServer,
) -> usize {
    // Every VM fetches at configuration: let them all answer.
    const FIRST: &str =
        "CRL number 2 installed: 3 entries, next update 2026-11-27T00:00:00Z (first CRL)";
    wait_every_vm(log, 1, FIRST);
    std::thread::sleep(Duration::from_secs(3));
    let vms = logged(log, FIRST);
    assert!(server.served() >= 1);

    // admin-bob is not on CRL number 2: allowed, and the connection stays open.
    let mut bob = Session::open(port, "healthcare/admin-bob");
    let first = bob.ask("/records/1");
    assert_eq!(first["status"], 200, "{first}\n{}", log());
    let mut dave = Session::open(port, "healthcare/revoked-clinician");
    assert_eq!(dave.ask("/records/1")["status"], 401);
    assert_eq!(last_reason(log), "unauthenticated:revoked_crl");

    // Number 5 puts bob on hold: the next request on the SAME connection is refused.
    server.publish(crl("health-next"));
    wait_every_vm(
        log,
        vms,
        "CRL number 5 installed: 5 entries, next update 2026-11-27T00:00:00Z (replaced number 2)",
    );
    let second = bob.ask("/records/1");
    assert_eq!(second["status"], 401, "{second}\n{}", log());
    assert_eq!(second["stream"], 3, "not the same connection: {second}");
    assert_eq!(last_reason(log), "unauthenticated:revoked_crl");
    let mut erin = Session::open(port, "crl/health-no-aki");
    assert_eq!(erin.ask("/records/1")["status"], 401, "F1: no AKI");

    // A CRL with a bad signature is refused; number 5 stays in force.
    server.publish(crl("bad-signature"));
    wait_every_vm(log, vms, "CRL refused (crl_bad_signature)");
    assert_eq!(bob.ask("/records/1")["status"], 401);
    let mut alice = Session::open(port, "healthcare/clinician-alice");
    assert_eq!(alice.ask("/records/1")["status"], 200);
    // An older CRL (number 2) would lift the hold: refused too.
    server.publish(crl("health-p256"));
    wait_every_vm(
        log,
        vms,
        "CRL not installed: CRL number 2 is older than the current 5",
    );
    assert_eq!(bob.ask("/records/1")["status"], 401);
    vms
}

#[test]
fn envoy_a_published_revocation_reaches_an_open_http2_connection() {
    let upstream = EchoServer::start(0).unwrap();
    let server = CrlServer::start(CRL_TYPE, crl("health-p256"));
    let envoy = Envoy::start(
        &envoy::binary().unwrap(),
        "revocation",
        &bootstrap(upstream.addr().port(), server.port),
    )
    .unwrap();
    let port = envoy.listener_port().unwrap();
    let vms = published_revocations_reach_open_connections(port, &|| envoy.log(), &server);
    // Counted in Envoy's stats (every VM adds to the same counters).
    let count = |outcome: &str| {
        envoy
            .counter(&format!("wasmcustom.mtls_authz.crl.health-ca.{outcome}"))
            .unwrap()
    };
    assert!(count("installed") >= 2 * vms as u64, "{}", envoy.log());
    assert!(count("refused") >= 2 * vms as u64);
}

#[test]
fn nginx_a_published_revocation_reaches_an_open_http2_connection() {
    let upstream = EchoServer::start(0).unwrap();
    let server = CrlServer::start(CRL_TYPE, crl("health-p256"));
    let config = NginxConfig::with_fixture_certs(
        "revocation",
        Some(examples::minify_json(&policy(
            "nginx",
            &format!("127.0.0.1:{}", server.port),
        ))),
        wasm::locate_or_build().unwrap(),
        nginx::free_port().unwrap(),
        Some(upstream.addr()),
        PathBuf::new(),
    );
    let nginx =
        Nginx::start_on_free_port(&nginx::binary().unwrap(), "revocation", &config).unwrap();
    published_revocations_reach_open_connections(nginx.port(), &|| nginx.log(), &server);
}

/// A CRL of the health CA signed now, valid `seconds` more (`sign_crl.py`).
fn fresh_crl(number: u32, seconds: u64) -> Vec<u8> {
    let root = paths::repo_root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/e2e/sign_crl.py"))
        .arg(mtls_authz_fixtures::cert_pem_path("ca/health-issuing"))
        .arg(mtls_authz_fixtures::key_path("ca/health-issuing"))
        .arg(number.to_string())
        .arg(seconds.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The CRL server goes down: the last good CRL keeps deciding until its nextUpdate (grace 0),
/// then the issuer's certificates are refused, on an open connection too.
#[test]
fn envoy_a_failing_crl_server_keeps_the_last_crl_until_stale_then_denies() {
    let upstream = EchoServer::start(0).unwrap();
    // Generous: Envoy starting and every VM seeing a 503 fit well within it on a busy machine.
    let valid_for = 40;
    let server = CrlServer::start(CRL_TYPE, fresh_crl(9, valid_for));
    let signed = Instant::now();
    let filter = FilterSetup {
        wasm: wasm::locate_or_build().unwrap(),
        policy: policy_with_grace("envoy", "crl_server", 0),
    };
    let yaml = EnvoyConfig::with_fixture_certs(upstream.addr().port(), Some(filter))
        .render()
        .unwrap()
        .replacen("  clusters:\n", &crl_cluster(server.port), 1);
    let envoy = Envoy::start(&envoy::binary().unwrap(), "revocation-stale", &yaml).unwrap();
    let log = || envoy.log();
    // Every VM (one per worker thread, plus the main thread's) fetches on its own: wait until
    // each has CRL 9, whichever serves the connection.
    const INSTALLED: &str = "CRL number 9 installed: 0 entries";
    wait_every_vm(&log, 1, INSTALLED);
    std::thread::sleep(Duration::from_secs(3));
    let vms = logged(&log, INSTALLED);
    let mut alice = Session::open(envoy.listener_port().unwrap(), "healthcare/clinician-alice");
    let before = alice.ask("/records/1");
    assert_eq!(before["status"], 200, "{before}\n{}", log());
    server.answer_with(503);
    wait_every_vm(
        &log,
        vms,
        "CRL fetch failed: HTTP status 503; the last good CRL stays",
    );
    assert!(
        signed.elapsed() < Duration::from_secs(valid_for - 5),
        "too slow to ask while the CRL is fresh: {:?}",
        signed.elapsed()
    );
    let during = alice.ask("/records/1");
    assert_eq!(during["status"], 200, "{during}\n{}", log());
    assert_eq!(during["stream"], 3, "not the same connection: {during}");
    // Past its nextUpdate (a margin for the proxy's cached clock): stale, refused.
    let stale = Duration::from_secs(valid_for + 3);
    if let Some(left) = stale.checked_sub(signed.elapsed()) {
        std::thread::sleep(left);
    }
    let after = alice.ask("/records/1");
    assert_eq!(after["status"], 401, "{after}\n{}", log());
    assert_eq!(after["stream"], 5, "not the same connection: {after}");
    assert_eq!(last_reason(&log), "unauthenticated:revocation_unavailable");
    assert!(
        envoy
            .counter("wasmcustom.mtls_authz.crl.health-ca.fetch_failed")
            .unwrap()
            >= 1
    );
}

/// The Envoy test above in NGINX (the CRL server at `127.0.0.1:port`): every worker keeps the
/// last good CRL through the 503s while it is fresh, and the open HTTP/2 connection is refused
/// `revocation_unavailable` once its nextUpdate has passed (grace 0).
#[test]
fn nginx_a_failing_crl_server_keeps_the_last_crl_until_stale_then_denies() {
    let upstream = EchoServer::start(0).unwrap();
    // Generous: NGINX starting and every worker seeing a 503 fit well within it on a busy machine.
    let valid_for = 40;
    let server = CrlServer::start(CRL_TYPE, fresh_crl(9, valid_for));
    let signed = Instant::now();
    let config = NginxConfig::with_fixture_certs(
        "revocation-stale",
        Some(examples::minify_json(&policy_with_grace(
            "nginx",
            &format!("127.0.0.1:{}", server.port),
            0,
        ))),
        wasm::locate_or_build().unwrap(),
        nginx::free_port().unwrap(),
        Some(upstream.addr()),
        PathBuf::new(),
    );
    let nginx =
        Nginx::start_on_free_port(&nginx::binary().unwrap(), "revocation-stale", &config).unwrap();
    let log = || nginx.log();
    const INSTALLED: &str = "CRL number 9 installed: 0 entries";
    wait_every_vm(&log, 1, INSTALLED);
    std::thread::sleep(Duration::from_secs(3));
    let vms = logged(&log, INSTALLED);

    let mut alice = Session::open(nginx.port(), "healthcare/clinician-alice");
    let before = alice.ask("/records/1");
    assert_eq!(before["status"], 200, "{before}\n{}", log());

    // The CRL server goes down: every worker (the connection's too) logs the failed fetch and
    // keeps CRL 9, which still decides on the same connection while it is fresh.
    server.answer_with(503);
    wait_every_vm(
        &log,
        vms,
        "CRL fetch failed: HTTP status 503; the last good CRL stays",
    );
    assert!(
        signed.elapsed() < Duration::from_secs(valid_for - 5),
        "too slow to ask while the CRL is fresh: {:?}",
        signed.elapsed()
    );
    let during = alice.ask("/records/1");
    assert_eq!(during["status"], 200, "{during}\n{}", log());
    assert_eq!(during["stream"], 3, "not the same connection: {during}");

    // Past its nextUpdate (a margin for the proxy's cached clock): stale, refused.
    let stale = Duration::from_secs(valid_for + 3);
    if let Some(left) = stale.checked_sub(signed.elapsed()) {
        std::thread::sleep(left);
    }
    let after = alice.ask("/records/1");
    assert_eq!(after["status"], 401, "{after}\n{}", log());
    assert_eq!(after["stream"], 5, "not the same connection: {after}");
    assert_eq!(last_reason(&log), "unauthenticated:revocation_unavailable");
}
