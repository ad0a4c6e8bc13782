//! The CLI as a fourth driver of the shared case tables: `mtls-authz check --format json` must
//! report, for every case the core or the mock host replays, the decision those layers expect
//! (status, exact reason, roles, upstream path and headers). `check` promises "the decision the
//! filter would make"; this holds it to that over every fixture request, and its explanation
//! (matching rules, roles held, bind verdicts) to leading to that same decision.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::collections::BTreeMap;
use std::process::Command;

use mtls_authz_fixtures::{cert_path, load_cases, policy_path, Case, Layer, DEFAULT_TIME};
use serde_json::Value;

fn check_json(case: &Case) -> (Option<i32>, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtls-authz"));
    cmd.arg("check")
        .arg("--policy")
        .arg(policy_path(&case.policy))
        .args(["--method", &case.method, "--path", &case.path])
        .args(["--time", case.time.as_deref().unwrap_or(DEFAULT_TIME)])
        .args(["--format", "json"]);
    match &case.cert {
        Some(name) => {
            cmd.arg("--cert").arg(cert_path(name).unwrap());
            if !case.peer_verified() {
                cmd.arg("--cert-unverified");
            }
        }
        None => {
            cmd.arg("--no-cert");
        }
    }
    for (name, value) in case.request_headers() {
        cmd.arg("--header").arg(format!("{name}:{value}"));
    }
    if let Some(body) = &case.body {
        cmd.arg(format!("--body={body}"));
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// What the upstream receives: inbound headers minus the ones the filter strips, plus the
/// forwarded identity headers (as `check` reports them).
fn upstream_headers(case: &Case, json: &Value) -> BTreeMap<String, String> {
    let removed: Vec<&str> = json["removed_headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut headers: BTreeMap<String, String> = case
        .request_headers()
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .filter(|(n, _)| !removed.contains(&n.as_str()))
        .collect();
    for pair in json["upstream_headers"].as_array().unwrap() {
        headers.insert(
            pair[0].as_str().unwrap().to_owned(),
            pair[1].as_str().unwrap().to_owned(),
        );
    }
    headers
}

fn mismatches(case: &Case) -> Vec<String> {
    let expect = case.expect_for(Layer::Mock);
    let reason = expect.reason.as_deref().unwrap_or_default();
    let (code, json, stderr) = check_json(case);
    let mut problems = Vec::new();
    if case.cert.as_deref() == Some("malformed/two-certs.pem") {
        // A file is read as the leaf and its chain (as clients keep them): `check` decides on
        // the first certificate and notes the second, where the filter, handed both as one
        // certificate, refuses them.
        let noted = json["notes"].as_array().is_some_and(|notes| {
            notes.iter().any(|n| {
                n.as_str()
                    .is_some_and(|n| n.starts_with("--cert: 1 certificate followed the leaf"))
            })
        });
        if !matches!(code, Some(0 | 1)) || !noted {
            problems.push(format!(
                "expected a decision on the leaf with a chain note, got {code:?}: {stderr}"
            ));
        }
        return problems;
    }
    let invalid_cert_file = case
        .cert
        .as_deref()
        .is_some_and(|c| c.starts_with("malformed/"))
        || (case.xfcc.is_none() && reason == "unauthenticated:certificate_too_large");
    if invalid_cert_file {
        // `check` refuses an unparseable --cert as bad input (exit 2) instead of deciding.
        if code != Some(2) || !stderr.contains("invalid certificate") {
            problems.push(format!(
                "expected exit 2 for an invalid certificate, got {code:?}: {stderr}"
            ));
        }
        return problems;
    }
    let decision = &json["decision"];
    if decision["status"].as_u64() != Some(u64::from(expect.decision_status())) {
        problems.push(format!(
            "status {} != {}",
            decision["status"],
            expect.decision_status()
        ));
    }
    if decision["reason"].as_str() != Some(reason) {
        problems.push(format!("reason {} != {reason}", decision["reason"]));
    }
    let decided_by_rules = ["allow:", "forbidden:", "unauthenticated:"]
        .iter()
        .any(|prefix| reason.starts_with(prefix));
    if decided_by_rules {
        let explained = explained_reason(&json);
        if explained != reason {
            problems.push(format!(
                "the explanation leads to {explained}, the decision is {reason}"
            ));
        }
    }
    let allowed = decision["allowed"].as_bool() == Some(true);
    let want_code = if allowed { 0 } else { 1 };
    if code != Some(want_code) {
        problems.push(format!("exit {code:?} != {want_code}: {stderr}"));
    }
    if let Some(roles) = &expect.roles {
        let got: Vec<&str> = json["roles"]
            .as_array()
            .map(|a| a.iter().filter_map(|g| g["role"].as_str()).collect())
            .unwrap_or_default();
        if got != *roles {
            problems.push(format!("roles {got:?} != {roles:?}"));
        }
    }
    if json["forwarded"].as_bool() == Some(true) {
        if let Some(path) = &expect.upstream_path {
            if json["upstream_path"].as_str() != Some(path) {
                problems.push(format!("upstream_path {} != {path}", json["upstream_path"]));
            }
        }
        if case.runs_on(Layer::Mock) {
            let got = upstream_headers(case, &json);
            for (name, want) in &expect.upstream_headers {
                if got.get(name) != want.as_ref() {
                    problems.push(format!(
                        "upstream header {name}: {:?} != {want:?}",
                        got.get(name)
                    ));
                }
            }
        }
    }
    problems
}

/// The decision `check`'s explanation leads to, derived by the core's rules from what it
/// shows: the first matching rule allowing `public` allows; a rejected identity is refused;
/// the first rule with a held role whose binds all hold allows; otherwise the first matching
/// rule refuses for its roles or its first failing bind (by parameter name, the order the core
/// checks them in); no matching rule refuses. A rule with v1.1 `require_token` takes part only
/// when the token passed, and as the first matching rule it refuses with the token's failure.
fn explained_reason(json: &Value) -> String {
    let rules = json["matching_rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let name = |rule: &Value| rule["name"].as_str().unwrap_or_default().to_owned();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let failed_bind = |rule: &Value| -> Option<String> {
        let mut binds = rule["binds"].as_array().cloned().unwrap_or_default();
        binds.sort_by_key(|b| b["param"].as_str().unwrap_or_default().to_owned());
        binds
            .iter()
            .find(|b| b["holds"].as_bool() != Some(true))
            .map(|b| b["param"].as_str().unwrap_or_default().to_owned())
    };
    if let Some(rule) = rules
        .iter()
        .find(|r| strings(&r["allow"]).iter().any(|a| a == "public"))
    {
        return format!("allow:rule[{}]:public", name(rule));
    }
    if let Some(code) = json["identity_rejection"].as_str() {
        return format!("unauthenticated:{code}");
    }
    // v1.1 `tokens`: a rule with `require_token` counts only when the token passed.
    let token_failure = json["token"]["verdict"]
        .as_str()
        .filter(|verdict| *verdict != "ok");
    let token_blocks = |rule: &Value| rule["require_token"] == true && token_failure.is_some();
    for rule in rules.iter().filter(|rule| !token_blocks(rule)) {
        if let Some(role) = strings(&rule["held"]).first() {
            if failed_bind(rule).is_none() {
                return format!("allow:rule[{}]:role[{role}]", name(rule));
            }
        }
    }
    match rules.first() {
        None => String::from("forbidden:no_rule_matched"),
        Some(rule) if token_blocks(rule) => {
            format!("unauthenticated:{}", token_failure.unwrap_or_default())
        }
        Some(rule) if strings(&rule["held"]).is_empty() => {
            format!("forbidden:rule[{}]:role_not_held", name(rule))
        }
        Some(rule) => format!(
            "forbidden:rule[{}]:bind_failed[{}]",
            name(rule),
            failed_bind(rule).unwrap_or_default()
        ),
    }
}

#[test]
fn check_agrees_with_every_core_and_mock_case() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|c| c.runs_on(Layer::Core) || c.runs_on(Layer::Mock))
        .collect();
    assert!(cases.len() > 100, "only {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            mismatches(case)
                .into_iter()
                .map(move |p| format!("{}: {p}", case.label()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} mismatches over {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
