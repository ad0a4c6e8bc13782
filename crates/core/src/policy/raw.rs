//! The v1 JSON document as written: its schema ([`POLICY`]) and the `Raw*` types it is read
//! into.
//!
//! These types only check the document's *shape*: known fields only (an unknown field is an
//! error, not ignored), each key at most once, required fields present, the JSON type of every
//! value. serde_json reads the text and [`super::json`] checks it against [`POLICY`] as it
//! goes, so every shape error carries the JSON path and serde_json's line and column. Every
//! content rule (defined roles, hex formats, path patterns...) is checked by `compile`, which
//! names the JSON path of the field at fault. The types are public so tools (the CLI's
//! `lint`) can read a policy as written.
//!
//! Objects whose keys are names (`issuers`, `roles`, a matcher, `bind`, `forward_headers`) are
//! read into [`RawMap`], which keeps document order (roles are listed in that order) and
//! rejects duplicate keys: a policy author who wrote a role twice must not get half of it.
//! An optional field written as `null` is the same as the field left out; a field whose
//! default is empty takes no `null` (docs/DECISIONS.md).

use alloc::string::String;
use alloc::vec::Vec;

use super::json::{self, Field, Node, Presence, Shape};
use super::PolicyError;

/// The v1 document as parsed, before compilation.
#[derive(Clone, Debug, PartialEq)]
pub struct RawPolicy {
    /// `enforce` (default) or `shadow`.
    pub mode: Option<String>,
    /// Where identities come from and which certificates are usable.
    pub identity: Option<RawIdentity>,
    /// Named issuing CAs that `issuer_pin` matchers refer to.
    pub issuers: RawMap<RawIssuer>,
    /// Certificates that never yield an identity.
    pub revoked: Option<RawRevoked>,
    /// Role name -> matchers (OR).
    pub roles: RawMap<Vec<RawMatcher>>,
    /// Access rules, in policy order.
    pub rules: Vec<RawRule>,
    /// Header name -> selector, set on allowed requests.
    pub forward_headers: RawMap<String>,
    /// Whether deny bodies carry the rule and reason (default `false`).
    pub expose_reason: Option<bool>,
    /// Filter extension (docs/DECISIONS.md): whose properties carry the peer certificate.
    /// Checked here so `validate` catches typos; only the proxy-wasm filter acts on it.
    pub host: Option<RawHost>,
    /// Filter extension (docs/DECISIONS.md): parsed certificates cached per VM (0 = off,
    /// at most [`super::MAX_IDENTITY_CACHE_SIZE`]; checked at compile time).
    pub identity_cache_size: Option<u32>,
    /// v1.1: request-parameter names that override the method, besides the built-in
    /// `_method`, `_HttpMethod` and the override header names (see
    /// [`crate::method_override`]).
    pub method_override_params: Vec<String>,
    /// v1.1: refuse double percent-encoding and look-alikes of `.`, `/` and `\` in paths
    /// (default `false`).
    pub strict_paths: Option<bool>,
    /// v1.1 filter extension: the identity cache's budget in bytes of parsed certificates.
    pub identity_cache_max_bytes: Option<u32>,
    /// v1.1 filter extension: check form bodies for method overrides (opt-in).
    pub form_body_check: Option<RawFormBodyCheck>,
    /// v1.1: access tokens (RFC 8705 certificate-bound JWTs) that rules may require.
    pub tokens: Option<RawTokens>,
}

/// v1.1 `tokens`: where a request's access token is, how it is verified, and how it must fit
/// the client certificate (docs/DECISIONS.md "Tokens (RFC 8705)").
#[derive(Clone, Debug, PartialEq)]
pub struct RawTokens {
    /// The required `iss`.
    pub issuer: String,
    /// Accepted audiences: one must be in `aud`.
    pub audiences: Vec<String>,
    /// Allowed JOSE algorithms (default ES256, ES384, RS256, PS256, EdDSA).
    pub algorithms: Option<Vec<String>>,
    /// Accepted `typ` values (default: any).
    pub types: Vec<String>,
    /// The issuer's public keys: a JWK set (RFC 7517 §5), inline. Optional with `jwks_fetch`.
    pub jwks: Option<crate::json_value::JsonValue>,
    /// Where newer key sets are fetched from (the same request and timing as a CRL's `fetch`).
    pub jwks_fetch: Option<RawFetch>,
    /// The request header carrying the token (default `authorization`, as `Bearer <token>`).
    pub header: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf`, `iat` (default 60).
    pub clock_skew_seconds: Option<u32>,
    /// `cnf["x5t#S256"]` must be the client certificate's thumbprint (default `true`).
    pub require_certificate_binding: Option<bool>,
    /// Claim ↔ certificate equalities, all required.
    pub consistency: Vec<RawConsistency>,
}

/// One `tokens.consistency` entry: the token's `claim` must equal a value of `selector` on the
/// client certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawConsistency {
    /// Claim path (`sub`, `act.sub`).
    pub claim: String,
    /// Certificate selector (`spiffe_id`, `san.uri`, `subject.CN`).
    pub selector: String,
}

/// `form_body_check`: the filter buffers form bodies up to `max_bytes` and refuses those that
/// carry a method-override parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFormBodyCheck {
    /// Largest form body inspected; a larger one is refused.
    pub max_bytes: u32,
}

/// `host`: the proxy whose properties carry the peer certificate (filter extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawHost {
    /// NGINX's properties where `ngx.request_uri` exists, else Envoy's.
    Auto,
    /// Envoy (`connection.peer_certificate`).
    Envoy,
    /// NGINX ngx_wasm_module (`ngx.ssl_client_raw_cert` + `ngx.ssl_client_verify`).
    Nginx,
}

/// `identity`: certificate sources and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIdentity {
    /// `peer_certificate` and/or `xfcc`, in order of preference (default `["peer_certificate"]`).
    pub sources: Option<Vec<String>>,
    /// Require the clientAuth EKU (default `true`).
    pub require_client_auth_eku: Option<bool>,
    /// v1.1: how the filter knows the proxy verified the peer certificate: `connection`
    /// (default: the proxy reports it for this connection) or `listener` (the listener refuses
    /// unverified certificates at the handshake).
    pub peer_verification: Option<String>,
}

/// One entry of `issuers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIssuer {
    /// The issuer DN as an RFC 4514 string; v1.1: may be left out when `certificate` is given.
    pub subject: Option<String>,
    /// Hex of the Authority Key Identifier the certificate must carry (any case, `:` allowed).
    pub key_id: Option<String>,
    /// v1.1: the CA certificate (PEM); `subject` and `key_id` come from it.
    pub certificate: Option<String>,
    /// v1.1: where this issuer's CRLs come from.
    pub revocation: Option<RawRevocation>,
}

/// v1.1 `issuers.<name>.revocation`: this issuer's CRL, inline and/or fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRevocation {
    /// A CRL in the policy: PEM, or base64 of the DER.
    pub crl: Option<String>,
    /// Where the proxy fetches newer CRLs.
    pub fetch: Option<RawFetch>,
    /// Seconds past nextUpdate a CRL still counts as fresh (default 0).
    pub grace_seconds: Option<u32>,
    /// `deny` (default) or `allow`: the decision when no fresh CRL is at hand.
    pub when_unavailable: Option<String>,
}

/// v1.1: an artefact the proxy fetches periodically over HTTP (a CRL; later a JWKS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFetch {
    /// The proxy's name for the upstream (Envoy: a cluster; NGINX: host:port).
    pub upstream: String,
    /// The `:authority` of the request.
    pub authority: String,
    /// The `:path` of the request.
    pub path: String,
    /// Seconds between two fetches (default 300).
    pub refresh_seconds: Option<u32>,
    /// Seconds one fetch may take (default 10).
    pub timeout_seconds: Option<u32>,
}

/// `revoked`: serials and fingerprints that never yield an identity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRevoked {
    /// Serial numbers in hex.
    pub serials: Vec<String>,
    /// SHA-256 fingerprints of the DER, in hex.
    pub fingerprints_sha256: Vec<String>,
}

/// A matcher: selector -> patterns (AND over selectors, OR over values and patterns).
pub type RawMatcher = RawMap<Vec<RawPattern>>;

/// One entry of `rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRule {
    /// Unique rule name (used in reasons, logs and metrics).
    pub name: String,
    /// Upper-case methods; absent = every method.
    pub methods: Option<Vec<String>>,
    /// Path patterns (OR).
    pub paths: Vec<String>,
    /// Role names (OR), or the reserved `authenticated` / `public`.
    pub allow: Vec<String>,
    /// Captured path (or, v1.1, host) parameter -> selector whose values it must equal.
    pub bind: RawMap<String>,
    /// v1.1: host patterns (OR); absent = every host.
    pub hosts: Option<Vec<String>>,
    /// v1.1: the rule allows only with a verified, bound, consistent token (default `false`:
    /// the token header is ignored).
    pub require_token: Option<bool>,
}

/// A string pattern as written: a plain string, or an object with exactly one of `prefix`,
/// `suffix`, `glob`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawPattern {
    /// `"Admins"`: the whole value, byte for byte.
    Exact(String),
    /// `{"prefix": "..."}`.
    Prefix(String),
    /// `{"suffix": "..."}`.
    Suffix(String),
    /// `{"glob": "..."}`.
    Glob(String),
    /// v1.1, `serial` selector only: `{"issuer": "<issuers entry>", "serial": "<hex>"}`, the
    /// serial of a certificate from that issuer (serials are unique per CA, not globally).
    IssuerSerial {
        /// Name of an `issuers` entry.
        issuer: String,
        /// The serial in hex (any case, `:` allowed).
        serial: String,
    },
}

/// A JSON object read in document order, duplicate keys rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMap<T>(pub Vec<(String, T)>);

impl<T> Default for RawMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> RawMap<T> {
    /// Entries in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RawPolicy {
    /// Parses a v1 document. Errors name the JSON path being read and end with the line and
    /// column where serde_json stopped.
    pub fn from_json(json: &str) -> Result<RawPolicy, PolicyError> {
        let node = json::read(json, &POLICY)?;
        RawPolicy::from_node(node).ok_or_else(|| PolicyError::Syntax {
            path: String::from("$"),
            detail: String::from(json::SHAPE_BUG),
        })
    }
}

// ------------------------------------------------------------------------------ the schema

use Presence::{Defaulted, Optional, OptionalNotNull, Required};

const STRINGS: Shape = Shape::Array(&Shape::String);

/// The v1 document (README.md "Writing a policy (configuration contract v1)" and
/// docs/DECISIONS.md "Policy document", plus the filter extensions
/// `host` and `identity_cache_size`). Field order is the order `unknown field` lists them in.
pub(super) static POLICY: Shape = Shape::Struct(&[
    Field::new("mode", Shape::String, Optional),
    Field::new("identity", Shape::Struct(IDENTITY), Optional),
    Field::new("issuers", Shape::Map(&Shape::Struct(ISSUER)), Defaulted),
    // Left out, nothing is revoked: an empty default, so no `null` (read as `None` below).
    Field::new("revoked", Shape::Struct(REVOKED), Defaulted),
    Field::new("roles", Shape::Map(&ROLE), Defaulted),
    Field::new("rules", Shape::Array(&Shape::Struct(RULE)), Required),
    Field::new("forward_headers", Shape::Map(&Shape::String), Defaulted),
    Field::new("expose_reason", Shape::Bool, Optional),
    Field::new("host", Shape::Choice(HOSTS), Optional),
    Field::new("identity_cache_size", Shape::U32, Optional),
    Field::new("method_override_params", STRINGS, Defaulted),
    Field::new("strict_paths", Shape::Bool, Optional),
    Field::new("identity_cache_max_bytes", Shape::U32, Optional),
    Field::new("form_body_check", Shape::Struct(FORM_BODY_CHECK), Optional),
    Field::new("tokens", Shape::Struct(TOKENS), Optional),
]);

const TOKENS: &[Field] = &[
    Field::new("issuer", Shape::String, Required),
    Field::new("audiences", STRINGS, Required),
    // Left out, the default list; `null` would read as "none allowed".
    Field::new("algorithms", STRINGS, OptionalNotNull),
    Field::new("types", STRINGS, Defaulted),
    Field::new("jwks", Shape::Json(JWKS_MAX_DEPTH), OptionalNotNull),
    Field::new("jwks_fetch", Shape::Struct(FETCH), OptionalNotNull),
    Field::new("header", Shape::String, Optional),
    Field::new("clock_skew_seconds", Shape::U32, Optional),
    Field::new("require_certificate_binding", Shape::Bool, Optional),
    Field::new(
        "consistency",
        Shape::Array(&Shape::Struct(CONSISTENCY)),
        Defaulted,
    ),
];

/// A JWK set is an object of an array of objects whose members are arrays at most
/// (`key_ops`, `x5c`): 4 levels; a little room for extension members.
const JWKS_MAX_DEPTH: usize = 8;

const CONSISTENCY: &[Field] = &[
    Field::new("claim", Shape::String, Required),
    Field::new("selector", Shape::String, Required),
];

const FORM_BODY_CHECK: &[Field] = &[Field::new("max_bytes", Shape::U32, Required)];

/// `identity.peer_verification` values.
pub const PEER_VERIFICATIONS: &[&str] = &["connection", "listener"];
/// The values of `host`, as [`RawHost`] reads them.
const HOSTS: &[&str] = &["auto", "envoy", "nginx"];

const IDENTITY: &[Field] = &[
    Field::new("sources", STRINGS, Optional),
    Field::new("require_client_auth_eku", Shape::Bool, Optional),
    Field::new(
        "peer_verification",
        Shape::Choice(PEER_VERIFICATIONS),
        Optional,
    ),
];

const ISSUER: &[Field] = &[
    // v1.1: optional when `certificate` is given (compile checks one of them is).
    Field::new("subject", Shape::String, OptionalNotNull),
    Field::new("key_id", Shape::String, OptionalNotNull),
    Field::new("certificate", Shape::String, OptionalNotNull),
    Field::new("revocation", Shape::Struct(REVOCATION), OptionalNotNull),
];

/// `issuers.<name>.revocation.when_unavailable` values.
pub const WHEN_UNAVAILABLE: &[&str] = &["deny", "allow"];

const REVOCATION: &[Field] = &[
    Field::new("crl", Shape::String, OptionalNotNull),
    Field::new("fetch", Shape::Struct(FETCH), OptionalNotNull),
    Field::new("grace_seconds", Shape::U32, Optional),
    Field::new(
        "when_unavailable",
        Shape::Choice(WHEN_UNAVAILABLE),
        Optional,
    ),
];

const FETCH: &[Field] = &[
    Field::new("upstream", Shape::String, Required),
    Field::new("authority", Shape::String, Required),
    Field::new("path", Shape::String, Required),
    Field::new("refresh_seconds", Shape::U32, Optional),
    Field::new("timeout_seconds", Shape::U32, Optional),
];

const REVOKED: &[Field] = &[
    Field::new("serials", STRINGS, Defaulted),
    Field::new("fingerprints_sha256", STRINGS, Defaulted),
];

/// A role: matchers (OR), each a map of selector -> patterns.
const ROLE: Shape = Shape::Array(&Shape::Map(&Shape::Array(&Shape::Pattern)));

const RULE: &[Field] = &[
    Field::new("name", Shape::String, Required),
    Field::new("methods", STRINGS, OptionalNotNull),
    Field::new("paths", STRINGS, Required),
    Field::new("allow", STRINGS, Required),
    Field::new("bind", Shape::Map(&Shape::String), Defaulted),
    // v1.1. Left out, the rule matches every host: like `methods`, no `null`.
    Field::new("hosts", STRINGS, OptionalNotNull),
    Field::new("require_token", Shape::Bool, Optional),
];

// ------------------------------------------------------------- from the tree to `Raw*` types

/// Moves a [`Node`] read with the matching shape into its `Raw*` type. `None` means the
/// shape above and the code below disagree (a bug here): the document is then refused.
trait FromNode: Sized {
    fn from_node(node: Node) -> Option<Self>;
}

/// The fields of a struct node, each taken out by name exactly once.
struct Fields(Vec<(&'static str, Node)>);

impl Fields {
    fn of(node: Node) -> Option<Self> {
        match node {
            Node::Struct(fields) => Some(Self(fields)),
            _ => None,
        }
    }

    fn take(&mut self, name: &str) -> Option<Node> {
        let at = self.0.iter().position(|(field, _)| *field == name)?;
        Some(self.0.swap_remove(at).1)
    }

    /// A [`Required`] field.
    fn required<T: FromNode>(&mut self, name: &str) -> Option<T> {
        T::from_node(self.take(name)?)
    }

    /// An [`Optional`] field: left out or `null` is `None`.
    fn optional<T: FromNode>(&mut self, name: &str) -> Option<Option<T>> {
        match self.take(name) {
            None | Some(Node::Absent) => Some(None),
            Some(node) => T::from_node(node).map(Some),
        }
    }

    /// A [`Defaulted`] field: left out is the empty default.
    fn defaulted<T: FromNode + Default>(&mut self, name: &str) -> Option<T> {
        match self.take(name) {
            None => Some(T::default()),
            Some(node) => T::from_node(node),
        }
    }

    /// Every field read was taken: no field of the shape is missing from the code above.
    fn finish<T>(self, value: T) -> Option<T> {
        self.0.is_empty().then_some(value)
    }
}

impl FromNode for RawPolicy {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let policy = RawPolicy {
            mode: fields.optional("mode")?,
            identity: fields.optional("identity")?,
            issuers: fields.defaulted("issuers")?,
            revoked: fields.optional("revoked")?,
            roles: fields.defaulted("roles")?,
            rules: fields.required("rules")?,
            forward_headers: fields.defaulted("forward_headers")?,
            expose_reason: fields.optional("expose_reason")?,
            host: fields.optional("host")?,
            identity_cache_size: fields.optional("identity_cache_size")?,
            method_override_params: fields.defaulted("method_override_params")?,
            strict_paths: fields.optional("strict_paths")?,
            identity_cache_max_bytes: fields.optional("identity_cache_max_bytes")?,
            form_body_check: fields.optional("form_body_check")?,
            tokens: fields.optional("tokens")?,
        };
        fields.finish(policy)
    }
}

impl FromNode for RawIdentity {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let identity = RawIdentity {
            sources: fields.optional("sources")?,
            require_client_auth_eku: fields.optional("require_client_auth_eku")?,
            peer_verification: fields.optional("peer_verification")?,
        };
        fields.finish(identity)
    }
}

impl FromNode for RawIssuer {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let issuer = RawIssuer {
            subject: fields.optional("subject")?,
            key_id: fields.optional("key_id")?,
            certificate: fields.optional("certificate")?,
            revocation: fields.optional("revocation")?,
        };
        fields.finish(issuer)
    }
}

impl FromNode for RawRevocation {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let revocation = RawRevocation {
            crl: fields.optional("crl")?,
            fetch: fields.optional("fetch")?,
            grace_seconds: fields.optional("grace_seconds")?,
            when_unavailable: fields.optional("when_unavailable")?,
        };
        fields.finish(revocation)
    }
}

impl FromNode for RawFetch {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let fetch = RawFetch {
            upstream: fields.required("upstream")?,
            authority: fields.required("authority")?,
            path: fields.required("path")?,
            refresh_seconds: fields.optional("refresh_seconds")?,
            timeout_seconds: fields.optional("timeout_seconds")?,
        };
        fields.finish(fetch)
    }
}

impl FromNode for RawFormBodyCheck {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let check = RawFormBodyCheck {
            max_bytes: fields.required("max_bytes")?,
        };
        fields.finish(check)
    }
}

impl FromNode for RawTokens {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let tokens = RawTokens {
            issuer: fields.required("issuer")?,
            audiences: fields.required("audiences")?,
            algorithms: fields.optional("algorithms")?,
            types: fields.defaulted("types")?,
            jwks: match fields.take("jwks") {
                None | Some(Node::Absent) => None,
                Some(Node::Json(value)) => Some(value),
                Some(_) => return None,
            },
            jwks_fetch: fields.optional("jwks_fetch")?,
            header: fields.optional("header")?,
            clock_skew_seconds: fields.optional("clock_skew_seconds")?,
            require_certificate_binding: fields.optional("require_certificate_binding")?,
            consistency: fields.defaulted("consistency")?,
        };
        fields.finish(tokens)
    }
}

impl FromNode for RawConsistency {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let consistency = RawConsistency {
            claim: fields.required("claim")?,
            selector: fields.required("selector")?,
        };
        fields.finish(consistency)
    }
}

impl FromNode for RawRevoked {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let revoked = RawRevoked {
            serials: fields.defaulted("serials")?,
            fingerprints_sha256: fields.defaulted("fingerprints_sha256")?,
        };
        fields.finish(revoked)
    }
}

impl FromNode for RawRule {
    fn from_node(node: Node) -> Option<Self> {
        let mut fields = Fields::of(node)?;
        let rule = RawRule {
            name: fields.required("name")?,
            methods: fields.optional("methods")?,
            paths: fields.required("paths")?,
            allow: fields.required("allow")?,
            bind: fields.defaulted("bind")?,
            hosts: fields.optional("hosts")?,
            require_token: fields.optional("require_token")?,
        };
        fields.finish(rule)
    }
}

impl FromNode for String {
    fn from_node(node: Node) -> Option<Self> {
        match node {
            Node::String(value) => Some(value),
            _ => None,
        }
    }
}

impl FromNode for bool {
    fn from_node(node: Node) -> Option<Self> {
        match node {
            Node::Bool(value) => Some(value),
            _ => None,
        }
    }
}

impl FromNode for u32 {
    fn from_node(node: Node) -> Option<Self> {
        match node {
            Node::U32(value) => Some(value),
            _ => None,
        }
    }
}

impl FromNode for RawHost {
    fn from_node(node: Node) -> Option<Self> {
        let Node::String(host) = node else {
            return None;
        };
        match host.as_str() {
            "auto" => Some(RawHost::Auto),
            "envoy" => Some(RawHost::Envoy),
            "nginx" => Some(RawHost::Nginx),
            _ => None,
        }
    }
}

/// The walker has checked the pattern object's keys (one kind, or `issuer` and `serial`).
impl FromNode for RawPattern {
    fn from_node(node: Node) -> Option<Self> {
        let mut found = match node {
            Node::String(exact) => return Some(RawPattern::Exact(exact)),
            Node::Pattern(found) => found,
            _ => return None,
        };
        let mut take = |name: &str| {
            found
                .iter()
                .position(|(present, _)| *present == name)
                .map(|at| found.swap_remove(at).1)
        };
        match (take("prefix"), take("suffix"), take("glob")) {
            (Some(value), _, _) => Some(RawPattern::Prefix(value)),
            (_, Some(value), _) => Some(RawPattern::Suffix(value)),
            (_, _, Some(value)) => Some(RawPattern::Glob(value)),
            _ => Some(RawPattern::IssuerSerial {
                issuer: take("issuer")?,
                serial: take("serial")?,
            }),
        }
    }
}

impl<T: FromNode> FromNode for Vec<T> {
    fn from_node(node: Node) -> Option<Self> {
        let Node::Array(nodes) = node else {
            return None;
        };
        let mut values = Vec::with_capacity(nodes.len());
        for node in nodes {
            values.push(T::from_node(node)?);
        }
        Some(values)
    }
}

impl<T: FromNode> FromNode for RawMap<T> {
    fn from_node(node: Node) -> Option<Self> {
        let Node::Map(nodes) = node else {
            return None;
        };
        let mut entries = Vec::with_capacity(nodes.len());
        for (key, node) in nodes {
            entries.push((key, T::from_node(node)?));
        }
        Some(RawMap(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn syntax_error(json: &str) -> (String, String) {
        match RawPolicy::from_json(json) {
            Err(PolicyError::Syntax { path, detail }) => (path, detail),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_byte_order_mark_is_refused_by_name() {
        assert_eq!(
            syntax_error("\u{feff}{\"rules\": []}"),
            (
                String::from("$"),
                String::from(
                    "unexpected byte-order mark (U+FEFF: save the file as UTF-8 without one) at line 1 column 1"
                )
            )
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parses_the_contract_example_shape() {
        let raw = RawPolicy::from_json(
            r#"{
              "mode": "shadow",
              "identity": { "sources": ["xfcc"], "require_client_auth_eku": false,
                            "peer_verification": "listener" },
              "issuers": { "ca": { "subject": "CN=CA", "key_id": "ab:cd" } },
              "revoked": { "serials": ["01"], "fingerprints_sha256": [] },
              "roles": { "b": [ { "subject.OU": ["X", {"prefix": "p"}, {"suffix": "s"}, {"glob": "*.g"}] } ], "a": [] },
              "rules": [ { "name": "r", "methods": ["GET"], "paths": ["/x/{t}"], "allow": ["b"], "bind": {"t": "subject.O"} } ],
              "forward_headers": { "x-role": "roles" },
              "expose_reason": true
            }"#,
        )
        .unwrap();
        assert_eq!(raw.mode.as_deref(), Some("shadow"));
        assert_eq!(
            raw.roles
                .0
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        let matcher = &raw.roles.get("b").unwrap()[0];
        assert_eq!(
            matcher.get("subject.OU").unwrap(),
            &vec![
                RawPattern::Exact("X".to_string()),
                RawPattern::Prefix("p".to_string()),
                RawPattern::Suffix("s".to_string()),
                RawPattern::Glob("*.g".to_string()),
            ]
        );
        assert_eq!(
            raw.issuers.get("ca").unwrap().key_id.as_deref(),
            Some("ab:cd")
        );
        assert_eq!(
            raw.rules[0].bind.get("t").map(String::as_str),
            Some("subject.O")
        );
        assert_eq!(raw.expose_reason, Some(true));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn minimal_document_defaults() {
        let raw = RawPolicy::from_json(r#"{"rules": []}"#).unwrap();
        assert_eq!(raw.mode, None);
        assert!(raw.roles.is_empty());
        assert!(raw.forward_headers.is_empty());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn null_is_the_same_as_an_absent_optional_field() {
        let with_nulls = RawPolicy::from_json(
            r#"{"mode": null, "identity": {"sources": null, "require_client_auth_eku": null},
                "issuers": {"ca": {"subject": "CN=CA"}},
                "rules": [{"name": "r", "paths": ["/"], "allow": ["public"]}],
                "expose_reason": null, "host": null, "identity_cache_size": null}"#,
        )
        .unwrap();
        let without = RawPolicy::from_json(
            r#"{"identity": {}, "issuers": {"ca": {"subject": "CN=CA"}},
                "rules": [{"name": "r", "paths": ["/"], "allow": ["public"]}]}"#,
        )
        .unwrap();
        assert_eq!(with_nulls, without);
        // Fields with an empty default take no null: it would read as "nothing configured".
        for (json, path, column) in [
            (r#"{"rules": [], "roles": null}"#, "roles", 27),
            // `revoked` left out revokes nothing: a `null` there must not mean the same.
            (r#"{"rules": [], "revoked": null}"#, "revoked", 29),
            (r#"{"rules": null}"#, "rules", 14),
            (
                r#"{"rules": [], "revoked": {"serials": null}}"#,
                "revoked.serials",
                41,
            ),
            // Left out, these widen access (every method; a pin by DN alone): no null.
            (
                r#"{"rules": [{"name": "r", "methods": null, "paths": ["/"], "allow": []}]}"#,
                "rules[0].methods",
                40,
            ),
            (
                r#"{"rules": [], "issuers": {"ca": {"subject": "CN=CA", "key_id": null}}}"#,
                "issuers.ca.key_id",
                67,
            ),
        ] {
            let (at, detail) = syntax_error(json);
            assert_eq!(at, path, "{json}");
            let expected = if path == "roles" || path == "revoked" {
                "an object"
            } else if path.ends_with("key_id") {
                "a string"
            } else {
                "an array"
            };
            assert_eq!(
                detail,
                alloc::format!("invalid type: null, expected {expected} at line 1 column {column}"),
                "{json}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unknown_fields_are_refused_in_every_object() {
        let cases = [
            (
                r#"{"rules": [{"name": "a", "paths": ["/"], "alow": []}]}"#,
                "rules[0].alow",
                "unknown field `alow`, expected one of `name`, `methods`, `paths`, `allow`, `bind`, `hosts`, `require_token` at line 1 column 47",
            ),
            (
                r#"{"rules": [], "modes": "x"}"#,
                "modes",
                "unknown field `modes`, expected one of `mode`, `identity`, `issuers`, `revoked`, `roles`, `rules`, `forward_headers`, `expose_reason`, `host`, `identity_cache_size`, `method_override_params`, `strict_paths`, `identity_cache_max_bytes`, `form_body_check`, `tokens` at line 1 column 21",
            ),
            (
                r#"{"rules": [], "identity": {"source": []}}"#,
                "identity.source",
                "unknown field `source`, expected one of `sources`, `require_client_auth_eku`, `peer_verification` at line 1 column 35",
            ),
            (
                r#"{"rules": [], "issuers": {"ca": {"subject": "CN=CA", "keyid": "ab"}}}"#,
                "issuers.ca.keyid",
                "unknown field `keyid`, expected one of `subject`, `key_id`, `certificate`, `revocation` at line 1 column 60",
            ),
            (
                r#"{"rules": [], "tokens": {"issuer": "i", "audience": []}}"#,
                "tokens.audience",
                "unknown field `audience`, expected one of `issuer`, `audiences`, `algorithms`, `types`, `jwks`, `jwks_fetch`, `header`, `clock_skew_seconds`, `require_certificate_binding`, `consistency` at line 1 column 50",
            ),
            (
                r#"{"rules": [], "revoked": {"serial": []}}"#,
                "revoked.serial",
                "unknown field `serial`, expected one of `serials`, `fingerprints_sha256` at line 1 column 34",
            ),
        ];
        for (json, path, detail) in cases {
            assert_eq!(
                syntax_error(json),
                (String::from(path), String::from(detail))
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn missing_required_fields() {
        let cases = [
            ("{}", "$", "missing field `rules` at line 1 column 2"),
            (
                r#"{"rules": [{"paths": [], "allow": []}]}"#,
                "rules[0]",
                "missing field `name` at line 1 column 37",
            ),
            (
                r#"{"rules": [{"name": "a", "allow": []}]}"#,
                "rules[0]",
                "missing field `paths` at line 1 column 37",
            ),
            (
                r#"{"rules": [{"name": "a", "paths": []}]}"#,
                "rules[0]",
                "missing field `allow` at line 1 column 37",
            ),
        ];
        for (json, path, detail) in cases {
            assert_eq!(
                syntax_error(json),
                (String::from(path), String::from(detail))
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn wrong_types_name_their_path() {
        let cases = [
            (
                r#"{"rules": [{"name": "a", "paths": "/x", "allow": []}]}"#,
                "rules[0].paths",
                "invalid type: string \"/x\", expected an array at line 1 column 38",
            ),
            (
                r#"{"rules": [{"name": 7, "paths": [], "allow": []}]}"#,
                "rules[0].name",
                "invalid type: number, expected a string at line 1 column 21",
            ),
            (
                r#"{"rules": [], "mode": ["enforce"]}"#,
                "mode",
                "invalid type: array, expected a string at line 1 column 23",
            ),
            (
                r#"{"rules": [], "expose_reason": "yes"}"#,
                "expose_reason",
                "invalid type: string \"yes\", expected a boolean at line 1 column 36",
            ),
            (
                r#"{"rules": [], "identity": {"require_client_auth_eku": 0}}"#,
                "identity.require_client_auth_eku",
                "invalid type: number, expected a boolean at line 1 column 55",
            ),
            (
                r#"{"rules": [], "roles": {"r": {"subject.OU": ["x"]}}}"#,
                "roles.r",
                "invalid type: object, expected an array at line 1 column 30",
            ),
            (
                r#"{"rules": [], "forward_headers": {"x-role": ["roles"]}}"#,
                "forward_headers.x-role",
                "invalid type: array, expected a string at line 1 column 45",
            ),
            (
                r#"{"rules": [], "identity_cache_size": 1.5}"#,
                "identity_cache_size",
                "invalid type: floating point number, expected an integer from 0 to 4294967295 at line 1 column 40",
            ),
            (
                r#"{"rules": [], "identity_cache_size": "10"}"#,
                "identity_cache_size",
                "invalid type: string \"10\", expected an integer from 0 to 4294967295 at line 1 column 41",
            ),
            (
                r#"{"rules": [], "host": "Envoy"}"#,
                "host",
                "unknown variant `Envoy`, expected one of `auto`, `envoy`, `nginx` at line 1 column 29",
            ),
            (
                r#"[]"#,
                "$",
                "invalid type: array, expected an object at line 1 column 2",
            ),
        ];
        for (json, path, detail) in cases {
            assert_eq!(
                syntax_error(json),
                (String::from(path), String::from(detail))
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn integers_and_hosts_that_parse() {
        let raw = RawPolicy::from_json(
            r#"{"rules": [], "identity_cache_size": 4294967295, "host": "nginx"}"#,
        )
        .unwrap();
        assert_eq!(raw.identity_cache_size, Some(u32::MAX));
        assert_eq!(raw.host, Some(RawHost::Nginx));
        let raw =
            RawPolicy::from_json(r#"{"rules": [], "identity_cache_size": 0, "host": "auto"}"#)
                .unwrap();
        assert_eq!(raw.identity_cache_size, Some(0));
        assert_eq!(raw.host, Some(RawHost::Auto));
        let raw = RawPolicy::from_json(r#"{"rules": [], "host": "envoy"}"#).unwrap();
        assert_eq!(raw.host, Some(RawHost::Envoy));
    }

    /// A repeated key must never silently replace (or drop) what was written first: in
    /// name-keyed maps it would lose half a role, in fixed fields half a rule.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn duplicate_keys_are_refused_in_every_object() {
        let cases = [
            (
                r#"{"rules": [], "roles": {"a": [], "a": []}}"#,
                "roles.a",
                "duplicate key \"a\" at line 1 column 36",
            ),
            (
                r#"{"rules": [], "issuers": {"ca": {"subject": "CN=A"}, "ca": {"subject": "CN=B"}}}"#,
                "issuers.ca",
                "duplicate key \"ca\" at line 1 column 57",
            ),
            (
                r#"{"rules": [], "roles": {"r": [{"subject.OU": ["A"], "subject.OU": ["B"]}]}}"#,
                "roles.r[0][\"subject.OU\"]",
                "duplicate key \"subject.OU\" at line 1 column 64",
            ),
            (
                r#"{"rules": [{"name": "a", "paths": ["/{t}"], "allow": [], "bind": {"t": "subject.O", "t": "subject.OU"}}]}"#,
                "rules[0].bind.t",
                "duplicate key \"t\" at line 1 column 87",
            ),
            (
                r#"{"rules": [], "forward_headers": {"x-a": "roles", "x-a": "subject"}}"#,
                "forward_headers.x-a",
                "duplicate key \"x-a\" at line 1 column 55",
            ),
            (
                r#"{"rules": [], "rules": []}"#,
                "rules",
                "duplicate field `rules` at line 1 column 21",
            ),
            (
                r#"{"rules": [{"name": "a", "paths": ["/"], "allow": ["public"], "paths": ["/admin"]}]}"#,
                "rules[0].paths",
                "duplicate field `paths` at line 1 column 69",
            ),
            (
                r#"{"rules": [], "issuers": {"ca": {"subject": "CN=A", "subject": "CN=B"}}}"#,
                "issuers.ca.subject",
                "duplicate field `subject` at line 1 column 61",
            ),
            (
                r#"{"rules": [], "identity": {"sources": [], "sources": []}}"#,
                "identity.sources",
                "duplicate field `sources` at line 1 column 51",
            ),
            (
                r#"{"rules": [], "roles": {"r": [{"subject.OU": [{"prefix": "a", "prefix": "b"}]}]}}"#,
                "roles.r[0][\"subject.OU\"][0].prefix",
                "duplicate field `prefix` at line 1 column 70",
            ),
        ];
        for (json, path, detail) in cases {
            assert_eq!(
                syntax_error(json),
                (String::from(path), String::from(detail)),
                "{json}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pattern_object_errors() {
        let doc = |pattern: &str| {
            alloc::format!(r#"{{"rules": [], "roles": {{"r": [{{"subject.OU": [{pattern}]}}]}}}}"#)
        };
        // The pattern starts at column 47. Errors point where serde_json stopped reading: a
        // key's closing quote, the `}` of an object missing something, a value's last character.
        let cases = [
            (
                r#"{"prefx": "a"}"#,
                "roles.r[0][\"subject.OU\"][0].prefx",
                "unknown field `prefx`, expected one of `prefix`, `suffix`, `glob`, `issuer`, `serial` at line 1 column 54",
            ),
            (
                r#"{"prefix": "a", "suffix": "b"}"#,
                "roles.r[0][\"subject.OU\"][0].suffix",
                "a pattern object takes exactly one of \"prefix\", \"suffix\", \"glob\", or both \"issuer\" and \"serial\"; found \"prefix\" and \"suffix\" at line 1 column 70",
            ),
            (
                r#"{ }"#,
                "roles.r[0][\"subject.OU\"][0]",
                "empty pattern object: give exactly one of \"prefix\", \"suffix\", \"glob\", or both \"issuer\" and \"serial\" at line 1 column 49",
            ),
            (
                "42",
                "roles.r[0][\"subject.OU\"][0]",
                "invalid type: number, expected a string or an object with exactly one of \"prefix\", \"suffix\", \"glob\" (or \"issuer\" and \"serial\") at line 1 column 48",
            ),
            (
                r#"{"glob": 1}"#,
                "roles.r[0][\"subject.OU\"][0].glob",
                "invalid type: number, expected a string at line 1 column 56",
            ),
            (
                r#"{"issuer": "a", "glob": "b"}"#,
                "roles.r[0][\"subject.OU\"][0].glob",
                "a pattern object takes exactly one of \"prefix\", \"suffix\", \"glob\", or both \"issuer\" and \"serial\"; found \"issuer\" and \"glob\" at line 1 column 68",
            ),
            (
                r#"{"issuer": "a"}"#,
                "roles.r[0][\"subject.OU\"][0]",
                "an issuer-scoped serial needs \"serial\" next to \"issuer\" at line 1 column 61",
            ),
            (
                r#"{"serial": "01", "issuer": "a", "serial": "02"}"#,
                "roles.r[0][\"subject.OU\"][0].serial",
                "duplicate field `serial` at line 1 column 86",
            ),
        ];
        for (pattern, path, detail) in cases {
            assert_eq!(
                syntax_error(&doc(pattern)),
                (String::from(path), String::from(detail)),
                "{pattern}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn documents_that_are_not_one_json_object() {
        let cases = [
            (
                r#"{"rules": []} {}"#,
                "$",
                "trailing characters at line 1 column 15",
            ),
            ("rules: []", "$", "expected value at line 1 column 1"),
            ("", "$", "EOF while parsing a value at line 1 column 0"),
            (
                "{\"rules\": [\n",
                "rules",
                "EOF while parsing a list at line 2 column 0",
            ),
        ];
        for (json, path, detail) in cases {
            assert_eq!(
                syntax_error(json),
                (String::from(path), String::from(detail)),
                "{json}"
            );
        }
        // Whitespace around the document is fine.
        assert!(RawPolicy::from_json(" \n\t{\"rules\": []}\r\n ").is_ok());
    }

    /// The schema (`POLICY`) and the moves into `Raw*` types name the same fields: every
    /// field, set to a value other than its default, arrives where it belongs.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_field_of_the_schema_reaches_its_raw_type() {
        let raw = RawPolicy::from_json(
            r#"{
              "mode": "shadow",
              "identity": { "sources": ["xfcc"], "require_client_auth_eku": false,
                            "peer_verification": "listener" },
              "issuers": { "ca": { "subject": "CN=CA", "key_id": "ab" } },
              "revoked": { "serials": ["01"], "fingerprints_sha256": ["ff"] },
              "roles": { "r": [ { "san.dns": [{"glob": "*.a"}] } ] },
              "rules": [ { "name": "n", "methods": ["GET"], "paths": ["/{t}"], "allow": ["r"],
                           "bind": {"t": "subject.O"} } ],
              "forward_headers": { "x-r": "roles" },
              "expose_reason": true,
              "host": "envoy",
              "identity_cache_size": 7,
              "method_override_params": ["verb"],
              "strict_paths": true,
              "identity_cache_max_bytes": 1024,
              "form_body_check": { "max_bytes": 4096 }
            }"#,
        )
        .unwrap();
        let s = |text: &str| text.to_string();
        let expected = RawPolicy {
            mode: Some(s("shadow")),
            identity: Some(RawIdentity {
                sources: Some(vec![s("xfcc")]),
                require_client_auth_eku: Some(false),
                peer_verification: Some(s("listener")),
            }),
            issuers: RawMap(vec![(
                s("ca"),
                RawIssuer {
                    subject: Some(s("CN=CA")),
                    key_id: Some(s("ab")),
                    certificate: None,
                    revocation: None,
                },
            )]),
            revoked: Some(RawRevoked {
                serials: vec![s("01")],
                fingerprints_sha256: vec![s("ff")],
            }),
            roles: RawMap(vec![(
                s("r"),
                vec![RawMap(vec![(
                    s("san.dns"),
                    vec![RawPattern::Glob(s("*.a"))],
                )])],
            )]),
            rules: vec![RawRule {
                name: s("n"),
                methods: Some(vec![s("GET")]),
                paths: vec![s("/{t}")],
                allow: vec![s("r")],
                bind: RawMap(vec![(s("t"), s("subject.O"))]),
                hosts: None,
                require_token: None,
            }],
            forward_headers: RawMap(vec![(s("x-r"), s("roles"))]),
            expose_reason: Some(true),
            host: Some(RawHost::Envoy),
            identity_cache_size: Some(7),
            method_override_params: vec![s("verb")],
            strict_paths: Some(true),
            identity_cache_max_bytes: Some(1024),
            form_body_check: Some(RawFormBodyCheck { max_bytes: 4096 }),
            tokens: None,
        };
        assert_eq!(raw, expected);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn identity_cache_size_takes_u32_integers_only() {
        let expected = "expected an integer from 0 to 4294967295 at line 1 column";
        for (number, found) in [
            ("4294967296", "invalid value: 4294967296,"),
            ("-1", "invalid value: -1,"),
            ("1e3", "invalid type: floating point number,"),
            ("-0", "invalid type: floating point number,"),
            ("10.0", "invalid type: floating point number,"),
        ] {
            let json = alloc::format!(r#"{{"rules": [], "identity_cache_size": {number}}}"#);
            let column = 37 + number.len();
            assert_eq!(
                syntax_error(&json),
                (
                    String::from("identity_cache_size"),
                    alloc::format!("{found} {expected} {column}")
                ),
                "{number}"
            );
        }
    }
}
