//! Request-path normalisation: the path that is authorised is the path that is served.
//!
//! Contract: query and fragment removed (the query is kept aside and re-appended for the
//! upstream); percent-escapes of unreserved characters (RFC 3986 §2.3) decoded; `//` merged;
//! `.`/`..` resolved. Rejected with 400 (each a [`PathError`]): encoded `/` `\` or NUL,
//! a raw `\`, control characters, bad escapes, invalid UTF-8, `..` above the root, `;` path
//! parameters, and anything that is not origin-form (`/...`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Longest raw path (bytes, query included) accepted.
pub const MAX_PATH_LEN: usize = 8 * 1024;

/// Why a path cannot be normalised unambiguously.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Empty, or not starting with `/` (absolute-form, authority-form and `*` are not routed).
    NotOriginForm,
    /// Longer than [`MAX_PATH_LEN`].
    TooLong,
    /// `%2F` / `%2f`.
    EncodedSlash,
    /// `%5C` / `%5c`.
    EncodedBackslash,
    /// `%00`.
    EncodedNul,
    /// A raw `\`.
    Backslash,
    /// A control character (raw, or percent-encoded), or a raw non-ASCII byte, space or `#`
    /// that a well-formed request-target cannot contain.
    ControlCharacter,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// Decoded bytes are not UTF-8.
    InvalidUtf8,
    /// `..` would climb above `/`.
    DotDotAboveRoot,
    /// A `;` path parameter (`/admin;x=y`), decoded or raw.
    PathParameter,
}

impl PathError {
    /// Stable code used in reason strings (`bad_request:<code>`).
    pub fn code(self) -> &'static str {
        match self {
            PathError::NotOriginForm => "path_not_origin_form",
            PathError::TooLong => "path_too_long",
            PathError::EncodedSlash => "encoded_slash",
            PathError::EncodedBackslash => "encoded_backslash",
            PathError::EncodedNul => "encoded_nul",
            PathError::Backslash => "backslash",
            PathError::ControlCharacter => "control_character",
            PathError::BadEscape => "bad_percent_escape",
            PathError::InvalidUtf8 => "invalid_utf8",
            PathError::DotDotAboveRoot => "dot_dot_above_root",
            PathError::PathParameter => "path_parameter",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A normalised request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedPath {
    /// The normalised path, starting with `/`, no query, no fragment. Characters that are
    /// not unreserved stay percent-encoded exactly as received (upper-cased hex).
    pub path: String,
    /// Decoded segments of [`NormalizedPath::path`] (what path patterns match against).
    pub segments: Vec<String>,
    /// The raw query without `?`, when present (kept unchanged for the upstream).
    pub query: Option<String>,
}

impl NormalizedPath {
    /// The path plus `?query`: what the upstream receives as `:path`.
    pub fn upstream(&self) -> String {
        match &self.query {
            Some(q) => {
                let mut s = self.path.clone();
                s.push('?');
                s.push_str(q);
                s
            }
            None => self.path.clone(),
        }
    }
}

/// Normalises a raw request-target (`:path`). See the module doc for the rules.
pub fn normalize_path(raw: &str) -> Result<NormalizedPath, PathError> {
    let _ = raw;
    Err(PathError::NotOriginForm)
}
