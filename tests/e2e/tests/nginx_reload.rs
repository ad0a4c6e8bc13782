//! Policy reload under load (issue 15, part 4), NGINX: keep-alive HTTP/1.1 and HTTP/2
//! connections send requests back to back while the policy in nginx.conf is replaced and the
//! master is told to reload (SIGHUP). Policy A lets the client read `/patient-records/7` (200);
//! policy B does not (403); then a broken policy (not JSON) is reloaded.
//!
//! What NGINX does, and what is checked: a reload starts new workers on the new config and
//! tells the old ones to finish what they are answering and quit, so every request is decided
//! by one whole policy, A's or B's — each answer is 200, 403 or no answer (a keep-alive
//! connection the old worker closed, retried by the client on a new one); no 5xx, no answer
//! of A's once B's worker runs. A broken policy makes the new worker refuse to start
//! (`on_configure` fails, "cannot be respawned") while the old worker quits: NGINX then serves
//! nothing — fail closed, never allow-all and never the old policy kept (unlike Envoy, which
//! keeps the working policy: tests/reload.rs). Every 403 has its deny line in the error log.
//! `keepalive_requests` is raised so that only the reloads close connections.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::nginx::{self, Nginx, NginxConfig};
use mtls_authz_e2e::replay::{client_identity, report};
use mtls_authz_e2e::{examples, paths, wasm};

/// Seconds since the Unix epoch (the load script stamps answers with the same clock).
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Waits until `needle` appears `times` times in NGINX's log; returns when (epoch seconds).
fn wait_for_log(nginx: &Nginx, needle: &str, times: usize) -> f64 {
    let deadline = Instant::now() + nginx::STARTUP_TIMEOUT;
    while nginx.log().matches(needle).count() < times {
        assert!(Instant::now() < deadline, "no {needle:?}: {}", nginx.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    now()
}

#[test]
fn a_policy_reloaded_under_load_decides_whole_and_a_broken_one_stops_serving() {
    let wasm = wasm::locate_or_build().unwrap();
    let upstream = EchoServer::start(0).unwrap();
    let policy_a =
        examples::with_host(&mtls_authz_fixtures::load_policy("healthcare"), "nginx").unwrap();
    let mut b: serde_json::Value = serde_json::from_str(&policy_a).unwrap();
    assert_eq!(b["rules"][1]["name"], "records-read");
    b["rules"][1]["allow"] = serde_json::json!(["admin"]);
    let config = |policy: &str| {
        let mut config = NginxConfig::with_fixture_certs(
            "healthcare",
            Some(examples::minify_json(policy)),
            wasm.clone(),
            nginx::free_port().unwrap(),
            Some(upstream.addr()),
            PathBuf::new(),
        );
        // NGINX closes a connection after 1,000 requests by default: only reloads close
        // connections here.
        config.keepalive_requests = Some(1_000_000);
        config
    };
    let nginx =
        Nginx::start_on_free_port(&nginx::binary().unwrap(), "reload-load", &config(&policy_a))
            .unwrap();

    let root = paths::repo_root();
    let client = client_identity("healthcare/clinician-alice");
    let stop = nginx.dir().join("stop");
    let spec = serde_json::json!({
        "port": nginx.port(), "ca": mtls_authz_fixtures::ca_bundle_path(), "cert": client.cert,
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
    let started = now();
    std::thread::sleep(Duration::from_secs(4));

    let swap_b = now();
    nginx.reload(&config(&b.to_string())).unwrap();
    let b_ready = wait_for_log(&nginx, nginx::CONFIGURED_LINE, 2);
    std::thread::sleep(Duration::from_secs(4));

    let swap_broken = now();
    nginx.reload(&config("{not json")).unwrap();
    let refused = wait_for_log(&nginx, "cannot be respawned", 1);
    std::thread::sleep(Duration::from_secs(8));
    std::fs::write(&stop, "").unwrap();
    let output = load.wait_with_output().unwrap();
    assert!(output.status.success());
    let answers: Vec<(f64, Option<u16>)> = serde_json::from_slice(&output.stdout).unwrap();
    let at = |t: f64| t - started;
    let answers: Vec<(f64, Option<u16>)> = answers.into_iter().map(|(t, a)| (at(t), a)).collect();
    let (swap_b, b_ready, swap_broken, refused) =
        (at(swap_b), at(b_ready), at(swap_broken), at(refused));

    let count = |s: Option<u16>| answers.iter().filter(|(_, a)| *a == s).count();
    let (ok, denied, none) = (count(Some(200)), count(Some(403)), count(None));
    let in_window = |lo: f64, hi: f64, want: Option<u16>| {
        answers
            .iter()
            .filter(|(t, a)| *t >= lo && *t < hi && *a == want)
            .count()
    };
    let last_200 = answers
        .iter()
        .filter(|(_, a)| *a == Some(200))
        .map(|(t, _)| *t)
        .fold(0.0, f64::max);
    let log = nginx.log();
    let deny_lines = log.matches("mtls-authz: deny status=403").count();
    report(&format!(
        "nginx reload: {} answers: {ok} x 200 (policy A), {denied} x 403 (policy B), {none} without answer; reload to B at {swap_b:.2}s, B's worker configured at {b_ready:.2}s, last 200 at {last_200:.2}s; broken policy at {swap_broken:.2}s, refused at {refused:.2}s; without answer before B / between / after the broken reload: {} / {} / {}; 403 after the broken reload: {}; deny log lines {deny_lines}",
        answers.len(),
        in_window(0.0, swap_b, None),
        in_window(swap_b, swap_broken, None),
        in_window(swap_broken, f64::MAX, None),
        in_window(swap_broken, f64::MAX, Some(403)),
    ));

    let others: Vec<&(f64, Option<u16>)> = answers
        .iter()
        .filter(|(_, a)| !matches!(a, None | Some(200 | 403)))
        .collect();
    assert!(others.is_empty(), "answers other than 200/403: {others:?}");
    assert!(
        answers.iter().all(|(t, a)| *t >= swap_b || *a == Some(200)),
        "only policy A answers before the reload, and every request is answered"
    );
    assert!(ok > 0 && denied > 0);
    // The old worker answers what it has in hand when told to quit; nothing of A's after B's
    // worker is up (one second for a request in flight on a busy machine).
    assert!(
        last_200 < b_ready + 1.0,
        "policy A answered after B's worker ran"
    );
    assert!(
        in_window(b_ready + 1.0, swap_broken, Some(403)) > 0,
        "policy B decides once its worker runs"
    );
    assert_eq!(
        in_window(b_ready + 1.0, swap_broken, None),
        0,
        "B's worker answers every request until the broken reload"
    );
    // Fail closed: after the broken reload nothing is allowed, and once the old worker has
    // finished nothing answers at all.
    assert!(
        answers
            .iter()
            .all(|(t, a)| *t < swap_broken || *a != Some(200)),
        "nothing allowed after the broken reload"
    );
    assert!(
        answers
            .iter()
            .filter(|(t, _)| *t > refused + 2.0)
            .all(|(_, a)| a.is_none()),
        "NGINX serves nothing once the broken policy was refused"
    );
    assert!(
        answers.iter().any(|(t, _)| *t > refused + 2.0),
        "the load ran on after the broken reload"
    );
    assert!(log.contains("mtls-authz: configuration refused: invalid policy at $"));
    // A request denied while its connection closed (the old worker quitting) is logged but
    // its answer lost.
    assert!(
        deny_lines >= denied && deny_lines <= denied + none,
        "every 403 has its deny log line ({deny_lines} lines, {denied} x 403, {none} lost)"
    );
}
