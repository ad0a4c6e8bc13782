//! Differential path normalisation against the real Envoy and the real NGINX (issue 15, part 2).
//!
//! `tests/e2e/path_diff.py` generates request-targets deterministically (dot segments raw and
//! encoded in any mix, `%2F`/`%5C` in any case, `;` parameters, repeated slashes, `%25` and
//! double encoding, UTF-8 and overlong forms, control bytes, query and fragment variants,
//! backslashes, absolute-form) and sends each, byte for byte, over mutual TLS on HTTP/1.1 and
//! HTTP/2 to four Envoys rendered from the shipped template: the shipped connection manager
//! (no path options) and one that normalises (`normalize_path`, `merge_slashes`,
//! `path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT`), each with mtls-authz and without.
//! The policy allows every path to the client, so the filter's decision is its path decision.
//!
//! For every target, with `P0` what the upstream received WITHOUT the filter (the `:path` the
//! filter is handed, after Envoy's own normalisation) and `P1` what it received WITH it:
//! - the filter forwarded ⇒ Envoy forwards it without the filter too, and `P1` is exactly the
//!   core's normalisation of `P0`: what was authorised is what reached the upstream;
//! - the filter did not forward what Envoy forwards ⇒ a 400 and the core refuses `P0`;
//! - behind the normalising connection manager (the issue's rule), the filter forwarded ⇒
//!   what it forwards names the same resource (decoded segments and query) as what Envoy
//!   forwards without it; only the spelling may differ (upper-case hex, `//` → `/`). A
//!   different resource is a disagreement, and there must be none;
//! - the two normalisers on the same raw target — the filter's (shipped manager, handed the
//!   target as sent) and Envoy's (normalising manager, no filter) — name the same resource, or
//!   one of them refuses. The one known exception is counted on its own line (an empty segment
//!   before `..`, see [`empty_segment_before_dot_dot`]); any other difference fails the test.
//!
//! NGINX (the same targets, to NGINX rendered from `examples/nginx/nginx.conf.j2`, with and
//! without the filter; the filter decides `ngx.request_uri` with `Policy::evaluate_as_sent`
//! and NGINX forwards the target as sent), with `P0`, `P1` as above:
//! - the filter forwarded ⇒ `P1` is `P0` (as sent), the core allows `P0`, and NGINX's own
//!   `$uri` (what its `location` matching routes on, sent to the upstream by a test-only
//!   `proxy_set_header`) has the decoded segments the core authorised; another resource is
//!   a disagreement, and there must be none;
//! - the filter did not forward what NGINX forwards ⇒ a 400 and the core refuses `P0`;
//! - NGINX answers itself ⇒ with the filter it does not forward either;
//! - reported, and asserted only in that the filter refused them: where the core's reading
//!   (`normalize_path`) and `$uri` name different resources.
//!
//! `PATH_DIFF_TARGETS` (default 400 for Envoy: about 90 s on a busy 2-core machine; 1000 for
//! NGINX: about 35 s) and `PATH_DIFF_SEED` (default 15) choose the targets; the long run is
//! `PATH_DIFF_TARGETS=20000 cargo test -p mtls-authz-e2e --test path_diff -- --nocapture`
//! (tests/e2e/README.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken setup must stop the run with its message"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};

use std::path::PathBuf;

use mtls_authz_core::path::normalize_path;
use mtls_authz_core::{ClientCert, Decision, Identity, Policy, Request, UnixTime};
use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::measure::env_number;
use mtls_authz_e2e::nginx::{self, Nginx, NginxConfig};
use mtls_authz_e2e::replay::{self, client_identity, report};
use mtls_authz_e2e::{examples, paths, wasm, E2eError};

/// Every path allowed to any verified client: the filter's decision is its path decision.
const ALLOW_EVERY_PATH: &str = r#"{"mode": "enforce", "rules": [{"name": "everything", "paths": ["/**"], "allow": ["authenticated"]}]}"#;

/// The connection-manager options of the normalising variant, inserted after the shipped
/// template's `stat_prefix` line.
const NORMALISING_HCM: &str = "          normalize_path: true\n          merge_slashes: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT\n";
const STAT_PREFIX_LINE: &str = "          stat_prefix: mtls_authz\n";

/// The fixture client (a verified certificate).
const CLIENT: &str = "healthcare/clinician-alice";

/// One answer: status (None: no response), what reached the upstream (hex), the proxy's own
/// reading of the path the upstream received (NGINX: `x-nginx-uri`), redirect target.
#[derive(Clone, Debug, Default)]
struct Answer {
    status: Option<u16>,
    upstream: Option<Vec<u8>>,
    header: Option<String>,
    location: Option<String>,
    error: Option<String>,
    millis: f64,
}

impl Answer {
    fn show(&self) -> String {
        match (&self.upstream, self.status, &self.error) {
            (Some(up), Some(s), _) => match &self.header {
                Some(h) => format!("{s} upstream {:?} ({h:?})", String::from_utf8_lossy(up)),
                None => format!("{s} upstream {:?}", String::from_utf8_lossy(up)),
            },
            (None, Some(s), _) => match &self.location {
                Some(loc) => format!("{s} location {loc:?}"),
                None => format!("{s} (not forwarded)"),
            },
            (_, None, err) => format!("no response ({})", err.as_deref().unwrap_or("?")),
        }
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Per (proxy variant, protocol): the table the README reports.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    targets: usize,
    /// Envoy: forwarded with the filter, to the same path (byte for byte) as without it.
    /// NGINX: forwarded as sent, and that is byte for byte the path the core authorised.
    agreements: usize,
    /// Envoy: forwarded with the filter to the filter's spelling of what Envoy forwards
    /// without it: the same decoded segments and query (behind the normalising manager: hex
    /// case, `//`), or (shipped manager) the normalised path the filter wrote into `:path`.
    /// NGINX: forwarded as sent, a re-spelling (hex case, unreserved escapes) of the path the
    /// core authorised.
    rewritten: usize,
    /// The proxy forwards it, the filter refused it (400).
    refusals: usize,
    /// The proxy answers itself (codec or parser 400, redirect, reset) with or without the
    /// filter.
    proxy_answered: usize,
    /// Forwarded with the filter to (Envoy) a path other than Envoy's own or (NGINX) a
    /// resource, by NGINX's `$uri`, other than the one authorised: the issue's rule.
    disagreements: usize,
    /// Broke one of the invariants above (listed in the failure).
    problems: usize,
}

impl Tally {
    /// One table row after `first` (the variant and protocol columns).
    fn report(&self, first: &str) {
        report(&format!(
            "| {first} | {} | {} | {} | {} | {} | {} |",
            self.targets,
            self.agreements,
            self.rewritten,
            self.refusals,
            self.proxy_answered,
            self.disagreements
        ));
        assert_eq!(
            self.targets,
            self.agreements
                + self.rewritten
                + self.refusals
                + self.proxy_answered
                + self.disagreements
                + self.problems,
            "every target counted once"
        );
    }
}

/// The filter on raw targets against Envoy's normaliser on the same targets.
#[derive(Clone, Copy, Debug, Default)]
struct Normalisers {
    targets: usize,
    same_resource: usize,
    filter_refused: usize,
    envoy_refused: usize,
    both_refused: usize,
    /// Different resources, and the target has an empty segment before a `..` (the known
    /// difference, see [`empty_segment_before_dot_dot`]).
    empty_then_dot_dot: usize,
    disagreements: usize,
}

/// The one known difference between the two readings: the core drops empty segments before it
/// resolves `..` (`/public//../admin` is `/admin`), RFC 3986 and Envoy's `normalize_path`
/// resolve first and merge after (`/public/admin`). Not a bypass in any host the filter runs
/// in: Envoy forwards the path the filter wrote (`/admin`, the one it authorised), or, with a
/// normalising connection manager, hands the filter its own reading; NGINX refuses the target
/// (`path_not_normalized`), and reads it as the core does anyway (it merges slashes before it
/// resolves `..`: `$uri` is `/admin`). Fixture case `p-empty-segment-before-dot-dot`.
fn empty_segment_before_dot_dot(target: &[u8]) -> bool {
    let text = String::from_utf8_lossy(target)
        .replace("%2e", ".")
        .replace("%2E", ".");
    let path = text
        .strip_prefix("http://localhost")
        .unwrap_or(&text)
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .iter()
        .enumerate()
        .skip(1)
        .any(|(i, s)| s.is_empty() && i + 1 < segments.len() && segments[i + 1..].contains(&".."))
}

/// The decoded segments and the query of a forwarded path, as the core reads them (None: the
/// core refuses it).
fn decoded(path: &[u8]) -> Option<(Vec<String>, Option<String>)> {
    normalize_path(&String::from_utf8_lossy(path))
        .ok()
        .map(|n| (n.segments, n.query))
}

/// One target through one connection manager, without and with the filter.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; the tallies are the test's"
)]
fn judge(
    manager: &str,
    protocol: &str,
    target: &[u8],
    without: &Answer,
    with: &Answer,
    tally: &mut Tally,
    problems: &mut Vec<String>,
    disagreements: &mut Vec<String>,
) {
    tally.targets += 1;
    let shown = String::from_utf8_lossy(target);
    let describe = || {
        format!(
            "{manager} {protocol} {shown:?}: without the filter {}, with it {}",
            without.show(),
            with.show()
        )
    };
    let Some(seen) = forwarded_without_filter(without, with, tally, problems, &describe) else {
        return;
    };
    let before = problems.len();
    match (
        &with.upstream,
        normalize_path(&String::from_utf8_lossy(seen)),
    ) {
        (Some(forwarded), Ok(authorised)) => {
            if forwarded != authorised.upstream().as_bytes() {
                problems.push(format!(
                    "forwarded {:?}, authorised {:?}: {}",
                    String::from_utf8_lossy(forwarded),
                    authorised.upstream(),
                    describe()
                ));
            } else if forwarded == seen {
                tally.agreements += 1;
            } else if decoded(forwarded) == decoded(seen) {
                tally.rewritten += 1;
            } else {
                tally.disagreements += 1;
                disagreements.push(describe());
            }
        }
        (Some(_), Err(err)) => problems.push(format!(
            "forwarded although the core refuses it ({err}): {}",
            describe()
        )),
        (None, Err(_)) if with.status == Some(400) => tally.refusals += 1,
        (None, Err(err)) => problems.push(format!(
            "the core refuses it ({err}) but the answer was not 400: {}",
            describe()
        )),
        (None, Ok(_)) => problems.push(format!(
            "refused although the core allows it: {}",
            describe()
        )),
    }
    tally.problems += problems.len() - before;
}

/// What the proxy forwarded without the filter; `None` when it answered itself, which the
/// tally counts — and with the filter it must not forward either (else a problem).
fn forwarded_without_filter<'a>(
    without: &'a Answer,
    with: &Answer,
    tally: &mut Tally,
    problems: &mut Vec<String>,
    describe: &dyn Fn() -> String,
) -> Option<&'a Vec<u8>> {
    if without.upstream.is_none() {
        if with.upstream.is_some() {
            problems.push(format!("forwarded only with the filter: {}", describe()));
            tally.problems += 1;
        } else {
            tally.proxy_answered += 1;
        }
    }
    without.upstream.as_ref()
}

/// Every target sent to every listener on both protocols, as `path_diff.py` answered.
struct Driven {
    targets: Vec<Vec<u8>>,
    /// Keyed by (listener, protocol, target index).
    answers: BTreeMap<(String, String, usize), Answer>,
    elapsed: std::time::Duration,
}

impl Driven {
    /// The summary line: how many, how long, and the slowest three answers.
    fn report(&self, seed: usize) {
        let mut slowest: Vec<_> = self.answers.iter().collect();
        slowest.sort_by(|a, b| b.1.millis.total_cmp(&a.1.millis));
        report(&format!(
            "path diff: {} targets (seed {seed}), {} requests in {:.1}s; slowest: {}",
            self.targets.len(),
            self.answers.len(),
            self.elapsed.as_secs_f64(),
            slowest
                .iter()
                .take(3)
                .map(|((l, p, i), a)| format!(
                    "{l} {p} {:?} {}ms ({})",
                    String::from_utf8_lossy(&self.targets[*i]),
                    a.millis,
                    a.show()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
}

/// Runs `path_diff.py` against `listeners` and reads what it printed; `echo_header` names the
/// request header whose value the upstream received is kept ([`Answer::header`]).
fn drive(
    listeners: &BTreeMap<String, u16>,
    count: usize,
    seed: usize,
    echo_header: Option<&str>,
) -> Driven {
    let started = std::time::Instant::now();
    let lines = run_driver(listeners, count, seed, echo_header);
    let elapsed = started.elapsed();
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let targets: Vec<Vec<u8>> = first["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| hex_decode(t.as_str().unwrap()))
        .collect();
    assert_eq!(targets.len(), count);
    let mut answers = BTreeMap::new();
    for line in &lines[1..] {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let answer = Answer {
            status: v["status"].as_u64().map(|s| u16::try_from(s).unwrap()),
            upstream: v["upstream"].as_str().map(hex_decode),
            header: v["header"].as_str().map(str::to_owned),
            location: v["location"].as_str().map(str::to_owned),
            error: v["error"].as_str().map(str::to_owned),
            millis: v["ms"].as_f64().unwrap_or(0.0),
        };
        let key = (
            v["l"].as_str().unwrap().to_owned(),
            v["p"].as_str().unwrap().to_owned(),
            usize::try_from(v["i"].as_u64().unwrap()).unwrap(),
        );
        answers.insert(key, answer);
    }
    assert_eq!(
        answers.len(),
        count * listeners.len() * 2,
        "every target on every listener and protocol"
    );
    Driven {
        targets,
        answers,
        elapsed,
    }
}

fn run_driver(
    listeners: &BTreeMap<String, u16>,
    count: usize,
    seed: usize,
    echo_header: Option<&str>,
) -> Vec<String> {
    let root = paths::repo_root();
    let client = client_identity(CLIENT);
    let spec = serde_json::json!({
        "ca": mtls_authz_fixtures::ca_bundle_path(),
        "cert": client.cert,
        "key": client.key,
        "listeners": listeners,
        "count": count,
        "seed": seed,
        "protocols": ["h1", "h2"],
        "echo_header": echo_header,
    });
    let mut child = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/e2e/path_diff.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect(
            "running .venv/bin/python tests/e2e/path_diff.py (scripts/test.sh creates it with h2)",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "path_diff.py failed: {status}");
    lines
}

#[test]
fn envoy_never_forwards_a_path_other_than_the_one_mtls_authz_authorised() {
    let count = usize::try_from(env_number("PATH_DIFF_TARGETS", 400)).unwrap();
    let seed = usize::try_from(env_number("PATH_DIFF_SEED", 15)).unwrap();
    let wasm = wasm::locate_or_build().unwrap();
    let envoy_bin = envoy::binary().unwrap();
    let upstream = EchoServer::start(0).unwrap();

    // (label, normalising connection manager, filter)
    let variants: Vec<(String, bool, bool)> = [
        ("shipped+filter", false, true),
        ("shipped", false, false),
        ("normalising+filter", true, true),
        ("normalising", true, false),
    ]
    .iter()
    .map(|(l, n, f)| ((*l).to_owned(), *n, *f))
    .collect();
    let envoys: BTreeMap<String, Envoy> = replay::start_in_parallel(
        "Envoy",
        &variants,
        |(label, _, _)| label.clone(),
        |(label, normalising, filter)| {
            let setup = filter.then(|| FilterSetup {
                wasm: wasm.clone(),
                policy: ALLOW_EVERY_PATH.to_owned(),
            });
            let mut config = EnvoyConfig::with_fixture_certs(upstream.addr().port(), setup);
            config.access_log = false;
            let mut yaml = config.render().map_err(|e| e.to_string())?;
            if *normalising {
                if yaml.matches(STAT_PREFIX_LINE).count() != 1 {
                    return Err(format!(
                        "the template no longer has one {STAT_PREFIX_LINE:?}"
                    ));
                }
                yaml = yaml.replace(
                    STAT_PREFIX_LINE,
                    &format!("{STAT_PREFIX_LINE}{NORMALISING_HCM}"),
                );
            }
            Envoy::start(
                &envoy_bin,
                &format!("pathdiff-{}", label.replace('+', "-")),
                &yaml,
            )
            .map_err(|e| e.to_string())
        },
    );
    let listeners: BTreeMap<String, u16> = envoys
        .iter()
        .map(|(label, envoy)| (label.clone(), envoy.listener_port().unwrap()))
        .collect();

    let driven = drive(&listeners, count, seed, None);
    let (targets, answers) = (&driven.targets, &driven.answers);

    let mut problems = Vec::new();
    let mut disagreements = Vec::new();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut normalisers: BTreeMap<String, Normalisers> = BTreeMap::new();
    for protocol in ["h1", "h2"] {
        for manager in ["shipped", "normalising"] {
            let tally = tallies
                .entry((manager.to_owned(), protocol.to_owned()))
                .or_default();
            for (index, target) in targets.iter().enumerate() {
                let without = &answers[&(manager.to_owned(), protocol.to_owned(), index)];
                let with = &answers[&(format!("{manager}+filter"), protocol.to_owned(), index)];
                judge(
                    manager,
                    protocol,
                    target,
                    without,
                    with,
                    tally,
                    &mut problems,
                    &mut disagreements,
                );
            }
        }
        // The two normalisers on the same raw target: the filter's (shipped manager: it is
        // handed the target as sent) against Envoy's (normalising manager, no filter).
        let compared = normalisers.entry(protocol.to_owned()).or_default();
        for (index, target) in targets.iter().enumerate() {
            let filter = &answers[&("shipped+filter".to_owned(), protocol.to_owned(), index)];
            let envoy = &answers[&("normalising".to_owned(), protocol.to_owned(), index)];
            compared.targets += 1;
            match (&filter.upstream, &envoy.upstream) {
                (Some(authorised), Some(routed)) => {
                    if decoded(authorised).is_some() && decoded(authorised) == decoded(routed) {
                        compared.same_resource += 1;
                    } else if empty_segment_before_dot_dot(target) {
                        compared.empty_then_dot_dot += 1;
                    } else {
                        compared.disagreements += 1;
                        disagreements.push(format!(
                            "{protocol} {:?}: the filter authorised {:?}, Envoy's normaliser forwards {:?}",
                            String::from_utf8_lossy(target),
                            String::from_utf8_lossy(authorised),
                            String::from_utf8_lossy(routed)
                        ));
                    }
                }
                (None, Some(_)) => compared.filter_refused += 1,
                (Some(_), None) => compared.envoy_refused += 1,
                (None, None) => compared.both_refused += 1,
            }
        }
    }
    driven.report(seed);
    report("| connection manager | protocol | targets | same path | same path, filter's spelling | refused by the filter (400) | answered by Envoy | disagreements |");
    report("|---|---|---|---|---|---|---|---|");
    for ((manager, protocol), t) in &tallies {
        t.report(&format!("{manager} | {protocol}"));
    }
    report("| raw target: filter vs Envoy's normaliser | targets | same resource | filter refused, Envoy forwards | filter allowed, Envoy refuses or redirects | both refuse | empty segment before `..` (known) | disagreements |");
    report("|---|---|---|---|---|---|---|---|");
    for (protocol, n) in &normalisers {
        report(&format!(
            "| {protocol} | {} | {} | {} | {} | {} | {} | {} |",
            n.targets,
            n.same_resource,
            n.filter_refused,
            n.envoy_refused,
            n.both_refused,
            n.empty_then_dot_dot,
            n.disagreements
        ));
        assert_eq!(
            n.targets,
            n.same_resource
                + n.filter_refused
                + n.envoy_refused
                + n.both_refused
                + n.empty_then_dot_dot
                + n.disagreements,
            "every target counted once"
        );
    }
    fail_on(&problems, &disagreements);
}

/// Prints the disagreements, then fails when there is any, or any problem.
fn fail_on(problems: &[String], disagreements: &[String]) {
    for line in disagreements.iter().take(50) {
        report(&format!("DISAGREEMENT {line}"));
    }
    assert!(
        problems.is_empty() && disagreements.is_empty(),
        "{} problems, {} disagreements:\n{}",
        problems.len(),
        disagreements.len(),
        problems
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The line of the shipped NGINX template after which the NGINX with the filter gets
/// [`NGINX_URI_LINE`].
const NGINX_CONNECTION_LINE: &str = "            proxy_set_header   Connection \"\";\n";
/// Test-only: NGINX's normalised `$uri` (what its `location` matching routes on) to the
/// upstream, between `<` and `>` so that the echo's trimming keeps a trailing (decoded) space.
/// Not in the NGINX whose forwarding is judged without the filter: a decoded CR or LF (which
/// the core refuses) breaks the request NGINX forwards; a third one, only for the readings
/// table, has it.
const NGINX_URI_LINE: &str = "            proxy_set_header   x-nginx-uri \"<$uri>\";\n";
const NGINX_URI_HEADER: &str = "x-nginx-uri";

/// The core as the filter runs it in NGINX: [`ALLOW_EVERY_PATH`] with `"host": "nginx"`, the
/// request-target as sent (`ngx.request_uri`) decided for the fixture client with
/// `Policy::evaluate_as_sent`.
struct NginxOracle {
    policy: Policy,
    identity: Identity,
}

impl NginxOracle {
    fn new(policy: &str) -> Self {
        let pem = std::fs::read(client_identity(CLIENT).cert).unwrap();
        Self {
            policy: Policy::from_json(policy).unwrap(),
            identity: Identity::from_pem(&pem).unwrap(),
        }
    }

    fn decide(&self, target: &[u8]) -> Decision {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        self.policy.evaluate_as_sent(
            &Request {
                method: "GET",
                path: &String::from_utf8_lossy(target),
            },
            ClientCert::Present(&self.identity),
            UnixTime(now),
        )
    }
}

/// The segments NGINX routes on: `$uri` as the upstream received it (`<...>`), split at `/`,
/// empty segments dropped (NGINX merges slashes; the core's segments have none).
fn nginx_segments(header: &str) -> Option<Vec<String>> {
    let uri = header.strip_prefix('<')?.strip_suffix('>')?;
    Some(
        uri.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// One target through NGINX without and with the filter. `reasons` counts the core's reasons
/// for the filter's refusals.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; the tallies are the test's"
)]
fn judge_nginx(
    protocol: &str,
    target: &[u8],
    without: &Answer,
    with: &Answer,
    oracle: &NginxOracle,
    tally: &mut Tally,
    reasons: &mut BTreeMap<String, usize>,
    problems: &mut Vec<String>,
    disagreements: &mut Vec<String>,
) {
    tally.targets += 1;
    let shown = String::from_utf8_lossy(target);
    let describe = || {
        format!(
            "NGINX {protocol} {shown:?}: without the filter {}, with it {}",
            without.show(),
            with.show()
        )
    };
    let Some(seen) = forwarded_without_filter(without, with, tally, problems, &describe) else {
        return;
    };
    let before = problems.len();
    // What NGINX hands the filter (`ngx.request_uri`) is what it forwards without it.
    let decision = oracle.decide(seen);
    let authorised = decision
        .upstream_path
        .as_deref()
        .filter(|_| decision.is_allowed());
    match (&with.upstream, authorised) {
        (Some(forwarded), Some(authorised)) => {
            let resource = decoded(seen).map(|(segments, _)| segments);
            if forwarded != seen {
                problems.push(format!(
                    "forwarded {:?} with the filter: {}",
                    String::from_utf8_lossy(forwarded),
                    describe()
                ));
            } else if resource.is_none() {
                problems.push(format!(
                    "the core allowed a path it cannot read: {}",
                    describe()
                ));
            } else if with.header.as_deref().and_then(nginx_segments) != resource {
                tally.disagreements += 1;
                disagreements.push(format!(
                    "the filter authorised {authorised:?}, NGINX routes $uri {:?}: {}",
                    with.header,
                    describe()
                ));
            } else if forwarded == authorised.as_bytes() {
                tally.agreements += 1;
            } else {
                tally.rewritten += 1;
            }
        }
        (Some(_), None) => problems.push(format!(
            "forwarded although the core refuses it ({}): {}",
            decision.reason,
            describe()
        )),
        (None, None) if with.status == Some(400) => {
            tally.refusals += 1;
            *reasons.entry(decision.reason.to_string()).or_default() += 1;
        }
        (None, None) => problems.push(format!(
            "the core refuses it ({}) but the answer was not 400: {}",
            decision.reason,
            describe()
        )),
        (None, Some(_)) => problems.push(format!(
            "refused although the core allows it: {}",
            describe()
        )),
    }
    tally.problems += problems.len() - before;
}

/// Where NGINX forwards a raw target: the core's reading of it (`normalize_path`, what the filter
/// authorises in Envoy) against NGINX's (`$uri`). Where they differ, the filter in NGINX must
/// have refused the target (it never forwards a path normalisation would restructure).
#[derive(Debug, Default)]
struct Readings {
    forwarded: usize,
    same_resource: usize,
    core_refuses: usize,
    different: usize,
    /// The first few differences, for the report.
    examples: Vec<String>,
}

impl Readings {
    fn compare(
        &mut self,
        protocol: &str,
        target: &[u8],
        nginx: &Answer,
        with_filter: &Answer,
        problems: &mut Vec<String>,
    ) {
        let (Some(forwarded), Some(header)) = (&nginx.upstream, &nginx.header) else {
            return;
        };
        self.forwarded += 1;
        let core = decoded(forwarded).map(|(segments, _)| segments);
        let routed = nginx_segments(header);
        if core.is_none() {
            self.core_refuses += 1;
        } else if core == routed {
            self.same_resource += 1;
        } else {
            self.different += 1;
            let shown = format!(
                "{protocol} {:?}: the core reads {:?}, NGINX routes {header:?}",
                String::from_utf8_lossy(target),
                core.unwrap_or_default().join("/")
            );
            if with_filter.upstream.is_some() {
                problems.push(format!("the filter forwarded it: {shown}"));
            }
            if self.examples.len() < 6 {
                self.examples.push(shown);
            }
        }
    }
}

#[test]
fn nginx_never_routes_a_path_other_than_the_one_mtls_authz_authorised() {
    // NGINX answers fast, and only targets it need not restructure reach the filter's "allow":
    // more of them than the Envoy test's default.
    let count = usize::try_from(env_number("PATH_DIFF_TARGETS", 1000)).unwrap();
    let seed = usize::try_from(env_number("PATH_DIFF_SEED", 15)).unwrap();
    let wasm = wasm::locate_or_build().unwrap();
    let nginx_bin = nginx::binary().unwrap();
    let upstream = EchoServer::start(0).unwrap();
    let policy = examples::with_host(ALLOW_EVERY_PATH, "nginx").unwrap();
    let oracle = NginxOracle::new(&policy);

    // (label, filter, `$uri` to the upstream)
    let variants = [
        ("nginx+filter", true, true),
        ("nginx", false, false),
        ("nginx+uri", false, true),
    ];
    let nginxes: BTreeMap<String, Nginx> = replay::start_in_parallel(
        "NGINX",
        &variants,
        |(label, _, _)| (*label).to_owned(),
        |(label, filter, uri)| {
            let mut config = NginxConfig::with_fixture_certs(
                "allow-every-path",
                filter.then(|| examples::minify_json(&policy)),
                wasm.clone(),
                nginx::free_port().map_err(|e| e.to_string())?,
                Some(upstream.addr()),
                PathBuf::new(),
            );
            // The long runs send more than NGINX's default 1000 requests per connection.
            config.keepalive_requests = Some(1_000_000);
            let edit = |text: String| {
                if !uri {
                    return Ok(text);
                }
                if text.matches(NGINX_CONNECTION_LINE).count() != 1 {
                    return Err(E2eError::Template(format!(
                        "the template no longer has one {NGINX_CONNECTION_LINE:?}"
                    )));
                }
                Ok(text.replace(
                    NGINX_CONNECTION_LINE,
                    &format!("{NGINX_CONNECTION_LINE}{NGINX_URI_LINE}"),
                ))
            };
            Nginx::start_on_free_port_edited(
                &nginx_bin,
                &format!("pathdiff-{}", label.replace('+', "-")),
                &config,
                &edit,
            )
            .map_err(|e| e.to_string())
        },
    );
    let listeners: BTreeMap<String, u16> = nginxes
        .iter()
        .map(|(label, nginx)| (label.clone(), nginx.port()))
        .collect();

    let driven = drive(&listeners, count, seed, Some(NGINX_URI_HEADER));
    let mut problems = Vec::new();
    let mut disagreements = Vec::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut reasons: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut readings: BTreeMap<String, Readings> = BTreeMap::new();
    for protocol in ["h1", "h2"] {
        let tally = tallies.entry(protocol.to_owned()).or_default();
        let reasons = reasons.entry(protocol.to_owned()).or_default();
        let readings = readings.entry(protocol.to_owned()).or_default();
        for (index, target) in driven.targets.iter().enumerate() {
            let answer =
                |label: &str| &driven.answers[&(label.to_owned(), protocol.to_owned(), index)];
            judge_nginx(
                protocol,
                target,
                answer("nginx"),
                answer("nginx+filter"),
                &oracle,
                tally,
                reasons,
                &mut problems,
                &mut disagreements,
            );
            readings.compare(
                protocol,
                target,
                answer("nginx+uri"),
                answer("nginx+filter"),
                &mut problems,
            );
        }
    }
    driven.report(seed);
    report("| protocol | targets | same path | same resource, spelled as sent | refused by the filter (400) | answered by NGINX | disagreements |");
    report("|---|---|---|---|---|---|---|");
    for (protocol, tally) in &tallies {
        tally.report(protocol);
    }
    for (protocol, counted) in &reasons {
        report(&format!("refused by the filter ({protocol}): {counted:?}"));
    }
    for protocol in ["h1", "h2"] {
        let mut answered: BTreeMap<String, usize> = BTreeMap::new();
        for index in 0..driven.targets.len() {
            let nginx = &driven.answers[&("nginx".to_owned(), protocol.to_owned(), index)];
            if nginx.upstream.is_none() {
                let how = match (nginx.status, &nginx.error) {
                    (Some(status), _) => status.to_string(),
                    (None, error) => error.clone().unwrap_or_default(),
                };
                *answered.entry(how).or_default() += 1;
            }
        }
        report(&format!("answered by NGINX ({protocol}): {answered:?}"));
    }

    report("| raw target: core's reading vs NGINX's `$uri` | NGINX forwards | same resource | the core refuses | different resource (the filter refused) |");
    report("|---|---|---|---|---|");
    for (protocol, r) in &readings {
        report(&format!(
            "| {protocol} | {} | {} | {} | {} |",
            r.forwarded, r.same_resource, r.core_refuses, r.different
        ));
        for example in &r.examples {
            report(&format!("  different reading: {example}"));
        }
    }
    let log = nginxes["nginx+filter"].log();
    let broken: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[emerg]") || l.contains("panic") || l.contains("trap"))
        .collect();
    assert!(
        broken.is_empty(),
        "NGINX with the filter logged:\n{}",
        broken.join("\n")
    );
    fail_on(&problems, &disagreements);
}
