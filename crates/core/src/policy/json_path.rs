//! JSON paths for error messages (`rules[1].allow[0]`, `roles.clinician[0]["subject.OU"]`).
//!
//! Paths are only built when an error is reported, so the builder favours clarity over speed.
//! Keys made of `[A-Za-z0-9_-]` (starting with a letter or `_`) print as `.key`; any other key
//! prints as `["key"]` with JSON escaping, so a selector key such as `subject.OU` cannot be
//! confused with two nested objects.

use alloc::string::String;
use core::fmt::Write;

/// A JSON path under construction. The root renders as `$`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct JsonPath(String);

impl JsonPath {
    /// The document root.
    pub(crate) fn root() -> Self {
        Self(String::new())
    }

    /// The member `key` of this object.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut out = self.0.clone();
        push_key(&mut out, key);
        Self(out)
    }

    /// The element `index` of this array.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut out = self.0.clone();
        let _ = write!(out, "[{index}]");
        Self(out)
    }

    /// The rendered path (`$` for the root).
    pub(crate) fn into_string(self) -> String {
        if self.0.is_empty() {
            String::from("$")
        } else {
            self.0
        }
    }
}

/// Renders a path reported by `serde_path_to_error` in the same notation.
pub(crate) fn from_serde_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    JsonPath(out).into_string()
}

fn push_key(out: &mut String, key: &str) {
    if is_plain_key(key) {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push_str("[\"");
        for c in key.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push_str("\"]");
    }
}

fn is_plain_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn root_renders_as_dollar() {
        assert_eq!(JsonPath::root().into_string(), "$");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keys_and_indexes() {
        let p = JsonPath::root().key("rules").index(1).key("allow").index(0);
        assert_eq!(p.into_string(), "rules[1].allow[0]");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn dotted_and_odd_keys_are_quoted() {
        let p = JsonPath::root()
            .key("roles")
            .key("svc-a")
            .index(0)
            .key("subject.OU");
        assert_eq!(p.into_string(), "roles.svc-a[0][\"subject.OU\"]");
        let p = JsonPath::root().key("a\"b\\c\n");
        assert_eq!(p.into_string(), "[\"a\\\"b\\\\c\\u000a\"]");
        assert_eq!(JsonPath::root().key("1x").into_string(), "[\"1x\"]");
        assert_eq!(JsonPath::root().key("").into_string(), "[\"\"]");
    }
}
