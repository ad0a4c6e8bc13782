//! The v1 configuration contract: parse (`raw`), compile, evaluate.
//!
//! `raw` checks the document's shape (serde_json reads the text, `json` checks it against
//! `raw`'s schema as it is read), `compile` checks its content and builds the runtime
//! structures (hash sets, pre-compiled matchers, the path trie), `evaluate` decides requests.

mod compile;
mod evaluate;
mod explain;
pub mod fetch;
mod hexid;
mod hosts;
mod issuer;
mod json;
mod json_path;
pub mod raw;
pub mod revocation;
mod router;
#[cfg(test)]
mod test_support;
mod tokens;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashSet;

use crate::pattern::Pattern;
use crate::selector::Selector;

pub use evaluate::PreparedIdentity;
pub use explain::{path_pattern_covers, BindCheck, Evidence, RoleGrant, RuleMatch};
pub use raw::RawPolicy;
pub use revocation::{CrlStore, IssuerRevocation, WhenUnavailable};
pub use tokens::{HeaderToken, NoToken, RequestToken, TokenPolicy, DEFAULT_TOKEN_HEADER};

/// `enforce` blocks denied requests; `shadow` only reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny responses are sent.
    Enforce,
    /// Never blocks; the decision is logged, counted and sent upstream.
    Shadow,
}

/// Where the client certificate may come from, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The TLS connection's verified peer certificate.
    PeerCertificate,
    /// The last element of a trusted `x-forwarded-client-cert` header.
    Xfcc,
}

/// How the filter learns that the proxy verified the peer certificate (v1.1
/// `identity.peer_verification`, docs/DECISIONS.md). Envoy only: in NGINX the filter always
/// requires `ngx.ssl_client_verify` `SUCCESS`, which NGINX keeps on resumed sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerVerification {
    /// The proxy must report the certificate verified for this very connection (Envoy
    /// `connection.peer_certificate_valid`, NGINX `ngx.ssl_client_verify`). Envoy reports
    /// `false` on resumed TLS sessions, so its listener must not resume sessions.
    Connection,
    /// The listener refuses every certificate it cannot verify at the handshake, so a
    /// certificate that reached the filter was verified (Envoy binds a resumed session to the
    /// validation settings that admitted it). Envoy's `false` is then not a refusal; never
    /// with `trust_chain_verification: ACCEPT_UNTRUSTED`.
    Listener,
}

impl PeerVerification {
    /// Whether a certificate the proxy presents counts as verified, given what the proxy
    /// reports for this connection (Envoy's `connection.peer_certificate_valid`).
    pub fn trusts(self, reported_verified: bool) -> bool {
        reported_verified || self == PeerVerification::Listener
    }
}

/// Default of `identity_cache_max_bytes`: the identity cache's budget per filter VM.
pub const DEFAULT_IDENTITY_CACHE_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Largest accepted `identity_cache_max_bytes`.
pub const MAX_IDENTITY_CACHE_MAX_BYTES: usize = 1024 * 1024 * 1024;
/// Largest accepted `form_body_check.max_bytes` (Envoy's default per-request buffer limit).
pub const MAX_FORM_BODY_CHECK_BYTES: usize = 1024 * 1024;

/// A request as the evaluator sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `:method`, exactly as sent.
    pub method: &'a str,
    /// Raw `:path` (request-target), before normalisation.
    pub path: &'a str,
}

/// A policy error, naming the JSON path of the offending field (e.g. `rules[2].allow[0]`).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The document is not valid JSON or does not fit the schema (unknown field, wrong type).
    Syntax {
        /// JSON path of the field where parsing stopped, or `$` at the top level.
        path: String,
        /// What is wrong, ending with serde_json's `at line L column C` (where reading stopped).
        detail: String,
    },
    /// The document parsed but its content is invalid.
    Invalid {
        /// JSON path of the offending field.
        path: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
}

impl PolicyError {
    /// JSON path of the offending field (`$` for the document itself).
    pub fn path(&self) -> &str {
        match self {
            PolicyError::Syntax { path, .. } | PolicyError::Invalid { path, .. } => path,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Syntax { path, detail } => {
                write!(f, "invalid policy at {path}: {detail}")
            }
            PolicyError::Invalid { path, detail } => {
                write!(f, "invalid policy at {path}: {detail}")
            }
        }
    }
}

impl core::error::Error for PolicyError {}

/// A compiled, immutable policy.
#[derive(Debug)]
pub struct Policy {
    mode: Mode,
    sources: Vec<Source>,
    require_client_auth_eku: bool,
    expose_reason: bool,
    issuers: Vec<issuer::IssuerPin>,
    /// v1.1: issuers with `revocation`, each naming its pin in `issuers`.
    revocations: Vec<IssuerRevocation>,
    revoked_serials: HashSet<String>,
    revoked_fingerprints: HashSet<[u8; 32]>,
    roles: Vec<Role>,
    rules: Vec<Rule>,
    router: router::Router,
    forward_headers: Vec<(String, Selector)>,
    stripped_headers: crate::strip::StrippedHeaders,
    override_params: crate::method_override::OverrideParams,
    /// v1.1 `strict_paths`: refuse double encoding and look-alikes of `.`, `/`, `\\`.
    strict_paths: bool,
    peer_verification: PeerVerification,
    identity_cache_max_bytes: usize,
    form_body_check_max_bytes: Option<usize>,
    /// Some rule has v1.1 `hosts`: only then is the request's authority read and checked.
    uses_hosts: bool,
    /// v1.1 `tokens`.
    tokens: Option<TokenPolicy>,
}

/// A role: held when any matcher holds.
#[derive(Debug)]
struct Role {
    /// Shared with every [`crate::Decision`] that names it: cloning it does not allocate.
    name: Arc<str>,
    matchers: Vec<Matcher>,
    /// v1.1: some matcher reads token claims, so the role can be held only under a rule
    /// with `require_token`.
    uses_token: bool,
}

/// Held when every condition holds.
#[derive(Debug)]
struct Matcher {
    conditions: Vec<Condition>,
}

#[derive(Debug)]
enum Condition {
    /// Some value of the selector matches some pattern.
    Attribute {
        /// The selector as written (for explanations).
        text: String,
        selector: Selector,
        patterns: PatternSet,
        /// `serial` only: (index into `Policy::issuers`, serial) pairs, each held when the
        /// certificate has that serial AND matches that issuer pin.
        scoped: Vec<(usize, String)>,
    },
    /// The certificate matches one of these `issuers` (indexes into `Policy::issuers`).
    IssuerPin(Vec<usize>),
    /// v1.1 `token.<claim path>`: some value of the verified token's claim matches some
    /// pattern (never held without a verified token).
    Token {
        /// The selector as written (`token.scope`).
        text: String,
        claim: crate::token::ClaimPath,
        patterns: PatternSet,
    },
}

/// The patterns of one selector: exact values in a set (fast for long lists of
/// fingerprints or SPIFFE IDs), the rest tried in order.
#[derive(Debug)]
struct PatternSet {
    exact: ExactSet,
    others: Vec<Pattern>,
    /// The selector is a whole rendered DN (`subject`, `issuer`): partial patterns match
    /// only at its [`crate::dn::Boundaries`], never inside an escaped value.
    whole_dn: bool,
}

#[derive(Debug)]
enum ExactSet {
    Few(Vec<String>),
    Many(HashSet<String>),
}

impl PatternSet {
    fn matches(&self, value: &str) -> bool {
        self.matches_exact(value) || self.matching_other(value).is_some()
    }

    /// The first non-exact pattern that matches `value`.
    fn matching_other(&self, value: &str) -> Option<&Pattern> {
        if self.others.is_empty() {
            return None;
        }
        if self.whole_dn {
            let boundaries = crate::dn::Boundaries::of(value);
            self.others
                .iter()
                .find(|p| p.matches_dn(value, &boundaries))
        } else {
            self.others.iter().find(|p| p.matches(value))
        }
    }

    fn matches_exact(&self, value: &str) -> bool {
        match &self.exact {
            ExactSet::Few(values) => values.iter().any(|v| v == value),
            ExactSet::Many(values) => values.contains(value),
        }
    }

    /// The first pattern that matches `value` (explanations only).
    fn matching_pattern(&self, value: &str) -> Option<Pattern> {
        if self.matches_exact(value) {
            return Some(Pattern::Exact(String::from(value)));
        }
        self.matching_other(value).cloned()
    }
}

#[derive(Debug)]
struct Rule {
    /// Shared with every [`crate::Decision`] that names it: cloning it does not allocate.
    name: Arc<str>,
    /// `None`: every method.
    methods: Option<Vec<String>>,
    paths: Vec<router::PathPattern>,
    /// v1.1 `hosts`; `None`: every host.
    hosts: Option<Vec<hosts::HostPattern>>,
    allow: Allow,
    /// Sorted by parameter name.
    binds: Vec<Bind>,
    /// v1.1: allows only with a verified, bound, consistent token.
    require_token: bool,
}

#[derive(Debug)]
enum Allow {
    /// No certificate needed.
    Public,
    /// Any of these, in the rule's `allow` order.
    Roles(Vec<AllowedRole>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AllowedRole {
    /// Any usable identity.
    Authenticated,
    /// Index into `Policy::roles`.
    Role(usize),
}

#[derive(Debug)]
struct Bind {
    param: String,
    selector: Selector,
    /// v1.1: the parameter is captured by the rule's `hosts` patterns, not by its paths.
    from_host: bool,
}

impl Policy {
    /// Parses and compiles a v1 JSON document.
    pub fn from_json(json: &str) -> Result<Policy, PolicyError> {
        Policy::compile(RawPolicy::from_json(json)?)
    }

    /// `enforce` or `shadow`.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `identity.sources`, in order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// `identity.require_client_auth_eku`.
    pub fn require_client_auth_eku(&self) -> bool {
        self.require_client_auth_eku
    }

    /// Whether deny bodies carry the rule and reason.
    pub fn expose_reason(&self) -> bool {
        self.expose_reason
    }

    /// `forward_headers` as (lowercase header name, selector), in document order.
    pub fn forward_headers(&self) -> &[(String, Selector)] {
        &self.forward_headers
    }

    /// The inbound headers that never reach the upstream (see [`crate::strip`]).
    pub fn stripped_headers(&self) -> &crate::strip::StrippedHeaders {
        &self.stripped_headers
    }

    /// The request parameters that override the method (see [`crate::method_override`]):
    /// a query carrying one is refused, and the filter checks form bodies with them.
    pub fn method_override_params(&self) -> &crate::method_override::OverrideParams {
        &self.override_params
    }

    /// v1.1 `strict_paths`.
    pub fn strict_paths(&self) -> bool {
        self.strict_paths
    }

    /// v1.1 `identity.peer_verification` (default [`PeerVerification::Connection`]).
    pub fn peer_verification(&self) -> PeerVerification {
        self.peer_verification
    }

    /// v1.1 filter extension `identity_cache_max_bytes`: the identity cache's byte budget.
    pub fn identity_cache_max_bytes(&self) -> usize {
        self.identity_cache_max_bytes
    }

    /// v1.1 filter extension `form_body_check.max_bytes`: `Some` when the filter must check
    /// form bodies for method overrides (and refuse larger ones).
    pub fn form_body_check_max_bytes(&self) -> Option<usize> {
        self.form_body_check_max_bytes
    }

    /// Whether some rule has v1.1 `hosts`: only then does the decision depend on the
    /// request's authority (and a host need read it).
    pub fn uses_hosts(&self) -> bool {
        self.uses_hosts
    }

    /// v1.1 `tokens`, when configured.
    pub fn tokens(&self) -> Option<&TokenPolicy> {
        self.tokens.as_ref()
    }

    /// Whether some rule has v1.1 `require_token`: only then does a host need to read the
    /// token header.
    pub fn uses_tokens(&self) -> bool {
        self.rules.iter().any(|rule| rule.require_token)
    }

    /// Rule names in policy order (index = [`crate::Decision::rule_index`]).
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| &*r.name).collect()
    }

    /// Role names in policy `roles` order.
    pub fn role_names(&self) -> Vec<&str> {
        self.roles.iter().map(|r| &*r.name).collect()
    }
}
