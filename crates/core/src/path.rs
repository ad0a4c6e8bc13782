//! Request-path normalisation: the path that is authorised is the path that is served.
//!
//! Contract: query and fragment removed (the query is kept aside, unchanged, and re-appended for
//! the upstream; the fragment is dropped); percent-escapes of unreserved characters
//! (RFC 3986 §2.3: `A-Z a-z 0-9 - . _ ~`) decoded, every other escape kept with upper-case hex;
//! `//` merged; `.`/`..` resolved AFTER decoding (so `%2e%2e` is `..`). Rejected with 400
//! (each a [`PathError`]): encoded `/` `\` or NUL, a raw `\`, control characters (raw or
//! encoded), raw space or non-ASCII, bad escapes, invalid UTF-8 after decoding (overlong
//! forms included), `..` above the root, `;` anywhere in the path (raw or `%3B`), and anything
//! that is not origin-form (`/...`). The first problem from the left is the one reported.
//!
//! Trailing slash: kept in the upstream path as sent (`/a/` stays `/a/`; a final `.`/`..`
//! segment leaves one, as RFC 3986 §5.2.4 does), and insignificant for matching (the decoded
//! segments never include an empty last segment).

use crate::hex::digit_value;
use crate::percent::push_escape;
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
    /// A control character (raw, or percent-encoded), or a raw non-ASCII character or space
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
    /// Normalisation would restructure the path (resolve `.`/`..`, merge `//`, drop a
    /// fragment) but the host forwards the request-target as sent, so the upstream would not
    /// route what was authorised ([`crate::Policy::evaluate_as_sent`]).
    NotNormalized,
    /// Strict paths only: `%25` followed by two hex digits (`%252e`), which an upstream that
    /// decodes twice reads as another escape.
    DoubleEncoding,
    /// Strict paths only: a decoded character that Unicode normalisation (NFKC) or a
    /// Windows "best fit" code-page conversion turns into `.`, `/` or `\` ([`LOOKALIKES`]).
    LookalikeCharacter,
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
            PathError::NotNormalized => "path_not_normalized",
            PathError::DoubleEncoding => "double_encoding",
            PathError::LookalikeCharacter => "lookalike_character",
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
    /// A trailing `/` adds no empty segment; the root has none.
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

/// Characters a strict path refuses once decoded: each becomes `.`, `/` or `\\` under NFKC
/// (which some upstreams apply to paths) or under a Windows "best fit" conversion to an ANSI
/// code page (which Windows upstreams apply when they hand a path to a non-Unicode API), so
/// `/public/%EF%BC%8E%EF%BC%8E/admin` may be served as `/public/../admin`.
pub const LOOKALIKES: &[char] = &[
    // `.`: ONE DOT LEADER, TWO DOT LEADER, HORIZONTAL ELLIPSIS, SMALL FULL STOP, FULLWIDTH
    // FULL STOP, IDEOGRAPHIC FULL STOP and its halfwidth form (IDNA maps both to `.`).
    '\u{2024}', '\u{2025}', '\u{2026}', '\u{fe52}', '\u{ff0e}', '\u{3002}', '\u{ff61}',
    // `/`: FULLWIDTH SOLIDUS, DIVISION SLASH, FRACTION SLASH, BIG SOLIDUS.
    '\u{ff0f}', '\u{2215}', '\u{2044}', '\u{29f8}',
    // `\\`: FULLWIDTH and SMALL REVERSE SOLIDUS, SET MINUS, REVERSE SOLIDUS OPERATOR, BIG
    // REVERSE SOLIDUS, and YEN and WON SIGN (the byte 0x5C of the Japanese and Korean code
    // pages, and their best-fit target).
    '\u{ff3c}', '\u{fe68}', '\u{2216}', '\u{29f5}', '\u{29f9}', '\u{a5}', '\u{20a9}',
];

/// Normalises a raw request-target (`:path`). See the module doc for the rules.
pub fn normalize_path(raw: &str) -> Result<NormalizedPath, PathError> {
    normalize_path_with(raw, false)
}

/// [`normalize_path`], plus with `strict` the strict-path refusals
/// ([`PathError::DoubleEncoding`], [`PathError::LookalikeCharacter`]).
pub fn normalize_path_with(raw: &str, strict: bool) -> Result<NormalizedPath, PathError> {
    let target = normalize_target(raw, strict)?;
    Ok(NormalizedPath {
        path: String::from(target.path()),
        segments: target.segments().map(String::from).collect(),
        query: target.query().map(String::from),
    })
}

/// The evaluator's allocation-lean form of a normalised request-target: two strings, no
/// per-segment allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NormalizedTarget {
    /// Normalised path, then `?query` when the request had one.
    upstream: String,
    /// Length of the path part of `upstream`.
    path_len: usize,
    /// The decoded segments joined by `/` (no leading `/`; empty for the root).
    decoded: String,
    /// Normalisation removed a segment (`.`, `..`, an empty one before the last) or a
    /// fragment: an upstream that only decodes the request-target would see other segments.
    restructured: bool,
}

impl NormalizedTarget {
    pub(crate) fn path(&self) -> &str {
        self.upstream.get(..self.path_len).unwrap_or("/")
    }

    pub(crate) fn query(&self) -> Option<&str> {
        self.upstream
            .get(self.path_len..)
            .and_then(|q| q.strip_prefix('?'))
    }

    pub(crate) fn into_upstream(self) -> String {
        self.upstream
    }

    pub(crate) fn segments(&self) -> impl Iterator<Item = &str> {
        self.decoded.split('/').filter(|s| !s.is_empty())
    }

    /// True when the request-target, forwarded as sent, splits into the same decoded
    /// segments as were authorised: normalisation only re-spelled it (escape case,
    /// unreserved escapes), it did not resolve dot segments, merge slashes or drop a fragment.
    pub(crate) fn forwardable_as_sent(&self) -> bool {
        !self.restructured
    }
}

/// Normalises a raw request-target (`:path`) into the lean form; `strict` adds the
/// strict-path refusals.
pub(crate) fn normalize_target(raw: &str, strict: bool) -> Result<NormalizedTarget, PathError> {
    if raw.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    let without_fragment = raw.split('#').next().unwrap_or_default();
    let mut restructured = without_fragment.len() != raw.len();
    let (path, query) = match without_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (without_fragment, None),
    };
    let after_root = path.strip_prefix('/').ok_or(PathError::NotOriginForm)?;

    let mut upstream = String::with_capacity(raw.len() + 1);
    let mut decoded: Vec<u8> = Vec::with_capacity(path.len());
    // Whether the result keeps a trailing `/`: the last raw segment was empty, `.` or `..`.
    let mut trailing_slash = false;
    let mut raw_segments = after_root.split('/').peekable();
    while let Some(raw_segment) = raw_segments.next() {
        let is_last = raw_segments.peek().is_none();
        let upstream_start = upstream.len();
        let decoded_start = decoded.len();
        upstream.push('/');
        if !decoded.is_empty() {
            decoded.push(b'/');
        }
        let segment_start = decoded.len();
        decode_segment(raw_segment, &mut upstream, &mut decoded, strict)?;
        let segment = decoded.get(segment_start..).unwrap_or_default();
        let Ok(text) = core::str::from_utf8(segment) else {
            return Err(PathError::InvalidUtf8);
        };
        // Only escapes can carry a non-ASCII character into a segment (raw ones are refused).
        if strict && !text.is_ascii() && text.contains(LOOKALIKES) {
            return Err(PathError::LookalikeCharacter);
        }
        match segment {
            b"" | b"." => {
                // A trailing `/` (empty last segment) is kept as sent: not a restructuring.
                restructured |= segment == b"." || !is_last;
                upstream.truncate(upstream_start);
                decoded.truncate(decoded_start);
                trailing_slash = true;
            }
            b".." => {
                restructured = true;
                upstream.truncate(upstream_start);
                decoded.truncate(decoded_start);
                // Drop the previous kept segment; segments never contain a raw `/`.
                let previous = upstream.rfind('/').ok_or(PathError::DotDotAboveRoot)?;
                upstream.truncate(previous);
                let previous = decoded.iter().rposition(|&b| b == b'/').unwrap_or(0);
                decoded.truncate(previous);
                trailing_slash = true;
            }
            _ => trailing_slash = false,
        }
    }
    if upstream.is_empty() || trailing_slash {
        upstream.push('/');
    }
    let path_len = upstream.len();
    if let Some(query) = query {
        if query.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(PathError::ControlCharacter);
        }
        upstream.push('?');
        upstream.push_str(query);
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::InvalidUtf8)?;
    Ok(NormalizedTarget {
        upstream,
        path_len,
        decoded,
        restructured,
    })
}

/// RFC 3986 §2.3 unreserved characters: the only escapes that are decoded in the path.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decodes one raw segment: the normalised (still-encoded) form goes to `upstream`, the fully
/// decoded bytes to `decoded`.
fn decode_segment(
    raw: &str,
    upstream: &mut String,
    decoded: &mut Vec<u8>,
    strict: bool,
) -> Result<(), PathError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let value = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&hi), Some(&lo)) => hex_pair(hi, lo).ok_or(PathError::BadEscape)?,
                    _ => return Err(PathError::BadEscape),
                };
                check_decoded_byte(value)?;
                let double = matches!(
                    (bytes.get(i + 3), bytes.get(i + 4)),
                    (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()
                );
                if strict && value == b'%' && double {
                    return Err(PathError::DoubleEncoding);
                }
                if is_unreserved(value) {
                    upstream.push(char::from(value));
                } else {
                    push_escape(upstream, value);
                }
                decoded.push(value);
                i += 3;
            }
            b'\\' => return Err(PathError::Backslash),
            b';' => return Err(PathError::PathParameter),
            b if b <= b' ' || b >= 0x7f => return Err(PathError::ControlCharacter),
            _ => {
                upstream.push(char::from(b));
                decoded.push(b);
                i += 1;
            }
        }
    }
    Ok(())
}

/// Rejects decoded bytes that would change how the path splits or reads.
fn check_decoded_byte(value: u8) -> Result<(), PathError> {
    match value {
        0 => Err(PathError::EncodedNul),
        b'/' => Err(PathError::EncodedSlash),
        b'\\' => Err(PathError::EncodedBackslash),
        b';' => Err(PathError::PathParameter),
        v if v < 0x20 || v == 0x7f => Err(PathError::ControlCharacter),
        _ => Ok(()),
    }
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    Some(digit_value(hi)? << 4 | digit_value(lo)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// (raw, Ok((upstream, decoded segments)) or Err(code)).
    type Case = (
        &'static str,
        Result<(&'static str, &'static [&'static str]), PathError>,
    );

    const CASES: &[Case] = &[
        // Plain paths and the root.
        ("/", Ok(("/", &[]))),
        ("/a", Ok(("/a", &["a"]))),
        (
            "/patient-records/123",
            Ok(("/patient-records/123", &["patient-records", "123"])),
        ),
        // Trailing slash: kept upstream, insignificant for matching.
        ("/a/", Ok(("/a/", &["a"]))),
        ("/a/b/", Ok(("/a/b/", &["a", "b"]))),
        // `//` merged.
        ("//", Ok(("/", &[]))),
        ("//a//b", Ok(("/a/b", &["a", "b"]))),
        ("/a//", Ok(("/a/", &["a"]))),
        (
            "//evil.example/x",
            Ok(("/evil.example/x", &["evil.example", "x"])),
        ),
        // Dot segments.
        ("/a/./b", Ok(("/a/b", &["a", "b"]))),
        ("/a/../b", Ok(("/b", &["b"]))),
        ("/a/b/..", Ok(("/a/", &["a"]))),
        ("/a/b/.", Ok(("/a/b/", &["a", "b"]))),
        ("/a/..", Ok(("/", &[]))),
        ("/.", Ok(("/", &[]))),
        ("/..", Err(PathError::DotDotAboveRoot)),
        ("/a/../..", Err(PathError::DotDotAboveRoot)),
        ("/../a", Err(PathError::DotDotAboveRoot)),
        ("/a/..b/c.", Ok(("/a/..b/c.", &["a", "..b", "c."]))),
        ("/a/.../b", Ok(("/a/.../b", &["a", "...", "b"]))),
        // Encoded dots are resolved after decoding.
        ("/admin/%2e%2e/public", Ok(("/public", &["public"]))),
        ("/public/%2E%2E/admin", Ok(("/admin", &["admin"]))),
        ("/a/.%2e/b", Ok(("/b", &["b"]))),
        ("/a/%2e/b", Ok(("/a/b", &["a", "b"]))),
        ("/%2e%2e", Err(PathError::DotDotAboveRoot)),
        // Unreserved escapes decoded; others kept, hex upper-cased.
        ("/%61dmin", Ok(("/admin", &["admin"]))),
        ("/%41%7a%30%2D%5F%7E", Ok(("/Az0-_~", &["Az0-_~"]))),
        ("/a%20b", Ok(("/a%20b", &["a b"]))),
        ("/a%3fb", Ok(("/a%3Fb", &["a?b"]))),
        ("/a%23b", Ok(("/a%23b", &["a#b"]))),
        ("/100%25", Ok(("/100%25", &["100%"]))),
        ("/%2541", Ok(("/%2541", &["%41"]))),
        ("/caf%c3%a9", Ok(("/caf%C3%A9", &["café"]))),
        ("/%E2%82%AC", Ok(("/%E2%82%AC", &["€"]))),
        // Encoded separators, NUL and controls.
        ("/admin%2Fx", Err(PathError::EncodedSlash)),
        ("/a%2fb", Err(PathError::EncodedSlash)),
        ("/a%5Cb", Err(PathError::EncodedBackslash)),
        ("/a%5cb", Err(PathError::EncodedBackslash)),
        ("/a%00", Err(PathError::EncodedNul)),
        ("/a%0A", Err(PathError::ControlCharacter)),
        ("/a%1f", Err(PathError::ControlCharacter)),
        ("/a%7F", Err(PathError::ControlCharacter)),
        // Raw characters a request-target cannot hold.
        ("/a\\b", Err(PathError::Backslash)),
        ("/a\tb", Err(PathError::ControlCharacter)),
        ("/a\u{0}", Err(PathError::ControlCharacter)),
        ("/a\u{7f}", Err(PathError::ControlCharacter)),
        ("/a b", Err(PathError::ControlCharacter)),
        ("/café", Err(PathError::ControlCharacter)),
        // Path parameters.
        ("/admin;x=y", Err(PathError::PathParameter)),
        ("/admin;", Err(PathError::PathParameter)),
        ("/a/..;/admin", Err(PathError::PathParameter)),
        ("/admin%3Bx", Err(PathError::PathParameter)),
        ("/admin%3bx", Err(PathError::PathParameter)),
        // Bad escapes.
        ("/a%", Err(PathError::BadEscape)),
        ("/a%4", Err(PathError::BadEscape)),
        ("/a%zz", Err(PathError::BadEscape)),
        ("/a%+1", Err(PathError::BadEscape)),
        ("/a%4/", Err(PathError::BadEscape)),
        // Invalid UTF-8 after decoding, overlong forms included.
        ("/%C3", Err(PathError::InvalidUtf8)),
        ("/%FF", Err(PathError::InvalidUtf8)),
        ("/%C0%AE%C0%AE", Err(PathError::InvalidUtf8)),
        ("/%C0%AF", Err(PathError::InvalidUtf8)),
        ("/%E0%80%AF", Err(PathError::InvalidUtf8)),
        ("/%ED%A0%80", Err(PathError::InvalidUtf8)),
        ("/%C3/%A9", Err(PathError::InvalidUtf8)),
        // Query: removed for matching, kept raw (not normalised) for the upstream.
        ("/a?x=1", Ok(("/a?x=1", &["a"]))),
        ("/a/../b?x=%2F;..", Ok(("/b?x=%2F;..", &["b"]))),
        ("/a/?", Ok(("/a/?", &["a"]))),
        ("/?q", Ok(("/?q", &[]))),
        ("/a?x=\u{1}", Err(PathError::ControlCharacter)),
        ("/a?x y", Err(PathError::ControlCharacter)),
        // Fragment dropped (with whatever follows it).
        ("/a#frag", Ok(("/a", &["a"]))),
        ("/a?x=1#frag", Ok(("/a?x=1", &["a"]))),
        ("/a#/../../etc", Ok(("/a", &["a"]))),
        // Not origin-form.
        ("", Err(PathError::NotOriginForm)),
        ("*", Err(PathError::NotOriginForm)),
        ("a/b", Err(PathError::NotOriginForm)),
        ("http://example.org/a", Err(PathError::NotOriginForm)),
        ("?x=1", Err(PathError::NotOriginForm)),
        ("#x", Err(PathError::NotOriginForm)),
        // The first problem from the left wins.
        ("/..%2F", Err(PathError::EncodedSlash)),
        ("/../%2F", Err(PathError::DotDotAboveRoot)),
        ("/a;%2F", Err(PathError::PathParameter)),
    ];

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn normalisation_table() {
        assert!(CASES.len() >= 40);
        for (raw, expected) in CASES {
            let got = normalize_path(raw);
            match (expected, got) {
                (Ok((upstream, segments)), Ok(n)) => {
                    assert_eq!(n.upstream(), *upstream, "upstream of {raw:?}");
                    assert_eq!(n.segments, *segments, "segments of {raw:?}");
                    let lean = normalize_target(raw, false).unwrap();
                    assert_eq!(lean.path(), n.path, "lean path of {raw:?}");
                    assert_eq!(lean.query(), n.query.as_deref(), "lean query of {raw:?}");
                    assert!(lean.segments().eq(n.segments.iter().map(String::as_str)));
                    assert_eq!(lean.into_upstream(), *upstream);
                }
                (Err(e), Err(g)) => assert_eq!(g, *e, "error of {raw:?}"),
                (expected, got) => panic!("{raw:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn path_and_query_accessors() {
        let n = normalize_path("/a/./b/?x=1&y").unwrap();
        assert_eq!(n.path, "/a/b/");
        assert_eq!(n.query.as_deref(), Some("x=1&y"));
        assert_eq!(n.upstream(), "/a/b/?x=1&y");
        let n = normalize_path("/a").unwrap();
        assert_eq!(n.query, None);
        let n = normalize_path("/a?").unwrap();
        assert_eq!(n.query.as_deref(), Some(""));
        assert_eq!(n.upstream(), "/a?");
    }

    /// Normalising the upstream path again changes nothing: what was authorised is exactly
    /// what the upstream will route. Pseudo-random paths built from tricky pieces.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn normalisation_is_idempotent_and_total() {
        const PIECES: &[&str] = &[
            "/", "//", ".", "..", "%2e", "%2E%2e", "%2F", "%5c", "%00", "%41", "%7e", "%25",
            "%c3%a9", "%C0%AE", "a", "Z", "~", ";", "%3b", "?", "#", "%", "%4", "x=1", " ", "\\",
            "é", "-_",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..20_000 {
            let mut raw = String::from("/");
            for _ in 0..(next() % 10) {
                raw.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            match normalize_path(&raw) {
                Ok(n) => {
                    accepted += 1;
                    let again = normalize_path(&n.upstream())
                        .unwrap_or_else(|e| panic!("{raw:?} -> {:?} -> {e:?}", n.upstream()));
                    assert_eq!(again, n, "not idempotent for {raw:?}");
                    assert!(n.path.starts_with('/'));
                    assert!(!n.path.contains("//"), "{raw:?}");
                    assert!(n
                        .segments
                        .iter()
                        .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('/')));
                }
                Err(_) => rejected += 1,
            }
        }
        assert!(
            accepted > 1_000 && rejected > 1_000,
            "{accepted} accepted, {rejected} rejected"
        );
    }

    /// Whether the upstream, decoding the request-target as sent without resolving dot
    /// segments or merging slashes, would see the same segments as were authorised.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn forwardable_as_sent() {
        for raw in [
            "/",
            "/a",
            "/a/",
            "/a/b?x=../..&y=//",
            "/caf%c3%a9",
            "/%61dmin",
            "/a?",
            "/a/..b/c.",
        ] {
            assert!(
                normalize_target(raw, false).unwrap().forwardable_as_sent(),
                "{raw:?}"
            );
        }
        for raw in [
            "//a",
            "/a//b",
            "/a//",
            "/./a",
            "/a/.",
            "/a/b/..",
            "/a/../b",
            "/a/%2e%2E/b",
            "/a/%2e",
            "/a#x",
            "/a?x#y",
        ] {
            assert!(
                !normalize_target(raw, false).unwrap().forwardable_as_sent(),
                "{raw:?}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn strict_paths_refuse_double_encoding_and_lookalikes() {
        let strict = |raw: &str| normalize_path_with(raw, true).map(|n| n.upstream());
        for (raw, error) in [
            ("/%252e%252e/admin", PathError::DoubleEncoding),
            ("/a/%252F", PathError::DoubleEncoding),
            ("/a%2525", PathError::DoubleEncoding),
            ("/%25aa", PathError::DoubleEncoding),
            (
                "/public/%EF%BC%8E%EF%BC%8E/admin",
                PathError::LookalikeCharacter,
            ),
            ("/a%EF%BC%8Fb", PathError::LookalikeCharacter),
            ("/a%ef%bc%bcb", PathError::LookalikeCharacter),
            ("/%E2%80%A4%E2%80%A4", PathError::LookalikeCharacter),
            ("/%E2%80%A5", PathError::LookalikeCharacter),
            ("/a%E2%88%95b", PathError::LookalikeCharacter),
            ("/a%E2%81%84b", PathError::LookalikeCharacter),
            ("/%E3%80%82", PathError::LookalikeCharacter),
            ("/%C2%A5", PathError::LookalikeCharacter),
            ("/%E2%82%A9", PathError::LookalikeCharacter),
            ("/%EF%B9%A8", PathError::LookalikeCharacter),
        ] {
            assert_eq!(strict(raw), Err(error), "{raw}");
            assert!(normalize_path(raw).is_ok(), "not strict: {raw}");
        }
        for (raw, upstream) in [
            ("/100%25", "/100%25"),
            ("/100%25/x", "/100%25/x"),
            ("/a%25zz", "/a%25zz"),
            ("/a%25b", "/a%25b"),
            ("/caf%C3%A9", "/caf%C3%A9"),
            ("/%E2%82%AC", "/%E2%82%AC"),
            ("/a?q=%252e%EF%BC%8E", "/a?q=%252e%EF%BC%8E"),
        ] {
            assert_eq!(strict(raw).as_deref(), Ok(upstream), "{raw}");
        }
        // The first problem from the left still wins.
        assert_eq!(strict("/%252e/%2F"), Err(PathError::DoubleEncoding));
        assert_eq!(strict("/%2F/%252e"), Err(PathError::EncodedSlash));
        assert_eq!(PathError::DoubleEncoding.code(), "double_encoding");
        assert_eq!(PathError::LookalikeCharacter.code(), "lookalike_character");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn length_cap() {
        let mut long = String::from("/");
        long.push_str(&"a".repeat(MAX_PATH_LEN - 1));
        assert!(normalize_path(&long).is_ok());
        long.push('a');
        assert_eq!(normalize_path(&long), Err(PathError::TooLong));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn error_codes_are_stable() {
        assert_eq!(PathError::EncodedSlash.code(), "encoded_slash");
        assert_eq!(PathError::DotDotAboveRoot.to_string(), "dot_dot_above_root");
        assert_eq!(PathError::PathParameter.code(), "path_parameter");
        assert_eq!(PathError::NotNormalized.code(), "path_not_normalized");
    }
}
