//! Explanations for tools (the CLI's `check`): which rules match a request and why an
//! identity holds each role. Built on the same matching code as `evaluate`, so an
//! explanation cannot drift from a decision. Not used on the request path.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alloc::borrow::Cow;

use super::evaluate::{bind_capture, Matched};
use super::router::{self, Routes};
use super::{Condition, Policy};
use crate::identity::Identity;
use crate::path::NormalizedPath;

/// One value that satisfied one condition of a role matcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The selector as written (`subject.OU`, `issuer_pin`...).
    pub selector: String,
    /// The identity's value that matched (for `issuer_pin`: the issuer's name).
    pub value: String,
    /// The pattern it matched, as the policy writes it (`"Admins"`, `{"glob":"*.x"}`).
    pub pattern: String,
}

/// One rule that matches a request, as [`Policy::explain_rules`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleMatch {
    /// Index of the rule in policy order.
    pub rule: usize,
    /// One entry per `bind`, sorted by parameter (the order the decision checks them in).
    pub binds: Vec<BindCheck>,
}

/// One `bind` of a matching rule, checked as the decision checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindCheck {
    /// The bound `{name}`.
    pub param: String,
    /// What the request's path segment or (v1.1) host label captured; `None`: nothing (the
    /// bind fails closed).
    pub value: Option<String>,
    /// The captured value is among the identity's values of the bind's selector.
    pub holds: bool,
}

/// True when every request path `narrow` matches, `broad` matches too (the shadowing lint);
/// false when either is not a valid path pattern.
pub fn path_pattern_covers(broad: &str, narrow: &str) -> bool {
    match (
        router::parse_path_pattern(broad),
        router::parse_path_pattern(narrow),
    ) {
        (Ok(broad), Ok(narrow)) => broad.covers(&narrow),
        _ => false,
    }
}

/// Why an identity holds a role: the first matcher (index in the role's list) that holds,
/// with one piece of evidence per condition of that matcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGrant {
    /// Role name.
    pub role: String,
    /// Index of the matcher in the role's list.
    pub matcher: usize,
    /// One entry per selector of that matcher, in document order.
    pub evidence: Vec<Evidence>,
}

impl Policy {
    /// The roles `identity` holds and why, in policy `roles` order. Identity checks
    /// (validity, revocation...) are not applied: see [`Policy::check_identity`].
    pub fn role_grants(&self, identity: &Identity) -> Vec<RoleGrant> {
        self.role_grants_with_token(identity, None)
    }

    /// [`Policy::role_grants`] with the claims of a verified token (v1.1 `token.` selectors;
    /// without claims they hold nothing). Binding and consistency are not checked here.
    pub fn role_grants_with_token(
        &self,
        identity: &Identity,
        claims: Option<&crate::token::Claims>,
    ) -> Vec<RoleGrant> {
        let mut grants = Vec::new();
        for role in &self.roles {
            for (index, matcher) in role.matchers.iter().enumerate() {
                let evidence: Option<Vec<Evidence>> = matcher
                    .conditions
                    .iter()
                    .map(|condition| self.evidence(condition, identity, claims))
                    .collect();
                if let Some(evidence) = evidence {
                    grants.push(RoleGrant {
                        role: String::from(&*role.name),
                        matcher: index,
                        evidence,
                    });
                    break;
                }
            }
        }
        grants
    }

    /// Indexes of every rule whose methods and path patterns match, in policy order (rules
    /// with v1.1 `hosts` match no request here: see [`Policy::matching_rules_on_host`]).
    pub fn matching_rules(&self, method: &str, path: &NormalizedPath) -> Vec<usize> {
        self.matching_rules_on_host(method, path, None)
    }

    /// [`Policy::matching_rules`] for a request to `authority` (v1.1 `hosts`): rules with
    /// `hosts` match only when one of them matches it; `None` or a malformed authority
    /// matches none of them.
    pub fn matching_rules_on_host(
        &self,
        method: &str,
        path: &NormalizedPath,
        authority: Option<&str>,
    ) -> Vec<usize> {
        let segments: Vec<&str> = path.segments.iter().map(String::as_str).collect();
        let authority = authority.and_then(|a| crate::authority::Authority::parse(a).ok());
        self.matching_routes(method, &segments, authority.as_ref())
            .into_iter()
            .map(|route| route.rule)
            .collect()
    }

    /// Every rule whose methods, path and (v1.1) host match, in policy order, with each of
    /// its binds checked exactly as the decision checks them (the same route, so the same
    /// path's captures; the same host label; `issuer_pin` included). With no usable
    /// `identity` no bind holds. A malformed `authority` matches no rule with `hosts`.
    pub fn explain_rules(
        &self,
        method: &str,
        path: &NormalizedPath,
        authority: Option<&str>,
        identity: Option<&Identity>,
    ) -> Vec<RuleMatch> {
        let segments: Vec<&str> = path.segments.iter().map(String::as_str).collect();
        let authority = authority.and_then(|a| crate::authority::Authority::parse(a).ok());
        let request = Matched {
            segments: &segments,
            authority: authority.as_ref(),
            query: path.query.as_deref(),
        };
        self.matching_routes(method, &segments, authority.as_ref())
            .into_iter()
            .filter_map(|route| {
                let rule = self.rules.get(route.rule)?;
                let binds = rule
                    .binds
                    .iter()
                    .map(|bind| BindCheck {
                        param: bind.param.clone(),
                        value: bind_capture(rule, route, bind, &request).map(Cow::into_owned),
                        holds: identity.is_some_and(|identity| {
                            self.bind_holds(rule, route, bind, &request, identity)
                        }),
                    })
                    .collect();
                Some(RuleMatch {
                    rule: route.rule,
                    binds,
                })
            })
            .collect()
    }

    /// Indexes of every rule one of whose path patterns matches `path`, whatever its methods
    /// and hosts, in policy order (why no rule matched: the path did, the method did not).
    pub fn rules_matching_path(&self, path: &NormalizedPath) -> Vec<usize> {
        let segments: Vec<&str> = path.segments.iter().map(String::as_str).collect();
        let mut routes = Routes::new();
        self.router.matches(&segments, &mut routes);
        let mut rules: Vec<usize> = routes.into_iter().map(|route| route.rule).collect();
        crate::sort::sort_unstable(&mut rules);
        rules.dedup();
        rules
    }

    fn evidence(
        &self,
        condition: &Condition,
        identity: &Identity,
        claims: Option<&crate::token::Claims>,
    ) -> Option<Evidence> {
        match condition {
            Condition::Attribute {
                text,
                selector,
                patterns,
                scoped,
            } => {
                let mut found = None;
                selector.any_value(identity, |value| {
                    found = patterns
                        .matching_pattern(value)
                        .map(|p| (value, p.to_string()));
                    found.is_some()
                });
                let scoped_match = || {
                    scoped.iter().find_map(|(issuer, serial)| {
                        let pin = self.issuers.get(*issuer)?;
                        (identity.serial == *serial && pin.matches(identity)).then(|| {
                            (
                                identity.serial.as_str(),
                                alloc::format!(
                                    "{{\"issuer\":\"{}\",\"serial\":\"{serial}\"}}",
                                    pin.name
                                ),
                            )
                        })
                    })
                };
                found
                    .or_else(scoped_match)
                    .map(|(value, pattern)| Evidence {
                        selector: text.clone(),
                        value: String::from(value),
                        pattern,
                    })
            }
            Condition::IssuerPin(indexes) => indexes
                .iter()
                .filter_map(|&i| self.issuers.get(i))
                .find(|pin| pin.matches(identity))
                .map(|pin| Evidence {
                    selector: String::from("issuer_pin"),
                    value: pin.name.clone(),
                    pattern: crate::pattern::Pattern::Exact(pin.name.clone()).to_string(),
                }),
            Condition::Token {
                text,
                claim,
                patterns,
            } => {
                let mut found = None;
                claims?.any_value(claim, |value| {
                    found = patterns
                        .matching_pattern(value)
                        .map(|p| (String::from(value), p.to_string()));
                    found.is_some()
                });
                found.map(|(value, pattern)| Evidence {
                    selector: text.clone(),
                    value,
                    pattern,
                })
            }
        }
    }
}

impl Policy {
    /// The names of the `issuers` entries whose pin holds for `identity`, in `issuers`
    /// order: the values of `issuer_pin` for this certificate under this policy.
    pub fn issuer_pins<'a>(&'a self, identity: &Identity) -> Vec<&'a str> {
        self.issuers
            .iter()
            .filter(|pin| pin.matches(identity))
            .map(|pin| pin.name.as_str())
            .collect()
    }
}
