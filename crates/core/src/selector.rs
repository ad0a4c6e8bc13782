//! Selectors name an identity attribute in policies (`subject.OU`, `san.uri`, `ext.<oid>`...).

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
