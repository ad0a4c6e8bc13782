//! Distinguished names: per-attribute values and our own RFC 4514 rendering.
//!
//! Rendering order is deliberate: last RDN first, the order `openssl x509 -nameopt RFC2253`
//! prints and users type (`CN=alice,OU=Clinicians,O=Example Health`). Members of a
//! multi-valued RDN are joined with `+`, also last first, which is again what OpenSSL
//! prints (it reverses the flat attribute list): a DER SET `{CN=x, OU=Clinicians}` renders
//! `OU=Clinicians+CN=x`. Values are escaped per
//! RFC 4514 §2.4, plus `=` (RFC 4514 lets any `special` be escaped, and `=` is one) and every
//! control character as `\XX` (upper-case hex), so a rendered DN is always one unambiguous
//! line in which an attribute value can never imitate a type, a value boundary or an RDN
//! boundary: a CN of `x,OU=Admins` renders as `CN=x\,OU\=Admins`, which neither an RFC 4514
//! parser nor a naive `subject.includes('OU=Admins')` reads as an OU.
//!
//! What a value can hold after escaping, and why each is safe for a consumer that does not
//! parse RFC 4514 (`split(',')`, `includes('OU=Admins')`, a regex on `=`):
//! - `,` `+` `;` (RDN and value separators, `;` the old one) and `=` (type/value separator)
//!   are always preceded by `\`: no substring of a value reads `,OU=` or `+CN=`;
//! - `"` `<` `>` `\` (quoting and the escape itself) are escaped, so a value cannot end an
//!   escape early or open a quoted string;
//! - `#` first and a space first or last are escaped (a leading `#` would read as a hex
//!   value, edge spaces are trimmed by parsers);
//! - control characters (U+0000–U+001F, U+007F) are `\XX`, so a DN never spans lines or hides
//!   a NUL;
//! - other characters, non-ASCII included, are kept as they are: none is a separator in RFC
//!   4514, forwarded headers percent-encode every non-ASCII byte anyway, and look-alikes such
//!   as U+FF0C `，` or U+FF1D `＝` differ byte for byte from `,` and `=`.
//!
//! [`Boundaries`] lets whole-DN patterns (`prefix`/`suffix`/`glob` on `subject`/`issuer`)
//! match only at boundaries between rendered characters, never inside an escape: a pattern
//! literal such as `=Admins` or `,OU=Admins` cannot start at the `=` or `,` of a `\=` or `\,`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// The ASN.1 type an attribute value was encoded with. Kept so that rendering can tell a
/// string that happens to start with `#` from the `#hex` form of a non-string value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueEncoding {
    /// `UTF8String`.
    Utf8String,
    /// `PrintableString`.
    PrintableString,
    /// `IA5String`.
    Ia5String,
    /// `BMPString` (UTF-16 big-endian).
    BmpString,
    /// `UniversalString` (UCS-4 big-endian).
    UniversalString,
    /// `TeletexString` (T61String), decoded as Latin-1: each byte is one character.
    TeletexString,
    /// `VisibleString`.
    VisibleString,
    /// `NumericString`.
    NumericString,
    /// Any other type: the value is `#` + lowercase hex of its whole DER TLV (RFC 4514 §2.4).
    NonString,
}

/// One attribute of an RDN: its dotted OID and its decoded string value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Dotted OID, e.g. `2.5.4.3` for CN.
    pub oid: String,
    /// The value decoded from its string type (UTF8, Printable, IA5, BMP, Teletex,
    /// Universal, Visible, Numeric) or, for non-string values, `#` + lowercase hex of its
    /// DER (RFC 4514 §2.4). Never truncated: an embedded NUL stays in the value.
    pub value: String,
    /// How the value was encoded in the certificate.
    pub encoding: ValueEncoding,
}

impl Attribute {
    /// An attribute holding a string value (as if encoded as `UTF8String`); handy for
    /// building identities in tests.
    pub fn utf8(oid: &str, value: &str) -> Self {
        Self {
            oid: String::from(oid),
            value: String::from(value),
            encoding: ValueEncoding::Utf8String,
        }
    }
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
    /// Builds a DN from RDNs in certificate order and renders its RFC 4514 string.
    pub fn from_rdns(rdns: Vec<Vec<Attribute>>) -> Self {
        let rfc4514 = render_rfc4514(&rdns);
        Self { rdns, rfc4514 }
    }

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

/// Renders RDNs (given in certificate order) as an RFC 4514 string: last RDN first, `,`
/// between RDNs, `+` between the members of a multi-valued RDN (last member first).
pub fn render_rfc4514(rdns: &[Vec<Attribute>]) -> String {
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().rev().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(name_for_oid(&attribute.oid).unwrap_or(&attribute.oid));
            out.push('=');
            if attribute.encoding == ValueEncoding::NonString {
                // Already `#` + hex digits: nothing in it needs escaping.
                out.push_str(&attribute.value);
            } else {
                escape_value(&mut out, &attribute.value);
            }
        }
    }
    out
}

/// Appends `value` escaped per RFC 4514 §2.4 plus `=` and control characters (see module
/// docs).
fn escape_value(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\{:02X}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
}

/// Where a rendered DN may be cut: every position that is not inside an escape (`\,`, `\=`,
/// `\0A`...). Computed from the rendering itself, which only ever writes `\` followed by one
/// special character or by two hex digits (no special is a hex digit), so the parse is
/// unambiguous.
#[derive(Clone, Debug)]
pub struct Boundaries<'a> {
    rendered: &'a [u8],
    /// Positions inside an escape, in increasing order (escapes are rare: usually empty).
    inside: SmallInside,
}

type SmallInside = smallvec::SmallVec<[usize; 8]>;

impl<'a> Boundaries<'a> {
    /// The boundaries of `rendered`, a DN as [`render_rfc4514`] writes it.
    pub fn of(rendered: &'a str) -> Self {
        let bytes = rendered.as_bytes();
        let mut inside = SmallInside::new();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b != b'\\' {
                i += 1;
                continue;
            }
            let hex_pair = matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()
            );
            let len = if hex_pair { 3 } else { 2 };
            inside.extend(i + 1..(i + len).min(bytes.len()));
            i += len;
        }
        Self {
            rendered: bytes,
            inside,
        }
    }

    /// Whether `position` (a byte offset, `0..=len`) lies between two rendered characters.
    pub fn is_boundary(&self, position: usize) -> bool {
        position <= self.rendered.len() && self.inside.binary_search(&position).is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn dn(rdns: Vec<Vec<Attribute>>) -> String {
        DistinguishedName::from_rdns(rdns).rfc4514
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn renders_last_rdn_first() {
        let rendered = dn(vec![
            vec![Attribute::utf8("2.5.4.6", "US")],
            vec![Attribute::utf8("2.5.4.10", "Example Health")],
            vec![Attribute::utf8("2.5.4.11", "Clinicians")],
            vec![Attribute::utf8("2.5.4.3", "alice")],
        ]);
        assert_eq!(rendered, "CN=alice,OU=Clinicians,O=Example Health,C=US");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn joins_multi_valued_rdn_members_with_plus_last_first_like_openssl() {
        let rendered = dn(vec![
            vec![Attribute::utf8("2.5.4.10", "Example")],
            vec![
                Attribute::utf8("2.5.4.3", "x"),
                Attribute::utf8("2.5.4.11", "Clinicians"),
            ],
        ]);
        assert_eq!(rendered, "OU=Clinicians+CN=x,O=Example");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unknown_attribute_types_print_as_dotted_oid() {
        let rendered = dn(vec![vec![Attribute::utf8("1.2.3.4", "v")]]);
        assert_eq!(rendered, "1.2.3.4=v");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn empty_dn_renders_empty() {
        assert_eq!(dn(Vec::new()), "");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn escapes_specials_anywhere() {
        let rendered = dn(vec![vec![Attribute::utf8(
            "2.5.4.3",
            "a\"b+c,d;e<f>g\\h=i",
        )]]);
        assert_eq!(rendered, "CN=a\\\"b\\+c\\,d\\;e\\<f\\>g\\\\h\\=i");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn comma_injection_stays_one_escaped_value() {
        let rendered = dn(vec![vec![Attribute::utf8("2.5.4.3", "x,OU=Admins")]]);
        assert_eq!(rendered, "CN=x\\,OU\\=Admins");
        // What a naive consumer of the rendered string looks for is not in it.
        for needle in ["OU=Admins", ",OU="] {
            assert!(!rendered.contains(needle), "{needle}");
        }
    }

    /// Every character a value could use to imitate a type, a value or an RDN boundary.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn no_value_imitates_structure() {
        let cases: &[(&str, &str)] = &[
            ("x,OU=Admins", "CN=x\\,OU\\=Admins"),
            ("x+OU=Admins", "CN=x\\+OU\\=Admins"),
            ("x;OU=Admins", "CN=x\\;OU\\=Admins"),
            ("\"x,OU=Admins\"", "CN=\\\"x\\,OU\\=Admins\\\""),
            ("x\\,OU=Admins", "CN=x\\\\\\,OU\\=Admins"),
            ("#OU=Admins", "CN=\\#OU\\=Admins"),
            (" OU=Admins ", "CN=\\ OU\\=Admins\\ "),
            ("x\n,OU=Admins", "CN=x\\0A\\,OU\\=Admins"),
            ("x\r\nOU=Admins", "CN=x\\0D\\0AOU\\=Admins"),
            ("x\u{ff0c}OU\u{ff1d}Admins", "CN=x\u{ff0c}OU\u{ff1d}Admins"),
        ];
        for (value, want) in cases {
            let rendered = dn(vec![
                vec![Attribute::utf8("2.5.4.11", "Billing")],
                vec![Attribute::utf8("2.5.4.3", value)],
            ]);
            assert_eq!(rendered, alloc::format!("{want},OU=Billing"), "{value:?}");
            assert_eq!(rendered.matches("OU=").count(), 1, "{value:?}");
            assert_eq!(
                rendered.matches(',').count() - rendered.matches("\\,").count(),
                1
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn boundaries_skip_the_inside_of_escapes() {
        let rendered = "CN=x\\,OU\\=A\\0A\\\\b,O=E";
        let boundaries = Boundaries::of(rendered);
        let inside: Vec<usize> = (0..=rendered.len())
            .filter(|&i| !boundaries.is_boundary(i))
            .collect();
        // `\,` at 4, `\=` at 8, `\0A` at 11, `\\` at 14.
        assert_eq!(inside, vec![5, 9, 12, 13, 15]);
        assert!(!boundaries.is_boundary(rendered.len() + 1));
        let plain = Boundaries::of("CN=a,O=b");
        assert!((0..=8).all(|i| plain.is_boundary(i)));
        // A trailing lone backslash (never rendered) does not reach past the end.
        assert!(Boundaries::of("a\\").is_boundary(2));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn escapes_leading_hash_and_leading_or_trailing_space_only() {
        assert_eq!(
            dn(vec![vec![Attribute::utf8("2.5.4.3", "#a#")]]),
            "CN=\\#a#"
        );
        assert_eq!(
            dn(vec![vec![Attribute::utf8("2.5.4.11", " Admins ")]]),
            "OU=\\ Admins\\ "
        );
        assert_eq!(dn(vec![vec![Attribute::utf8("2.5.4.11", "a b")]]), "OU=a b");
        assert_eq!(dn(vec![vec![Attribute::utf8("2.5.4.11", " ")]]), "OU=\\ ");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn escapes_control_characters_as_hex_pairs() {
        let rendered = dn(vec![vec![Attribute::utf8(
            "2.5.4.3",
            "admin\u{0}.evil\n\u{7f}",
        )]]);
        assert_eq!(rendered, "CN=admin\\00.evil\\0A\\7F");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keeps_non_ascii_as_is() {
        let rendered = dn(vec![vec![Attribute::utf8("2.5.4.3", "Zoë Ω")]]);
        assert_eq!(rendered, "CN=Zoë Ω");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn non_string_values_render_their_hex_form_unescaped() {
        let hex_value = Attribute {
            oid: String::from("2.5.4.3"),
            value: String::from("#020105"),
            encoding: ValueEncoding::NonString,
        };
        assert_eq!(dn(vec![vec![hex_value]]), "CN=#020105");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn values_collects_every_rdn_and_multi_valued_member() {
        let name = DistinguishedName::from_rdns(vec![
            vec![Attribute::utf8("2.5.4.11", "Clinicians")],
            vec![
                Attribute::utf8("2.5.4.11", "Admins"),
                Attribute::utf8("2.5.4.3", "x"),
            ],
        ]);
        let ous: Vec<&str> = name.values("2.5.4.11").collect();
        assert_eq!(ous, vec!["Clinicians", "Admins"]);
        assert_eq!(name.values("2.5.4.10").count(), 0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn names_and_oids_round_trip() {
        for (name, oid) in ATTRIBUTE_NAMES {
            assert_eq!(oid_for_name(name), Some(*oid));
            assert_eq!(name_for_oid(oid), Some(*name));
        }
        assert_eq!(oid_for_name("ou"), None);
        assert_eq!(name_for_oid("1.2.3"), None);
    }
}
