//! base64url without padding (RFC 7515 §2, RFC 4648 §5), strictly: the alphabet
//! `A-Z a-z 0-9 - _` and nothing else (no `=`, no `+` or `/`, no whitespace), a length that is
//! not 1 mod 4, and zero unused bits in the last character. So every byte string has exactly
//! one encoding, and a token cannot be re-spelled into another one that still verifies (which
//! would also defeat a cache keyed by the token's bytes).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decodes `text`; the error says what is wrong and where (offsets count from 0).
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, String> {
    if let Some((offset, byte)) = text
        .iter()
        .copied()
        .enumerate()
        .find(|(_, byte)| !is_alphabet(*byte))
    {
        return Err(match byte {
            b'=' => format!(
                "padding `=` at offset {offset} (base64url in a JWS has no padding, RFC 7515 §2)"
            ),
            b'+' | b'/' => format!(
                "`{}` at offset {offset} belongs to standard base64, not base64url",
                char::from(byte)
            ),
            b' ' | b'\t' | b'\r' | b'\n' => format!("whitespace at offset {offset}"),
            0x21..=0x7e => format!(
                "`{}` at offset {offset} is not a base64url character",
                char::from(byte)
            ),
            _ => format!("byte 0x{byte:02x} at offset {offset} is not a base64url character"),
        });
    }
    if text.len() % 4 == 1 {
        return Err(format!(
            "{} characters: no base64url encoding has a length of 1 mod 4",
            text.len()
        ));
    }
    URL_SAFE_NO_PAD.decode(text).map_err(|error| match error {
        base64::DecodeError::InvalidLastSymbol { offset, symbol, .. } => format!(
            "the last character `{}` (offset {offset}) has non-zero unused bits: not the canonical encoding",
            char::from(symbol)
        ),
        other => format!("{other}"),
    })
}

/// The unpadded base64url of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_alphabet(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn round_trip_and_canonical_only() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"\xfb\xff\xfe",
            b"any carnal pleas",
        ] {
            let text = encode(bytes);
            assert_eq!(decode(text.as_bytes()).unwrap(), bytes);
        }
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        // "Zg" is "f"; "Zh" decodes to the same byte with a non-zero unused bit.
        assert_eq!(decode(b"Zg").unwrap(), b"f");
        assert_eq!(
            decode(b"Zh").unwrap_err(),
            "the last character `h` (offset 1) has non-zero unused bits: not the canonical encoding"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_foreign_character_is_named() {
        assert_eq!(
            decode(b"Zg==").unwrap_err(),
            "padding `=` at offset 2 (base64url in a JWS has no padding, RFC 7515 §2)"
        );
        assert_eq!(
            decode(b"ab+c").unwrap_err(),
            "`+` at offset 2 belongs to standard base64, not base64url"
        );
        assert_eq!(
            decode(b"ab/c").unwrap_err(),
            "`/` at offset 2 belongs to standard base64, not base64url"
        );
        assert_eq!(decode(b"ab\ncd").unwrap_err(), "whitespace at offset 2");
        assert_eq!(decode(b" abc").unwrap_err(), "whitespace at offset 0");
        assert_eq!(
            decode(b"ab.c").unwrap_err(),
            "`.` at offset 2 is not a base64url character"
        );
        assert_eq!(
            decode(b"ab\x00c").unwrap_err(),
            "byte 0x00 at offset 2 is not a base64url character"
        );
        assert_eq!(
            decode(b"abcde").unwrap_err(),
            "5 characters: no base64url encoding has a length of 1 mod 4"
        );
    }
}
