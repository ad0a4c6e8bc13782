//! Soak (issue 15, part 3): many runtime-generated client certificates cycling through the
//! filter's identity cache in a real Envoy, mixed allow/deny/400 traffic over HTTP/1.1 and
//! HTTP/2 (`tests/e2e/soak.py`), for a fixed time. Checks: every answer is the expected one and
//! no (certificate, request) ever changes its answer; the filter's counters add up exactly to
//! the requests sent; Envoy's memory (RSS and its allocator's `allocated`) is flat after the
//! warm-up third of the run.
//!
//! CI: 300 certificates (identity cache 64), 60 s. The long run (10,000 certificates, 10
//! minutes): `SOAK_CERTS=10000 SOAK_SECONDS=600 cargo test -p mtls-authz-e2e --test soak --
//! --nocapture` (tests/e2e/README.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::replay::report;
use mtls_authz_e2e::{paths, wasm};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn allocated_bytes(envoy: &Envoy) -> u64 {
    let (status, body) =
        mtls_authz_e2e::http::get(envoy.admin(), "/memory", Duration::from_secs(10)).unwrap();
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["allocated"].as_str().unwrap().parse().unwrap()
}

#[test]
fn thousands_of_certificates_keep_decisions_counters_and_memory_steady() {
    let certs = env_number("SOAK_CERTS", 300);
    let seconds = env_number("SOAK_SECONDS", 60);
    let cache = env_number("SOAK_CACHE", 64);
    let root = paths::repo_root();
    let dir = envoy::fresh_run_dir("soak-certs").unwrap();
    let generated = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("bench/gen_clients.py"))
        .arg(&dir)
        .arg(certs.to_string())
        .status()
        .unwrap();
    assert!(generated.success(), "bench/gen_clients.py failed");

    let upstream = EchoServer::start(0).unwrap();
    let policy = mtls_authz_fixtures::load_policy("healthcare").replacen(
        '{',
        &format!("{{\"identity_cache_size\": {cache},"),
        1,
    );
    let mut config = EnvoyConfig::with_fixture_certs(
        upstream.addr().port(),
        Some(FilterSetup {
            wasm: wasm::locate_or_build().unwrap(),
            policy,
        }),
    );
    config.access_log = false;
    let envoy = Envoy::start(&envoy::binary().unwrap(), "soak", &config.render().unwrap()).unwrap();
    let port = envoy.listener_port().unwrap();

    let spec = serde_json::json!({
        "port": port,
        "ca": mtls_authz_fixtures::ca_bundle_path(),
        "certs": (0..certs).map(|i| dir.join(format!("client-{i}.pem"))).collect::<Vec<_>>(),
        "key": dir.join("client.key"),
        "seconds": seconds,
        "threads": 6,
    });
    let mut child = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/e2e/soak.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();

    // Memory every 5 s while the load runs.
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let (samples, output) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !done.load(Ordering::SeqCst) {
                samples.push((
                    started.elapsed().as_secs(),
                    rss_kib(envoy.pid()),
                    allocated_bytes(&envoy),
                ));
                for _ in 0..50 {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            samples
        });
        let output = child.wait_with_output().unwrap();
        done.store(true, Ordering::SeqCst);
        (sampler.join().unwrap(), output)
    });
    assert!(output.status.success(), "soak.py failed");
    let totals: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let status = |s: &str| totals["by_status"][s].as_u64().unwrap_or(0);
    let sent = totals["sent"].as_u64().unwrap();

    // Allowed counts reach the stats on the filter's next tick.
    let counter = |name: &str| {
        envoy
            .counter(&format!("wasmcustom.mtls_authz.{name}"))
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter("allowed") != status("200") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let counted = [
        ("allowed", counter("allowed"), status("200")),
        ("denied", counter("denied"), status("403")),
        ("bad_request", counter("bad_request"), status("400")),
        ("unauthenticated", counter("unauthenticated"), status("401")),
        ("host_error", counter("host_error"), 0),
    ];

    report(&format!(
        "soak: {certs} certificates (identity cache {cache}), {}s, {} connections, {sent} requests \
         ({} HTTP/1.1, {} HTTP/2; {:.0} req/s), answers {}, errors {}, wrong answers {}, \
         (certificate, request) pairs {}, changed answers {}",
        totals["seconds"],
        totals["connections"],
        totals["h1_requests"],
        totals["h2_requests"],
        sent as f64 / totals["seconds"].as_f64().unwrap(),
        totals["by_status"],
        totals["errors"],
        totals["wrong_status"],
        totals["distinct_keys"],
        totals["changes"]
    ));
    report(&format!("soak counters (filter, expected): {counted:?}"));
    report(&format!(
        "soak memory (s, Envoy RSS KiB, allocated bytes): {samples:?}"
    ));

    assert_eq!(totals["errors"], 0, "connections that failed");
    assert_eq!(totals["wrong_status"], 0, "answers other than expected");
    assert_eq!(totals["changes"], serde_json::json!([]), "changed answers");
    for (name, got, want) in counted {
        assert_eq!(got, want, "counter {name}");
    }
    assert_eq!(
        status("200") + status("403") + status("400"),
        sent,
        "every request answered 200, 403 or 400"
    );
    // Flat after warm-up: past the first third, neither RSS nor Envoy's heap grows by more
    // than 10% + 8 MiB over its value at the end of the warm-up.
    let warm = samples
        .iter()
        .position(|(t, _, _)| *t * 3 >= seconds)
        .expect("memory samples after the warm-up");
    let (_, rss0, alloc0) = samples[warm];
    for (t, rss, alloc) in &samples[warm..] {
        assert!(
            *rss <= rss0 + rss0 / 10 + 8 * 1024,
            "Envoy RSS {rss} KiB at {t}s, {rss0} KiB after the warm-up"
        );
        assert!(
            *alloc <= alloc0 + alloc0 / 10 + 8 * 1024 * 1024,
            "Envoy allocated {alloc} at {t}s, {alloc0} after the warm-up"
        );
    }
}
