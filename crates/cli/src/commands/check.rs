//! `check`: the decision the filter would make for one request, with the why: normalised path,
//! identity checks, roles held (which matcher matched which value), every matching rule and its
//! verdict, the final status and exact core reason, and the upstream view on allow.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{ArgGroup, Args};
use mtls_authz_core::policy::raw::RawRule;
use mtls_authz_core::policy::{RawPolicy, RoleGrant};
use mtls_authz_core::{
    normalize_path, xfcc, CertError, ClientCert, Decision, Identity, Mode, NormalizedPath, Policy,
    Request, Selector, Source,
};
use serde::Serialize;

use crate::clock;
use crate::document::{AUTHENTICATED, PUBLIC};
use crate::error::CliError;
use crate::load;
use crate::output::{self, quote, Exit, Format, Report};
use crate::path_pattern;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("client").required(true).args(["cert", "no_cert"])))]
pub(crate) struct CheckArgs {
    /// Policy document (v1 JSON).
    #[arg(long)]
    policy: PathBuf,
    /// Client certificate (PEM or DER), presented as the TLS peer certificate.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// The client presents no TLS certificate.
    #[arg(long)]
    no_cert: bool,
    /// Request method, exactly as sent.
    #[arg(long)]
    method: String,
    /// Request target (`:path`), query included, before normalisation.
    #[arg(long)]
    path: String,
    /// Request header `name:value` (repeatable); `x-forwarded-client-cert` is read when the
    /// policy lists the `xfcc` source.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Evaluate at this time (RFC 3339) instead of now.
    #[arg(long)]
    time: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Headers the filter always strips: method overrides cannot change the method we authorised.
const METHOD_OVERRIDE_HEADERS: &[&str] = &[
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];
const XFCC_HEADER: &str = "x-forwarded-client-cert";
/// Shadow mode reports the enforce verdict to the upstream in this header.
const SHADOW_HEADER: &str = "x-mtls-authz-shadow";

fn parse_header(raw: &str) -> Result<(String, String), CliError> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| CliError::argument("--header", format!("`{raw}` is not NAME:VALUE")))?;
    let name = name.trim().to_ascii_lowercase();
    let is_token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(CliError::argument(
            "--header",
            format!("`{raw}`: header name must be an HTTP token"),
        ));
    }
    Ok((name, value.trim().to_owned()))
}

/// Where the certificate came from, for the explanation.
#[derive(Debug)]
enum Presented {
    None,
    Peer(Identity),
    Xfcc(Result<Identity, CertError>),
    XfccMalformed(String),
}

/// Follows `identity.sources` like the filter: the first source that yields a certificate wins.
fn present_certificate(
    policy: &Policy,
    peer: Option<Identity>,
    headers: &[(String, String)],
) -> Result<Presented, CliError> {
    let xfcc_value: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == XFCC_HEADER)
        .map(|(_, v)| v.as_str())
        .collect();
    let mut peer = peer;
    for source in policy.sources() {
        match source {
            Source::PeerCertificate => {
                if let Some(identity) = peer.take() {
                    return Ok(Presented::Peer(identity));
                }
            }
            Source::Xfcc if !xfcc_value.is_empty() => {
                return Ok(match xfcc::last_element_cert(&xfcc_value.join(",")) {
                    Ok(Some(pem)) => Presented::Xfcc(Identity::parse(&pem)),
                    Ok(None) => continue,
                    Err(e) => Presented::XfccMalformed(e.to_string()),
                });
            }
            Source::Xfcc => {}
        }
    }
    Ok(Presented::None)
}

/// [`RoleGrant`] for JSON output.
#[derive(Serialize)]
struct JsonGrant {
    role: String,
    matcher: usize,
    evidence: Vec<JsonEvidence>,
}

#[derive(Serialize)]
struct JsonEvidence {
    selector: String,
    value: String,
    pattern: String,
}

fn json_grants(grants: &[RoleGrant]) -> Vec<JsonGrant> {
    grants
        .iter()
        .map(|g| JsonGrant {
            role: g.role.clone(),
            matcher: g.matcher,
            evidence: g
                .evidence
                .iter()
                .map(|e| JsonEvidence {
                    selector: e.selector.clone(),
                    value: e.value.clone(),
                    pattern: e.pattern.clone(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct RuleVerdict {
    name: String,
    index: usize,
    allow: Vec<String>,
    /// Allowed roles this client holds (reserved roles included).
    held: Vec<String>,
    /// `{name}` captures and the bind verdict for each bound one.
    binds: Vec<BindVerdict>,
}

#[derive(Serialize)]
struct BindVerdict {
    param: String,
    value: String,
    selector: String,
    holds: bool,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    request: JsonRequest<'a>,
    normalized_path: Option<String>,
    certificate: Option<JsonCertificate>,
    identity_rejection: Option<&'static str>,
    roles: Vec<JsonGrant>,
    matching_rules: &'a [RuleVerdict],
    decision: JsonDecision,
    mode: &'static str,
    /// Whether the request reaches the upstream (allowed, or any request in shadow mode).
    forwarded: bool,
    upstream_path: Option<&'a str>,
    upstream_headers: Vec<(String, String)>,
    removed_headers: Vec<String>,
}

#[derive(Serialize)]
struct JsonRequest<'a> {
    method: &'a str,
    path: &'a str,
    time: String,
}

#[derive(Serialize)]
struct JsonCertificate {
    source: &'static str,
    subject: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonDecision {
    allowed: bool,
    status: u16,
    reason: String,
    rule: Option<String>,
}

pub(crate) fn run(args: &CheckArgs) -> Result<Report, CliError> {
    let loaded = load::policy(&args.policy)?;
    let now = clock::now_or(args.time.as_deref())?;
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let peer = match &args.cert {
        Some(file) => Some(load::certificate(file)?),
        None => None,
    };
    let presented = present_certificate(&loaded.policy, peer, &headers)?;
    let malformed_xfcc = CertError::Invalid {
        field: "x-forwarded-client-cert",
        detail: String::from("malformed header"),
    };
    let client = match &presented {
        Presented::None => ClientCert::Absent,
        Presented::Peer(identity) | Presented::Xfcc(Ok(identity)) => ClientCert::Present(identity),
        Presented::Xfcc(Err(e)) => ClientCert::Invalid(e),
        Presented::XfccMalformed(_) => ClientCert::Invalid(&malformed_xfcc),
    };
    let request = Request {
        method: &args.method,
        path: &args.path,
    };
    let decision = loaded.policy.evaluate(&request, client, now);
    let normalized = normalize_path(&args.path).ok();
    let checked = loaded.policy.check_identity(client, now);
    let rejection = checked.err();
    let identity = checked.ok();
    let grants = identity
        .map(|i| loaded.policy.role_grants(i))
        .unwrap_or_default();
    let verdicts: Vec<RuleVerdict> = match &normalized {
        Some(path) => loaded
            .policy
            .matching_rules(&args.method, path)
            .into_iter()
            .filter_map(|index| {
                let rule = loaded.doc.rules.get(index)?;
                Some(rule_verdict(rule, index, identity, &grants, &path.segments))
            })
            .collect(),
        None => Vec::new(),
    };
    let (upstream_headers, removed_headers) =
        upstream_view(&loaded.policy, identity, &decision, &headers);
    let certificate = certificate_summary(&presented);
    let stdout = match args.format {
        Format::Json => output::json(&JsonCheck {
            request: JsonRequest {
                method: &args.method,
                path: &args.path,
                time: clock::format_rfc3339(now),
            },
            normalized_path: normalized.as_ref().map(|n| n.path.clone()),
            certificate,
            identity_rejection: rejection.map(|r| r.code()),
            roles: json_grants(&grants),
            matching_rules: &verdicts,
            decision: JsonDecision {
                allowed: decision.is_allowed(),
                status: decision.status.code(),
                reason: decision.reason.to_string(),
                rule: decision.rule.clone(),
            },
            mode: match loaded.policy.mode() {
                Mode::Enforce => "enforce",
                Mode::Shadow => "shadow",
            },
            forwarded: decision.is_allowed() || loaded.policy.mode() == Mode::Shadow,
            upstream_path: decision.upstream_path.as_deref(),
            upstream_headers,
            removed_headers,
        }),
        Format::Text => render_text(&TextInput {
            args,
            doc: &loaded.doc,
            now,
            normalized: normalized.as_ref(),
            certificate: &certificate,
            rejection: rejection.map(|r| r.code()),
            grants: &grants,
            verdicts: &verdicts,
            decision: &decision,
            mode: loaded.policy.mode(),
            upstream_headers: &upstream_headers,
            removed_headers: &removed_headers,
        }),
    };
    Ok(Report {
        stdout,
        exit: if decision.is_allowed() {
            Exit::Ok
        } else {
            Exit::Finding
        },
    })
}

fn certificate_summary(presented: &Presented) -> Option<JsonCertificate> {
    match presented {
        Presented::None => None,
        Presented::Peer(i) => Some(JsonCertificate {
            source: "peer_certificate",
            subject: Some(i.subject.rfc4514.clone()),
            error: None,
        }),
        Presented::Xfcc(Ok(i)) => Some(JsonCertificate {
            source: "xfcc",
            subject: Some(i.subject.rfc4514.clone()),
            error: None,
        }),
        Presented::Xfcc(Err(e)) => Some(JsonCertificate {
            source: "xfcc",
            subject: None,
            error: Some(e.to_string()),
        }),
        Presented::XfccMalformed(e) => Some(JsonCertificate {
            source: "xfcc",
            subject: None,
            error: Some(e.clone()),
        }),
    }
}

fn rule_verdict(
    rule: &RawRule,
    index: usize,
    identity: Option<&Identity>,
    grants: &[RoleGrant],
    segments: &[String],
) -> RuleVerdict {
    let held = rule
        .allow
        .iter()
        .filter(|role| match role.as_str() {
            PUBLIC => true,
            AUTHENTICATED => identity.is_some(),
            _ => grants.iter().any(|g| &g.role == *role),
        })
        .cloned()
        .collect();
    let captured = rule
        .paths
        .iter()
        .find_map(|p| path_pattern::captures(p, segments))
        .unwrap_or_default();
    let binds = rule
        .bind
        .iter()
        .map(|(param, selector)| {
            let value = captured
                .iter()
                .find(|(name, _)| name == param)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let holds = identity.is_some_and(|i| {
                Selector::parse(selector)
                    .map(|s| s.values(i).contains(&value.as_str()))
                    .unwrap_or(false)
            });
            BindVerdict {
                param: param.to_owned(),
                value,
                selector: selector.clone(),
                holds,
            }
        })
        .collect();
    RuleVerdict {
        name: rule.name.clone(),
        index,
        allow: rule.allow.clone(),
        held,
        binds,
    }
}

/// What the upstream sees on allow: forward headers set from the identity, and every header the
/// filter strips (inbound copies of forward headers, method overrides, untrusted XFCC).
/// The request is forwarded when allowed, and always in shadow mode; nothing reaches the
/// upstream otherwise.
fn upstream_view(
    policy: &Policy,
    identity: Option<&Identity>,
    decision: &Decision,
    inbound: &[(String, String)],
) -> (Vec<(String, String)>, Vec<String>) {
    let shadow = policy.mode() == Mode::Shadow;
    if !decision.is_allowed() && !shadow {
        return (Vec::new(), Vec::new());
    }
    let mut set = identity
        .map(|i| policy.forward_header_values(i, decision))
        .unwrap_or_default();
    if shadow {
        set.push((String::from(SHADOW_HEADER), decision.reason.to_string()));
    }
    let xfcc_trusted = policy.sources().contains(&Source::Xfcc);
    let mut removed: Vec<String> = Vec::new();
    for (name, _) in inbound {
        let spoofable = policy.forward_headers().iter().any(|(h, _)| h == name)
            || METHOD_OVERRIDE_HEADERS.contains(&name.as_str())
            || name == SHADOW_HEADER
            || (name == XFCC_HEADER && !xfcc_trusted);
        if spoofable && !removed.contains(name) {
            removed.push(name.clone());
        }
    }
    (set, removed)
}

struct TextInput<'a> {
    args: &'a CheckArgs,
    doc: &'a RawPolicy,
    now: mtls_authz_core::UnixTime,
    normalized: Option<&'a NormalizedPath>,
    certificate: &'a Option<JsonCertificate>,
    rejection: Option<&'static str>,
    grants: &'a [RoleGrant],
    verdicts: &'a [RuleVerdict],
    decision: &'a Decision,
    mode: Mode,
    upstream_headers: &'a [(String, String)],
    removed_headers: &'a [String],
}

fn render_text(t: &TextInput<'_>) -> String {
    let mut out = String::new();
    let args = t.args;
    let _ = writeln!(out, "request:     {} {}", args.method, args.path);
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
    match t.rejection {
        None => {
            let _ = writeln!(out, "identity:    usable");
        }
        Some(code) => {
            let _ = writeln!(out, "identity:    rejected ({code})");
        }
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
            let near: Vec<&str> = near_misses(t.doc, &path.segments);
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
fn near_misses<'a>(doc: &'a RawPolicy, segments: &[String]) -> Vec<&'a str> {
    doc.rules
        .iter()
        .filter(|r| {
            r.methods.is_some()
                && r.paths
                    .iter()
                    .any(|p| path_pattern::captures(p, segments).is_some())
        })
        .map(|r| r.name.as_str())
        .collect()
}
