//! ECDSA signature malleability and fingerprint revocation.
//!
//! An ECDSA signature `(r, s)` has a twin `(r, n - s)` (n = the curve order) that verifies
//! just as well, so anyone holding a certificate can re-encode it into a second, validly
//! signed DER with a different SHA-256 fingerprint. A fingerprint revocation list that only
//! compared the presented DER would let a revoked ECDSA-signed certificate back in through its
//! twin, so the identity also carries the twin's fingerprint and revocation checks both.
//!
//! The issuer's curve is not in the certificate; we take the smallest of P-256 / P-384 / P-521
//! whose order is at least as long as `r` and `s`. A wrong guess needs both values of a larger
//! curve's signature to start with 16 or more zero octets (probability about 2^-128), so one
//! extra hash per parsed certificate covers the curves CAs use.

use alloc::vec::Vec;

use der::asn1::{BitStringRef, UintRef};
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag};
use sha2::{Digest, Sha256};

/// Prefix of the DER content of every `ecdsa-with-*` signature OID (1.2.840.10045.4).
const ECDSA_SIGNATURE_OID_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];

const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];
const P521_ORDER: [u8; 66] = [
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
    0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
    0x64, 0x09,
];

/// SHA-256 of the certificate re-encoded with the twin signature `(r, n - s)`, or `None` when
/// the signature is not ECDSA or not a well-formed `(r, s)` below a known curve order.
///
/// `tbs`, `algorithm` are the complete TLVs of `tbsCertificate` and `signatureAlgorithm`,
/// `signature` the `signatureValue` BIT STRING, all from the certificate already parsed.
pub(super) fn twin_fingerprint(
    tbs: &[u8],
    algorithm: &[u8],
    algorithm_oid: &[u8],
    signature: &BitStringRef<'_>,
) -> Option<[u8; 32]> {
    if !algorithm_oid.starts_with(ECDSA_SIGNATURE_OID_PREFIX) {
        return None;
    }
    let (r, s) = signature_values(signature.as_bytes()?)?;
    let order = curve_order(r.len().max(s.len()))?;
    if !less_than(r, order) || !less_than(s, order) || s.is_empty() {
        return None;
    }
    let twin_s = subtract(order, s);
    let twin_signature = encode_signature(r, &twin_s)?;

    // BIT STRING { 0 unused bits, SEQUENCE { r, n - s } }
    let bit_string_len = Length::try_from(twin_signature.len().checked_add(1)?).ok()?;
    let bit_string_header = header_bytes(Tag::BitString, bit_string_len)?;
    let body_len = tbs
        .len()
        .checked_add(algorithm.len())?
        .checked_add(bit_string_header.len())?
        .checked_add(1)?
        .checked_add(twin_signature.len())?;
    let certificate_header = header_bytes(Tag::Sequence, Length::try_from(body_len).ok()?)?;

    let mut hasher = Sha256::new();
    hasher.update(&certificate_header);
    hasher.update(tbs);
    hasher.update(algorithm);
    hasher.update(&bit_string_header);
    hasher.update([0u8]);
    hasher.update(&twin_signature);
    Some(hasher.finalize().into())
}

/// `r` and `s` of `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` as minimal unsigned
/// big-endian octets (no leading zeros); `None` unless strict DER with nothing after it.
fn signature_values(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut outer = SliceReader::new(der).ok()?;
    let header = Header::decode(&mut outer).ok()?;
    if header.tag() != Tag::Sequence {
        return None;
    }
    let content = outer.read_slice(header.length()).ok()?;
    if !outer.is_finished() {
        return None;
    }
    let mut reader = SliceReader::new(content).ok()?;
    let r = UintRef::decode(&mut reader).ok()?;
    let s = UintRef::decode(&mut reader).ok()?;
    if !reader.is_finished() {
        return None;
    }
    Some((strip_zeros(r.as_bytes()), strip_zeros(s.as_bytes())))
}

fn curve_order(len: usize) -> Option<&'static [u8]> {
    match len {
        0..=32 => Some(&P256_ORDER),
        33..=48 => Some(&P384_ORDER),
        49..=66 => Some(&P521_ORDER),
        _ => None,
    }
}

fn strip_zeros(mut octets: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = octets {
        octets = rest;
    }
    octets
}

/// `a < b` for minimal unsigned big-endian integers.
fn less_than(a: &[u8], b: &[u8]) -> bool {
    a.len() < b.len() || (a.len() == b.len() && a < b)
}

/// `a - b` for big-endian integers with `b < a`, as minimal unsigned octets.
fn subtract(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![0u8; a.len()];
    let mut borrow = 0u16;
    for (i, slot) in out.iter_mut().enumerate().rev() {
        let offset = a.len() - 1 - i;
        let ai = u16::from(a.get(i).copied().unwrap_or(0));
        let bi = b
            .len()
            .checked_sub(offset + 1)
            .and_then(|j| b.get(j))
            .copied()
            .map_or(0, u16::from);
        let diff = (ai + 0x100).wrapping_sub(bi + borrow);
        *slot = u8::try_from(diff & 0xff).unwrap_or(0);
        borrow = u16::from(diff < 0x100);
    }
    let leading = out.iter().take_while(|b| **b == 0).count();
    out.drain(..leading);
    out
}

/// DER of `SEQUENCE { INTEGER r, INTEGER s }` from unsigned octets.
fn encode_signature(r: &[u8], s: &[u8]) -> Option<Vec<u8>> {
    let r = UintRef::new(r).ok()?;
    let s = UintRef::new(s).ok()?;
    let content_len = (r.encoded_len().ok()? + s.encoded_len().ok()?).ok()?;
    let mut out = header_bytes(Tag::Sequence, content_len)?;
    r.encode_to_vec(&mut out).ok()?;
    s.encode_to_vec(&mut out).ok()?;
    Some(out)
}

fn header_bytes(tag: Tag, length: Length) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(6);
    Header::new(tag, length).encode_to_vec(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn subtract_borrows_across_octets() {
        assert_eq!(subtract(&[0x01, 0x00, 0x00], &[0x01]), [0xff, 0xff]);
        assert_eq!(subtract(&P256_ORDER, &[0x01]).last(), Some(&0x50));
        assert_eq!(subtract(&[0x05], &[0x05]), [] as [u8; 0]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn twin_of_the_twin_is_the_original() {
        let s = [0x12, 0x34, 0x56];
        let twin = subtract(&P256_ORDER, &s);
        assert_eq!(subtract(&P256_ORDER, &twin), s);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn curve_is_chosen_by_value_length() {
        assert_eq!(curve_order(32).map(<[u8]>::len), Some(32));
        assert_eq!(curve_order(33).map(<[u8]>::len), Some(48));
        assert_eq!(curve_order(66).map(<[u8]>::len), Some(66));
        assert_eq!(curve_order(67), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn malformed_signatures_have_no_twin() {
        assert_eq!(signature_values(&[]), None);
        assert_eq!(signature_values(&[0x30, 0x03, 0x02, 0x01, 0x01]), None); // s missing
        assert_eq!(
            signature_values(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00]),
            None
        ); // trailing byte
        assert_eq!(
            signature_values(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]),
            Some((&[0x01][..], &[0x02][..]))
        );
    }
}
