//! The built `.wasm` inside a real NGINX 1.27.4 with ngx_wasm_module (Wasmtime 26), over real
//! mutual TLS.
//!
//! Replays every fixture case whose layers include `nginx`, over HTTP/1.1 and HTTP/2, with the
//! case's client certificate, one NGINX per policy rendered from examples/nginx/nginx.conf.j2
//! (the committed example's template: `ssl_verify_client on`, `proxy_pass` to the echo
//! upstream), each policy with `"host": "nginx"` as the example sets it. A case without a
//! certificate goes to a second NGINX of the same policy with `ssl_verify_client optional`
//! (with `on`, NGINX answers such requests 400 itself before any filter). Asserts status, deny
//! body, what reached the upstream (method, path, headers) and the filter's deny log lines.
//!
//! Also: spoofable headers never reach the upstream in any spelling or number; an invalid
//! policy leaves NGINX serving nothing (at start and on reload); `optional` and
//! `optional_no_ca` hand unverified clients to the filter, which answers 401; `auto` reads no
//! Envoy property in NGINX; the requests examples/nginx/README.md shows return what it says.
//!
//! Needs: the `.wasm` (`MTLS_AUTHZ_WASM`, else built with cargo), NGINX with ngx_wasm_module
//! (`NGINX_BIN`, else `.tools/nginx-wasm`, else built by scripts/ensure-nginx.sh), curl and
//! openssl. Never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mtls_authz_e2e::client::{ClientIdentity, Outcome, Protocol, Request, Response};
use mtls_authz_e2e::demo;
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::examples;
use mtls_authz_e2e::nginx::{self, Nginx, NginxConfig};
use mtls_authz_e2e::replay::{self, client_identity, report, PolicyTraits, PythonExtras};
use mtls_authz_e2e::{paths, wasm};
use mtls_authz_fixtures::{load_cases, load_policy, Case, Layer, Listener};

/// The policy as NGINX runs it: with `"host": "nginx"` like examples/nginx (unless the fixture
/// names a host itself).
fn nginx_policy(name: &str) -> String {
    let policy = load_policy(name);
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    if doc.get("host").is_some() {
        policy
    } else {
        examples::with_host(&policy, "nginx").unwrap()
    }
}

fn one_line(policy: &str) -> String {
    examples::minify_json(policy)
}

/// A running NGINX for one policy document.
struct Scenario {
    nginx: Nginx,
    traits: PolicyTraits,
}

/// What to start: a label, the policy document, and how the config differs from the example.
struct Spec {
    label: String,
    policy_name: String,
    policy: String,
    verify_client: &'static str,
    underscores_in_headers: bool,
    client_body_buffer_size: Option<&'static str>,
}

impl Spec {
    fn new(label: &str, policy_name: &str, policy: String) -> Self {
        Self {
            label: label.to_owned(),
            policy_name: policy_name.to_owned(),
            policy,
            verify_client: "on",
            underscores_in_headers: false,
            client_body_buffer_size: None,
        }
    }
}

/// Starts one NGINX per spec, all at once (each worker compiles the module with Wasmtime).
fn start_scenarios(specs: Vec<Spec>, upstream: &EchoServer) -> BTreeMap<String, Scenario> {
    let wasm = wasm::locate_or_build().unwrap();
    let nginx_bin = nginx::binary().unwrap();
    let upstream = upstream.addr();
    replay::start_in_parallel(
        "NGINX",
        &specs,
        |spec| spec.label.clone(),
        |spec| {
            let (wasm, nginx_bin) = (wasm.clone(), nginx_bin.clone());
            let mut config = NginxConfig::with_fixture_certs(
                &spec.policy_name,
                Some(one_line(&spec.policy)),
                wasm,
                nginx::free_port().map_err(|e| e.to_string())?,
                Some(upstream),
                PathBuf::new(),
            );
            config.verify_client = spec.verify_client.to_owned();
            config.underscores_in_headers = spec.underscores_in_headers;
            config.client_body_buffer_size = spec.client_body_buffer_size.map(str::to_owned);
            let nginx = Nginx::start_on_free_port(&nginx_bin, &spec.label, &config)
                .map_err(|e| e.to_string())?;
            Ok(Scenario {
                nginx,
                traits: PolicyTraits::of(&spec.policy),
            })
        },
    )
}

/// Log lines that must never appear: ngx_wasm_module's "not yet implemented" alerts (an Envoy
/// property read in NGINX), a VM that crashed, a trap.
fn unexpected_log_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("NYI") || l.contains("[emerg]") || l.contains("panic") || l.contains("trap")
        })
        .collect()
}

/// The `ssl_verify_client` a case's listener needs: NGINX's equivalents of the Envoy test
/// listeners. `on` is the example's (and the `verified` listener's); NGINX has no equivalent
/// of `allow_expired` — it checks validity dates itself under every mode that verifies — so
/// those cases run on `on` and their `nginx_expect` says what NGINX answers; `optional_no_ca`
/// is NGINX's `accept_untrusted` (the certificate reaches the filter, `ssl_client_verify` says
/// `FAILED:...`). A case without a certificate needs `optional` (under `on` NGINX answers 400
/// itself before any filter).
fn nginx_verify_client(case: &Case) -> &'static str {
    match (case.listener, &case.cert) {
        (Listener::AcceptUntrusted, _) => "optional_no_ca",
        (_, None) => "optional",
        (Listener::Verified | Listener::AllowExpired, Some(_)) => "on",
    }
}

/// `healthcare`, `healthcare-optional`, `healthcare-optional_no_ca`.
fn instance_label(policy: &str, verify_client: &str) -> String {
    match verify_client {
        "on" => policy.to_owned(),
        other => format!("{policy}-{other}"),
    }
}

#[test]
fn every_nginx_case_over_real_mtls_on_http1_and_http2() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Nginx) && mtls_authz_fixtures::selected_table(case))
        .collect();
    assert!(!cases.is_empty(), "no fixture case runs on the nginx layer");
    // One NGINX per (policy, ssl_verify_client) the cases need.
    let instances: BTreeSet<(&str, &str)> = cases
        .iter()
        .map(|case| (case.policy.as_str(), nginx_verify_client(case)))
        .collect();
    let specs: Vec<Spec> = instances
        .iter()
        .map(|(name, verify)| {
            let mut spec = Spec::new(&instance_label(name, verify), name, nginx_policy(name));
            spec.verify_client = verify;
            spec
        })
        .collect();

    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(specs, &upstream);
    let scenario_of = |case: &Case| {
        let label = instance_label(&case.policy, nginx_verify_client(case));
        (label.clone(), &scenarios[&label])
    };

    let mut failures = Vec::new();
    let mut failed = BTreeSet::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_filter: BTreeMap<String, usize> = BTreeMap::new();
    let mut denials: BTreeMap<String, Vec<replay::LoggedDenial>> = BTreeMap::new();
    for protocol in Protocol::ALL {
        for case in &cases {
            let (label, scenario) = scenario_of(case);
            let expect = case.expect_for_nginx(protocol == Protocol::Http2);
            let logged = denials.entry(label.clone()).or_default();
            let problems = replay::run_case(
                case,
                expect,
                scenario.nginx.port(),
                protocol,
                scenario.traits,
                logged,
            );
            *counts.entry(protocol.to_string()).or_default() += 1;
            if expect.reason.is_some() {
                *by_filter.entry(protocol.to_string()).or_default() += 1;
            }
            if !problems.is_empty() {
                failures.push(replay::failure(case, protocol, &problems));
                failed.insert(label);
            }
        }
    }
    for (label, scenario) in &scenarios {
        let log = scenario.nginx.log();
        let logged = denials.get(label).map_or(&[][..], Vec::as_slice);
        for denial in replay::missing_log_lines(&log, logged) {
            failures.push(format!(
                "{label}: no log line with request id {} and reason {}",
                denial.request_id, denial.reason
            ));
            failed.insert(label.clone());
        }
        let unexpected = unexpected_log_lines(&log);
        if !unexpected.is_empty() {
            failures.push(format!(
                "{label}: unexpected log lines:\n      {}",
                unexpected.join("\n      ")
            ));
            failed.insert(label.clone());
        }
    }
    for (protocol, count) in &counts {
        report(&format!(
            "nginx e2e: {count} cases over {protocol} ({} decided by the filter, {} by NGINX itself; {} NGINX instances)",
            by_filter.get(protocol).copied().unwrap_or(0),
            count - by_filter.get(protocol).copied().unwrap_or(0),
            scenarios.len()
        ));
    }
    if !failures.is_empty() {
        for label in &failed {
            let scenario = &scenarios[label];
            report(&format!(
                "---- NGINX error log for {label} ({}) ----\n{}",
                scenario.nginx.dir().display(),
                scenario.nginx.log()
            ));
        }
        panic!(
            "{} of {} nginx case runs failed:\n  {}",
            failures.len(),
            counts.values().sum::<usize>(),
            failures.join("\n  ")
        );
    }
}

/// Sends `headers` on an allowed request (the clinician reading a record) over `protocol`.
fn clinician_request(
    port: u16,
    protocol: Protocol,
    headers: &[(String, String)],
) -> Result<Response, String> {
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    let client = client_identity("healthcare/clinician-alice");
    let request = Request {
        port,
        ca_bundle: &ca_bundle,
        protocol,
        method: "GET",
        target: "/patient-records/7",
        headers,
        client: Some(&client),
        body: None,
        trailers: &[],
    };
    match request.send().map_err(|e| e.to_string())? {
        Outcome::Response(response) => Ok(response),
        Outcome::NoResponse { curl_exit, message } => {
            Err(format!("no response (curl exit {curl_exit}: {message})"))
        }
    }
}

/// The headers mtls-authz must keep from the healthcare upstream, with the name the filter
/// reports them by.
const PROTECTED: [(&str, &str); 9] = [
    ("x-client-role", "x-client-role"),
    ("x-client-subject", "x-client-subject"),
    ("x-http-method-override", "x-http-method-override"),
    ("x-http-method", "x-http-method"),
    ("x-method-override", "x-method-override"),
    ("x-original-url", "x-original-url"),
    ("x-rewrite-url", "x-rewrite-url"),
    ("x-forwarded-client-cert", "x-forwarded-client-cert"),
    ("x-mtls-authz-shadow", "x-mtls-authz-shadow"),
];

/// Every spelling a client could try: lower, upper, mixed case; `_` for `-`.
fn spellings(name: &str) -> Vec<String> {
    let mixed: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-");
    vec![
        name.to_owned(),
        name.to_ascii_uppercase(),
        mixed.clone(),
        name.replace('-', "_"),
        mixed.replace('-', "_"),
    ]
}

/// The report that started issue 17: through NGINX, spoofed identity, override and XFCC
/// headers reached the upstream next to the filter's own. Now no spelling, no number of
/// copies, no combination gets past: with NGINX's defaults the underscore spellings are
/// dropped by NGINX itself (and the request goes through clean); every other one makes the
/// filter refuse the request (ngx_wasm_module cannot remove a request header from what
/// `proxy_pass` sends), and the upstream never sees it. With `underscores_in_headers on`,
/// the underscore spellings reach the filter and are refused as well.
#[test]
fn spoofable_headers_never_reach_the_upstream_in_any_spelling_or_number() {
    let policy = nginx_policy("healthcare");
    let mut underscores = Spec::new("spoof-underscores", "healthcare", policy.clone());
    underscores.underscores_in_headers = true;
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![
            Spec::new("spoof-default", "healthcare", policy),
            underscores,
        ],
        &upstream,
    );
    let mut problems = Vec::new();
    let mut sent = 0;
    for (label, scenario) in &scenarios {
        let nginx_drops_underscores = label == "spoof-default";
        for protocol in Protocol::ALL {
            for (name, canonical) in PROTECTED {
                for spelling in spellings(name) {
                    for copies in [1, 3] {
                        let mut headers: Vec<(String, String)> = (0..copies)
                            .map(|i| (spelling.clone(), format!("admin-{i}")))
                            .collect();
                        headers.insert(0, (String::from("accept"), String::from("*/*")));
                        sent += 1;
                        let what = format!("{label} [{protocol}] {copies} x {spelling}");
                        let response =
                            match clinician_request(scenario.nginx.port(), protocol, &headers) {
                                Ok(response) => response,
                                Err(err) => {
                                    problems.push(format!("{what}: {err}"));
                                    continue;
                                }
                            };
                        let dropped = nginx_drops_underscores && spelling.contains('_');
                        let echo = response.echo().unwrap();
                        match (dropped, response.status, &echo) {
                            (true, 200, Some(echo)) => {
                                // Forwarded clean: NGINX dropped the header, the filter's own
                                // headers are the only ones.
                                for (other, _) in PROTECTED {
                                    let got = echo.header_values(other);
                                    let want: &[&str] = match other {
                                        "x-client-role" => &["clinician"],
                                        "x-client-subject" => {
                                            &["CN=alice,OU=Clinicians,O=Example Health"]
                                        }
                                        _ => &[],
                                    };
                                    if got != want {
                                        problems.push(format!("{what}: upstream {other}: {got:?}"));
                                    }
                                }
                                if echo
                                    .headers
                                    .iter()
                                    .any(|(n, _)| n.eq_ignore_ascii_case(&spelling))
                                {
                                    problems.push(format!("{what}: upstream saw {spelling}"));
                                }
                            }
                            (false, 400, None) => {
                                let body: serde_json::Value =
                                    serde_json::from_str(&response.body).unwrap_or_default();
                                if body["error"] != "bad_request" {
                                    problems.push(format!("{what}: body {}", response.body));
                                }
                                let id = body["request_id"].as_str().unwrap_or("?");
                                let reason = format!("bad_request:spoofable_header[{canonical}]");
                                let log = scenario.nginx.log();
                                if !log.lines().any(|l| l.contains(id) && l.contains(&reason)) {
                                    problems.push(format!("{what}: no log line {id} {reason}"));
                                }
                            }
                            (_, status, echo) => problems.push(format!(
                                "{what}: status {status}, upstream saw {:?}",
                                echo.as_ref().map(|e| &e.headers)
                            )),
                        }
                    }
                }
            }
            // The exact request of the report, all at once.
            let headers = vec![
                (String::from("x-client-role"), String::from("admin")),
                (
                    String::from("x-http-method-override"),
                    String::from("DELETE"),
                ),
                (
                    String::from("x-forwarded-client-cert"),
                    String::from("Hash=00;Subject=\"CN=bob,OU=Admins\""),
                ),
            ];
            sent += 1;
            match clinician_request(scenario.nginx.port(), protocol, &headers) {
                Ok(response) if response.status == 400 && response.echo().unwrap().is_none() => {}
                Ok(response) => problems.push(format!(
                    "{label} [{protocol}] the reported request: {} {}",
                    response.status, response.body
                )),
                Err(err) => {
                    problems.push(format!("{label} [{protocol}] the reported request: {err}"))
                }
            }
        }
        let unexpected = unexpected_log_lines(&scenario.nginx.log()).join("\n");
        assert!(unexpected.is_empty(), "{label}: {unexpected}");
    }
    report(&format!(
        "nginx e2e: {sent} spoofed-header requests, none reached the upstream with a spoofed header"
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// ngx_wasm_module hands a filter at most 100 request-header entries: a request with more
/// could hide a spoofed header behind the cut, so it is refused whatever the header is.
#[test]
fn a_request_with_more_headers_than_the_filter_can_see_is_refused() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![Spec::new(
            "many-headers",
            "healthcare",
            nginx_policy("healthcare"),
        )],
        &upstream,
    );
    let scenario = &scenarios["many-headers"];
    for protocol in Protocol::ALL {
        let mut headers: Vec<(String, String)> = (0..120)
            .map(|i| (format!("x-filler-{i}"), String::from("v")))
            .collect();
        headers.push((String::from("x-client-role"), String::from("admin")));
        let response = clinician_request(scenario.nginx.port(), protocol, &headers).unwrap();
        assert_eq!(response.status, 400, "{protocol}: {}", response.body);
        assert!(response.echo().unwrap().is_none());
        let id = serde_json::from_str::<serde_json::Value>(&response.body).unwrap()["request_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let log = scenario.nginx.log();
        assert!(
            log.lines()
                .any(|l| l.contains(&id) && l.contains("bad_request:too_many_headers")),
            "{protocol}: {log}"
        );
        assert!(
            log.contains("marshalled map truncated"),
            "ngx_wasm_module no longer warns about the cut: {log}"
        );
        // Below the cut, the same request without the spoofed header goes through.
        headers.truncate(50);
        let response = clinician_request(scenario.nginx.port(), protocol, &headers).unwrap();
        assert_eq!(response.status, 200, "{protocol}: {}", response.body);
    }
}

/// Whether anything answers on the listener within `wait`: a master whose worker gave up
/// keeps the socket open, but nobody accepts on it.
fn serves(port: u16, wait: Duration) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(wait));
    // Plain HTTP on the TLS port: a live worker answers 400 at once.
    let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n");
    let mut buf = [0u8; 64];
    matches!(stream.read(&mut buf), Ok(n) if n > 0)
}

/// A policy document the filter must refuse, and what its log line must name.
struct InvalidPolicy {
    label: &'static str,
    json: &'static str,
    filter_says: &'static str,
}

const INVALID: [InvalidPolicy; 3] = [
    InvalidPolicy {
        label: "unknown-field",
        json: r#"{"mode": "enforce", "rules": [], "allow_everything_please": true}"#,
        filter_says: "invalid policy at allow_everything_please",
    },
    InvalidPolicy {
        label: "not-json",
        json: "mode: enforce",
        filter_says: "configuration refused: invalid policy",
    },
    InvalidPolicy {
        label: "empty",
        json: "",
        filter_says: "no plugin configuration",
    },
];

/// NGINX's answer to a refused `on_configure` (ngx_wasm_module 3bed2783): the worker logs
/// `[emerg] failed initializing`, exits with code 2, and the master does not respawn it — the
/// listener stays open and nothing is served (fail closed). `nginx -t` does not run filters,
/// so it does not catch a bad policy: `mtls-authz validate` does.
#[test]
fn an_invalid_policy_leaves_nginx_serving_nothing() {
    let wasm = wasm::locate_or_build().unwrap();
    let nginx_bin = nginx::binary().unwrap();
    for policy in INVALID {
        let config = NginxConfig::with_fixture_certs(
            "invalid",
            Some(policy.json.to_owned()),
            wasm.clone(),
            nginx::free_port().unwrap(),
            None,
            PathBuf::new(),
        );
        let dir = paths::fresh_run_dir(&format!("nginx-t-{}", policy.label)).unwrap();
        let mut tested = config.clone();
        tested.logs.clone_from(&dir);
        std::fs::write(dir.join("nginx.conf"), tested.render().unwrap()).unwrap();
        let syntax = Command::new(&nginx_bin)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-t")
            .output()
            .unwrap();
        assert!(
            syntax.status.success(),
            "{}: `nginx -t` now refuses a bad policy itself (update the docs): {}",
            policy.label,
            String::from_utf8_lossy(&syntax.stderr)
        );

        let (exited, log) = Nginx::run_expecting_refusal(&nginx_bin, policy.label, &config)
            .unwrap_or_else(|e| panic!("{}: {e}", policy.label));
        assert!(
            exited.is_none(),
            "{}: the master exited: {log}",
            policy.label
        );
        for needle in [
            policy.filter_says,
            "failed initializing \"mtls_authz\" filter (on_configure failure)",
            "exited with fatal code 2 and cannot be respawned",
        ] {
            assert!(
                log.contains(needle),
                "{}: no {needle:?} in\n{log}",
                policy.label
            );
        }
    }
}

/// A reload with a bad policy: the new worker gives up, the old one was told to quit, and
/// NGINX stops serving rather than run without the filter.
#[test]
fn a_reload_with_an_invalid_policy_stops_serving() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![Spec::new(
            "reload",
            "healthcare",
            nginx_policy("healthcare"),
        )],
        &upstream,
    );
    let scenario = &scenarios["reload"];
    let port = scenario.nginx.port();
    assert!(serves(port, Duration::from_secs(5)));
    let response = clinician_request(port, Protocol::Http1, &[]).unwrap();
    assert_eq!(response.status, 200);

    let config = NginxConfig::with_fixture_certs(
        "invalid",
        Some(INVALID[0].json.to_owned()),
        wasm::locate_or_build().unwrap(),
        scenario.nginx.listen(),
        Some(upstream.addr()),
        PathBuf::new(),
    );
    scenario.nginx.reload(&config).unwrap();
    let deadline = Instant::now() + nginx::STARTUP_TIMEOUT;
    while !scenario.nginx.log().contains("cannot be respawned") {
        assert!(Instant::now() < deadline, "{}", scenario.nginx.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The old worker finishes its open connections and exits; then nothing answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while serves(port, Duration::from_secs(2)) {
        assert!(
            Instant::now() < deadline,
            "still serving: {}",
            scenario.nginx.log()
        );
    }
    assert!(scenario.nginx.log().contains(INVALID[0].filter_says));
}

/// A client certificate no trusted CA issued (self-signed, naming the health CA as issuer and
/// OU=Clinicians), made with openssl into a scratch directory.
fn untrusted_clinician(dir: &Path) -> ClientIdentity {
    let cert = dir.join("untrusted-clinician.pem");
    let key = dir.join("untrusted-clinician.key");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-subj"])
        .arg("/O=Example Health/OU=Clinicians/CN=mallory")
        .args(["-addext", "extendedKeyUsage=clientAuth"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (scripts/test.sh installs it)");
    assert!(
        status.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    ClientIdentity { cert, key }
}

fn send(port: u16, protocol: Protocol, path: &str, client: Option<&ClientIdentity>) -> Response {
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    let request = Request {
        port,
        ca_bundle: &ca_bundle,
        protocol,
        method: "GET",
        target: path,
        headers: &[],
        client,
        body: None,
        trailers: &[],
    };
    match request.send().unwrap() {
        Outcome::Response(response) => response,
        Outcome::NoResponse { curl_exit, message } => {
            panic!("{protocol} {path}: no response (curl exit {curl_exit}: {message})")
        }
    }
}

fn filter_reason(nginx: &Nginx, response: &Response) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(&response.body).ok()?;
    let id = body["request_id"].as_str()?;
    nginx.log().lines().find(|l| l.contains(id)).and_then(|l| {
        l.split(' ')
            .find_map(|f| f.strip_prefix("reason="))
            .map(str::to_owned)
    })
}

/// `ssl_verify_client optional` and `optional_no_ca` let requests that NGINX did not verify
/// reach the filter; it answers them 401 (a `public` route still answers, without identity
/// headers). What NGINX itself refuses under each mode is asserted too: it is what the
/// fixture cases' `nginx_expect` entries rely on.
#[test]
fn unverified_clients_under_optional_verification_get_401_from_the_filter() {
    let policy = nginx_policy("healthcare");
    let mut optional = Spec::new("optional", "healthcare", policy.clone());
    optional.verify_client = "optional";
    let mut no_ca = Spec::new("optional_no_ca", "healthcare", policy.clone());
    no_ca.verify_client = "optional_no_ca";
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![optional, no_ca, Spec::new("on", "healthcare", policy)],
        &upstream,
    );
    let dir = paths::fresh_run_dir("untrusted-client").unwrap();
    let untrusted = untrusted_clinician(&dir);
    let expired = client_identity("attack/expired");
    let alice = client_identity("healthcare/clinician-alice");

    // (mode, client, path, status, filter reason or None = NGINX's own answer)
    type Expectation<'a> = (
        &'a str,
        Option<&'a ClientIdentity>,
        &'a str,
        u16,
        Option<&'a str>,
    );
    let expectations: [Expectation<'_>; 14] = [
        ("on", None, "/healthz", 400, None),
        ("on", Some(&untrusted), "/patient-records/1", 400, None),
        ("on", Some(&expired), "/patient-records/1", 400, None),
        ("on", Some(&alice), "/patient-records/1", 200, None),
        (
            "optional",
            None,
            "/patient-records/1",
            401,
            Some("unauthenticated:no_certificate"),
        ),
        ("optional", None, "/healthz", 200, None),
        (
            "optional",
            Some(&untrusted),
            "/patient-records/1",
            400,
            None,
        ),
        ("optional", Some(&expired), "/patient-records/1", 400, None),
        ("optional", Some(&alice), "/patient-records/1", 200, None),
        (
            "optional_no_ca",
            None,
            "/patient-records/1",
            401,
            Some("unauthenticated:no_certificate"),
        ),
        (
            "optional_no_ca",
            Some(&untrusted),
            "/patient-records/1",
            401,
            Some("unauthenticated:certificate_unverified"),
        ),
        ("optional_no_ca", Some(&untrusted), "/healthz", 200, None),
        (
            "optional_no_ca",
            Some(&expired),
            "/patient-records/1",
            400,
            None,
        ),
        (
            "optional_no_ca",
            Some(&alice),
            "/patient-records/1",
            200,
            None,
        ),
    ];
    let mut problems = Vec::new();
    for protocol in Protocol::ALL {
        for (mode, client, path, status, reason) in &expectations {
            let nginx = &scenarios[*mode].nginx;
            let response = send(nginx.port(), protocol, path, *client);
            let who = client.map_or("no certificate", |c| {
                c.cert.file_stem().and_then(|s| s.to_str()).unwrap_or("?")
            });
            let what = format!("{mode} [{protocol}] {who} {path}");
            if response.status != *status {
                problems.push(format!("{what}: {} {}", response.status, response.body));
                continue;
            }
            let echo = response.echo().unwrap();
            match (status, reason) {
                (200, _) => {
                    let role = echo.as_ref().map(|e| e.header_values("x-client-role"));
                    let want: Vec<&str> = if who == "clinician-alice" {
                        vec!["clinician"]
                    } else {
                        vec![]
                    };
                    if role.as_deref() != Some(&want[..]) {
                        problems.push(format!("{what}: upstream x-client-role {role:?}"));
                    }
                }
                (_, Some(reason)) => {
                    let got = filter_reason(nginx, &response);
                    if got.as_deref() != Some(*reason) || echo.is_some() {
                        problems.push(format!(
                            "{what}: filter reason {got:?}, body {}",
                            response.body
                        ));
                    }
                }
                // NGINX's own page, not the filter's JSON.
                (_, None) => {
                    if response.header("content-type") == Some("application/json") || echo.is_some()
                    {
                        problems.push(format!(
                            "{what}: expected NGINX's own 400, got {}",
                            response.body
                        ));
                    }
                }
            }
        }
    }
    for (label, scenario) in &scenarios {
        let unexpected = unexpected_log_lines(&scenario.nginx.log()).join("\n");
        assert!(unexpected.is_empty(), "{label}: {unexpected}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// With `"host": "auto"` the filter recognises NGINX by `ngx.request_uri` before it reads any
/// certificate property: no `[alert] NYI - "connection.sha256_peer_certificate_digest"`.
#[test]
fn auto_reads_no_envoy_property_in_nginx() {
    let policy = examples::with_host(&load_policy("healthcare"), "auto").unwrap();
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(vec![Spec::new("auto", "healthcare", policy)], &upstream);
    let nginx = &scenarios["auto"].nginx;
    for protocol in Protocol::ALL {
        for _ in 0..3 {
            let response = clinician_request(nginx.port(), protocol, &[]).unwrap();
            assert_eq!(response.status, 200, "{}", response.body);
            let echo = response.echo().unwrap().unwrap();
            assert_eq!(echo.header_values("x-client-role"), ["clinician"]);
        }
    }
    let log = nginx.log();
    assert!(log.contains("host=Auto"), "{log}");
    assert!(unexpected_log_lines(&log).is_empty(), "{log}");
}

/// Every request examples/nginx/README.md shows (the Envoy demo's requests, with NGINX's
/// outcome where it differs) returns the status it claims on both protocols, against the
/// example configuration — and the README shows every one of them.
#[test]
fn the_example_requests_return_what_the_nginx_readme_says() {
    let readme_path = paths::repo_root().join("examples/nginx/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let files: Vec<_> = demo::SCENARIOS
        .iter()
        .map(|s| demo::load(s).unwrap())
        .collect();
    let upstream = EchoServer::start(0).unwrap();
    let specs = files
        .iter()
        .map(|f| Spec::new(&f.policy, &f.policy, nginx_policy(&f.policy)))
        .collect();
    let scenarios = start_scenarios(specs, &upstream);
    let mut problems = Vec::new();
    for file in &files {
        let port = scenarios[&file.policy].nginx.port();
        problems.extend(replay::demo_request_problems(
            file,
            demo::Proxy::Nginx,
            port,
            &readme,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The committed example itself (not a render with test paths) starts in NGINX from the
/// repository root, as its README says, and configures the filter.
#[test]
fn the_committed_example_starts_as_its_readme_says() {
    let wasm = wasm::locate_or_build().unwrap();
    let nginx_bin = nginx::binary().unwrap();
    let mut config = examples::nginx_example_config("healthcare", "target/nginx").unwrap();
    assert_eq!(
        config.render().unwrap(),
        std::fs::read_to_string(paths::repo_root().join("examples/nginx/nginx.conf")).unwrap(),
        "examples/nginx/nginx.conf is stale"
    );
    // The example as committed, but with this run's .wasm and free ports, logs in a run dir.
    let upstream = EchoServer::start(0).unwrap();
    config.wasm = wasm;
    config.upstream = Some(upstream.addr());
    config.certs = mtls_authz_fixtures::fixtures_dir().join("certs");
    let nginx = Nginx::start_on_free_port(&nginx_bin, "example", &config).unwrap();
    let response = clinician_request(nginx.port(), Protocol::Http2, &[]).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(nginx.log().contains("host=Nginx"));
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// Request trailers, where Envoy forwards them (and the filter strips protected names in
/// `on_http_request_trailers`): NGINX never forwards them and ngx_wasm_module never calls
/// that hook (3bed2783 resolves the export but has no request-trailers step). Over HTTP/1.1
/// the chunked parser discards the trailer section: the request is served, the upstream sees
/// the body and no trailer, the filter never logs a stripped trailer. Over HTTP/2 a HEADERS
/// frame after the request's first is a connection error: no response, nothing upstream.
#[test]
fn request_trailers_never_reach_the_filter_or_the_upstream() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![Spec::new(
            "trailers",
            "healthcare",
            nginx_policy("healthcare"),
        )],
        &upstream,
    );
    let nginx = &scenarios["trailers"].nginx;
    let headers = pairs(&[("content-type", "text/plain")]);
    let trailers = pairs(&[
        ("x-client-role", "admin"),
        ("x-forwarded-client-cert", "By=x;Cert=y"),
        ("x-checksum", "abc123"),
    ]);
    // The admin may write: the filter forwards the request (a denied one is answered at
    // its headers, before any trailer arrives).
    let send = |protocol| {
        replay::send_python(
            nginx.port(),
            protocol,
            "healthcare/admin-bob",
            "POST",
            "/patient-records/1",
            PythonExtras {
                headers: &headers,
                body: Some("hello"),
                trailers: &trailers,
                ..PythonExtras::default()
            },
        )
        .unwrap()
        .remove(0)
        .0
    };

    let before = upstream.requests_served();
    let Outcome::Response(response) = send(Protocol::Http1) else {
        panic!("HTTP/1.1: no response");
    };
    assert_eq!(response.status, 200, "{}", response.body);
    let echo = response.echo().unwrap().unwrap();
    assert_eq!(echo.body_bytes, 5, "the body is forwarded");
    assert!(
        echo.trailers.is_empty(),
        "NGINX forwarded request trailers: {:?}",
        echo.trailers
    );
    assert_eq!(echo.header_values("x-client-role"), ["admin"]);
    assert_eq!(upstream.requests_served(), before + 1);

    let outcome = send(Protocol::Http2);
    assert!(
        matches!(outcome, Outcome::NoResponse { .. }),
        "HTTP/2 request trailers got {outcome:?}"
    );
    assert_eq!(
        upstream.requests_served(),
        before + 1,
        "the HTTP/2 request reached the upstream"
    );
    let log = nginx.log();
    assert!(
        log.contains("client sent HEADERS frame with incorrect identifier"),
        "NGINX's HTTP/2 refusal of request trailers is not in the log:\n{log}"
    );
    assert!(
        !log.contains("request trailers removed"),
        "the filter saw request trailers in NGINX:\n{log}"
    );
    assert!(unexpected_log_lines(&log).is_empty(), "{log}");
}

/// `form_body_check` in NGINX: ngx_wasm_module reads the whole client body before
/// `proxy_pass` runs and calls `on_http_request_body` once, with end of stream, so the
/// filter's check and its local 400 work as in Envoy (the method-override table's body cases
/// run on NGINX too). But a body larger than `client_body_buffer_size` is written to a temp
/// file that ngx_wasm_module does not hand to filters (it reports the size and then no body):
/// the filter must not take that for an empty body. It answers 500 and logs why; with the
/// buffer raised to `max_bytes` the same body is checked (and its override refused).
#[test]
fn form_bodies_nginx_cannot_hand_over_are_refused() {
    let mut doc: serde_json::Value = serde_json::from_str(&nginx_policy("hardened")).unwrap();
    doc["form_body_check"]["max_bytes"] = 65536.into();
    let policy = doc.to_string();
    let mut raised = Spec::new("buffer-64k", "hardened", policy.clone());
    raised.client_body_buffer_size = Some("64k");
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![Spec::new("buffer-default", "hardened", policy), raised],
        &upstream,
    );
    let form = pairs(&[("content-type", "application/x-www-form-urlencoded")]);
    // 20 KB: over NGINX's default client_body_buffer_size (16k), under max_bytes.
    let large_override = format!("a={}&_method=DELETE", "x".repeat(20_000));
    let large_ordinary = format!("a={}", "x".repeat(20_000));
    let mut problems = Vec::new();
    for protocol in Protocol::ALL {
        for (label, body, status, reason) in [
            (
                "buffer-default",
                "a=1&_method=DELETE",
                400,
                "bad_request:method_override",
            ),
            ("buffer-default", "a=1&b=2", 200, "allow"),
            ("buffer-default", large_ordinary.as_str(), 500, "host_error"),
            ("buffer-default", large_override.as_str(), 500, "host_error"),
            (
                "buffer-64k",
                large_override.as_str(),
                400,
                "bad_request:method_override",
            ),
            ("buffer-64k", large_ordinary.as_str(), 200, "allow"),
        ] {
            let nginx = &scenarios[label].nginx;
            let what = format!("{label} [{protocol}] {} bytes", body.len());
            let outcome = replay::send_python(
                nginx.port(),
                protocol,
                "healthcare/admin-bob",
                "POST",
                "/patient-records/1",
                PythonExtras {
                    headers: &form,
                    body: Some(body),
                    ..PythonExtras::default()
                },
            )
            .unwrap()
            .remove(0)
            .0;
            let Outcome::Response(response) = outcome else {
                problems.push(format!("{what}: no response: {outcome:?}"));
                continue;
            };
            if response.status != status {
                problems.push(format!("{what}: {} {}", response.status, response.body));
                continue;
            }
            let echo = response.echo().unwrap();
            match status {
                200 => {
                    if echo.as_ref().map(|e| e.body_bytes) != Some(body.len()) {
                        problems.push(format!(
                            "{what}: upstream body {:?}",
                            echo.map(|e| e.body_bytes)
                        ));
                    }
                }
                _ => {
                    if echo.is_some() {
                        problems.push(format!("{what}: refused, but the upstream saw it"));
                    }
                    let body: serde_json::Value =
                        serde_json::from_str(&response.body).unwrap_or_default();
                    let id = body["request_id"].as_str().unwrap_or("?");
                    let log = nginx.log();
                    let line = log.lines().find(|l| l.contains(id));
                    let logged = line.is_some_and(|l| {
                        l.contains(reason)
                            && (status != 500 || l.contains("client_body_buffer_size"))
                    });
                    if !logged {
                        problems.push(format!("{what}: log line for {id}: {line:?}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// NGINX reports `ssl_client_verify` from the session on a resumed TLS session (Envoy 1.40
/// reports `peer_certificate_valid` false there, hence its `peer_verification` setting): a
/// verified client is served on every resumed connection, and a certificate NGINX could not
/// verify (`optional_no_ca`) stays `certificate_unverified` on every one — with
/// `"peer_verification": "listener"` too, which changes nothing in NGINX: the filter reads
/// NGINX's verdict for every connection whatever the setting.
#[test]
fn resumed_tls_sessions_keep_nginx_verification() {
    let mut no_ca = Spec::new(
        "listener-verified-no-ca",
        "listener-verified",
        nginx_policy("listener-verified"),
    );
    no_ca.verify_client = "optional_no_ca";
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![
            Spec::new("healthcare", "healthcare", nginx_policy("healthcare")),
            no_ca,
        ],
        &upstream,
    );
    let mut problems = Vec::new();
    for protocol in Protocol::ALL {
        for (label, cert, method, want) in [
            ("healthcare", "healthcare/clinician-alice", "GET", 200),
            (
                "listener-verified-no-ca",
                "healthcare/admin-bob",
                "DELETE",
                200,
            ),
            (
                "listener-verified-no-ca",
                "attack/self-signed-admin",
                "DELETE",
                401,
            ),
        ] {
            let nginx = &scenarios[label].nginx;
            let got = replay::statuses(
                &replay::send_python(
                    nginx.port(),
                    protocol,
                    cert,
                    method,
                    "/patient-records/1",
                    PythonExtras {
                        connections: 3,
                        ..PythonExtras::default()
                    },
                )
                .unwrap(),
            );
            let want = [(Some(want), false), (Some(want), true), (Some(want), true)];
            if got != want {
                problems.push(format!(
                    "{label} [{protocol}] {cert}: {got:?} (expected {want:?})"
                ));
            }
        }
    }
    let log = scenarios["listener-verified-no-ca"].nginx.log();
    let refusals = log
        .lines()
        .filter(|l| l.contains("reason=unauthenticated:certificate_unverified"))
        .count();
    if refusals != 6 {
        problems.push(format!(
            "{refusals} certificate_unverified log lines (expected 6: 3 connections x 2 protocols)"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// NGINX forwards the request-target as sent, so a query with raw bytes >= 0x80 (not UTF-8)
/// reaches the upstream byte for byte; the filter authorises the same bytes
/// (`ngx.request_uri`). HTTP/1.1 and HTTP/2 (Envoy's HTTP/1 codec refuses such a target).
#[test]
fn raw_query_bytes_reach_the_upstream_as_sent() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![Spec::new("raw", "healthcare", nginx_policy("healthcare"))],
        &upstream,
    );
    let nginx = &scenarios["raw"].nginx;
    let sent: &[u8] = b"/patient-records/1?q=\xff\xfe&r=%80&s=\xc3\xa9";
    for protocol in Protocol::ALL {
        let outcome = replay::send_python(
            nginx.port(),
            protocol,
            "healthcare/clinician-alice",
            "GET",
            "",
            PythonExtras {
                raw_target: Some(sent),
                ..PythonExtras::default()
            },
        )
        .unwrap()
        .remove(0)
        .0;
        let Outcome::Response(response) = outcome else {
            panic!("[{protocol}] no response: {outcome:?}");
        };
        assert_eq!(response.status, 200, "[{protocol}] {}", response.body);
        let echo = response.echo().unwrap().unwrap();
        assert_eq!(
            echo.path_hex,
            mtls_authz_e2e::echo::encode_hex(sent),
            "[{protocol}] upstream target {:?}",
            echo.path
        );
        assert_eq!(echo.header_values("x-client-role"), ["clinician"]);
    }
}

/// curl over HTTP/1.x with no `Host` header at all (`-H 'Host:'` removes curl's own).
fn without_host(port: u16, http10: bool) -> (u16, String) {
    let authority = format!("localhost:{port}");
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            "20",
        ])
        .arg(if http10 { "--http1.0" } else { "--http1.1" })
        .arg("--resolve")
        .arg(format!("{authority}:127.0.0.1"))
        .arg("--cacert")
        .arg(mtls_authz_fixtures::ca_bundle_path())
        .arg("--cert")
        .arg(mtls_authz_fixtures::cert_pem_path(
            "healthcare/clinician-alice",
        ))
        .arg("--key")
        .arg(mtls_authz_fixtures::key_path("healthcare/clinician-alice"))
        .args(["--header", "Host:", "--write-out", "\n%{http_code}"])
        .arg(format!("https://{authority}/patient-records/1"))
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

/// v1.1 `hosts` (case `h-missing` on the real NGINX): HTTP/1.0 may omit `Host`, and the
/// filter refuses a request without an authority under a policy with `hosts` (its JSON 400);
/// HTTP/1.1 without `Host` is NGINX's own 400 (HTML) before any filter runs. A policy without
/// `hosts` allows the HTTP/1.0 request as before.
#[test]
fn a_request_without_host_under_a_hosts_policy() {
    let upstream = EchoServer::start(0).unwrap();
    let scenarios = start_scenarios(
        vec![
            Spec::new("hosts", "hosts", nginx_policy("hosts")),
            Spec::new("v1", "healthcare", nginx_policy("healthcare")),
        ],
        &upstream,
    );
    let hosts = scenarios["hosts"].nginx.port();
    let (status, body) = without_host(hosts, true);
    assert_eq!(status, 400, "HTTP/1.0 without Host: {body}");
    let json: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("the filter's JSON deny body, not NGINX's ({e}): {body}"));
    assert_eq!(json["error"], "bad_request");
    let (status, body) = without_host(hosts, false);
    assert_eq!(status, 400, "HTTP/1.1 without Host: {body}");
    assert!(body.contains("<html>"), "NGINX's own 400: {body}");
    let (status, body) = without_host(scenarios["v1"].nginx.port(), true);
    assert_eq!(status, 200, "HTTP/1.0 without Host, v1 policy: {body}");
}
