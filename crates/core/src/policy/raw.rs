//! serde mirror of the v1 JSON document (`deny_unknown_fields` everywhere).
//!
//! These types only check the document's *shape*; every content rule (defined roles, hex
//! formats, path patterns...) is checked by `compile`, which names the JSON path of the field
//! at fault. They are public so tools (the CLI's `lint`) can read a policy as written.
//!
//! Objects whose keys are names (`issuers`, `roles`, a matcher, `bind`, `forward_headers`) are
//! read into [`RawMap`], which keeps document order (roles are listed in that order) and
//! rejects duplicate keys: serde_json alone would silently keep the last one, and a policy
//! author who wrote a role twice must not get half of it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::json_path::from_serde_path;
use super::PolicyError;

/// The v1 document as parsed, before compilation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// `enforce` (default) or `shadow`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Where identities come from and which certificates are usable.
    #[serde(default)]
    pub identity: Option<RawIdentity>,
    /// Named issuing CAs that `issuer_pin` matchers refer to.
    #[serde(default)]
    pub issuers: RawMap<RawIssuer>,
    /// Certificates that never yield an identity.
    #[serde(default)]
    pub revoked: Option<RawRevoked>,
    /// Role name -> matchers (OR).
    #[serde(default)]
    pub roles: RawMap<Vec<RawMatcher>>,
    /// Access rules, in policy order.
    pub rules: Vec<RawRule>,
    /// Header name -> selector, set on allowed requests.
    #[serde(default)]
    pub forward_headers: RawMap<String>,
    /// Whether deny bodies carry the rule and reason (default `false`).
    #[serde(default)]
    pub expose_reason: Option<bool>,
    /// Filter extension (docs/DECISIONS.md): whose properties carry the peer certificate.
    /// Checked here so `validate` catches typos; only the proxy-wasm filter acts on it.
    #[serde(default)]
    pub host: Option<RawHost>,
    /// Filter extension (docs/DECISIONS.md): parsed certificates cached per VM (0 = off,
    /// at most [`super::MAX_IDENTITY_CACHE_SIZE`]; checked at compile time).
    #[serde(default)]
    pub identity_cache_size: Option<u32>,
}

/// `host`: the proxy whose properties carry the peer certificate (filter extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawHost {
    /// Envoy's properties first, then NGINX's.
    Auto,
    /// Envoy (`connection.peer_certificate`).
    Envoy,
    /// NGINX ngx_wasm_module (`ngx.ssl_client_raw_cert` + `ngx.ssl_client_verify`).
    Nginx,
}

/// `identity`: certificate sources and checks.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentity {
    /// `peer_certificate` and/or `xfcc`, in order of preference (default `["peer_certificate"]`).
    #[serde(default)]
    pub sources: Option<Vec<String>>,
    /// Require the clientAuth EKU (default `true`).
    #[serde(default)]
    pub require_client_auth_eku: Option<bool>,
}

/// One entry of `issuers`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIssuer {
    /// The issuer DN as an RFC 4514 string.
    pub subject: String,
    /// Hex of the Authority Key Identifier the certificate must carry (any case, `:` allowed).
    #[serde(default)]
    pub key_id: Option<String>,
}

/// `revoked`: serials and fingerprints that never yield an identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRevoked {
    /// Serial numbers in hex.
    #[serde(default)]
    pub serials: Vec<String>,
    /// SHA-256 fingerprints of the DER, in hex.
    #[serde(default)]
    pub fingerprints_sha256: Vec<String>,
}

/// A matcher: selector -> patterns (AND over selectors, OR over values and patterns).
pub type RawMatcher = RawMap<Vec<RawPattern>>;

/// One entry of `rules`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Unique rule name (used in reasons, logs and metrics).
    pub name: String,
    /// Upper-case methods; absent = every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Path patterns (OR).
    pub paths: Vec<String>,
    /// Role names (OR), or the reserved `authenticated` / `public`.
    pub allow: Vec<String>,
    /// Captured path parameter -> selector whose values it must equal.
    #[serde(default)]
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
    /// Parses a v1 document. Errors name the JSON path where parsing stopped, plus
    /// serde_json's line and column.
    pub fn from_json(json: &str) -> Result<RawPolicy, PolicyError> {
        let mut de = serde_json::Deserializer::from_str(json);
        let raw: RawPolicy =
            serde_path_to_error::deserialize(&mut de).map_err(|e| PolicyError::Syntax {
                path: from_serde_path(e.path()),
                detail: e.inner().to_string(),
            })?;
        de.end().map_err(|e| PolicyError::Syntax {
            path: String::from("$"),
            detail: e.to_string(),
        })?;
        Ok(raw)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for RawMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawMapVisitor(PhantomData))
    }
}

struct RawMapVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for RawMapVisitor<T> {
    type Value = RawMap<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = hashbrown::HashSet::new();
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key \"{key}\"")));
            }
            let value = map.next_value::<T>()?;
            entries.push((key, value));
        }
        Ok(RawMap(entries))
    }
}

impl<'de> Deserialize<'de> for RawPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawPatternVisitor)
    }
}

struct RawPatternVisitor;

const PATTERN_KINDS: &[&str] = &["prefix", "suffix", "glob"];

impl<'de> Visitor<'de> for RawPatternVisitor {
    type Value = RawPattern;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an object with exactly one of \"prefix\", \"suffix\", \"glob\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawPattern::Exact(String::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawPattern::Exact(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "empty pattern object: give exactly one of \"prefix\", \"suffix\", \"glob\"",
            ));
        };
        let make: fn(String) -> RawPattern = match kind.as_str() {
            "prefix" => RawPattern::Prefix,
            "suffix" => RawPattern::Suffix,
            "glob" => RawPattern::Glob,
            _ => return Err(de::Error::unknown_field(&kind, PATTERN_KINDS)),
        };
        let value = map.next_value::<String>()?;
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format_args!(
                "a pattern object takes exactly one of \"prefix\", \"suffix\", \"glob\"; found \"{kind}\" and \"{extra}\""
            )));
        }
        Ok(make(value))
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
    fn unknown_field_names_its_path() {
        let (path, detail) =
            syntax_error(r#"{"rules": [{"name": "a", "paths": ["/"], "alow": []}]}"#);
        assert_eq!(path, "rules[0].alow");
        assert!(detail.starts_with("unknown field `alow`"), "{detail}");
        assert!(detail.contains("line 1 column"), "{detail}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unknown_top_level_field() {
        let (path, detail) = syntax_error(r#"{"rules": [], "modes": "x"}"#);
        assert_eq!(path, "modes");
        assert!(detail.starts_with("unknown field `modes`"), "{detail}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn missing_rules_is_an_error() {
        let (path, detail) = syntax_error(r#"{}"#);
        assert_eq!(path, "$");
        assert!(detail.starts_with("missing field `rules`"), "{detail}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn wrong_type_names_its_path() {
        let (path, detail) =
            syntax_error(r#"{"rules": [{"name": "a", "paths": "/x", "allow": []}]}"#);
        assert_eq!(path, "rules[0].paths");
        assert!(
            detail.starts_with("invalid type: string \"/x\", expected a sequence"),
            "{detail}"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn duplicate_keys_are_rejected() {
        let (path, detail) = syntax_error(r#"{"rules": [], "roles": {"a": [], "a": []}}"#);
        assert_eq!(path, "roles");
        assert!(detail.starts_with("duplicate key \"a\""), "{detail}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pattern_object_errors() {
        let doc = |pattern: &str| {
            alloc::format!(r#"{{"rules": [], "roles": {{"r": [{{"subject.OU": [{pattern}]}}]}}}}"#)
        };
        let (path, detail) = syntax_error(&doc(r#"{"prefx": "a"}"#));
        assert_eq!(path, "roles.r[0][\"subject.OU\"][0]");
        assert!(
            detail.starts_with("unknown field `prefx`, expected one of `prefix`, `suffix`, `glob`"),
            "{detail}"
        );

        let (path, detail) = syntax_error(&doc(r#"{"prefix": "a", "suffix": "b"}"#));
        assert_eq!(path, "roles.r[0][\"subject.OU\"][0]");
        assert!(
            detail.starts_with("a pattern object takes exactly one of"),
            "{detail}"
        );

        let (_, detail) = syntax_error(&doc(r#"{}"#));
        assert!(detail.starts_with("empty pattern object"), "{detail}");

        let (path, detail) = syntax_error(&doc("42"));
        assert_eq!(path, "roles.r[0][\"subject.OU\"][0]");
        assert!(
            detail.starts_with("invalid type: integer `42`, expected a string or an object"),
            "{detail}"
        );

        let (path, detail) = syntax_error(&doc(r#"{"glob": 1}"#));
        assert_eq!(path, "roles.r[0][\"subject.OU\"][0].glob");
        assert!(
            detail.starts_with("invalid type: integer `1`, expected a string"),
            "{detail}"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn trailing_content_is_rejected() {
        let (path, detail) = syntax_error(r#"{"rules": []} {}"#);
        assert_eq!(path, "$");
        assert!(detail.starts_with("trailing characters"), "{detail}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn not_json() {
        let (path, detail) = syntax_error("rules: []");
        assert_eq!(path, "$");
        assert!(
            detail.starts_with("expected value at line 1 column 1"),
            "{detail}"
        );
    }
}
