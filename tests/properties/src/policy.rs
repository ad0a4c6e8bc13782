//! `policy`: the policy document ([`RawPolicy::from_json`], [`Policy::compile`]).

use mtls_authz_core::policy::raw::{RawPolicy, RawRule};
use mtls_authz_core::{
    normalize_path, ClientCert, Decision, Policy, Request, RequestAuthority, UnixTime,
};

use crate::identities;
use crate::json_writer;

/// Rules and patterns per rule that requests are derived from (bounds the work per input).
const MAX_RULES: usize = 24;
const MAX_PATHS_PER_RULE: usize = 4;

/// Checks one document: see the crate table.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let raw = RawPolicy::from_json(text);
    let compiled = raw.clone().and_then(Policy::compile);
    let direct = Policy::from_json(text);
    assert_eq!(
        compiled.as_ref().map(|_| ()).map_err(ToString::to_string),
        direct.as_ref().map(|_| ()).map_err(ToString::to_string),
        "Policy::from_json and RawPolicy::from_json + compile disagree"
    );
    let (Ok(raw), Ok(policy)) = (raw, compiled) else {
        return;
    };
    let written = json_writer::policy(&raw);
    let reread = RawPolicy::from_json(&written)
        .unwrap_or_else(|e| panic!("the policy written back is refused: {e}\n{written}"));
    assert_eq!(
        reread, raw,
        "the policy written back reads differently:\n{written}"
    );
    let recompiled = Policy::compile(reread)
        .unwrap_or_else(|e| panic!("the policy written back does not compile: {e}\n{written}"));

    for (method, path) in requests(&raw.rules) {
        assert_router_agrees(&raw.rules, &policy, &method, &path);
        let request = Request {
            method: &method,
            path: &path,
        };
        let now = UnixTime(1_795_392_000); // 2026-11-23T00:00:00Z
        let mut clients = vec![ClientCert::Absent];
        clients.extend(identities::all().iter().map(ClientCert::Present));
        let hosts = authorities(&raw.rules);
        for client in clients {
            let first = policy.evaluate(&request, client, now);
            let second = recompiled.evaluate(&request, client, now);
            assert_eq!(
                summary(&first),
                summary(&second),
                "{method} {path}: the recompiled policy decides differently"
            );
            // v1.1 `hosts`: on every host the rules name, too.
            for host in &hosts {
                let authority = RequestAuthority::sent(host);
                let on_host = |p: &Policy| {
                    summary(
                        &p.evaluate_with_authority(&request, authority, client, now, None, false),
                    )
                };
                assert_eq!(
                    on_host(&policy),
                    on_host(&recompiled),
                    "{method} {path} on {host}: the recompiled policy decides differently"
                );
            }
            if let ClientCert::Present(identity) = client {
                assert_eq!(
                    policy.forward_header_values(identity, &first),
                    recompiled.forward_header_values(identity, &second),
                    "{method} {path}: the recompiled policy forwards differently"
                );
            }
        }
    }
}

fn summary(decision: &Decision) -> String {
    format!(
        "{} {} {:?} {:?} {:?}",
        decision.status.code(),
        decision.reason,
        decision.rule,
        decision.roles,
        decision.upstream_path
    )
}

/// Authorities that reach rules with v1.1 `hosts`: each pattern with its wildcard label
/// filled in, in upper case (hosts compare ignoring case), at most 8.
fn authorities(rules: &[RawRule]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|rule| rule.hosts.as_ref())
        .flatten()
        .map(|pattern| {
            let host = match pattern.split_once('.') {
                Some((first, rest)) if first == "*" || first.starts_with('{') => {
                    format!("x.{rest}")
                }
                _ => pattern.clone(),
            };
            host.to_ascii_uppercase()
        })
        .take(8)
        .collect()
}

/// Requests that reach the rules: each path pattern with its wildcards filled in, for the
/// rule's methods and one it does not list, plus two that match nothing.
fn requests(rules: &[RawRule]) -> Vec<(String, String)> {
    let mut out = vec![
        (String::from("GET"), String::from("/")),
        (String::from("GET"), String::from("/no/such/route")),
    ];
    for rule in rules.iter().take(MAX_RULES) {
        let mut methods: Vec<String> = rule.methods.clone().unwrap_or_default();
        methods.truncate(2);
        methods.push(String::from("PATCH"));
        for pattern in rule.paths.iter().take(MAX_PATHS_PER_RULE) {
            for path in instances(pattern) {
                for method in &methods {
                    out.push((method.clone(), path.clone()));
                }
            }
        }
    }
    out
}

/// Request-targets a path pattern should match: `{name}` and `*` filled with one segment,
/// `**` with none and with two; literal segments percent-encoded where not unreserved.
fn instances(pattern: &str) -> Vec<String> {
    let mut short = String::new();
    let mut long = String::new();
    for segment in pattern.split('/').filter(|s| !s.is_empty()) {
        let (one, other) = match segment {
            "**" => (String::new(), String::from("/d1/d2")),
            "*" => (String::from("/w"), String::from("/w")),
            s if s.starts_with('{') && s.ends_with('}') => {
                (String::from("/v1"), String::from("/v1"))
            }
            literal => {
                let encoded = format!("/{}", encode_segment(literal));
                (encoded.clone(), encoded)
            }
        };
        short.push_str(&one);
        long.push_str(&other);
    }
    for path in [&mut short, &mut long] {
        if path.is_empty() {
            path.push('/');
        }
    }
    vec![short, long]
}

fn encode_segment(literal: &str) -> String {
    let mut out = String::new();
    for b in literal.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The compiled router finds exactly the rules a plain segment-by-segment matcher finds.
fn assert_router_agrees(rules: &[RawRule], policy: &Policy, method: &str, path: &str) {
    let Ok(normalized) = normalize_path(path) else {
        return;
    };
    let expected: Vec<usize> = rules
        .iter()
        .enumerate()
        // `matching_rules` knows no host: rules with v1.1 `hosts` never match there.
        .filter(|(_, rule)| rule.hosts.is_none())
        .filter(|(_, rule)| {
            rule.methods
                .as_ref()
                .is_none_or(|methods| methods.iter().any(|m| m == method))
                && rule
                    .paths
                    .iter()
                    .any(|pattern| pattern_matches(pattern, &normalized.segments))
        })
        .map(|(index, _)| index)
        .collect();
    assert_eq!(
        policy.matching_rules(method, &normalized),
        expected,
        "{method} {path}: the router and a plain matcher disagree"
    );
}

/// Path-pattern semantics (docs/DECISIONS.md "Path patterns"), written plainly.
fn pattern_matches(pattern: &str, segments: &[String]) -> bool {
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut i = 0;
    for (index, part) in parts.iter().enumerate() {
        if *part == "**" && index == parts.len() - 1 {
            return true;
        }
        let Some(segment) = segments.get(i) else {
            return false;
        };
        let matches =
            *part == "*" || (part.starts_with('{') && part.ends_with('}')) || part == segment;
        if !matches {
            return false;
        }
        i += 1;
    }
    i == segments.len()
}
