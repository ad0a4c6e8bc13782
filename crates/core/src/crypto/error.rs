//! Why a key, an algorithm or a signature was refused.

use alloc::string::String;
use core::fmt;

use super::{KeyType, SignatureAlgorithm};

/// Why a key, an algorithm identifier or a signature was refused. Every variant says what was
/// found; none carries secret material (there is none: keys here are public).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// A signature algorithm OID we do not verify (SHA-1, MD5, DSA, P-521, ...).
    UnsupportedAlgorithm {
        /// Dotted OID, with its name when well known (`1.2.840.113549.1.1.5 (sha1WithRSAEncryption)`).
        oid: String,
    },
    /// A supported algorithm with parameters other than the exact ones it requires.
    BadAlgorithmParameters {
        /// The algorithm's name (`RSASSA-PSS`, `sha256WithRSAEncryption`, ...).
        algorithm: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A public key algorithm OID (or RSA-PSS-restricted key) we do not verify with.
    UnsupportedKeyAlgorithm {
        /// Dotted OID with its name when well known.
        oid: String,
    },
    /// An EC key on a curve other than P-256 and P-384.
    UnsupportedCurve {
        /// The curve's dotted OID or name.
        curve: String,
    },
    /// The key's encoding is malformed (DER, point encoding, lengths).
    MalformedKey(String),
    /// An RSA modulus outside `MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS`.
    RsaModulusSize {
        /// The modulus length in bits.
        bits: usize,
        /// Smallest accepted.
        min: usize,
        /// Largest accepted.
        max: usize,
    },
    /// An RSA public exponent that is even, below 3 or above 2^33 - 1.
    RsaExponent(String),
    /// The algorithm needs another type of key (an RSA key offered for ES256, a P-384 key for
    /// ES256, ...). Checked before the signature is looked at.
    KeyMismatch {
        /// The algorithm that was asked for.
        algorithm: SignatureAlgorithm,
        /// The key type it needs.
        expected: KeyType,
        /// The key type offered.
        found: KeyType,
    },
    /// The signature bytes are not well-formed for the algorithm (length, DER).
    MalformedSignature {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
        /// What is wrong.
        detail: String,
    },
    /// A well-formed signature that does not verify: wrong key, altered message or forgery.
    BadSignature {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
    },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::UnsupportedAlgorithm { oid } => {
                write!(f, "unsupported signature algorithm {oid}")
            }
            CryptoError::BadAlgorithmParameters { algorithm, detail } => {
                write!(f, "{algorithm} parameters refused: {detail}")
            }
            CryptoError::UnsupportedKeyAlgorithm { oid } => {
                write!(f, "unsupported public key algorithm {oid}")
            }
            CryptoError::UnsupportedCurve { curve } => {
                write!(
                    f,
                    "unsupported elliptic curve {curve} (P-256 and P-384 are supported)"
                )
            }
            CryptoError::MalformedKey(detail) => write!(f, "malformed public key: {detail}"),
            CryptoError::RsaModulusSize { bits, min, max } => write!(
                f,
                "RSA modulus of {bits} bits is outside the accepted {min}..={max} bits"
            ),
            CryptoError::RsaExponent(detail) => write!(f, "RSA public exponent refused: {detail}"),
            CryptoError::KeyMismatch {
                algorithm,
                expected,
                found,
            } => write!(
                f,
                "{algorithm} needs an {expected} key, but the key is {found}"
            ),
            CryptoError::MalformedSignature { algorithm, detail } => {
                write!(f, "malformed {algorithm} signature: {detail}")
            }
            CryptoError::BadSignature { algorithm } => {
                write!(f, "{algorithm} signature does not verify")
            }
        }
    }
}

impl core::error::Error for CryptoError {}
