//! Replays every shared fixture case whose layers include `core` (tests/fixtures/cases) through
//! `Policy::evaluate`, and reports EVERY mismatch (case id, field, expected, actual) before
//! failing, so one run shows the whole picture.
//!
//! The core sees no headers: header expectations, deny bodies and XFCC belong to the filter
//! and Envoy layers. A case's certificate is parsed with `Identity::parse` exactly as stored
//! (PEM text or raw DER); a parse error is handed over as `ClientCert::Invalid`.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use mtls_authz_core::{ClientCert, Decision, Identity, Policy, Request, UnixTime};
use mtls_authz_fixtures::{case_time, cert_bytes, load_cases, load_policy, Case, Layer};

/// Compiles each policy once; a policy that fails to compile fails every case that uses it.
struct Policies(HashMap<String, Result<Policy, String>>);

impl Policies {
    fn get(&mut self, name: &str) -> &Result<Policy, String> {
        self.0.entry(name.to_owned()).or_insert_with(|| {
            Policy::from_json(&load_policy(name)).map_err(|e| format!("policy {name}: {e}"))
        })
    }
}

/// Evaluates one case, or says why it could not be evaluated.
fn evaluate(case: &Case, policies: &mut Policies) -> Result<Decision, String> {
    let policy = policies.get(&case.policy).as_ref().map_err(Clone::clone)?;
    let parsed = match &case.cert {
        None => None,
        Some(name) => {
            let bytes =
                cert_bytes(name).ok_or_else(|| format!("cannot read certificate {name}"))?;
            Some(Identity::parse(&bytes))
        }
    };
    let client = match &parsed {
        None => ClientCert::Absent,
        Some(Ok(identity)) => ClientCert::Present(identity),
        Some(Err(error)) => ClientCert::Invalid(error),
    };
    let request = Request {
        method: &case.method,
        path: &case.path,
    };
    Ok(policy.evaluate(&request, client, UnixTime::from_secs(case_time(case))))
}

fn verdict(allowed: bool) -> String {
    String::from(if allowed { "allow" } else { "deny" })
}

/// Every way `decision` differs from the case's expectation.
fn mismatches(case: &Case, decision: &Decision) -> Vec<String> {
    let expect = case.expect_for(Layer::Core);
    let mut out = Vec::new();
    let mut check = |field: &str, expected: String, actual: String| {
        if expected != actual {
            out.push(format!("{field}: expected {expected}, got {actual}"));
        }
    };
    check(
        "status",
        expect.decision_status().to_string(),
        decision.status.code().to_string(),
    );
    if let Some(reason) = &expect.reason {
        check("reason", reason.clone(), decision.reason.to_string());
    }
    check(
        "outcome",
        verdict(expect.decision_status() == 200),
        verdict(decision.is_allowed()),
    );
    if let Some(roles) = &expect.roles {
        check(
            "roles",
            format!("{roles:?}"),
            format!("{:?}", decision.roles),
        );
    }
    if let Some(path) = &expect.upstream_path {
        check(
            "upstream_path",
            format!("{:?}", Some(path)),
            format!("{:?}", decision.upstream_path),
        );
    }
    out
}

#[test]
fn every_core_case_matches_the_core() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Core))
        .collect();
    assert!(!cases.is_empty(), "no case runs on the core layer");

    let mut policies = Policies(HashMap::new());
    let mut failures = Vec::new();
    for case in &cases {
        let problems = match evaluate(case, &mut policies) {
            Ok(decision) => mismatches(case, &decision),
            Err(why) => vec![why],
        };
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({} {} {:?}, cert {}):\n      {}",
                case.label(),
                case.policy,
                case.method,
                case.path,
                case.cert.as_deref().unwrap_or("none"),
                problems.join("\n      ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} core cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
    println!("{} core cases passed", cases.len());
}
