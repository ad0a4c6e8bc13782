//! `dn`: Distinguished Names built from arbitrary attribute values, rendered as RFC 4514.
//!
//! Input: records of `[attribute][flags][len][len bytes of value]`; `attribute` picks a
//! type from [`TYPES`], flag bit 0 puts the attribute in the previous RDN (multi-valued RDN,
//! unless that RDN has the type already),
//! bit 1 makes it a non-string value (an OCTET STRING of the bytes, which the core models as
//! `#` + hex of the TLV).

use mtls_authz_core::dn::{Attribute, DistinguishedName, ValueEncoding};
use mtls_authz_core::{Identity, Policy};

use crate::identities;
use crate::json_writer;

/// Attribute types the records choose from (dotted OIDs): named ones and an unnamed one that
/// renders as its OID.
const TYPES: &[&str] = &[
    "2.5.4.3",                    // CN
    "2.5.4.11",                   // OU
    "2.5.4.10",                   // O
    "2.5.4.6",                    // C
    "0.9.2342.19200300.100.1.25", // DC
    "1.2.840.113549.1.9.1",       // emailAddress
    "1.3.6.1.4.1.55555.7",        // no short name
];

/// Longest DN built from one input (attributes).
const MAX_ATTRIBUTES: usize = 16;

/// Checks the DN the input describes: see the crate table.
pub fn check(data: &[u8]) {
    let rdns = rdns(data);
    if rdns.is_empty() {
        return;
    }
    let dn = DistinguishedName::from_rdns(rdns);
    assert_boundaries(&dn);
    assert_pin_round_trip(&dn);
}

fn rdns(mut data: &[u8]) -> Vec<Vec<Attribute>> {
    let mut rdns: Vec<Vec<Attribute>> = Vec::new();
    let mut count = 0;
    while let [kind, flags, len, rest @ ..] = data {
        if count == MAX_ATTRIBUTES {
            break;
        }
        let len = usize::from(*len).min(rest.len());
        let (value, tail) = rest.split_at(len);
        data = tail;
        let oid = TYPES[usize::from(*kind) % TYPES.len()];
        let attribute = if flags & 2 == 2 {
            // The core models a non-string value as `#` + hex of its whole TLV: here an
            // OCTET STRING holding the bytes (short-form length).
            let content = value.get(..127).unwrap_or(value);
            Attribute {
                oid: oid.to_string(),
                value: format!("#04{:02x}{}", content.len(), hex(content)),
                encoding: ValueEncoding::NonString,
            }
        } else {
            Attribute::utf8(oid, &String::from_utf8_lossy(value))
        };
        // X.501 allows one value per attribute type in an RDN (the pin parser refuses a
        // repeat): a repeated type starts the next RDN instead.
        match rdns.last_mut() {
            Some(rdn) if flags & 1 == 1 && rdn.iter().all(|a| a.oid != attribute.oid) => {
                rdn.push(attribute)
            }
            _ => rdns.push(vec![attribute]),
        }
        count += 1;
    }
    rdns
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The unescaped `=`, `,` and `+` of the rendered DN are exactly its structure: one `=` per
/// attribute, `,` between RDNs, `+` inside multi-valued RDNs. So no value can imitate an
/// attribute boundary for a consumer that splits or searches the string naively
/// (`subject.includes('OU=Admins')`).
pub fn assert_boundaries(dn: &DistinguishedName) {
    let text = &dn.rfc4514;
    let (mut equals, mut commas, mut pluses) = (0, 0, 0);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                // `\` + special character, or `\` + two hex digits: skip what it escapes.
                let next = chars
                    .next()
                    .unwrap_or_else(|| panic!("{text:?} ends in `\\`"));
                if next.is_ascii_hexdigit() {
                    let second = chars.next();
                    assert!(
                        second.is_some_and(|c| c.is_ascii_hexdigit()),
                        "{text:?}: `\\{next}` is neither a special nor a hex pair"
                    );
                }
            }
            '=' => equals += 1,
            ',' => commas += 1,
            '+' => pluses += 1,
            _ => {}
        }
    }
    let attributes: usize = dn.rdns.iter().map(Vec::len).sum();
    assert_eq!(
        equals, attributes,
        "{text:?}: unescaped `=` that no attribute starts"
    );
    assert_eq!(
        commas,
        dn.rdns.len() - 1,
        "{text:?}: unescaped `,` inside a value"
    );
    assert_eq!(
        pluses,
        attributes - dn.rdns.len(),
        "{text:?}: unescaped `+` inside a value"
    );
}

/// The rendered DN, configured as an issuer pin, parses and matches a certificate whose
/// issuer is that DN — and stops matching when one value changes.
pub fn assert_pin_round_trip(dn: &DistinguishedName) {
    let mut identity = identities::member().clone();
    identity.issuer = dn.clone();
    assert!(
        pin_matches(&dn.rfc4514, &identity),
        "issuer pin {:?} does not match the DN it was rendered from: {:?}",
        dn.rfc4514,
        dn.rdns
    );
    let mut changed = dn.clone();
    if let Some(attribute) = changed.rdns.last_mut().and_then(|rdn| rdn.last_mut()) {
        if attribute.encoding == ValueEncoding::NonString {
            attribute.value.push_str("00");
        } else {
            attribute.value.push('x');
        }
    }
    identity.issuer = changed;
    assert!(
        !pin_matches(&dn.rfc4514, &identity),
        "issuer pin {:?} also matches a DN with another value",
        dn.rfc4514
    );
}

/// Whether an issuer pin written as `subject` holds for `identity` (through a one-role
/// policy, as an operator would write it).
pub fn pin_matches(subject: &str, identity: &Identity) -> bool {
    let policy = format!(
        r#"{{"issuers":{{"pin":{{"subject":{}}}}},"roles":{{"pinned":[{{"issuer_pin":["pin"]}}]}},"rules":[]}}"#,
        json_writer::string(subject)
    );
    let policy = Policy::from_json(&policy)
        .unwrap_or_else(|e| panic!("the rendered DN {subject:?} is refused as an issuer pin: {e}"));
    policy.roles_of(identity) == ["pinned"]
}
