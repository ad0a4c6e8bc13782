//! Quote-aware parsing of `x-forwarded-client-cert` (XFCC).
//!
//! Format (as Envoy writes it): elements separated by `,`, one per proxy hop, the last one added
//! by the proxy nearest to us; each element is `key=value` pairs separated by `;`
//! (`By`, `Hash`, `Cert`, `Chain`, `Subject`, `URI`, `DNS`). A value that contains `,` `;` or
//! `=` is double-quoted, and a `"` inside a quoted value is written `\"`. `Cert` is the
//! URL-encoded PEM of the client's leaf certificate.
//!
//! Only the LAST element describes the client of the hop we trust (the edge proxy that
//! sanitised the header), so only its `Cert` is returned. Everything is parsed, not just the
//! tail, because a quoted value anywhere can hide `,` and `;`: splitting naively would let a
//! crafted `Subject` smuggle a fake last element.
//!
//! Choices where the format is silent (all fail closed):
//! - Keys compare ASCII case-insensitively (`cert` = `Cert`); two `Cert` keys in the last
//!   element are an error (ambiguous).
//! - Space and tab around elements, keys and values are ignored.
//! - An unquoted value may contain `=` (base64 padding); it may not contain `"`.
//! - In a quoted value `\"` is `"` and `\\` is `\`; any other `\x` is kept as written, so a
//!   `Subject` keeps its RFC 4514 escapes.
//! - `+` in `Cert` is a literal `+` (base64 uses it), not a space; `%XX` is decoded and a `%`
//!   not followed by two hex digits is an error.
//! - A header of only whitespace has no element (`Ok(None)`); an empty element elsewhere
//!   (`a,,b`, a trailing `,`) is an error.
//!
//! Several header instances: the caller joins them with `,` in the order received, which is
//! how HTTP combines repeated list headers (RFC 9110 §5.3).
//!
//! Limit of the format, not of this parser: Envoy quotes `Cert`, `Chain` and `Subject` but
//! writes `URI=` and `DNS=` values unquoted. A client certificate whose URI SAN holds a `,`
//! (legal in URIs), e.g. `https://x/,Cert=<forged PEM>`, makes the edge's own element end in
//! a second element that no parser can tell from a real later hop. An edge whose XFCC feeds
//! mtls-authz must therefore not set `uri`/`dns` in `set_current_client_cert_details` (only
//! `cert`, plus `by`/`hash`), unless its CA never issues SANs with `,` `;` `"` (SPIFFE IDs
//! cannot hold them).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::identity::CertError;

/// Largest XFCC header (bytes, all instances joined) accepted. A URL-encoded leaf PEM is
/// 3–12 KiB; the cap bounds the work an oversized header can cause and is above Envoy's
/// default 60 KiB request-header limit only by a margin.
pub const MAX_XFCC_LEN: usize = 64 * 1024;

/// Why an XFCC header could not be parsed. Offsets are byte offsets into the header.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XfccError {
    /// The header is longer than [`MAX_XFCC_LEN`].
    TooLarge {
        /// Header length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A `"` opens a value that never closes.
    UnterminatedQuote {
        /// Offset of the opening quote.
        offset: usize,
    },
    /// A `"` in a key or in the middle of an unquoted value.
    UnexpectedQuote {
        /// Offset of the quote.
        offset: usize,
    },
    /// Something other than whitespace, `;` or `,` follows a closing quote.
    TextAfterQuote {
        /// Offset of the first such character.
        offset: usize,
    },
    /// A pair is not `key=value` (no `=`, empty key, or empty pair like `a=1;;b=2`).
    MalformedPair {
        /// Offset where the pair starts.
        offset: usize,
    },
    /// An element is empty (`a=1,,b=2`, or a trailing `,`).
    EmptyElement {
        /// Offset where the element starts.
        offset: usize,
    },
    /// The last element has more than one `Cert` key.
    DuplicateCert {
        /// Offset of the second `Cert` pair.
        offset: usize,
    },
    /// `%` in `Cert` is not followed by two hex digits.
    BadPercentEncoding {
        /// Offset of the `%` within the (unquoted) `Cert` value.
        offset: usize,
    },
}

impl fmt::Display for XfccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfccError::TooLarge { len, max } => {
                write!(f, "x-forwarded-client-cert is {len} bytes, more than the {max}-byte cap")
            }
            XfccError::UnterminatedQuote { offset } => write!(
                f,
                "x-forwarded-client-cert: quote at byte {offset} is never closed"
            ),
            XfccError::UnexpectedQuote { offset } => write!(
                f,
                "x-forwarded-client-cert: unexpected quote at byte {offset} (only whole values may be quoted)"
            ),
            XfccError::TextAfterQuote { offset } => write!(
                f,
                "x-forwarded-client-cert: text after a quoted value at byte {offset}"
            ),
            XfccError::MalformedPair { offset } => write!(
                f,
                "x-forwarded-client-cert: expected key=value at byte {offset}"
            ),
            XfccError::EmptyElement { offset } => write!(
                f,
                "x-forwarded-client-cert: empty element at byte {offset}"
            ),
            XfccError::DuplicateCert { offset } => write!(
                f,
                "x-forwarded-client-cert: second Cert key in the last element at byte {offset}"
            ),
            XfccError::BadPercentEncoding { offset } => write!(
                f,
                "x-forwarded-client-cert: bad percent-encoding in Cert at value byte {offset}"
            ),
        }
    }
}

impl core::error::Error for XfccError {}

impl From<XfccError> for CertError {
    /// A malformed XFCC means the certificate cannot be read: `certificate_too_large` for an
    /// oversized header, `certificate_parse_error` otherwise.
    fn from(err: XfccError) -> CertError {
        match err {
            XfccError::TooLarge { len, max } => CertError::TooLarge { len, max },
            other => CertError::Invalid {
                field: "x-forwarded-client-cert",
                detail: other.to_string(),
            },
        }
    }
}

/// Returns the URL-decoded `Cert` (PEM bytes) of the LAST element of `header`, `None` when
/// the header is blank or its last element has no `Cert`.
pub fn last_element_cert(header: &str) -> Result<Option<Vec<u8>>, XfccError> {
    if header.len() > MAX_XFCC_LEN {
        return Err(XfccError::TooLarge {
            len: header.len(),
            max: MAX_XFCC_LEN,
        });
    }
    let Some(last) = last_element(header)? else {
        return Ok(None);
    };
    let mut cert: Option<&Pair<'_>> = None;
    for pair in &last {
        if pair.key.eq_ignore_ascii_case("cert") {
            if cert.is_some() {
                return Err(XfccError::DuplicateCert {
                    offset: pair.offset,
                });
            }
            cert = Some(pair);
        }
    }
    match cert {
        None => Ok(None),
        Some(pair) => percent_decode(pair.value.unescaped().as_bytes()).map(Some),
    }
}

/// One `key=value` of an element.
#[derive(Debug)]
struct Pair<'a> {
    key: &'a str,
    value: RawValue<'a>,
    /// Byte offset of the pair in the header.
    offset: usize,
}

/// A value as written, before unescaping.
#[derive(Debug)]
enum RawValue<'a> {
    Plain(&'a str),
    /// The text between the quotes, escapes still in place.
    Quoted(&'a str),
}

impl RawValue<'_> {
    /// The value with quoted-string escapes resolved (`\"` and `\\`; others kept).
    fn unescaped(&self) -> String {
        match self {
            RawValue::Plain(s) => (*s).to_string(),
            RawValue::Quoted(s) => {
                let mut out = String::with_capacity(s.len());
                let mut chars = s.chars();
                while let Some(c) = chars.next() {
                    if c != '\\' {
                        out.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some(next @ ('"' | '\\')) => out.push(next),
                        Some(next) => {
                            out.push('\\');
                            out.push(next);
                        }
                        // The scanner never ends a quoted value on a lone backslash.
                        None => out.push('\\'),
                    }
                }
                out
            }
        }
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Byte scanner over the header. All delimiters are ASCII, so every position it slices at is
/// a char boundary.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while self.peek().is_some_and(is_ows) {
            self.pos += 1;
        }
    }

    /// `text[start..end]` without panicking (positions come from this scanner).
    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }
}

/// What ended a pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// `;`: another pair of the same element follows.
    Pair,
    /// `,`: a new element follows.
    Element,
    /// End of the header.
    Header,
}

/// Parses every element, keeping only the last one's pairs.
fn last_element(header: &str) -> Result<Option<Vec<Pair<'_>>>, XfccError> {
    if header.bytes().all(is_ows) {
        return Ok(None);
    }
    let mut scanner = Scanner {
        text: header,
        pos: 0,
    };
    let mut current: Vec<Pair<'_>> = Vec::new();
    let mut element_start = 0;
    loop {
        let (pair, end) = parse_pair(&mut scanner, current.is_empty(), element_start)?;
        current.push(pair);
        match end {
            End::Pair => {}
            End::Element => {
                current.clear();
                element_start = scanner.pos;
            }
            End::Header => return Ok(Some(current)),
        }
    }
}

/// Parses one `key=value` and consumes the delimiter after it.
fn parse_pair<'a>(
    scanner: &mut Scanner<'a>,
    first_in_element: bool,
    element_start: usize,
) -> Result<(Pair<'a>, End), XfccError> {
    scanner.skip_ows();
    let pair_start = scanner.pos;
    // Key: up to `=`.
    loop {
        match scanner.peek() {
            Some(b'=') => break,
            Some(b'"') => {
                return Err(XfccError::UnexpectedQuote {
                    offset: scanner.pos,
                })
            }
            Some(b',') | None if first_in_element && scanner.pos == pair_start => {
                return Err(XfccError::EmptyElement {
                    offset: element_start,
                })
            }
            Some(b',' | b';') | None => {
                return Err(XfccError::MalformedPair { offset: pair_start })
            }
            Some(_) => scanner.pos += 1,
        }
    }
    let key = scanner
        .slice(pair_start, scanner.pos)
        .trim_end_matches([' ', '\t']);
    if key.is_empty() {
        return Err(XfccError::MalformedPair { offset: pair_start });
    }
    scanner.pos += 1; // `=`
    scanner.skip_ows();

    let value = if scanner.peek() == Some(b'"') {
        let open = scanner.pos;
        scanner.pos += 1;
        loop {
            match scanner.peek() {
                None => return Err(XfccError::UnterminatedQuote { offset: open }),
                Some(b'\\') => {
                    // The escaped byte, whatever it is, cannot close the value.
                    if scanner.text.len() <= scanner.pos + 1 {
                        return Err(XfccError::UnterminatedQuote { offset: open });
                    }
                    scanner.pos += 2;
                }
                Some(b'"') => break,
                Some(_) => scanner.pos += 1,
            }
        }
        let content = scanner.slice(open + 1, scanner.pos);
        scanner.pos += 1; // closing quote
        scanner.skip_ows();
        if !matches!(scanner.peek(), None | Some(b',' | b';')) {
            return Err(XfccError::TextAfterQuote {
                offset: scanner.pos,
            });
        }
        RawValue::Quoted(content)
    } else {
        let start = scanner.pos;
        loop {
            match scanner.peek() {
                None | Some(b',' | b';') => break,
                Some(b'"') => {
                    return Err(XfccError::UnexpectedQuote {
                        offset: scanner.pos,
                    })
                }
                Some(_) => scanner.pos += 1,
            }
        }
        RawValue::Plain(
            scanner
                .slice(start, scanner.pos)
                .trim_end_matches([' ', '\t']),
        )
    };

    let end = match scanner.peek() {
        Some(b';') => End::Pair,
        Some(b',') => End::Element,
        _ => End::Header,
    };
    if end != End::Header {
        scanner.pos += 1;
    }
    if end == End::Element && scanner.text.len() == scanner.pos {
        // A trailing `,` leaves an empty last element.
        return Err(XfccError::EmptyElement {
            offset: scanner.pos,
        });
    }
    Ok((
        Pair {
            key,
            value,
            offset: pair_start,
        },
        end,
    ))
}

/// Decodes `%XX` escapes (either hex case), as in a URL-encoded PEM. `+` stays `+`: PEM's
/// base64 alphabet uses it. A `%` not followed by two hex digits is an error whose offset is
/// that `%`. Also used by the filter for Envoy's URL-encoded `connection.peer_certificate`.
pub fn percent_decode(bytes: &[u8]) -> Result<Vec<u8>, XfccError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hi = bytes.get(i + 1).copied().and_then(crate::hex::digit_value);
        let lo = bytes.get(i + 2).copied().and_then(crate::hex::digit_value);
        match (hi, lo) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => return Err(XfccError::BadPercentEncoding { offset: i }),
        }
        i += 3;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn cert(header: &str) -> Result<Option<Vec<u8>>, XfccError> {
        last_element_cert(header)
    }

    fn some(s: &str) -> Result<Option<Vec<u8>>, XfccError> {
        Ok(Some(s.as_bytes().to_vec()))
    }

    const PEM_ENCODED: &str =
        "-----BEGIN%20CERTIFICATE-----%0AMIIB+ab/c==%0A-----END%20CERTIFICATE-----%0A";
    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB+ab/c==\n-----END CERTIFICATE-----\n";

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn envoy_element_with_every_key() {
        let header = format!(
            "By=spiffe://example.org/ns/edge;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;\
             Cert=\"{PEM_ENCODED}\";Subject=\"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client\";\
             URI=spiffe://example.org/ns/billing;DNS=client.example.org"
        );
        assert_eq!(cert(&header), some(PEM));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unquoted_cert_keeps_plus_and_padding() {
        assert_eq!(cert(&format!("Hash=ab;Cert={PEM_ENCODED}")), some(PEM));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn last_element_wins() {
        let header = "Cert=first, By=x;Cert=second";
        assert_eq!(cert(header), some("second"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn last_element_without_cert_gives_none() {
        assert_eq!(cert("Cert=first,By=spiffe://x;Hash=ab"), Ok(None));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn quoted_comma_and_semicolon_do_not_split() {
        // A naive split on `,` would make `Cert=evil` the last element.
        let header = "Cert=real;Subject=\"CN=a,Cert=evil\"";
        assert_eq!(cert(header), some("real"));
        let header = "Cert=real;Subject=\"CN=a;Cert=evil\"";
        assert_eq!(cert(header), some("real"));
        let header = "Subject=\"O=x, Cert=evil\"";
        assert_eq!(cert(header), Ok(None));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn escaped_quote_does_not_close_the_value() {
        let header = "Subject=\"CN=\\\",Cert=evil\";Cert=real";
        assert_eq!(cert(header), some("real"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn quoted_cert_escapes_are_resolved() {
        assert_eq!(cert("Cert=\"a\\\"b\\\\c\\,d\""), some("a\"b\\c\\,d"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keys_compare_case_insensitively() {
        assert_eq!(cert("by=x;cert=abc"), some("abc"));
        assert_eq!(cert("CERT=abc"), some("abc"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn whitespace_around_elements_pairs_and_values_is_ignored() {
        assert_eq!(cert("Cert=a , \tBy=x ; Cert = \"b\" "), some("b"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn joined_instances_use_the_last_element() {
        let joined = ["By=a;Cert=one", "By=b;Cert=two"].join(",");
        assert_eq!(cert(&joined), some("two"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn blank_header_has_no_cert() {
        assert_eq!(cert(""), Ok(None));
        assert_eq!(cert("  \t"), Ok(None));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn equals_inside_unquoted_value_is_kept() {
        assert_eq!(cert("Cert=a=b=="), some("a=b=="));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn percent_decoding_accepts_both_cases() {
        assert_eq!(cert("Cert=%2b%2B%0a%3D"), some("++\n="));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn empty_cert_value_is_empty_bytes() {
        assert_eq!(cert("Cert=;By=x"), Ok(Some(Vec::new())));
        assert_eq!(cert("Cert=\"\""), Ok(Some(Vec::new())));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unterminated_quote_is_rejected() {
        assert_eq!(
            cert("By=x;Cert=\"abc"),
            Err(XfccError::UnterminatedQuote { offset: 10 })
        );
        assert_eq!(
            cert("Cert=\"abc\\\""),
            Err(XfccError::UnterminatedQuote { offset: 5 })
        );
        assert_eq!(
            cert("Cert=\"abc\\"),
            Err(XfccError::UnterminatedQuote { offset: 5 })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn stray_quotes_are_rejected() {
        assert_eq!(
            cert("Cert=ab\"c\""),
            Err(XfccError::UnexpectedQuote { offset: 7 })
        );
        assert_eq!(
            cert("\"Cert\"=abc"),
            Err(XfccError::UnexpectedQuote { offset: 0 })
        );
        assert_eq!(
            cert("Cert=\"abc\"def"),
            Err(XfccError::TextAfterQuote { offset: 10 })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn garbage_is_rejected() {
        assert_eq!(cert("garbage"), Err(XfccError::MalformedPair { offset: 0 }));
        assert_eq!(
            cert("Cert=a;garbage"),
            Err(XfccError::MalformedPair { offset: 7 })
        );
        assert_eq!(cert("=abc"), Err(XfccError::MalformedPair { offset: 0 }));
        assert_eq!(
            cert("Cert=a;;By=b"),
            Err(XfccError::MalformedPair { offset: 7 })
        );
        assert_eq!(cert("Cert=a;"), Err(XfccError::MalformedPair { offset: 7 }));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn empty_elements_are_rejected() {
        assert_eq!(
            cert("Cert=a,,Cert=b"),
            Err(XfccError::EmptyElement { offset: 7 })
        );
        assert_eq!(cert("Cert=a,"), Err(XfccError::EmptyElement { offset: 7 }));
        assert_eq!(cert(",Cert=a"), Err(XfccError::EmptyElement { offset: 0 }));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_malformed_earlier_element_rejects_the_header() {
        assert_eq!(
            cert("Subject=\"x;Cert=good"),
            Err(XfccError::UnterminatedQuote { offset: 8 })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn duplicate_cert_in_last_element_is_rejected() {
        assert_eq!(
            cert("Cert=a;Cert=b"),
            Err(XfccError::DuplicateCert { offset: 7 })
        );
        // Duplicates in earlier elements do not matter: they are not used.
        assert_eq!(cert("Cert=a;Cert=b,Cert=c"), some("c"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_percent_encoding_is_rejected() {
        assert_eq!(
            cert("Cert=ab%zz"),
            Err(XfccError::BadPercentEncoding { offset: 2 })
        );
        assert_eq!(
            cert("Cert=ab%4"),
            Err(XfccError::BadPercentEncoding { offset: 2 })
        );
        assert_eq!(
            cert("Cert=%"),
            Err(XfccError::BadPercentEncoding { offset: 0 })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn percent_decode_is_public_for_envoy_pem() {
        assert_eq!(percent_decode(b"a%20b+c%0a"), Ok(b"a b+c\n".to_vec()));
        assert_eq!(
            percent_decode(b"ab%g0"),
            Err(XfccError::BadPercentEncoding { offset: 2 })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn oversized_header_is_rejected_before_parsing() {
        let header = "a".repeat(MAX_XFCC_LEN + 1);
        assert_eq!(
            cert(&header),
            Err(XfccError::TooLarge {
                len: MAX_XFCC_LEN + 1,
                max: MAX_XFCC_LEN
            })
        );
        let at_cap = format!("Cert={}", "a".repeat(MAX_XFCC_LEN - 5));
        assert_eq!(
            cert(&at_cap).map(|c| c.map(|v| v.len())),
            Ok(Some(MAX_XFCC_LEN - 5))
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn non_ascii_values_pass_through() {
        assert_eq!(cert("Subject=\"CN=Zoë\";Cert=%C3%A9"), some("é"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn errors_map_to_cert_errors() {
        assert_eq!(
            CertError::from(XfccError::TooLarge { len: 9, max: 8 }).reason_code(),
            "certificate_too_large"
        );
        let err = CertError::from(XfccError::UnterminatedQuote { offset: 3 });
        assert_eq!(err.reason_code(), "certificate_parse_error");
        assert_eq!(
            err.to_string(),
            "certificate field x-forwarded-client-cert is invalid: \
             x-forwarded-client-cert: quote at byte 3 is never closed"
        );
    }
}
