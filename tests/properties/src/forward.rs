//! `forward`: a single identity value made header-safe ([`push_header_safe`]).
//!
//! Input: first byte selects whether `,` is escaped (multi-valued selectors), the rest is the
//! value (lossy UTF-8, as identity values are strings).

use mtls_authz_core::forward::push_header_safe;

/// Checks one value: see the crate table.
pub fn check(data: &[u8]) {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    let value = String::from_utf8_lossy(rest);
    let multi_valued = flag & 1 == 1;
    let mut out = String::new();
    push_header_safe(&mut out, &value, multi_valued);
    assert_header_safe(&out);
    if multi_valued {
        assert!(!out.contains(','), "`,` not escaped in {out:?}");
    }
    assert_eq!(
        percent_decode(&out),
        value.as_bytes(),
        "{out:?} does not decode back to {value:?}"
    );
}

/// A header value an HTTP/1.1 or HTTP/2 peer forwards unchanged: visible ASCII and inner
/// spaces only (no CR, LF, NUL, DEL, non-ASCII), no leading or trailing space.
pub fn assert_header_safe(value: &str) {
    assert!(
        value.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "header value {value:?} holds a byte outside visible ASCII"
    );
    assert!(
        !value.starts_with(' ') && !value.ends_with(' '),
        "header value {value:?} has an edge space HTTP would strip"
    );
}

/// Decodes `%XX` escapes (the encoding [`push_header_safe`] writes: `%` itself is always
/// escaped, so every `%` starts an escape).
pub fn percent_decode(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .unwrap_or_else(|| panic!("truncated escape in {value:?}"));
            assert!(
                hex.bytes().all(|b| b.is_ascii_hexdigit()),
                "bad escape %{hex} in {value:?}"
            );
            let byte = u8::from_str_radix(hex, 16).expect("two hex digits");
            assert!(
                hex.bytes().all(|b| !b.is_ascii_lowercase()),
                "lower-case escape %{hex} in {value:?}"
            );
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Decodes `%XX` escapes in either case, leaving a `%` that starts no escape as it is (how an
/// upstream decodes a request path).
pub fn percent_decode_lenient(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}
