//! `lint POLICY`: constructs that compile but open a hole or cannot do what their author meant.
//!
//! | id    | severity        | finding |
//! |-------|-----------------|---------|
//! | MA001 | error           | write methods (or every method) open to `authenticated` |
//! | MA002 | warning / error | `public` beyond health/readiness paths (error with write methods) |
//! | MA003 | warning         | matcher that grants a role from CA-chosen values without `issuer_pin` or `fingerprint_sha256` |
//! | MA004 | error           | `prefix`/`suffix`/`glob` on a whole `subject`/`issuer` DN |
//! | MA005 | warning         | rule shadowed by an earlier one (duplicate or broader) |
//! | MA006 | warning         | rule without `methods` (matches every method) |
//! | MA007 | info            | role defined but never allowed by any rule |
//! | MA008 | warning         | `{param}` route with no `bind` and no `forward_headers` |
//! | MA009 | error / warning | `xfcc` source: error next to `peer_certificate`, warning alone |
//! | MA010 | warning         | `issuers` entry without `key_id` (any CA with that name matches) |
//! | MA011 | warning         | `host` left to `auto` (Envoy would also read NGINX's `ngx.*` properties) |
//! | MA012 | info            | `identity.peer_verification: listener` on Envoy (sound only if the listener verifies every handshake; no effect in NGINX) |
//! | MA013 | warning         | rule without v1.1 `hosts` in a policy where other rules have them (it matches every host) |
//! | MA014 | warning         | `issuers` entry without v1.1 `revocation` where other issuers have it (never checked against a CRL) |
//! | MA015 | warning         | v1.1 `revocation.when_unavailable: allow` (a stale or missing CRL lets revoked certificates through) |
//! | MA016 | warning         | v1.1 `tokens.require_certificate_binding: false` (a token works over any client's certificate) |
//!
//! The registry of these lints is [`registry::LINTS`]; tests keep this table, the CLI
//! README's and the ids emitted below equal to it.

mod registry;

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::load;
use crate::output::{self, Exit, Format, Report};

use mtls_authz_core::policy::raw::{RawHost, RawPattern, RawRule};
use mtls_authz_core::policy::{path_pattern_covers, RawPolicy};

use crate::document::{is_write_method, partial_kind, pattern_as_written, AUTHENTICATED, PUBLIC};
use crate::output::quote;

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Policy document (v1 JSON).
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// How bad a finding is. Only `error` makes `lint` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a finding is about. Serialised as one key (`"rule": "read"`, `"issuer": "corp-ca"`,
/// `"field": "identity.sources"`) so JSON consumers keep reading `rule` and `role` as before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Location {
    Rule(String),
    Role(String),
    Issuer(String),
    /// A top-level setting, by its JSON path.
    Field(&'static str),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Rule(name) => write!(f, "rule[{name}]"),
            Location::Role(name) => write!(f, "role[{name}]"),
            Location::Issuer(name) => write!(f, "issuer[{name}]"),
            Location::Field(path) => f.write_str(path),
        }
    }
}

/// One lint result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    pub(crate) id: &'static str,
    pub(crate) severity: Severity,
    #[serde(flatten)]
    pub(crate) at: Location,
    pub(crate) message: String,
    pub(crate) fix: String,
}

impl Finding {
    fn new(id: &'static str, severity: Severity, at: Location, message: String, fix: &str) -> Self {
        Finding {
            id,
            severity,
            at,
            message,
            fix: String::from(fix),
        }
    }

    fn on_rule(
        id: &'static str,
        severity: Severity,
        rule: &RawRule,
        message: String,
        fix: &str,
    ) -> Self {
        Self::new(
            id,
            severity,
            Location::Rule(rule.name.clone()),
            message,
            fix,
        )
    }

    fn on_role(
        id: &'static str,
        severity: Severity,
        role: &str,
        message: String,
        fix: &str,
    ) -> Self {
        Self::new(
            id,
            severity,
            Location::Role(String::from(role)),
            message,
            fix,
        )
    }
}

/// Last path segments that mark a liveness/readiness probe, the only routes `public` suits.
const HEALTH_SEGMENTS: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "livez",
    "live",
    "liveness",
    "readyz",
    "ready",
    "readiness",
    "ping",
];

/// Selectors whose values no CA can choose for a certificate of another CA: the pinned
/// issuer and the certificate's own hash. Every other selector — names, SANs, SPIFFE ID,
/// serial, extensions, EKU, even the issuer's DN — is whatever the issuing CA wrote.
const CA_INDEPENDENT_SELECTORS: [&str; 2] = ["issuer_pin", "fingerprint_sha256"];

/// Whether every pattern of a `serial` condition is scoped to an issuer.
fn serials_all_scoped(patterns: &[RawPattern]) -> bool {
    patterns
        .iter()
        .all(|p| matches!(p, RawPattern::IssuerSerial { .. }))
}

fn writes(rule: &RawRule) -> Vec<&str> {
    match &rule.methods {
        None => vec!["every method"],
        Some(methods) => methods
            .iter()
            .map(String::as_str)
            .filter(|m| is_write_method(m))
            .collect(),
    }
}

fn is_health_path(pattern: &str) -> bool {
    let segments: Vec<&str> = pattern.trim_end_matches('/').split('/').skip(1).collect();
    let all_literal = segments
        .iter()
        .all(|s| !s.contains('*') && !s.starts_with('{'));
    all_literal
        && segments
            .last()
            .is_some_and(|last| HEALTH_SEGMENTS.contains(last))
}

/// Runs every lint over a document, in id order, then document order.
pub(crate) fn lint(doc: &RawPolicy) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in &doc.rules {
        let write = writes(rule);
        if rule.allow.iter().any(|a| a == AUTHENTICATED) && !write.is_empty() {
            findings.push(Finding::on_rule(
                "MA001",
                Severity::Error,
                rule,
                format!(
                    "{} open to `authenticated`: any certificate the CA ever signed may change data",
                    write.join("/")
                ),
                "allow only the roles that may write, or restrict `methods` to GET/HEAD",
            ));
        }
    }
    for rule in &doc.rules {
        if !rule.allow.iter().any(|a| a == PUBLIC) {
            continue;
        }
        let write = writes(rule);
        let not_health: Vec<&str> = rule
            .paths
            .iter()
            .map(String::as_str)
            .filter(|p| !is_health_path(p))
            .collect();
        if !write.is_empty() {
            findings.push(Finding::on_rule(
                "MA002",
                Severity::Error,
                rule,
                format!(
                    "{} open to `public`: no certificate needed to change data",
                    write.join("/")
                ),
                "require a role, or restrict `methods` to GET/HEAD on health paths",
            ));
        } else if !not_health.is_empty() {
            findings.push(Finding::on_rule(
                "MA002",
                Severity::Warning,
                rule,
                format!(
                    "`public` on {} beyond health/readiness probes: no certificate needed",
                    not_health.join(", ")
                ),
                "keep `public` for probe paths such as /healthz; require a role elsewhere",
            ));
        }
    }
    for (role, matchers) in doc.roles.iter() {
        for (index, matcher) in matchers.iter().enumerate() {
            let pinned = matcher
                .iter()
                .any(|(selector, _)| CA_INDEPENDENT_SELECTORS.contains(&selector));
            let scoped_serial = matcher
                .get("serial")
                .is_some_and(|patterns| serials_all_scoped(patterns));
            if pinned || scoped_serial {
                continue;
            }
            let names: Vec<&str> = matcher.iter().map(|(selector, _)| selector).collect();
            let fix = if names.contains(&"serial") {
                "scope each serial to its CA ({\"issuer\": \"<issuer>\", \"serial\": \"<hex>\"}: serials are unique per CA only), or add \"issuer_pin\": [\"<issuer>\"] to the matcher"
            } else {
                "add \"issuer_pin\": [\"<issuer>\"] (an `issuers` entry with its key_id) to the matcher, or pin \"fingerprint_sha256\""
            };
            findings.push(Finding::on_role(
                "MA003",
                Severity::Warning,
                role,
                format!(
                    "matcher {index} grants `{role}` on {}: any CA the proxy trusts can issue a certificate with those values",
                    names.join(", ")
                ),
                fix,
            ));
        }
    }
    for (role, matchers) in doc.roles.iter() {
        for (index, matcher) in matchers.iter().enumerate() {
            for selector in ["subject", "issuer"] {
                let partial = matcher
                    .get(selector)
                    .into_iter()
                    .flatten()
                    .find(|p| partial_kind(p).is_some());
                if let Some(pattern) = partial {
                    findings.push(Finding::on_role(
                        "MA004",
                        Severity::Error,
                        role,
                        format!(
                            "matcher {index} matches the whole {selector} DN with {}: an extra or reordered RDN satisfies it (`*` spans RDNs)",
                            pattern_as_written(pattern)
                        ),
                        &format!("match one attribute exactly, e.g. \"{selector}.OU\": [\"Admins\"]"),
                    ));
                }
            }
        }
    }
    for (later_index, later) in doc.rules.iter().enumerate() {
        let shadow = doc
            .rules
            .iter()
            .take(later_index)
            .find(|earlier| shadows(earlier, later));
        if let Some(earlier) = shadow {
            let duplicate = earlier.methods == later.methods
                && earlier.paths == later.paths
                && earlier.allow == later.allow
                && earlier.bind == later.bind;
            let how = if duplicate {
                format!("duplicates earlier rule `{}`", earlier.name)
            } else {
                format!(
                    "is shadowed by earlier rule `{}` ({} {} covers it with the same or broader allow)",
                    earlier.name,
                    earlier.methods.as_ref().map_or_else(|| String::from("every method"), |m| m.join("/")),
                    earlier.paths.join(", ")
                )
            };
            let fix = if duplicate {
                "delete the duplicate"
            } else {
                "move the narrower rule before the broader one, or delete it"
            };
            findings.push(Finding::on_rule(
                "MA005",
                Severity::Warning,
                later,
                format!("{how}: it never decides a request"),
                fix,
            ));
        }
    }
    for rule in &doc.rules {
        if rule.methods.is_none() {
            findings.push(Finding::on_rule(
                "MA006",
                Severity::Warning,
                rule,
                String::from("no `methods`: the rule matches every method, including writes"),
                "list the methods explicitly, e.g. \"methods\": [\"GET\", \"HEAD\"]",
            ));
        }
    }
    for (role, _) in doc.roles.iter() {
        if !doc.rules.iter().any(|r| r.allow.iter().any(|a| a == role)) {
            findings.push(Finding::on_role(
                "MA007",
                Severity::Info,
                role,
                String::from("defined but no rule allows it"),
                "remove the role or add it to a rule's `allow`",
            ));
        }
    }
    if doc.forward_headers.is_empty() {
        for rule in &doc.rules {
            let params: Vec<&str> = rule
                .paths
                .iter()
                .flat_map(|p| p.split('/'))
                .filter(|s| s.starts_with('{') && s.ends_with('}'))
                .collect();
            if rule.bind.is_empty() && !params.is_empty() && !rule.allow.iter().any(|a| a == PUBLIC)
            {
                findings.push(Finding::on_rule(
                    "MA008",
                    Severity::Warning,
                    rule,
                    format!(
                        "{} selects an object but nothing ties it to the caller: any allowed client reaches every one",
                        params.join(", ")
                    ),
                    "add \"bind\": {\"<param>\": \"<selector>\"}, or forward_headers so the upstream can check ownership",
                ));
            }
        }
    }
    findings.extend(rules_on_every_host(doc));
    findings.extend(xfcc_source(doc));
    findings.extend(issuers_without_key_id(doc));
    findings.extend(revocation_gaps(doc));
    if matches!(doc.host, None | Some(RawHost::Auto)) {
        findings.push(Finding::new(
            "MA011",
            Severity::Warning,
            Location::Field("host"),
            String::from(
                "`host` is `auto`: until it has seen a request, the filter on Envoy also reads NGINX's `ngx.*` properties, which another filter can set through filter state",
            ),
            "set \"host\": \"envoy\" (Envoy, Istio) or \"nginx\" (ngx_wasm_module)",
        ));
    }
    let listener_verified = doc
        .identity
        .as_ref()
        .and_then(|identity| identity.peer_verification.as_deref())
        == Some("listener");
    // In NGINX the setting has no effect: NGINX's own verdict is always required.
    if listener_verified && doc.host != Some(RawHost::Nginx) {
        findings.push(Finding::new(
            "MA012",
            Severity::Info,
            Location::Field("identity.peer_verification"),
            String::from(
                "`listener`: the filter accepts a certificate Envoy reports not verified (resumed TLS sessions); sound only if the listener refuses unverified certificates at the handshake",
            ),
            "keep `trusted_ca` and the default `trust_chain_verification: VERIFY_TRUST_CHAIN` on every listener that runs this policy; or turn session resumption off and use `connection`",
        ));
    }
    // MA016: without binding, a token leaked from one client is accepted over another's mTLS
    // connection: the certificate and the token then say nothing about each other.
    if doc
        .tokens
        .as_ref()
        .and_then(|tokens| tokens.require_certificate_binding)
        == Some(false)
    {
        findings.push(Finding::new(
            "MA016",
            Severity::Warning,
            Location::Field("tokens.require_certificate_binding"),
            String::from(
                "`false`: a token is accepted over any client's certificate, so a token leaked or replayed from one client works for another (RFC 8705 binding is off)",
            ),
            "remove it (default `true`) and have the issuer bind tokens to the client certificate (`cnf` `x5t#S256`); keep `consistency` entries if binding is impossible",
        ));
    }
    debug_assert!(
        findings.iter().all(|f| registry::reports(f.id, f.severity)),
        "a finding with an unregistered id or severity: {findings:?}"
    );
    findings
}

/// MA013: once some rules are scoped by host, a rule without `hosts` usually was meant for
/// one host too, and it grants its paths on every host the listener serves.
fn rules_on_every_host(doc: &RawPolicy) -> Vec<Finding> {
    if doc.rules.iter().all(|rule| rule.hosts.is_none()) {
        return Vec::new();
    }
    doc.rules
        .iter()
        .filter(|rule| rule.hosts.is_none())
        .map(|rule| {
            Finding::on_rule(
                "MA013",
                Severity::Warning,
                rule,
                String::from(
                    "has no `hosts` while other rules do: it matches these paths on every host the listener serves",
                ),
                "add \"hosts\": [...] naming the hosts it is for (or [\"*.example.org\"]-style wildcards)",
            )
        })
        .collect()
}

/// MA014: once some issuers have CRLs, an issuer without one is usually an oversight: its
/// certificates are never checked against a CRL. MA015: `when_unavailable: allow` lets every
/// certificate of the issuer through, revoked ones included, while its CRL is stale or missing
/// (an attacker who blocks the CRL server gets exactly that).
fn revocation_gaps(doc: &RawPolicy) -> Vec<Finding> {
    let mut findings = Vec::new();
    let any = doc
        .issuers
        .iter()
        .any(|(_, issuer)| issuer.revocation.is_some());
    for (name, issuer) in doc.issuers.iter() {
        match &issuer.revocation {
            None if any => findings.push(Finding::new(
                "MA014",
                Severity::Warning,
                Location::Issuer(String::from(name)),
                String::from(
                    "has no `revocation` while other issuers do: its certificates are never checked against a CRL",
                ),
                "add \"certificate\" and \"revocation\": {\"fetch\": {...}} (or an inline \"crl\") for this CA",
            )),
            Some(revocation) if revocation.when_unavailable.as_deref() == Some("allow") => {
                findings.push(Finding::new(
                    "MA015",
                    Severity::Warning,
                    Location::Issuer(String::from(name)),
                    String::from(
                        "`when_unavailable: allow`: while its CRL is stale or was never obtained, every certificate of this issuer is accepted, revoked ones included",
                    ),
                    "leave `when_unavailable` out (deny), and give `grace_seconds` for CRL servers that publish late",
                ));
            }
            _ => {}
        }
    }
    findings
}

/// Source names as the contract spells them.
const PEER_CERTIFICATE: &str = "peer_certificate";
const XFCC: &str = "xfcc";

/// What to do about XFCC, shared by both MA009 severities: the edge alone may connect and it
/// must overwrite the header with the quoted PEM only (URI/DNS are written unquoted).
const XFCC_EDGE_SETTINGS: &str = "Envoy `forward_client_cert_details: SANITIZE_SET` with `set_current_client_cert_details: {cert: true}` (no `uri`/`dns`: Envoy writes them unquoted)";

/// MA009: a trusted `x-forwarded-client-cert` is an identity anyone who reaches the listener
/// can write. Next to `peer_certificate` that is nearly always a mistake (error); alone it is
/// only safe behind a sanitising edge (warning).
fn xfcc_source(doc: &RawPolicy) -> Option<Finding> {
    let sources = doc.identity.as_ref()?.sources.as_ref()?;
    let xfcc = sources.iter().position(|s| s == XFCC)?;
    let written = format!(
        "[{}]",
        sources
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let at = Location::Field("identity.sources");
    let finding = match sources.iter().position(|s| s == PEER_CERTIFICATE) {
        Some(peer) => {
            let message = if xfcc < peer {
                format!(
                    "{written} trusts `x-forwarded-client-cert` before the TLS peer: any client that reaches this listener, with or without a certificate, names any certificate in that header and gets its roles"
                )
            } else {
                format!(
                    "{written} falls back to `x-forwarded-client-cert`: a client that connects without a certificate names any certificate in that header and gets its roles"
                )
            };
            Finding::new(
                "MA009",
                Severity::Error,
                at,
                message,
                &format!(
                    "use one source per listener: [\"peer_certificate\"] where clients connect directly; [\"xfcc\"] only where the edge proxy alone can connect and overwrites the header: {XFCC_EDGE_SETTINGS}"
                ),
            )
        }
        None => Finding::new(
            "MA009",
            Severity::Warning,
            at,
            String::from(
                "`x-forwarded-client-cert` is the only source: a client that reaches this listener directly names any certificate in that header, and an edge that adds `URI=`/`DNS=` lets a client SAN containing `,Cert=` forge the last element",
            ),
            &format!(
                "let only the edge proxy connect (require its certificate at the TLS layer) and have it overwrite XFCC with the quoted PEM alone: {XFCC_EDGE_SETTINGS}"
            ),
        ),
    };
    Some(finding)
}

/// The selector whose values are the names of the `issuers` entries a certificate matches.
const ISSUER_PIN: &str = "issuer_pin";

/// MA010: an issuer pinned by its subject DN alone matches every trusted CA that carries the
/// same name. Skipped when every matcher that names the issuer also pins the leaf's
/// `fingerprint_sha256`, which identifies the certificate (and so its CA) outright — unless a
/// `bind` or `forward_headers` reads `issuer_pin`: those see the issuer's name for a
/// certificate from any CA with that DN, fingerprint or not.
fn issuers_without_key_id(doc: &RawPolicy) -> Vec<Finding> {
    let pin_read_outside_roles = doc
        .rules
        .iter()
        .flat_map(|rule| rule.bind.iter())
        .chain(doc.forward_headers.iter())
        .any(|(_, selector)| selector == ISSUER_PIN);
    let mut findings = Vec::new();
    for (name, issuer) in doc.issuers.iter() {
        // v1.1 `certificate`: the key id comes from the CA's subjectKeyIdentifier.
        if issuer.key_id.is_some() || issuer.certificate.is_some() {
            continue;
        }
        let mut pinning = doc
            .roles
            .iter()
            .flat_map(|(_, matchers)| matchers)
            .filter(|m| {
                m.get(ISSUER_PIN)
                    .is_some_and(|pins| pins.contains(&RawPattern::Exact(String::from(name))))
            })
            .peekable();
        let used = pinning.peek().is_some();
        if used && !pin_read_outside_roles && pinning.all(|m| m.get("fingerprint_sha256").is_some())
        {
            continue;
        }
        findings.push(Finding::new(
            "MA010",
            Severity::Warning,
            Location::Issuer(String::from(name)),
            format!(
                "pinned by subject DN alone ({}): `issuer_pin` [{}] holds for a certificate from ANY CA the proxy trusts that has this name (a rogue, test or other team's CA named the same)",
                quote(issuer.subject.as_deref().unwrap_or_default()),
                quote(name)
            ),
            "add \"key_id\": the CA's subject key identifier in hex (`openssl x509 -in ca.pem -noout -ext subjectKeyIdentifier`; `mtls-authz inspect` shows it as a leaf's authority_key_id)",
        ));
    }
    findings
}

/// `earlier` makes `later` unreachable: it matches every request `later` matches and allows
/// at least the same identities.
fn shadows(earlier: &RawRule, later: &RawRule) -> bool {
    // v1.1 `hosts`: an earlier rule covers only hosts it names (every host without `hosts`);
    // patterns are compared as written, so a different spelling is not taken as covering.
    let hosts = match (&earlier.hosts, &later.hosts) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(earlier), Some(later)) => later.iter().all(|h| earlier.contains(h)),
    };
    if !hosts {
        return false;
    }
    // Every method when `methods` is absent.
    let methods = match (&earlier.methods, &later.methods) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(earlier), Some(later)) => later.iter().all(|m| earlier.contains(m)),
    };
    let paths = later
        .paths
        .iter()
        .all(|n| earlier.paths.iter().any(|b| path_pattern_covers(b, n)));
    let allow = later
        .allow
        .iter()
        .all(|role| allows_at_least(earlier, role));
    let bind = earlier
        .bind
        .iter()
        .all(|(param, selector)| later.bind.get(param) == Some(selector));
    methods && paths && allow && bind && !later.paths.is_empty()
}

/// Whether `rule` admits every identity holding `role`.
fn allows_at_least(rule: &RawRule, role: &str) -> bool {
    rule.allow
        .iter()
        .any(|a| a == role || a == PUBLIC || (a == AUTHENTICATED && role != PUBLIC))
}

#[derive(Serialize)]
struct JsonLint<'a> {
    file: String,
    findings: &'a [Finding],
    errors: usize,
    warnings: usize,
    infos: usize,
}

pub(crate) fn run(args: &LintArgs) -> Result<Report, CliError> {
    let loaded = load::policy(&args.policy)?;
    let findings = lint(&loaded.doc);
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let stdout = match args.format {
        Format::Json => output::json(&JsonLint {
            file: args.policy.display().to_string(),
            findings: &findings,
            errors,
            warnings,
            infos,
        }),
        Format::Text => {
            let mut out = String::new();
            for f in &findings {
                let _ = writeln!(
                    out,
                    "{:<7}  {}  {}: {}\n{:<7}  fix: {}",
                    f.severity.as_str(),
                    f.id,
                    f.at,
                    f.message,
                    "",
                    f.fix
                );
            }
            let _ = writeln!(
                out,
                "{}: {errors} error(s), {warnings} warning(s), {infos} info",
                args.policy.display()
            );
            out
        }
    };
    Ok(Report {
        stdout,
        exit: if errors > 0 { Exit::Finding } else { Exit::Ok },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(json: &str) -> Vec<(&'static str, Severity)> {
        let doc = RawPolicy::from_json(json).unwrap();
        lint(&doc).into_iter().map(|f| (f.id, f.severity)).collect()
    }

    #[test]
    fn clean_policy_has_no_findings() {
        let json = r#"{
            "host": "envoy",
            "issuers": {"a": {"subject": "CN=A", "key_id": "0a0b"}},
            "roles": {"reader": [{"subject.OU": ["Readers"], "issuer_pin": ["a"]}]},
            "rules": [
                {"name": "read", "methods": ["GET"], "paths": ["/items/{id}"], "allow": ["reader"], "bind": {"id": "subject.CN"}},
                {"name": "health", "methods": ["GET"], "paths": ["/healthz"], "allow": ["public"]}
            ]
        }"#;
        assert_eq!(ids(json), vec![]);
    }

    #[test]
    fn shadowing_respects_order_methods_and_allow() {
        let json = r#"{
            "roles": {"a": [{"san.dns": ["a"]}], "b": [{"san.dns": ["b"]}]},
            "forward_headers": {"x-r": "roles"},
            "rules": [
                {"name": "narrow", "methods": ["GET"], "paths": ["/x/y"], "allow": ["a"]},
                {"name": "broad", "methods": ["GET"], "paths": ["/x/**"], "allow": ["a"]},
                {"name": "other-role", "methods": ["GET"], "paths": ["/x/z"], "allow": ["b"]},
                {"name": "more-methods", "methods": ["GET", "HEAD"], "paths": ["/x/z"], "allow": ["a"]},
                {"name": "dup", "methods": ["GET"], "paths": ["/x/**"], "allow": ["a"]}
            ]
        }"#;
        let doc = RawPolicy::from_json(json).unwrap();
        let shadowed: Vec<(Location, String)> = lint(&doc)
            .into_iter()
            .filter(|f| f.id == "MA005")
            .map(|f| (f.at, f.message))
            .collect();
        assert_eq!(
            shadowed,
            vec![(
                Location::Rule("dup".to_string()),
                "duplicates earlier rule `broad`: it never decides a request".to_string()
            )]
        );
    }

    /// (location, severity, message) of every finding with this id.
    fn findings_of(json: &str, id: &str) -> Vec<(String, Severity, String)> {
        let doc = RawPolicy::from_json(json).unwrap();
        lint(&doc)
            .into_iter()
            .filter(|f| f.id == id)
            .map(|f| (f.at.to_string(), f.severity, f.message))
            .collect()
    }

    fn with_sources(sources: &str) -> String {
        format!(
            r#"{{"identity": {{"sources": {sources}}}, "rules": [{{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["authenticated"]}}]}}"#
        )
    }

    #[test]
    fn xfcc_next_to_peer_certificate_is_an_error_either_way_round() {
        assert_eq!(
            findings_of(&with_sources(r#"["xfcc", "peer_certificate"]"#), "MA009"),
            vec![(
                "identity.sources".to_string(),
                Severity::Error,
                "[\"xfcc\", \"peer_certificate\"] trusts `x-forwarded-client-cert` before the TLS peer: any client that reaches this listener, with or without a certificate, names any certificate in that header and gets its roles".to_string()
            )]
        );
        assert_eq!(
            findings_of(&with_sources(r#"["peer_certificate", "xfcc"]"#), "MA009"),
            vec![(
                "identity.sources".to_string(),
                Severity::Error,
                "[\"peer_certificate\", \"xfcc\"] falls back to `x-forwarded-client-cert`: a client that connects without a certificate names any certificate in that header and gets its roles".to_string()
            )]
        );
    }

    #[test]
    fn xfcc_alone_is_a_warning_and_peer_certificate_alone_is_silent() {
        let only = findings_of(&with_sources(r#"["xfcc"]"#), "MA009");
        assert_eq!(
            only.iter()
                .map(|(at, severity, _)| (at.as_str(), *severity))
                .collect::<Vec<_>>(),
            vec![("identity.sources", Severity::Warning)]
        );
        assert_eq!(
            findings_of(&with_sources(r#"["peer_certificate"]"#), "MA009"),
            vec![]
        );
        let default_sources = r#"{"rules": [{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["authenticated"]}]}"#;
        assert_eq!(findings_of(default_sources, "MA009"), vec![]);
    }

    #[test]
    fn issuer_without_key_id_unless_every_use_pins_the_fingerprint() {
        let fingerprint = "95e7e6bcc20a44a35de77c35e4eb2d489714095aadf075b77bfb24622d1892c4";
        let json = format!(
            r#"{{
            "issuers": {{
                "keyed": {{"subject": "CN=K", "key_id": "0a0b"}},
                "fingerprinted": {{"subject": "CN=F"}},
                "mixed": {{"subject": "CN=M"}},
                "unused": {{"subject": "CN=U"}}
            }},
            "roles": {{
                "a": [{{"issuer_pin": ["keyed", "fingerprinted"], "fingerprint_sha256": ["{fingerprint}"]}}],
                "b": [{{"issuer_pin": ["mixed"], "fingerprint_sha256": ["{fingerprint}"]}}, {{"issuer_pin": ["mixed"], "subject.OU": ["X"]}}]
            }},
            "rules": [{{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["a", "b"]}}]
        }}"#
        );
        assert_eq!(
            findings_of(&json, "MA010"),
            vec![
                (
                    "issuer[mixed]".to_string(),
                    Severity::Warning,
                    "pinned by subject DN alone (\"CN=M\"): `issuer_pin` [\"mixed\"] holds for a certificate from ANY CA the proxy trusts that has this name (a rogue, test or other team's CA named the same)".to_string()
                ),
                (
                    "issuer[unused]".to_string(),
                    Severity::Warning,
                    "pinned by subject DN alone (\"CN=U\"): `issuer_pin` [\"unused\"] holds for a certificate from ANY CA the proxy trusts that has this name (a rogue, test or other team's CA named the same)".to_string()
                ),
            ]
        );
    }

    /// The fingerprint exemption covers role matchers only: `issuer_pin` bound to a path
    /// parameter or forwarded upstream still yields the issuer's name for any CA with its DN.
    #[test]
    fn issuer_pin_bound_or_forwarded_keeps_its_finding_despite_fingerprints() {
        let fingerprint = "95e7e6bcc20a44a35de77c35e4eb2d489714095aadf075b77bfb24622d1892c4";
        let policy = |rule_bind: &str, forward: &str| {
            format!(
                r#"{{
                "issuers": {{"corp-ca": {{"subject": "CN=Corp CA"}}}},
                "roles": {{"partner": [{{"issuer_pin": ["corp-ca"], "fingerprint_sha256": ["{fingerprint}"]}}]}},
                "rules": [
                    {{"name": "by-ca", "methods": ["GET"], "paths": ["/ca/{{ca}}"], "allow": ["authenticated"]{rule_bind}}},
                    {{"name": "p", "methods": ["GET"], "paths": ["/p"], "allow": ["partner"]}}
                ],
                "forward_headers": {{"x-client-role": "roles"{forward}}}
            }}"#
            )
        };
        let at = |json: &str| -> Vec<String> {
            findings_of(json, "MA010")
                .into_iter()
                .map(|(at, _, _)| at)
                .collect()
        };
        let bound = policy(r#", "bind": {"ca": "issuer_pin"}"#, "");
        assert_eq!(at(&bound), vec!["issuer[corp-ca]".to_string()]);
        let forwarded = policy(
            r#", "bind": {"ca": "subject.O"}"#,
            r#", "x-client-ca": "issuer_pin""#,
        );
        assert_eq!(at(&forwarded), vec!["issuer[corp-ca]".to_string()]);
        let neither = policy(r#", "bind": {"ca": "subject.O"}"#, "");
        assert_eq!(at(&neither), Vec::<String>::new());
    }

    #[test]
    fn tokens_without_certificate_binding() {
        let json = |binding: &str| {
            format!(
                r#"{{"tokens": {{"issuer": "https://idp", "audiences": ["api"], "jwks": {{"keys": []}}{binding}}},
                "rules": [{{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["authenticated"], "require_token": true}}]}}"#
            )
        };
        assert_eq!(
            findings_of(&json(r#", "require_certificate_binding": false"#), "MA016"),
            vec![(
                "tokens.require_certificate_binding".to_string(),
                Severity::Warning,
                "`false`: a token is accepted over any client's certificate, so a token leaked or replayed from one client works for another (RFC 8705 binding is off)".to_string()
            )]
        );
        assert_eq!(findings_of(&json(""), "MA016"), vec![]);
        assert_eq!(
            findings_of(&json(r#", "require_certificate_binding": true"#), "MA016"),
            vec![]
        );
    }

    #[test]
    fn rules_without_hosts_next_to_rules_with_hosts() {
        let json = r#"{"roles": {"a": [{"subject.OU": ["A"]}]}, "rules": [
            {"name": "one", "methods": ["GET"], "hosts": ["a.example.org"], "paths": ["/x"], "allow": ["a"]},
            {"name": "two", "methods": ["GET"], "hosts": ["b.example.org"], "paths": ["/x"], "allow": ["a"]},
            {"name": "three", "methods": ["GET"], "hosts": ["a.example.org"], "paths": ["/x"], "allow": ["a"]},
            {"name": "everywhere", "methods": ["GET"], "paths": ["/y"], "allow": ["a"]}
        ]}"#;
        assert_eq!(
            findings_of(json, "MA013"),
            vec![(
                "rule[everywhere]".to_string(),
                Severity::Warning,
                "has no `hosts` while other rules do: it matches these paths on every host the listener serves".to_string()
            )]
        );
        // The same path on another host is not shadowed; on the same host it is.
        let shadowed: Vec<String> = findings_of(json, "MA005")
            .into_iter()
            .map(|(at, _, _)| at)
            .collect();
        assert_eq!(shadowed, vec!["rule[three]".to_string()]);
        let v1 = r#"{"roles": {"a": [{"subject.OU": ["A"]}]}, "rules": [
            {"name": "x", "methods": ["GET"], "paths": ["/x"], "allow": ["a"]}]}"#;
        assert!(findings_of(v1, "MA013").is_empty());
    }

    #[test]
    fn issuers_without_revocation_and_allow_on_unavailable() {
        let ca = "-----BEGIN CERTIFICATE-----\\n-----END CERTIFICATE-----";
        let json = format!(
            r#"{{"issuers": {{
                "a": {{"certificate": "{ca}", "revocation": {{"crl": "x"}}}},
                "b": {{"subject": "CN=B"}},
                "c": {{"certificate": "{ca}", "revocation": {{"crl": "x", "when_unavailable": "allow"}}}}
            }}, "rules": []}}"#
        );
        assert_eq!(
            findings_of(&json, "MA014"),
            vec![(
                "issuer[b]".to_string(),
                Severity::Warning,
                "has no `revocation` while other issuers do: its certificates are never checked against a CRL".to_string()
            )]
        );
        assert_eq!(
            findings_of(&json, "MA015"),
            vec![(
                "issuer[c]".to_string(),
                Severity::Warning,
                "`when_unavailable: allow`: while its CRL is stale or was never obtained, every certificate of this issuer is accepted, revoked ones included".to_string()
            )]
        );
        // Without any revocation, no issuer is singled out.
        let none = r#"{"issuers": {"b": {"subject": "CN=B"}}, "rules": []}"#;
        assert!(findings_of(none, "MA014").is_empty());
    }

    #[test]
    fn findings_serialise_their_location_as_one_key() {
        let finding = Finding::new(
            "MA010",
            Severity::Warning,
            Location::Issuer("corp-ca".to_string()),
            "m".to_string(),
            "f",
        );
        assert_eq!(
            serde_json::to_string(&finding).unwrap(),
            r#"{"id":"MA010","severity":"warning","issuer":"corp-ca","message":"m","fix":"f"}"#
        );
        let field = Finding::new(
            "MA009",
            Severity::Error,
            Location::Field("identity.sources"),
            "m".to_string(),
            "f",
        );
        assert_eq!(
            serde_json::to_string(&field).unwrap(),
            r#"{"id":"MA009","severity":"error","field":"identity.sources","message":"m","fix":"f"}"#
        );
    }

    /// MA003 covers every CA-chosen selector, whatever the number of `issuers` (the proxy's
    /// trust bundle is not in the policy), and names the role.
    #[test]
    fn roles_a_foreign_ca_can_mint() {
        let json = r#"{
            "host": "envoy",
            "issuers": {"ca": {"subject": "CN=CA", "key_id": "0a0b"}},
            "roles": {
                "by-spiffe": [{"spiffe_id": ["spiffe://example.org/ns/a/sa/b"]}],
                "by-san": [{"san.dns": ["a.example"]}],
                "by-ext": [{"ext.1.2.3.4": ["x"]}],
                "by-eku": [{"eku": ["clientAuth"]}],
                "by-issuer-name": [{"issuer.CN": ["CA"]}],
                "by-serial": [{"serial": ["01ab"]}],
                "by-mixed-serial": [{"serial": ["01ab", {"issuer": "ca", "serial": "02"}]}],
                "by-subject": [{"subject.OU": ["A"]}, {"subject.OU": ["B"], "issuer_pin": ["ca"]}],
                "pinned": [{"spiffe_id": ["spiffe://example.org/x"], "issuer_pin": ["ca"]}],
                "scoped-serial": [{"serial": [{"issuer": "ca", "serial": "01ab"}]}],
                "fingerprint": [{"fingerprint_sha256": ["95e7e6bcc20a44a35de77c35e4eb2d489714095aadf075b77bfb24622d1892c4"]}]
            },
            "rules": [{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["by-spiffe", "by-san", "by-ext", "by-eku", "by-issuer-name", "by-serial", "by-mixed-serial", "by-subject", "pinned", "scoped-serial", "fingerprint"]}]
        }"#;
        let found = findings_of(json, "MA003");
        let roles: Vec<&str> = found.iter().map(|(at, _, _)| at.as_str()).collect();
        assert_eq!(
            roles,
            [
                "role[by-spiffe]",
                "role[by-san]",
                "role[by-ext]",
                "role[by-eku]",
                "role[by-issuer-name]",
                "role[by-serial]",
                "role[by-mixed-serial]",
                "role[by-subject]"
            ]
        );
        assert_eq!(
            found[0].2,
            "matcher 0 grants `by-spiffe` on spiffe_id: any CA the proxy trusts can issue a certificate with those values"
        );
        let doc = RawPolicy::from_json(json).unwrap();
        let serial = lint(&doc)
            .into_iter()
            .find(|f| f.at == Location::Role(String::from("by-serial")))
            .unwrap();
        assert!(
            serial.fix.starts_with("scope each serial to its CA"),
            "{}",
            serial.fix
        );
    }

    #[test]
    fn host_and_peer_verification_findings() {
        let rules =
            r#""rules": [{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["public"]}]"#;
        let at = |json: &str, id: &str| -> Vec<(String, Severity)> {
            findings_of(json, id)
                .into_iter()
                .map(|(at, s, _)| (at, s))
                .collect()
        };
        assert_eq!(
            at(&format!("{{{rules}}}"), "MA011"),
            [("host".to_string(), Severity::Warning)]
        );
        assert_eq!(
            at(&format!(r#"{{"host": "auto", {rules}}}"#), "MA011").len(),
            1
        );
        assert!(at(&format!(r#"{{"host": "nginx", {rules}}}"#), "MA011").is_empty());
        let listener = format!(
            r#"{{"host": "envoy", "identity": {{"peer_verification": "listener"}}, {rules}}}"#
        );
        assert_eq!(
            at(&listener, "MA012"),
            [("identity.peer_verification".to_string(), Severity::Info)]
        );
        let connection = format!(
            r#"{{"host": "envoy", "identity": {{"peer_verification": "connection"}}, {rules}}}"#
        );
        assert!(at(&connection, "MA012").is_empty());
        let nginx = format!(
            r#"{{"host": "nginx", "identity": {{"peer_verification": "listener"}}, {rules}}}"#
        );
        assert!(at(&nginx, "MA012").is_empty(), "no effect in NGINX");
    }

    #[test]
    fn health_paths() {
        assert!(is_health_path("/healthz"));
        assert!(is_health_path("/api/readyz/"));
        assert!(!is_health_path("/healthz/**"));
        assert!(!is_health_path("/patients"));
    }
}
