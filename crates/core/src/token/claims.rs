//! The claims set (RFC 7519 §4): registered claims typed when read, every claim reachable by a
//! [`ClaimPath`] as the string values a role matcher or a consistency check compares.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::base64url;
use super::error::{shown, TokenError};
use crate::json_value::{self, JsonNumber, JsonObject, JsonValue};
use crate::time::UnixTime;

/// Latest NumericDate accepted: 9999-12-31T23:59:59Z. Beyond it a date is a mistake or an
/// attempt at overflow, not a validity period.
pub const MAX_NUMERIC_DATE: u64 = 253_402_300_799;

/// Claims whose string value is a space-separated list (RFC 6749 §3.3 `scope`; `scp` as Azure
/// AD writes it): a matcher sees each scope.
const SPACE_SEPARATED: [&str; 2] = ["scope", "scp"];

/// A claims set whose registered claims have the right types. Built while a token is parsed;
/// whether it satisfies a configuration is checked in `token.rs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    json: JsonObject,
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Vec<String>>,
    exp: Option<UnixTime>,
    nbf: Option<UnixTime>,
    iat: Option<UnixTime>,
    jti: Option<String>,
    x5t_s256: Option<[u8; 32]>,
}

/// How a fractional NumericDate becomes whole seconds: always toward the stricter side.
#[derive(Clone, Copy)]
enum Rounding {
    /// `exp`: a token valid until 10.5 is expired at 10.
    Down,
    /// `nbf`, `iat`: a token valid from 10.5 is not valid at 10.
    Up,
}

impl Claims {
    /// Types the registered claims of a decoded claims value (which must be an object):
    /// `iss`, `sub`, `jti` strings; `aud` a string or a non-empty array of strings; `exp`,
    /// `nbf`, `iat` NumericDates (non-negative numbers up to [`MAX_NUMERIC_DATE`]; a fraction
    /// is rounded toward the stricter side: `exp` down, `nbf` and `iat` up); `cnf` an object
    /// whose `x5t#S256`, when present, is the base64url of 32 bytes (RFC 8705 §3.1).
    pub fn from_json(value: JsonValue) -> Result<Self, TokenError> {
        let JsonValue::Object(json) = value else {
            return Err(TokenError::BadClaim {
                claim: String::from("$"),
                detail: format!("the claims set is {}, not an object", value.kind()),
            });
        };
        let string = |name: &str| -> Result<Option<String>, TokenError> {
            match json.get(name) {
                None => Ok(None),
                Some(JsonValue::String(value)) => Ok(Some(value.clone())),
                Some(other) => Err(bad(name, format!("{}, not a string", other.kind()))),
            }
        };
        let iss = string("iss")?;
        let sub = string("sub")?;
        let jti = string("jti")?;
        let aud = match json.get("aud") {
            None => None,
            Some(JsonValue::String(aud)) => Some(alloc::vec![aud.clone()]),
            Some(JsonValue::Array(values)) => {
                if values.is_empty() {
                    return Err(bad("aud", String::from("an empty array")));
                }
                let mut out = Vec::with_capacity(values.len());
                for value in values {
                    match value {
                        JsonValue::String(aud) => out.push(aud.clone()),
                        other => {
                            return Err(bad(
                                "aud",
                                format!("an array holding {}, not only strings", other.kind()),
                            ))
                        }
                    }
                }
                Some(out)
            }
            Some(other) => {
                return Err(bad(
                    "aud",
                    format!("{}, not a string or an array of strings", other.kind()),
                ))
            }
        };
        let date = |name: &str, rounding| {
            json.get(name)
                .map(|value| numeric_date(value, name, rounding))
                .transpose()
        };
        let exp = date("exp", Rounding::Down)?;
        let nbf = date("nbf", Rounding::Up)?;
        let iat = date("iat", Rounding::Up)?;
        let x5t_s256 = match json.get("cnf") {
            None => None,
            Some(JsonValue::Object(cnf)) => match cnf.get("x5t#S256") {
                None => None,
                Some(JsonValue::String(text)) => {
                    let bytes = base64url::decode(text.as_bytes()).map_err(|detail| {
                        bad("cnf.x5t#S256", format!("not base64url: {detail}"))
                    })?;
                    let thumbprint: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                        bad(
                            "cnf.x5t#S256",
                            format!(
                                "{} bytes; a SHA-256 certificate thumbprint is 32",
                                bytes.len()
                            ),
                        )
                    })?;
                    Some(thumbprint)
                }
                Some(other) => {
                    return Err(bad(
                        "cnf.x5t#S256",
                        format!("{}, not a string", other.kind()),
                    ))
                }
            },
            Some(other) => return Err(bad("cnf", format!("{}, not an object", other.kind()))),
        };
        Ok(Self {
            json,
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            jti,
            x5t_s256,
        })
    }

    /// `iss`, if present.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// `sub`, if present.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// `aud` as a list (a single string is a list of one), if present.
    pub fn aud(&self) -> Option<&[String]> {
        self.aud.as_deref()
    }

    /// `exp`, if present (rounded down to a whole second).
    pub fn exp(&self) -> Option<UnixTime> {
        self.exp
    }

    /// `nbf`, if present (rounded up).
    pub fn nbf(&self) -> Option<UnixTime> {
        self.nbf
    }

    /// `iat`, if present (rounded up).
    pub fn iat(&self) -> Option<UnixTime> {
        self.iat
    }

    /// `jti`, if present.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// `cnf["x5t#S256"]` decoded: the SHA-256 of the certificate the token is bound to.
    pub fn certificate_thumbprint(&self) -> Option<&[u8; 32]> {
        self.x5t_s256.as_ref()
    }

    /// The whole claims object.
    pub fn json(&self) -> &JsonObject {
        &self.json
    }

    /// The value at `path` (each segment a member of an object), if any.
    pub fn lookup(&self, path: &ClaimPath) -> Option<&JsonValue> {
        let (first, rest) = path.segments.split_first()?;
        rest.iter()
            .try_fold(self.json.get(first)?, |value, segment| {
                value.as_object()?.get(segment)
            })
    }

    /// Calls `f` on every string value of the claim at `path`, in document order, until it
    /// returns `true`; returns whether it did. The values a matcher compares:
    /// - a string is one value, except the top-level `scope` and `scp`, whose string is split
    ///   on spaces into each scope (empty pieces dropped);
    /// - `true`/`false` are the values `true` and `false`, an integer its decimal form;
    /// - an array yields each element by the rules above (nested arrays and objects in it
    ///   yield nothing);
    /// - `null`, an object, a number with a fraction or exponent, and an absent claim yield
    ///   nothing.
    pub fn any_value(&self, path: &ClaimPath, mut f: impl FnMut(&str) -> bool) -> bool {
        let Some(value) = self.lookup(path) else {
            return false;
        };
        let split = path.segments.len() == 1
            && path
                .segments
                .first()
                .is_some_and(|name| SPACE_SEPARATED.contains(&name.as_str()));
        match value {
            JsonValue::String(text) if split => {
                text.split(' ').filter(|scope| !scope.is_empty()).any(f)
            }
            JsonValue::Array(elements) => elements.iter().any(|element| scalar(element, &mut f)),
            other => scalar(other, &mut f),
        }
    }

    /// False when the claim is an array with an element that yields no value (`null`, an
    /// object, a fraction, a nested array): a check that EVERY value must pass cannot skip
    /// such an element as if it were not there.
    pub fn every_element_has_a_value(&self, path: &ClaimPath) -> bool {
        match self.lookup(path) {
            Some(JsonValue::Array(elements)) => elements
                .iter()
                .all(|element| scalar(element, &mut |_| true)),
            _ => true,
        }
    }

    /// Every value [`Claims::any_value`] yields (allocates; for tools and messages).
    pub fn values(&self, path: &ClaimPath) -> Vec<String> {
        let mut out = Vec::new();
        self.any_value(path, |value| {
            out.push(String::from(value));
            false
        });
        out
    }
}

/// A scalar as a matcher value: strings, booleans and integers; nothing for the rest.
fn scalar(value: &JsonValue, f: &mut impl FnMut(&str) -> bool) -> bool {
    match value {
        JsonValue::String(text) => f(text),
        JsonValue::Bool(true) => f("true"),
        JsonValue::Bool(false) => f("false"),
        JsonValue::Number(JsonNumber::Unsigned(n)) => f(&format!("{n}")),
        JsonValue::Number(JsonNumber::Negative(n)) => f(&format!("{n}")),
        JsonValue::Number(JsonNumber::Float(_))
        | JsonValue::Null
        | JsonValue::Array(_)
        | JsonValue::Object(_) => false,
    }
}

fn bad(claim: &str, detail: String) -> TokenError {
    TokenError::BadClaim {
        claim: String::from(claim),
        detail,
    }
}

fn numeric_date(value: &JsonValue, name: &str, rounding: Rounding) -> Result<UnixTime, TokenError> {
    let secs = match value {
        JsonValue::Number(JsonNumber::Unsigned(secs)) => *secs,
        JsonValue::Number(JsonNumber::Negative(_)) => {
            return Err(bad(name, String::from("a date before 1970")))
        }
        JsonValue::Number(JsonNumber::Float(secs)) => {
            // Also catches NaN, which JSON cannot write but a float can be.
            if secs.is_nan() || *secs < 0.0 {
                return Err(bad(name, String::from("a date before 1970")));
            }
            if *secs > MAX_NUMERIC_DATE as f64 {
                return Err(bad(name, String::from("a date after the year 9999")));
            }
            // In range, so the cast truncates toward zero without saturating.
            let whole = *secs as u64;
            match rounding {
                Rounding::Up if (whole as f64) < *secs => whole + 1,
                _ => whole,
            }
        }
        other => {
            return Err(bad(
                name,
                format!("{}, not a NumericDate (seconds since 1970)", other.kind()),
            ))
        }
    };
    if secs > MAX_NUMERIC_DATE {
        return Err(bad(name, String::from("a date after the year 9999")));
    }
    Ok(UnixTime::from_secs(secs))
}

/// Most segments a claim path may have.
const MAX_SEGMENTS: usize = 16;

/// The path to a claim: member names from the top of the claims object down. Written as
/// dotted names (`realm_access.roles`), with a bracketed JSON string for a name that contains
/// `.`, `[`, `]` or `"` (`["https://example.com/roles"]`, `org["team.name"]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimPath {
    segments: Vec<String>,
}

/// Why a claim path is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPathError {
    /// The path as written.
    pub path: String,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for ClaimPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "claim path {}: {}", shown(&self.path), self.detail)
    }
}

impl ClaimPath {
    /// Parses a written path (see [`ClaimPath`]).
    pub fn parse(path: &str) -> Result<Self, ClaimPathError> {
        let error = |detail: String| ClaimPathError {
            path: String::from(path),
            detail,
        };
        let mut segments = Vec::new();
        let mut rest = path;
        loop {
            if let Some(after) = rest.strip_prefix('[') {
                // A JSON string literal, then `]`.
                let end = string_literal_end(after)
                    .ok_or_else(|| error(String::from("`[` must hold a JSON string and `]`")))?;
                let (literal, tail) = after.split_at(end);
                let Ok(JsonValue::String(name)) = json_value::parse(literal.as_bytes(), 0) else {
                    return Err(error(format!("{literal} is not a JSON string")));
                };
                if name.is_empty() {
                    return Err(error(String::from("an empty name")));
                }
                segments.push(name);
                rest = tail
                    .strip_prefix(']')
                    .ok_or_else(|| error(String::from("`[` must hold a JSON string and `]`")))?;
            } else {
                let end = rest.find(['.', '[', ']', '"']).unwrap_or(rest.len());
                let (name, tail) = rest.split_at(end);
                if name.is_empty() {
                    return Err(error(String::from(if segments.is_empty() {
                        "it must start with a claim name"
                    } else {
                        "an empty name between dots"
                    })));
                }
                if tail.starts_with([']', '"']) {
                    return Err(error(String::from(
                        "`]` and `\"` only appear in a bracketed name such as [\"a.b\"]",
                    )));
                }
                segments.push(String::from(name));
                rest = tail;
            }
            if segments.len() > MAX_SEGMENTS {
                return Err(error(format!("more than {MAX_SEGMENTS} names")));
            }
            if rest.is_empty() {
                return Ok(Self { segments });
            }
            if let Some(after) = rest.strip_prefix('.') {
                if after.is_empty() {
                    return Err(error(String::from("it ends with a dot")));
                }
                rest = after;
            } else if !rest.starts_with('[') {
                return Err(error(String::from("expected `.` or `[` after a name")));
            }
        }
    }

    /// A path of one top-level claim (no parsing: the name is taken as is).
    pub fn claim(name: &str) -> Self {
        Self {
            segments: alloc::vec![String::from(name)],
        }
    }

    /// The member names, top first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

/// Byte offset just past the closing quote of the JSON string literal at the start of `text`.
fn string_literal_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut escaped = false;
    for (i, c) in chars {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

impl fmt::Display for ClaimPath {
    /// The written form [`ClaimPath::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if segment.contains(['.', '[', ']', '"']) {
                f.write_str("[\"")?;
                for c in segment.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"]")?;
            } else {
                if i > 0 {
                    f.write_str(".")?;
                }
                f.write_str(segment)?;
            }
        }
        Ok(())
    }
}
