//! `forward_headers`: which header names may be set, and how identity values become
//! header-safe values.
//!
//! Values are percent-encoded so an attacker-influenced certificate field (a CN with a CR/LF,
//! a comma, non-ASCII) can never split a header, smuggle another value into a comma list, or
//! reach an upstream parser that mishandles non-ASCII: `%`, control characters, DEL and every
//! non-ASCII byte are encoded; `,` is encoded in values of multi-valued selectors (the header
//! joins them with `,`); a leading or trailing space is encoded (`%20`) because HTTP strips
//! it, which would change the value.

use crate::percent::push_escape;
use crate::strip::{METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS, SHADOW_HEADER, XFCC_HEADER};
use alloc::string::String;

/// Header names that steer routing or framing (hop-by-hop ones included): a policy may never
/// set them. (`:` pseudo-headers are not tokens and fail the token check.)
const ROUTING_AND_FRAMING_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// A policy may never set a routing or framing header, nor one the filter strips or owns
/// ([`crate::strip`]: method and path overrides, which some front controllers route on, the
/// shadow header, `x-forwarded-client-cert`).
fn is_forbidden(lower: &str) -> bool {
    ROUTING_AND_FRAMING_HEADERS.contains(&lower)
        || METHOD_OVERRIDE_HEADERS.contains(&lower)
        || PATH_OVERRIDE_HEADERS.contains(&lower)
        || lower == SHADOW_HEADER
        || lower == XFCC_HEADER
}

/// True for an RFC 9110 token (`tchar`s, at least one): methods and header names.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Why a header name cannot be used in `forward_headers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderNameError {
    /// Not an RFC 9110 token (empty, space, `:`...).
    NotAToken,
    /// A routing or framing header, or one the filter strips or owns.
    Forbidden,
}

/// Lower-cases and checks a `forward_headers` name.
pub fn forward_header_name(name: &str) -> Result<String, HeaderNameError> {
    if !is_token(name) {
        return Err(HeaderNameError::NotAToken);
    }
    let lower = name.to_ascii_lowercase();
    if is_forbidden(&lower) {
        return Err(HeaderNameError::Forbidden);
    }
    Ok(lower)
}

/// Appends `value` to `out`, percent-encoded as the module doc describes. `escape_comma` is
/// set for values of multi-valued selectors.
///
/// Runs of bytes kept as they are are copied whole (this runs on every allowed request). A
/// non-empty run starts after an escaped byte or at 0 and holds only printable ASCII, so it
/// lies on character boundaries; an empty run may not, and `get` then yields nothing.
pub fn push_header_safe(out: &mut String, value: &str, escape_comma: bool) {
    out.reserve(value.len());
    let bytes = value.as_bytes();
    let last = bytes.len().saturating_sub(1);
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let edge_space = b == b' ' && (i == 0 || i == last);
        if b == b'%' || !(0x20..0x7f).contains(&b) || edge_space || (escape_comma && b == b',') {
            out.push_str(value.get(run_start..i).unwrap_or_default());
            push_escape(out, b);
            run_start = i + 1;
        }
    }
    out.push_str(value.get(run_start..).unwrap_or_default());
}

/// Joins header-safe `values` with `,`; `None` when there is no value (the header is omitted).
pub fn join_header_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
    multi_valued: bool,
) -> Option<String> {
    let mut out = None;
    for value in values {
        push_joined(&mut out, value, multi_valued);
    }
    out
}

/// Appends one more header-safe value to a `,`-joined header value (`None` = no value yet).
pub fn push_joined(out: &mut Option<String>, value: &str, multi_valued: bool) {
    let buf = match out.as_mut() {
        Some(buf) => {
            buf.push(',');
            buf
        }
        None => out.insert(String::new()),
    };
    push_header_safe(buf, value, multi_valued);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(value: &str, escape_comma: bool) -> String {
        let mut out = String::new();
        push_header_safe(&mut out, value, escape_comma);
        out
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn header_safe_encoding() {
        assert_eq!(safe("clinician", true), "clinician");
        assert_eq!(safe("CN=a\\,b,O=x", false), "CN=a\\,b,O=x");
        assert_eq!(safe("a,b", true), "a%2Cb");
        assert_eq!(safe("100%", false), "100%25");
        assert_eq!(safe("a\r\nx-admin: 1", false), "a%0D%0Ax-admin: 1");
        assert_eq!(safe("tab\there", false), "tab%09here");
        assert_eq!(safe("del\u{7f}", false), "del%7F");
        assert_eq!(safe("café", false), "caf%C3%A9");
        assert_eq!(safe(" padded ", false), "%20padded%20");
        assert_eq!(safe("in side", false), "in side");
        assert_eq!(safe(" ", false), "%20");
        assert_eq!(safe("", false), "");
        // Escapes at the edges and back to back, between runs kept as they are.
        assert_eq!(safe("é", false), "%C3%A9");
        assert_eq!(safe("éa,b%ü ", true), "%C3%A9a%2Cb%25%C3%BC%20");
        assert_eq!(safe("a\u{1F600}b", false), "a%F0%9F%98%80b");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn joining() {
        assert_eq!(join_header_values([], true), None);
        assert_eq!(join_header_values(["a"], true).as_deref(), Some("a"));
        assert_eq!(
            join_header_values(["a", "b,c"], true).as_deref(),
            Some("a,b%2Cc")
        );
        assert_eq!(join_header_values(["", "x"], true).as_deref(), Some(",x"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn header_names() {
        assert_eq!(
            forward_header_name("X-Client-Role").as_deref(),
            Ok("x-client-role")
        );
        assert_eq!(forward_header_name(""), Err(HeaderNameError::NotAToken));
        assert_eq!(
            forward_header_name(":path"),
            Err(HeaderNameError::NotAToken)
        );
        assert_eq!(
            forward_header_name("x client"),
            Err(HeaderNameError::NotAToken)
        );
        assert_eq!(forward_header_name("x-é"), Err(HeaderNameError::NotAToken));
        for name in [
            "Host",
            "content-length",
            "Transfer-Encoding",
            "x-forwarded-client-cert",
            "X-HTTP-Method-Override",
            "x-http-method",
            "x-method-override",
            "X-Original-URL",
            "x-rewrite-url",
            "x-mtls-authz-shadow",
            "connection",
            "keep-alive",
            "proxy-connection",
            "TE",
            "trailer",
            "upgrade",
        ] {
            assert_eq!(
                forward_header_name(name),
                Err(HeaderNameError::Forbidden),
                "{name}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn tokens() {
        assert!(is_token("GET"));
        assert!(is_token("M-SEARCH"));
        assert!(is_token("get"));
        assert!(!is_token(""));
        assert!(!is_token("GET /"));
        assert!(!is_token("GE\nT"));
        assert!(!is_token("(GET)"));
    }
}
