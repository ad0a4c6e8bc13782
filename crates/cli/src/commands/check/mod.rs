//! `check`: the decision the filter would make for one request, with the why: normalised path,
//! identity checks, roles held (which matcher matched which value), every matching rule and its
//! verdict, the final status and exact core reason, and the upstream view on allow.

mod render;
mod request;

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use mtls_authz_core::policy::raw::RawRule;
use mtls_authz_core::policy::{
    HeaderToken, RoleGrant, RuleMatch, TokenPolicy, DEFAULT_TOKEN_HEADER,
};
use mtls_authz_core::token::{Claims, JwksLimits, KeySet};
use mtls_authz_core::{
    normalize_path, ClientCert, Identity, Mode, Request, RequestAuthority, Source,
};
use serde::Serialize;

use crate::clock;
use crate::document::{AUTHENTICATED, PUBLIC};
use crate::error::CliError;
use crate::load;
use crate::output::{self, Exit, Format, Report};

pub(crate) use render::describe_grant;
use render::{render_text, TextInput};
use request::{parse_header, present_certificate, upstream_view, Presented};

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
    /// The proxy let `--cert` through without verifying it (Envoy
    /// `connection.peer_certificate_valid` false: `ACCEPT_UNTRUSTED`, or a resumed TLS
    /// session on Envoy 1.40).
    #[arg(long, requires = "cert")]
    cert_unverified: bool,
    /// Request method, exactly as sent.
    #[arg(long)]
    method: String,
    /// Request target (`:path`), query included, before normalisation.
    #[arg(long)]
    path: String,
    /// v1.1: the request's authority (`:authority`, or HTTP/1.1 `Host`; default: a `host`
    /// `--header`), e.g.
    /// `records.example.org` (a port is accepted and ignored); read only when the policy's rules
    /// have `hosts` (without it such a policy answers `bad_request:authority_missing`).
    #[arg(long, value_name = "AUTHORITY")]
    host: Option<String>,
    /// Request header `name:value` (repeatable); `x-forwarded-client-cert` is read when the
    /// policy lists the `xfcc` source.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// v1.1: the request's access token (the token, or a file holding it), sent in the policy's
    /// `tokens.header` (`Authorization: Bearer` by default); the report explains the token part
    /// of the decision. A token header given with `--header` is sent as well.
    #[arg(long, value_name = "TOKEN|FILE")]
    token: Option<String>,
    /// Request body; with the policy's `form_body_check`, an allowed form body (per the
    /// `content-type` header) is checked for method overrides as the filter does.
    #[arg(long)]
    body: Option<String>,
    /// Evaluate at this time (RFC 3339) instead of now.
    #[arg(long)]
    time: Option<String>,
    /// v1.1: a CRL (PEM or DER) to judge against, as if the proxy had fetched it (repeatable):
    /// offered to every issuer with `revocation` whose CA verifies it, after the inline ones.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// v1.1: a JWKS to verify the token with, as if the proxy had fetched it from
    /// `tokens.jwks_fetch` (it replaces the inline `jwks`).
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
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
    /// v1.1: the rule allows only with a token that verifies (shown only when set).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    require_token: bool,
}

#[derive(Serialize)]
struct BindVerdict {
    param: String,
    value: String,
    selector: String,
    holds: bool,
}

/// v1.1: the token part of a decision.
#[derive(Serialize)]
pub(super) struct JsonTokenPart {
    /// The header read.
    header: String,
    /// How many values of it the request carries.
    values: usize,
    /// Whether a rule matching the request requires a token (else the header is ignored).
    required: bool,
    /// `ok`, or the `TokenError` code: verification, then binding and consistency.
    verdict: String,
    /// What the verdict means.
    detail: String,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    request: JsonRequest<'a>,
    normalized_path: Option<String>,
    certificate: Option<JsonCertificate>,
    identity_rejection: Option<&'static str>,
    roles: Vec<JsonGrant>,
    /// v1.1: the token part, when the policy has `tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a JsonTokenPart>,
    matching_rules: &'a [RuleVerdict],
    decision: JsonDecision,
    mode: &'static str,
    /// Whether the request reaches the upstream (allowed, or any request in shadow mode).
    forwarded: bool,
    upstream_path: Option<&'a str>,
    upstream_headers: Vec<(String, String)>,
    removed_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

#[derive(Serialize)]
struct JsonRequest<'a> {
    method: &'a str,
    path: &'a str,
    /// v1.1 `--host`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
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
    let mut notes = Vec::new();
    let peer = match &args.cert {
        Some(file) => {
            let file = load::certificate(file)?;
            notes.extend(load::chain_summary(&file).map(|chain| format!("--cert: {chain}")));
            Some(file.leaf)
        }
        None => None,
    };
    if peer.is_some() && !loaded.policy.sources().contains(&Source::PeerCertificate) {
        notes.push(String::from(
            "--cert is the TLS peer (e.g. an edge proxy); this policy does not take identities from it (identity.sources)",
        ));
    }
    let presented = present_certificate(&loaded.policy, peer, &headers)?;
    let vouched = loaded
        .policy
        .peer_verification()
        .trusts(!args.cert_unverified);
    let client = match &presented {
        Presented::None => ClientCert::Absent,
        Presented::Peer(_) if !vouched => ClientCert::Unverified,
        Presented::Peer(identity) | Presented::Xfcc(Ok(identity)) => ClientCert::Present(identity),
        Presented::Xfcc(Err(e)) => ClientCert::Invalid(e),
        Presented::XfccMalformed(_, e) => ClientCert::Invalid(e),
    };
    let request = Request {
        method: &args.method,
        path: &args.path,
    };
    // `--host`, else the `host` headers (what the proxies read: Envoy presents them as
    // `:authority`), several joined as the filter joins them; shown when given or when the
    // policy reads it.
    let joined_host_headers = mtls_authz_core::authority::join_sent(
        headers
            .iter()
            .filter(|(name, _)| name == "host")
            .map(|(_, value)| value.as_str()),
    );
    let host = args.host.as_deref().or(joined_host_headers.as_deref());
    let shown_host = host.filter(|_| args.host.is_some() || loaded.policy.uses_hosts());
    let authority = RequestAuthority {
        sent: host,
        routed: None,
    };
    let mut crls = loaded.policy.crl_store(now);
    for file in &args.crls {
        let bytes = std::fs::read(file).map_err(|source| CliError::Read {
            file: file.clone(),
            source,
        })?;
        let updates = crls.offer_to_matching(&bytes, now);
        if updates.is_empty() {
            notes.push(format!(
                "--crl {}: no issuer with `revocation` has a CA whose key verifies it; not used",
                file.display()
            ));
        }
        for (index, update) in updates {
            let issuer = loaded
                .policy
                .revocations()
                .get(index)
                .map_or("?", |r| r.name());
            notes.push(format!(
                "--crl {}: issuer {issuer}: {update}",
                file.display()
            ));
        }
    }
    // v1.1 `tokens`: the keys (`--jwks`, else the inline ones), the token header's values,
    // `--token` last.
    let fetched_keys = match &args.jwks {
        Some(file) => {
            let bytes = std::fs::read(file).map_err(|source| CliError::Read {
                file: file.clone(),
                source,
            })?;
            let keys = KeySet::from_jwks(&bytes, &JwksLimits::DEFAULT).map_err(|source| {
                CliError::Jwks {
                    file: file.clone(),
                    source,
                }
            })?;
            Some(keys)
        }
        None => None,
    };
    match (loaded.policy.tokens(), &args.jwks) {
        (None, Some(_)) => notes.push(String::from(
            "--jwks is ignored: this policy has no `tokens` section",
        )),
        (Some(tokens), None) => {
            if let Some(fetch) = tokens.jwks_fetch() {
                notes.push(format!(
                    "tokens.jwks_fetch: the keys are fetched at runtime (upstream {}, path {}); {}; pass --jwks FILE to verify with a fetched set",
                    fetch.upstream(),
                    fetch.path(),
                    if tokens.keys().is_some() {
                        "the inline jwks is used here"
                    } else {
                        "without --jwks no key is known here, so tokens are token_keys_unavailable"
                    }
                ));
            }
        }
        _ => {}
    }
    let keys = fetched_keys
        .as_ref()
        .or_else(|| loaded.policy.tokens().and_then(TokenPolicy::keys));
    let token_header = loaded.policy.tokens().map(|t| t.header_name().to_owned());
    let mut token_values: Vec<Vec<u8>> = headers
        .iter()
        .filter(|(name, _)| Some(name) == token_header.as_ref())
        .map(|(_, value)| value.as_bytes().to_vec())
        .collect();
    if let Some(argument) = &args.token {
        let (bytes, _) = super::token::token_bytes(argument)?;
        match &token_header {
            Some(name) if name == DEFAULT_TOKEN_HEADER => {
                let mut value = b"Bearer ".to_vec();
                value.extend_from_slice(&bytes);
                token_values.push(value);
            }
            Some(_) => token_values.push(bytes),
            None => notes.push(String::from(
                "--token is ignored: this policy has no `tokens` section",
            )),
        }
    }
    let token_slices: Vec<&[u8]> = token_values.iter().map(Vec::as_slice).collect();
    let mut decision = loaded.policy.evaluate_with(
        &request,
        authority,
        client,
        now,
        None,
        false,
        Some(&crls),
        &mut HeaderToken::new(loaded.policy.tokens(), &token_slices, now).with_keys(keys),
    );
    if let (true, Mode::Enforce, Some(body)) =
        (decision.is_allowed(), loaded.policy.mode(), &args.body)
    {
        let kind = headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .and_then(|(_, value)| loaded.policy.form_body_to_check(value.as_bytes()));
        if let Some(refused) = kind.and_then(|k| loaded.policy.check_form_body(&k, body.as_bytes()))
        {
            decision = refused;
        }
    }
    let normalized = normalize_path(&args.path).ok();
    let checked = loaded.policy.check_identity_with_crls(client, now, &crls);
    let rejection = checked.err();
    let identity = checked.ok();
    let (token_part, claims) = match loaded.policy.tokens() {
        Some(tokens) => {
            let required = normalized.as_ref().is_some_and(|path| {
                loaded
                    .policy
                    .matching_rules_on_host(&args.method, path, host)
                    .iter()
                    .any(|&index| {
                        loaded
                            .doc
                            .rules
                            .get(index)
                            .and_then(|rule| rule.require_token)
                            .unwrap_or(false)
                    })
            });
            // The query is looked at only where a token is required, as the decision does.
            let query = normalized
                .as_ref()
                .and_then(|path| path.query.as_deref())
                .filter(|_| required);
            let (part, claims) = explain_token(tokens, keys, &token_slices, query, identity, now);
            (Some(JsonTokenPart { required, ..part }), claims)
        }
        None => (None, None),
    };
    let grants = identity
        .map(|i| loaded.policy.role_grants_with_token(i, claims.as_ref()))
        .unwrap_or_default();
    let verdicts: Vec<RuleVerdict> = match &normalized {
        Some(path) => loaded
            .policy
            .explain_rules(&args.method, path, host, identity)
            .into_iter()
            .filter_map(|matched| {
                let rule = loaded.doc.rules.get(matched.rule)?;
                Some(rule_verdict(rule, matched, identity, &grants))
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
                host: shown_host,
                time: clock::format_rfc3339(now),
            },
            normalized_path: normalized.as_ref().map(|n| n.path.clone()),
            certificate,
            identity_rejection: rejection.map(|r| r.code()),
            roles: json_grants(&grants),
            token: token_part.as_ref(),
            matching_rules: &verdicts,
            decision: JsonDecision {
                allowed: decision.is_allowed(),
                status: decision.status.code(),
                reason: decision.reason.to_string(),
                rule: decision.rule.as_deref().map(String::from),
            },
            mode: match loaded.policy.mode() {
                Mode::Enforce => "enforce",
                Mode::Shadow => "shadow",
            },
            forwarded: decision.is_allowed() || loaded.policy.mode() == Mode::Shadow,
            upstream_path: decision.upstream_path.as_deref(),
            upstream_headers,
            removed_headers,
            notes,
        }),
        Format::Text => render_text(&TextInput {
            args,
            host: shown_host,
            doc: &loaded.doc,
            policy: &loaded.policy,
            now,
            normalized: normalized.as_ref(),
            certificate: &certificate,
            rejection: rejection.map(|r| r.code()),
            grants: &grants,
            token: token_part.as_ref(),
            verdicts: &verdicts,
            decision: &decision,
            mode: loaded.policy.mode(),
            upstream_headers: &upstream_headers,
            removed_headers: &removed_headers,
            notes: &notes,
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

/// The token part of a decision: found, verified, bound and consistent (the same calls the
/// policy makes), and the claims role matching may use (only when all of that holds).
fn explain_token(
    tokens: &TokenPolicy,
    keys: Option<&KeySet>,
    values: &[&[u8]],
    query: Option<&str>,
    identity: Option<&Identity>,
    now: mtls_authz_core::UnixTime,
) -> (JsonTokenPart, Option<Claims>) {
    let checked = tokens
        .check_query(query)
        .and_then(|()| tokens.token_of(values))
        .and_then(|token| tokens.verify(token, keys, now))
        .and_then(|verified| match identity {
            Some(identity) => tokens
                .check_connection(&verified, identity)
                .map(|()| verified),
            None => Ok(verified),
        });
    let (verdict, detail, claims) = match checked {
        Ok(verified) => (
            String::from("ok"),
            String::from(if identity.is_some() {
                "verified, bound to the certificate and consistent with it"
            } else {
                "verified (no usable certificate to bind it to)"
            }),
            identity.map(|_| verified.claims().clone()),
        ),
        Err(error) => (error.code().to_owned(), error.to_string(), None),
    };
    (
        JsonTokenPart {
            header: tokens.header_name().to_owned(),
            values: values.len(),
            required: false,
            verdict,
            detail,
        },
        claims,
    )
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
        Presented::XfccMalformed(e, _) => Some(JsonCertificate {
            source: "xfcc",
            subject: None,
            error: Some(e.to_string()),
        }),
    }
}

/// Renders the core's [`RuleMatch`]: binds in the document's order, with the selector as
/// written.
fn rule_verdict(
    rule: &RawRule,
    matched: RuleMatch,
    identity: Option<&Identity>,
    grants: &[RoleGrant],
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
    let binds = rule
        .bind
        .iter()
        .map(|(param, selector)| {
            let checked = matched.binds.iter().find(|b| b.param == *param);
            BindVerdict {
                param: param.to_owned(),
                value: checked.and_then(|b| b.value.clone()).unwrap_or_default(),
                selector: selector.clone(),
                holds: checked.is_some_and(|b| b.holds),
            }
        })
        .collect();
    RuleVerdict {
        name: rule.name.clone(),
        index: matched.rule,
        allow: rule.allow.clone(),
        held,
        binds,
        require_token: rule.require_token.unwrap_or(false),
    }
}
