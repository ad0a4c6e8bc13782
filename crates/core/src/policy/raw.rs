//! The v1 JSON document as written, read by hand from the text ([`super::json`]).
//!
//! These types only check the document's *shape*: known fields only (an unknown field is an
//! error, not ignored), each key at most once, required fields present, the JSON type of every
//! value. Every content rule (defined roles, hex formats, path patterns...) is checked by
//! `compile`, which names the JSON path of the field at fault. They are public so tools (the
//! CLI's `lint`) can read a policy as written.
//!
//! Objects whose keys are names (`issuers`, `roles`, a matcher, `bind`, `forward_headers`) are
//! read into [`RawMap`], which keeps document order (roles are listed in that order) and
//! rejects duplicate keys: a policy author who wrote a role twice must not get half of it.
//! An optional field written as `null` is the same as the field left out.

use alloc::string::String;
use alloc::vec::Vec;

use hashbrown::HashSet;

use super::json::{JsonReader, Result};
use super::PolicyError;

/// The v1 document as parsed, before compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// `host`: the proxy whose properties carry the peer certificate (filter extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawHost {
    /// Envoy's properties first, then NGINX's.
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
}

/// One entry of `issuers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIssuer {
    /// The issuer DN as an RFC 4514 string.
    pub subject: String,
    /// Hex of the Authority Key Identifier the certificate must carry (any case, `:` allowed).
    pub key_id: Option<String>,
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
    /// Captured path parameter -> selector whose values it must equal.
    pub bind: RawMap<String>,
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
    /// Parses a v1 document. Errors name the JSON path being read and the line and column
    /// of the offending character.
    pub fn from_json(json: &str) -> core::result::Result<RawPolicy, PolicyError> {
        let mut reader = JsonReader::new(json);
        let policy = read_policy(&mut reader)?;
        reader.finish()?;
        Ok(policy)
    }
}

// One reader per schema type. Each `match` covers exactly its `*_FIELDS` list (the reader has
// already refused any other key); the fallback arm only guards against the two drifting apart.

const POLICY_FIELDS: &[&str] = &[
    "mode",
    "identity",
    "issuers",
    "revoked",
    "roles",
    "rules",
    "forward_headers",
    "expose_reason",
    "host",
    "identity_cache_size",
];

fn read_policy(r: &mut JsonReader<'_>) -> Result<RawPolicy> {
    let mut fields = r.fields(POLICY_FIELDS)?;
    let mut policy = RawPolicy {
        mode: None,
        identity: None,
        issuers: RawMap::default(),
        revoked: None,
        roles: RawMap::default(),
        rules: Vec::new(),
        forward_headers: RawMap::default(),
        expose_reason: None,
        host: None,
        identity_cache_size: None,
    };
    let mut has_rules = false;
    while let Some(field) = r.next_field(&mut fields)? {
        match field {
            "mode" => policy.mode = optional(r, JsonReader::string)?,
            "identity" => policy.identity = optional(r, read_identity)?,
            "issuers" => policy.issuers = read_map(r, read_issuer)?,
            "revoked" => policy.revoked = optional(r, read_revoked)?,
            "roles" => policy.roles = read_map(r, read_role)?,
            "rules" => {
                policy.rules = read_array(r, read_rule)?;
                has_rules = true;
            }
            "forward_headers" => policy.forward_headers = read_map(r, JsonReader::string)?,
            "expose_reason" => policy.expose_reason = optional(r, JsonReader::boolean)?,
            "host" => policy.host = optional(r, read_host)?,
            "identity_cache_size" => policy.identity_cache_size = optional(r, JsonReader::u32)?,
            other => return Err(r.unknown_field(other, POLICY_FIELDS)),
        }
    }
    if !has_rules {
        return Err(r.missing_field("rules"));
    }
    Ok(policy)
}

const IDENTITY_FIELDS: &[&str] = &["sources", "require_client_auth_eku"];

fn read_identity(r: &mut JsonReader<'_>) -> Result<RawIdentity> {
    let mut fields = r.fields(IDENTITY_FIELDS)?;
    let mut identity = RawIdentity {
        sources: None,
        require_client_auth_eku: None,
    };
    while let Some(field) = r.next_field(&mut fields)? {
        match field {
            "sources" => identity.sources = optional(r, read_strings)?,
            "require_client_auth_eku" => {
                identity.require_client_auth_eku = optional(r, JsonReader::boolean)?;
            }
            other => return Err(r.unknown_field(other, IDENTITY_FIELDS)),
        }
    }
    Ok(identity)
}

const ISSUER_FIELDS: &[&str] = &["subject", "key_id"];

fn read_issuer(r: &mut JsonReader<'_>) -> Result<RawIssuer> {
    let mut fields = r.fields(ISSUER_FIELDS)?;
    let mut subject = None;
    let mut key_id = None;
    while let Some(field) = r.next_field(&mut fields)? {
        match field {
            "subject" => subject = Some(r.string()?),
            "key_id" => key_id = optional(r, JsonReader::string)?,
            other => return Err(r.unknown_field(other, ISSUER_FIELDS)),
        }
    }
    let Some(subject) = subject else {
        return Err(r.missing_field("subject"));
    };
    Ok(RawIssuer { subject, key_id })
}

const REVOKED_FIELDS: &[&str] = &["serials", "fingerprints_sha256"];

fn read_revoked(r: &mut JsonReader<'_>) -> Result<RawRevoked> {
    let mut fields = r.fields(REVOKED_FIELDS)?;
    let mut revoked = RawRevoked::default();
    while let Some(field) = r.next_field(&mut fields)? {
        match field {
            "serials" => revoked.serials = read_strings(r)?,
            "fingerprints_sha256" => revoked.fingerprints_sha256 = read_strings(r)?,
            other => return Err(r.unknown_field(other, REVOKED_FIELDS)),
        }
    }
    Ok(revoked)
}

fn read_role(r: &mut JsonReader<'_>) -> Result<Vec<RawMatcher>> {
    read_array(r, read_matcher)
}

fn read_matcher(r: &mut JsonReader<'_>) -> Result<RawMatcher> {
    read_map(r, read_patterns)
}

fn read_patterns(r: &mut JsonReader<'_>) -> Result<Vec<RawPattern>> {
    read_array(r, read_pattern)
}

const PATTERN_KINDS: &[&str] = &["prefix", "suffix", "glob"];

fn read_pattern(r: &mut JsonReader<'_>) -> Result<RawPattern> {
    match r.peek() {
        Some(b'"') => return Ok(RawPattern::Exact(r.string()?)),
        Some(b'{') => {}
        _ => {
            return Err(r.invalid_type(
                "a string or an object with exactly one of \"prefix\", \"suffix\", \"glob\"",
            ))
        }
    }
    let mut fields = r.fields(PATTERN_KINDS)?;
    let Some(kind) = r.next_field(&mut fields)? else {
        return Err(r.closed_object_error(String::from(
            "empty pattern object: give exactly one of \"prefix\", \"suffix\", \"glob\"",
        )));
    };
    let value = r.string()?;
    if let Some(extra) = r.next_field(&mut fields)? {
        return Err(r.key_error(alloc::format!(
                "a pattern object takes exactly one of \"prefix\", \"suffix\", \"glob\"; found \"{kind}\" and \"{extra}\""
            ),
        ));
    }
    Ok(match kind {
        "prefix" => RawPattern::Prefix(value),
        "suffix" => RawPattern::Suffix(value),
        "glob" => RawPattern::Glob(value),
        other => return Err(r.unknown_field(other, PATTERN_KINDS)),
    })
}

const RULE_FIELDS: &[&str] = &["name", "methods", "paths", "allow", "bind"];

fn read_rule(r: &mut JsonReader<'_>) -> Result<RawRule> {
    let mut fields = r.fields(RULE_FIELDS)?;
    let mut name = None;
    let mut methods = None;
    let mut paths = None;
    let mut allow = None;
    let mut bind = RawMap::default();
    while let Some(field) = r.next_field(&mut fields)? {
        match field {
            "name" => name = Some(r.string()?),
            "methods" => methods = optional(r, read_strings)?,
            "paths" => paths = Some(read_strings(r)?),
            "allow" => allow = Some(read_strings(r)?),
            "bind" => bind = read_map(r, JsonReader::string)?,
            other => return Err(r.unknown_field(other, RULE_FIELDS)),
        }
    }
    match (name, paths, allow) {
        (Some(name), Some(paths), Some(allow)) => Ok(RawRule {
            name,
            methods,
            paths,
            allow,
            bind,
        }),
        (None, _, _) => Err(r.missing_field("name")),
        (_, None, _) => Err(r.missing_field("paths")),
        (_, _, None) => Err(r.missing_field("allow")),
    }
}

const HOSTS: &[&str] = &["auto", "envoy", "nginx"];

fn read_host(r: &mut JsonReader<'_>) -> Result<RawHost> {
    let at = r.value_start();
    match r.string()?.as_str() {
        "auto" => Ok(RawHost::Auto),
        "envoy" => Ok(RawHost::Envoy),
        "nginx" => Ok(RawHost::Nginx),
        other => Err(r.unknown_variant(at, other, HOSTS)),
    }
}

fn read_strings(r: &mut JsonReader<'_>) -> Result<Vec<String>> {
    read_array(r, JsonReader::string)
}

/// `null` or absent -> `None`.
fn optional<'a, T>(
    r: &mut JsonReader<'a>,
    read: fn(&mut JsonReader<'a>) -> Result<T>,
) -> Result<Option<T>> {
    if r.null()? {
        Ok(None)
    } else {
        read(r).map(Some)
    }
}

fn read_array<'a, T>(
    r: &mut JsonReader<'a>,
    read_element: fn(&mut JsonReader<'a>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut members = r.array()?;
    let mut elements = Vec::new();
    while r.next_element(&mut members)? {
        elements.push(read_element(r)?);
    }
    Ok(elements)
}

fn read_map<'a, T>(
    r: &mut JsonReader<'a>,
    read_value: fn(&mut JsonReader<'a>) -> Result<T>,
) -> Result<RawMap<T>> {
    let mut members = r.object()?;
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    while let Some(key) = r.next_name(&mut members, &mut seen)? {
        let value = read_value(r)?;
        entries.push((key, value));
    }
    Ok(RawMap(entries))
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
    fn parses_the_contract_example_shape() {
        let raw = RawPolicy::from_json(
            r#"{
              "mode": "shadow",
              "identity": { "sources": ["xfcc"], "require_client_auth_eku": false },
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
                "issuers": {"ca": {"subject": "CN=CA", "key_id": null}}, "revoked": null,
                "rules": [{"name": "r", "methods": null, "paths": ["/"], "allow": ["public"]}],
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
            (r#"{"rules": [], "roles": null}"#, "roles", 24),
            (r#"{"rules": null}"#, "rules", 11),
            (
                r#"{"rules": [], "revoked": {"serials": null}}"#,
                "revoked.serials",
                38,
            ),
        ] {
            let (at, detail) = syntax_error(json);
            assert_eq!(at, path, "{json}");
            let expected = if path == "roles" {
                "an object"
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
                "unknown field `alow`, expected one of `name`, `methods`, `paths`, `allow`, `bind` at line 1 column 47",
            ),
            (
                r#"{"rules": [], "modes": "x"}"#,
                "modes",
                "unknown field `modes`, expected one of `mode`, `identity`, `issuers`, `revoked`, `roles`, `rules`, `forward_headers`, `expose_reason`, `host`, `identity_cache_size` at line 1 column 21",
            ),
            (
                r#"{"rules": [], "identity": {"source": []}}"#,
                "identity.source",
                "unknown field `source`, expected one of `sources`, `require_client_auth_eku` at line 1 column 35",
            ),
            (
                r#"{"rules": [], "issuers": {"ca": {"subject": "CN=CA", "keyid": "ab"}}}"#,
                "issuers.ca.keyid",
                "unknown field `keyid`, expected one of `subject`, `key_id` at line 1 column 60",
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
            (
                r#"{"rules": [], "issuers": {"ca": {"key_id": "ab"}}}"#,
                "issuers.ca",
                "missing field `subject` at line 1 column 48",
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
                "invalid type: string \"/x\", expected an array at line 1 column 35",
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
                "invalid type: string \"yes\", expected a boolean at line 1 column 32",
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
                "invalid value: 1.5, expected an integer from 0 to 4294967295 at line 1 column 38",
            ),
            (
                r#"{"rules": [], "identity_cache_size": "10"}"#,
                "identity_cache_size",
                "invalid type: string \"10\", expected an integer from 0 to 4294967295 at line 1 column 38",
            ),
            (
                r#"{"rules": [], "host": "Envoy"}"#,
                "host",
                "unknown variant `Envoy`, expected one of `auto`, `envoy`, `nginx` at line 1 column 23",
            ),
            (
                r#"[]"#,
                "$",
                "invalid type: array, expected an object at line 1 column 1",
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
        // The pattern starts at column 47.
        let cases = [
            (
                r#"{"prefx": "a"}"#,
                "roles.r[0][\"subject.OU\"][0].prefx",
                "unknown field `prefx`, expected one of `prefix`, `suffix`, `glob` at line 1 column 54",
            ),
            (
                r#"{"prefix": "a", "suffix": "b"}"#,
                "roles.r[0][\"subject.OU\"][0].suffix",
                "a pattern object takes exactly one of \"prefix\", \"suffix\", \"glob\"; found \"prefix\" and \"suffix\" at line 1 column 70",
            ),
            (
                r#"{ }"#,
                "roles.r[0][\"subject.OU\"][0]",
                "empty pattern object: give exactly one of \"prefix\", \"suffix\", \"glob\" at line 1 column 49",
            ),
            (
                "42",
                "roles.r[0][\"subject.OU\"][0]",
                "invalid type: number, expected a string or an object with exactly one of \"prefix\", \"suffix\", \"glob\" at line 1 column 47",
            ),
            (
                r#"{"glob": 1}"#,
                "roles.r[0][\"subject.OU\"][0].glob",
                "invalid type: number, expected a string at line 1 column 56",
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
}
