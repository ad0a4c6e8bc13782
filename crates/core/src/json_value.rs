//! Any JSON value, read strictly: for documents whose shape is not ours to fix (JWS headers and
//! claims, JWK sets). The policy reader (`policy/json.rs`) checks a fixed schema while it
//! reads; this reader keeps whatever the document holds, with the same rules:
//! - serde_json does the grammar, the unescaping and its 128-level recursion guard; this module
//!   is one [`DeserializeSeed`] over it (no second JSON grammar), reading `&str` like the
//!   policy reader so both share serde_json's parser code in the .wasm;
//! - every object refuses a repeated member name, compared after unescaping (`"sub"` and
//!   `"s\u0075b"` are the same name): serde_json alone would keep the last one, and a token
//!   whose `sub` says one thing to us and another to the application is an attack;
//! - nesting deeper than the caller's limit is refused where it happens;
//! - numbers keep their kind: non-negative integers as `u64`, negative ones as `i64`, anything
//!   else (fraction, exponent, beyond 64 bits) as `f64`.
//!
//! Errors end with serde_json's `at line L column C`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashSet;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

/// A JSON value as the document wrote it (objects in document order, names unique).
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(JsonNumber),
    /// A string (unescaped).
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object.
    Object(JsonObject),
}

/// A JSON number, by the kind serde_json read it as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsonNumber {
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// A negative integer that fits in 64 bits.
    Negative(i64),
    /// Anything else: a fraction, an exponent, `-0`, or an integer beyond 64 bits.
    Float(f64),
}

/// A JSON object: its members in document order, no name twice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonObject(Vec<(String, JsonValue)>);

impl JsonObject {
    /// The member `name`, if present.
    pub fn get(&self, name: &str) -> Option<&JsonValue> {
        self.0
            .iter()
            .find(|(member, _)| member == name)
            .map(|(_, value)| value)
    }

    /// Whether the member `name` is present (even as `null`).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The members in document order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &JsonValue)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No member.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl JsonValue {
    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(value) => Some(value),
            _ => None,
        }
    }

    /// The object, when this is one.
    pub fn as_object(&self) -> Option<&JsonObject> {
        match self {
            JsonValue::Object(object) => Some(object),
            _ => None,
        }
    }

    /// What kind of value this is, for messages (`a string`, `an array`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }
}

/// Why bytes are not one strict JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The bytes are not UTF-8 (JSON text is, RFC 8259 §8.1).
    NotUtf8 {
        /// Offset of the first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// Not JSON: serde_json's message, with its line and column.
    Syntax(String),
    /// One object names a member twice (after unescaping).
    DuplicateMember {
        /// The repeated name.
        name: String,
        /// The full message, with its line and column.
        detail: String,
    },
    /// Arrays and objects nested deeper than the limit.
    TooDeep {
        /// The limit.
        max_depth: usize,
        /// The full message, with its line and column.
        detail: String,
    },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::NotUtf8 { offset } => write!(f, "not UTF-8 (byte {offset})"),
            JsonError::Syntax(detail)
            | JsonError::DuplicateMember { detail, .. }
            | JsonError::TooDeep { detail, .. } => f.write_str(detail),
        }
    }
}

/// Reads `bytes` as exactly one JSON value (whitespace around it allowed, nothing else) with
/// arrays and objects nested at most `max_depth` deep (a scalar is depth 0, `{}` depth 1).
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<JsonValue, JsonError> {
    let text = core::str::from_utf8(bytes).map_err(|error| JsonError::NotUtf8 {
        offset: error.valid_up_to(),
    })?;
    let mut failure = Failure::None;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Reader {
        depth: 0,
        max_depth,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    value.map_err(|error| {
        let detail = error.to_string();
        match failure {
            Failure::None => JsonError::Syntax(detail),
            Failure::Duplicate(name) => JsonError::DuplicateMember { name, detail },
            Failure::TooDeep => JsonError::TooDeep { max_depth, detail },
        }
    })
}

/// Reads one JSON value from `deserializer` with this module's rules (no repeated member,
/// nesting at most `max_depth`): for documents that embed a foreign JSON value (the policy's
/// inline JWKS), so both are read by one reader.
pub(crate) fn read_value<'de, D: Deserializer<'de>>(
    deserializer: D,
    max_depth: usize,
) -> Result<JsonValue, D::Error> {
    let mut failure = Failure::None;
    Reader {
        depth: 0,
        max_depth,
        failure: &mut failure,
    }
    .deserialize(deserializer)
}

impl JsonValue {
    /// The value as compact JSON text: members in their order, strings escaped (RFC 8259 §7),
    /// so reading the text back gives the same value.
    pub fn render(&self, out: &mut String) {
        match self {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            JsonValue::Number(JsonNumber::Unsigned(n)) => out.push_str(&n.to_string()),
            JsonValue::Number(JsonNumber::Negative(n)) => out.push_str(&n.to_string()),
            JsonValue::Number(JsonNumber::Float(n)) if n.is_finite() => {
                out.push_str(&alloc::format!("{n:?}"))
            }
            // serde_json never reads a non-finite number.
            JsonValue::Number(JsonNumber::Float(_)) => out.push_str("null"),
            JsonValue::String(text) => render_string(text, out),
            JsonValue::Array(elements) => {
                out.push('[');
                for (i, element) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    element.render(out);
                }
                out.push(']');
            }
            JsonValue::Object(object) => {
                out.push('{');
                for (i, (name, value)) in object.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    render_string(name, out);
                    out.push(':');
                    value.render(out);
                }
                out.push('}');
            }
        }
    }
}

fn render_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&alloc::format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What the reader refused, beside serde_json's own syntax errors.
enum Failure {
    None,
    Duplicate(String),
    TooDeep,
}

/// Objects with more members than this check names with a hash set instead of a scan.
const SCAN_LIMIT: usize = 16;

struct Reader<'f> {
    depth: usize,
    max_depth: usize,
    failure: &'f mut Failure,
}

impl Reader<'_> {
    fn nested(&mut self) -> Reader<'_> {
        Reader {
            depth: self.depth + 1,
            max_depth: self.max_depth,
            failure: &mut *self.failure,
        }
    }

    fn enter<E: serde::de::Error>(&mut self) -> Result<(), E> {
        if self.depth >= self.max_depth {
            *self.failure = Failure::TooDeep;
            return Err(E::custom(alloc::format!(
                "nesting deeper than {} (the limit)",
                self.max_depth
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Reader<'_> {
    type Value = JsonValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<JsonValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reader<'_> {
    type Value = JsonValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<JsonValue, E> {
        Ok(JsonValue::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<JsonValue, E> {
        Ok(JsonValue::Bool(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(JsonNumber::Unsigned(value)))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(JsonNumber::Negative(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(JsonNumber::Float(value)))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<JsonValue, E> {
        Ok(JsonValue::String(String::from(value)))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<JsonValue, E> {
        Ok(JsonValue::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<JsonValue, A::Error> {
        self.enter()?;
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element_seed(self.nested())? {
            elements.push(element);
        }
        Ok(JsonValue::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<JsonValue, A::Error> {
        self.enter()?;
        let mut members: Vec<(String, JsonValue)> = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            let repeated = if members.len() < SCAN_LIMIT {
                members.iter().any(|(seen, _)| *seen == name)
            } else {
                if names.is_empty() {
                    names.extend(members.iter().map(|(seen, _)| seen.clone()));
                }
                !names.insert(name.clone())
            };
            if repeated {
                let message = alloc::format!("duplicate member {}", quoted(&name));
                *self.failure = Failure::Duplicate(name);
                return Err(A::Error::custom(message));
            }
            let value = map.next_value_seed(self.nested())?;
            members.push((name, value));
        }
        Ok(JsonValue::Object(JsonObject(members)))
    }
}

/// `name` as a JSON string literal, control characters escaped and cut at 64 characters, for
/// messages about attacker-supplied names and values.
pub(crate) fn quoted(name: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in name.chars().enumerate() {
        if i == 64 {
            out.push_str("...");
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn read(text: &str) -> Result<JsonValue, JsonError> {
        parse(text.as_bytes(), 8)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn values_keep_their_kind_and_order() {
        let value = read(r#" {"b": [1, -2, 1.5, 1e3, 18446744073709551616], "a": {"x": null, "y": true}, "s": "\u00e9\n"} "#)
            .unwrap();
        let object = value.as_object().unwrap();
        assert_eq!(
            object.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            ["b", "a", "s"]
        );
        assert_eq!(
            object.get("b"),
            Some(&JsonValue::Array(vec![
                JsonValue::Number(JsonNumber::Unsigned(1)),
                JsonValue::Number(JsonNumber::Negative(-2)),
                JsonValue::Number(JsonNumber::Float(1.5)),
                JsonValue::Number(JsonNumber::Float(1000.0)),
                JsonValue::Number(JsonNumber::Float(18_446_744_073_709_551_616.0)),
            ]))
        );
        assert_eq!(object.get("s").and_then(JsonValue::as_str), Some("é\n"));
        assert_eq!(
            object
                .get("a")
                .and_then(JsonValue::as_object)
                .unwrap()
                .get("x"),
            Some(&JsonValue::Null)
        );
        assert!(object.get("z").is_none());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn repeated_names_are_refused_after_unescaping() {
        for (text, name) in [
            (r#"{"sub":"a","sub":"b"}"#, "sub"),
            (r#"{"sub":"a","s\u0075b":"b"}"#, "sub"),
            (r#"{"x":{"k":1,"k":1}}"#, "k"),
            (r#"[{"a":1},{"b":1,"b":2}]"#, "b"),
        ] {
            match read(text) {
                Err(JsonError::DuplicateMember {
                    name: found,
                    detail,
                }) => {
                    assert_eq!(found, name, "{text}");
                    assert!(
                        detail.starts_with(&alloc::format!(
                            "duplicate member \"{name}\" at line 1 column "
                        )),
                        "{detail}"
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // Beyond the scan limit the hash set takes over and still finds the repeat.
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&alloc::format!("\"m{i}\":{i},"));
        }
        text.push_str("\"m3\":0}");
        assert!(
            matches!(read(&text), Err(JsonError::DuplicateMember { name, .. }) if name == "m3")
        );
        // Different names that only look alike are fine.
        assert!(read(r#"{"sub":1,"Sub":2,"sub ":3}"#).is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn nesting_is_bounded() {
        assert!(parse(b"[[[1]]]", 3).is_ok());
        assert!(parse(b"1", 0).is_ok());
        let error = parse(b"[[[[1]]]]", 3).unwrap_err();
        assert_eq!(
            error,
            JsonError::TooDeep {
                max_depth: 3,
                detail: String::from("nesting deeper than 3 (the limit) at line 1 column 4"),
            }
        );
        // Far beyond serde_json's own 128-level guard: still our error, no stack overflow.
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse(deep.as_bytes(), 16),
            Err(JsonError::TooDeep { .. })
        ));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn syntax_and_encoding_errors() {
        assert_eq!(
            parse(b"{\"a\":\xff}", 4),
            Err(JsonError::NotUtf8 { offset: 5 })
        );
        for bad in [
            "",
            "{",
            "{\"a\":1,}",
            "{\"a\":1} x",
            "\u{feff}{}",
            "{'a':1}",
            "{\"a\":\"\\ud800\"}",
            "NaN",
        ] {
            assert!(matches!(read(bad), Err(JsonError::Syntax(_))), "{bad:?}");
        }
        assert_eq!(
            read("{\"a\" 1}").unwrap_err().to_string(),
            "expected `:` at line 1 column 6"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn names_in_messages_are_escaped_and_cut() {
        assert_eq!(quoted("a\"b\n"), "\"a\\\"b\\u000a\"");
        assert_eq!(
            quoted(&"x".repeat(100)),
            alloc::format!("\"{}...\"", "x".repeat(64))
        );
    }
}
