//! Public keys and the one verification entry point.

use alloc::format;
use alloc::string::String;

use p256::ecdsa::signature::Verifier as _;
use rsa::BoxedUint;
use sha2::{Sha256, Sha384, Sha512};

use super::{CryptoError, EcCurve, KeyType, SignatureAlgorithm, SignatureFormat};

/// Smallest RSA modulus accepted, in bits. 2048 is the floor of every current baseline (NIST
/// SP 800-131A, CA/Browser Forum); 1024-bit keys are factorable by a funded attacker.
pub const MIN_RSA_MODULUS_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits. Verification cost grows with the square of the
/// modulus length; 8192 bits covers every CA key in use (4096 is the usual maximum) and keeps
/// one verification under a few milliseconds even in wasm. A policy or token cannot make us
/// do more work than that per signature.
pub const MAX_RSA_MODULUS_BITS: usize = 8192;
/// Largest RSA public exponent accepted (`2^33 - 1`, the bound `ring` and `rsa` use against
/// exponent-driven denial of service). Real keys use 65537.
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;

/// A public key we can verify signatures with. Built only by the constructors below, each of
/// which checks the key completely (modulus size and exponent, point on the curve, Ed25519
/// point decoding), so a `PublicKey` in hand is always usable.
#[derive(Clone, Debug)]
pub struct PublicKey(Key);

#[derive(Clone, Debug)]
enum Key {
    Rsa { key: rsa::PublicKey, bits: usize },
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// An RSA key from its modulus `n` and public exponent `e`, big-endian unsigned octets (a
    /// JWK's `n` and `e` after base64url decoding; leading zero octets are ignored). The
    /// modulus must be odd and [`MIN_RSA_MODULUS_BITS`]..=[`MAX_RSA_MODULUS_BITS`] bits; the
    /// exponent odd, at least 3 and at most 2^33 - 1.
    pub fn rsa_from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, CryptoError> {
        let modulus = strip_leading_zeros(modulus);
        let bits = bit_length(modulus);
        if !(MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS).contains(&bits) {
            return Err(CryptoError::RsaModulusSize {
                bits,
                min: MIN_RSA_MODULUS_BITS,
                max: MAX_RSA_MODULUS_BITS,
            });
        }
        if modulus.last().is_some_and(|low| low & 1 == 0) {
            return Err(CryptoError::MalformedKey(String::from(
                "the RSA modulus is even",
            )));
        }
        let exponent = strip_leading_zeros(exponent);
        let value = exponent_value(exponent)?;
        if value < 3 || value & 1 == 0 {
            return Err(CryptoError::RsaExponent(format!(
                "{value} (it must be odd and at least 3)"
            )));
        }
        if value > MAX_RSA_EXPONENT {
            return Err(CryptoError::RsaExponent(format!(
                "{value} is above 2^33 - 1"
            )));
        }
        let n = BoxedUint::from_be_slice_vartime(modulus);
        let e = BoxedUint::from(value);
        let key =
            rsa::PublicKey::new_with_size_limits(n, e, MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS)
                .map_err(|error| CryptoError::MalformedKey(format!("RSA key refused: {error}")))?;
        Ok(PublicKey(Key::Rsa { key, bits }))
    }

    /// An EC key from a SEC1 point (uncompressed `04 || x || y` or compressed `02/03 || x`) on
    /// `curve`. A JWK's `x` and `y` make `04 || x || y`, each exactly the curve's field length.
    /// The point must be on the curve and not the identity.
    pub fn ec_from_sec1(curve: EcCurve, point: &[u8]) -> Result<Self, CryptoError> {
        let bad_point = || {
            CryptoError::MalformedKey(format!(
                "not a valid SEC1 point on {} ({} bytes)",
                curve.name(),
                point.len()
            ))
        };
        Ok(PublicKey(match curve {
            EcCurve::P256 => Key::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad_point())?,
            ),
            EcCurve::P384 => Key::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad_point())?,
            ),
        }))
    }

    /// An Ed25519 key from its 32-byte encoding (RFC 8032 §5.1.5; a JWK's `x`). The encoding
    /// must decode to a curve point.
    pub fn ed25519_from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| {
            CryptoError::MalformedKey(format!("an Ed25519 key is 32 bytes, not {}", bytes.len()))
        })?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| {
            CryptoError::MalformedKey(String::from("the Ed25519 key is not a curve point"))
        })?;
        Ok(PublicKey(Key::Ed25519(key)))
    }

    /// A key from a DER X.509 `SubjectPublicKeyInfo`: `rsaEncryption` (NULL parameters),
    /// `id-ecPublicKey` with the named curve P-256 or P-384, or `id-Ed25519` (no parameters).
    /// RSASSA-PSS-restricted keys (`id-RSASSA-PSS` in the SPKI), explicit curve parameters and
    /// other algorithms are refused with an error that names them.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, CryptoError> {
        crate::x509::signature::public_key(spki)
    }

    /// What kind of key this is.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Key::Rsa { .. } => KeyType::Rsa,
            Key::P256(_) => KeyType::Ec(EcCurve::P256),
            Key::P384(_) => KeyType::Ec(EcCurve::P384),
            Key::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// Key size in bits: the RSA modulus length, the curve size, 256 for Ed25519.
    pub fn bits(&self) -> usize {
        match &self.0 {
            Key::Rsa { bits, .. } => *bits,
            Key::P256(_) => 256,
            Key::P384(_) => 384,
            Key::Ed25519(_) => 256,
        }
    }

    /// Readable description (`RSA 2048`, `EC P-256`, `Ed25519`).
    pub fn describe(&self) -> String {
        match self.key_type() {
            KeyType::Rsa => format!("RSA {}", self.bits()),
            other => format!("{other}"),
        }
    }

    /// Verifies `signature` over `message` with `algorithm`. The key must be the type the
    /// algorithm names ([`SignatureAlgorithm::key_type`]), else [`CryptoError::KeyMismatch`]
    /// before anything else. `format` only matters for ECDSA (DER for X.509, `r || s` for
    /// JOSE). Strict: an RSA signature must be exactly the modulus length, a JOSE ECDSA
    /// signature exactly twice the field length, an X.509 one strict DER.
    pub fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        format: SignatureFormat,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let found = self.key_type();
        let expected = algorithm.key_type();
        if found != expected {
            return Err(CryptoError::KeyMismatch {
                algorithm,
                expected,
                found,
            });
        }
        let bad = || CryptoError::BadSignature { algorithm };
        match (&self.0, algorithm) {
            (Key::Rsa { key, bits }, _) => {
                let expected_len = bits.div_ceil(8);
                if signature.len() != expected_len {
                    return Err(CryptoError::MalformedSignature {
                        algorithm,
                        detail: format!(
                            "{} bytes, expected {expected_len} (the modulus length)",
                            signature.len()
                        ),
                    });
                }
                let verified = match algorithm {
                    SignatureAlgorithm::RsaPkcs1Sha256 => {
                        key.pkcs1v15_verify::<Sha256>(message, signature)
                    }
                    SignatureAlgorithm::RsaPkcs1Sha384 => {
                        key.pkcs1v15_verify::<Sha384>(message, signature)
                    }
                    SignatureAlgorithm::RsaPkcs1Sha512 => {
                        key.pkcs1v15_verify::<Sha512>(message, signature)
                    }
                    // `pss_verify` requires a salt of the hash's length, as we do.
                    SignatureAlgorithm::RsaPssSha256 => {
                        key.pss_verify::<Sha256>(message, signature)
                    }
                    SignatureAlgorithm::RsaPssSha384 => {
                        key.pss_verify::<Sha384>(message, signature)
                    }
                    SignatureAlgorithm::RsaPssSha512 => {
                        key.pss_verify::<Sha512>(message, signature)
                    }
                    _ => return Err(bad()),
                };
                verified.map_err(|_| bad())
            }
            (Key::P256(key), _) => {
                let signature = match format {
                    SignatureFormat::X509 => p256::ecdsa::Signature::from_der(signature),
                    SignatureFormat::Jose => p256::ecdsa::Signature::from_slice(signature),
                }
                .map_err(|_| malformed_ecdsa(algorithm, format, EcCurve::P256, signature))?;
                key.verify(message, &signature).map_err(|_| bad())
            }
            (Key::P384(key), _) => {
                let signature = match format {
                    SignatureFormat::X509 => p384::ecdsa::Signature::from_der(signature),
                    SignatureFormat::Jose => p384::ecdsa::Signature::from_slice(signature),
                }
                .map_err(|_| malformed_ecdsa(algorithm, format, EcCurve::P384, signature))?;
                key.verify(message, &signature).map_err(|_| bad())
            }
            (Key::Ed25519(key), _) => {
                let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
                    CryptoError::MalformedSignature {
                        algorithm,
                        detail: format!("{} bytes, expected 64", signature.len()),
                    }
                })?;
                // Strict: also refuses small-order keys and R (no signature that verifies
                // for every message under a weak key).
                key.verify_strict(message, &signature).map_err(|_| bad())
            }
        }
    }
}

fn malformed_ecdsa(
    algorithm: SignatureAlgorithm,
    format: SignatureFormat,
    curve: EcCurve,
    signature: &[u8],
) -> CryptoError {
    let detail = match format {
        SignatureFormat::X509 => format!(
            "not a DER Ecdsa-Sig-Value with 0 < r, s < n ({} bytes)",
            signature.len()
        ),
        SignatureFormat::Jose => format!(
            "{} bytes, expected r || s of {} bytes with 0 < r, s < n",
            signature.len(),
            2 * curve.field_len()
        ),
    };
    CryptoError::MalformedSignature { algorithm, detail }
}

fn strip_leading_zeros(mut octets: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = octets {
        octets = rest;
    }
    octets
}

/// Bit length of a big-endian unsigned integer without leading zero octets.
fn bit_length(octets: &[u8]) -> usize {
    match octets.first() {
        None => 0,
        Some(first) => octets.len() * 8 - first.leading_zeros() as usize,
    }
}

/// The exponent as a number, or an error when it has more than 8 octets (far above the cap).
fn exponent_value(octets: &[u8]) -> Result<u64, CryptoError> {
    if octets.len() > 8 {
        return Err(CryptoError::RsaExponent(format!(
            "{} octets long, above 2^33 - 1",
            octets.len()
        )));
    }
    Ok(octets
        .iter()
        .fold(0u64, |value, octet| (value << 8) | u64::from(*octet)))
}
