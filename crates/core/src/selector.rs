//! Selectors name an identity attribute in policies (`subject.OU`, `san.uri`, `ext.<oid>`...).
//!
//! Adding a selector (checklist; the compiler or a test stops at every step you forget):
//! 1. a [`Selector`] variant, and its spelling in [`Selector::parse`];
//! 2. [`Selector::name`] and [`Selector::any_value`] (exhaustive matches: compile errors);
//! 3. [`Selector::for_identity`] if it has values on a certificate alone: `mtls-authz inspect`
//!    prints exactly that list, and `every_listed_selector_parses_back_to_itself`
//!    (tests/identity_fixtures.rs) fails when the name and `parse` disagree;
//! 4. if its values depend on the policy (like `issuer_pin`), `Policy`'s value lookup in
//!    `policy/evaluate.rs` and its compile step in `policy/compile.rs` (exhaustive there too);
//! 5. whether it is multi-valued ([`Selector::is_multi_valued`], for `forward_headers`), the
//!    README "Selectors" table and docs/DECISIONS.md.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::dn::DistinguishedName;
use crate::identity::Identity;

/// A compiled selector. Parse with [`Selector::parse`]; `issuer_pin` is resolved by the policy
/// (it needs the policy's `issuers`), and `roles` only exists for `forward_headers`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Selector {
    /// The whole subject DN as RFC 4514.
    Subject,
    /// The whole issuer DN as RFC 4514.
    Issuer,
    /// Every value of one subject attribute (dotted OID).
    SubjectAttr(String),
    /// Every value of one issuer attribute (dotted OID).
    IssuerAttr(String),
    /// Every DNS SAN.
    SanDns,
    /// Every URI SAN.
    SanUri,
    /// Every email SAN.
    SanEmail,
    /// Every IP SAN.
    SanIp,
    /// The SPIFFE ID (exactly one URI SAN that is a valid SPIFFE ID).
    SpiffeId,
    /// Serial number, lowercase hex, leading zero octets removed.
    Serial,
    /// SHA-256 fingerprint, lowercase hex.
    FingerprintSha256,
    /// EKU OIDs and well-known names.
    Eku,
    /// A custom extension by dotted OID.
    Ext(String),
    /// Names of the policy's `issuers` this certificate matches.
    IssuerPin,
    /// Role names the identity holds (only meaningful in `forward_headers`).
    Roles,
}

/// Why a selector string is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// The selector as written.
    pub selector: String,
    /// What is wrong.
    pub detail: &'static str,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown selector `{}`: {}", self.selector, self.detail)
    }
}

/// True for a dotted OID with at least two arcs, each a decimal without leading zeros,
/// first arc 0..=2 (X.660).
pub fn is_valid_dotted_oid(s: &str) -> bool {
    let arcs: Vec<&str> = s.split('.').collect();
    if arcs.len() < 2 {
        return false;
    }
    for arc in &arcs {
        if arc.is_empty()
            || !arc.bytes().all(|b| b.is_ascii_digit())
            || (arc.len() > 1 && arc.starts_with('0'))
            || arc.len() > 18
        {
            return false;
        }
    }
    matches!(arcs.first(), Some(&"0") | Some(&"1") | Some(&"2"))
}

impl Selector {
    /// Parses a selector as written in a policy. `roles` is accepted here; the policy
    /// decides where it is allowed.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let err = |detail| SelectorError {
            selector: String::from(s),
            detail,
        };
        let attr = |rest: &str| -> Result<String, SelectorError> {
            if let Some(oid) = crate::dn::oid_for_name(rest) {
                Ok(String::from(oid))
            } else if is_valid_dotted_oid(rest) {
                Ok(String::from(rest))
            } else {
                Err(err("attribute must be CN, O, OU, C, ST, L, DC, UID, serialNumber, emailAddress, SN, GN, title, STREET or a dotted OID"))
            }
        };
        Ok(match s {
            "subject" => Selector::Subject,
            "issuer" => Selector::Issuer,
            "san.dns" => Selector::SanDns,
            "san.uri" => Selector::SanUri,
            "san.email" => Selector::SanEmail,
            "san.ip" => Selector::SanIp,
            "spiffe_id" => Selector::SpiffeId,
            "serial" => Selector::Serial,
            "fingerprint_sha256" => Selector::FingerprintSha256,
            "eku" => Selector::Eku,
            "issuer_pin" => Selector::IssuerPin,
            "roles" => Selector::Roles,
            _ => {
                if let Some(rest) = s.strip_prefix("subject.") {
                    Selector::SubjectAttr(attr(rest)?)
                } else if let Some(rest) = s.strip_prefix("issuer.") {
                    Selector::IssuerAttr(attr(rest)?)
                } else if let Some(rest) = s.strip_prefix("ext.") {
                    if is_valid_dotted_oid(rest) {
                        Selector::Ext(String::from(rest))
                    } else {
                        return Err(err(
                            "ext.<oid> needs a dotted OID such as ext.1.3.6.1.4.1.55555.1",
                        ));
                    }
                } else {
                    return Err(err("expected subject, issuer, subject.<A>, issuer.<A>, san.dns, san.uri, san.email, san.ip, spiffe_id, serial, fingerprint_sha256, eku, ext.<oid> or issuer_pin"));
                }
            }
        })
    }

    /// Calls `f` on every value of this selector on `identity`, in certificate order, until
    /// it returns `true`; returns whether it did. Allocation-free: this is the hot path of
    /// role matching. `IssuerPin` and `Roles` depend on the policy and yield nothing here.
    /// An empty subject/issuer DN yields no value (there is nothing to forward or match).
    pub fn any_value<'a>(
        &self,
        identity: &'a Identity,
        mut f: impl FnMut(&'a str) -> bool,
    ) -> bool {
        match self {
            Selector::Subject => {
                let dn = identity.subject.rfc4514.as_str();
                !dn.is_empty() && f(dn)
            }
            Selector::Issuer => {
                let dn = identity.issuer.rfc4514.as_str();
                !dn.is_empty() && f(dn)
            }
            Selector::SubjectAttr(oid) => attribute_values(&identity.subject, oid).any(f),
            Selector::IssuerAttr(oid) => attribute_values(&identity.issuer, oid).any(f),
            Selector::SanDns => identity.san_dns.iter().map(String::as_str).any(f),
            Selector::SanUri => identity.san_uri.iter().map(String::as_str).any(f),
            Selector::SanEmail => identity.san_email.iter().map(String::as_str).any(f),
            Selector::SanIp => identity.san_ip.iter().map(String::as_str).any(f),
            Selector::SpiffeId => identity.spiffe_id.as_deref().is_some_and(f),
            Selector::Serial => f(identity.serial.as_str()),
            Selector::FingerprintSha256 => f(identity.fingerprint_sha256_hex.as_str()),
            Selector::Eku => identity.eku.iter().map(String::as_str).any(f),
            Selector::Ext(oid) => identity
                .extensions
                .iter()
                .filter(|(o, _)| o == oid)
                .map(|(_, v)| v.as_str())
                .any(f),
            Selector::IssuerPin | Selector::Roles => false,
        }
    }

    /// Every value of this selector on `identity`, in certificate order (allocates; for
    /// tools and headers, not for matching). `IssuerPin` and `Roles` yield nothing here.
    pub fn values<'a>(&self, identity: &'a Identity) -> Vec<&'a str> {
        let mut out = Vec::new();
        self.any_value(identity, |v| {
            out.push(v);
            false
        });
        out
    }

    /// The selector as a policy writes it (`subject.CN`, `ext.1.2.3`): attribute OIDs with a
    /// short name are written with it.
    pub fn name(&self) -> String {
        let attribute = |prefix: &str, oid: &str| {
            let name = crate::dn::name_for_oid(oid).unwrap_or(oid);
            alloc::format!("{prefix}.{name}")
        };
        match self {
            Selector::Subject => String::from("subject"),
            Selector::Issuer => String::from("issuer"),
            Selector::SubjectAttr(oid) => attribute("subject", oid),
            Selector::IssuerAttr(oid) => attribute("issuer", oid),
            Selector::SanDns => String::from("san.dns"),
            Selector::SanUri => String::from("san.uri"),
            Selector::SanEmail => String::from("san.email"),
            Selector::SanIp => String::from("san.ip"),
            Selector::SpiffeId => String::from("spiffe_id"),
            Selector::Serial => String::from("serial"),
            Selector::FingerprintSha256 => String::from("fingerprint_sha256"),
            Selector::Eku => String::from("eku"),
            Selector::Ext(oid) => alloc::format!("ext.{oid}"),
            Selector::IssuerPin => String::from("issuer_pin"),
            Selector::Roles => String::from("roles"),
        }
    }

    /// Every selector `identity` can be looked at by, with its values, in the order a reader
    /// expects: subject, each of its attributes (certificate order), issuer, its attributes,
    /// the SANs, SPIFFE ID, serial, fingerprint, EKU, then each extension. This is what
    /// `mtls-authz inspect` prints. The whole DNs are listed even when empty (as `""`, so an
    /// empty subject is visible). `issuer_pin` and `roles` depend on the policy and are not
    /// listed.
    ///
    /// Adding a selector: add its variant, then the compiler stops at every `match` that must
    /// know it (this list, [`Selector::name`], [`Selector::parse`]'s spelling is checked by a
    /// test that parses every name listed here).
    pub fn for_identity(identity: &Identity) -> Vec<(Selector, Vec<&str>)> {
        let attributes = |dn: &DistinguishedName, make: fn(String) -> Selector| {
            let mut seen: Vec<&str> = Vec::new();
            for attribute in dn.rdns.iter().flatten() {
                if !seen.contains(&attribute.oid.as_str()) {
                    seen.push(&attribute.oid);
                }
            }
            seen.into_iter()
                .map(|oid| make(String::from(oid)))
                .collect::<Vec<_>>()
        };
        let mut extensions: Vec<&str> = Vec::new();
        for (oid, _) in &identity.extensions {
            if !extensions.contains(&oid.as_str()) {
                extensions.push(oid);
            }
        }
        let mut out: Vec<(Selector, Vec<&str>)> = Vec::new();
        out.push((
            Selector::Subject,
            alloc::vec![identity.subject.rfc4514.as_str()],
        ));
        for selector in attributes(&identity.subject, Selector::SubjectAttr) {
            let values = selector.values(identity);
            out.push((selector, values));
        }
        out.push((
            Selector::Issuer,
            alloc::vec![identity.issuer.rfc4514.as_str()],
        ));
        for selector in attributes(&identity.issuer, Selector::IssuerAttr) {
            let values = selector.values(identity);
            out.push((selector, values));
        }
        let rest = [
            Selector::SanDns,
            Selector::SanUri,
            Selector::SanEmail,
            Selector::SanIp,
            Selector::SpiffeId,
            Selector::Serial,
            Selector::FingerprintSha256,
            Selector::Eku,
        ];
        for selector in rest.into_iter().chain(
            extensions
                .into_iter()
                .map(|oid| Selector::Ext(String::from(oid))),
        ) {
            let values = selector.values(identity);
            out.push((selector, values));
        }
        out
    }

    /// Whether the selector can hold several values (its header value is a `,` list, so `,`
    /// inside a value is percent-encoded). The whole DNs, the SPIFFE ID, the serial and the
    /// fingerprint are single values: a DN's own commas stay readable.
    pub fn is_multi_valued(&self) -> bool {
        !matches!(
            self,
            Selector::Subject
                | Selector::Issuer
                | Selector::SpiffeId
                | Selector::Serial
                | Selector::FingerprintSha256
        )
    }
}

/// Every value of the attribute `oid` in `dn`, multi-valued RDNs included, in certificate order.
fn attribute_values<'a, 'o>(
    dn: &'a DistinguishedName,
    oid: &'o str,
) -> impl Iterator<Item = &'a str> + use<'a, 'o> {
    dn.rdns
        .iter()
        .flatten()
        .filter(move |a| a.oid == oid)
        .map(|a| a.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dn::Attribute;
    use crate::time::UnixTime;
    use alloc::string::ToString;
    use alloc::vec;

    fn identity() -> Identity {
        let subject = DistinguishedName::from_rdns(vec![
            vec![Attribute::utf8("2.5.4.10", "Example")],
            vec![
                Attribute::utf8("2.5.4.11", "Admins"),
                Attribute::utf8("2.5.4.3", "alice"),
            ],
            vec![Attribute::utf8("2.5.4.11", "Clinicians")],
        ]);
        Identity {
            subject,
            issuer: DistinguishedName::default(),
            san_dns: vec!["a.example".to_string(), "b.example".to_string()],
            san_uri: vec!["spiffe://example.org/a".to_string()],
            san_email: vec![],
            san_ip: vec!["192.0.2.1".to_string()],
            spiffe_id: Some("spiffe://example.org/a".to_string()),
            serial: "01ab".to_string(),
            fingerprint_sha256: [0xab; 32],
            fingerprint_sha256_hex: "ab".repeat(32),
            fingerprint_sha256_signature_twin: None,
            eku: vec!["1.3.6.1.5.5.7.3.2".to_string(), "clientAuth".to_string()],
            eku_present: true,
            extensions: vec![
                ("1.3.6.1.4.1.55555.1".to_string(), "svc-a".to_string()),
                ("1.3.6.1.4.1.55555.2".to_string(), "0102".to_string()),
                ("1.3.6.1.4.1.55555.1".to_string(), "svc-b".to_string()),
            ],
            authority_key_id: None,
            not_before: UnixTime(0),
            not_after: UnixTime(1),
            is_ca: false,
        }
    }

    fn values(selector: &str) -> Vec<String> {
        let id = identity();
        Selector::parse(selector)
            .unwrap()
            .values(&id)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parse_names_and_oids() {
        assert_eq!(Selector::parse("subject"), Ok(Selector::Subject));
        assert_eq!(
            Selector::parse("subject.OU"),
            Ok(Selector::SubjectAttr("2.5.4.11".to_string()))
        );
        assert_eq!(
            Selector::parse("issuer.2.5.4.3"),
            Ok(Selector::IssuerAttr("2.5.4.3".to_string()))
        );
        assert_eq!(
            Selector::parse("ext.1.3.6.1.4.1.55555.1"),
            Ok(Selector::Ext("1.3.6.1.4.1.55555.1".to_string()))
        );
        assert_eq!(Selector::parse("roles"), Ok(Selector::Roles));
        assert_eq!(Selector::parse("issuer_pin"), Ok(Selector::IssuerPin));
        for bad in [
            "",
            "Subject",
            "subject.ou",
            "subject.",
            "ext.",
            "ext.3.1",
            "ext.1",
            "ext.1.02",
            "san",
            "san.DNS",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
        let err = Selector::parse("subject.XX").unwrap_err();
        assert_eq!(err.selector, "subject.XX");
        assert!(err
            .to_string()
            .starts_with("unknown selector `subject.XX`: attribute must be"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn values_in_certificate_order() {
        assert_eq!(values("subject"), [identity().subject.rfc4514]);
        assert_eq!(values("subject.OU"), ["Admins", "Clinicians"]);
        assert_eq!(values("subject.CN"), ["alice"]);
        assert_eq!(values("subject.O"), ["Example"]);
        assert!(values("subject.C").is_empty());
        assert!(values("issuer").is_empty(), "an empty DN has no value");
        assert_eq!(values("san.dns"), ["a.example", "b.example"]);
        assert_eq!(values("san.ip"), ["192.0.2.1"]);
        assert!(values("san.email").is_empty());
        assert_eq!(values("spiffe_id"), ["spiffe://example.org/a"]);
        assert_eq!(values("serial"), ["01ab"]);
        assert_eq!(values("fingerprint_sha256"), ["ab".repeat(32)]);
        assert_eq!(values("eku"), ["1.3.6.1.5.5.7.3.2", "clientAuth"]);
        assert_eq!(values("ext.1.3.6.1.4.1.55555.1"), ["svc-a", "svc-b"]);
        assert!(values("issuer_pin").is_empty());
        assert!(values("roles").is_empty());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn any_value_stops_at_the_first_hit() {
        let id = identity();
        let mut seen = Vec::new();
        let found = Selector::SanDns.any_value(&id, |v| {
            seen.push(v);
            v == "a.example"
        });
        assert!(found);
        assert_eq!(seen, ["a.example"]);
        assert!(!Selector::SanEmail.any_value(&id, |_| true));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn multi_valued() {
        assert!(!Selector::Subject.is_multi_valued());
        assert!(!Selector::SpiffeId.is_multi_valued());
        assert!(!Selector::FingerprintSha256.is_multi_valued());
        assert!(Selector::SubjectAttr("2.5.4.11".to_string()).is_multi_valued());
        assert!(Selector::Roles.is_multi_valued());
        assert!(Selector::IssuerPin.is_multi_valued());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn dotted_oids() {
        for ok in ["1.2", "2.5.4.3", "0.9.2342.19200300.100.1.25"] {
            assert!(is_valid_dotted_oid(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "3.1",
            "1..2",
            "1.02",
            "1.2.",
            "a.b",
            "1.2.1234567890123456789",
        ] {
            assert!(!is_valid_dotted_oid(bad), "{bad}");
        }
    }
}
