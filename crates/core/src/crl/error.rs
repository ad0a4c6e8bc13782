//! Why a CRL (or the CA certificate that should verify it) was refused.

use alloc::string::String;
use core::fmt;

use super::{format_time, CrlNumber};
use crate::crypto::CryptoError;
use crate::time::UnixTime;

/// Why a CRL was refused, or a CA certificate could not serve as a CRL issuer. A refused CRL
/// never replaces the last good one. [`CrlError::code`] is a stable short name for logs and
/// counters; `Display` is the message for people.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlError {
    /// No bytes at all.
    Empty,
    /// More bytes than [`super::CrlLimits::max_der_bytes`] (or the PEM equivalent).
    TooLarge {
        /// Length received.
        len: usize,
        /// Cap that was exceeded.
        max: usize,
    },
    /// More revoked entries than [`super::CrlLimits::max_entries`].
    TooManyEntries {
        /// Cap that was exceeded.
        max: usize,
    },
    /// PEM armour, label or base64 is malformed (one `X509 CRL` block is expected).
    Pem(String),
    /// Not a DER `CertificateList` (strict DER), with the field where it broke.
    Der(String),
    /// `tbsCertList.signature` and `signatureAlgorithm` differ (RFC 5280 §5.1.1.2).
    AlgorithmMismatch {
        /// The inner algorithm (name, or hex of the DER when not one we know).
        inner: String,
        /// The outer algorithm.
        outer: String,
    },
    /// The signature algorithm is not one we verify, or its parameters are wrong.
    Algorithm(CryptoError),
    /// A critical extension we do not process (RFC 5280 §5.2 / §5.3 require refusing it).
    UnknownCriticalExtension {
        /// Dotted OID.
        oid: String,
        /// The entry's serial (identity form) for an entry extension; `None` at CRL level.
        entry: Option<String>,
    },
    /// One extension OID appears twice in the CRL's or an entry's extensions.
    DuplicateExtension {
        /// Dotted OID.
        oid: String,
        /// The entry's serial for an entry extension.
        entry: Option<String>,
    },
    /// An extension we process is malformed (cRLNumber, issuingDistributionPoint, reasonCode...).
    BadExtension {
        /// The extension's name.
        extension: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// An indirect CRL (IDP `indirectCRL`, or a `certificateIssuer` entry extension): it may
    /// revoke certificates of other issuers, which a CRL pinned to one CA must never do.
    Indirect(String),
    /// A delta CRL (`deltaCRLIndicator`, or a critical `freshestCRL`): deltas are not applied.
    Delta(String),
    /// The issuingDistributionPoint limits the CRL to a subset (only CA certificates, only
    /// attribute certificates, only some reasons): it cannot stand for a complete CRL.
    PartialScope(String),
    /// `removeFromCRL` in a base CRL (RFC 5280 §5.3.1 allows it only in delta CRLs).
    RemoveFromCrl {
        /// The entry's serial.
        serial: String,
    },
    /// A v1 CRL carrying extensions, or a version other than v1/v2.
    Version(String),
    /// No `nextUpdate`: nobody could tell when the CRL goes stale (RFC 5280 §5.1.2.5).
    MissingNextUpdate,
    /// `nextUpdate` before `thisUpdate`.
    NextUpdateBeforeThisUpdate {
        /// thisUpdate.
        this_update: UnixTime,
        /// nextUpdate.
        next_update: UnixTime,
    },
    /// No `cRLNumber`: an older CRL could not be told from a newer one (RFC 5280 §5.2.3).
    MissingNumber,
    /// The CRL's issuer name is not the CA certificate's subject.
    IssuerMismatch {
        /// The CRL's issuer (RFC 4514).
        crl: String,
        /// The CA's subject (RFC 4514).
        ca: String,
    },
    /// The CRL's authorityKeyIdentifier is not the CA certificate's subjectKeyIdentifier.
    AuthorityKeyIdMismatch {
        /// The CRL's AKI keyIdentifier (lowercase hex).
        crl: String,
        /// The CA's SKI (lowercase hex).
        ca: String,
    },
    /// The CA certificate's keyUsage does not include cRLSign (RFC 5280 §6.3.3 (f)).
    CaCannotSignCrls,
    /// The CA certificate's public key is not one we verify with.
    CaKey(CryptoError),
    /// The signature does not verify with the CA's key (or the key cannot verify this
    /// algorithm).
    Signature(CryptoError),
    /// `thisUpdate` is after now: issued in the future (clock skew or a forged date).
    NotYetValid {
        /// thisUpdate.
        this_update: UnixTime,
        /// The time the check used.
        now: UnixTime,
    },
    /// The CA certificate cannot be read.
    CaCertificate(String),
    /// Problems beyond the ones listed (only in [`super::Crl::check`]'s list).
    MoreProblems {
        /// How many more.
        count: usize,
    },
}

impl CrlError {
    /// Stable short code (`crl_bad_signature`, `crl_issuer_mismatch`, ...) for logs and
    /// counters.
    pub fn code(&self) -> &'static str {
        match self {
            CrlError::Empty => "crl_empty",
            CrlError::TooLarge { .. } => "crl_too_large",
            CrlError::TooManyEntries { .. } => "crl_too_many_entries",
            CrlError::Pem(_) | CrlError::Der(_) | CrlError::Version(_) => "crl_parse_error",
            CrlError::AlgorithmMismatch { .. } => "crl_algorithm_mismatch",
            CrlError::Algorithm(_) => "crl_unsupported_algorithm",
            CrlError::UnknownCriticalExtension { .. } => "crl_unknown_critical_extension",
            CrlError::DuplicateExtension { .. } | CrlError::BadExtension { .. } => {
                "crl_bad_extension"
            }
            CrlError::Indirect(_) => "crl_indirect",
            CrlError::Delta(_) => "crl_delta",
            CrlError::PartialScope(_) => "crl_partial_scope",
            CrlError::RemoveFromCrl { .. } => "crl_remove_from_crl",
            CrlError::MissingNextUpdate => "crl_no_next_update",
            CrlError::NextUpdateBeforeThisUpdate { .. } => "crl_bad_validity",
            CrlError::MissingNumber => "crl_no_number",
            CrlError::IssuerMismatch { .. } => "crl_issuer_mismatch",
            CrlError::AuthorityKeyIdMismatch { .. } => "crl_key_id_mismatch",
            CrlError::CaCannotSignCrls => "crl_ca_not_crl_signer",
            CrlError::CaKey(_) => "crl_ca_key_unsupported",
            CrlError::Signature(_) => "crl_bad_signature",
            CrlError::NotYetValid { .. } => "crl_not_yet_valid",
            CrlError::CaCertificate(_) => "crl_ca_certificate_invalid",
            CrlError::MoreProblems { .. } => "crl_more_problems",
        }
    }
}

fn entry_suffix(f: &mut fmt::Formatter<'_>, entry: &Option<String>) -> fmt::Result {
    match entry {
        Some(serial) => write!(f, " (entry serial {serial})"),
        None => Ok(()),
    }
}

impl fmt::Display for CrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrlError::Empty => f.write_str("the CRL is empty"),
            CrlError::TooLarge { len, max } => {
                write!(f, "the CRL is {len} bytes, more than the {max}-byte limit")
            }
            CrlError::TooManyEntries { max } => {
                write!(f, "the CRL has more than {max} entries (the limit)")
            }
            CrlError::Pem(detail) => write!(f, "CRL PEM is malformed: {detail}"),
            CrlError::Der(detail) => write!(f, "CRL DER is malformed: {detail}"),
            CrlError::AlgorithmMismatch { inner, outer } => write!(
                f,
                "tbsCertList.signature ({inner}) differs from signatureAlgorithm ({outer})"
            ),
            CrlError::Algorithm(error) => write!(f, "CRL signature algorithm: {error}"),
            CrlError::UnknownCriticalExtension { oid, entry } => {
                write!(f, "unknown critical extension {oid}")?;
                entry_suffix(f, entry)
            }
            CrlError::DuplicateExtension { oid, entry } => {
                write!(f, "extension {oid} appears more than once")?;
                entry_suffix(f, entry)
            }
            CrlError::BadExtension { extension, detail } => {
                write!(f, "{extension} extension is invalid: {detail}")
            }
            CrlError::Indirect(detail) => write!(
                f,
                "indirect CRL ({detail}): it could revoke other issuers' certificates; only direct CRLs are accepted"
            ),
            CrlError::Delta(detail) => write!(
                f,
                "delta CRL ({detail}): deltas are not applied; publish a complete CRL"
            ),
            CrlError::PartialScope(detail) => write!(
                f,
                "the CRL covers only part of its issuer's certificates ({detail}); a complete CRL is required"
            ),
            CrlError::RemoveFromCrl { serial } => write!(
                f,
                "entry serial {serial} has reason removeFromCRL, which only a delta CRL may use"
            ),
            CrlError::Version(detail) => write!(f, "CRL version: {detail}"),
            CrlError::MissingNextUpdate => {
                f.write_str("no nextUpdate: the CRL never says when it goes stale")
            }
            CrlError::NextUpdateBeforeThisUpdate {
                this_update,
                next_update,
            } => write!(
                f,
                "nextUpdate {} is before thisUpdate {}",
                format_time(*next_update),
                format_time(*this_update)
            ),
            CrlError::MissingNumber => f.write_str(
                "no cRLNumber extension: an older CRL could not be told from a newer one",
            ),
            CrlError::IssuerMismatch { crl, ca } => write!(
                f,
                "the CRL's issuer `{crl}` is not the CA certificate's subject `{ca}`"
            ),
            CrlError::AuthorityKeyIdMismatch { crl, ca } => write!(
                f,
                "the CRL's authorityKeyIdentifier {crl} is not the CA's subjectKeyIdentifier {ca}"
            ),
            CrlError::CaCannotSignCrls => {
                f.write_str("the CA certificate's keyUsage does not include cRLSign")
            }
            CrlError::CaKey(error) => write!(f, "the CA certificate's key: {error}"),
            CrlError::Signature(error) => write!(f, "CRL signature: {error}"),
            CrlError::NotYetValid { this_update, now } => write!(
                f,
                "thisUpdate {} is after now ({})",
                format_time(*this_update),
                format_time(*now)
            ),
            CrlError::CaCertificate(detail) => write!(f, "CA certificate: {detail}"),
            CrlError::MoreProblems { count } => write!(f, "... and {count} more problems"),
        }
    }
}

impl core::error::Error for CrlError {}

/// Why a newer [`super::RevocationList`] did not replace the current one. The current one
/// stays in force in every case.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplaceError {
    /// The offered CRL's number is lower than the current one's.
    Older {
        /// The number in force.
        current: CrlNumber,
        /// The number offered.
        offered: CrlNumber,
    },
    /// The same number again. `identical` when the signature is the same too (a periodic
    /// re-fetch of an unchanged CRL: not a problem); otherwise the CA issued two different CRLs
    /// under one number (or re-signed one with a randomised ECDSA/PSS signature) — refused
    /// either way.
    SameNumber {
        /// The number.
        number: CrlNumber,
        /// The DER is byte-identical to the current one.
        identical: bool,
    },
    /// The offered list belongs to another issuer (name or key id).
    OtherIssuer,
}

impl fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplaceError::Older { current, offered } => write!(
                f,
                "CRL number {offered} is older than the current {current}; kept {current}"
            ),
            ReplaceError::SameNumber {
                number,
                identical: true,
            } => write!(f, "CRL number {number} is unchanged"),
            ReplaceError::SameNumber {
                number,
                identical: false,
            } => write!(
                f,
                "a different CRL with the same number {number}; kept the current one"
            ),
            ReplaceError::OtherIssuer => {
                f.write_str("the CRL belongs to another issuer; kept the current one")
            }
        }
    }
}

impl core::error::Error for ReplaceError {}
