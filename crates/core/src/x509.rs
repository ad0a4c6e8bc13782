//! The only module that calls `x509-cert`/`der`: an upgrade of those crates touches this
//! module and its children only.
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
//! TBSCertificate ::= SEQUENCE {
//!     version [0] EXPLICIT Version DEFAULT v1, serialNumber, signature AlgorithmIdentifier,
//!     issuer Name, validity Validity, subject Name, subjectPublicKeyInfo,
//!     issuerUniqueID [1] IMPLICIT OPTIONAL, subjectUniqueID [2] IMPLICIT OPTIONAL,
//!     extensions [3] EXPLICIT Extensions OPTIONAL }
//! ```
//! We walk this structure ourselves with `der`'s reader rather than decoding
//! `x509_cert::Certificate`, because its `Name` type cannot hold every attribute string type
//! (`der` has no `UniversalString`); leaf types (serial, validity, extensions) still come
//! from `x509-cert`. Signatures are not checked: the proxy verified the chain.
//!
//! Strictness: DER everywhere `der` enforces it (minimal lengths and integers, no
//! indefinite lengths, no trailing bytes at any level), plus an explicit `version v1` is
//! rejected. One leniency inherited from `x509-cert`: a DEFAULT value written out inside an
//! extension (`critical FALSE`, `cA FALSE`) is accepted; it changes no attribute we read.

pub(crate) mod crl;
mod ecdsa_twin;
mod extensions;
mod name;
mod oid;
pub(crate) mod pem;
pub(crate) mod signature;
mod strings;
mod tlv;

use alloc::format;
use alloc::string::String;

use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Reader, SliceReader, Tag, TagMode, TagNumber, Tagged};
use sha2::{Digest, Sha256};
use x509_cert::certificate::{Rfc5280, Version};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierRef;
use x509_cert::time::Validity;

use crate::dn::DistinguishedName;
use crate::hex;
use crate::identity::{CertError, Identity, MAX_CERT_DER_LEN};
use crate::spiffe;
use crate::time::UnixTime;

/// Parses one DER certificate (strict DER, nothing after it) into an [`Identity`].
pub(crate) fn parse_certificate(der: &[u8]) -> Result<Identity, CertError> {
    if der.is_empty() {
        return Err(CertError::Empty);
    }
    if der.len() > MAX_CERT_DER_LEN {
        return Err(CertError::TooLarge {
            len: der.len(),
            max: MAX_CERT_DER_LEN,
        });
    }
    let mut reader = SliceReader::new(der).map_err(der_error("certificate"))?;
    let certificate = reader.tlv_bytes().map_err(der_error("certificate"))?;
    let extra = der.len().saturating_sub(certificate.len());
    if extra > 0 {
        return Err(CertError::TrailingData { extra });
    }

    let mut reader = SliceReader::new(sequence_content(certificate, "certificate")?)
        .map_err(der_error("certificate"))?;
    let tbs_tlv = reader.tlv_bytes().map_err(der_error("tbsCertificate"))?;
    let tbs = sequence_content(tbs_tlv, "tbsCertificate")?;
    let algorithm_tlv = reader
        .tlv_bytes()
        .map_err(der_error("signatureAlgorithm"))?;
    let algorithm =
        AlgorithmIdentifierRef::from_der(algorithm_tlv).map_err(der_error("signatureAlgorithm"))?;
    let signature = BitStringRef::decode(&mut reader).map_err(der_error("signatureValue"))?;
    if !reader.is_finished() {
        return Err(CertError::Der(
            "certificate: data after signatureValue".into(),
        ));
    }

    let fingerprints = Fingerprints {
        presented: Sha256::digest(der).into(),
        signature_twin: ecdsa_twin::twin_fingerprint(
            tbs_tlv,
            algorithm_tlv,
            algorithm.oid.as_bytes(),
            &signature,
        ),
    };
    parse_tbs(tbs, fingerprints)
}

/// SHA-256 of the DER as presented, and of its ECDSA signature twin (see [`ecdsa_twin`]).
struct Fingerprints {
    presented: [u8; 32],
    signature_twin: Option<[u8; 32]>,
}

fn parse_tbs(content: &[u8], fingerprints: Fingerprints) -> Result<Identity, CertError> {
    let mut reader = SliceReader::new(content).map_err(der_error("tbsCertificate"))?;

    let explicit_version = reader
        .context_specific::<Version>(TagNumber(0), TagMode::Explicit)
        .map_err(der_error("tbsCertificate.version"))?;
    if explicit_version == Some(Version::V1) {
        return Err(invalid(
            "tbsCertificate.version",
            "v1 is the DEFAULT and must be omitted in DER".into(),
        ));
    }
    let version = explicit_version.unwrap_or(Version::V1);

    let serial = SerialNumber::<Rfc5280>::decode(&mut reader)
        .map_err(der_error("tbsCertificate.serialNumber"))?;
    read_sequence(&mut reader, "tbsCertificate.signature")?;
    let issuer = read_sequence(&mut reader, "tbsCertificate.issuer")?;
    let validity =
        Validity::<Rfc5280>::decode(&mut reader).map_err(der_error("tbsCertificate.validity"))?;
    let subject = read_sequence(&mut reader, "tbsCertificate.subject")?;
    read_sequence(&mut reader, "tbsCertificate.subjectPublicKeyInfo")?;
    let issuer_unique_id = reader
        .context_specific::<BitStringRef<'_>>(TagNumber(1), TagMode::Implicit)
        .map_err(der_error("tbsCertificate.issuerUniqueID"))?;
    let subject_unique_id = reader
        .context_specific::<BitStringRef<'_>>(TagNumber(2), TagMode::Implicit)
        .map_err(der_error("tbsCertificate.subjectUniqueID"))?;
    let extensions = reader
        .context_specific::<alloc::vec::Vec<extensions::ExtensionRef<'_>>>(
            TagNumber(3),
            TagMode::Explicit,
        )
        .map_err(der_error("tbsCertificate.extensions"))?;
    if !reader.is_finished() {
        return Err(CertError::Der(
            "tbsCertificate: unexpected data after the last field".into(),
        ));
    }
    if version == Version::V1 && (issuer_unique_id.is_some() || subject_unique_id.is_some()) {
        return Err(invalid(
            "tbsCertificate.version",
            "unique identifiers require v2 or v3".into(),
        ));
    }
    if version != Version::V3 && extensions.is_some() {
        return Err(invalid(
            "tbsCertificate.version",
            "extensions require v3".into(),
        ));
    }

    let subject: DistinguishedName = name::parse_name(subject, "tbsCertificate.subject")?;
    let issuer = name::parse_name(issuer, "tbsCertificate.issuer")?;
    let ext = extensions::decode_extensions(extensions.as_deref().unwrap_or_default())?;
    let spiffe_id = match ext.san_uri.as_slice() {
        [only] if spiffe::is_spiffe_id(only) => Some(only.clone()),
        _ => None,
    };

    Ok(Identity {
        subject,
        issuer,
        san_dns: ext.san_dns,
        san_uri: ext.san_uri,
        san_email: ext.san_email,
        san_ip: ext.san_ip,
        spiffe_id,
        serial: serial_hex(serial.as_bytes()),
        fingerprint_sha256: fingerprints.presented,
        fingerprint_sha256_hex: hex::to_hex(&fingerprints.presented),
        fingerprint_sha256_signature_twin: fingerprints.signature_twin,
        eku: ext.eku,
        eku_present: ext.eku_present,
        extensions: ext.other,
        authority_key_id: ext.authority_key_id,
        not_before: UnixTime::from_secs(validity.not_before.to_unix_duration().as_secs()),
        not_after: UnixTime::from_secs(validity.not_after.to_unix_duration().as_secs()),
        is_ca: ext.is_ca,
    })
}

/// Lowercase hex of the INTEGER content octets with leading zero octets removed; a zero
/// serial is `0`. A negative serial (RFC 5280 forbids them, some CAs issued them) is `-` and
/// the hex of its magnitude (`ff7f`, that is -129, is `-81`): its two's-complement octets
/// would read as the positive serial with the same octets (`00 ff 7f`).
fn serial_hex(octets: &[u8]) -> String {
    if octets.first().is_some_and(|&b| b & 0x80 != 0) {
        // Magnitude = two's complement: invert every octet, add one.
        let mut magnitude: alloc::vec::Vec<u8> = octets.iter().map(|b| !b).collect();
        for byte in magnitude.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
        let mut out = String::from("-");
        out.push_str(&unsigned_hex(&magnitude));
        return out;
    }
    unsigned_hex(octets)
}

/// Lowercase hex of unsigned big-endian octets, leading zero octets removed (`0` for zero).
fn unsigned_hex(octets: &[u8]) -> String {
    let octets = serial_octets(octets);
    if octets.is_empty() {
        String::from("0")
    } else {
        hex::to_hex(octets)
    }
}

/// The serial's identity form as octets: the INTEGER content with leading zero octets removed
/// (empty for zero). [`serial_hex`] renders it; CRL revocation sets store it (`crl`).
pub(crate) fn serial_octets(mut octets: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = octets {
        octets = rest;
    }
    octets
}

/// Reads the next element, which must be a SEQUENCE, and returns its content octets.
fn read_sequence<'a>(
    reader: &mut SliceReader<'a>,
    field: &'static str,
) -> Result<&'a [u8], CertError> {
    let element = AnyRef::decode(reader).map_err(der_error(field))?;
    if element.tag() != Tag::Sequence {
        return Err(CertError::Der(format!(
            "{field}: expected a SEQUENCE, found {}",
            element.tag()
        )));
    }
    Ok(element.value())
}

/// The content octets of `tlv`, which must be exactly one SEQUENCE.
fn sequence_content<'a>(tlv: &'a [u8], field: &'static str) -> Result<&'a [u8], CertError> {
    let mut reader = SliceReader::new(tlv).map_err(der_error(field))?;
    read_sequence(&mut reader, field)
}

/// Maps a `der` error to [`CertError::Der`], naming the field it happened in.
fn der_error(field: &'static str) -> impl Fn(der::Error) -> CertError {
    move |error| CertError::Der(format!("{field}: {error}"))
}

fn invalid(field: &'static str, detail: String) -> CertError {
    CertError::Invalid { field, detail }
}

#[cfg(test)]
mod serial_tests {
    use super::serial_hex;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn negative_serials_render_apart_from_positive_ones() {
        assert_eq!(serial_hex(&[0x00, 0xff, 0x7f]), "ff7f");
        assert_eq!(serial_hex(&[0xff, 0x7f]), "-81");
        assert_eq!(serial_hex(&[0xff]), "-01");
        assert_eq!(serial_hex(&[0x80]), "-80");
        assert_eq!(serial_hex(&[0x80, 0x00]), "-8000");
        assert_eq!(serial_hex(&[0xff, 0x00]), "-0100");
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[0x01, 0xab]), "01ab");
    }
}
