//! Dotted text of object identifiers, without `core::fmt` for the common ones.
//!
//! Formatting an OID through `Display` walks its arcs and the formatting machinery, and a
//! certificate has a dozen of them (every name attribute, every extension, every EKU): it
//! was a tenth of parse time. The OIDs real client certificates carry are looked up in a
//! table instead; any other OID is formatted as before. The text is identical either way
//! (a test compares the table with `Display`).

use alloc::string::{String, ToString};

use der::asn1::ObjectIdentifier;

/// OIDs seen in ordinary client certificates, with their dotted text.
const KNOWN: &[(ObjectIdentifier, &str)] = &[
    // Name attributes (X.520, RFC 4519, PKCS #9).
    known("2.5.4.3"),
    known("2.5.4.4"),
    known("2.5.4.5"),
    known("2.5.4.6"),
    known("2.5.4.7"),
    known("2.5.4.8"),
    known("2.5.4.9"),
    known("2.5.4.10"),
    known("2.5.4.11"),
    known("2.5.4.12"),
    known("2.5.4.42"),
    known("0.9.2342.19200300.100.1.25"),
    known("0.9.2342.19200300.100.1.1"),
    known("1.2.840.113549.1.9.1"),
    // Extended key usages (RFC 5280 §4.2.1.12).
    known("1.3.6.1.5.5.7.3.1"),
    known("1.3.6.1.5.5.7.3.2"),
    known("1.3.6.1.5.5.7.3.3"),
    known("1.3.6.1.5.5.7.3.4"),
    known("1.3.6.1.5.5.7.3.8"),
    known("1.3.6.1.5.5.7.3.9"),
    known("2.5.29.37.0"),
    // Extensions kept as `ext.<oid>`: CRL distribution points, certificate policies, name
    // constraints, authority information access, CT SCT list, Microsoft template info.
    known("2.5.29.31"),
    known("2.5.29.32"),
    known("2.5.29.30"),
    known("1.3.6.1.5.5.7.1.1"),
    known("1.3.6.1.4.1.11129.2.4.2"),
    known("1.3.6.1.4.1.311.21.7"),
];

const fn known(dotted: &'static str) -> (ObjectIdentifier, &'static str) {
    (ObjectIdentifier::new_unwrap(dotted), dotted)
}

/// The dotted text of `oid` (`2.5.4.3`), exactly what its `Display` prints.
pub(super) fn dotted(oid: &ObjectIdentifier) -> String {
    match KNOWN.iter().find(|(known, _)| known == oid) {
        Some((_, text)) => String::from(*text),
        None => oid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn table_text_is_what_display_prints() {
        for (oid, text) in KNOWN {
            assert_eq!(oid.to_string(), *text);
            assert_eq!(dotted(oid), *text);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn other_oids_are_formatted() {
        let private = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1");
        assert_eq!(dotted(&private), "1.3.6.1.4.1.55555.1");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_named_attribute_is_in_the_table() {
        for (_, oid) in crate::dn::ATTRIBUTE_NAMES {
            assert!(KNOWN.iter().any(|(_, text)| text == oid), "{oid}");
        }
    }
}
