//! Certificate extensions → the identity attributes policies select on.
//!
//! Decoded: subjectAltName (every dNSName, rfc822Name, URI and iPAddress; other
//! GeneralName forms are skipped), extKeyUsage, basicConstraints (cA) and
//! authorityKeyIdentifier (keyIdentifier). keyUsage and subjectKeyIdentifier carry nothing a
//! policy selects on and are left out. Every other extension is kept as (OID, value) for
//! `ext.<oid>` selectors. A repeated extension OID makes the certificate invalid
//! (RFC 5280 §4.2). Criticality is ignored: the proxy validated the chain; we only read it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::oid::AssociatedOid;
use der::{Decode, Reader, Sequence, SliceReader, Tag, Tagged};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

use super::{der_error, oid, strings, tlv};
use crate::hex;
use crate::identity::CertError;

/// `x509_cert::ext::Extension` with a borrowed value: the same derived DER decoding (so the
/// same acceptance, including the `critical FALSE` leniency), without copying every
/// extension value into its own allocation.
///
/// ```text
/// Extension ::= SEQUENCE {
///     extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(super) struct ExtensionRef<'a> {
    pub(super) extn_id: ObjectIdentifier,
    #[asn1(default = "Default::default")]
    pub(super) critical: bool,
    pub(super) extn_value: &'a OctetStringRef,
}

/// `x509_cert`'s `AuthorityKeyIdentifier` with `authorityCertIssuer` left as undecoded
/// GeneralName TLVs: the same DER structure checks (field order, tags, lengths, serial), but
/// not the GeneralName forms' content, which we never read. Decoding every form costs ~32 KB
/// of the filter's .wasm (docs/wasm-size.md); SAN entries are read the same lenient way.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(super) struct AuthorityKeyIdentifierRef<'a> {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(super) key_identifier: Option<&'a OctetStringRef>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    authority_cert_issuer: Option<Vec<AnyRef<'a>>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    authority_cert_serial_number: Option<x509_cert::serial_number::SerialNumber>,
}

/// What the extensions contribute to an [`crate::Identity`].
#[derive(Debug, Default)]
pub(super) struct ExtensionAttributes {
    pub(super) san_dns: Vec<String>,
    pub(super) san_uri: Vec<String>,
    pub(super) san_email: Vec<String>,
    pub(super) san_ip: Vec<String>,
    pub(super) eku: Vec<String>,
    pub(super) eku_present: bool,
    pub(super) is_ca: bool,
    pub(super) authority_key_id: Option<String>,
    pub(super) other: Vec<(String, String)>,
}

/// Names of the well-known extended key usages (RFC 5280 §4.2.1.12), by dotted OID.
const EKU_NAMES: &[(&str, &str)] = &[
    ("1.3.6.1.5.5.7.3.1", "serverAuth"),
    ("1.3.6.1.5.5.7.3.2", "clientAuth"),
    ("1.3.6.1.5.5.7.3.3", "codeSigning"),
    ("1.3.6.1.5.5.7.3.4", "emailProtection"),
    ("1.3.6.1.5.5.7.3.8", "timeStamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSPSigning"),
    ("2.5.29.37.0", "anyExtendedKeyUsage"),
];

const SAN_FIELD: &str = "extensions.subjectAltName";

/// Decodes every extension, in certificate order.
pub(super) fn decode_extensions(
    extensions: &[ExtensionRef<'_>],
) -> Result<ExtensionAttributes, CertError> {
    reject_duplicates(extensions)?;
    let mut attributes = ExtensionAttributes::default();
    for extension in extensions {
        let oid = extension.extn_id;
        let content = extension.extn_value.as_bytes();
        if oid == SubjectAltName::OID {
            decode_subject_alt_name(content, &mut attributes)?;
        } else if oid == ExtendedKeyUsage::OID {
            let usages =
                ExtendedKeyUsage::from_der(content).map_err(der_error("extensions.extKeyUsage"))?;
            attributes.eku_present = true;
            for usage in usages.0 {
                let dotted = oid::dotted(&usage);
                let name = EKU_NAMES
                    .iter()
                    .find(|(o, _)| *o == dotted)
                    .map(|(_, n)| *n);
                attributes.eku.push(dotted);
                if let Some(name) = name {
                    attributes.eku.push(String::from(name));
                }
            }
        } else if oid == BasicConstraints::OID {
            let constraints = BasicConstraints::from_der(content)
                .map_err(der_error("extensions.basicConstraints"))?;
            attributes.is_ca = constraints.ca;
        } else if oid == AuthorityKeyIdentifier::OID {
            let aki = AuthorityKeyIdentifierRef::from_der(content)
                .map_err(der_error("extensions.authorityKeyIdentifier"))?;
            attributes.authority_key_id = aki.key_identifier.map(|id| hex::to_hex(id.as_bytes()));
        } else if oid == KeyUsage::OID || oid == SubjectKeyIdentifier::OID {
            // Nothing a policy selects on.
        } else {
            attributes
                .other
                .push((oid::dotted(&oid), custom_value(content)));
        }
    }
    Ok(attributes)
}

/// RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular
/// extension." Sorting keeps the check O(n log n) for certificates with many extensions.
fn reject_duplicates(extensions: &[ExtensionRef<'_>]) -> Result<(), CertError> {
    let mut oids: Vec<_> = extensions.iter().map(|e| e.extn_id).collect();
    crate::sort::sort_unstable(&mut oids);
    match oids.windows(2).find_map(|pair| match pair {
        [a, b] if a == b => Some(*a),
        _ => None,
    }) {
        Some(oid) => Err(CertError::Invalid {
            field: "extensions",
            detail: format!("extension {oid} appears more than once"),
        }),
        None => Ok(()),
    }
}

/// A custom extension's value: the string when the extnValue content is exactly one DER
/// string (UTF8String, PrintableString, IA5String, BMPString...), else lowercase hex of the
/// whole extnValue content.
fn custom_value(content: &[u8]) -> String {
    tlv::split_one(content)
        .ok()
        .and_then(|value| strings::decode(value.identifier, value.content))
        .and_then(Result::ok)
        .map_or_else(|| hex::to_hex(content), |(text, _)| text)
}

/// `SubjectAltName ::= GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`, read entry
/// by entry so that forms `x509-cert` does not model (x400Address) are skipped, not fatal.
fn decode_subject_alt_name(content: &[u8], out: &mut ExtensionAttributes) -> Result<(), CertError> {
    let names = AnyRef::from_der(content).map_err(der_error(SAN_FIELD))?;
    if names.tag() != Tag::Sequence {
        return Err(invalid_san(format!("is a {}, not a SEQUENCE", names.tag())));
    }
    let mut reader = SliceReader::new(names.value()).map_err(der_error(SAN_FIELD))?;
    let mut number = 0usize;
    while !reader.is_finished() {
        number += 1;
        let name = AnyRef::decode(&mut reader).map_err(der_error(SAN_FIELD))?;
        let Tag::ContextSpecific {
            constructed,
            number: tag_number,
        } = name.tag()
        else {
            return Err(invalid_san(format!(
                "entry #{number} is a {}, not a GeneralName",
                name.tag()
            )));
        };
        let list = match tag_number.value() {
            1 => &mut out.san_email,
            2 => &mut out.san_dns,
            6 => &mut out.san_uri,
            7 => &mut out.san_ip,
            // otherName, x400Address, directoryName, ediPartyName, registeredID: not selectable.
            _ => continue,
        };
        if constructed {
            return Err(invalid_san(format!(
                "entry #{number} ([{}]) must be primitive",
                tag_number.value()
            )));
        }
        let text = if tag_number.value() == 7 {
            ip_address_text(name.value())
        } else {
            strings::ascii(name.value()).map_err(String::from)
        }
        .map_err(|detail| invalid_san(format!("entry #{number}: {detail}")))?;
        list.push(text);
    }
    Ok(())
}

/// `iPAddress`: 4 octets (IPv4, dotted quad) or 16 (IPv6, RFC 5952 text: lower case,
/// longest zero run compressed, `::ffff:a.b.c.d` for IPv4-mapped addresses).
fn ip_address_text(octets: &[u8]) -> Result<String, String> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Ok(Ipv4Addr::from(v4).to_string());
    }
    if let Ok(v6) = <[u8; 16]>::try_from(octets) {
        return Ok(Ipv6Addr::from(v6).to_string());
    }
    Err(format!(
        "iPAddress has {} octets, expected 4 or 16",
        octets.len()
    ))
}

fn invalid_san(detail: String) -> CertError {
    CertError::Invalid {
        field: SAN_FIELD,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our AKI reading accepts and rejects what `x509_cert`'s does and finds the same
    /// keyIdentifier, except for GeneralName content inside authorityCertIssuer.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn authority_key_identifier_matches_x509_cert_on_structure() {
        /// `None`: rejected; `Some(key_id)`: accepted.
        type Outcome = Option<Option<Vec<u8>>>;
        fn ours(der: &[u8]) -> Outcome {
            let aki = AuthorityKeyIdentifierRef::from_der(der).ok()?;
            Some(aki.key_identifier.map(|id| id.as_bytes().to_vec()))
        }
        fn theirs(der: &[u8]) -> Outcome {
            let aki = AuthorityKeyIdentifier::from_der(der).ok()?;
            Some(aki.key_identifier.map(|id| id.as_bytes().to_vec()))
        }
        let key_id = Some(Some(alloc::vec![1, 2, 3, 4]));
        let cases: &[(&[u8], Outcome)] = &[
            // keyIdentifier, authorityCertIssuer (one dNSName), authorityCertSerialNumber 5.
            (
                b"\x30\x0e\x80\x04\x01\x02\x03\x04\xa1\x03\x82\x01a\x82\x01\x05",
                key_id.clone(),
            ),
            (b"\x30\x06\x80\x04\x01\x02\x03\x04", key_id),
            (b"\x30\x00", Some(None)),
            // Fields out of order, trailing byte, non-minimal length, non-minimal serial,
            // an unknown field, not a SEQUENCE.
            (
                b"\x30\x0e\xa1\x03\x82\x01a\x80\x04\x01\x02\x03\x04\x82\x01\x05",
                None,
            ),
            (b"\x30\x06\x80\x04\x01\x02\x03\x04\x00", None),
            (b"\x30\x81\x06\x80\x04\x01\x02\x03\x04", None),
            (b"\x30\x04\x82\x02\x00\x05", None),
            (b"\x30\x02\x83\x00", None),
            (b"\x04\x02\x80\x00", None),
        ];
        for (der, expected) in cases {
            assert_eq!(ours(der), *expected, "{der:02x?}");
            assert_eq!(theirs(der), *expected, "{der:02x?}");
        }
        // The one difference: an x400Address (x509_cert has no type for it) inside
        // authorityCertIssuer is not an error, as in subjectAltName.
        let x400 = b"\x30\x04\xa1\x02\xa3\x00";
        assert_eq!(ours(x400), Some(None));
        assert_eq!(theirs(x400), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn ip_addresses_render_per_rfc_5952() {
        assert_eq!(ip_address_text(&[192, 0, 2, 1]).unwrap(), "192.0.2.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 0x01;
        assert_eq!(ip_address_text(&v6).unwrap(), "2001:db8::1");
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[192, 0, 2, 1]);
        assert_eq!(ip_address_text(&mapped).unwrap(), "::ffff:192.0.2.1");
        // Longest zero run is compressed, the first one on a tie; hex is lower case.
        let v6 = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xab, 0xcd,
        ];
        assert_eq!(ip_address_text(&v6).unwrap(), "2001:db8::1:0:0:abcd");
        assert_eq!(
            ip_address_text(&[1, 2, 3, 4, 5]).unwrap_err(),
            "iPAddress has 5 octets, expected 4 or 16"
        );
        assert_eq!(
            ip_address_text(&[]).unwrap_err(),
            "iPAddress has 0 octets, expected 4 or 16"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn custom_values_are_strings_when_der_strings_else_hex() {
        assert_eq!(custom_value(b"\x0c\x03abc"), "abc");
        assert_eq!(custom_value(b"\x13\x03abc"), "abc");
        assert_eq!(custom_value(b"\x16\x03abc"), "abc");
        assert_eq!(custom_value(&[0x1e, 0x04, 0, b'h', 0, b'i']), "hi");
        assert_eq!(custom_value(b"\x1a\x02ok"), "ok");
        // Not a string type, a broken string, trailing bytes, raw bytes: hex of the content.
        assert_eq!(custom_value(&[0x02, 0x01, 0x05]), "020105");
        assert_eq!(custom_value(&[0x0c, 0x01, 0xff]), "0c01ff");
        assert_eq!(custom_value(b"\x0c\x01ab"), "0c016162");
        assert_eq!(custom_value(b"raw"), "726177");
        assert_eq!(custom_value(&[]), "");
    }
}
