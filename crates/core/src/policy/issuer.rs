//! Issuer pins (`issuers` + the `issuer_pin` selector): the configured RFC 4514 issuer DN is
//! parsed once and compared structurally with the certificate's issuer DN.
//!
//! We compare parsed names, not strings: attribute types are resolved to OIDs (short names
//! are case-insensitive, `cn=` is `CN=`, dotted OIDs accepted), RDNs must appear in the same
//! order (the string lists the last RDN first, RFC 4514 §2.1), the attributes of a
//! multi-valued RDN may be written in any order, and values compare byte for byte after
//! RFC 4514 unescaping (no case folding or space squashing: a pin is a security boundary).
//! A `#hex` value (RFC 4514 §2.4) matches only an attribute the certificate holds as a
//! non-string type (our DN model carries it as `#` + lowercase hex of its DER); an escaped
//! `\#...` or any other string matches only string-typed attributes, so the two can never be
//! confused.

use alloc::string::String;
use alloc::vec::Vec;

use crate::dn::{Attribute, DistinguishedName, ValueEncoding, ATTRIBUTE_NAMES};
use crate::identity::Identity;
use crate::selector::is_valid_dotted_oid;

/// One parsed attribute: (dotted OID, value).
type ParsedAttribute = (String, PinValue);

/// A pinned attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PinValue {
    /// A string value, compared with string-typed attributes.
    Text(String),
    /// `#` + lowercase hex of a DER value, compared with non-string attributes.
    Der(String),
}

impl PinValue {
    fn matches(&self, attribute: &Attribute) -> bool {
        let non_string = attribute.encoding == ValueEncoding::NonString;
        match self {
            PinValue::Text(text) => !non_string && attribute.value == *text,
            PinValue::Der(hex) => non_string && attribute.value == *hex,
        }
    }
}

/// A compiled `issuers` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IssuerPin {
    /// The entry's name (what `issuer_pin` patterns name and yield).
    pub(crate) name: String,
    /// RDNs in certificate (DER) order.
    rdns: Vec<Vec<ParsedAttribute>>,
    /// Lowercase hex the certificate's AKI keyIdentifier must equal, when configured.
    key_id: Option<String>,
}

impl IssuerPin {
    pub(crate) fn new(name: String, subject: &str, key_id: Option<String>) -> Result<Self, String> {
        Ok(Self {
            name,
            rdns: parse_rfc4514(subject)?,
            key_id,
        })
    }

    /// v1.1 `certificate`: the pin of a CA's subject (string attributes as text, others as
    /// `#` hex, as the certificate's own issuer DN is read).
    pub(crate) fn from_dn(name: String, dn: &DistinguishedName, key_id: Option<String>) -> Self {
        let rdns = dn
            .rdns
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| {
                        let value = if a.encoding == ValueEncoding::NonString {
                            PinValue::Der(a.value.clone())
                        } else {
                            PinValue::Text(a.value.clone())
                        };
                        (a.oid.clone(), value)
                    })
                    .collect()
            })
            .collect();
        Self { name, rdns, key_id }
    }

    /// True when `dn` is this pin's subject.
    pub(crate) fn names(&self, dn: &DistinguishedName) -> bool {
        dn_equals(&self.rdns, dn)
    }

    /// v1.1 revocation: true when this issuer may have issued the certificate. When both the
    /// pin and the certificate name a key (authorityKeyIdentifier), the key alone decides: a
    /// certificate signed by this CA whose issuer DN differs only in a way chain building
    /// ignores (OpenSSL and BoringSSL compare names case-insensitively) must not skip the CRL;
    /// the CRL's own issuer check then refuses to judge it, which fails closed. Otherwise the
    /// issuer DN must be this pin's subject. Unlike [`IssuerPin::matches`], a certificate
    /// without an AKI is not excluded: a CRL check must not be skipped for lack of an
    /// optional extension.
    pub(crate) fn may_have_issued(&self, identity: &Identity) -> bool {
        if let (Some(ours), Some(theirs)) = (&self.key_id, &identity.authority_key_id) {
            return ours == theirs;
        }
        dn_equals(&self.rdns, &identity.issuer)
    }

    /// True when the certificate's issuer DN is this pin's subject and, with a `key_id`,
    /// its Authority Key Identifier is that key id.
    pub(crate) fn matches(&self, identity: &Identity) -> bool {
        if let Some(key_id) = &self.key_id {
            if identity.authority_key_id.as_deref() != Some(key_id.as_str()) {
                return false;
            }
        }
        dn_equals(&self.rdns, &identity.issuer)
    }
}

fn dn_equals(pinned: &[Vec<ParsedAttribute>], dn: &DistinguishedName) -> bool {
    pinned.len() == dn.rdns.len()
        && pinned
            .iter()
            .zip(&dn.rdns)
            .all(|(want, have)| rdn_equals(want, have))
}

/// Set equality of two RDNs (DER forbids duplicate attributes in one SET OF).
fn rdn_equals(want: &[ParsedAttribute], have: &[Attribute]) -> bool {
    let same = |(oid, value): &ParsedAttribute, a: &Attribute| a.oid == *oid && value.matches(a);
    want.len() == have.len()
        && want.iter().all(|w| have.iter().any(|h| same(w, h)))
        && have.iter().all(|h| want.iter().any(|w| same(w, h)))
}

/// Parses an RFC 4514 DN into RDNs in certificate order. Spaces before an attribute type and
/// around `=` are tolerated; a value's leading or trailing space must be escaped.
pub(crate) fn parse_rfc4514(s: &str) -> Result<Vec<Vec<ParsedAttribute>>, String> {
    if s.trim().is_empty() {
        return Err(String::from("the DN is empty"));
    }
    let mut parser = Parser {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let mut rdns = Vec::new();
    let mut rdn = Vec::new();
    loop {
        let attribute = parser.attribute()?;
        if rdn
            .iter()
            .any(|(oid, _): &ParsedAttribute| *oid == attribute.0)
        {
            return Err(alloc::format!(
                "attribute {} appears twice in one multi-valued RDN",
                attribute.0
            ));
        }
        rdn.push(attribute);
        match parser.next() {
            None => {
                rdns.push(rdn);
                break;
            }
            Some(b',') => rdns.push(core::mem::take(&mut rdn)),
            Some(b'+') => {}
            Some(_) => return Err(String::from("internal: unexpected separator")),
        }
    }
    rdns.reverse();
    Ok(rdns)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Characters RFC 4514 §2.4 requires to be escaped anywhere in a value.
fn must_be_escaped(b: u8) -> bool {
    matches!(b, b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\') || b == 0
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn attribute(&mut self) -> Result<ParsedAttribute, String> {
        self.skip_spaces();
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b'=' || b == b' ' || b == b',' || b == b'+' {
                break;
            }
            self.pos += 1;
        }
        let name = self
            .bytes
            .get(start..self.pos)
            .and_then(|n| core::str::from_utf8(n).ok())
            .unwrap_or_default();
        self.skip_spaces();
        if self.next() != Some(b'=') {
            return Err(if name.is_empty() {
                alloc::format!("expected an attribute type at byte {start}")
            } else {
                alloc::format!("expected `=` after attribute type `{name}`")
            });
        }
        let oid = resolve_type(name)?;
        self.skip_spaces();
        let value = if self.peek() == Some(b'#') {
            self.pos += 1;
            self.hex_value(name)?
        } else {
            self.string_value(name)?
        };
        Ok((oid, value))
    }

    /// `#` hexstring: the BER encoding of a non-string value.
    fn hex_value(&mut self, name: &str) -> Result<PinValue, String> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let hex = self.bytes.get(start..self.pos).unwrap_or_default();
        if hex.is_empty() || hex.len() % 2 == 1 || !matches!(self.peek(), None | Some(b',' | b'+'))
        {
            return Err(alloc::format!(
                "the value of {name} starts with `#`, which means hex of its BER encoding; write whole hex octets, or escape it as `\\#`"
            ));
        }
        let mut out = String::with_capacity(hex.len() + 1);
        out.push('#');
        out.extend(hex.iter().map(|b| char::from(b.to_ascii_lowercase())));
        Ok(PinValue::Der(out))
    }

    fn string_value(&mut self, name: &str) -> Result<PinValue, String> {
        let mut out: Vec<u8> = Vec::new();
        let mut last_was_unescaped_space = false;
        while let Some(b) = self.peek() {
            if b == b',' || b == b'+' {
                break;
            }
            self.pos += 1;
            last_was_unescaped_space = false;
            match b {
                b'\\' => match self.next() {
                    Some(c) if matches!(c, b' ' | b'"' | b'#' | b'+' | b',' | b';' | b'<' | b'=' | b'>' | b'\\') => out.push(c),
                    Some(hi) if hi.is_ascii_hexdigit() => {
                        let lo = self.next().filter(u8::is_ascii_hexdigit).ok_or_else(|| {
                            alloc::format!("bad escape in the value of {name}: `\\` takes a special character or two hex digits")
                        })?;
                        let digit = |c: u8| char::from(c).to_digit(16).unwrap_or(0);
                        out.push(u8::try_from(digit(hi) * 16 + digit(lo)).unwrap_or(0));
                    }
                    _ => {
                        return Err(alloc::format!(
                            "bad escape in the value of {name}: `\\` takes a special character or two hex digits"
                        ))
                    }
                },
                b' ' if out.is_empty() => {
                    return Err(alloc::format!(
                        "the value of {name} starts with a space; escape it as `\\ ` or remove it"
                    ))
                }
                b' ' => {
                    last_was_unescaped_space = true;
                    out.push(b);
                }
                b if must_be_escaped(b) => {
                    return Err(alloc::format!(
                        "`{}` in the value of {name} must be escaped as `\\{}`",
                        char::from(b),
                        char::from(b)
                    ))
                }
                b => out.push(b),
            }
        }
        if last_was_unescaped_space {
            return Err(alloc::format!(
                "the value of {name} ends with a space; escape it as `\\ ` or remove it"
            ));
        }
        String::from_utf8(out)
            .map(PinValue::Text)
            .map_err(|_| alloc::format!("the value of {name} is not valid UTF-8"))
    }
}

/// An attribute type: a short name from [`ATTRIBUTE_NAMES`] (any case) or a dotted OID.
fn resolve_type(name: &str) -> Result<String, String> {
    if let Some((_, oid)) = ATTRIBUTE_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Ok(String::from(*oid));
    }
    if is_valid_dotted_oid(name) {
        return Ok(String::from(name));
    }
    let known: Vec<&str> = ATTRIBUTE_NAMES.iter().map(|(n, _)| *n).collect();
    Err(alloc::format!(
        "unknown attribute type `{name}` (use {} or a dotted OID)",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn attr(oid: &str, value: &str) -> (String, PinValue) {
        (oid.to_string(), PinValue::Text(value.to_string()))
    }

    fn dn(rdns: &[&[(&str, &str)]]) -> DistinguishedName {
        DistinguishedName {
            rdns: rdns
                .iter()
                .map(|rdn| {
                    rdn.iter()
                        .map(|(oid, value)| Attribute::utf8(oid, value))
                        .collect()
                })
                .collect(),
            rfc4514: String::new(),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parses_in_certificate_order() {
        let rdns = parse_rfc4514("CN=Example Health Issuing CA,O=Example Health").unwrap();
        assert_eq!(
            rdns,
            vec![
                vec![attr("2.5.4.10", "Example Health")],
                vec![attr("2.5.4.3", "Example Health Issuing CA")]
            ]
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn types_any_case_and_oids_and_spaces_around_separators() {
        let rdns = parse_rfc4514("cn = a, 2.5.4.10=b").unwrap();
        assert_eq!(
            rdns,
            vec![vec![attr("2.5.4.10", "b")], vec![attr("2.5.4.3", "a")]]
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn escapes_and_multi_valued() {
        let rdns = parse_rfc4514(r"CN=a\,b\+c\\d\3Dx\C3\A9+UID=7,O=\ lead\#").unwrap();
        assert_eq!(
            rdns,
            vec![
                vec![attr("2.5.4.10", " lead#")],
                vec![
                    attr("2.5.4.3", "a,b+c\\d=xé"),
                    attr("0.9.2342.19200300.100.1.1", "7")
                ],
            ]
        );
        let rdns = parse_rfc4514("CN=a=b#c").unwrap();
        assert_eq!(rdns, vec![vec![attr("2.5.4.3", "a=b#c")]]);
        let rdns = parse_rfc4514("CN=").unwrap();
        assert_eq!(rdns, vec![vec![attr("2.5.4.3", "")]]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn hex_values() {
        let rdns = parse_rfc4514("1.2.3=#0C02AB").unwrap();
        assert_eq!(
            rdns,
            vec![vec![(
                "1.2.3".to_string(),
                PinValue::Der("#0c02ab".to_string())
            )]]
        );
        assert!(parse_rfc4514("CN=#abc")
            .unwrap_err()
            .contains("starts with `#`"));
        assert!(parse_rfc4514("CN=#zz")
            .unwrap_err()
            .contains("starts with `#`"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn errors() {
        let cases = [
            ("", "the DN is empty"),
            ("   ", "the DN is empty"),
            ("Example CA", "expected `=` after attribute type `Example`"),
            ("CN=a,", "expected an attribute type at byte 5"),
            ("CN=a,,O=b", "expected an attribute type at byte 5"),
            (
                "XX=a",
                "unknown attribute type `XX` (use CN, SN, serialNumber",
            ),
            ("1..2=a", "unknown attribute type `1..2`"),
            ("CN=a ", "the value of CN ends with a space"),
            ("CN=a ,O=b", "the value of CN ends with a space"),
            (r"CN=a\", "bad escape in the value of CN"),
            (r"CN=a\zz", "bad escape in the value of CN"),
            (r"CN=a\4", "bad escape in the value of CN"),
            ("CN=a;b", "`;` in the value of CN must be escaped as `\\;`"),
            ("CN=a\"b", "`\"` in the value of CN must be escaped"),
            ("CN=a<b", "`<` in the value of CN must be escaped"),
            (r"CN=\C3", "the value of CN is not valid UTF-8"),
            ("CN=a+CN=b", "attribute 2.5.4.3 appears twice"),
        ];
        for (input, expected) in cases {
            let err = parse_rfc4514(input).unwrap_err();
            assert!(err.starts_with(expected), "{input:?}: {err}");
        }
        // `1.2` is a valid OID with two arcs; make sure the OID path is tried.
        assert!(parse_rfc4514("1.2.840.113549.1.9.1=x@y").is_ok());
    }

    fn identity_with_issuer(issuer: DistinguishedName, aki: Option<&str>) -> Identity {
        Identity {
            subject: DistinguishedName::default(),
            issuer,
            san_dns: vec![],
            san_uri: vec![],
            san_email: vec![],
            san_ip: vec![],
            spiffe_id: None,
            serial: "01".to_string(),
            fingerprint_sha256: [0; 32],
            fingerprint_sha256_hex: "00".repeat(32),
            fingerprint_sha256_signature_twin: None,
            eku: vec![],
            eku_present: false,
            extensions: vec![],
            authority_key_id: aki.map(str::to_string),
            not_before: crate::UnixTime(0),
            not_after: crate::UnixTime(1),
            is_ca: false,
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pin_matching() {
        let pin = IssuerPin::new(
            "ca".to_string(),
            "CN=Issuing CA+UID=1,O=Org",
            Some("ab01".to_string()),
        )
        .unwrap();
        let issuer = dn(&[
            &[("2.5.4.10", "Org")],
            &[
                ("0.9.2342.19200300.100.1.1", "1"),
                ("2.5.4.3", "Issuing CA"),
            ],
        ]);
        assert!(pin.matches(&identity_with_issuer(issuer.clone(), Some("ab01"))));
        assert!(!pin.matches(&identity_with_issuer(issuer.clone(), Some("ab02"))));
        assert!(!pin.matches(&identity_with_issuer(issuer, None)));

        let no_key = IssuerPin::new("ca".to_string(), "CN=Issuing CA,O=Org", None).unwrap();
        let exact = dn(&[&[("2.5.4.10", "Org")], &[("2.5.4.3", "Issuing CA")]]);
        assert!(no_key.matches(&identity_with_issuer(exact, None)));
        // Order of RDNs matters.
        let swapped = dn(&[&[("2.5.4.3", "Issuing CA")], &[("2.5.4.10", "Org")]]);
        assert!(!no_key.matches(&identity_with_issuer(swapped, None)));
        // Values are case-sensitive; extra RDNs do not match.
        let case = dn(&[&[("2.5.4.10", "org")], &[("2.5.4.3", "Issuing CA")]]);
        assert!(!no_key.matches(&identity_with_issuer(case, None)));
        let longer = dn(&[
            &[("2.5.4.6", "US")],
            &[("2.5.4.10", "Org")],
            &[("2.5.4.3", "Issuing CA")],
        ]);
        assert!(!no_key.matches(&identity_with_issuer(longer, None)));
        // A CN that merely contains the pinned text does not match.
        let injected = dn(&[&[("2.5.4.3", "Issuing CA,O=Org")]]);
        assert!(!no_key.matches(&identity_with_issuer(injected, None)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn hex_values_match_only_non_string_attributes() {
        let non_string = DistinguishedName {
            rdns: vec![vec![Attribute {
                oid: "1.2.3".to_string(),
                value: "#0101ff".to_string(),
                encoding: ValueEncoding::NonString,
            }]],
            rfc4514: String::new(),
        };
        let string = dn(&[&[("1.2.3", "#0101ff")]]);
        let hex_pin = IssuerPin::new("ca".to_string(), "1.2.3=#0101FF", None).unwrap();
        let text_pin = IssuerPin::new("ca".to_string(), "1.2.3=\\#0101ff", None).unwrap();
        assert!(hex_pin.matches(&identity_with_issuer(non_string.clone(), None)));
        assert!(!hex_pin.matches(&identity_with_issuer(string.clone(), None)));
        assert!(text_pin.matches(&identity_with_issuer(string, None)));
        assert!(!text_pin.matches(&identity_with_issuer(non_string, None)));
    }
}
