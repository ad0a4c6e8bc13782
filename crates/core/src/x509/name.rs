//! X.501 `Name` → [`DistinguishedName`], every attribute of every RDN kept.
//!
//! ```text
//! Name ::= RDNSequence
//! RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
//! RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
//! AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```
//! The structure is read with `der`; the `ANY` values with our own TLV splitter, because
//! `der` cannot read every string type (see `tlv`). Members of a multi-valued RDN are kept in
//! their encoded order (rendering decides how to print them, see `dn`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Reader, SliceReader, Tag, Tagged};

use super::{der_error, strings, tlv};
use crate::dn::{Attribute, DistinguishedName, ValueEncoding};
use crate::hex;
use crate::identity::CertError;

/// Parses the content octets of a `Name` SEQUENCE. `field` names it in errors
/// (`tbsCertificate.subject`).
pub(super) fn parse_name(
    content: &[u8],
    field: &'static str,
) -> Result<DistinguishedName, CertError> {
    let mut rdns = Vec::new();
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    while !reader.is_finished() {
        let rdn = AnyRef::decode(&mut reader).map_err(der_error(field))?;
        if rdn.tag() != Tag::Set {
            return Err(invalid(
                field,
                format!("RDN #{} is a {}, not a SET", rdns.len() + 1, rdn.tag()),
            ));
        }
        let members = parse_rdn(rdn.value(), field, rdns.len() + 1)?;
        rdns.push(members);
    }
    Ok(DistinguishedName::from_rdns(rdns))
}

/// Parses the content of one RDN SET: one or more `AttributeTypeAndValue`.
fn parse_rdn(
    content: &[u8],
    field: &'static str,
    rdn_number: usize,
) -> Result<Vec<Attribute>, CertError> {
    let mut members = Vec::new();
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    while !reader.is_finished() {
        let pair = AnyRef::decode(&mut reader).map_err(der_error(field))?;
        if pair.tag() != Tag::Sequence {
            return Err(invalid(
                field,
                format!(
                    "RDN #{rdn_number} holds a {}, not an AttributeTypeAndValue SEQUENCE",
                    pair.tag()
                ),
            ));
        }
        members.push(parse_attribute(pair.value(), field, rdn_number)?);
    }
    if members.is_empty() {
        return Err(invalid(field, format!("RDN #{rdn_number} is empty")));
    }
    Ok(members)
}

fn parse_attribute(
    content: &[u8],
    field: &'static str,
    rdn_number: usize,
) -> Result<Attribute, CertError> {
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    let oid: ObjectIdentifier = Decode::decode(&mut reader).map_err(der_error(field))?;
    let value_tlv = reader
        .read_slice(reader.remaining_len())
        .map_err(der_error(field))?;
    let oid = super::oid::dotted(&oid);
    let value = tlv::split_one(value_tlv).map_err(|detail| {
        invalid(
            field,
            format!("value of {oid} in RDN #{rdn_number}: {detail}"),
        )
    })?;
    let (value, encoding) = match strings::decode(value.identifier, value.content) {
        Some(decoded) => decoded.map_err(|detail| {
            invalid(
                field,
                format!("value of {oid} in RDN #{rdn_number}: {detail}"),
            )
        })?,
        None => {
            let mut text = String::from("#");
            hex::push_hex(&mut text, value_tlv);
            (text, ValueEncoding::NonString)
        }
    };
    Ok(Attribute {
        oid,
        value,
        encoding,
    })
}

fn invalid(field: &'static str, detail: String) -> CertError {
    CertError::Invalid { field, detail }
}
