//! Replays every shared fixture case whose layers include `mock` (tests/fixtures/cases)
//! through the filter's request path on the mock host, and reports EVERY mismatch before
//! failing.
//!
//! The case's certificate is what the TLS peer presented: it is handed over as Envoy's
//! `connection.peer_certificate` (plain PEM for even-numbered cases, URL-encoded PEM for odd
//! ones, so both encodings Envoy uses are exercised; DER fixtures travel PEM-armoured, as a
//! proxy would hand them). XFCC travels as the case's request header.
//!
//! Observed: the client's status and JSON body, the deny log line's reason, the shadow header,
//! and, for forwarded requests, the `:path` and headers the upstream would receive.
//!
//! The cases of the `nginx` layer that the filter decides there (their NGINX expectation has a
//! reason) are replayed a second time on the mock host with NGINX's semantics
//! ([`MockHost::nginx`]: removed headers still reach the upstream, 100 visible entries): the
//! certificate as `ngx.ssl_client_raw_cert` with `ngx.ssl_client_verify` `SUCCESS` (`NONE`
//! without one, `FAILED:...` for one the proxy could not verify), the request-target as
//! `ngx.request_uri`, a connection serial per case, header names with `_` dropped as NGINX's
//! default `ignore_invalid_headers` does, the body handed over whole, and no trailers (NGINX
//! discards them). The real NGINX (tests/e2e/tests/nginx.rs) then shows the mock is not more
//! lenient than NGINX.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test driver: a broken fixture should stop the run loudly"
)]

use std::collections::HashMap;

use mtls_authz_filter::filter::SHADOW_HEADER;
use mtls_authz_filter::host::mock::MockHost;
use mtls_authz_filter::{Filter, Verdict};
use mtls_authz_fixtures::xfcc::{pem_text, url_encode};
use mtls_authz_fixtures::{case_time, load_cases, load_policy, Case, Expect, Layer};

/// The host for one case: request line, headers, clock, and the peer certificate.
fn host_for(case: &Case, index: usize) -> Result<MockHost, String> {
    let mut host = MockHost::new()
        .with_time(case_time(case))
        .with_request(&case.method, &case.path);
    for (name, value) in case.request_headers() {
        // Envoy presents HTTP/1.1's Host as `:authority` (curl sends it as such over HTTP/2).
        let name = if name.eq_ignore_ascii_case("host") {
            String::from(":authority")
        } else {
            name
        };
        host = host.with_header(&name, value);
    }
    if let Some(name) = &case.cert {
        let pem = pem_text(name).ok_or_else(|| format!("cannot read certificate {name}"))?;
        let property = if index % 2 == 0 {
            pem
        } else {
            url_encode(&pem).into_bytes()
        };
        host = host
            .with_property("connection.mtls", [1u8])
            .with_property(
                "connection.peer_certificate_valid",
                [u8::from(case.peer_verified())],
            )
            .with_property("connection.peer_certificate", property);
    }
    for (name, value) in &case.trailers {
        host = host.with_trailer(name, value);
    }
    if let Some(body) = &case.body {
        host = host.with_body(body);
    }
    Ok(host)
}

/// The `reason=` field of the filter's decision log line.
fn logged_reason(host: &MockHost) -> Option<String> {
    host.logs().iter().find_map(|(_, line)| {
        line.split(' ')
            .find_map(|field| field.strip_prefix("reason="))
            .map(str::to_string)
    })
}

fn error_kind(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        _ => "?",
    }
}

/// NGINX's request-line parser (`ngx_http_parse_request_line`, 1.27.4) on an absolute-form
/// target: spaces before it are skipped, the scheme is `[A-Za-z][A-Za-z0-9+.-]*`, the host runs
/// up to `:`, `/`, `?` or a space. Gives the host and the `$request_uri` (the rest, from `/`).
fn nginx_absolute_form(target: &str) -> Option<(&str, &str)> {
    let target = target.trim_start_matches(' ');
    let (scheme, rest) = target.split_once("://")?;
    let mut scheme_bytes = scheme.bytes();
    let first_is_letter = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_is_letter || !scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b)) {
        return None;
    }
    let host_end = rest.find([':', '/', '?', ' ']).unwrap_or(rest.len());
    let uri = rest.find('/').map_or("/", |slash| &rest[slash..]);
    Some((&rest[..host_end], uri))
}

/// The host for one case as NGINX shows it to the filter (see the module docs).
fn nginx_host_for(case: &Case, index: usize) -> Result<MockHost, String> {
    // NGINX keeps only the path of an absolute-form target as `$request_uri` and routes on
    // (and shows as `$host`) the target's host.
    let absolute = nginx_absolute_form(&case.path);
    let request_uri = absolute.map_or(case.path.as_str(), |(_, uri)| uri);
    let mut host = MockHost::nginx()
        .with_time(case_time(case))
        .with_request(&case.method, request_uri)
        .with_property("ngx.request_uri", request_uri)
        .with_property("ngx.connection", index.to_string());
    if let Some((target_host, _)) = absolute {
        host = host.with_absolute_form_host(target_host);
    }
    for (name, value) in case.request_headers() {
        if !name.contains('_') {
            host = host.with_header(&name, value);
        }
    }
    host = match &case.cert {
        Some(name) => {
            let pem = pem_text(name).ok_or_else(|| format!("cannot read certificate {name}"))?;
            // A certificate the proxy could not verify reaches the filter under
            // `ssl_verify_client optional_no_ca` with NGINX's reason.
            let verify = if case.peer_verified() {
                "SUCCESS"
            } else {
                "FAILED:self-signed certificate"
            };
            host.with_property("ngx.ssl_client_verify", verify)
                .with_property("ngx.ssl_client_raw_cert", pem)
        }
        None => host.with_property("ngx.ssl_client_verify", "NONE"),
    };
    for (name, value) in &case.trailers {
        host = host.with_trailer(name, value);
    }
    if let Some(body) = &case.body {
        host = host.with_body(body);
    }
    Ok(host)
}

/// Every way the filter's behaviour differs from the case.
fn mismatches(expect: &Expect, filter: &Filter, verdict: Verdict, host: &MockHost) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |field: &str, expected: String, actual: String| {
        if expected != actual {
            out.push(format!("{field}: expected {expected}, got {actual}"));
        }
    };
    let status = match (&verdict, host.local_response()) {
        (Verdict::Continue, None) => 200,
        (Verdict::Respond, Some(response)) => response.status,
        (verdict, response) => {
            return vec![format!(
                "inconsistent: verdict {verdict:?} with local response {response:?}"
            )]
        }
    };
    check("status", expect.status.to_string(), status.to_string());
    let shadow = filter.config().policy.mode() == mtls_authz_core::Mode::Shadow;

    if let Some(response) = host.local_response() {
        check(
            "content-type",
            "Some(\"application/json\")".into(),
            format!("{:?}", response.header("content-type")),
        );
        let body = response.json();
        match &expect.body {
            Some(expected) => check("body", expected.to_string(), body.to_string()),
            None => {
                check(
                    "body.error",
                    format!("{:?}", error_kind(expect.status)),
                    body["error"].to_string(),
                );
                check(
                    "body.request_id",
                    "a string".into(),
                    if body["request_id"].as_str().is_some_and(|s| !s.is_empty()) {
                        "a string".into()
                    } else {
                        body["request_id"].to_string()
                    },
                );
                if filter.config().policy.expose_reason() {
                    if let Some(reason) = &expect.reason {
                        check(
                            "body.reason",
                            format!("{reason:?}"),
                            body["reason"].to_string(),
                        );
                    }
                }
            }
        }
        if let Some(reason) = &expect.reason {
            check(
                "logged reason",
                format!("{:?}", Some(reason)),
                format!("{:?}", logged_reason(host)),
            );
        }
        return out;
    }

    // Forwarded: what the upstream would receive.
    if shadow {
        if let Some(reason) = &expect.reason {
            check(
                SHADOW_HEADER,
                format!("{:?}", Some(reason)),
                format!("{:?}", host.header_values(SHADOW_HEADER).first()),
            );
        }
    }
    if let Some(path) = &expect.upstream_path {
        check(
            "upstream :path",
            format!("{:?}", vec![path]),
            format!("{:?}", host.header_values(":path")),
        );
    }
    for (name, expected) in &expect.upstream_headers {
        let actual = host.header_values(name);
        let expected: Vec<String> = expected.iter().cloned().collect();
        check(
            &format!("upstream {name}"),
            format!("{expected:?}"),
            format!("{actual:?}"),
        );
    }
    for (name, expected) in &expect.upstream_trailers {
        let actual = host.trailer_values(name);
        let expected: Vec<String> = expected.iter().cloned().collect();
        check(
            &format!("upstream trailer {name}"),
            format!("{expected:?}"),
            format!("{actual:?}"),
        );
    }
    out
}

/// Runs the filter's request path: headers, then the trailers of a forwarded request.
/// A held request gets its whole body at once (as Envoy hands it after buffering).
fn run_request(filter: &Filter, host: &mut MockHost, case: &Case) -> Verdict {
    let mut verdict = filter.on_request_headers(host);
    if let Verdict::WaitForBody(pending) = verdict {
        let size = case.body.as_ref().map_or(0, String::len);
        verdict = filter.on_request_body(host, pending, size, true);
    }
    // Only a host that hands trailers on calls the trailer hook (NGINX never does).
    if verdict == Verdict::Continue && !host.trailers().is_empty() {
        return filter.on_request_trailers(host);
    }
    verdict
}

#[test]
fn every_mock_case_matches_the_filter() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Mock))
        .collect();
    assert!(!cases.is_empty(), "no case runs on the mock layer");

    let mut policies: HashMap<String, String> = HashMap::new();
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let policy = policies
            .entry(case.policy.clone())
            .or_insert_with(|| load_policy(&case.policy));
        let problems = match host_for(case, index) {
            Err(why) => vec![why],
            Ok(mut host) => match Filter::configure(&mut host, Some(policy.as_bytes())) {
                Err(err) => vec![format!("policy {}: {err}", case.policy)],
                Ok(filter) => {
                    let verdict = run_request(&filter, &mut host, case);
                    mismatches(case.expect_for(Layer::Mock), &filter, verdict, &host)
                }
            },
        };
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({} {} {:?}, cert {}, {}):\n      {}",
                case.label(),
                case.policy,
                case.method,
                case.path,
                case.cert.as_deref().unwrap_or("none"),
                if index % 2 == 0 {
                    "plain PEM"
                } else {
                    "URL-encoded PEM"
                },
                problems.join("\n      ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} mock cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
    println!("{} mock cases passed", cases.len());
}

#[test]
fn every_case_the_filter_decides_in_nginx_matches_the_nginx_mock() {
    let cases: Vec<Case> = load_cases()
        .into_iter()
        .filter(|case| case.runs_on(Layer::Nginx))
        .collect();
    let decided: Vec<&Case> = cases
        .iter()
        .filter(|case| case.expect_for_nginx(false).reason.is_some())
        .collect();
    assert!(
        !decided.is_empty(),
        "no nginx case is decided by the filter"
    );

    let mut policies: HashMap<String, String> = HashMap::new();
    let mut failures = Vec::new();
    for (index, case) in decided.iter().enumerate() {
        let policy = policies
            .entry(case.policy.clone())
            .or_insert_with(|| load_policy(&case.policy));
        let problems = match nginx_host_for(case, index) {
            Err(why) => vec![why],
            Ok(mut host) => match Filter::configure(&mut host, Some(policy.as_bytes())) {
                Err(err) => vec![format!("policy {}: {err}", case.policy)],
                Ok(filter) => {
                    let verdict = run_request(&filter, &mut host, case);
                    mismatches(case.expect_for_nginx(false), &filter, verdict, &host)
                }
            },
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
        "{} of {} nginx-mock cases failed:\n  {}",
        failures.len(),
        decided.len(),
        failures.join("\n  ")
    );
    println!(
        "{} nginx cases the filter decides passed on the NGINX mock ({} more are NGINX's own answers)",
        decided.len(),
        cases.len() - decided.len()
    );
}
