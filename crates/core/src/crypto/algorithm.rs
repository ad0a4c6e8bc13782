//! The signature algorithms we verify, each with its hash and the one key type it accepts.

use core::fmt;

use super::CryptoError;

/// A signature algorithm with everything fixed: padding, hash and (for ECDSA) curve.
///
/// The set is closed on purpose: RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512 (PSS:
/// MGF1 with the same hash, salt length = hash length, trailer 1), ECDSA P-256 with SHA-256
/// and P-384 with SHA-384, and Ed25519. SHA-1, MD5, other curves, HMAC and "none" do not exist
/// here, so no parser can hand them to [`super::PublicKey::verify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`sha256WithRSAEncryption`, JOSE `RS256`).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (`sha384WithRSAEncryption`, JOSE `RS384`).
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (`sha512WithRSAEncryption`, JOSE `RS512`).
    RsaPkcs1Sha512,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt (JOSE `PS256`).
    RsaPssSha256,
    /// RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt (JOSE `PS384`).
    RsaPssSha384,
    /// RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt (JOSE `PS512`).
    RsaPssSha512,
    /// ECDSA on P-256 with SHA-256 (`ecdsa-with-SHA256`, JOSE `ES256`).
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384 (`ecdsa-with-SHA384`, JOSE `ES384`).
    EcdsaP384Sha384,
    /// Ed25519 (RFC 8032 PureEdDSA; `id-Ed25519`, JOSE `EdDSA` with an `Ed25519` key).
    Ed25519,
}

/// The hash an algorithm signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256 (32-byte output).
    Sha256,
    /// SHA-384 (48-byte output).
    Sha384,
    /// SHA-512 (64-byte output).
    Sha512,
}

impl HashAlgorithm {
    /// Output length in bytes (also the PSS salt length we require).
    pub const fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// `SHA-256`, `SHA-384`, `SHA-512`.
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }
}

/// A named elliptic curve we verify ECDSA on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 (secp256r1, prime256v1; JWK `crv` `P-256`).
    P256,
    /// NIST P-384 (secp384r1; JWK `crv` `P-384`).
    P384,
}

impl EcCurve {
    /// `P-256` / `P-384` (the JWK `crv` names).
    pub const fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
        }
    }

    /// The JWK `crv` value, or `None` for a curve we do not verify on.
    pub fn from_jwk_crv(crv: &str) -> Option<Self> {
        match crv {
            "P-256" => Some(EcCurve::P256),
            "P-384" => Some(EcCurve::P384),
            _ => None,
        }
    }

    /// Length of one coordinate (and of `r` and `s`) in bytes.
    pub const fn field_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }
}

/// The kind of public key an algorithm accepts, or a key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// An RSA key (any accepted modulus size).
    Rsa,
    /// An EC key on this curve.
    Ec(EcCurve),
    /// An Ed25519 key.
    Ed25519,
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Rsa => f.write_str("RSA"),
            KeyType::Ec(curve) => write!(f, "EC {}", curve.name()),
            KeyType::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// How the signature bytes are laid out. Only ECDSA differs: X.509 carries the DER
/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3), JOSE the two
/// values as fixed-width big-endian octets `r || s` (RFC 7518 §3.4). RSA signatures are the
/// modulus-length octet string and Ed25519 signatures 64 octets in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureFormat {
    /// X.509 / CMS: ECDSA signatures in DER.
    X509,
    /// JWS: ECDSA signatures as fixed-width `r || s`.
    Jose,
}

/// Every algorithm, for tables and tests.
pub(crate) const ALL: [SignatureAlgorithm; 9] = [
    SignatureAlgorithm::RsaPkcs1Sha256,
    SignatureAlgorithm::RsaPkcs1Sha384,
    SignatureAlgorithm::RsaPkcs1Sha512,
    SignatureAlgorithm::RsaPssSha256,
    SignatureAlgorithm::RsaPssSha384,
    SignatureAlgorithm::RsaPssSha512,
    SignatureAlgorithm::EcdsaP256Sha256,
    SignatureAlgorithm::EcdsaP384Sha384,
    SignatureAlgorithm::Ed25519,
];

impl SignatureAlgorithm {
    /// The algorithm of a JOSE `alg` header value (RFC 7518 §3.1, RFC 8037 §3.1): `RS256`,
    /// `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `ES256`, `ES384`, `EdDSA`. Exact, case
    /// sensitive; `none`, `HS*`, `ES512`, `ES256K` and anything else give `None`. `EdDSA` means
    /// Ed25519 here: it is the only Edwards curve we verify (an `Ed448` key cannot be built).
    pub fn from_jose(alg: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|candidate| candidate.jose_name() == alg)
    }

    /// The JOSE `alg` name of this algorithm.
    pub const fn jose_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => "RS256",
            SignatureAlgorithm::RsaPkcs1Sha384 => "RS384",
            SignatureAlgorithm::RsaPkcs1Sha512 => "RS512",
            SignatureAlgorithm::RsaPssSha256 => "PS256",
            SignatureAlgorithm::RsaPssSha384 => "PS384",
            SignatureAlgorithm::RsaPssSha512 => "PS512",
            SignatureAlgorithm::EcdsaP256Sha256 => "ES256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ES384",
            SignatureAlgorithm::Ed25519 => "EdDSA",
        }
    }

    /// The algorithm of a DER X.509 `AlgorithmIdentifier` (the whole SEQUENCE), with exact
    /// parameter rules: PKCS#1 v1.5 takes NULL parameters; ECDSA and Ed25519 take none;
    /// RSASSA-PSS takes explicit parameters naming SHA-256/384/512, MGF1 with that same hash,
    /// a salt as long as the hash and trailer field 1. Anything else is an error that says
    /// what was found.
    pub fn from_x509_der(algorithm_identifier: &[u8]) -> Result<Self, CryptoError> {
        crate::x509::signature::signature_algorithm(algorithm_identifier)
    }

    /// The key type (and curve) this algorithm verifies with: the only one it accepts.
    pub const fn key_type(self) -> KeyType {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256
            | SignatureAlgorithm::RsaPkcs1Sha384
            | SignatureAlgorithm::RsaPkcs1Sha512
            | SignatureAlgorithm::RsaPssSha256
            | SignatureAlgorithm::RsaPssSha384
            | SignatureAlgorithm::RsaPssSha512 => KeyType::Rsa,
            SignatureAlgorithm::EcdsaP256Sha256 => KeyType::Ec(EcCurve::P256),
            SignatureAlgorithm::EcdsaP384Sha384 => KeyType::Ec(EcCurve::P384),
            SignatureAlgorithm::Ed25519 => KeyType::Ed25519,
        }
    }

    /// The hash this algorithm signs with (Ed25519: SHA-512, inside the scheme).
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256
            | SignatureAlgorithm::RsaPssSha256
            | SignatureAlgorithm::EcdsaP256Sha256 => HashAlgorithm::Sha256,
            SignatureAlgorithm::RsaPkcs1Sha384
            | SignatureAlgorithm::RsaPssSha384
            | SignatureAlgorithm::EcdsaP384Sha384 => HashAlgorithm::Sha384,
            SignatureAlgorithm::RsaPkcs1Sha512
            | SignatureAlgorithm::RsaPssSha512
            | SignatureAlgorithm::Ed25519 => HashAlgorithm::Sha512,
        }
    }

    /// A readable name for messages and the CLI (`RSA PKCS#1 v1.5 SHA-256`, `ECDSA P-256
    /// SHA-256`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1Sha256 => "RSA PKCS#1 v1.5 SHA-256",
            SignatureAlgorithm::RsaPkcs1Sha384 => "RSA PKCS#1 v1.5 SHA-384",
            SignatureAlgorithm::RsaPkcs1Sha512 => "RSA PKCS#1 v1.5 SHA-512",
            SignatureAlgorithm::RsaPssSha256 => "RSASSA-PSS SHA-256",
            SignatureAlgorithm::RsaPssSha384 => "RSASSA-PSS SHA-384",
            SignatureAlgorithm::RsaPssSha512 => "RSASSA-PSS SHA-512",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ECDSA P-384 SHA-384",
            SignatureAlgorithm::Ed25519 => "Ed25519",
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
