//! Decoding of the ASN.1 character string types used in names and extension values.
//!
//! Choices we made (documented in docs/DECISIONS.md):
//! - `PrintableString`, `IA5String`, `VisibleString` and `NumericString` must be ASCII; their
//!   narrower X.680 alphabets are not enforced, because real CAs put `*`, `@` or `_` in
//!   PrintableStrings and the value is unambiguous either way.
//! - `TeletexString` is decoded as Latin-1 (each octet one character, U+0000–U+00FF), the
//!   practical reading of T.61 used by OpenSSL and browsers.
//! - `BMPString` is UTF-16BE: surrogate pairs are combined, an unpaired surrogate is an error.
//! - `UniversalString` is UCS-4BE; each code point must be a Unicode scalar value.
//! - Nothing is ever truncated: an embedded NUL stays in the decoded value.

use alloc::string::String;

use crate::dn::ValueEncoding;

/// Identifier octets (universal class, primitive) of the string types we decode.
const UTF8_STRING: u8 = 0x0c;
const NUMERIC_STRING: u8 = 0x12;
const PRINTABLE_STRING: u8 = 0x13;
const TELETEX_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const VISIBLE_STRING: u8 = 0x1a;
const UNIVERSAL_STRING: u8 = 0x1c;
const BMP_STRING: u8 = 0x1e;

/// The constructed bit of an identifier octet.
const CONSTRUCTED: u8 = 0x20;

/// The string type an identifier octet names, if it is one we decode (primitive or
/// constructed; a constructed string is not DER and is rejected by [`decode`]).
pub(super) fn string_encoding(identifier: u8) -> Option<ValueEncoding> {
    Some(match identifier & !CONSTRUCTED {
        UTF8_STRING => ValueEncoding::Utf8String,
        NUMERIC_STRING => ValueEncoding::NumericString,
        PRINTABLE_STRING => ValueEncoding::PrintableString,
        TELETEX_STRING => ValueEncoding::TeletexString,
        IA5_STRING => ValueEncoding::Ia5String,
        VISIBLE_STRING => ValueEncoding::VisibleString,
        UNIVERSAL_STRING => ValueEncoding::UniversalString,
        BMP_STRING => ValueEncoding::BmpString,
        _ => return None,
    })
}

/// Decodes the content octets of a string TLV whose identifier octet is `identifier`.
/// Returns `None` when the identifier is not a string type we decode.
pub(super) fn decode(
    identifier: u8,
    content: &[u8],
) -> Option<Result<(String, ValueEncoding), &'static str>> {
    let encoding = string_encoding(identifier)?;
    if identifier & CONSTRUCTED != 0 {
        return Some(Err("constructed string encoding is not DER"));
    }
    let decoded = match encoding {
        ValueEncoding::Utf8String => utf8(content),
        ValueEncoding::BmpString => bmp(content),
        ValueEncoding::UniversalString => universal(content),
        ValueEncoding::TeletexString => Ok(content.iter().copied().map(char::from).collect()),
        ValueEncoding::PrintableString
        | ValueEncoding::Ia5String
        | ValueEncoding::VisibleString
        | ValueEncoding::NumericString
        | ValueEncoding::NonString => ascii(content),
    };
    Some(decoded.map(|value| (value, encoding)))
}

/// Decodes an `IA5String` (SAN dNSName, rfc822Name, URI): ASCII only.
pub(super) fn ascii(content: &[u8]) -> Result<String, &'static str> {
    if !content.is_ascii() {
        return Err("non-ASCII octet in an ASCII string type");
    }
    utf8(content)
}

fn utf8(content: &[u8]) -> Result<String, &'static str> {
    core::str::from_utf8(content)
        .map(String::from)
        .map_err(|_| "invalid UTF-8")
}

fn bmp(content: &[u8]) -> Result<String, &'static str> {
    let units = content.chunks_exact(2);
    if !units.remainder().is_empty() {
        return Err("BMPString length is odd");
    }
    char::decode_utf16(
        units.map(|unit| unit.iter().fold(0u16, |acc, b| (acc << 8) | u16::from(*b))),
    )
    .collect::<Result<String, _>>()
    .map_err(|_| "BMPString has an unpaired surrogate")
}

fn universal(content: &[u8]) -> Result<String, &'static str> {
    let units = content.chunks_exact(4);
    if !units.remainder().is_empty() {
        return Err("UniversalString length is not a multiple of 4");
    }
    units
        .map(|unit| char::from_u32(unit.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))))
        .collect::<Option<String>>()
        .ok_or("UniversalString has a code point that is not a Unicode scalar value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(identifier: u8, content: &[u8]) -> (String, ValueEncoding) {
        decode(identifier, content).unwrap().unwrap()
    }

    fn err(identifier: u8, content: &[u8]) -> &'static str {
        decode(identifier, content).unwrap().unwrap_err()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn decodes_every_string_type() {
        assert_eq!(
            ok(0x0c, "Zoë".as_bytes()),
            ("Zoë".into(), ValueEncoding::Utf8String)
        );
        assert_eq!(
            ok(0x13, b"Admins*@_"),
            ("Admins*@_".into(), ValueEncoding::PrintableString)
        );
        assert_eq!(ok(0x16, b"a@b"), ("a@b".into(), ValueEncoding::Ia5String));
        assert_eq!(
            ok(0x1a, b"vis"),
            ("vis".into(), ValueEncoding::VisibleString)
        );
        assert_eq!(
            ok(0x12, b"0123 4"),
            ("0123 4".into(), ValueEncoding::NumericString)
        );
        assert_eq!(
            ok(0x14, &[b'Z', b'o', 0xeb]),
            ("Zoë".into(), ValueEncoding::TeletexString)
        );
        assert_eq!(
            ok(0x1e, &[0x00, b'A', 0x03, 0xa9, 0xd8, 0x3d, 0xde, 0x00]),
            ("AΩ😀".into(), ValueEncoding::BmpString)
        );
        assert_eq!(
            ok(0x1c, &[0, 0, 0, b'A', 0, 0x01, 0xf6, 0x00]),
            ("A😀".into(), ValueEncoding::UniversalString)
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keeps_embedded_nul() {
        assert_eq!(ok(0x0c, b"admin\0.evil").0, "admin\u{0}.evil");
        assert_eq!(ok(0x1e, &[0, b'a', 0, 0, 0, b'b']).0, "a\u{0}b");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rejects_malformed_strings() {
        assert_eq!(err(0x0c, &[0xc3, 0x28]), "invalid UTF-8");
        assert_eq!(
            err(0x13, &[b'a', 0xe9]),
            "non-ASCII octet in an ASCII string type"
        );
        assert_eq!(
            err(0x16, &[0x80]),
            "non-ASCII octet in an ASCII string type"
        );
        assert_eq!(err(0x1e, &[0x00, b'A', 0x00]), "BMPString length is odd");
        assert_eq!(
            err(0x1e, &[0xd8, 0x3d, 0x00, b'A']),
            "BMPString has an unpaired surrogate"
        );
        assert_eq!(
            err(0x1e, &[0xde, 0x00]),
            "BMPString has an unpaired surrogate"
        );
        assert_eq!(
            err(0x1c, &[0, 0, b'A']),
            "UniversalString length is not a multiple of 4"
        );
        assert_eq!(
            err(0x1c, &[0, 0, 0xd8, 0x00]),
            "UniversalString has a code point that is not a Unicode scalar value"
        );
        assert_eq!(
            err(0x1c, &[0, 0x11, 0, 0]),
            "UniversalString has a code point that is not a Unicode scalar value"
        );
        assert_eq!(
            err(0x2c, b"\x0c\x01a"),
            "constructed string encoding is not DER"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn other_types_are_not_strings() {
        for identifier in [0x02, 0x04, 0x05, 0x06, 0x15, 0x19, 0x1b, 0x30, 0x80] {
            assert!(decode(identifier, b"").is_none(), "{identifier:#x}");
        }
    }
}
