//! Certificate revocation lists (RFC 5280 §5), validated against one pinned CA (§6.3) and
//! reduced to a [`RevocationList`]: the revoked serials of that one issuer, O(1) per lookup.
//!
//! ```text
//! CA cert (PEM/DER) --CaCertificate::parse--> CaCertificate --------------------+
//! CRL (PEM/DER) --crl_der--> DER --Crl::parse(limits)--> Crl --validate(ca, now)--> RevocationList
//!                                                          `--check(ca, now)--> every problem
//! RevocationList::is_revoked(identity)   RevocationList::replace_with(newer)   is_stale(now, grace)
//! CrlSource (per issuer, in the proxy): poll(now) -> fetch -> on_response -> Update; status(identity, now)
//! ```
//!
//! What is checked, and why each refusal exists, is in docs/DECISIONS.md ("CRL validation").
//! In short: the signature with the CA's key (the outer and inner algorithms equal), the issuer
//! name (parsed, compared attribute by attribute) and authorityKeyIdentifier against the CA,
//! `thisUpdate <= now`, `nextUpdate` and `cRLNumber` present; unknown critical extensions,
//! indirect, delta and partial-scope CRLs refused. Revocation dates and reasons do not matter
//! (`certificateHold` is revoked); an expired CRL is accepted but [`RevocationList::is_stale`]
//! says so, and what a stale list means for requests is the caller's policy.
//!
//! The DER walk lives in the `x509` adapter (`x509/crl.rs`); this module holds the types.

mod error;
mod serials;
mod source;

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

pub use error::{CrlError, ReplaceError};
pub(crate) use serials::{RevokedSerials, SerialKey, MAX_SERIAL_OCTETS};
pub use source::{CrlSource, FetchResponse, RevocationStatus, Unavailable, Update, UpdateCounts};

use crate::crypto::{CryptoError, PublicKey, SignatureAlgorithm, SignatureFormat};
use crate::dn::{DistinguishedName, ValueEncoding};
use crate::hex;
use crate::identity::Identity;
use crate::time::UnixTime;

/// Bounds on the work one CRL may cause. A CRL comes from the network; these make a hostile or
/// runaway one a clear error instead of memory exhaustion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlLimits {
    /// Largest DER accepted, in bytes (PEM may be 4/3 of it plus line breaks).
    pub max_der_bytes: usize,
    /// Most revoked entries accepted.
    pub max_entries: usize,
}

impl CrlLimits {
    /// 20 MiB of DER and 500,000 entries: five times the 100,000-entry CRL we measure
    /// (3.3 MB, ~3 MiB of memory as a set), and above the largest public CRLs of CAs that
    /// issue client certificates.
    pub const DEFAULT: CrlLimits = CrlLimits {
        max_der_bytes: 20 * 1024 * 1024,
        max_entries: 500_000,
    };

    /// The PEM text cap that corresponds to `max_der_bytes`: base64 (4/3), a line break per
    /// 64 characters, and room for the armour and explanatory text.
    pub fn max_pem_bytes(&self) -> usize {
        let base64 = self.max_der_bytes.div_ceil(3).saturating_mul(4);
        base64
            .saturating_add(base64.div_ceil(64).saturating_mul(2))
            .saturating_add(4096)
    }
}

impl Default for CrlLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The DER of a CRL given as DER or PEM (one `X509 CRL` block; explanatory text before it is
/// tolerated, as for certificates). DER is borrowed, PEM decoded.
pub fn crl_der<'a>(bytes: &'a [u8], limits: &CrlLimits) -> Result<Cow<'a, [u8]>, CrlError> {
    match bytes.first() {
        None => Err(CrlError::Empty),
        Some(0x30) => {
            if bytes.len() > limits.max_der_bytes {
                return Err(CrlError::TooLarge {
                    len: bytes.len(),
                    max: limits.max_der_bytes,
                });
            }
            Ok(Cow::Borrowed(bytes))
        }
        Some(_) => {
            let max = limits.max_pem_bytes();
            if bytes.len() > max {
                return Err(CrlError::TooLarge {
                    len: bytes.len(),
                    max,
                });
            }
            let der =
                crate::x509::pem::single_block_der(bytes, "X509 CRL").map_err(CrlError::Pem)?;
            if der.len() > limits.max_der_bytes {
                return Err(CrlError::TooLarge {
                    len: der.len(),
                    max: limits.max_der_bytes,
                });
            }
            Ok(Cow::Owned(der))
        }
    }
}

/// A CRL number (RFC 5280 §5.2.3: a non-negative INTEGER of at most 20 octets), compared as a
/// number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CrlNumber {
    /// Big-endian, no leading zero octets (empty for zero).
    octets: Vec<u8>,
}

impl CrlNumber {
    /// From big-endian unsigned octets (leading zeros ignored).
    pub fn from_be_bytes(octets: &[u8]) -> Self {
        Self {
            octets: Vec::from(crate::x509::serial_octets(octets)),
        }
    }

    /// Big-endian octets without leading zeros.
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.octets
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.octets
            .len()
            .cmp(&other.octets.len())
            .then_with(|| self.octets.cmp(&other.octets))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CrlNumber {
    /// Decimal up to 128 bits (as OpenSSL prints small numbers), `0x` + hex beyond.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.octets.len() <= 16 {
            let value = self
                .octets
                .iter()
                .fold(0u128, |acc, octet| (acc << 8) | u128::from(*octet));
            write!(f, "{value}")
        } else {
            write!(f, "0x{}", hex::to_hex(&self.octets))
        }
    }
}

/// The RFC 5280 §5.3.1 reason of an entry (shown by the CLI; every reason revokes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// unspecified (0)
    Unspecified,
    /// keyCompromise (1)
    KeyCompromise,
    /// cACompromise (2)
    CaCompromise,
    /// affiliationChanged (3)
    AffiliationChanged,
    /// superseded (4)
    Superseded,
    /// cessationOfOperation (5)
    CessationOfOperation,
    /// certificateHold (6): revoked for us, like every other reason.
    CertificateHold,
    /// removeFromCRL (8): only in delta CRLs, refused in a base CRL.
    RemoveFromCrl,
    /// privilegeWithdrawn (9)
    PrivilegeWithdrawn,
    /// aACompromise (10)
    AaCompromise,
}

impl RevocationReason {
    /// The reason of an ENUMERATED value; `None` for 7 (unused) and anything above 10.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Unspecified,
            1 => Self::KeyCompromise,
            2 => Self::CaCompromise,
            3 => Self::AffiliationChanged,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            8 => Self::RemoveFromCrl,
            9 => Self::PrivilegeWithdrawn,
            10 => Self::AaCompromise,
            _ => return None,
        })
    }

    /// The RFC 5280 name (`keyCompromise`, `certificateHold`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }
}

/// One revoked entry as listed (for display; lookups use the set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlEntry {
    /// The serial in the identity's form (lowercase hex, leading zero octets removed).
    pub serial: String,
    /// revocationDate (not used for decisions). Parsing checks only its DER shape, so a
    /// well-formed but impossible date (minute 99, 30 February) reads as `None`.
    pub revocation_date: Option<UnixTime>,
    /// reasonCode, when present.
    pub reason: Option<RevocationReason>,
}

/// A CA certificate pinned as the issuer of CRLs: its subject, subjectKeyIdentifier, public key
/// and whether its keyUsage allows signing CRLs. The certificate itself is not verified (it
/// is configuration, like a trust anchor).
#[derive(Clone, Debug)]
pub struct CaCertificate {
    pub(crate) subject: DistinguishedName,
    pub(crate) key_id: Option<Vec<u8>>,
    pub(crate) key: Result<PublicKey, CryptoError>,
    /// keyUsage absent, or present with cRLSign.
    pub(crate) may_sign_crls: bool,
    pub(crate) is_ca: bool,
}

impl CaCertificate {
    /// Parses one CA certificate, PEM (one `CERTIFICATE` block) or DER, with the same strict
    /// reader as client certificates. An unsupported public key is not an error here (the
    /// certificate still names an issuer); [`Crl::check`] reports it as [`CrlError::CaKey`].
    pub fn parse(bytes: &[u8]) -> Result<Self, CrlError> {
        crate::x509::crl::parse_ca_certificate(bytes)
    }

    /// The subject: the name its CRLs must carry as issuer.
    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    /// The subjectKeyIdentifier, when present.
    pub fn key_id(&self) -> Option<&[u8]> {
        self.key_id.as_deref()
    }

    /// The subjectKeyIdentifier as lowercase hex (the form of an `issuers` entry's `key_id`).
    pub fn key_id_hex(&self) -> Option<String> {
        self.key_id.as_deref().map(hex::to_hex)
    }

    /// The public key, or why it cannot verify anything.
    pub fn public_key(&self) -> Result<&PublicKey, &CryptoError> {
        self.key.as_ref()
    }

    /// basicConstraints cA = TRUE.
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// keyUsage is absent or includes cRLSign.
    pub fn may_sign_crls(&self) -> bool {
        self.may_sign_crls
    }
}

/// A parsed CRL whose structure and extensions have been read but which has NOT been checked
/// against a CA yet: [`Crl::validate`] does that. Borrows the DER (the signed bytes).
#[derive(Debug)]
pub struct Crl<'a> {
    pub(crate) signed: &'a [u8],
    pub(crate) outer_algorithm: &'a [u8],
    pub(crate) signature: Option<&'a [u8]>,
    pub(crate) issuer: DistinguishedName,
    pub(crate) this_update: UnixTime,
    pub(crate) next_update: Option<UnixTime>,
    /// 1 or 2 (v1 has no extensions at all, entry extensions included).
    pub(crate) version: u8,
    pub(crate) entries_der: &'a [u8],
    pub(crate) entry_count: usize,
    pub(crate) serials: RevokedSerials,
    pub(crate) number: Option<CrlNumber>,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    pub(crate) distribution_points: Vec<String>,
    pub(crate) only_user_certs: bool,
    pub(crate) has_freshest_crl: bool,
    /// Refusals found while reading (extensions, versions, algorithms), in document order.
    pub(crate) problems: Vec<CrlError>,
    pub(crate) more_problems: usize,
}

/// Most problems one CRL reports; beyond that they are counted.
pub(crate) const MAX_PROBLEMS: usize = 16;

impl<'a> Crl<'a> {
    /// Reads a DER CRL (see [`crl_der`] for PEM) within `limits`. Malformed DER and limits
    /// are errors here; everything a CRL may validly encode but we refuse (unknown critical
    /// extensions, indirect, delta...) is collected for [`Crl::check`], so that all of it can
    /// be reported at once.
    pub fn parse(der: &'a [u8], limits: &CrlLimits) -> Result<Self, CrlError> {
        crate::x509::crl::parse_crl(der, limits)
    }

    /// The issuer name.
    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }

    /// cRLNumber, when present.
    pub fn number(&self) -> Option<&CrlNumber> {
        self.number.as_ref()
    }

    /// thisUpdate.
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// nextUpdate, when present.
    pub fn next_update(&self) -> Option<UnixTime> {
        self.next_update
    }

    /// The authorityKeyIdentifier's keyIdentifier, when present.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// The signature algorithm (`signatureAlgorithm`), or why it is refused.
    pub fn signature_algorithm(&self) -> Result<SignatureAlgorithm, CryptoError> {
        SignatureAlgorithm::from_x509_der(self.outer_algorithm)
    }

    /// Entries as listed (duplicates counted).
    pub fn entry_count(&self) -> usize {
        self.entry_count
    }

    /// Distinct revoked serials.
    pub fn distinct_serials(&self) -> usize {
        self.serials.len()
    }

    /// The entries in CRL order (read again from the DER; for display).
    pub fn entries(&self) -> impl Iterator<Item = CrlEntry> + 'a {
        crate::x509::crl::entries(self.entries_der)
    }

    /// URIs of the issuingDistributionPoint's fullName, when present.
    pub fn distribution_points(&self) -> &[String] {
        &self.distribution_points
    }

    /// issuingDistributionPoint onlyContainsUserCerts (fine for client certificates).
    pub fn only_user_certs(&self) -> bool {
        self.only_user_certs
    }

    /// A non-critical freshestCRL points at delta CRLs (which we do not fetch or apply).
    pub fn has_freshest_crl(&self) -> bool {
        self.has_freshest_crl
    }

    /// Every reason to refuse this CRL as issued by `ca` at `now`, in order: what reading
    /// found, then the CA's fitness, issuer name, key id, signature and time. Empty means
    /// [`Crl::validate`] succeeds.
    pub fn check(&self, ca: &CaCertificate, now: UnixTime) -> Vec<CrlError> {
        let mut problems = self.problems.clone();
        let more_problems = self.more_problems;
        if !ca.may_sign_crls {
            problems.push(CrlError::CaCannotSignCrls);
        }
        if !names_equal(&self.issuer, &ca.subject) {
            problems.push(CrlError::IssuerMismatch {
                crl: self.issuer.rfc4514.clone(),
                ca: ca.subject.rfc4514.clone(),
            });
        }
        if let (Some(crl), Some(ca)) = (&self.authority_key_id, &ca.key_id) {
            if crl != ca {
                problems.push(CrlError::AuthorityKeyIdMismatch {
                    crl: hex::to_hex(crl),
                    ca: hex::to_hex(ca),
                });
            }
        }
        // An algorithm we refuse is already among the reading problems.
        if ca.key.is_err() || self.signature_algorithm().is_ok() {
            if let Some(error) = self.signature_problem(ca) {
                problems.push(error);
            }
        }
        if self.this_update > now {
            problems.push(CrlError::NotYetValid {
                this_update: self.this_update,
                now,
            });
        }
        if more_problems > 0 {
            problems.push(CrlError::MoreProblems {
                count: more_problems,
            });
        }
        problems
    }

    /// The problems of the CRL itself, which no CA changes (extensions, version, algorithms,
    /// missing nextUpdate or cRLNumber): the part of [`Crl::check`] that needs no CA.
    pub fn intrinsic_problems(&self) -> Vec<CrlError> {
        let mut problems = self.problems.clone();
        if self.more_problems > 0 {
            problems.push(CrlError::MoreProblems {
                count: self.more_problems,
            });
        }
        problems
    }

    /// The signature verdict alone (`None` = it verifies with the CA's key).
    pub fn signature_problem(&self, ca: &CaCertificate) -> Option<CrlError> {
        let key = match &ca.key {
            Ok(key) => key,
            Err(error) => return Some(CrlError::CaKey(error.clone())),
        };
        let algorithm = match self.signature_algorithm() {
            Ok(algorithm) => algorithm,
            Err(error) => return Some(CrlError::Algorithm(error)),
        };
        let Some(signature) = self.signature else {
            return Some(CrlError::Signature(CryptoError::MalformedSignature {
                algorithm,
                detail: String::from("the signatureValue BIT STRING has unused bits"),
            }));
        };
        key.verify(algorithm, SignatureFormat::X509, self.signed, signature)
            .err()
            .map(CrlError::Signature)
    }

    /// Checks the CRL against `ca` at `now` ([`Crl::check`]) and, when nothing is wrong,
    /// reduces it to the [`RevocationList`] of that issuer. Otherwise the first problem.
    pub fn validate(self, ca: &CaCertificate, now: UnixTime) -> Result<RevocationList, CrlError> {
        if let Some(first) = self.check(ca, now).into_iter().next() {
            return Err(first);
        }
        self.into_list(ca)
    }

    /// The [`RevocationList`] of a CRL [`Crl::check`] found nothing wrong with.
    fn into_list(self, ca: &CaCertificate) -> Result<RevocationList, CrlError> {
        let (number, next_update) = match (self.number, self.next_update) {
            (Some(number), Some(next_update)) => (number, next_update),
            (None, _) => return Err(CrlError::MissingNumber),
            (_, None) => return Err(CrlError::MissingNextUpdate),
        };
        Ok(RevocationList {
            issuer: self.issuer,
            issuer_key_id: ca.key_id.as_deref().map(hex::to_hex),
            number,
            this_update: self.this_update,
            next_update,
            entry_count: self.entry_count,
            serials: Arc::new(self.serials),
            signature: Vec::from(self.signature.unwrap_or_default()),
        })
    }
}

/// The revoked serials of ONE issuer (its name and key id), from a validated CRL.
#[derive(Clone, Debug)]
pub struct RevocationList {
    issuer: DistinguishedName,
    issuer_key_id: Option<String>,
    number: CrlNumber,
    this_update: UnixTime,
    next_update: UnixTime,
    entry_count: usize,
    /// Shared: a filter keeps the newest list per CA for the whole VM (reconfiguration), and
    /// a copy of a 100,000-entry list would double its memory.
    serials: Arc<RevokedSerials>,
    /// The signatureValue: binds the signed content, so an equal one means the same CRL.
    signature: Vec<u8>,
}

impl RevocationList {
    /// Parses (PEM or DER), checks against `ca` at `now` and reduces a CRL in one call: what
    /// a fetcher runs on each response. The entries are read only once everything else,
    /// the signature included, is right.
    pub fn from_crl(
        bytes: &[u8],
        ca: &CaCertificate,
        now: UnixTime,
        limits: &CrlLimits,
    ) -> Result<Self, CrlError> {
        let der = crl_der(bytes, limits)?;
        // A list that is not this CA's, or not yet valid, is refused before its entries are
        // read: a forged 400,000-entry list would otherwise cost a full walk (about 0.4 s)
        // on every fetch. Its first problem may then differ from `validate`'s, which reports
        // what reading found (the entries' problems included) before the CA checks.
        let mut crl = crate::x509::crl::parse_crl_header(&der, limits)?;
        if let Some(first) = crl.check(ca, now).into_iter().next() {
            return Err(first);
        }
        crate::x509::crl::read_crl_entries(&mut crl, limits)?;
        if let Some(first) = crl.intrinsic_problems().into_iter().next() {
            return Err(first);
        }
        crl.into_list(ca)
    }

    /// True when `identity` was issued by this list's issuer and its serial is listed.
    pub fn is_revoked(&self, identity: &Identity) -> bool {
        self.covers(identity) && self.contains_serial(&identity.serial)
    }

    /// True when this list speaks for `identity`'s issuer: the issuer name equals the CRL's
    /// (parsed, attribute by attribute) and, when both are known, the certificate's
    /// authorityKeyIdentifier equals the CA's subjectKeyIdentifier. A certificate of another
    /// CA with the same serial is never covered; one without an AKI is judged by name alone
    /// (the proxy verified its chain to a CA of that name).
    pub fn covers(&self, identity: &Identity) -> bool {
        if let (Some(ours), Some(theirs)) = (&self.issuer_key_id, &identity.authority_key_id) {
            if ours != theirs {
                return false;
            }
        }
        names_equal(&self.issuer, &identity.issuer)
    }

    /// True when the serial, in the identity's form (`Identity::serial`: lowercase hex,
    /// leading zero octets removed, `0` for zero), is listed. Any other spelling is not found.
    pub fn contains_serial(&self, serial: &str) -> bool {
        SerialKey::from_identity_hex(serial).is_some_and(|key| self.serials.contains(&key))
    }

    /// True when `now` is past nextUpdate plus `grace_secs`: the CA should have published a
    /// newer CRL by now.
    pub fn is_stale(&self, now: UnixTime, grace_secs: u64) -> bool {
        now.as_secs() > self.next_update.as_secs().saturating_add(grace_secs)
    }

    /// Replaces this list with `newer` when it belongs to the same issuer and has a higher CRL
    /// number; otherwise keeps this one and says why. Returns the number it replaced.
    pub fn replace_with(&mut self, newer: RevocationList) -> Result<CrlNumber, ReplaceError> {
        if self.issuer_key_id != newer.issuer_key_id || !names_equal(&self.issuer, &newer.issuer) {
            return Err(ReplaceError::OtherIssuer);
        }
        match newer.number.cmp(&self.number) {
            Ordering::Less => Err(ReplaceError::Older {
                current: self.number.clone(),
                offered: newer.number,
            }),
            Ordering::Equal => Err(ReplaceError::SameNumber {
                number: newer.number,
                identical: newer.signature == self.signature,
            }),
            Ordering::Greater => Ok(core::mem::replace(self, newer).number),
        }
    }

    /// The issuer name.
    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }

    /// The issuer's key id (the CA's subjectKeyIdentifier, lowercase hex), when known.
    pub fn issuer_key_id(&self) -> Option<&str> {
        self.issuer_key_id.as_deref()
    }

    /// cRLNumber.
    pub fn number(&self) -> &CrlNumber {
        &self.number
    }

    /// thisUpdate.
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// nextUpdate.
    pub fn next_update(&self) -> UnixTime {
        self.next_update
    }

    /// Entries as listed in the CRL.
    pub fn entry_count(&self) -> usize {
        self.entry_count
    }

    /// Distinct revoked serials held.
    pub fn len(&self) -> usize {
        self.serials.len()
    }

    /// No serial revoked.
    pub fn is_empty(&self) -> bool {
        self.serials.len() == 0
    }

    /// The CRL's signatureValue. It binds everything signed, so a fetched CRL whose last
    /// bytes (the signature) equal it is the same CRL: a fetcher can skip re-validating
    /// unchanged bytes without hashing megabytes.
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }

    /// Approximate bytes held by the serial set.
    pub fn memory_bytes(&self) -> usize {
        self.serials.allocated_bytes()
    }
}

/// Two names are equal when they have the same RDNs in the same order, each RDN the same set
/// of attributes, an attribute equal when its OID and decoded value are equal and both are
/// strings or both are not (RFC 5280 §7.1 without case folding: a CA names itself the same
/// way in its certificates and its CRLs; a PrintableString/UTF8String re-encoding is fine).
pub(crate) fn names_equal(a: &DistinguishedName, b: &DistinguishedName) -> bool {
    let attribute_equal = |x: &crate::dn::Attribute, y: &crate::dn::Attribute| {
        x.oid == y.oid
            && x.value == y.value
            && (x.encoding == ValueEncoding::NonString) == (y.encoding == ValueEncoding::NonString)
    };
    a.rdns.len() == b.rdns.len()
        && a.rdns.iter().zip(&b.rdns).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().all(|p| y.iter().any(|q| attribute_equal(p, q)))
                && y.iter().all(|q| x.iter().any(|p| attribute_equal(p, q)))
        })
}

/// `2026-11-23T00:00:00Z` for messages (proleptic Gregorian, UTC).
pub fn format_time(time: UnixTime) -> String {
    let secs = time.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
