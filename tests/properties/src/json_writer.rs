//! Writes a [`RawPolicy`] back to JSON, field by field, so the `policy` property can read it
//! again. Every struct is destructured without `..`: a field added to the contract fails to
//! compile here until it is written too.

use mtls_authz_core::policy::raw::{
    RawConsistency, RawFetch, RawFormBodyCheck, RawHost, RawIdentity, RawIssuer, RawMap,
    RawPattern, RawPolicy, RawRevocation, RawRevoked, RawRule, RawTokens,
};

/// The policy as a JSON document (fields left out when the document left them out).
pub(crate) fn policy(raw: &RawPolicy) -> String {
    let RawPolicy {
        mode,
        identity,
        issuers,
        revoked,
        roles,
        rules,
        forward_headers,
        expose_reason,
        host,
        identity_cache_size,
        method_override_params,
        strict_paths,
        identity_cache_max_bytes,
        form_body_check,
        tokens,
    } = raw;
    let mut object = Object::default();
    if let Some(mode) = mode {
        object.field("mode", string(mode));
    }
    if let Some(identity) = identity {
        object.field("identity", self::identity(identity));
    }
    object.field("issuers", map(issuers, issuer));
    if let Some(revoked) = revoked {
        object.field("revoked", self::revoked(revoked));
    }
    object.field("roles", map(roles, |matchers| array(matchers, matcher)));
    object.field("rules", array(rules, rule));
    object.field("forward_headers", map(forward_headers, |s| string(s)));
    if let Some(expose) = expose_reason {
        object.field("expose_reason", expose.to_string());
    }
    if let Some(host) = host {
        let name = match host {
            RawHost::Auto => "auto",
            RawHost::Envoy => "envoy",
            RawHost::Nginx => "nginx",
        };
        object.field("host", string(name));
    }
    if let Some(size) = identity_cache_size {
        object.field("identity_cache_size", size.to_string());
    }
    object.field("method_override_params", strings(method_override_params));
    if let Some(strict) = strict_paths {
        object.field("strict_paths", strict.to_string());
    }
    if let Some(bytes) = identity_cache_max_bytes {
        object.field("identity_cache_max_bytes", bytes.to_string());
    }
    if let Some(RawFormBodyCheck { max_bytes }) = form_body_check {
        object.field("form_body_check", format!("{{\"max_bytes\":{max_bytes}}}"));
    }
    if let Some(tokens) = tokens {
        object.field("tokens", self::tokens(tokens));
    }
    object.finish()
}

fn tokens(tokens: &RawTokens) -> String {
    let RawTokens {
        issuer,
        audiences,
        algorithms,
        types,
        jwks,
        jwks_fetch,
        header,
        clock_skew_seconds,
        require_certificate_binding,
        consistency,
    } = tokens;
    let mut object = Object::default();
    object.field("issuer", string(issuer));
    object.field("audiences", strings(audiences));
    if let Some(algorithms) = algorithms {
        object.field("algorithms", strings(algorithms));
    }
    object.field("types", strings(types));
    if let Some(jwks) = jwks {
        let mut text = String::new();
        jwks.render(&mut text);
        object.field("jwks", text);
    }
    if let Some(spec) = jwks_fetch {
        object.field("jwks_fetch", fetch(spec));
    }
    if let Some(header) = header {
        object.field("header", string(header));
    }
    if let Some(skew) = clock_skew_seconds {
        object.field("clock_skew_seconds", skew.to_string());
    }
    if let Some(binding) = require_certificate_binding {
        object.field("require_certificate_binding", binding.to_string());
    }
    object.field(
        "consistency",
        array(consistency, |RawConsistency { claim, selector }| {
            let mut entry = Object::default();
            entry.field("claim", string(claim));
            entry.field("selector", string(selector));
            entry.finish()
        }),
    );
    object.finish()
}

fn identity(identity: &RawIdentity) -> String {
    let RawIdentity {
        sources,
        require_client_auth_eku,
        peer_verification,
    } = identity;
    let mut object = Object::default();
    if let Some(sources) = sources {
        object.field("sources", strings(sources));
    }
    if let Some(eku) = require_client_auth_eku {
        object.field("require_client_auth_eku", eku.to_string());
    }
    if let Some(verification) = peer_verification {
        object.field("peer_verification", string(verification));
    }
    object.finish()
}

fn issuer(issuer: &RawIssuer) -> String {
    let RawIssuer {
        subject,
        key_id,
        certificate,
        revocation,
    } = issuer;
    let mut object = Object::default();
    if let Some(subject) = subject {
        object.field("subject", string(subject));
    }
    if let Some(key_id) = key_id {
        object.field("key_id", string(key_id));
    }
    if let Some(certificate) = certificate {
        object.field("certificate", string(certificate));
    }
    if let Some(revocation) = revocation {
        object.field("revocation", self::revocation(revocation));
    }
    object.finish()
}

fn revocation(revocation: &RawRevocation) -> String {
    let RawRevocation {
        crl,
        fetch,
        grace_seconds,
        when_unavailable,
    } = revocation;
    let mut object = Object::default();
    if let Some(crl) = crl {
        object.field("crl", string(crl));
    }
    if let Some(spec) = fetch {
        object.field("fetch", self::fetch(spec));
    }
    if let Some(secs) = grace_seconds {
        object.field("grace_seconds", secs.to_string());
    }
    if let Some(choice) = when_unavailable {
        object.field("when_unavailable", string(choice));
    }
    object.finish()
}

/// A `fetch` object (a CRL's `fetch`, `tokens.jwks_fetch`).
fn fetch(fetch: &RawFetch) -> String {
    let RawFetch {
        upstream,
        authority,
        path,
        refresh_seconds,
        timeout_seconds,
    } = fetch;
    let mut object = Object::default();
    object.field("upstream", string(upstream));
    object.field("authority", string(authority));
    object.field("path", string(path));
    if let Some(secs) = refresh_seconds {
        object.field("refresh_seconds", secs.to_string());
    }
    if let Some(secs) = timeout_seconds {
        object.field("timeout_seconds", secs.to_string());
    }
    object.finish()
}

fn revoked(revoked: &RawRevoked) -> String {
    let RawRevoked {
        serials,
        fingerprints_sha256,
    } = revoked;
    let mut object = Object::default();
    object.field("serials", strings(serials));
    object.field("fingerprints_sha256", strings(fingerprints_sha256));
    object.finish()
}

fn matcher(matcher: &RawMap<Vec<RawPattern>>) -> String {
    map(matcher, |patterns| array(patterns, pattern))
}

fn pattern(pattern: &RawPattern) -> String {
    let (kind, text) = match pattern {
        RawPattern::Exact(text) => return string(text),
        RawPattern::Prefix(text) => ("prefix", text),
        RawPattern::Suffix(text) => ("suffix", text),
        RawPattern::Glob(text) => ("glob", text),
        RawPattern::IssuerSerial { issuer, serial } => {
            let mut object = Object::default();
            object.field("issuer", string(issuer));
            object.field("serial", string(serial));
            return object.finish();
        }
    };
    let mut object = Object::default();
    object.field(kind, string(text));
    object.finish()
}

fn rule(rule: &RawRule) -> String {
    let RawRule {
        name,
        methods,
        paths,
        allow,
        bind,
        hosts,
        require_token,
    } = rule;
    let mut object = Object::default();
    object.field("name", string(name));
    if let Some(methods) = methods {
        object.field("methods", strings(methods));
    }
    object.field("paths", strings(paths));
    object.field("allow", strings(allow));
    object.field("bind", map(bind, |s| string(s)));
    if let Some(hosts) = hosts {
        object.field("hosts", strings(hosts));
    }
    if let Some(require) = require_token {
        object.field("require_token", require.to_string());
    }
    object.finish()
}

/// A JSON string literal (serde_json's escaping).
pub(crate) fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a str always serialises")
}

fn strings(items: &[String]) -> String {
    array(items, |s| string(s))
}

fn array<T>(items: &[T], write: impl Fn(&T) -> String) -> String {
    let parts: Vec<String> = items.iter().map(write).collect();
    format!("[{}]", parts.join(","))
}

fn map<T>(entries: &RawMap<T>, write: impl Fn(&T) -> String) -> String {
    let mut object = Object::default();
    for (key, value) in entries.iter() {
        object.field(key, write(value));
    }
    object.finish()
}

/// An object under construction, keys in insertion order.
#[derive(Default)]
struct Object(Vec<String>);

impl Object {
    fn field(&mut self, key: &str, value: String) {
        self.0.push(format!("{}:{value}", string(key)));
    }

    fn finish(self) -> String {
        format!("{{{}}}", self.0.join(","))
    }
}
