//! PEM (RFC 7468) armour around exactly one `CERTIFICATE`.
//!
//! Tolerated: whitespace around the block and explanatory text before it (OpenSSL's
//! `Bag Attributes`, `subject=`/`issuer=` lines, comments), as RFC 7468 §5.2 allows.
//! Rejected: a second `-----BEGIN` anywhere ([`CertError::MultiplePem`]), any label other
//! than `CERTIFICATE` (including `TRUSTED CERTIFICATE`, which carries OpenSSL trust data),
//! PEM headers (`Proc-Type:`), text after the END line, and bad base64. Base64 lines may be
//! wrapped at any fixed width (64 is usual; some tools use 76).
//!
//! Two decoders, one behaviour. `pem-rfc7468` defines what is accepted and every error
//! message, but its base64 decoder is constant-time (built for private keys) and was over
//! half the cost of parsing a certificate. A certificate is public, so the shape every proxy
//! emits (no preamble, `CERTIFICATE` armour, LF or CRLF lines of one width that is a multiple
//! of 4) is decoded by [`decode_canonical`] with the `base64` crate. It accepts a strict
//! subset of what `pem-rfc7468` accepts and yields the same bytes (tests check both); any
//! other input, and any input it cannot decode, goes to `pem-rfc7468`, whose answer is final.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::identity::{CertError, MAX_CERT_PEM_LEN};

const BEGIN: &[u8] = b"-----BEGIN";
const CERTIFICATE_LABEL: &str = "CERTIFICATE";
const CANONICAL_HEADER: &[u8] = b"-----BEGIN CERTIFICATE-----";
const CANONICAL_FOOTER: &[u8] = b"-----END CERTIFICATE-----";

/// The DER inside a PEM `CERTIFICATE` block.
pub(crate) fn certificate_der(text: &[u8]) -> Result<Vec<u8>, CertError> {
    if text.len() > MAX_CERT_PEM_LEN {
        return Err(CertError::TooLarge {
            len: text.len(),
            max: MAX_CERT_PEM_LEN,
        });
    }
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(CertError::Empty);
    }
    if let Some(der) = decode_canonical(text) {
        return Ok(der);
    }
    match count_begin_markers(text) {
        0 => Err(CertError::Pem("no `-----BEGIN` line".to_string())),
        1 => decode_strict(text),
        _ => Err(CertError::MultiplePem),
    }
}

/// How many times `-----BEGIN` occurs in `text` (occurrences cannot overlap). Scans for
/// `-`, which base64 never contains, instead of comparing a window at every offset.
fn count_begin_markers(text: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = text;
    while let Some(dash) = rest.iter().position(|b| *b == b'-') {
        let candidate = rest.get(dash..).unwrap_or_default();
        if candidate.starts_with(BEGIN) {
            count += 1;
            rest = candidate.get(BEGIN.len()..).unwrap_or_default();
        } else {
            rest = candidate.get(1..).unwrap_or_default();
        }
    }
    count
}

/// Whether `text` holds more than one `-----BEGIN` line: a certificate file with a chain.
pub(crate) fn has_several_blocks(text: &[u8]) -> bool {
    count_begin_markers(text) > 1
}

/// The PEM blocks of `text` in order, each from its `-----BEGIN` to the end of the first
/// `-----END ...-----` line after it (or to the end of the text, for the decoder to report).
/// Text between blocks is dropped: explanatory text, as RFC 7468 §5.2 allows and as
/// `openssl s_client -showcerts` writes it.
pub(crate) fn blocks(text: &[u8]) -> Vec<&[u8]> {
    const END: &[u8] = b"-----END";
    const DASHES: &[u8] = b"-----";
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(begin) = find(rest, BEGIN) {
        let block = rest.get(begin..).unwrap_or_default();
        let end = find(block, END)
            .and_then(|at| {
                let after = at + END.len();
                let closing = find(block.get(after..)?, DASHES)?;
                Some(after + closing + DASHES.len())
            })
            .unwrap_or(block.len());
        let (this, tail) = block.split_at(end.min(block.len()));
        out.push(this);
        rest = tail;
    }
    out
}

/// The fast path: decodes `text` (already trimmed) when it has the canonical shape, else
/// `None`. Never accepts what [`decode_strict`] rejects, never yields different bytes.
///
/// Accepting implies exactly one `-----BEGIN`: the header has one, the footer none, and every
/// other byte is base64 or a line break.
fn decode_canonical(text: &[u8]) -> Option<Vec<u8>> {
    decode_canonical_block(text, CANONICAL_HEADER, CANONICAL_FOOTER)
}

/// [`decode_canonical`] for any armour: `header` and `footer` are the whole BEGIN/END lines.
/// Inlined so the certificate path keeps its constant armour (109 bytes of .wasm otherwise).
#[inline(always)]
fn decode_canonical_block(text: &[u8], header: &[u8], footer: &[u8]) -> Option<Vec<u8>> {
    let inner = text.strip_prefix(header)?.strip_suffix(footer)?;
    // `inner` is EOL, then lines each followed by EOL; the first EOL fixes the style.
    let (eol, body): (&[u8], &[u8]) = match inner.strip_prefix(b"\r\n") {
        Some(body) => (b"\r\n", body),
        None => (b"\n", inner.strip_prefix(b"\n")?),
    };
    let width = body.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    if width == 0 || width % 4 != 0 {
        return None;
    }
    // Every line but the last is exactly `width` characters; the last is 1..=width. Line
    // contents are not inspected here: a stray CR, LF or `=` fails the base64 decode.
    let stride = width + eol.len();
    let mut base64 = Vec::with_capacity(body.len());
    let mut rest = body;
    while rest.len() > stride {
        let (line, tail) = rest.split_at_checked(stride)?;
        let (characters, ending) = line.split_at_checked(width)?;
        if ending != eol {
            return None;
        }
        base64.extend_from_slice(characters);
        rest = tail;
    }
    let last = rest.strip_suffix(eol)?;
    if last.is_empty() {
        return None;
    }
    base64.extend_from_slice(last);
    // STANDARD requires canonical padding and zero trailing bits, like pem-rfc7468.
    STANDARD.decode(&base64).ok()
}

/// The reference decoder (`pem-rfc7468`): any PEM the fast path does not take, and the
/// source of every PEM error message.
fn decode_strict(text: &[u8]) -> Result<Vec<u8>, CertError> {
    let mut decoder =
        pem_rfc7468::Decoder::new_detect_wrap(text).map_err(|e| CertError::Pem(e.to_string()))?;
    let label = decoder.type_label();
    if label != CERTIFICATE_LABEL {
        return Err(CertError::Pem(format!(
            "label is `{label}`, expected `{CERTIFICATE_LABEL}`"
        )));
    }
    let mut der = Vec::new();
    decoder
        .decode_to_end(&mut der)
        .map_err(|e| CertError::Pem(e.to_string()))?;
    Ok(der)
}

/// The DER inside exactly one PEM block labelled `label` (`X509 CRL`), with the rules and
/// the two decoders certificates use; errors are `pem-rfc7468`'s messages (or ours for the
/// label and block count). The caller bounds the text's length.
pub(crate) fn single_block_der(text: &[u8], label: &str) -> Result<Vec<u8>, alloc::string::String> {
    let text = text.trim_ascii();
    let header = format!("-----BEGIN {label}-----");
    let footer = format!("-----END {label}-----");
    if let Some(der) = decode_canonical_block(text, header.as_bytes(), footer.as_bytes()) {
        return Ok(der);
    }
    match count_begin_markers(text) {
        0 => return Err("no `-----BEGIN` line".to_string()),
        1 => {}
        count => return Err(format!("{count} PEM blocks; expected one `{label}`")),
    }
    let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(text).map_err(|e| e.to_string())?;
    let found = decoder.type_label();
    if found != label {
        return Err(format!("label is `{found}`, expected `{label}`"));
    }
    let mut der = Vec::new();
    decoder.decode_to_end(&mut der).map_err(|e| e.to_string())?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    const FULL_PEM: &[u8] = include_bytes!("../../testdata/identity/full.pem");

    /// DER of every length class the last base64 line can end in (no padding, `=`, `==`).
    fn ders() -> Vec<Vec<u8>> {
        let full = decode_strict(FULL_PEM.trim_ascii()).unwrap();
        let mut out = vec![full.clone()];
        for cut in 1..=5 {
            out.push(full.get(..full.len() - cut).unwrap().to_vec());
        }
        out.push(vec![0x30]);
        out.push(vec![0x30, 0x00]);
        out
    }

    fn pem(der: &[u8], width: usize, eol: &str) -> String {
        let mut buf = vec![0u8; 8192];
        let ending = match eol {
            "\r\n" => pem_rfc7468::LineEnding::CRLF,
            _ => pem_rfc7468::LineEnding::LF,
        };
        let mut encoder =
            pem_rfc7468::Encoder::new_wrapped("CERTIFICATE", width, ending, &mut buf).unwrap();
        encoder.encode(der).unwrap();
        let len = encoder.finish().unwrap();
        String::from_utf8(buf.get(..len).unwrap().to_vec()).unwrap()
    }

    /// The fast path never accepts what the reference rejects and never decodes differently.
    fn assert_subset(text: &[u8]) {
        let text = text.trim_ascii();
        if let Some(fast) = decode_canonical(text) {
            assert_eq!(
                decode_strict(text),
                Ok(fast),
                "fast path disagrees on {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_path_takes_canonical_pem_at_common_widths_and_line_endings() {
        for der in ders() {
            for width in [64, 76, 4, 8, 128] {
                for eol in ["\n", "\r\n"] {
                    let text = pem(&der, width, eol);
                    let trimmed = text.as_bytes().trim_ascii();
                    assert_eq!(
                        decode_canonical(trimmed).as_deref(),
                        Some(der.as_slice()),
                        "width {width} eol {eol:?} len {}",
                        der.len()
                    );
                    assert_eq!(certificate_der(text.as_bytes()).unwrap(), der);
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_path_leaves_other_shapes_to_the_reference_decoder() {
        let der = decode_strict(FULL_PEM.trim_ascii()).unwrap();
        let text = pem(&der, 64, "\n");
        // Widths that are not a multiple of 4 still decode, through the reference path.
        let odd = pem(&der, 65, "\n");
        assert_eq!(decode_canonical(odd.as_bytes().trim_ascii()), None);
        assert_eq!(certificate_der(odd.as_bytes()).unwrap(), der);
        // Explanatory text before the block.
        let bag = format!("Bag Attributes\n{text}");
        assert_eq!(decode_canonical(bag.as_bytes().trim_ascii()), None);
        assert_eq!(certificate_der(bag.as_bytes()).unwrap(), der);
        // Mixed line endings, a first line longer than the rest, no EOL before END.
        for broken in [
            text.replacen('\n', "\r\n", 2),
            text.replacen("\n", "", 2).replacen(
                "-----BEGIN CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----\n",
                1,
            ),
            text.replace("\n-----END", "-----END"),
        ] {
            assert_eq!(
                decode_canonical(broken.as_bytes().trim_ascii()),
                None,
                "{broken}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_path_is_a_subset_of_the_reference_under_single_byte_mutations() {
        let der = decode_strict(FULL_PEM.trim_ascii()).unwrap();
        for eol in ["\n", "\r\n"] {
            let text = pem(&der, 64, eol).into_bytes();
            for position in 0..text.len() {
                for replacement in [b'A', b'=', b'\n', b'\r', b'-', b' ', b'+', b'/', b'z'] {
                    let mut mutated = text.clone();
                    if let Some(byte) = mutated.get_mut(position) {
                        *byte = replacement;
                    }
                    assert_subset(&mutated);
                }
                let mut removed = text.clone();
                removed.remove(position);
                assert_subset(&removed);
                let mut inserted = text.clone();
                inserted.insert(position, b'\n');
                assert_subset(&inserted);
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn non_canonical_base64_is_left_to_the_reference_and_rejected() {
        let der = decode_strict(FULL_PEM.trim_ascii()).unwrap();
        // A length of 3k+1 ends in `xx==`; set the unused low bits of the second digit.
        let short = der.get(..der.len() - (der.len() + 2) % 3).unwrap().to_vec();
        assert_eq!(short.len() % 3, 1);
        let text = pem(&short, 64, "\n");
        let last_group = text.find("==\n").unwrap();
        let mut bytes = text.into_bytes();
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let digit = bytes.get_mut(last_group - 1).unwrap();
        let value = ALPHABET.iter().position(|a| a == digit).unwrap();
        assert_eq!(value & 0x0f, 0, "unused bits are zero in canonical base64");
        *digit = *ALPHABET.get(value | 1).unwrap();
        assert_eq!(decode_canonical(bytes.trim_ascii()), None);
        assert!(matches!(certificate_der(&bytes), Err(CertError::Pem(_))));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn counts_begin_markers_anywhere() {
        assert_eq!(count_begin_markers(b""), 0);
        assert_eq!(count_begin_markers(b"-----BEGIN"), 1);
        assert_eq!(
            count_begin_markers(b"----------BEGIN-----BEGIN x -BEGIN"),
            2
        );
        assert_eq!(count_begin_markers(b"x-----BEGIN CERT-----END-----BEGI"), 1);
    }
}
