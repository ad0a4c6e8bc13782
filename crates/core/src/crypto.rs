//! Signature verification: one [`PublicKey`], one [`SignatureAlgorithm`], one call.
//!
//! Two kinds of callers build the same two values:
//! - X.509 (CRLs, certificates): [`SignatureAlgorithm::from_x509_der`] reads an
//!   `AlgorithmIdentifier` with its exact parameter rules, and [`PublicKey::from_spki_der`] a
//!   `SubjectPublicKeyInfo`; signatures are verified with [`SignatureFormat::X509`].
//! - JOSE (tokens): [`SignatureAlgorithm::from_jose`] maps an `alg` name, and the raw-component
//!   constructors ([`PublicKey::rsa_from_components`], [`PublicKey::ec_from_sec1`],
//!   [`PublicKey::ed25519_from_bytes`]) take what a JWK holds; signatures are verified with
//!   [`SignatureFormat::Jose`] (ECDSA as fixed-width `r || s`, RFC 7518 §3.4).
//!
//! Algorithm/key confusion is impossible by construction: an algorithm names its key type and
//! curve ([`SignatureAlgorithm::key_type`]), and [`PublicKey::verify`] refuses any other key
//! with [`CryptoError::KeyMismatch`] before touching the signature. There is no HMAC and no
//! "none": nothing a key could be confused with.
//!
//! Verification only, no randomness, `no_std`. The primitives are RustCrypto's `rsa`, `p256`,
//! `p384` (`ecdsa`) and `ed25519-dalek` (docs/DECISIONS.md "Signature verification" says why,
//! and what each costs in the .wasm).

mod algorithm;
mod error;
mod key;

pub use algorithm::{EcCurve, HashAlgorithm, KeyType, SignatureAlgorithm, SignatureFormat};
pub use error::CryptoError;
pub use key::{PublicKey, MAX_RSA_MODULUS_BITS, MIN_RSA_MODULUS_BITS};

#[cfg(test)]
mod tests;
