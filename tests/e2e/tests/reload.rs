//! Policy reload under load (issue 15, part 4), Envoy: the filter's config comes from a file by
//! ECDS (`config_discovery` with a `path_config_source` whose directory is watched for moves),
//! and the file is swapped atomically (`rename`) while keep-alive HTTP/1.1 and HTTP/2
//! connections send requests back to back. Policy A lets the client read `/patient-records/7`
//! (200); policy B does not (403); then a broken policy (not JSON) is swapped in.
//!
//! Checks: every answer is A's 200 or B's 403 (nothing else: no request decided by a
//! half-loaded policy, no 5xx, no reset); answers are 200 up to the first swap and 403 from a
//! moment after it to the end — the broken policy is REFUSED by Envoy (ECDS `config_fail`), the
//! working policy B keeps deciding, never allow-all and never fail-closed; the filter's counters
//! equal the answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::replay::{client_identity, report};
use mtls_authz_e2e::{paths, wasm};

const FILTER_START: &str = "          - name: envoy.filters.http.wasm\n";
const ROUTER_START: &str = "          - name: envoy.filters.http.router\n";

/// The ECDS file: one TypedExtensionConfig with the same Wasm settings as the template's.
fn ecds_file(wasm: &Path, policy: &str, version: &str) -> String {
    serde_json::json!({
        "version_info": version,
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
            "name": "mtls_authz",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": "mtls_authz",
                    "root_id": "mtls_authz",
                    "failure_policy": "FAIL_CLOSED",
                    "vm_config": {
                        "vm_id": "mtls_authz",
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": {"local": {"filename": wasm}}
                    },
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": policy
                    }
                }
            }
        }]
    })
    .to_string()
}

/// Writes `text` beside `target` and renames it over `target` (what `mv` does).
fn swap_in(dir: &Path, target: &Path, text: &str, n: u32) {
    let staged = dir.join(format!("staged-{n}.json"));
    std::fs::write(&staged, text).unwrap();
    std::fs::rename(&staged, target).unwrap();
}

#[test]
fn a_policy_swapped_under_load_decides_whole_and_a_broken_one_is_refused() {
    let wasm = wasm::locate_or_build().unwrap();
    let upstream = EchoServer::start(0).unwrap();
    let policy_a = mtls_authz_fixtures::load_policy("healthcare");
    let mut b: serde_json::Value = serde_json::from_str(&policy_a).unwrap();
    assert_eq!(b["rules"][1]["name"], "records-read");
    b["rules"][1]["allow"] = serde_json::json!(["admin"]);
    let policy_b = b.to_string();

    let dir = envoy::fresh_run_dir("reload-ecds").unwrap();
    let watched = dir.join("xds");
    std::fs::create_dir_all(&watched).unwrap();
    let ecds = watched.join("mtls_authz.json");
    std::fs::write(&ecds, ecds_file(&wasm, &policy_a, "a")).unwrap();

    let mut config = EnvoyConfig::with_fixture_certs(
        upstream.addr().port(),
        Some(FilterSetup {
            wasm: wasm.clone(),
            policy: policy_a.clone(),
        }),
    );
    config.access_log = false;
    let yaml = config.render().unwrap();
    let (start, end) = (
        yaml.find(FILTER_START).unwrap(),
        yaml.find(ROUTER_START).unwrap(),
    );
    let discovery = format!(
        "          - name: mtls_authz\n            config_discovery:\n              config_source:\n                path_config_source:\n                  path: {}\n                  watched_directory: {{ path: {} }}\n              type_urls: [\"type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\"]\n",
        serde_json::to_string(&ecds).unwrap(),
        serde_json::to_string(&watched).unwrap()
    );
    // xDS subscriptions need a node identity.
    let yaml = format!(
        "node: {{ id: mtls-authz-reload, cluster: mtls-authz }}\n{}{discovery}{}",
        &yaml[..start],
        &yaml[end..]
    );
    let envoy = Envoy::start(&envoy::binary().unwrap(), "reload", &yaml).unwrap();
    let port = envoy.listener_port().unwrap();

    let root = paths::repo_root();
    let client = client_identity("healthcare/clinician-alice");
    let stop = dir.join("stop");
    let spec = serde_json::json!({
        "port": port, "ca": mtls_authz_fixtures::ca_bundle_path(), "cert": client.cert,
        "key": client.key, "target": "/patient-records/7", "stop": stop, "threads": 4,
    });
    let mut load = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/e2e/reload_load.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    load.stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let started = now();
    let counter = |name: &str| envoy.counter(name).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let swap_b = now();
    swap_in(&watched, &ecds, &ecds_file(&wasm, &policy_b, "b"), 1);
    std::thread::sleep(Duration::from_secs(4));
    let swap_broken = now();
    swap_in(&watched, &ecds, &ecds_file(&wasm, "{not json", "broken"), 2);
    std::thread::sleep(Duration::from_secs(4));
    std::fs::write(&stop, "").unwrap();
    let output = load.wait_with_output().unwrap();
    assert!(output.status.success());
    let answers: Vec<(f64, Option<u16>)> = serde_json::from_slice(&output.stdout).unwrap();
    // Times from the start of the load (both clocks are the wall clock).
    let answers: Vec<(f64, Option<u16>)> =
        answers.into_iter().map(|(t, a)| (t - started, a)).collect();
    let (swap_b, swap_broken) = (swap_b - started, swap_broken - started);

    let discovery_stats = envoy.counters("extension_config_discovery").unwrap();
    let stat = |suffix: &str| {
        discovery_stats
            .iter()
            .filter(|(name, _)| name.ends_with(suffix))
            .map(|(_, v)| *v)
            .sum::<u64>()
    };
    let (reload, fail) = (stat(".config_reload"), stat(".config_fail"));
    let count = |s: u16| answers.iter().filter(|(_, a)| *a == Some(s)).count() as u64;
    let (ok, denied) = (count(200), count(403));
    let others: Vec<&(f64, Option<u16>)> = answers
        .iter()
        .filter(|(_, a)| !matches!(a, Some(200 | 403)))
        .collect();
    let last_200 = answers
        .iter()
        .filter(|(_, a)| *a == Some(200))
        .map(|(t, _)| *t)
        .fold(0.0, f64::max);
    let first_403 = answers
        .iter()
        .filter(|(_, a)| *a == Some(403))
        .map(|(t, _)| *t)
        .fold(f64::MAX, f64::min);
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter("wasmcustom.mtls_authz.allowed") != ok && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    report(&format!("reload: ECDS stats {discovery_stats:?}"));
    report(&format!(
        "reload: {} requests, {ok} x 200 (policy A), {denied} x 403 (policy B), {} other; swap to B at {swap_b:.2}s: first 403 at {first_403:.2}s, last 200 at {last_200:.2}s; broken policy at {swap_broken:.2}s; ECDS config_reload {reload}, config_fail {fail}; filter counters allowed {}, denied {}",
        answers.len(),
        others.len(),
        counter("wasmcustom.mtls_authz.allowed"),
        counter("wasmcustom.mtls_authz.denied"),
    ));
    assert!(others.is_empty(), "answers other than 200/403: {others:?}");
    assert!(ok > 0 && denied > 0);
    // Each connection takes the new filter config at its next request: a transition window of
    // a few tens of milliseconds where some answers are A's and some B's, each whole.
    assert!(
        answers.iter().all(|(t, a)| *t >= swap_b || *a == Some(200)),
        "only policy A decides before the swap"
    );
    assert!(
        answers
            .iter()
            .all(|(t, a)| *t < swap_b + 1.0 || *a == Some(403)),
        "only policy B decides from a second after the swap to the end: the broken policy changed nothing"
    );
    assert!(
        answers.iter().any(|(t, _)| *t > swap_broken + 1.0),
        "load ran after the broken policy"
    );
    // config_reload counts every file event Envoy read (3); the outcomes are what matter.
    assert_eq!(
        stat(".update_success"),
        2,
        "the first policy and policy B were loaded"
    );
    assert_eq!(
        stat(".update_rejected"),
        1,
        "Envoy refused the broken policy"
    );
    assert_eq!(fail, 1);
    assert!(reload >= 2);
    assert_eq!(counter("wasmcustom.mtls_authz.allowed"), ok);
    assert_eq!(counter("wasmcustom.mtls_authz.denied"), denied);
    let log = envoy.log();
    assert!(
        log.contains("configuration refused: invalid policy at $")
            && log.contains(
                "Filesystem config update rejected: Unable to create Wasm plugin mtls_authz"
            ),
        "the filter's log names the problem and Envoy logs the rejected update"
    );
}
