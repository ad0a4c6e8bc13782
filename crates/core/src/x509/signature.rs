//! DER adapter for [`crate::crypto`]: `AlgorithmIdentifier` → [`SignatureAlgorithm`] and
//! `SubjectPublicKeyInfo` → [`PublicKey`], with exact parameter rules.
//!
//! ```text
//! AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
//! SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
//! RSASSA-PSS-params ::= SEQUENCE {                                   -- RFC 4055 §3.1
//!     hashAlgorithm [0] HashAlgorithm DEFAULT sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1,
//!     saltLength [2] INTEGER DEFAULT 20, trailerField [3] INTEGER DEFAULT 1 }
//! RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } -- RFC 8017 A.1.1
//! ```

use alloc::format;
use alloc::string::String;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Decode, Sequence, Tag, Tagged};
use x509_cert::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::crypto::{CryptoError, EcCurve, HashAlgorithm, PublicKey, SignatureAlgorithm};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Names of OIDs we refuse, so that a refusal says what it was.
const KNOWN_NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
    ("1.2.840.113549.1.1.10", "id-RSASSA-PSS"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    ("1.2.840.10040.4.3", "dsa-with-sha1"),
    ("2.16.840.1.101.3.4.3.2", "dsa-with-sha256"),
    ("1.3.101.113", "id-Ed448"),
    ("1.3.132.0.35", "secp521r1 (P-521)"),
    ("1.3.132.0.10", "secp256k1"),
    ("1.2.840.10045.3.1.1", "prime192v1 (P-192)"),
    ("1.3.132.0.33", "secp224r1 (P-224)"),
    ("1.2.840.10040.4.1", "id-dsa"),
    ("1.2.840.10046.2.1", "dhpublicnumber"),
    ("1.3.101.110", "id-X25519"),
    ("2.16.840.1.101.3.4.2.4", "sha224"),
    ("1.3.14.3.2.26", "sha1"),
];

/// `1.2.840.113549.1.1.5 (sha1WithRSAEncryption)`, or the dotted OID alone.
fn describe(oid: &ObjectIdentifier) -> String {
    let dotted = super::oid::dotted(oid);
    match KNOWN_NAMES.iter().find(|(known, _)| *known == dotted) {
        Some((_, name)) => format!("{dotted} ({name})"),
        None => dotted,
    }
}

fn bad_params(algorithm: &'static str, detail: impl Into<String>) -> CryptoError {
    CryptoError::BadAlgorithmParameters {
        algorithm,
        detail: detail.into(),
    }
}

/// Parameters must be exactly one DER NULL.
fn require_null(
    parameters: Option<AnyRef<'_>>,
    algorithm: &'static str,
) -> Result<(), CryptoError> {
    match parameters {
        Some(value) if value.tag() == Tag::Null && value.value().is_empty() => Ok(()),
        Some(value) => Err(bad_params(
            algorithm,
            format!("parameters must be NULL, found {}", value.tag()),
        )),
        None => Err(bad_params(
            algorithm,
            "parameters must be NULL, found none (absent)",
        )),
    }
}

/// Parameters must be absent (RFC 5758 §3.2 for ECDSA, RFC 8410 §3 for Ed25519).
fn require_absent(
    parameters: Option<AnyRef<'_>>,
    algorithm: &'static str,
) -> Result<(), CryptoError> {
    match parameters {
        None => Ok(()),
        Some(value) => Err(bad_params(
            algorithm,
            format!("parameters must be absent, found {}", value.tag()),
        )),
    }
}

/// The signature algorithm of a complete DER `AlgorithmIdentifier`.
pub(crate) fn signature_algorithm(der: &[u8]) -> Result<SignatureAlgorithm, CryptoError> {
    let identifier = AlgorithmIdentifierRef::from_der(der).map_err(|error| {
        bad_params(
            "AlgorithmIdentifier",
            format!("not a DER AlgorithmIdentifier: {error}"),
        )
    })?;
    let oid = identifier.oid;
    let parameters = identifier.parameters;
    let rsa = |algorithm, name| require_null(parameters, name).map(|()| algorithm);
    if oid == SHA256_WITH_RSA {
        rsa(
            SignatureAlgorithm::RsaPkcs1Sha256,
            "sha256WithRSAEncryption",
        )
    } else if oid == SHA384_WITH_RSA {
        rsa(
            SignatureAlgorithm::RsaPkcs1Sha384,
            "sha384WithRSAEncryption",
        )
    } else if oid == SHA512_WITH_RSA {
        rsa(
            SignatureAlgorithm::RsaPkcs1Sha512,
            "sha512WithRSAEncryption",
        )
    } else if oid == ECDSA_WITH_SHA256 {
        require_absent(parameters, "ecdsa-with-SHA256")?;
        Ok(SignatureAlgorithm::EcdsaP256Sha256)
    } else if oid == ECDSA_WITH_SHA384 {
        require_absent(parameters, "ecdsa-with-SHA384")?;
        Ok(SignatureAlgorithm::EcdsaP384Sha384)
    } else if oid == ED25519 {
        require_absent(parameters, "Ed25519")?;
        Ok(SignatureAlgorithm::Ed25519)
    } else if oid == RSASSA_PSS {
        pss_algorithm(parameters)
    } else {
        Err(CryptoError::UnsupportedAlgorithm {
            oid: describe(&oid),
        })
    }
}

/// `RSASSA-PSS-params`, fields as written (absent = DEFAULT).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PssParameters<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_generation: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

const PSS: &str = "RSASSA-PSS";

/// A hash `AlgorithmIdentifier` inside PSS parameters: SHA-256/384/512 with NULL or absent
/// parameters (RFC 4055 §2.1 requires accepting both).
fn pss_hash(
    identifier: &AlgorithmIdentifierRef<'_>,
    field: &str,
) -> Result<HashAlgorithm, CryptoError> {
    let hash = if identifier.oid == SHA256 {
        HashAlgorithm::Sha256
    } else if identifier.oid == SHA384 {
        HashAlgorithm::Sha384
    } else if identifier.oid == SHA512 {
        HashAlgorithm::Sha512
    } else {
        return Err(bad_params(
            PSS,
            format!(
                "{field} is {}; SHA-256, SHA-384 or SHA-512 is required",
                describe(&identifier.oid)
            ),
        ));
    };
    match identifier.parameters {
        None => Ok(hash),
        Some(value) if value.tag() == Tag::Null && value.value().is_empty() => Ok(hash),
        Some(value) => Err(bad_params(
            PSS,
            format!(
                "{field} {} has {} parameters (NULL or none expected)",
                hash.name(),
                value.tag()
            ),
        )),
    }
}

fn pss_algorithm(parameters: Option<AnyRef<'_>>) -> Result<SignatureAlgorithm, CryptoError> {
    let parameters = parameters.ok_or_else(|| {
        bad_params(
            PSS,
            "parameters are absent; they must name the hash, MGF1 and salt length",
        )
    })?;
    let parameters: PssParameters<'_> = parameters
        .decode_as()
        .map_err(|error| bad_params(PSS, format!("not DER RSASSA-PSS-params: {error}")))?;
    let hash_identifier = parameters.hash.ok_or_else(|| {
        bad_params(
            PSS,
            "hashAlgorithm is absent (the default SHA-1 is not accepted)",
        )
    })?;
    let hash = pss_hash(&hash_identifier, "hashAlgorithm")?;
    let mask = parameters.mask_generation.ok_or_else(|| {
        bad_params(
            PSS,
            "maskGenAlgorithm is absent (the default MGF1 with SHA-1 is not accepted)",
        )
    })?;
    if mask.oid != MGF1 {
        return Err(bad_params(
            PSS,
            format!("maskGenAlgorithm is {}, not MGF1", describe(&mask.oid)),
        ));
    }
    let mask_hash_any = mask
        .parameters
        .ok_or_else(|| bad_params(PSS, "MGF1 has no parameters (its hash must be given)"))?;
    let mask_hash: AlgorithmIdentifierRef<'_> = mask_hash_any
        .decode_as()
        .map_err(|error| bad_params(PSS, format!("MGF1 parameters: {error}")))?;
    let mask_hash = pss_hash(&mask_hash, "the MGF1 hash")?;
    if mask_hash != hash {
        return Err(bad_params(
            PSS,
            format!(
                "MGF1 uses {} but the hash is {}; they must be the same",
                mask_hash.name(),
                hash.name()
            ),
        ));
    }
    let salt = parameters.salt_length.unwrap_or(20);
    if usize::try_from(salt).ok() != Some(hash.output_len()) {
        return Err(bad_params(
            PSS,
            format!(
                "salt length {salt}{}; it must equal the {} output length, {}",
                if parameters.salt_length.is_none() {
                    " (the default)"
                } else {
                    ""
                },
                hash.name(),
                hash.output_len()
            ),
        ));
    }
    if let Some(trailer) = parameters.trailer_field {
        if trailer != 1 {
            return Err(bad_params(
                PSS,
                format!("trailerField {trailer}; only 1 (0xBC) exists"),
            ));
        }
    }
    Ok(match hash {
        HashAlgorithm::Sha256 => SignatureAlgorithm::RsaPssSha256,
        HashAlgorithm::Sha384 => SignatureAlgorithm::RsaPssSha384,
        HashAlgorithm::Sha512 => SignatureAlgorithm::RsaPssSha512,
    })
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RsaPublicKeyRef<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// The key of a complete DER `SubjectPublicKeyInfo`.
pub(crate) fn public_key(der: &[u8]) -> Result<PublicKey, CryptoError> {
    let spki: SubjectPublicKeyInfoRef<'_> =
        SubjectPublicKeyInfoRef::from_der(der).map_err(|error| {
            CryptoError::MalformedKey(format!("not a DER SubjectPublicKeyInfo: {error}"))
        })?;
    let key_bits = key_octets(&spki.subject_public_key)?;
    let oid = spki.algorithm.oid;
    let parameters = spki.algorithm.parameters;
    if oid == RSA_ENCRYPTION {
        require_null(parameters, "rsaEncryption")?;
        let key = RsaPublicKeyRef::from_der(key_bits).map_err(|error| {
            CryptoError::MalformedKey(format!("not a DER RSAPublicKey: {error}"))
        })?;
        PublicKey::rsa_from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    } else if oid == EC_PUBLIC_KEY {
        let curve = parameters.ok_or_else(|| CryptoError::UnsupportedCurve {
            curve: String::from("(none given: namedCurve parameters are required)"),
        })?;
        let curve: ObjectIdentifier =
            curve
                .decode_as()
                .map_err(|_| CryptoError::UnsupportedCurve {
                    curve: format!(
                "given as a {} (only a namedCurve OID is accepted, not explicit parameters)",
                curve.tag()
            ),
                })?;
        let curve = if curve == P256_CURVE {
            EcCurve::P256
        } else if curve == P384_CURVE {
            EcCurve::P384
        } else {
            return Err(CryptoError::UnsupportedCurve {
                curve: describe(&curve),
            });
        };
        PublicKey::ec_from_sec1(curve, key_bits)
    } else if oid == ED25519 {
        require_absent(parameters, "Ed25519")?;
        PublicKey::ed25519_from_bytes(key_bits)
    } else if oid == RSASSA_PSS {
        Err(CryptoError::UnsupportedKeyAlgorithm {
            oid: format!(
                "{} (an RSASSA-PSS-restricted key; only rsaEncryption RSA keys are supported)",
                describe(&oid)
            ),
        })
    } else {
        Err(CryptoError::UnsupportedKeyAlgorithm {
            oid: describe(&oid),
        })
    }
}

/// The octets of the `subjectPublicKey` BIT STRING, which must have no unused bits.
fn key_octets<'a>(bits: &BitStringRef<'a>) -> Result<&'a [u8], CryptoError> {
    bits.as_bytes().ok_or_else(|| {
        CryptoError::MalformedKey(String::from(
            "subjectPublicKey has unused bits (not whole octets)",
        ))
    })
}
