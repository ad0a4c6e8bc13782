//! The JOSE header (RFC 7515 §4.1): its registered members, read with their types checked.
//! What they mean for acceptance (allowed `alg`, `crit`, key-naming members, `typ`) is
//! decided in `token.rs`, in one ordered list of checks.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{shown, TokenError};
use crate::json_value::{JsonObject, JsonValue};

/// Header members that name or carry the verification key. A token must never choose its own
/// key, so their presence refuses the token (the thumbprints `x5t` and `x5t#S256` only label a
/// key and are ignored).
pub const KEY_MEMBERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Header parameters we understand when a token lists them in `crit`: only `b64` (RFC 7797),
/// and only to refuse `b64: false`.
const UNDERSTOOD_CRIT: [&str; 1] = ["b64"];

/// A JOSE header with its registered members typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    cty: Option<String>,
    crit: Vec<String>,
    b64: Option<bool>,
    key_members: Vec<&'static str>,
    json: JsonObject,
}

impl Header {
    /// Types the registered members of a decoded header object.
    pub(crate) fn from_json(json: JsonObject) -> Result<Self, TokenError> {
        let alg = match json.get("alg") {
            None => return Err(TokenError::BadHeader(String::from("no `alg`"))),
            Some(value) => string(value, "alg")?,
        };
        let optional = |name: &'static str| -> Result<Option<String>, TokenError> {
            json.get(name).map(|value| string(value, name)).transpose()
        };
        let kid = optional("kid")?;
        let typ = optional("typ")?;
        let cty = optional("cty")?;
        let crit = match json.get("crit") {
            None => Vec::new(),
            Some(JsonValue::Array(names)) => {
                if names.is_empty() {
                    return Err(TokenError::BadHeader(String::from(
                        "`crit` is empty (RFC 7515 §4.1.11 forbids an empty list)",
                    )));
                }
                let mut out: Vec<String> = Vec::with_capacity(names.len());
                for name in names {
                    let name = string(name, "crit[]")?;
                    if out.contains(&name) {
                        return Err(TokenError::BadHeader(format!(
                            "`crit` lists {} twice",
                            shown(&name)
                        )));
                    }
                    out.push(name);
                }
                out
            }
            Some(other) => {
                return Err(TokenError::BadHeader(format!(
                    "`crit` is {}, not an array of strings",
                    other.kind()
                )))
            }
        };
        let b64 = match json.get("b64") {
            None => None,
            Some(JsonValue::Bool(value)) => Some(*value),
            Some(other) => {
                return Err(TokenError::BadHeader(format!(
                    "`b64` is {}, not a boolean",
                    other.kind()
                )))
            }
        };
        let key_members = KEY_MEMBERS
            .into_iter()
            .filter(|member| json.contains(member))
            .collect();
        Ok(Self {
            alg,
            kid,
            typ,
            cty,
            crit,
            b64,
            key_members,
            json,
        })
    }

    /// `alg` as written.
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// `kid`, if present.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `typ`, if present.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// `cty`, if present (informational: a nested JWT is not unwrapped).
    pub fn cty(&self) -> Option<&str> {
        self.cty.as_deref()
    }

    /// `crit`, empty when absent.
    pub fn crit(&self) -> &[String] {
        &self.crit
    }

    /// `b64`, if present.
    pub fn b64(&self) -> Option<bool> {
        self.b64
    }

    /// Which of [`KEY_MEMBERS`] are present, in that order.
    pub fn key_members(&self) -> &[&'static str] {
        &self.key_members
    }

    /// `crit` parameters we do not understand.
    pub fn unknown_crit(&self) -> Vec<String> {
        self.crit
            .iter()
            .filter(|name| !UNDERSTOOD_CRIT.contains(&name.as_str()))
            .cloned()
            .collect()
    }

    /// The whole header object.
    pub fn json(&self) -> &JsonObject {
        &self.json
    }
}

fn string(value: &JsonValue, name: &str) -> Result<String, TokenError> {
    value
        .as_str()
        .map(String::from)
        .ok_or_else(|| TokenError::BadHeader(format!("`{name}` is {}, not a string", value.kind())))
}
