//! Text rendering of a `check` report.

use std::fmt::Write as _;

use mtls_authz_core::policy::{RawPolicy, RoleGrant};
use mtls_authz_core::Policy;
use mtls_authz_core::{Decision, Mode, NormalizedPath, UnixTime};

use super::{CheckArgs, JsonCertificate, JsonTokenPart, RuleVerdict};
use crate::clock;
use crate::output::quote;

pub(super) struct TextInput<'a> {
    pub(super) args: &'a CheckArgs,
    /// v1.1: the authority, when `--host` gave it or the policy reads it.
    pub(super) host: Option<&'a str>,
    pub(super) doc: &'a RawPolicy,
    pub(super) policy: &'a Policy,
    pub(super) now: UnixTime,
    pub(super) normalized: Option<&'a NormalizedPath>,
    pub(super) certificate: &'a Option<JsonCertificate>,
    pub(super) rejection: Option<&'static str>,
    pub(super) grants: &'a [RoleGrant],
    /// v1.1: the token part, when the policy has `tokens`.
    pub(super) token: Option<&'a JsonTokenPart>,
    pub(super) verdicts: &'a [RuleVerdict],
    pub(super) decision: &'a Decision,
    pub(super) mode: Mode,
    pub(super) upstream_headers: &'a [(String, String)],
    pub(super) removed_headers: &'a [String],
    pub(super) notes: &'a [String],
}

pub(super) fn render_text(t: &TextInput<'_>) -> String {
    let mut out = String::new();
    let args = t.args;
    let _ = writeln!(out, "request:     {} {}", args.method, args.path);
    if let Some(host) = t.host {
        let _ = writeln!(out, "host:        {host}");
    }
    let _ = writeln!(out, "time:        {}", clock::format_rfc3339(t.now));
    match t.normalized {
        Some(path) => {
            let _ = writeln!(out, "path:        {}", path.path);
        }
        None => {
            let _ = writeln!(
                out,
                "path:        cannot be normalised (rejected before routing)"
            );
        }
    }
    match t.certificate {
        None => {
            let _ = writeln!(out, "certificate: none presented");
        }
        Some(c) => {
            let what = c
                .subject
                .as_deref()
                .map(quote)
                .or_else(|| c.error.clone())
                .unwrap_or_default();
            let _ = writeln!(out, "certificate: {} from {}", what, c.source);
        }
    }
    for note in t.notes {
        let _ = writeln!(out, "note:        {note}");
    }
    match t.rejection {
        None => {
            let _ = writeln!(out, "identity:    usable");
        }
        Some(code) => {
            let _ = writeln!(out, "identity:    rejected ({code})");
        }
    }
    if let Some(token) = t.token {
        let use_ = if token.required {
            "required by a matching rule"
        } else {
            "ignored: no matching rule requires a token"
        };
        let _ = writeln!(
            out,
            "token:       {} ({} value{}): {} ({use_})",
            token.header,
            token.values,
            if token.values == 1 { "" } else { "s" },
            token.verdict
        );
        let _ = writeln!(out, "             {}", token.detail);
    }
    if t.rejection.is_none() {
        if t.grants.is_empty() {
            let _ = writeln!(out, "roles:       none (only `authenticated`)");
        } else {
            let _ = writeln!(out, "roles:");
            for grant in t.grants {
                let _ = writeln!(out, "  {}", describe_grant(grant));
            }
        }
    }
    if let Some(path) = t.normalized {
        if t.verdicts.is_empty() {
            let near: Vec<&str> = near_misses(t.policy, t.doc, path);
            let _ = writeln!(
                out,
                "rules:       none matches {} {}",
                args.method, path.path
            );
            if !near.is_empty() {
                let _ = writeln!(
                    out,
                    "             (path matches {} but not method {})",
                    near.join(", "),
                    args.method
                );
            }
        } else {
            let _ = writeln!(out, "rules matching (policy order):");
            for v in t.verdicts {
                let held = if v.held.is_empty() {
                    String::from("none held")
                } else {
                    format!("held: {}", v.held.join(", "))
                };
                let _ = writeln!(
                    out,
                    "  {:<16} allow [{}]; {held}",
                    v.name,
                    v.allow.join(", ")
                );
                for b in &v.binds {
                    let verdict = if b.holds { "holds" } else { "fails" };
                    let _ = writeln!(
                        out,
                        "  {:<16} bind {{{}}}={} against {}: {verdict}",
                        "",
                        b.param,
                        quote(&b.value),
                        b.selector
                    );
                }
            }
        }
    }
    let d = t.decision;
    let verdict = if d.is_allowed() { "ALLOW" } else { "DENY" };
    let _ = writeln!(out, "decision:    {verdict} {}", d.status.code());
    let _ = writeln!(out, "reason:      {}", d.reason);
    let shadow = t.mode == Mode::Shadow;
    if shadow {
        let _ = writeln!(
            out,
            "mode:        shadow (the filter forwards the request whatever the decision)"
        );
    }
    if d.is_allowed() || shadow {
        if let Some(up) = &d.upstream_path {
            let _ = writeln!(out, "upstream:    {} {up}", args.method);
        }
        for (name, value) in t.upstream_headers {
            let _ = writeln!(out, "  set        {name}: {value}");
        }
        for name in t.removed_headers {
            let _ = writeln!(out, "  removed    {name} (inbound)");
        }
    }
    out
}

/// One line saying why a role is held: `role  matcher N: selector "value" matches pattern; ...`.
pub(crate) fn describe_grant(grant: &RoleGrant) -> String {
    let why: Vec<String> = grant
        .evidence
        .iter()
        .map(|e| {
            if e.selector == "issuer_pin" {
                format!("issuer_pin: issuer matches issuers.{}", e.value)
            } else {
                format!("{} {} matches {}", e.selector, quote(&e.value), e.pattern)
            }
        })
        .collect();
    format!(
        "{:<12} matcher {}: {}",
        grant.role,
        grant.matcher,
        why.join("; ")
    )
}

/// Rules whose path matches but whose methods do not: the usual reason for "no rule matched".
fn near_misses<'a>(policy: &Policy, doc: &'a RawPolicy, path: &NormalizedPath) -> Vec<&'a str> {
    policy
        .rules_matching_path(path)
        .into_iter()
        .filter_map(|index| doc.rules.get(index))
        .filter(|r| r.methods.is_some())
        .map(|r| r.name.as_str())
        .collect()
}
