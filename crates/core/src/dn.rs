//! Distinguished names: per-attribute values and our own RFC 4514 rendering.
//!
//! Rendering order is deliberate: last RDN first, the order `openssl x509 -nameopt RFC2253`
//! prints and users type (`CN=alice,OU=Clinicians,O=Example Health`). Values are escaped per
//! RFC 4514 §2.4, and every control character is additionally escaped as `\XX`, so a rendered
//! DN is always one unambiguous, header-safe line.

use alloc::string::String;
use alloc::vec::Vec;

/// One attribute of an RDN: its dotted OID and its decoded string value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Dotted OID, e.g. `2.5.4.3` for CN.
    pub oid: String,
    /// The value decoded from its DirectoryString (UTF8, Printable, IA5, BMP, Teletex,
    /// Universal) or, for non-string values, `#` + lowercase hex of its DER (RFC 4514 §2.4).
    pub value: String,
}

/// A DN: RDNs in certificate (DER) order, each RDN a set of one or more attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DistinguishedName {
    /// RDNs in the order they appear in the DER SEQUENCE (most significant first).
    pub rdns: Vec<Vec<Attribute>>,
    /// The RFC 4514 string (last RDN first), computed once at parse time.
    pub rfc4514: String,
}

impl DistinguishedName {
    /// Every value of the attribute with this dotted OID, multi-valued RDNs included,
    /// in certificate order.
    pub fn values<'a>(&'a self, oid: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.rdns
            .iter()
            .flatten()
            .filter(move |a| a.oid == oid)
            .map(|a| a.value.as_str())
    }
}

/// Short names of the attributes the contract names, as (name, dotted OID). Used both to
/// resolve `subject.<A>` selectors and to print RFC 4514 attribute types.
pub const ATTRIBUTE_NAMES: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("SN", "2.5.4.4"),
    ("serialNumber", "2.5.4.5"),
    ("C", "2.5.4.6"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("STREET", "2.5.4.9"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("title", "2.5.4.12"),
    ("GN", "2.5.4.42"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("emailAddress", "1.2.840.113549.1.9.1"),
];

/// The dotted OID for an attribute short name (case-sensitive as listed, e.g. `OU`), or `None`.
pub fn oid_for_name(name: &str) -> Option<&'static str> {
    ATTRIBUTE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
}

/// The short name for a dotted OID, or `None` when it has none (then RFC 4514 prints the OID).
pub fn name_for_oid(oid: &str) -> Option<&'static str> {
    ATTRIBUTE_NAMES
        .iter()
        .find(|(_, o)| *o == oid)
        .map(|(name, _)| *name)
}
