//! A strict JSON (RFC 8259) pull reader for the policy document.
//!
//! Why not serde: the derived visitors, wrapped again by `serde_path_to_error`, were the largest
//! part of the filter's .wasm (docs/wasm-size.md), and `serde_json::Value` silently keeps the
//! last of two equal keys. Here the caller (`raw`) pulls exactly the value its schema expects
//! next, so:
//! - every object rejects unknown and repeated keys ([`JsonReader::next_field`],
//!   [`JsonReader::next_name`]) — a role written twice must not silently lose half;
//! - nesting depth is bounded by the schema, never by the input (nothing recurses on input);
//! - every error names the JSON path being read and the line and column of the offending
//!   character (column 0 = at the end of the input after a newline, as serde_json counts).
//!
//! Numbers are checked against the grammar and read only as `u32` where the schema has one;
//! nothing formats a float.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use hashbrown::HashSet;

use super::json_path::{push_escaped, push_quoted, JsonPath};
use super::PolicyError;

/// Every reader step either yields its value or the first error, with its location.
pub(super) type Result<T> = core::result::Result<T, PolicyError>;

/// Reads one JSON text front to back.
pub(super) struct JsonReader<'a> {
    text: &'a str,
    /// Byte offset of the next unread byte (always on a character boundary).
    pos: usize,
    /// The member or element being read; errors report it.
    path: JsonPath,
    /// Byte offset of the closing quote of the last key read: where key errors point.
    key_end: usize,
}

/// Progress through one object or array.
pub(super) struct Members {
    count: usize,
    /// The path of the object or array itself (members are pushed after it).
    mark: usize,
}

/// Progress through an object whose keys are the fixed fields of one schema type.
pub(super) struct Fields {
    names: &'static [&'static str],
    seen: Vec<&'static str>,
    members: Members,
}

impl<'a> JsonReader<'a> {
    /// A reader at the start of `text`, path `$`.
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            path: JsonPath::root(),
            key_end: 0,
        }
    }

    fn byte_at(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(super) fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.byte_at(self.pos) {
            self.pos += 1;
        }
        self.byte_at(self.pos)
    }

    /// Byte offset where the next value starts (for errors about that value).
    pub(super) fn value_start(&mut self) -> usize {
        self.peek();
        self.pos
    }

    /// Succeeds when only whitespace is left.
    pub(super) fn finish(mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    // ---------------------------------------------------------------- errors

    /// A syntax error at byte offset `at`: `detail at line L column C`, at the current path.
    pub(super) fn error_at(&self, at: usize, mut detail: String) -> PolicyError {
        let bytes = self.text.as_bytes();
        let before = bytes.get(..at).unwrap_or(bytes);
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        // Characters, not bytes; the offending character itself counts (none at the end).
        let column = before
            .get(line_start..)
            .map_or(0, |line| line.iter().filter(|b| **b & 0xc0 != 0x80).count())
            + usize::from(at < bytes.len());
        let _ = write!(detail, " at line {line} column {column}");
        PolicyError::Syntax {
            path: self.path.render(),
            detail,
        }
    }

    fn error(&self, detail: &str) -> PolicyError {
        self.error_at(self.pos, String::from(detail))
    }

    /// An error about the key just read (it points at the key's closing quote).
    pub(super) fn key_error(&self, detail: String) -> PolicyError {
        self.error_at(self.key_end, detail)
    }

    /// An error about the object just closed (it points at its `}`).
    pub(super) fn closed_object_error(&self, detail: String) -> PolicyError {
        self.error_at(self.pos.saturating_sub(1), detail)
    }

    /// `missing field `name``, at the `}` that closed the object.
    pub(super) fn missing_field(&self, name: &str) -> PolicyError {
        let mut detail = String::from("missing field ");
        push_escaped(&mut detail, name, '`');
        self.closed_object_error(detail)
    }

    /// `unknown field `key`, expected one of `a`, `b``, at the key.
    pub(super) fn unknown_field(&self, key: &str, names: &[&str]) -> PolicyError {
        let mut detail = String::from("unknown field ");
        push_escaped(&mut detail, key, '`');
        detail.push_str(", expected ");
        push_choices(&mut detail, names);
        self.key_error(detail)
    }

    /// `unknown variant `value`, expected one of ...` for a string at byte offset `at`.
    pub(super) fn unknown_variant(&self, at: usize, value: &str, names: &[&str]) -> PolicyError {
        let mut detail = String::from("unknown variant ");
        push_escaped(&mut detail, value, '`');
        detail.push_str(", expected ");
        push_choices(&mut detail, names);
        self.error_at(at, detail)
    }

    /// `invalid type: <what is there>, expected <expected>`, at the value. A value that is not
    /// even valid JSON reports its syntax error instead.
    pub(super) fn invalid_type(&mut self, expected: &str) -> PolicyError {
        let at = self.value_start();
        let found = match self.describe_value() {
            Ok(found) => found,
            Err(e) => return e,
        };
        self.error_at(
            at,
            alloc::format!("invalid type: {found}, expected {expected}"),
        )
    }

    /// Reads the value at the reader's position only to name it in a type error. Numbers are
    /// not printed: their text may be long, and formatting a float costs ~20 KB of .wasm.
    fn describe_value(&mut self) -> Result<String> {
        Ok(match self.peek() {
            Some(b'"') => {
                let text = self.string_token()?;
                let mut found = String::from("string ");
                push_quoted(&mut found, &text);
                found
            }
            Some(b'{') => String::from("object"),
            Some(b'[') => String::from("array"),
            Some(b'-' | b'0'..=b'9') => {
                self.number_token()?;
                String::from("number")
            }
            Some(_) => match self.literal()? {
                Literal::True => String::from("boolean `true`"),
                Literal::False => String::from("boolean `false`"),
                Literal::Null => String::from("null"),
            },
            None => return Err(self.error("EOF while parsing a value")),
        })
    }

    // ---------------------------------------------------------------- objects and arrays

    /// Enters an object.
    pub(super) fn object(&mut self) -> Result<Members> {
        if self.peek() != Some(b'{') {
            return Err(self.invalid_type("an object"));
        }
        self.pos += 1;
        Ok(Members {
            count: 0,
            mark: self.path.mark(),
        })
    }

    /// Enters an array.
    pub(super) fn array(&mut self) -> Result<Members> {
        if self.peek() != Some(b'[') {
            return Err(self.invalid_type("an array"));
        }
        self.pos += 1;
        Ok(Members {
            count: 0,
            mark: self.path.mark(),
        })
    }

    /// Enters an object whose keys must be among `names`, each at most once.
    pub(super) fn fields(&mut self, names: &'static [&'static str]) -> Result<Fields> {
        Ok(Fields {
            names,
            seen: Vec::new(),
            members: self.object()?,
        })
    }

    /// The next field of a [`JsonReader::fields`] object (its value comes next), or `None`
    /// after the closing `}`. Unknown and repeated fields are errors.
    pub(super) fn next_field(&mut self, fields: &mut Fields) -> Result<Option<&'static str>> {
        let Some(key) = self.next_key(&mut fields.members)? else {
            return Ok(None);
        };
        let Some(name) = fields.names.iter().copied().find(|name| *name == key) else {
            return Err(self.unknown_field(&key, fields.names));
        };
        if fields.seen.contains(&name) {
            let mut detail = String::from("duplicate field ");
            push_escaped(&mut detail, name, '`');
            return Err(self.key_error(detail));
        }
        fields.seen.push(name);
        Ok(Some(name))
    }

    /// The next key of an object whose keys are names (roles, issuers, selectors, ...), or
    /// `None` after the closing `}`. A key already in `seen` is an error.
    pub(super) fn next_name(
        &mut self,
        members: &mut Members,
        seen: &mut HashSet<String>,
    ) -> Result<Option<String>> {
        let Some(key) = self.next_key(members)? else {
            return Ok(None);
        };
        if !seen.insert(key.clone()) {
            let mut detail = String::from("duplicate key ");
            push_quoted(&mut detail, &key);
            return Err(self.key_error(detail));
        }
        Ok(Some(key))
    }

    /// The next key and its `:`, the key pushed on the path; `None` after the closing `}`.
    fn next_key(&mut self, members: &mut Members) -> Result<Option<String>> {
        const EOF: &str = "EOF while parsing an object";
        if !self.next_member(members, b'}', EOF, "expected `,` or `}`")? {
            return Ok(None);
        }
        if self.peek() != Some(b'"') {
            return Err(self.error("key must be a string"));
        }
        let key = self.string_token()?;
        self.key_end = self.pos.saturating_sub(1);
        match self.peek() {
            Some(b':') => self.pos += 1,
            Some(_) => return Err(self.error("expected `:`")),
            None => return Err(self.error(EOF)),
        }
        self.path.push_key(&key);
        Ok(Some(key))
    }

    /// Moves to the next element of an array, its index pushed on the path; `false` after
    /// the closing `]`.
    pub(super) fn next_element(&mut self, members: &mut Members) -> Result<bool> {
        if !self.next_member(
            members,
            b']',
            "EOF while parsing a list",
            "expected `,` or `]`",
        )? {
            return Ok(false);
        }
        self.path.push_index(members.count - 1);
        Ok(true)
    }

    /// Leaves the previous member and consumes the `,` before the next one: `true` when a
    /// member follows, `false` when `close` ended the object or array.
    fn next_member(
        &mut self,
        members: &mut Members,
        close: u8,
        eof: &str,
        expected_separator: &str,
    ) -> Result<bool> {
        self.path.truncate(members.mark);
        let next = self.peek();
        if next == Some(close) {
            self.pos += 1;
            return Ok(false);
        }
        if members.count > 0 {
            match next {
                Some(b',') => self.pos += 1,
                Some(_) => return Err(self.error(expected_separator)),
                None => return Err(self.error(eof)),
            }
            if self.peek() == Some(close) {
                return Err(self.error("trailing comma"));
            }
        }
        if self.peek().is_none() {
            return Err(self.error(eof));
        }
        members.count += 1;
        Ok(true)
    }

    // ---------------------------------------------------------------- scalars

    /// A string value.
    pub(super) fn string(&mut self) -> Result<String> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid_type("a string"));
        }
        self.string_token()
    }

    /// `true` or `false`.
    pub(super) fn boolean(&mut self) -> Result<bool> {
        if let Some(b't' | b'f') = self.peek() {
            let start = self.pos;
            match self.literal()? {
                Literal::True => return Ok(true),
                Literal::False => return Ok(false),
                Literal::Null => self.pos = start,
            }
        }
        Err(self.invalid_type("a boolean"))
    }

    /// Consumes a `null` and returns `true`; anything else is left unread (`false`).
    pub(super) fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            let start = self.pos;
            if self.literal()? == Literal::Null {
                return Ok(true);
            }
            self.pos = start;
        }
        Ok(false)
    }

    /// A non-negative integer that fits in `u32`, written without fraction or exponent.
    pub(super) fn u32(&mut self) -> Result<u32> {
        const EXPECTED: &str = "an integer from 0 to 4294967295";
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(self.invalid_type(EXPECTED));
        }
        let start = self.pos;
        self.number_token()?;
        let digits = self.text.get(start..self.pos).unwrap_or_default();
        let value = digits.bytes().try_fold(0u32, |value, b| {
            let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
            value.checked_mul(10)?.checked_add(u32::from(digit))
        });
        // Digits only: the grammar was checked, so this is the text the author wrote.
        value.ok_or_else(|| {
            self.error_at(
                start,
                alloc::format!("invalid value: {digits}, expected {EXPECTED}"),
            )
        })
    }

    /// `true`, `false` or `null` at the reader's position.
    fn literal(&mut self) -> Result<Literal> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        for (text, literal) in [
            ("true", Literal::True),
            ("false", Literal::False),
            ("null", Literal::Null),
        ] {
            if rest.starts_with(text) {
                self.pos += text.len();
                return Ok(literal);
            }
        }
        Err(self.error("expected value"))
    }

    /// Checks one number against the JSON grammar and skips it:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number_token(&mut self) -> Result<()> {
        if self.byte_at(self.pos) == Some(b'-') {
            self.pos += 1;
        }
        match self.byte_at(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.byte_at(self.pos), Some(b'0'..=b'9')) {
                    return Err(self.error("invalid number (leading zero)"));
                }
            }
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.byte_at(self.pos) == Some(b'.') {
            self.pos += 1;
            self.require_digits()?;
        }
        if matches!(self.byte_at(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.byte_at(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digits()?;
        }
        Ok(())
    }

    fn skip_digits(&mut self) {
        while matches!(self.byte_at(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Result<()> {
        if !matches!(self.byte_at(self.pos), Some(b'0'..=b'9')) {
            return Err(self.error("invalid number"));
        }
        self.skip_digits();
        Ok(())
    }

    /// A string token at the reader's position (on its opening quote), unescaped.
    fn string_token(&mut self) -> Result<String> {
        const EOF: &str = "EOF while parsing a string";
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.byte_at(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Both ends sit next to ASCII bytes (or the ends of the text): char boundaries.
            let Some(run) = self.text.get(start..self.pos) else {
                return Err(self.error("invalid UTF-8 in a string"));
            };
            out.push_str(run);
            match self.byte_at(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self
                        .error("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                None => return Err(self.error(EOF)),
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let c = match self.byte_at(self.pos) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                return self.unicode_escape(out);
            }
            Some(_) => return Err(self.error("invalid escape")),
            None => return Err(self.error("EOF while parsing a string")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// `\uXXXX` after its `\u`; a UTF-16 surrogate must come as a high-low pair.
    fn unicode_escape(&mut self, out: &mut String) -> Result<()> {
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                let second = if self.byte_at(self.pos) == Some(b'\\')
                    && self.byte_at(self.pos + 1) == Some(b'u')
                {
                    self.pos += 2;
                    self.hex4()?
                } else {
                    0
                };
                if !(0xdc00..=0xdfff).contains(&second) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.error("lone trailing surrogate in hex escape")),
            other => other,
        };
        match char::from_u32(code) {
            Some(c) => {
                out.push(c);
                Ok(())
            }
            None => Err(self.error("invalid unicode code point")),
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            let Some(b) = self.byte_at(self.pos) else {
                return Err(self.error("EOF while parsing a string"));
            };
            let Some(digit) = crate::hex::digit_value(b) else {
                return Err(self.error("invalid escape: \\u needs 4 hex digits"));
            };
            value = value * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(value)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Literal {
    True,
    False,
    Null,
}

/// `` `a` `` or `` one of `a`, `b`, `c` ``.
fn push_choices(out: &mut String, names: &[&str]) {
    if names.len() > 1 {
        out.push_str("one of ");
    }
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_escaped(out, name, '`');
    }
}

#[cfg(test)]
mod tests;
