//! Replays every shared fixture case whose layers include `core` (tests/fixtures/cases) through
//! `Policy::evaluate`, and reports EVERY mismatch (case id, field, expected, actual) before
//! failing, so one run shows the whole picture.
//!
//! The core sees no request headers: of `upstream_headers` it checks only the values of the
//! policy's `forward_headers` (which the core computes); removals, deny bodies and XFCC belong
//! to the filter and Envoy layers. A case's certificate is parsed with `Identity::parse` exactly as stored
//! (PEM text or raw DER); a parse error is handed over as `ClientCert::Invalid`.
//!
//! The same body runs natively and on wasm32-unknown-unknown under node (wasm-bindgen-test),
//! where the fixtures come from the loader's embedded copy and the time from each case.

use std::collections::HashMap;

use mtls_authz_core::policy::{HeaderToken, PreparedIdentity};
use mtls_authz_core::{
    ClientCert, Decision, Identity, Policy, Request, RequestAuthority, Status, UnixTime,
};
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

/// Evaluates one case and checks it, or says why it could not be evaluated.
fn run(case: &Case, policies: &mut Policies) -> Result<Vec<String>, String> {
    let policy = policies.get(&case.policy).as_ref().map_err(Clone::clone)?;
    let parsed = match &case.cert {
        None => None,
        Some(name) => {
            let bytes =
                cert_bytes(name).ok_or_else(|| format!("cannot read certificate {name}"))?;
            Some(Identity::parse(&bytes))
        }
    };
    // What the proxy reports about its own verification decides first (the filter never
    // parses a certificate its proxy does not vouch for).
    let vouched = policy.peer_verification().trusts(case.peer_verified());
    let client = match &parsed {
        None => ClientCert::Absent,
        Some(_) if !vouched => ClientCert::Unverified,
        Some(Ok(identity)) => ClientCert::Present(identity),
        Some(Err(error)) => ClientCert::Invalid(error),
    };
    let request = Request {
        method: &case.method,
        path: &case.path,
    };
    let now = UnixTime::from_secs(case_time(case));
    // v1.1 `hosts`: the case's `host` header is the authority (origin-form targets only
    // reach the core; absolute-form is the proxies' and the filter's business).
    // Several `host` headers are joined as the filter joins them.
    let headers = case.request_headers();
    let sent = mtls_authz_core::authority::join_sent(
        headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, value)| value.as_str()),
    );
    let authority = RequestAuthority {
        sent: sent.as_deref(),
        routed: None,
    };
    // v1.1 `tokens`: the values of the token header, asked for only by rules that require one.
    let token_values: Vec<&[u8]> = match policy.tokens() {
        Some(tokens) => headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(tokens.header_name()))
            .map(|(_, value)| value.as_bytes())
            .collect(),
        None => Vec::new(),
    };
    let evaluate = |prepared: Option<&PreparedIdentity>, as_sent: bool| {
        policy.evaluate_with(
            &request,
            authority,
            client,
            now,
            prepared,
            as_sent,
            None,
            &mut HeaderToken::new(policy.tokens(), &token_values, now),
        )
    };
    let decision = evaluate(None, false);
    if !policy.uses_tokens()
        && decision != policy.evaluate_with_authority(&request, authority, client, now, None, false)
    {
        return Err(format!(
            "{}: a token changed a decision without require_token",
            case.id
        ));
    }
    if !policy.uses_hosts()
        && !policy.uses_tokens()
        && decision != policy.evaluate(&request, client, now)
    {
        return Err(format!("{}: the authority changed a v1 decision", case.id));
    }
    let mut problems = mismatches(case, &decision);
    // The per-certificate shortcut a host may take decides exactly the same, on both paths,
    // and a preparation for another certificate is ignored.
    if let ClientCert::Present(identity) = client {
        let prepared = policy.prepare(identity);
        for as_sent in [false, true] {
            let plain = evaluate(None, as_sent);
            let shortcut = evaluate(Some(&prepared), as_sent);
            if shortcut != plain {
                problems.push(format!(
                    "evaluate_prepared (as sent: {as_sent}) decided {shortcut:?}, not {plain:?}"
                ));
            }
        }
        let other = Identity::parse(&cert_bytes("healthcare/admin-bob").unwrap_or_default());
        if let Ok(other) = &other {
            let foreign = policy.prepare(other);
            let shortcut = evaluate(Some(&foreign), false);
            if shortcut != decision {
                problems.push(format!(
                    "a preparation for another certificate was used: {shortcut:?}"
                ));
            }
        }
    }
    problems.extend(forward_header_mismatches(
        case, policy, client, now, &decision,
    ));
    Ok(problems)
}

/// The `forward_headers` part of `upstream_headers`: the core computes those values
/// (`Policy::forward_header_values`, from a usable identity only); the filter just sets them.
/// Other headers (removals, XFCC, shadow) are the filter's and are checked there.
fn forward_header_mismatches(
    case: &Case,
    policy: &Policy,
    client: ClientCert<'_>,
    now: UnixTime,
    decision: &Decision,
) -> Vec<String> {
    let usable = policy.check_identity(client, now).ok();
    // What a host may compute once per certificate is what the decision gives, whenever the
    // rules were reached (a 400 is decided before roles are computed).
    let mut problems = Vec::new();
    if let (Some(identity), false) = (usable, decision.status == Status::BadRequest) {
        let per_certificate = policy.forward_header_values_of(identity);
        let per_decision = policy.forward_header_values(identity, decision);
        if per_certificate != per_decision {
            problems.push(format!(
                "forward_header_values_of {per_certificate:?} != forward_header_values {per_decision:?}"
            ));
        }
    }
    let expected = &case.expect_for(Layer::Core).upstream_headers;
    if expected.is_empty() {
        return problems;
    }
    let actual = match usable {
        Some(identity) => policy.forward_header_values(identity, decision),
        None => Vec::new(),
    };
    problems.extend(policy.forward_headers().iter().filter_map(|(name, _)| {
        let want = expected.get(name)?;
        let got = actual.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        (want.as_ref() != got)
            .then(|| format!("forward header {name}: expected {want:?}, got {got:?}"))
    }));
    problems
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

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_core_case_matches_the_core() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Core))
        .collect();
    assert!(!cases.is_empty(), "no case runs on the core layer");

    let mut policies = Policies(HashMap::new());
    let mut failures = Vec::new();
    for case in &cases {
        let problems = run(case, &mut policies).unwrap_or_else(|why| vec![why]);
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
