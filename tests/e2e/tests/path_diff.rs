//! Differential path normalisation against the real Envoy (issue 15, part 2).
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
//! `PATH_DIFF_TARGETS` (default 400: about 90 s on a busy 2-core machine) and `PATH_DIFF_SEED` (default 15) choose the targets; the
//! long run is `PATH_DIFF_TARGETS=20000 cargo test -p mtls-authz-e2e --test path_diff --
//! --nocapture` (tests/e2e/README.md).
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

use mtls_authz_core::path::normalize_path;
use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup};
use mtls_authz_e2e::echo::EchoServer;
use mtls_authz_e2e::envoy::{self, Envoy};
use mtls_authz_e2e::replay::{self, client_identity, report};
use mtls_authz_e2e::{paths, wasm};

/// Every path allowed to any verified client: the filter's decision is its path decision.
const ALLOW_EVERY_PATH: &str = r#"{"mode": "enforce", "rules": [{"name": "everything", "paths": ["/**"], "allow": ["authenticated"]}]}"#;

/// The connection-manager options of the normalising variant, inserted after the shipped
/// template's `stat_prefix` line.
const NORMALISING_HCM: &str = "          normalize_path: true\n          merge_slashes: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT\n";
const STAT_PREFIX_LINE: &str = "          stat_prefix: mtls_authz\n";

/// The fixture client (a verified certificate).
const CLIENT: &str = "healthcare/clinician-alice";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One answer: status (None: no response), what reached the upstream (hex), redirect target.
#[derive(Clone, Debug, Default)]
struct Answer {
    status: Option<u16>,
    upstream: Option<Vec<u8>>,
    location: Option<String>,
    error: Option<String>,
    millis: f64,
}

impl Answer {
    fn show(&self) -> String {
        match (&self.upstream, self.status, &self.error) {
            (Some(up), Some(s), _) => format!("{s} upstream {:?}", String::from_utf8_lossy(up)),
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

/// Per (connection manager, protocol): the table the README reports.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    targets: usize,
    /// Forwarded with the filter, to the same path (byte for byte) as without it.
    agreements: usize,
    /// Forwarded with the filter to the filter's spelling of what Envoy forwards without it:
    /// the same decoded segments and query (behind the normalising manager: hex case, `//`),
    /// or (shipped manager) the normalised path the filter wrote into `:path`.
    rewritten: usize,
    /// Envoy forwards it, the filter refused it (400).
    refusals: usize,
    /// Envoy answers itself (codec 400, redirect, reset) with or without the filter.
    envoy_answered: usize,
    /// Forwarded with the filter to a path other than Envoy's own (the issue's rule).
    disagreements: usize,
    /// Broke one of the invariants above (listed in the failure).
    problems: usize,
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
/// (`path_not_normalized`). Fixture case `p-empty-segment-before-dot-dot`.
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
    let Some(seen) = &without.upstream else {
        // Envoy answers itself; with the filter it must not forward either.
        if with.upstream.is_some() {
            problems.push(format!("forwarded only with the filter: {}", describe()));
            tally.problems += 1;
        } else {
            tally.envoy_answered += 1;
        }
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

fn run_driver(listeners: &BTreeMap<String, u16>, count: usize, seed: usize) -> Vec<String> {
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
    let count = env_number("PATH_DIFF_TARGETS", 400);
    let seed = env_number("PATH_DIFF_SEED", 15);
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

    let started = std::time::Instant::now();
    let lines = run_driver(&listeners, count, seed);
    let elapsed = started.elapsed();
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let targets: Vec<Vec<u8>> = first["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| hex_decode(t.as_str().unwrap()))
        .collect();
    assert_eq!(targets.len(), count);
    let mut answers: BTreeMap<(String, String, usize), Answer> = BTreeMap::new();
    for line in &lines[1..] {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let answer = Answer {
            status: v["status"].as_u64().map(|s| u16::try_from(s).unwrap()),
            upstream: v["upstream"].as_str().map(hex_decode),
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
        count * 8,
        "every target on every listener and protocol"
    );

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
    let mut slowest: Vec<(&(String, String, usize), &Answer)> = answers.iter().collect();
    slowest.sort_by(|a, b| b.1.millis.total_cmp(&a.1.millis));
    report(&format!(
        "path diff: {count} targets (seed {seed}), {} requests in {:.1}s; slowest: {}",
        count * 8,
        elapsed.as_secs_f64(),
        slowest
            .iter()
            .take(3)
            .map(|((l, p, i), a)| format!(
                "{l} {p} {:?} {}ms ({})",
                String::from_utf8_lossy(&targets[*i]),
                a.millis,
                a.show()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    report("| connection manager | protocol | targets | same path | same path, filter's spelling | refused by the filter (400) | answered by Envoy | disagreements |");
    report("|---|---|---|---|---|---|---|---|");
    for ((manager, protocol), t) in &tallies {
        report(&format!(
            "| {manager} | {protocol} | {} | {} | {} | {} | {} | {} |",
            t.targets, t.agreements, t.rewritten, t.refusals, t.envoy_answered, t.disagreements
        ));
        assert_eq!(
            t.targets,
            t.agreements
                + t.rewritten
                + t.refusals
                + t.envoy_answered
                + t.disagreements
                + t.problems,
            "every target counted once"
        );
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
