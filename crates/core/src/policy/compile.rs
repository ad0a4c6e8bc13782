//! `RawPolicy` -> `Policy`: every content rule of the v1 contract, each error naming the JSON
//! path of the field at fault. Sections are checked in document order and the first error is
//! reported, so the same document always yields the same message.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use hashbrown::HashSet;

use super::hexid::{parse_fingerprint, parse_key_id, parse_serial};
use super::hosts::{parse_host_pattern, HostPattern};
use super::issuer::IssuerPin;
use super::json_path::JsonPath;
use super::raw::{RawIdentity, RawIssuer, RawMatcher, RawPattern, RawPolicy, RawRevoked, RawRule};
use super::revocation::{compile_certificate, compile_revocation, PinnedCa};
use super::router::{parse_path_pattern, PathPattern, Route, Router};
use super::{
    Allow, AllowedRole, Bind, Condition, ExactSet, Matcher, Mode, PatternSet, PeerVerification,
    Policy, PolicyError, Role, Rule, Source, DEFAULT_IDENTITY_CACHE_MAX_BYTES,
    MAX_FORM_BODY_CHECK_BYTES, MAX_IDENTITY_CACHE_MAX_BYTES,
};
use crate::forward::{forward_header_name, is_token, HeaderNameError};
use crate::method_override::OverrideParams;
use crate::pattern::Pattern;
use crate::selector::Selector;
use crate::strip::StrippedHeaders;

/// Role names with a built-in meaning; a policy may not define them.
const RESERVED_ROLES: &[&str] = &["authenticated", "public"];
/// Longest rule, role or issuer name.
const MAX_NAME_LEN: usize = 128;
/// Above this many exact patterns, a selector's exact values go into a hash set.
const EXACT_SET_THRESHOLD: usize = 8;

fn invalid(path: JsonPath, detail: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.into_string(),
        detail: detail.into(),
    }
}

/// Rule, role and issuer names appear in reason strings, logs and metric names, so they are
/// restricted to characters that need no quoting there.
fn check_name(kind: &str, name: &str, path: &JsonPath) -> Result<(), PolicyError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path.clone(),
            alloc::format!(
                "{kind} name {name:?} must be 1 to {MAX_NAME_LEN} characters of A-Z, a-z, 0-9, `-`, `_`, `.`"
            ),
        ))
    }
}

impl Policy {
    /// Compiles a parsed document. Errors name the JSON path of the offending field.
    pub fn compile(raw: RawPolicy) -> Result<Policy, PolicyError> {
        let root = JsonPath::root();
        let mode = compile_mode(raw.mode.as_deref(), &root)?;
        let (sources, require_client_auth_eku) =
            compile_identity(raw.identity.as_ref(), &root.key("identity"))?;

        let issuers_path = root.key("issuers");
        let mut issuers = Vec::with_capacity(raw.issuers.len());
        let mut revocations = Vec::new();
        for (name, issuer) in raw.issuers.iter() {
            let path = issuers_path.key(name);
            check_name("issuer", name, &path)?;
            let (pin, ca) = compile_issuer(name, issuer, &path)?;
            if let Some(revocation) = &issuer.revocation {
                let Some(ca) = ca else {
                    return Err(invalid(
                        path.key("revocation"),
                        "needs `certificate`: the CA whose key verifies this issuer's CRLs",
                    ));
                };
                revocations.push(compile_revocation(
                    name,
                    issuers.len(),
                    ca,
                    revocation,
                    &path.key("revocation"),
                )?);
            }
            issuers.push(pin);
        }

        let (revoked_serials, revoked_fingerprints) =
            compile_revoked(raw.revoked.as_ref(), &root.key("revoked"))?;

        // v1.1: compiled before roles and rules, which refer to it.
        let tokens = match &raw.tokens {
            None => None,
            Some(tokens) => Some(super::tokens::compile_tokens(tokens, &root.key("tokens"))?),
        };

        let roles_path = root.key("roles");
        let mut roles = Vec::with_capacity(raw.roles.len());
        for (name, matchers) in raw.roles.iter() {
            let path = roles_path.key(name);
            if RESERVED_ROLES.contains(&name) {
                return Err(invalid(
                    path,
                    alloc::format!("\"{name}\" is a reserved role name with a built-in meaning; pick another name"),
                ));
            }
            check_name("role", name, &path)?;
            if matchers.is_empty() {
                return Err(invalid(
                    path,
                    "a role needs at least one matcher (it could never be held)",
                ));
            }
            // Plain loops rather than `collect::<Result<Vec<_>, _>>()`: the adapter chain is
            // instantiated per element type and cost ~1.4 KB of .wasm (docs/wasm-size.md).
            let mut compiled_matchers = Vec::with_capacity(matchers.len());
            for (i, matcher) in matchers.iter().enumerate() {
                compiled_matchers.push(compile_matcher(
                    matcher,
                    &issuers,
                    tokens.is_some(),
                    &path.index(i),
                )?);
            }
            let uses_token = compiled_matchers.iter().any(|m| {
                m.conditions
                    .iter()
                    .any(|c| matches!(c, Condition::Token { .. }))
            });
            roles.push(Role {
                name: Arc::from(name),
                matchers: compiled_matchers,
                uses_token,
            });
        }

        let rules_path = root.key("rules");
        let mut rules = Vec::with_capacity(raw.rules.len());
        let mut router = Router::new();
        let mut rule_names: HashSet<&str> = HashSet::new();
        for (index, raw_rule) in raw.rules.iter().enumerate() {
            let path = rules_path.index(index);
            check_name("rule", &raw_rule.name, &path.key("name"))?;
            if !rule_names.insert(raw_rule.name.as_str()) {
                return Err(invalid(
                    path.key("name"),
                    alloc::format!("duplicate rule name \"{}\"", raw_rule.name),
                ));
            }
            let rule = compile_rule(raw_rule, &roles, &path)?;
            check_token_rule(raw_rule, &rule, &roles, tokens.is_some(), &path)?;
            for (path_index, pattern) in rule.paths.iter().enumerate() {
                router.insert(
                    pattern,
                    Route {
                        rule: index,
                        path: path_index,
                    },
                );
            }
            rules.push(rule);
        }

        let headers_path = root.key("forward_headers");
        let mut forward_headers: Vec<(String, Selector)> =
            Vec::with_capacity(raw.forward_headers.len());
        for (name, selector) in raw.forward_headers.iter() {
            let path = headers_path.key(name);
            let lower = forward_header_name(name).map_err(|e| {
                invalid(
                    path.clone(),
                    match e {
                        HeaderNameError::NotAToken => alloc::format!("{name:?} is not a valid header name"),
                        HeaderNameError::Forbidden => alloc::format!(
                            "\"{}\" may not be set by a policy (it steers routing, framing, the method or mtls-authz itself)",
                            name.to_ascii_lowercase()
                        ),
                    },
                )
            })?;
            if forward_headers.iter().any(|(n, _)| *n == lower) {
                return Err(invalid(
                    path,
                    alloc::format!(
                        "header \"{lower}\" is listed twice (header names are case-insensitive)"
                    ),
                ));
            }
            let selector =
                Selector::parse(selector).map_err(|e| invalid(path, alloc::format!("{e}")))?;
            forward_headers.push((lower, selector));
        }

        let override_path = root.key("method_override_params");
        for (i, name) in raw.method_override_params.iter().enumerate() {
            if OverrideParams::canonical(name).is_none() {
                return Err(invalid(
                    override_path.index(i),
                    alloc::format!(
                        "{name:?} names no parameter (empty once decoded and trimmed, or cut at `[`/NUL)"
                    ),
                ));
            }
        }
        let override_params =
            OverrideParams::new(raw.method_override_params.iter().map(String::as_str));

        let stripped_headers = StrippedHeaders::new(
            forward_headers.iter().map(|(name, _)| name.as_str()),
            sources.contains(&Source::Xfcc),
        );
        let uses_hosts = rules.iter().any(|rule| rule.hosts.is_some());
        Ok(Policy {
            stripped_headers,
            override_params,
            strict_paths: raw.strict_paths.unwrap_or(false),
            peer_verification: match raw
                .identity
                .as_ref()
                .and_then(|identity| identity.peer_verification.as_deref())
            {
                Some("listener") => PeerVerification::Listener,
                // The schema admits only `connection` and `listener`.
                _ => PeerVerification::Connection,
            },
            identity_cache_max_bytes: bounded(
                raw.identity_cache_max_bytes,
                DEFAULT_IDENTITY_CACHE_MAX_BYTES,
                0,
                MAX_IDENTITY_CACHE_MAX_BYTES,
                &root.key("identity_cache_max_bytes"),
            )?,
            form_body_check_max_bytes: match &raw.form_body_check {
                None => None,
                Some(check) => Some(bounded(
                    Some(check.max_bytes),
                    0,
                    1,
                    MAX_FORM_BODY_CHECK_BYTES,
                    &root.key("form_body_check").key("max_bytes"),
                )?),
            },
            mode,
            sources,
            require_client_auth_eku,
            expose_reason: raw.expose_reason.unwrap_or(false),
            issuers,
            revocations,
            revoked_serials,
            revoked_fingerprints,
            roles,
            rules,
            router,
            forward_headers,
            uses_hosts,
            tokens,
        })
    }
}

/// `value` (or `default` when absent) checked against `min..=max`.
fn bounded(
    value: Option<u32>,
    default: usize,
    min: usize,
    max: usize,
    path: &JsonPath,
) -> Result<usize, PolicyError> {
    let Some(value) = value else {
        return Ok(default);
    };
    usize::try_from(value)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(
                path.clone(),
                alloc::format!("expected an integer from {min} to {max}, found {value}"),
            )
        })
}

fn compile_mode(mode: Option<&str>, root: &JsonPath) -> Result<Mode, PolicyError> {
    match mode {
        None | Some("enforce") => Ok(Mode::Enforce),
        Some("shadow") => Ok(Mode::Shadow),
        Some(other) => Err(invalid(
            root.key("mode"),
            alloc::format!("unknown mode {other:?} (expected \"enforce\" or \"shadow\")"),
        )),
    }
}

fn compile_identity(
    identity: Option<&RawIdentity>,
    path: &JsonPath,
) -> Result<(Vec<Source>, bool), PolicyError> {
    let require_eku = identity
        .and_then(|i| i.require_client_auth_eku)
        .unwrap_or(true);
    let Some(raw_sources) = identity.and_then(|i| i.sources.as_ref()) else {
        return Ok((alloc::vec![Source::PeerCertificate], require_eku));
    };
    let sources_path = path.key("sources");
    if raw_sources.is_empty() {
        return Err(invalid(
            sources_path,
            "list at least one source: \"peer_certificate\" and/or \"xfcc\"",
        ));
    }
    let mut sources = Vec::with_capacity(raw_sources.len());
    for (i, source) in raw_sources.iter().enumerate() {
        let parsed = match source.as_str() {
            "peer_certificate" => Source::PeerCertificate,
            "xfcc" => Source::Xfcc,
            other => {
                return Err(invalid(
                    sources_path.index(i),
                    alloc::format!(
                        "unknown source {other:?} (expected \"peer_certificate\" or \"xfcc\")"
                    ),
                ))
            }
        };
        if sources.contains(&parsed) {
            return Err(invalid(
                sources_path.index(i),
                alloc::format!("source \"{source}\" is listed twice"),
            ));
        }
        sources.push(parsed);
    }
    Ok((sources, require_eku))
}

/// One `issuers` entry: its pin and, with v1.1 `certificate`, its CA (whose subject and key
/// id the pin takes; a `subject` or `key_id` also written must agree with it).
fn compile_issuer(
    name: &str,
    issuer: &RawIssuer,
    path: &JsonPath,
) -> Result<(IssuerPin, Option<PinnedCa>), PolicyError> {
    let key_id = match &issuer.key_id {
        Some(k) => Some(parse_key_id(k).map_err(|e| invalid(path.key("key_id"), e))?),
        None => None,
    };
    let written = match &issuer.subject {
        Some(subject) => Some(
            IssuerPin::new(String::from(name), subject, key_id.clone()).map_err(|e| {
                invalid(
                    path.key("subject"),
                    alloc::format!("not an RFC 4514 DN such as \"CN=Issuing CA,O=Example\": {e}"),
                )
            })?,
        ),
        None => None,
    };
    let Some(certificate) = &issuer.certificate else {
        return match written {
            Some(pin) => Ok((pin, None)),
            None => Err(invalid(
                path.clone(),
                "give `subject` (the issuer DN) or `certificate` (the CA certificate in PEM)",
            )),
        };
    };
    let (ca, fingerprint) = compile_certificate(certificate, &path.key("certificate"))?;
    if let Some(pin) = &written {
        if !pin.names(ca.subject()) {
            return Err(invalid(
                path.key("subject"),
                alloc::format!(
                    "does not agree with `certificate`, whose subject is \"{}\"",
                    ca.subject().rfc4514
                ),
            ));
        }
    }
    let derived_key_id = ca.key_id_hex();
    if key_id.is_some() && key_id != derived_key_id {
        return Err(invalid(
            path.key("key_id"),
            match &derived_key_id {
                Some(ski) => alloc::format!(
                    "does not agree with `certificate`, whose subjectKeyIdentifier is {ski}"
                ),
                None => String::from(
                    "`certificate` has no subjectKeyIdentifier, so no key id can be checked",
                ),
            },
        ));
    }
    let pin = IssuerPin::from_dn(String::from(name), ca.subject(), derived_key_id);
    Ok((pin, Some((ca, fingerprint))))
}

fn compile_revoked(
    revoked: Option<&RawRevoked>,
    path: &JsonPath,
) -> Result<(HashSet<String>, HashSet<[u8; 32]>), PolicyError> {
    let mut serials = HashSet::new();
    let mut fingerprints = HashSet::new();
    if let Some(revoked) = revoked {
        for (i, serial) in revoked.serials.iter().enumerate() {
            let normalised =
                parse_serial(serial).map_err(|e| invalid(path.key("serials").index(i), e))?;
            serials.insert(normalised);
        }
        for (i, fingerprint) in revoked.fingerprints_sha256.iter().enumerate() {
            let parsed = parse_fingerprint(fingerprint)
                .map_err(|e| invalid(path.key("fingerprints_sha256").index(i), e))?;
            fingerprints.insert(parsed);
        }
    }
    Ok((serials, fingerprints))
}

/// The prefix of v1.1 token selectors in role matchers (`token.scope`, `token.act.sub`).
pub(super) const TOKEN_SELECTOR_PREFIX: &str = "token.";

fn compile_matcher(
    raw: &RawMatcher,
    issuers: &[IssuerPin],
    has_tokens: bool,
    path: &JsonPath,
) -> Result<Matcher, PolicyError> {
    if raw.is_empty() {
        return Err(invalid(
            path.clone(),
            "empty matcher: it would match every certificate; name at least one selector",
        ));
    }
    let mut conditions = Vec::with_capacity(raw.len());
    for (selector_text, patterns) in raw.iter() {
        let path = path.key(selector_text);
        if let Some(claim) = selector_text.strip_prefix(TOKEN_SELECTOR_PREFIX) {
            conditions.push(compile_token_condition(
                selector_text,
                claim,
                patterns,
                has_tokens,
                &path,
            )?);
            continue;
        }
        let selector = Selector::parse(selector_text)
            .map_err(|e| invalid(path.clone(), alloc::format!("{e}")))?;
        if patterns.is_empty() {
            return Err(invalid(path, "empty pattern list: it could never match"));
        }
        let condition = match selector {
            Selector::Roles => {
                return Err(invalid(
                    path,
                    "the `roles` selector is only for forward_headers; a role cannot be defined by other roles",
                ))
            }
            Selector::IssuerPin => Condition::IssuerPin(compile_issuer_pins(patterns, issuers, &path)?),
            selector => {
                let (patterns, scoped) = compile_patterns(&selector, patterns, issuers, &path)?;
                Condition::Attribute {
                    text: String::from(selector_text),
                    selector,
                    patterns,
                    scoped,
                }
            }
        };
        conditions.push(condition);
    }
    Ok(Matcher { conditions })
}

/// v1.1 `token.<claim path>`: matched against the verified token's claim values, with the
/// patterns of any string selector.
fn compile_token_condition(
    text: &str,
    claim: &str,
    patterns: &[RawPattern],
    has_tokens: bool,
    path: &JsonPath,
) -> Result<Condition, PolicyError> {
    if !has_tokens {
        return Err(invalid(
            path.clone(),
            "a `token.` selector needs a `tokens` section (issuer, audiences, jwks)",
        ));
    }
    let claim = crate::token::ClaimPath::parse(claim)
        .map_err(|e| invalid(path.clone(), alloc::format!("{e}")))?;
    if patterns.is_empty() {
        return Err(invalid(
            path.clone(),
            "empty pattern list: it could never match",
        ));
    }
    // Claim values are plain strings: patterns as for `san.dns` (no serial or DN forms).
    let (patterns, _) = compile_patterns(&Selector::SanDns, patterns, &[], path)?;
    Ok(Condition::Token {
        text: String::from(text),
        claim,
        patterns,
    })
}

/// v1.1 `require_token`: needs a `tokens` section and an identity (not `public`); a role
/// that reads token claims is allowed only by rules that require a token (elsewhere it
/// could never be held).
fn check_token_rule(
    raw: &RawRule,
    rule: &Rule,
    roles: &[Role],
    has_tokens: bool,
    path: &JsonPath,
) -> Result<(), PolicyError> {
    if rule.require_token {
        if !has_tokens {
            return Err(invalid(
                path.key("require_token"),
                "`require_token` needs a `tokens` section (issuer, audiences, jwks)",
            ));
        }
        if matches!(rule.allow, Allow::Public) {
            return Err(invalid(
                path.key("require_token"),
                "a rule that allows `public` needs no identity, and a token is bound to one",
            ));
        }
        return Ok(());
    }
    for (i, name) in raw.allow.iter().enumerate() {
        if roles
            .iter()
            .any(|role| role.uses_token && *role.name == **name)
        {
            return Err(invalid(
                path.key("allow").index(i),
                alloc::format!(
                    "role \"{name}\" matches token claims, so this rule needs \"require_token\": true (without a verified token it is never held)"
                ),
            ));
        }
    }
    Ok(())
}

fn exact_only<'a>(
    pattern: &'a RawPattern,
    what: &str,
    path: &JsonPath,
) -> Result<&'a str, PolicyError> {
    match pattern {
        RawPattern::Exact(value) => Ok(value),
        _ => Err(invalid(
            path.clone(),
            alloc::format!("{what} takes exact values only, not prefix/suffix/glob"),
        )),
    }
}

fn compile_issuer_pins(
    patterns: &[RawPattern],
    issuers: &[IssuerPin],
    path: &JsonPath,
) -> Result<Vec<usize>, PolicyError> {
    let mut indexes = Vec::with_capacity(patterns.len());
    for (i, pattern) in patterns.iter().enumerate() {
        let path = path.index(i);
        let name = exact_only(pattern, "issuer_pin", &path)?;
        let Some(index) = issuers.iter().position(|issuer| issuer.name == name) else {
            let mut defined: Vec<&str> = issuers.iter().map(|i| i.name.as_str()).collect();
            crate::sort::sort_unstable(&mut defined);
            return Err(invalid(
                path,
                if defined.is_empty() {
                    alloc::format!("issuer \"{name}\" is not defined (no issuers are defined)")
                } else {
                    alloc::format!(
                        "issuer \"{name}\" is not defined (defined: {})",
                        defined.join(", ")
                    )
                },
            ));
        };
        indexes.push(index);
    }
    Ok(indexes)
}

/// A selector's patterns, and for `serial` its issuer-scoped ones as (index into
/// `issuers`, normalised serial).
fn compile_patterns(
    selector: &Selector,
    patterns: &[RawPattern],
    issuers: &[IssuerPin],
    path: &JsonPath,
) -> Result<(PatternSet, Vec<(usize, String)>), PolicyError> {
    let mut exact = Vec::new();
    let mut others = Vec::new();
    let mut scoped = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let path = path.index(i);
        if let RawPattern::IssuerSerial { issuer, serial } = pattern {
            if *selector != Selector::Serial {
                return Err(invalid(
                    path,
                    "an {\"issuer\", \"serial\"} pattern is only for the `serial` selector",
                ));
            }
            let Some(index) = issuers.iter().position(|pin| pin.name == *issuer) else {
                return Err(invalid(
                    path.key("issuer"),
                    alloc::format!("issuer \"{issuer}\" is not defined in `issuers`"),
                ));
            };
            let serial = parse_serial(serial).map_err(|e| invalid(path.key("serial"), e))?;
            scoped.push((index, serial));
            continue;
        }
        match selector {
            Selector::FingerprintSha256 => {
                let value = exact_only(pattern, "fingerprint_sha256", &path)?;
                let parsed = parse_fingerprint(value).map_err(|e| invalid(path, e))?;
                exact.push(crate::hex::to_hex(&parsed));
                continue;
            }
            Selector::Serial => {
                let value = exact_only(pattern, "serial", &path)?;
                exact.push(parse_serial(value).map_err(|e| invalid(path, e))?);
                continue;
            }
            _ => {}
        }
        let (value, kind) = match pattern {
            RawPattern::Exact(v) => (v, "exact"),
            RawPattern::Prefix(v) => (v, "prefix"),
            RawPattern::Suffix(v) => (v, "suffix"),
            RawPattern::Glob(v) => (v, "glob"),
            RawPattern::IssuerSerial { .. } => continue,
        };
        if value.is_empty() {
            return Err(invalid(
                path,
                alloc::format!(
                    "empty {kind} pattern: an empty value is almost certainly a mistake"
                ),
            ));
        }
        match pattern {
            RawPattern::Exact(v) => exact.push(v.clone()),
            RawPattern::Prefix(v) => others.push(Pattern::Prefix(v.clone())),
            RawPattern::Suffix(v) => others.push(Pattern::Suffix(v.clone())),
            RawPattern::Glob(v) => others.push(Pattern::Glob(v.clone())),
            RawPattern::IssuerSerial { .. } => {}
        }
    }
    let exact = if exact.len() > EXACT_SET_THRESHOLD {
        ExactSet::Many(exact.into_iter().collect())
    } else {
        ExactSet::Few(exact)
    };
    let patterns = PatternSet {
        exact,
        others,
        whole_dn: matches!(selector, Selector::Subject | Selector::Issuer),
    };
    Ok((patterns, scoped))
}

fn compile_rule(raw: &RawRule, roles: &[Role], path: &JsonPath) -> Result<Rule, PolicyError> {
    let methods = match &raw.methods {
        None => None,
        Some(methods) => {
            let methods_path = path.key("methods");
            if methods.is_empty() {
                return Err(invalid(
                    methods_path,
                    "empty methods list: it could never match (omit `methods` to match every method)",
                ));
            }
            let mut out: Vec<String> = Vec::with_capacity(methods.len());
            for (i, method) in methods.iter().enumerate() {
                if !is_token(method) || method.bytes().any(|b| b.is_ascii_lowercase()) {
                    return Err(invalid(
                        methods_path.index(i),
                        alloc::format!(
                            "{method:?} is not an upper-case HTTP method token such as \"GET\""
                        ),
                    ));
                }
                if out.contains(method) {
                    return Err(invalid(
                        methods_path.index(i),
                        alloc::format!("method \"{method}\" is listed twice"),
                    ));
                }
                out.push(method.clone());
            }
            Some(out)
        }
    };

    let paths_path = path.key("paths");
    if raw.paths.is_empty() {
        return Err(invalid(
            paths_path,
            "a rule needs at least one path pattern",
        ));
    }
    let mut paths = Vec::with_capacity(raw.paths.len());
    for (i, pattern) in raw.paths.iter().enumerate() {
        paths.push(parse_path_pattern(pattern).map_err(|e| invalid(paths_path.index(i), e))?);
    }

    let hosts = match &raw.hosts {
        None => None,
        Some(patterns) => Some(compile_hosts(patterns, &paths, &path.key("hosts"))?),
    };

    let allow = compile_allow(&raw.allow, roles, &path.key("allow"))?;

    let bind_path = path.key("bind");
    let mut binds = Vec::with_capacity(raw.bind.len());
    if matches!(allow, Allow::Public) && !raw.bind.is_empty() {
        return Err(invalid(
            bind_path,
            "a rule that allows `public` needs no identity, so it cannot bind parameters to one",
        ));
    }
    for (param, selector_text) in raw.bind.iter() {
        let path = bind_path.key(param);
        // v1.1: a parameter every host pattern captures is read from the host.
        let from_host = hosts
            .as_ref()
            .is_some_and(|hosts| hosts.iter().any(|h| h.captures(param)));
        if let (true, Some(hosts), Some(raw_hosts)) = (from_host, &hosts, &raw.hosts) {
            if let Some((missing, _)) = raw_hosts
                .iter()
                .zip(hosts)
                .find(|(_, pattern)| !pattern.captures(param))
            {
                return Err(invalid(
                    path,
                    alloc::format!(
                        "host \"{missing}\" does not capture {{{param}}}; every host of a rule with a host bind must capture the bound parameter"
                    ),
                ));
            }
        } else if let Some(missing) = raw
            .paths
            .iter()
            .zip(&paths)
            .find(|(_, pattern)| pattern.capture_position(param).is_none())
        {
            return Err(invalid(
                path,
                alloc::format!(
                    "path \"{}\" does not capture {{{param}}}; every path of a rule with a bind must capture the bound parameter",
                    missing.0
                ),
            ));
        }
        let selector = Selector::parse(selector_text)
            .map_err(|e| invalid(path.clone(), alloc::format!("{e}")))?;
        if selector == Selector::Roles {
            return Err(invalid(
                path,
                "`roles` cannot be bound; bind an identity attribute",
            ));
        }
        binds.push(Bind {
            param: String::from(param),
            selector,
            from_host,
        });
    }
    // Parameters are unique (`bind` is a map that rejects duplicate keys).
    crate::sort::sort_unstable_by(&mut binds, |a, b| a.param.cmp(&b.param));

    Ok(Rule {
        name: Arc::from(raw.name.as_str()),
        methods,
        paths,
        hosts,
        allow,
        binds,
        require_token: raw.require_token.unwrap_or(false),
    })
}

/// v1.1 `rules[].hosts`: a non-empty list of distinct patterns; a captured parameter is not
/// also a path parameter (the bind would read one of two values).
fn compile_hosts(
    patterns: &[String],
    paths: &[PathPattern],
    hosts_path: &JsonPath,
) -> Result<Vec<HostPattern>, PolicyError> {
    if patterns.is_empty() {
        return Err(invalid(
            hosts_path.clone(),
            "empty hosts list: it could never match (omit `hosts` to match every host)",
        ));
    }
    let mut out = Vec::with_capacity(patterns.len());
    for (i, text) in patterns.iter().enumerate() {
        let pattern = parse_host_pattern(text).map_err(|e| invalid(hosts_path.index(i), e))?;
        if patterns
            .get(..i)
            .is_some_and(|before| before.contains(text))
        {
            return Err(invalid(
                hosts_path.index(i),
                alloc::format!("host \"{text}\" is listed twice"),
            ));
        }
        if let Some(param) = pattern.param() {
            if paths.iter().any(|p| p.capture_position(param).is_some()) {
                return Err(invalid(
                    hosts_path.index(i),
                    alloc::format!(
                        "{{{param}}} is captured by a path of this rule too; name the host parameter differently"
                    ),
                ));
            }
        }
        out.push(pattern);
    }
    Ok(out)
}

fn compile_allow(allow: &[String], roles: &[Role], path: &JsonPath) -> Result<Allow, PolicyError> {
    if allow.is_empty() {
        return Err(invalid(
            path.clone(),
            "empty allow list: the rule could never allow anything (remove the rule: unmatched requests are denied)",
        ));
    }
    if allow.iter().any(|a| a == "public") {
        if let Some(i) = allow.iter().position(|a| a != "public") {
            return Err(invalid(
                path.index(i),
                "`public` cannot be mixed with other roles in one allow list (it already allows everyone); split the rule",
            ));
        }
        if allow.len() > 1 {
            return Err(invalid(path.index(1), "role \"public\" is listed twice"));
        }
        return Ok(Allow::Public);
    }
    let mut out = Vec::with_capacity(allow.len());
    for (i, name) in allow.iter().enumerate() {
        let entry = if name == "authenticated" {
            AllowedRole::Authenticated
        } else if let Some(index) = roles.iter().position(|r| *r.name == **name) {
            AllowedRole::Role(index)
        } else {
            let mut defined: Vec<&str> = roles.iter().map(|r| &*r.name).collect();
            crate::sort::sort_unstable(&mut defined);
            return Err(invalid(
                path.index(i),
                if defined.is_empty() {
                    alloc::format!("role \"{name}\" is not defined (no roles are defined; reserved: authenticated, public)")
                } else {
                    alloc::format!(
                        "role \"{name}\" is not defined (defined: {})",
                        defined.join(", ")
                    )
                },
            ));
        };
        if out.contains(&entry) {
            return Err(invalid(
                path.index(i),
                alloc::format!("role \"{name}\" is listed twice"),
            ));
        }
        out.push(entry);
    }
    Ok(Allow::Roles(out))
}

#[cfg(test)]
mod tests;
