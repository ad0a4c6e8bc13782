//! Explanations for tools (the CLI's `check`): which rules match a request and why an
//! identity holds each role. Built on the same matching code as `evaluate`, so an
//! explanation cannot drift from a decision. Not used on the request path.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Condition, Policy};
use crate::identity::Identity;
use crate::path::NormalizedPath;
use crate::selector::Selector;

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

    /// v1.1: the `{name}` labels the first of rule `index`'s `hosts` that matches
    /// `authority` captures (lower-cased, as binds see them), in pattern order; empty when the
    /// rule has no `hosts`, none matches or the authority is malformed.
    pub fn host_captures(&self, index: usize, authority: &str) -> Vec<(String, String)> {
        let Ok(authority) = crate::authority::Authority::parse(authority) else {
            return Vec::new();
        };
        self.rules
            .get(index)
            .and_then(|rule| rule.hosts.as_deref())
            .and_then(|hosts| hosts.iter().find(|h| h.matches(&authority)))
            .and_then(|host| {
                let param = host.param()?;
                Some(alloc::vec![(
                    String::from(param),
                    host.capture(param, &authority)?
                )])
            })
            .unwrap_or_default()
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

    /// Every value of `selector` on `identity` under this policy, exactly as role matching and
    /// `bind` read them: [`Selector::values`] plus the policy-dependent `issuer_pin`.
    pub fn selector_values<'a>(
        &'a self,
        selector: &Selector,
        identity: &'a Identity,
    ) -> Vec<&'a str> {
        let mut out = Vec::new();
        self.any_selector_value(selector, identity, |value| {
            out.push(value);
            false
        });
        out
    }
}
