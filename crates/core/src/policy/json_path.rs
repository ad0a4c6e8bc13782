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
        let mut out = self.clone();
        out.push_key(key);
        out
    }

    /// The element `index` of this array.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut out = self.clone();
        out.push_index(index);
        out
    }

    /// Descends into the member `key`, in place.
    pub(crate) fn push_key(&mut self, key: &str) {
        if is_plain_key(key) {
            if !self.0.is_empty() {
                self.0.push('.');
            }
            self.0.push_str(key);
        } else {
            self.0.push('[');
            push_quoted(&mut self.0, key);
            self.0.push(']');
        }
    }

    /// Descends into the element `index`, in place.
    pub(crate) fn push_index(&mut self, index: usize) {
        let _ = write!(self.0, "[{index}]");
    }

    /// A mark to [`JsonPath::truncate`] back to (leaving the members pushed after it).
    pub(crate) fn mark(&self) -> usize {
        self.0.len()
    }

    /// Back to a [`JsonPath::mark`] taken earlier.
    pub(crate) fn truncate(&mut self, mark: usize) {
        self.0.truncate(mark);
    }

    /// The rendered path (`$` for the root).
    pub(crate) fn render(&self) -> String {
        if self.0.is_empty() {
            String::from("$")
        } else {
            self.0.clone()
        }
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

/// Appends `text` as a JSON string literal: `"`, `\\` and control characters escaped. Used
/// for keys in paths and for values quoted in error messages, so that a name containing `"`
/// or a newline cannot make a message ambiguous.
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    push_escaped(out, text, '"');
}

/// Appends `text` between two `delimiter`s, escaping the delimiter, `\\` and control
/// characters JSON-style (`` ` `` quotes field names in messages, as serde did).
pub(crate) fn push_escaped(out: &mut String, text: &str, delimiter: char) {
    out.push(delimiter);
    for c in text.chars() {
        if c == delimiter || c == '\\' {
            out.push('\\');
            out.push(c);
        } else if (c as u32) < 0x20 || c == '\u{7f}' {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out.push(delimiter);
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
