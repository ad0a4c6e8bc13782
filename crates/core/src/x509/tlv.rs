//! A strict DER tag-length-value splitter for attribute and extension values.
//!
//! `der` only reads the universal tags it has types for; `UniversalString` (28) and
//! `GraphicString` (25), for instance, make its header reader fail. Attribute values are
//! `ANY`, so we split those few TLVs ourselves, with DER's rules: definite, minimally
//! encoded lengths and no bytes after the value.

/// One TLV: its first identifier octet and its content octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tlv<'a> {
    /// First identifier octet: class (bits 8–7), constructed (bit 6), tag number (bits 5–1,
    /// `0x1f` for the multi-octet form).
    pub(super) identifier: u8,
    /// Content octets.
    pub(super) content: &'a [u8],
}

/// Longest length field we accept: 4 octets already exceeds any certificate we parse.
const MAX_LENGTH_OCTETS: usize = 4;
/// Most subsequent octets of a multi-octet tag number (28 bits is plenty for any real tag).
const MAX_TAG_NUMBER_OCTETS: usize = 4;

/// Splits `bytes` as exactly one DER TLV.
pub(super) fn split_one(bytes: &[u8]) -> Result<Tlv<'_>, &'static str> {
    let (&identifier, mut rest) = bytes.split_first().ok_or("empty value")?;
    if identifier & 0x1f == 0x1f {
        rest = skip_high_tag_number(rest)?;
    }
    let (&first_length_octet, mut rest) = rest.split_first().ok_or("missing length")?;
    let length = match first_length_octet {
        0x80 => return Err("indefinite length is not DER"),
        short @ 0x00..=0x7f => usize::from(short),
        long => {
            let count = usize::from(long & 0x7f);
            if count > MAX_LENGTH_OCTETS {
                return Err("length field too long");
            }
            let (octets, tail) = rest.split_at_checked(count).ok_or("truncated length")?;
            rest = tail;
            if octets.first() == Some(&0) {
                return Err("length has a leading zero octet (not DER)");
            }
            let value = octets
                .iter()
                .fold(0usize, |acc, octet| (acc << 8) | usize::from(*octet));
            if value < 0x80 {
                return Err("long-form length below 128 (not DER)");
            }
            value
        }
    };
    if rest.len() < length {
        return Err("value is truncated");
    }
    if rest.len() > length {
        return Err("bytes follow the value");
    }
    Ok(Tlv {
        identifier,
        content: rest,
    })
}

/// Skips the subsequent identifier octets of a multi-octet tag number.
fn skip_high_tag_number(mut rest: &[u8]) -> Result<&[u8], &'static str> {
    if rest.first() == Some(&0x80) {
        return Err("tag number has a leading zero (not DER)");
    }
    for _ in 0..MAX_TAG_NUMBER_OCTETS {
        let (&octet, tail) = rest.split_first().ok_or("truncated tag")?;
        rest = tail;
        if octet & 0x80 == 0 {
            return Ok(rest);
        }
    }
    Err("tag number too long")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn splits_short_and_long_form() {
        assert_eq!(
            split_one(&[0x1c, 0x04, 0, 0, 0, 0x41]),
            Ok(Tlv {
                identifier: 0x1c,
                content: &[0, 0, 0, 0x41]
            })
        );
        let mut long = vec![0x0c, 0x81, 0x80];
        long.extend(core::iter::repeat_n(b'a', 0x80));
        assert_eq!(split_one(&long).unwrap().content.len(), 0x80);
        let mut two_octets = vec![0x04, 0x82, 0x01, 0x00];
        two_octets.extend(core::iter::repeat_n(0u8, 0x100));
        assert_eq!(split_one(&two_octets).unwrap().content.len(), 0x100);
        assert_eq!(split_one(&[0x05, 0x00]).unwrap().content, &[] as &[u8]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn accepts_multi_octet_tag_numbers() {
        assert_eq!(
            split_one(&[0x9f, 0x81, 0x00, 0x01, 0xaa]).unwrap().content,
            &[0xaa]
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rejects_non_der_and_broken_encodings() {
        let cases: Vec<(&[u8], &str)> = vec![
            (&[], "empty value"),
            (&[0x0c], "missing length"),
            (&[0x0c, 0x80, 0x00, 0x00], "indefinite length is not DER"),
            (
                &[0x0c, 0x81, 0x05, 1, 2, 3, 4, 5],
                "long-form length below 128 (not DER)",
            ),
            (
                &[0x0c, 0x82, 0x00, 0x80],
                "length has a leading zero octet (not DER)",
            ),
            (&[0x0c, 0x85, 1, 1, 1, 1, 1], "length field too long"),
            (&[0x0c, 0x82, 0x01], "truncated length"),
            (&[0x0c, 0x03, b'a'], "value is truncated"),
            (&[0x0c, 0x01, b'a', b'b'], "bytes follow the value"),
            (&[0x1f], "truncated tag"),
            (
                &[0x1f, 0x80, 0x01, 0x00],
                "tag number has a leading zero (not DER)",
            ),
            (
                &[0x1f, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00],
                "tag number too long",
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(split_one(bytes), Err(expected), "{bytes:02x?}");
        }
    }
}
