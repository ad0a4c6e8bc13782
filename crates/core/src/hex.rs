//! Hex: lowercase output (the one textual form the contract uses for binary values) and the
//! digit decoder every hex reader shares (percent escapes, XFCC, fingerprints, host digests).

use alloc::string::String;
use alloc::vec::Vec;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`, two digits per octet.
pub fn to_hex(bytes: &[u8]) -> String {
    // Only ASCII digits are written, so this never falls back to the empty string.
    String::from_utf8(hex_digits(bytes)).unwrap_or_default()
}

/// Appends lowercase hex of `bytes` to `out`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    out.push_str(&to_hex(bytes));
}

/// The digits as bytes: pushing them one `char` at a time costs a UTF-8 encoding step per
/// digit, which showed in parse profiles.
fn hex_digits(bytes: &[u8]) -> Vec<u8> {
    let mut digits = Vec::with_capacity(bytes.len().saturating_mul(2));
    for byte in bytes {
        digits.push(digit(byte >> 4));
        digits.push(digit(byte & 0x0f));
    }
    digits
}

/// The value of one hex digit, either case; `None` for anything else.
pub fn digit_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The hex digit for a nibble (`0..=15`).
fn digit(nibble: u8) -> u8 {
    DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn encodes_lowercase_two_digits_per_octet() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(to_hex(&[]), "");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn decodes_digits_of_either_case_only() {
        assert_eq!(digit_value(b'0'), Some(0));
        assert_eq!(digit_value(b'a'), Some(10));
        assert_eq!(digit_value(b'F'), Some(15));
        for b in [b'g', b'G', b' ', b'/', b':', b'@', b'`', 0xff] {
            assert_eq!(digit_value(b), None, "{b}");
        }
    }
}
