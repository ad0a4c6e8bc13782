//! String patterns of role matchers: exact, `prefix`, `suffix`, `glob`.
//!
//! Everything compares bytes: no case folding, no trimming, no Unicode normalisation, so
//! `NotAdmins` never matches `Admins` and a CN of `x,OU=Admins` is one opaque value.
//! A glob's `*` matches any run (possibly empty) of characters other than `/` and `.`, so it
//! never crosses a path segment or a DNS label (`*.example.org` does not match
//! `a.b.example.org`). `*` is the only metacharacter.
//!
//! On a whole rendered DN (`subject`, `issuer`) the partial patterns match only at
//! [`Boundaries`]: a prefix must end, a suffix start, and every literal part of a glob start
//! and end between rendered characters, never inside an escape such as `\,` or `\=`. So a
//! CN of `x,OU=Admins` (rendered `CN=x\,OU\=Admins`) cannot satisfy `{"glob":
//! "CN=*,OU=Admins,*"}`, `{"suffix": "=Admins"}` or any other pattern whose literal text
//! would have to line up with the inside of an escaped value.

use alloc::string::String;
use core::fmt;

use crate::dn::Boundaries;

/// A compiled string pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// The whole value, byte for byte.
    Exact(String),
    /// The value starts with this.
    Prefix(String),
    /// The value ends with this.
    Suffix(String),
    /// A glob (see the module doc).
    Glob(String),
}

/// Renders the pattern as a policy writes it: `"Admins"`, `{"prefix":"spiffe://x/"}`.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, value) = match self {
            Pattern::Exact(v) => return write_json_string(f, v),
            Pattern::Prefix(v) => ("prefix", v),
            Pattern::Suffix(v) => ("suffix", v),
            Pattern::Glob(v) => ("glob", v),
        };
        write!(f, "{{\"{kind}\":")?;
        write_json_string(f, value)?;
        f.write_str("}")
    }
}

fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl Pattern {
    /// True when `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(p) => value == p,
            Pattern::Prefix(p) => value.starts_with(p.as_str()),
            Pattern::Suffix(p) => value.ends_with(p.as_str()),
            Pattern::Glob(p) => glob_matches(p, value),
        }
    }

    /// True when the rendered DN `value` matches with every cut at one of its `boundaries`
    /// (see the module doc). Exact patterns compare the whole value, which is always aligned.
    pub fn matches_dn(&self, value: &str, boundaries: &Boundaries<'_>) -> bool {
        match self {
            Pattern::Exact(p) => value == p,
            Pattern::Prefix(p) => value.starts_with(p.as_str()) && boundaries.is_boundary(p.len()),
            Pattern::Suffix(p) => {
                value.ends_with(p.as_str()) && boundaries.is_boundary(value.len() - p.len())
            }
            Pattern::Glob(p) => glob_matches_at(p, value, |i| boundaries.is_boundary(i)),
        }
    }
}

/// Bytes a glob's `*` never matches.
fn is_separator(b: u8) -> bool {
    b == b'/' || b == b'.'
}

/// Matches `value` against `glob` (see the module doc).
///
/// The glob is split at `*` into literals `L0 * L1 * ... * Ln`. `L0` must be a prefix and `Ln`
/// a suffix; each middle literal is placed at its earliest occurrence whose gap from the
/// previous literal holds no separator. Earliest placement is always safe: if a later
/// placement of `Li` works, `Li` cannot contain a separator (its periodic overlap would put
/// one inside the earlier, separator-free gap), so moving it earlier only moves
/// separator-free bytes into the next gap. Work is O(len(value) * len(glob)); no allocation.
pub fn glob_matches(glob: &str, value: &str) -> bool {
    glob_matches_at(glob, value, |_| true)
}

/// [`glob_matches`] where every literal part must start and end at a position `cut` accepts
/// (a byte offset of `value`). Earliest placement stays safe: a cut constraint only removes
/// candidate positions, it never makes a later placement leave a longer separator-free gap.
fn glob_matches_at(glob: &str, value: &str, cut: impl Fn(usize) -> bool) -> bool {
    let value = value.as_bytes();
    let mut parts = glob.as_bytes().split(|&b| b == b'*');
    let first = parts.next().unwrap_or_default();
    if !value.starts_with(first) || !cut(first.len()) {
        return false;
    }
    // Offset in `value` of the first byte not yet consumed.
    let mut at = first.len();
    let mut parts = parts.peekable();
    if parts.peek().is_none() {
        // No `*`: the glob is a literal.
        return at == value.len();
    }
    while let Some(part) = parts.next() {
        let rest = value.get(at..).unwrap_or_default();
        if parts.peek().is_none() {
            // Last literal: a suffix, with a separator-free gap before it.
            let Some(gap_len) = rest.len().checked_sub(part.len()) else {
                return false;
            };
            let (gap, tail) = rest.split_at(gap_len);
            return tail == part && !gap.iter().copied().any(is_separator) && cut(at + gap_len);
        }
        let Some(start) =
            earliest_placement(rest, part, |i| cut(at + i) && cut(at + i + part.len()))
        else {
            return false;
        };
        at += start + part.len();
    }
    // Unreachable in practice: the loop returns at the last part.
    false
}

/// The earliest index where `needle` occurs in `haystack`, `aligned` accepts it, and
/// `haystack[..index]` holds no separator.
fn earliest_placement(
    haystack: &[u8],
    needle: &[u8],
    aligned: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut index = 0;
    loop {
        let candidate = haystack.get(index..)?;
        if candidate.starts_with(needle) && aligned(index) {
            return Some(index);
        }
        match candidate.first() {
            Some(&b) if !is_separator(b) => index += 1,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn exact_is_byte_for_byte() {
        let p = Pattern::Exact("Admins".to_string());
        assert!(p.matches("Admins"));
        assert!(!p.matches("admins"));
        assert!(!p.matches("NotAdmins"));
        assert!(!p.matches("Admins "));
        assert!(!p.matches(""));
        let p = Pattern::Exact("x,OU=Admins".to_string());
        assert!(p.matches("x,OU=Admins"));
        assert!(!p.matches("x"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn display_as_written() {
        assert_eq!(
            Pattern::Exact("Admins".to_string()).to_string(),
            "\"Admins\""
        );
        assert_eq!(
            Pattern::Exact("a\"b\\\n".to_string()).to_string(),
            "\"a\\\"b\\\\\\u000a\""
        );
        assert_eq!(
            Pattern::Prefix("p".to_string()).to_string(),
            "{\"prefix\":\"p\"}"
        );
        assert_eq!(
            Pattern::Suffix("s".to_string()).to_string(),
            "{\"suffix\":\"s\"}"
        );
        assert_eq!(
            Pattern::Glob("*.g".to_string()).to_string(),
            "{\"glob\":\"*.g\"}"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn prefix_and_suffix() {
        let p = Pattern::Prefix("spiffe://example.org/".to_string());
        assert!(p.matches("spiffe://example.org/ns/a"));
        assert!(p.matches("spiffe://example.org/"));
        assert!(!p.matches("spiffe://example.org"));
        assert!(!p.matches("spiffe://example.org.evil/"));
        let p = Pattern::Suffix(".example.org".to_string());
        assert!(p.matches("a.example.org"));
        assert!(!p.matches("example.org"));
        assert!(!p.matches("a.example.org."));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn glob_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*.example.org", "api.example.org", true),
            ("*.example.org", ".example.org", true),
            ("*.example.org", "a.b.example.org", false),
            ("*.example.org", "example.org", false),
            ("*.example.org", "api.example.org.evil", false),
            (
                "spiffe://example.org/ns/*/sa/api",
                "spiffe://example.org/ns/billing/sa/api",
                true,
            ),
            (
                "spiffe://example.org/ns/*/sa/api",
                "spiffe://example.org/ns/a/b/sa/api",
                false,
            ),
            (
                "spiffe://example.org/ns/*/sa/api",
                "spiffe://example.org/ns//sa/api",
                true,
            ),
            ("*", "", true),
            ("*", "anything-without-separators", true),
            ("*", "a.b", false),
            ("*", "a/b", false),
            ("**", "ab", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY.c", false),
            ("a*b*c", "acb", false),
            ("svc-*", "svc-a", true),
            ("svc-*", "svc-", true),
            ("svc-*", "svc", false),
            ("*-admin", "team-admin", true),
            ("*-admin", "team.x-admin", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("*a.*", "xa.y", true),
            ("*a.*", "a.a.", false),
            ("*ab*", "xaab", true),
            ("*aba*", "ababa", true),
            ("*.*", "a.b", true),
            ("*.*", "a.b.c", false),
            ("*é*", "café", true),
            ("caf*", "café", true),
        ];
        for (glob, value, expected) in cases {
            assert_eq!(
                glob_matches(glob, value),
                *expected,
                "glob {glob:?} value {value:?}"
            );
        }
    }

    fn dn_match(pattern: Pattern, rendered: &str) -> bool {
        pattern.matches_dn(rendered, &Boundaries::of(rendered))
    }

    /// Whole-DN patterns on a CN that carries `,OU=Admins` (rendered escaped) while the only
    /// real OU is Billing: none of them may see an Admins OU; the real structure still matches.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn whole_dn_patterns_are_not_injectable() {
        let injected = "CN=x\\,OU\\=Admins\\,,OU=Billing,O=Example Health";
        let tail_injected = "CN=q,OU=Billing,O=x\\,OU\\=Admins";
        let real_admin = "CN=bob,OU=Admins,O=Example Health";
        let glob = |g: &str| Pattern::Glob(g.to_string());
        let prefix = |p: &str| Pattern::Prefix(p.to_string());
        let suffix = |p: &str| Pattern::Suffix(p.to_string());
        for pattern in [
            glob("CN=*,OU=Admins,*"),
            glob("*OU=Admins*"),
            glob("*=Admins*"),
            glob("*,OU=Admins"),
            glob("CN=x\\*"),
            prefix("CN=x\\,OU=Admins"),
            prefix("CN=x\\"),
            suffix("=Admins"),
            suffix(",OU=Admins"),
        ] {
            assert!(
                !dn_match(pattern.clone(), injected),
                "{pattern} on {injected}"
            );
            assert!(
                !dn_match(pattern.clone(), tail_injected),
                "{pattern} on {tail_injected}"
            );
        }
        assert!(dn_match(glob("CN=*,OU=Admins,*"), real_admin));
        assert!(dn_match(glob("*,OU=Admins,*"), real_admin));
        assert!(dn_match(suffix(",O=Example Health"), injected));
        assert!(
            dn_match(prefix("CN=x\\,OU\\=Admins"), injected),
            "escapes written out match"
        );
        assert!(dn_match(glob("CN=x\\,OU\\=*,*"), injected));
        assert!(dn_match(glob("CN=*,OU=Billing,*"), injected));
        // Byte matching alone would have been fooled by the last two of these.
        assert!(glob_matches("*=Admins*", injected));
        assert!(Pattern::Suffix("=Admins".to_string()).matches(tail_injected));
    }

    /// The aligned glob agrees with a recursive definition that cuts only at boundaries.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn aligned_glob_agrees_with_reference() {
        fn reference(glob: &[u8], value: &[u8], at: usize, cut: &dyn Fn(usize) -> bool) -> bool {
            match glob.split_first() {
                None => at == value.len(),
                Some((b'*', rest)) => {
                    // The literal before the `*` ends here, the one after starts at `i`.
                    if !cut(at) {
                        return false;
                    }
                    let mut i = at;
                    loop {
                        if cut(i) && reference(rest, value, i, cut) {
                            return true;
                        }
                        if i == value.len() || is_separator(value[i]) {
                            return false;
                        }
                        i += 1;
                    }
                }
                Some((c, rest)) => value.get(at) == Some(c) && reference(rest, value, at + 1, cut),
            }
        }
        let values = [
            "a\\,b",
            "\\,a",
            "a\\,",
            "ab\\=c,d",
            "\\0Aa\\,b",
            "a,b\\\\,c",
            "",
            "a\\,a\\,a",
            ",a=b,",
        ];
        let globs = [
            "*", "a*", "*a", "*,*", "*,b", "a\\*", "*\\,*", "*=*", "a*,*", "*a,*", "**", ",*",
            "*,", "a\\,*",
        ];
        for value in values {
            let boundaries = Boundaries::of(value);
            let cut = |i: usize| boundaries.is_boundary(i);
            for glob in globs {
                let want = reference(glob.as_bytes(), value.as_bytes(), 0, &cut);
                assert_eq!(
                    glob_matches_at(glob, value, cut),
                    want,
                    "glob {glob:?} value {value:?}"
                );
            }
        }
    }

    /// Cross-checks the greedy matcher against a plain recursive definition.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn glob_agrees_with_reference_on_small_alphabet() {
        fn reference(glob: &[u8], value: &[u8]) -> bool {
            match glob.split_first() {
                None => value.is_empty(),
                Some((b'*', rest)) => {
                    let mut i = 0;
                    loop {
                        if reference(rest, &value[i..]) {
                            return true;
                        }
                        if i == value.len() || is_separator(value[i]) {
                            return false;
                        }
                        i += 1;
                    }
                }
                Some((c, rest)) => value.first() == Some(c) && reference(rest, &value[1..]),
            }
        }
        let alphabet = [b'a', b'b', b'.'];
        let mut strings: std::vec::Vec<std::vec::Vec<u8>> = std::vec![std::vec![]];
        for _ in 0..5 {
            let mut next = std::vec::Vec::new();
            for s in &strings {
                for c in alphabet {
                    let mut t = s.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            strings.extend(next);
            crate::sort::sort_unstable(&mut strings);
            strings.dedup();
        }
        let globs = [
            "*", "a*", "*a", "a*b", "*a*", "*.*", "a.*", "*ab*", "*a*b*", "**", "*.a*", "*aa.",
        ];
        for glob in globs {
            for value in &strings {
                let value = core::str::from_utf8(value).unwrap();
                assert_eq!(
                    glob_matches(glob, value),
                    reference(glob.as_bytes(), value.as_bytes()),
                    "glob {glob:?} value {value:?}"
                );
            }
        }
    }
}
