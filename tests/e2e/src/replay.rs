//! One fixture case against a running proxy (Envoy or NGINX): send it with the case's client
//! certificate (and chain), body and trailers, then check what came back — status, deny body,
//! and for forwarded requests what the echo upstream saw (method, path, headers, trailers,
//! body length). One piece for both proxies' drivers, so they assert the same things the same
//! way.

use std::collections::BTreeMap;

use serde_json::Value;

use mtls_authz_fixtures::{Case, Expect};

use crate::client::{ClientIdentity, Outcome, Protocol, Request, Response};
use crate::demo::{self, DemoFile};

/// The shadow-mode header, agreed in docs/DECISIONS.md.
pub const SHADOW_HEADER: &str = "x-mtls-authz-shadow";

/// What the policy document says about the response shape.
#[derive(Clone, Copy, Debug)]
pub struct PolicyTraits {
    /// `"mode": "shadow"`: denials are forwarded with the verdict in [`SHADOW_HEADER`].
    pub shadow: bool,
    /// `"expose_reason": true`: deny bodies carry the reason (and rule).
    pub expose_reason: bool,
}

impl PolicyTraits {
    /// Reads the two fields from a policy document (absent = false).
    pub fn of(policy_json: &str) -> Self {
        let doc: Value = serde_json::from_str(policy_json).unwrap_or(Value::Null);
        Self {
            shadow: doc.get("mode").and_then(Value::as_str) == Some("shadow"),
            expose_reason: doc.get("expose_reason").and_then(Value::as_bool) == Some(true),
        }
    }
}

/// A deny the filter must have logged: its request id and exact reason on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedDenial {
    /// The request id of the deny body.
    pub request_id: String,
    /// The reason the case expects.
    pub reason: String,
}

/// Prints past the test harness's capture: per-protocol counts belong in every CI log.
pub fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The certificate a TLS client presents: the leaf, with its chain when the fixture has one.
pub fn client_identity(cert: &str) -> ClientIdentity {
    ClientIdentity {
        cert: mtls_authz_fixtures::chain_pem_path(cert)
            .unwrap_or_else(|| mtls_authz_fixtures::cert_pem_path(cert)),
        key: mtls_authz_fixtures::key_path(cert),
    }
}

/// The deny body's `error` for a status.
pub fn error_name(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        _ => "(not a deny status)",
    }
}

/// Sends `case` to the proxy on `port` (the listener the case needs) over `protocol` and
/// checks the outcome against `expect` (the case's expectation for that proxy and protocol).
/// Denials the filter must have logged are appended to `denials`. Returns every mismatch.
pub fn run_case(
    case: &Case,
    expect: &Expect,
    port: u16,
    protocol: Protocol,
    traits: PolicyTraits,
    denials: &mut Vec<LoggedDenial>,
) -> Vec<String> {
    let client = case.cert.as_deref().map(client_identity);
    let headers = case.request_headers();
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    let request = Request {
        port,
        ca_bundle: &ca_bundle,
        protocol,
        method: &case.method,
        target: &case.path,
        headers: &headers,
        client: client.as_ref(),
        body: case.body.as_deref(),
        trailers: &case.trailers,
    };
    // Both mean "no HTTP response": the handshake failed, or the proxy's codec reset the
    // stream or closed the connection.
    match (request.send(), expect.tls_rejected || expect.stream_reset) {
        (Err(err), _) => vec![err.to_string()],
        (Ok(Outcome::NoResponse { .. }), true) => Vec::new(),
        (Ok(Outcome::Response(response)), true) => {
            vec![format!(
                "expected no HTTP response (TLS refusal or stream reset), got HTTP {}",
                response.status
            )]
        }
        (Ok(Outcome::NoResponse { curl_exit, message }), false) => {
            vec![format!(
                "no HTTP response (curl exit {curl_exit}: {message})"
            )]
        }
        (Ok(Outcome::Response(response)), false) => {
            check_response(case, expect, traits, &response, denials)
        }
    }
}

/// One failed case run, for the driver's failure list: `table/id [protocol] METHOD target:`
/// and the mismatches, one per line.
pub fn failure(case: &Case, protocol: Protocol, problems: &[String]) -> String {
    format!(
        "{} [{protocol}] {} {}:\n      {}",
        case.label(),
        case.method,
        case.path,
        problems.join("\n      ")
    )
}

/// Checks one response against the case; returns every mismatch.
pub fn check_response(
    case: &Case,
    expect: &Expect,
    traits: PolicyTraits,
    response: &Response,
    denials: &mut Vec<LoggedDenial>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if response.status != expect.status {
        problems.push(format!(
            "status {} (expected {})",
            response.status, expect.status
        ));
        if !response.body.is_empty() {
            problems.push(format!("body: {}", response.body));
        }
        return problems;
    }
    let echo = match response.echo() {
        Ok(echo) => echo,
        Err(err) => return vec![err.to_string()],
    };
    let headers = case.request_headers();
    if expect.status == 200 {
        let Some(echo) = echo else {
            return vec![String::from(
                "200 but the request never reached the upstream",
            )];
        };
        if echo.method != case.method {
            problems.push(format!(
                "upstream method {:?} (sent {:?})",
                echo.method, case.method
            ));
        }
        if let Some(path) = &expect.upstream_path {
            if &echo.path != path {
                problems.push(format!("upstream path {:?} (expected {path:?})", echo.path));
            }
        }
        let fields = expect
            .upstream_headers
            .iter()
            .map(|(name, want)| ("", name, want, echo.header_values(name)))
            .chain(
                expect
                    .upstream_trailers
                    .iter()
                    .map(|(name, want)| ("trailer ", name, want, echo.trailer_values(name))),
            );
        for (kind, name, want, got) in fields {
            match want {
                Some(value) if got != [value.as_str()] => {
                    problems.push(format!(
                        "upstream {kind}{name}: {got:?} (expected exactly [{value:?}])"
                    ));
                }
                None if !got.is_empty() => {
                    problems.push(format!("upstream {kind}{name}: {got:?} (expected absent)"));
                }
                _ => {}
            }
        }
        if let Some(body) = &case.body {
            if echo.body_bytes != body.len() {
                problems.push(format!(
                    "upstream body of {} bytes (sent {})",
                    echo.body_bytes,
                    body.len()
                ));
            }
        }
        if let Some(reason) = &expect.reason {
            let got = echo.header_values(SHADOW_HEADER);
            if traits.shadow && got != [reason.as_str()] {
                problems.push(format!(
                    "upstream {SHADOW_HEADER}: {got:?} (expected [{reason:?}])"
                ));
            }
            if !traits.shadow && !got.is_empty() {
                problems.push(format!("upstream {SHADOW_HEADER}: {got:?} in enforce mode"));
            }
        }
        return problems;
    }
    if echo.is_some() {
        problems.push(format!(
            "denied with {} but the upstream saw the request",
            expect.status
        ));
    }
    // The filter's deny body (not the proxy's own refusals, whose expectations carry no
    // reason).
    let Some(reason) = &expect.reason else {
        return problems;
    };
    if case.method == "HEAD" {
        return problems; // HEAD responses have no body.
    }
    if response.header("content-type") != Some("application/json") {
        problems.push(format!(
            "deny content-type {:?}",
            response.header("content-type")
        ));
    }
    let body: Value = match serde_json::from_str(&response.body) {
        Ok(body) => body,
        Err(err) => {
            problems.push(format!(
                "deny body is not JSON ({err}): {:?}",
                response.body
            ));
            return problems;
        }
    };
    if let Some(want) = &expect.body {
        if &body != want {
            problems.push(format!("deny body {body} (expected {want})"));
        }
        if let Some(id) = body.get("request_id").and_then(Value::as_str) {
            denials.push(LoggedDenial {
                request_id: id.to_owned(),
                reason: reason.clone(),
            });
        }
        return problems;
    }
    let mut want = serde_json::Map::new();
    want.insert("error".into(), error_name(expect.status).into());
    let sent_request_id = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-request-id"))
        .map(|(_, v)| v.clone());
    let request_id = body
        .get("request_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match sent_request_id {
        Some(sent) => want.insert("request_id".into(), sent.into()),
        // Generated before the filter (Envoy: a UUID) or by it (`mtls-authz-...`).
        None if !request_id.is_empty() => want.insert("request_id".into(), request_id.into()),
        None => None,
    };
    if !request_id.is_empty() {
        denials.push(LoggedDenial {
            request_id: request_id.to_owned(),
            reason: reason.clone(),
        });
    }
    if traits.expose_reason {
        want.insert("reason".into(), reason.clone().into());
        if let Some(rule) = body.get("rule") {
            want.insert("rule".into(), rule.clone());
        }
    }
    if body != Value::Object(want.clone()) {
        problems.push(format!(
            "deny body {body} (expected {})",
            Value::Object(want)
        ));
    }
    problems
}

/// Starts one proxy per item at once (both proxies compile the module at startup: the slow
/// part), keyed by `label`. Panics naming every item that did not start.
pub fn start_in_parallel<I: Sync, T: Send>(
    proxy: &str,
    items: &[I],
    label: impl Fn(&I) -> String,
    start: impl Fn(&I) -> Result<T, String> + Sync,
) -> BTreeMap<String, T> {
    let started: Vec<(String, Result<T, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| {
                let start = &start;
                scope.spawn(move || start(item))
            })
            .collect();
        items
            .iter()
            .map(&label)
            .zip(handles.into_iter().map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(String::from("the start thread panicked")))
            }))
            .collect()
    });
    let mut running = BTreeMap::new();
    let mut errors = Vec::new();
    for (label, result) in started {
        match result {
            Ok(value) => {
                running.insert(label, value);
            }
            Err(err) => errors.push(format!("{label}: {err}")),
        }
    }
    assert!(
        errors.is_empty(),
        "{proxy} did not start:\n{}",
        errors.join("\n\n")
    );
    running
}

/// What a request sent by `tls_client.py` carries besides method and target (see
/// [`send_python`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct PythonExtras<'a> {
    /// Request headers.
    pub headers: &'a [(String, String)],
    /// Request body.
    pub body: Option<&'a str>,
    /// Request trailers.
    pub trailers: &'a [(String, String)],
    /// A request-target that need not be UTF-8 (replaces the target).
    pub raw_target: Option<&'a [u8]>,
    /// Connections, one after the other, each resuming the previous TLS session (0 = 1).
    pub connections: usize,
}

/// One request with fixture client `cert` through `tests/e2e/tls_client.py` (bodies, trailers,
/// raw targets, session resumption): every connection's outcome and whether its TLS session
/// was resumed.
pub fn send_python(
    port: u16,
    protocol: Protocol,
    cert: &str,
    method: &str,
    target: &str,
    extras: PythonExtras<'_>,
) -> Result<Vec<(Outcome, bool)>, crate::E2eError> {
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    let client = client_identity(cert);
    Request {
        port,
        ca_bundle: &ca_bundle,
        protocol,
        method,
        target,
        headers: extras.headers,
        client: Some(&client),
        body: extras.body,
        trailers: extras.trailers,
    }
    .send_python(extras.raw_target, extras.connections.max(1))
}

/// Each outcome's status (`None`: no response) and whether its session was resumed.
pub fn statuses(outcomes: &[(Outcome, bool)]) -> Vec<(Option<u16>, bool)> {
    outcomes
        .iter()
        .map(|(outcome, resumed)| match outcome {
            Outcome::Response(response) => (Some(response.status), *resumed),
            Outcome::NoResponse { .. } => (None, *resumed),
        })
        .collect()
}

/// The demo requests of `file` (examples/envoy/<scenario>.demo.json) against `proxy` on
/// `port`: each must return the status its README shows on both protocols, and `readme` must
/// show each as a curl command. Returns every mismatch.
pub fn demo_request_problems(
    file: &DemoFile,
    proxy: demo::Proxy,
    port: u16,
    readme: &str,
) -> Vec<String> {
    let ca_bundle = mtls_authz_fixtures::ca_bundle_path();
    let mut problems = Vec::new();
    for demo_request in &file.requests {
        let command = demo_request.curl_command(10443);
        if !readme.contains(&command) {
            problems.push(format!("README lacks: {command}"));
        }
        let expect = demo_request.expect_on(proxy);
        let client = client_identity(&demo_request.cert);
        for protocol in Protocol::ALL {
            let request = Request {
                port,
                ca_bundle: &ca_bundle,
                protocol,
                method: &demo_request.method,
                target: &demo_request.path,
                headers: &demo_request.headers,
                client: Some(&client),
                body: None,
                trailers: &[],
            };
            match request.send() {
                Ok(Outcome::Response(response)) if response.status == expect => {}
                Ok(Outcome::Response(response)) => problems.push(format!(
                    "{} [{protocol}] {} {}: {} (README says {expect}) {}",
                    file.policy,
                    demo_request.method,
                    demo_request.path,
                    response.status,
                    response.body
                )),
                Ok(Outcome::NoResponse { curl_exit, message }) => problems.push(format!(
                    "{} [{protocol}] {}: curl exit {curl_exit}: {message}",
                    file.policy, demo_request.path
                )),
                Err(err) => problems.push(format!("{} [{protocol}]: {err}", file.policy)),
            }
        }
    }
    problems
}

/// The denials of which `log` has no line naming both the request id and the reason.
pub fn missing_log_lines<'a>(log: &str, denials: &'a [LoggedDenial]) -> Vec<&'a LoggedDenial> {
    denials
        .iter()
        .filter(|denial| {
            !log.lines()
                .any(|l| l.contains(&denial.request_id) && l.contains(&denial.reason))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_traits_read_mode_and_expose_reason() {
        let traits = PolicyTraits::of(r#"{"mode": "shadow", "expose_reason": true}"#);
        assert!(traits.shadow && traits.expose_reason);
        let traits = PolicyTraits::of(r#"{"rules": []}"#);
        assert!(!traits.shadow && !traits.expose_reason);
    }

    #[test]
    fn a_denial_is_logged_only_with_its_id_and_reason_on_one_line() {
        let denials = [LoggedDenial {
            request_id: "r1".into(),
            reason: "forbidden:no_rule_matched".into(),
        }];
        assert!(
            missing_log_lines("x reason=forbidden:no_rule_matched request_id=r1", &denials)
                .is_empty()
        );
        assert_eq!(
            missing_log_lines("request_id=r1\nreason=forbidden:no_rule_matched", &denials).len(),
            1
        );
    }
}
