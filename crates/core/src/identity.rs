//! The typed identity of a client certificate: every attribute a policy can select on.
//!
//! Built only by [`Identity::from_der`] / [`Identity::from_pem`] / [`Identity::parse`] (see
//! the `x509` adapter); never from a proxy-formatted subject string.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::dn::DistinguishedName;
use crate::time::UnixTime;

/// Largest certificate (DER bytes) accepted. Real client certificates are 0.5–4 KiB; a cap
/// bounds the work an attacker-supplied certificate (e.g. via XFCC) can cause.
pub const MAX_CERT_DER_LEN: usize = 16 * 1024;
/// Largest PEM text accepted (base64 of [`MAX_CERT_DER_LEN`] plus headers and line breaks).
pub const MAX_CERT_PEM_LEN: usize = 24 * 1024;

/// A parsed client certificate, reduced to what policies select on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Subject DN.
    pub subject: DistinguishedName,
    /// Issuer DN.
    pub issuer: DistinguishedName,
    /// Every `dNSName` SAN, in certificate order.
    pub san_dns: Vec<String>,
    /// Every `uniformResourceIdentifier` SAN, in certificate order.
    pub san_uri: Vec<String>,
    /// Every `rfc822Name` SAN, in certificate order.
    pub san_email: Vec<String>,
    /// Every `iPAddress` SAN as text (`192.0.2.1`, RFC 5952 IPv6), in certificate order.
    pub san_ip: Vec<String>,
    /// The SPIFFE ID: set only when there is exactly one URI SAN and it is a valid SPIFFE ID.
    pub spiffe_id: Option<String>,
    /// Lowercase hex of the serial's content octets with leading zero octets removed; a
    /// negative serial is `-` and the hex of its magnitude. Serials that are not positive
    /// (RFC 5280 §4.1.2.2) make the certificate unusable (`serial_not_positive`).
    pub serial: String,
    /// SHA-256 of the whole DER certificate.
    pub fingerprint_sha256: [u8; 32],
    /// Lowercase hex of [`Identity::fingerprint_sha256`].
    pub fingerprint_sha256_hex: String,
    /// SHA-256 of the same certificate re-encoded with its ECDSA signature twin `(r, n - s)`,
    /// which verifies as well as the original: revocation by fingerprint must refuse both.
    /// `None` for non-ECDSA signatures.
    pub fingerprint_sha256_signature_twin: Option<[u8; 32]>,
    /// Extended key usages: each dotted OID, plus its name for well-known ones
    /// (`clientAuth`, `serverAuth`, `codeSigning`, `emailProtection`, `timeStamping`,
    /// `OCSPSigning`, `anyExtendedKeyUsage`). Empty when the extension is absent.
    pub eku: Vec<String>,
    /// Whether the EKU extension is present at all.
    pub eku_present: bool,
    /// Extensions other than the ones decoded above, as (dotted OID, value): the string when
    /// the extension value is a DER string type, else lowercase hex of the extension value.
    pub extensions: Vec<(String, String)>,
    /// Lowercase hex of the Authority Key Identifier's keyIdentifier, when present.
    pub authority_key_id: Option<String>,
    /// Start of the validity window.
    pub not_before: UnixTime,
    /// End of the validity window (inclusive, RFC 5280 §4.1.2.5).
    pub not_after: UnixTime,
    /// basicConstraints cA = TRUE.
    pub is_ca: bool,
}

/// Heap bytes of a string (its allocation, not its length).
fn string_bytes(s: &String) -> usize {
    s.capacity()
}

/// Heap bytes of a list of strings: the list's allocation and each string's.
fn strings_bytes(list: &Vec<String>) -> usize {
    list.capacity() * size_of::<String>() + list.iter().map(string_bytes).sum::<usize>()
}

fn dn_bytes(dn: &DistinguishedName) -> usize {
    let rdns = dn.rdns.capacity() * size_of::<Vec<crate::dn::Attribute>>();
    let attributes: usize = dn
        .rdns
        .iter()
        .map(|rdn| {
            rdn.capacity() * size_of::<crate::dn::Attribute>()
                + rdn
                    .iter()
                    .map(|a| string_bytes(&a.oid) + string_bytes(&a.value))
                    .sum::<usize>()
        })
        .sum();
    rdns + attributes + string_bytes(&dn.rfc4514)
}

impl Identity {
    /// The memory this identity holds: its own size plus every heap allocation it owns
    /// (allocator overhead aside). The filter's identity cache budgets its bytes with it: a
    /// certificate near the 16 KiB cap with thousands of SANs holds tens of KiB.
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>()
            + dn_bytes(&self.subject)
            + dn_bytes(&self.issuer)
            + strings_bytes(&self.san_dns)
            + strings_bytes(&self.san_uri)
            + strings_bytes(&self.san_email)
            + strings_bytes(&self.san_ip)
            + self.spiffe_id.as_ref().map_or(0, string_bytes)
            + string_bytes(&self.serial)
            + string_bytes(&self.fingerprint_sha256_hex)
            + strings_bytes(&self.eku)
            + self.extensions.capacity() * size_of::<(String, String)>()
            + self
                .extensions
                .iter()
                .map(|(oid, value)| string_bytes(oid) + string_bytes(value))
                .sum::<usize>()
            + self.authority_key_id.as_ref().map_or(0, string_bytes)
    }

    /// Whether the serial is a positive integer, as RFC 5280 §4.1.2.2 requires.
    pub fn serial_is_positive(&self) -> bool {
        self.serial != "0" && !self.serial.starts_with('-')
    }

    /// Parses one DER certificate: strict DER, nothing after it, at most
    /// [`MAX_CERT_DER_LEN`] bytes. The signature is not verified (the proxy verified the
    /// chain); everything policies select on is decoded and checked.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        crate::x509::parse_certificate(der)
    }

    /// Parses exactly one PEM `CERTIFICATE` block (at most [`MAX_CERT_PEM_LEN`] bytes).
    /// Whitespace and explanatory text before the block (OpenSSL `Bag Attributes`,
    /// comments) are tolerated; a second PEM block, another label, PEM headers or text after
    /// the block are errors.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertError> {
        Self::from_der(&crate::x509::pem::certificate_der(pem)?)
    }

    /// Parses PEM or DER, detected from the bytes: a DER certificate starts with a SEQUENCE
    /// tag (`0x30`); input that starts with `-----BEGIN` after optional whitespace, or that
    /// contains a `-----BEGIN` line after explanatory text, is PEM. Anything else is
    /// treated as DER and fails with a DER error.
    pub fn parse(bytes: &[u8]) -> Result<Self, CertError> {
        if looks_like_pem(bytes) {
            Self::from_pem(bytes)
        } else {
            Self::from_der(bytes)
        }
    }
}

/// A certificate file as clients keep it: the leaf first, then (optionally) the certificates
/// of its chain. Only the command line reads such files; the proxies hand the filter the leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFile {
    /// The first certificate: the one a proxy takes as the client's (policies select on it).
    pub leaf: Identity,
    /// The certificates that followed the leaf, in file order.
    pub chain: Vec<Identity>,
}

impl CertificateFile {
    /// Parses DER (one certificate) or PEM with one or more `CERTIFICATE` blocks. A file with
    /// one block is read exactly as [`Identity::parse`] reads it; with several, each block is
    /// read as [`Identity::from_pem`] reads one, and text between blocks is ignored. An error
    /// in a chain certificate names its position after the leaf.
    pub fn parse(bytes: &[u8]) -> Result<Self, CertError> {
        if !looks_like_pem(bytes) || !crate::x509::pem::has_several_blocks(bytes) {
            return Ok(Self {
                leaf: Identity::parse(bytes)?,
                chain: Vec::new(),
            });
        }
        let mut blocks = crate::x509::pem::blocks(bytes).into_iter();
        let leaf = Identity::from_pem(blocks.next().unwrap_or_default())?;
        let chain = blocks
            .enumerate()
            .map(|(index, block)| {
                Identity::from_pem(block).map_err(|e| CertError::Invalid {
                    field: "chain",
                    detail: alloc::format!("certificate {} after the leaf: {e}", index + 1),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { leaf, chain })
    }

    /// The position (1 = first after the leaf) of the chain certificate whose subject is the
    /// leaf's issuer, if the file holds it.
    pub fn issuer_position(&self) -> Option<usize> {
        self.chain
            .iter()
            .position(|ca| ca.subject == self.leaf.issuer)
            .map(|index| index + 1)
    }
}

/// PEM detection for [`Identity::parse`].
fn looks_like_pem(bytes: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN";
    match bytes.first() {
        None | Some(0x30) => false,
        Some(_) => {
            bytes.trim_ascii_start().starts_with(BEGIN)
                || bytes.windows(BEGIN.len()).any(|window| window == BEGIN)
        }
    }
}

/// Why bytes could not become an [`Identity`]. Each variant maps to a deterministic
/// `unauthenticated:` reason (see [`CertError::reason_code`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertError {
    /// No bytes at all.
    Empty,
    /// More than [`MAX_CERT_DER_LEN`] DER bytes or [`MAX_CERT_PEM_LEN`] PEM bytes.
    TooLarge {
        /// Length received.
        len: usize,
        /// Cap that was exceeded.
        max: usize,
    },
    /// PEM armour or base64 is malformed, or the label is not `CERTIFICATE`.
    Pem(String),
    /// The text holds more than one certificate where one leaf was expected.
    MultiplePem,
    /// The DER does not decode as an X.509 certificate (strict DER).
    Der(String),
    /// Bytes follow the certificate.
    TrailingData {
        /// How many bytes follow.
        extra: usize,
    },
    /// A field decoded but its content is invalid (duplicate extension, bad SAN, bad time...).
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl CertError {
    /// The memory this error holds (its size and its message's allocation).
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>()
            + match self {
                CertError::Pem(detail) | CertError::Der(detail) => detail.capacity(),
                CertError::Invalid { detail, .. } => detail.capacity(),
                _ => 0,
            }
    }

    /// Stable machine-readable code used in reason strings (`unauthenticated:<code>`).
    pub fn reason_code(&self) -> &'static str {
        match self {
            CertError::Empty => "no_certificate",
            CertError::TooLarge { .. } => "certificate_too_large",
            CertError::Pem(_) | CertError::MultiplePem => "certificate_parse_error",
            CertError::Der(_) | CertError::TrailingData { .. } | CertError::Invalid { .. } => {
                "certificate_parse_error"
            }
        }
    }
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Empty => f.write_str("certificate is empty"),
            CertError::TooLarge { len, max } => {
                write!(
                    f,
                    "certificate is {len} bytes, more than the {max}-byte cap"
                )
            }
            CertError::Pem(d) => write!(f, "certificate PEM is malformed: {d}"),
            CertError::MultiplePem => f.write_str("expected one certificate, found several"),
            CertError::Der(d) => write!(f, "certificate DER is malformed: {d}"),
            CertError::TrailingData { extra } => {
                write!(f, "{extra} bytes of trailing data after the certificate")
            }
            CertError::Invalid { field, detail } => {
                write!(f, "certificate field {field} is invalid: {detail}")
            }
        }
    }
}

impl core::error::Error for CertError {}

/// What the evaluator knows about the client certificate of a request.
#[derive(Clone, Copy, Debug)]
pub enum ClientCert<'a> {
    /// No certificate was presented (or the source is not trusted).
    Absent,
    /// The host reports the certificate failed verification (e.g. NGINX `FAILED:<reason>`).
    Unverified,
    /// A certificate was presented but could not be parsed.
    Invalid(&'a CertError),
    /// A parsed certificate. Identity checks (validity, revocation, EKU, CA) still apply.
    Present(&'a Identity),
}

#[cfg(test)]
mod tests;
