//! Loader for the ONE shared fixture set under `tests/fixtures`: case tables, policies and
//! certificates, used by the core driver, the mock-host driver and the Envoy e2e driver alike
//! (so the three layers cannot drift apart).
//!
//! Files are read through [`files`]: from the checkout natively, from a copy embedded at build
//! time on wasm32 (no file system under wasm-bindgen-test), so the same drivers run there too.
//!
//! A broken fixture is a bug in the test suite, not an input to handle: the `load_*` functions
//! panic with a message naming the file and what is wrong, after collecting every problem.
#![forbid(unsafe_code)]
#![allow(
    clippy::panic,
    reason = "test-support crate: a broken fixture must stop the test run with a message"
)]

mod case;
pub mod crl;
pub mod files;
pub mod time;
pub mod tokens;
pub mod xfcc;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use case::{Case, Expect, Layer, Listener};

/// Request time of a case without `time`.
pub const DEFAULT_TIME: &str = "2026-11-23T00:00:00Z";

/// The header that carries forwarded client certificates.
pub const XFCC_HEADER: &str = "x-forwarded-client-cert";

/// `tests/fixtures` of this checkout.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The fixture file of a certificate name, as a path under `tests/fixtures` ([`files`]):
/// `certs/<name>` itself when the name ends in `.pem` or `.der` (for stems that exist in both
/// forms, e.g. `malformed/trailing-garbage.der`), else `certs/<name>.pem` when it exists, else
/// `certs/<name>.der`, else `None`.
pub fn cert_file(name: &str) -> Option<String> {
    if name.ends_with(".pem") || name.ends_with(".der") {
        let file = format!("certs/{name}");
        return files::is_file(&file).then_some(file);
    }
    ["pem", "der"]
        .iter()
        .map(|ext| format!("certs/{name}.{ext}"))
        .find(|file| files::is_file(file))
}

/// The file of a certificate name in this checkout (see [`cert_file`]).
pub fn cert_path(name: &str) -> Option<PathBuf> {
    cert_file(name).map(|file| fixtures_dir().join(file))
}

/// The bytes of a fixture certificate exactly as stored (PEM text or raw DER).
pub fn cert_bytes(name: &str) -> Option<Vec<u8>> {
    files::read(&cert_file(name)?).ok()
}

/// `tests/fixtures/certs/<name>.pem` (for TLS clients: curl `--cert`).
pub fn cert_pem_path(name: &str) -> PathBuf {
    fixtures_dir().join("certs").join(format!("{name}.pem"))
}

/// `tests/fixtures/certs/<name>.chain.pem` when it exists: the leaf and the intermediates a TLS
/// client sends for a certificate whose issuer is not in the trust bundle (for curl `--cert`).
pub fn chain_pem_path(name: &str) -> Option<PathBuf> {
    let path = fixtures_dir()
        .join("certs")
        .join(format!("{name}.chain.pem"));
    path.is_file().then_some(path)
}

/// `tests/fixtures/certs/<name>.key`: the PKCS#8 PEM key beside a certificate.
pub fn key_path(name: &str) -> PathBuf {
    fixtures_dir().join("certs").join(format!("{name}.key"))
}

/// `tests/fixtures/certs/ca/bundle.pem`: the CAs a TLS server must trust.
pub fn ca_bundle_path() -> PathBuf {
    fixtures_dir().join("certs/ca/bundle.pem")
}

/// `tests/fixtures/policies/<name>.json`.
pub fn policy_path(name: &str) -> PathBuf {
    fixtures_dir().join("policies").join(format!("{name}.json"))
}

/// `policies/<name>.json`: the policy's path under `tests/fixtures` ([`files`]).
fn policy_file(name: &str) -> String {
    format!("policies/{name}.json")
}

/// The text of `tests/fixtures/policies/<name>.json`.
pub fn load_policy(name: &str) -> String {
    files::read(&policy_file(name))
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("cannot read policy {name}: {e}"))
}

/// The request time of a case, in Unix seconds (its `time`, else [`DEFAULT_TIME`]).
pub fn case_time(case: &Case) -> u64 {
    let text = case.time.as_deref().unwrap_or(DEFAULT_TIME);
    time::parse_rfc3339_utc(text).unwrap_or_else(|e| panic!("case {}: {e}", case.label()))
}

impl Case {
    /// The request headers to send: [`Case::headers`] in order, each `{token:<name>}` in a
    /// value replaced by that token fixture (`tokens/<name>.jwt`), then the expanded
    /// [`Case::xfcc`] template as `x-forwarded-client-cert` when present.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), expand_tokens(value)))
            .collect();
        if let Some(template) = &self.xfcc {
            let value =
                xfcc::expand(template).unwrap_or_else(|e| panic!("case {}: {e}", self.label()));
            headers.push((String::from(XFCC_HEADER), value));
        }
        headers
    }
}

/// Whether `case` is in the tables `MTLS_AUTHZ_CASE_TABLES` names (comma-separated file stems,
/// e.g. `tokens,hosts`), or that variable is unset or empty: lets a developer replay one table
/// through the real proxies without running all of them.
pub fn selected_table(case: &Case) -> bool {
    match std::env::var("MTLS_AUTHZ_CASE_TABLES") {
        Ok(tables) if !tables.trim().is_empty() => {
            tables.split(',').any(|table| table.trim() == case.table)
        }
        _ => true,
    }
}

/// `value` with every `{token:<name>}` replaced by the token fixture `<name>`.
fn expand_tokens(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("{token:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{token:".len()..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("unterminated {{token:...}} in {value:?}"));
        let token = tokens::token(&after[..end]);
        out.push_str(&String::from_utf8(token).unwrap_or_else(|e| panic!("{e}")));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every case of every `tests/fixtures/cases/*.json`, tables in file-name order, after
/// checking them (unique ids, existing policies and certificates, valid times, restricted
/// layers explained, ...). Panics listing every problem found.
pub fn load_cases() -> Vec<Case> {
    let dir = fixtures_dir().join("cases");
    let tables: Vec<String> = files::list("cases")
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|name| name.strip_suffix(".json").map(String::from))
        .collect();

    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for table_name in &tables {
        let file = format!("cases/{table_name}.json");
        let text = match files::read(&file) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        match serde_json::from_slice::<case::Table>(&text) {
            Ok(table) => cases.extend(table.cases.into_iter().map(|mut c| {
                c.table.clone_from(table_name);
                c
            })),
            Err(e) => problems.push(format!("{file}: {e}")),
        }
    }
    problems.extend(check_cases(&cases));
    if !problems.is_empty() {
        panic!(
            "{} problem(s) in the case tables under {}:\n  {}",
            problems.len(),
            dir.display(),
            problems.join("\n  ")
        );
    }
    cases
}

/// Consistency checks that serde cannot express. Returns one message per problem.
pub fn check_cases(cases: &[Case]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    for case in cases {
        let mut problem = |what: String| problems.push(format!("case {}: {what}", case.label()));
        if !ids.insert(case.id.as_str()) {
            problem(String::from("duplicate id"));
        }
        if !files::is_file(&policy_file(&case.policy)) {
            problem(format!("policy `{}` does not exist", case.policy));
        }
        if let Some(cert) = &case.cert {
            if cert_file(cert).is_none() {
                problem(format!("certificate `{cert}` does not exist"));
            }
        }
        if let Some(text) = &case.time {
            if let Err(e) = time::parse_rfc3339_utc(text) {
                problem(e);
            }
            for (layer, name) in [(Layer::Envoy, "envoy"), (Layer::Nginx, "nginx")] {
                if case.runs_on(layer) {
                    problem(format!(
                        "a case with `time` cannot run on {name} (real clock)"
                    ));
                }
            }
        }
        if let Some(template) = &case.xfcc {
            if let Err(e) = xfcc::expand(template) {
                problem(e);
            }
        }
        match &case.layers {
            Some(layers) if layers.is_empty() => problem(String::from("`layers` is empty")),
            Some(layers)
                if layers.len() < Layer::ALL.len() && case.why_not_everywhere.is_none() =>
            {
                problem(String::from(
                    "restricted `layers` need `why_not_everywhere`",
                ))
            }
            _ => {}
        }
        if case.peer_certificate_valid.is_some() && case.cert.is_none() {
            problem(String::from("`peer_certificate_valid` without a `cert`"));
        }
        let handshake_refused = case.envoy_expect.as_ref().is_some_and(|e| e.tls_rejected);
        if !case.peer_verified()
            && case.runs_on(Layer::Envoy)
            && case.listener != Listener::AcceptUntrusted
            && !handshake_refused
        {
            problem(String::from(
                "`peer_certificate_valid: false` on envoy needs `listener: accept_untrusted` (the other listeners refuse such a certificate at the handshake)",
            ));
        }
        if case.listener != Listener::Verified && !case.runs_on(Layer::Envoy) {
            problem(String::from(
                "`listener` on a case that does not run on envoy",
            ));
        }
        for (name, _) in &case.trailers {
            if name.starts_with(':') || name.bytes().any(|b| b.is_ascii_uppercase()) {
                problem(format!("trailer `{name}` must be a lower-case field name"));
            }
        }
        check_expect(&case.expect, &mut problem);
        if case.expect.tls_rejected || case.expect.stream_reset {
            problem(String::from(
                "`tls_rejected`/`stream_reset` belong in the proxies' overrides",
            ));
        }
        check_overrides(
            case,
            Layer::Envoy,
            "envoy",
            [
                ("envoy_expect", &case.envoy_expect),
                ("envoy_h2_expect", &case.envoy_h2_expect),
            ],
            case.envoy_why.is_some(),
            &mut problem,
        );
        check_overrides(
            case,
            Layer::Nginx,
            "nginx",
            [
                ("nginx_expect", &case.nginx_expect),
                ("nginx_h2_expect", &case.nginx_h2_expect),
            ],
            case.nginx_why.is_some(),
            &mut problem,
        );
    }
    problems
}

/// One proxy's `<proxy>_expect`/`<proxy>_h2_expect` + `<proxy>_why`: a why needs an override
/// and every override a why, on a case that runs there, with an outcome to check.
fn check_overrides(
    case: &Case,
    layer: Layer,
    proxy: &str,
    overrides: [(&str, &Option<Expect>); 2],
    has_why: bool,
    problem: &mut impl FnMut(String),
) {
    if has_why && overrides.iter().all(|(_, o)| o.is_none()) {
        problem(format!(
            "`{proxy}_why` without `{proxy}_expect`/`{proxy}_h2_expect`"
        ));
    }
    for (field, expect) in overrides {
        let Some(expect) = expect else { continue };
        if !has_why {
            problem(format!("`{field}` needs `{proxy}_why`"));
        }
        if !case.runs_on(layer) {
            problem(format!("`{field}` on a case that does not run on {proxy}"));
        }
        if !expect.tls_rejected && !expect.stream_reset && expect.status == 0 {
            problem(format!(
                "`{field}` needs a status, tls_rejected or stream_reset"
            ));
        }
    }
}

fn check_expect(expect: &Expect, problem: &mut impl FnMut(String)) {
    if !matches!(expect.status, 200 | 400 | 401 | 403) {
        problem(format!(
            "expect.status {} is not 200/400/401/403",
            expect.status
        ));
    }
    let Some(reason) = &expect.reason else {
        problem(String::from("expect.reason is required"));
        return;
    };
    let decided = expect.decision_status();
    let prefix_ok = match decided {
        200 => reason.starts_with("allow:"),
        400 => reason.starts_with("bad_request:"),
        401 => reason.starts_with("unauthenticated:"),
        403 => reason.starts_with("forbidden:"),
        _ => false,
    };
    if !prefix_ok {
        problem(format!("reason `{reason}` does not fit status {decided}"));
    }
    if expect.enforce_status.is_some() && expect.status != 200 {
        problem(String::from(
            "`enforce_status` is for shadow mode, where status is 200",
        ));
    }
    for name in expect
        .upstream_headers
        .keys()
        .chain(expect.upstream_trailers.keys())
    {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            problem(format!("upstream header `{name}` must be lower case"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(id: &str) -> Case {
        serde_json::from_value(serde_json::json!({
            "id": id, "policy": "healthcare", "cert": "healthcare/admin-bob",
            "method": "GET", "path": "/whoami",
            "expect": {"status": 200, "reason": "allow:rule[whoami]:role[authenticated]"}
        }))
        .unwrap()
    }

    #[test]
    fn every_table_loads_and_passes_the_checks() {
        let cases = load_cases();
        assert!(cases.len() >= 170, "only {} cases", cases.len());
        for layer in Layer::ALL {
            assert!(
                cases.iter().any(|c| c.runs_on(layer)),
                "no case on {layer:?}"
            );
        }
    }

    /// Every client certificate and every policy is replayed by some case: no dead fixtures.
    #[test]
    fn every_client_certificate_and_policy_is_used() {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let stem = |name: &str| {
            name.trim_end_matches(".pem")
                .trim_end_matches(".der")
                .to_owned()
        };
        let cases = load_cases();
        let mut used: HashSet<String> = HashSet::new();
        for case in &cases {
            used.extend(case.cert.as_deref().map(stem));
            let template = case.xfcc.as_deref().unwrap_or_default();
            for piece in xfcc::pieces(template).unwrap() {
                if let xfcc::Piece::Cert(name) = piece {
                    used.insert(stem(name));
                }
            }
        }
        let certs_dir = fixtures_dir().join("certs");
        let mut files = Vec::new();
        walk(&certs_dir, &mut files);
        let unused: Vec<String> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pem" || e == "der"))
            .map(|p| stem(&p.strip_prefix(&certs_dir).unwrap().to_string_lossy()))
            .filter(|name| !name.starts_with("ca/") && !name.starts_with("server/"))
            // A leaf's chain file travels with the leaf.
            .filter(|name| !name.ends_with(".chain"))
            // CRL issuers and their clients: used by the core's CRL tests (crl/tests.rs)
            // until revocation sources join the policy contract.
            .filter(|name| !name.starts_with("crl/"))
            .filter(|name| !used.contains(name))
            .collect();
        assert!(unused.is_empty(), "certificates no case uses: {unused:?}");

        let policies: HashSet<&str> = cases.iter().map(|c| c.policy.as_str()).collect();
        for entry in std::fs::read_dir(fixtures_dir().join("policies")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                policies.contains(name.as_str()),
                "policy {name} is used by no case"
            );
        }
    }

    #[test]
    fn fixture_paths_resolve() {
        assert!(cert_path("healthcare/clinician-alice")
            .unwrap()
            .ends_with("clinician-alice.pem"));
        assert!(cert_path("malformed/garbage")
            .unwrap()
            .ends_with("garbage.der"));
        assert!(cert_path("malformed/trailing-garbage")
            .unwrap()
            .ends_with("trailing-garbage.pem"));
        assert!(cert_path("malformed/trailing-garbage.der")
            .unwrap()
            .ends_with("trailing-garbage.der"));
        assert_eq!(cert_path("malformed/garbage.pem"), None);
        assert_eq!(cert_path("nope/none"), None);
        assert!(cert_bytes("healthcare/clinician-alice")
            .unwrap()
            .starts_with(b"-----BEGIN CERTIFICATE-----"));
        assert!(key_path("server/localhost").is_file());
        assert!(ca_bundle_path().is_file());
        assert!(load_policy("healthcare").contains("\"rules\""));
    }

    #[test]
    fn time_defaults_and_layers() {
        let mut case = minimal("a");
        assert_eq!(case_time(&case), 1_795_392_000);
        assert!(Layer::ALL.iter().all(|&l| case.runs_on(l)));
        case.time = Some(String::from("2099-12-31T23:59:59Z"));
        case.layers = Some(vec![Layer::Core]);
        assert_eq!(case_time(&case), 4_102_444_799);
        assert!(case.runs_on(Layer::Core) && !case.runs_on(Layer::Mock));
    }

    #[test]
    fn envoy_h2_expect_replaces_the_envoy_expectation_over_http2_only() {
        let mut case = minimal("a");
        case.envoy_expect = Some(Expect {
            status: 400,
            ..Expect::default()
        });
        case.envoy_h2_expect = Some(Expect {
            stream_reset: true,
            ..Expect::default()
        });
        case.envoy_why = Some(String::from("codec"));
        assert!(check_cases(std::slice::from_ref(&case)).is_empty());
        assert_eq!(case.expect_for_envoy(false).status, 400);
        assert!(case.expect_for_envoy(true).stream_reset);
        case.envoy_expect = None;
        assert_eq!(case.expect_for_envoy(false).status, 200);
        case.envoy_why = None;
        let problems = check_cases(std::slice::from_ref(&case)).join("\n");
        assert!(
            problems.contains("`envoy_h2_expect` needs `envoy_why`"),
            "{problems}"
        );
    }

    #[test]
    fn envoy_expect_replaces_expect_only_on_envoy() {
        let mut case = minimal("a");
        case.envoy_expect = Some(Expect {
            tls_rejected: true,
            ..Expect::default()
        });
        assert!(case.expect_for(Layer::Envoy).tls_rejected);
        assert!(!case.expect_for(Layer::Mock).tls_rejected);
        assert_eq!(case.expect_for(Layer::Core).status, 200);
    }

    #[test]
    fn request_headers_append_the_expanded_xfcc() {
        let mut case = minimal("a");
        case.headers = vec![(String::from("x-a"), String::from("1"))];
        assert_eq!(case.request_headers(), case.headers);
        case.xfcc = Some(String::from("Cert=\"{cert:healthcare/admin-bob}\""));
        let headers = case.request_headers();
        assert_eq!(headers.len(), 2);
        assert_eq!(headers[1].0, XFCC_HEADER);
        assert!(headers[1].1.starts_with("Cert=\"-----BEGIN%20CERTIFICATE"));
    }

    #[test]
    fn checks_report_each_problem() {
        let mut dup = minimal("same");
        dup.policy = String::from("no-such-policy");
        dup.cert = Some(String::from("no/such-cert"));
        dup.layers = Some(vec![Layer::Core]);
        dup.time = Some(String::from("yesterday"));
        dup.expect.reason = Some(String::from("forbidden:no_rule_matched"));
        dup.envoy_why = Some(String::from("because"));
        let problems = check_cases(&[minimal("same"), dup]);
        let joined = problems.join("\n");
        for needle in [
            "duplicate id",
            "policy `no-such-policy`",
            "certificate `no/such-cert`",
            "need `why_not_everywhere`",
            "invalid time `yesterday`",
            "does not fit status 200",
            "`envoy_why` without `envoy_expect`/`envoy_h2_expect`",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
        assert_eq!(problems.len(), 7, "{joined}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_value::<Case>(serde_json::json!({
            "id": "a", "policy": "p", "cert": null, "method": "GET", "path": "/",
            "expect": {"status": 200, "reason": "allow:x", "upstream_header": {}}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("upstream_header"), "{err}");
    }
}
