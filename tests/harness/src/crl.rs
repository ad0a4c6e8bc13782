//! The large CRL the tests and benchmarks use, built when they run instead of committed (it
//! is ~5 MB at 100,000 entries): deterministic bytes, signed by the Ed25519 fixture CA
//! `crl/ca-ed25519`, whose key is derived from its name exactly as gen_crls.py does
//! (`SHA-256("mtls-authz test fixture key v1:" || name)` is the Ed25519 seed).
//!
//! Each entry looks like a real CA's: a 16-octet serial, a UTCTime revocation date and a
//! reasonCode extension (keyCompromise).

#![allow(
    clippy::indexing_slicing,
    reason = "test support: offsets into a buffer whose layout is computed just above"
)]

use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

/// The fixture CA that signs [`large_crl`] (`certs/crl/ca-ed25519.pem`).
pub const LARGE_CRL_ISSUER: &str = "crl/ca-ed25519";
/// thisUpdate of [`large_crl`]: 2026-11-20T00:00:00Z.
pub const LARGE_CRL_THIS_UPDATE: &str = "261120000000Z";
/// nextUpdate of [`large_crl`]: 2026-11-27T00:00:00Z.
pub const LARGE_CRL_NEXT_UPDATE: &str = "261127000000Z";
/// cRLNumber of [`large_crl`].
pub const LARGE_CRL_NUMBER: u8 = 7;

const KEY_SEED: &[u8] = b"mtls-authz test fixture key v1:";

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let octets: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|octet| *octet == 0)
            .collect();
        out.push(0x80 | octets.len() as u8);
        out.extend(octets);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// The 16-octet serial of entry `index` (splitmix64, top bit clear so the INTEGER needs no
/// sign octet, first octet non-zero so it is minimal).
pub fn large_crl_serial(index: u64) -> [u8; 16] {
    let mut state = index
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(0x1234_5678);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut serial = [0u8; 16];
    serial[..8].copy_from_slice(&next().to_be_bytes());
    serial[8..].copy_from_slice(&next().to_be_bytes());
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

/// The identity-form serial (lowercase hex) of entry `index`.
pub fn large_crl_serial_hex(index: u64) -> String {
    large_crl_serial(index)
        .iter()
        .map(|octet| format!("{octet:02x}"))
        .collect()
}

/// The Ed25519 signing key of a fixture CA created with `key_type="ed25519"`.
pub fn ed25519_fixture_key(name: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(KEY_SEED)
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    SigningKey::from_bytes(&seed)
}

/// A DER CRL of `crl/ca-ed25519` with `entries` revoked serials ([`large_crl_serial`] of
/// 0..entries), number [`LARGE_CRL_NUMBER`], valid 2026-11-20..2026-11-27 (the fixtures'
/// default request time is inside). No authorityKeyIdentifier (optional; the name and the
/// signature decide).
///
/// Written into one allocation of the exact final size (every entry has the same length), so
/// building it leaves no freed memory behind that a memory measurement of the parser could
/// reuse.
pub fn large_crl(entries: u64) -> Vec<u8> {
    // Name: O=Example CRL Test, CN=Example Ed25519 CRL CA (UTF8String, as gen_certs.py writes it).
    let organization = seq(&[
        &[0x06, 0x03, 0x55, 0x04, 0x0a],
        &tlv(0x0c, b"Example CRL Test"),
    ]);
    let common_name = seq(&[
        &[0x06, 0x03, 0x55, 0x04, 0x03],
        &tlv(0x0c, b"Example Ed25519 CRL CA"),
    ]);
    let issuer = seq(&[&tlv(0x31, &organization), &tlv(0x31, &common_name)]);
    let algorithm = seq(&[&[0x06, 0x03, 0x2b, 0x65, 0x70]]);
    let reason = seq(&[&seq(&[
        &[0x06, 0x03, 0x55, 0x1d, 0x15],
        &tlv(0x04, &[0x0a, 0x01, 0x01]),
    ])]);
    // Every entry: SEQUENCE { INTEGER (16 octets), UTCTime, extensions }, the serial at the
    // same offset.
    let template = seq(&[
        &tlv(0x02, &[0x01; 16]),
        &tlv(0x17, b"261119120000Z"),
        &reason,
    ]);
    let serial_offset = template.len() - 16 - 15 - reason.len();
    let count = usize::try_from(entries).unwrap_or(usize::MAX);
    let revoked_len = count * template.len();
    let revoked_header = header(0x30, revoked_len);
    let crl_number = seq(&[
        &[0x06, 0x03, 0x55, 0x1d, 0x14],
        &tlv(0x04, &[0x02, 0x01, LARGE_CRL_NUMBER]),
    ]);
    let extensions = tlv(0xa0, &seq(&[&crl_number]));
    let this_update = tlv(0x17, LARGE_CRL_THIS_UPDATE.as_bytes());
    let next_update = tlv(0x17, LARGE_CRL_NEXT_UPDATE.as_bytes());
    let version = [0x02, 0x01, 0x01];
    let tbs_content_len = version.len()
        + algorithm.len()
        + issuer.len()
        + this_update.len()
        + next_update.len()
        + revoked_header.len()
        + revoked_len
        + extensions.len();
    let tbs_header = header(0x30, tbs_content_len);
    let tbs_len = tbs_header.len() + tbs_content_len;
    let signature_len = 2 + 1 + 64; // BIT STRING header, no unused bits, Ed25519 signature
    let outer_content_len = tbs_len + algorithm.len() + signature_len;
    let outer_header = header(0x30, outer_content_len);

    let mut out = Vec::with_capacity(outer_header.len() + outer_content_len);
    out.extend_from_slice(&outer_header);
    let tbs_start = out.len();
    for part in [
        &tbs_header[..],
        &version,
        &algorithm,
        &issuer,
        &this_update,
        &next_update,
        &revoked_header,
    ] {
        out.extend_from_slice(part);
    }
    for index in 0..entries {
        let start = out.len();
        out.extend_from_slice(&template);
        out[start + serial_offset..start + serial_offset + 16]
            .copy_from_slice(&large_crl_serial(index));
    }
    out.extend_from_slice(&extensions);
    let signature = ed25519_fixture_key(LARGE_CRL_ISSUER)
        .sign(&out[tbs_start..])
        .to_bytes();
    out.extend_from_slice(&algorithm);
    out.extend_from_slice(&[0x03, 0x41, 0x00]);
    out.extend_from_slice(&signature);
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// A DER header (tag and length) for `len` content octets.
fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = tlv(tag, &[]);
    out.truncate(1);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let octets: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|octet| *octet == 0)
            .collect();
        out.push(0x80 | octets.len() as u8);
        out.extend(octets);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_distinct_and_minimal() {
        let serials: std::collections::HashSet<_> = (0..10_000).map(large_crl_serial).collect();
        assert_eq!(serials.len(), 10_000);
        assert!(serials.iter().all(|s| s[0] != 0 && s[0] & 0x80 == 0));
    }

    #[test]
    fn entries_are_where_they_should_be() {
        let one = large_crl(1);
        let serial = large_crl_serial(0);
        assert!(one
            .windows(18)
            .any(|w| w[..2] == [0x02, 0x10] && w[2..] == serial));
        assert_eq!(large_crl(3000).len() - large_crl(2000).len(), 1000 * 49);
    }

    #[test]
    fn same_bytes_every_time() {
        assert_eq!(large_crl(100), large_crl(100));
        assert_eq!(large_crl(0).len(), large_crl(0).len());
    }
}
