//! The algorithm and key rules (the Wycheproof vectors are in tests/crypto_vectors.rs).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::crl::CaCertificate;

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 0x80);
    let mut out = vec![tag, u8::try_from(content.len()).unwrap()];
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

const NULL: &[u8] = &[0x05, 0x00];
const OID_SHA256_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
];
const OID_SHA1_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05,
];
const OID_PSS: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
];
const OID_MGF1: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
];
const OID_SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const OID_SHA384: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
];
const OID_SHA1: &[u8] = &[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a];
const OID_ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA512: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

fn parse(der: &[u8]) -> Result<SignatureAlgorithm, String> {
    SignatureAlgorithm::from_x509_der(der).map_err(|e| e.to_string())
}

/// RSASSA-PSS-params with the given fields (`None` = left out).
fn pss(
    hash: Option<&[u8]>,
    mgf_hash: Option<&[u8]>,
    salt: Option<u8>,
    trailer: Option<u8>,
) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(hash) = hash {
        fields.extend(tlv(0xa0, &seq(&[hash, NULL])));
    }
    if let Some(mgf_hash) = mgf_hash {
        fields.extend(tlv(0xa1, &seq(&[OID_MGF1, &seq(&[mgf_hash, NULL])])));
    }
    if let Some(salt) = salt {
        fields.extend(tlv(0xa2, &[0x02, 0x01, salt]));
    }
    if let Some(trailer) = trailer {
        fields.extend(tlv(0xa3, &[0x02, 0x01, trailer]));
    }
    seq(&[OID_PSS, &tlv(0x30, &fields)])
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn algorithm_identifiers_with_exact_parameters() {
    assert_eq!(
        parse(&seq(&[OID_SHA256_RSA, NULL])),
        Ok(SignatureAlgorithm::RsaPkcs1Sha256)
    );
    assert_eq!(
        parse(&seq(&[OID_SHA256_RSA])),
        Err(String::from("sha256WithRSAEncryption parameters refused: parameters must be NULL, found none (absent)"))
    );
    assert_eq!(
        parse(&seq(&[OID_SHA256_RSA, &[0x04, 0x00]])),
        Err(String::from("sha256WithRSAEncryption parameters refused: parameters must be NULL, found OCTET STRING"))
    );
    assert_eq!(
        parse(&seq(&[OID_ECDSA_SHA256])),
        Ok(SignatureAlgorithm::EcdsaP256Sha256)
    );
    assert_eq!(
        parse(&seq(&[OID_ECDSA_SHA256, NULL])),
        Err(String::from(
            "ecdsa-with-SHA256 parameters refused: parameters must be absent, found NULL"
        ))
    );
    assert_eq!(parse(&seq(&[OID_ED25519])), Ok(SignatureAlgorithm::Ed25519));
    assert_eq!(
        parse(&seq(&[OID_ED25519, NULL])),
        Err(String::from(
            "Ed25519 parameters refused: parameters must be absent, found NULL"
        ))
    );
    assert_eq!(
        parse(&seq(&[OID_SHA1_RSA, NULL])),
        Err(String::from(
            "unsupported signature algorithm 1.2.840.113549.1.1.5 (sha1WithRSAEncryption)"
        ))
    );
    assert_eq!(
        parse(&seq(&[OID_ECDSA_SHA512])),
        Err(String::from(
            "unsupported signature algorithm 1.2.840.10045.4.3.4 (ecdsa-with-SHA512)"
        ))
    );
    assert!(parse(&[0x30, 0x00]).is_err());
    assert!(parse(&[]).is_err());
    let mut trailing = seq(&[OID_ED25519]);
    trailing.push(0);
    assert!(parse(&trailing).is_err());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pss_parameters_must_be_exactly_hash_mgf1_same_hash_salt_hash_length() {
    let refused = |detail: &str| Err(alloc::format!("RSASSA-PSS parameters refused: {detail}"));
    let ok = pss(Some(OID_SHA256), Some(OID_SHA256), Some(32), None);
    assert_eq!(parse(&ok), Ok(SignatureAlgorithm::RsaPssSha256));
    assert_eq!(
        parse(&pss(Some(OID_SHA384), Some(OID_SHA384), Some(48), Some(1))),
        Ok(SignatureAlgorithm::RsaPssSha384)
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA256), Some(OID_SHA256), None, None)),
        refused("salt length 20 (the default); it must equal the SHA-256 output length, 32")
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA256), Some(OID_SHA256), Some(20), None)),
        refused("salt length 20; it must equal the SHA-256 output length, 32")
    );
    assert_eq!(
        parse(&pss(None, Some(OID_SHA256), Some(32), None)),
        refused("hashAlgorithm is absent (the default SHA-1 is not accepted)")
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA256), None, Some(32), None)),
        refused("maskGenAlgorithm is absent (the default MGF1 with SHA-1 is not accepted)")
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA256), Some(OID_SHA384), Some(32), None)),
        refused("MGF1 uses SHA-384 but the hash is SHA-256; they must be the same")
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA1), Some(OID_SHA1), Some(20), None)),
        refused("hashAlgorithm is 1.3.14.3.2.26 (sha1); SHA-256, SHA-384 or SHA-512 is required")
    );
    assert_eq!(
        parse(&pss(Some(OID_SHA256), Some(OID_SHA256), Some(32), Some(2))),
        refused("trailerField 2; only 1 (0xBC) exists")
    );
    assert_eq!(
        parse(&seq(&[OID_PSS])),
        refused("parameters are absent; they must name the hash, MGF1 and salt length")
    );
    // The hash's own parameters may be NULL or absent (RFC 4055 §2.1).
    let absent_hash_params = seq(&[
        OID_PSS,
        &seq(&[
            &tlv(0xa0, &seq(&[OID_SHA256])),
            &tlv(0xa1, &seq(&[OID_MGF1, &seq(&[OID_SHA256])])),
            &tlv(0xa2, &[0x02, 0x01, 32]),
        ]),
    ]);
    assert_eq!(
        parse(&absent_hash_params),
        Ok(SignatureAlgorithm::RsaPssSha256)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn jose_names_map_one_to_one() {
    for algorithm in algorithm::ALL {
        assert_eq!(
            SignatureAlgorithm::from_jose(algorithm.jose_name()),
            Some(algorithm)
        );
    }
    for refused in [
        "none", "None", "HS256", "HS512", "ES512", "ES256K", "Ed25519", "rs256", "PS256 ", "",
    ] {
        assert_eq!(SignatureAlgorithm::from_jose(refused), None, "{refused}");
    }
    assert_eq!(
        SignatureAlgorithm::from_jose("EdDSA"),
        Some(SignatureAlgorithm::Ed25519)
    );
    assert_eq!(EcCurve::from_jwk_crv("P-384"), Some(EcCurve::P384));
    assert_eq!(EcCurve::from_jwk_crv("P-521"), None);
}

fn fixture_key(name: &str) -> PublicKey {
    let ca = CaCertificate::parse(&mtls_authz_fixtures::cert_bytes(name).unwrap()).unwrap();
    ca.public_key().unwrap().clone()
}

/// Every (algorithm, key type) pair but the matching one is refused before the signature is
/// looked at: confusion is impossible whatever the signature bytes are.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_algorithm_accepts_only_its_key_type() {
    let keys = [
        fixture_key("crl/ca-rsa"),
        fixture_key("ca/health-issuing"),
        fixture_key("crl/ca-p384"),
        fixture_key("crl/ca-ed25519"),
    ];
    for algorithm in algorithm::ALL {
        for key in &keys {
            let outcome = key.verify(algorithm, SignatureFormat::Jose, b"message", &[0u8; 64]);
            if key.key_type() == algorithm.key_type() {
                assert!(
                    !matches!(outcome, Err(CryptoError::KeyMismatch { .. })),
                    "{algorithm} {}",
                    key.describe()
                );
            } else {
                assert_eq!(
                    outcome,
                    Err(CryptoError::KeyMismatch {
                        algorithm,
                        expected: algorithm.key_type(),
                        found: key.key_type()
                    })
                );
            }
        }
    }
    assert_eq!(
        keys[0]
            .verify(
                SignatureAlgorithm::EcdsaP256Sha256,
                SignatureFormat::Jose,
                b"m",
                &[0; 64]
            )
            .unwrap_err()
            .to_string(),
        "ECDSA P-256 SHA-256 needs an EC P-256 key, but the key is RSA"
    );
    assert_eq!(
        keys[2]
            .verify(
                SignatureAlgorithm::EcdsaP256Sha256,
                SignatureFormat::Jose,
                b"m",
                &[0; 64]
            )
            .unwrap_err()
            .to_string(),
        "ECDSA P-256 SHA-256 needs an EC P-256 key, but the key is EC P-384"
    );
    assert_eq!(keys[0].describe(), "RSA 2048");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn malformed_signatures_are_named() {
    let rsa = fixture_key("crl/ca-rsa");
    assert_eq!(
        rsa.verify(
            SignatureAlgorithm::RsaPkcs1Sha256,
            SignatureFormat::X509,
            b"m",
            &[1; 255]
        )
        .unwrap_err()
        .to_string(),
        "malformed RSA PKCS#1 v1.5 SHA-256 signature: 255 bytes, expected 256 (the modulus length)"
    );
    assert_eq!(
        rsa.verify(
            SignatureAlgorithm::RsaPssSha256,
            SignatureFormat::X509,
            b"m",
            &[1; 256]
        ),
        Err(CryptoError::BadSignature {
            algorithm: SignatureAlgorithm::RsaPssSha256
        })
    );
    let p256 = fixture_key("ca/health-issuing");
    assert_eq!(
        p256.verify(SignatureAlgorithm::EcdsaP256Sha256, SignatureFormat::Jose, b"m", &[1; 63])
            .unwrap_err()
            .to_string(),
        "malformed ECDSA P-256 SHA-256 signature: 63 bytes, expected r || s of 64 bytes with 0 < r, s < n"
    );
    assert!(matches!(
        p256.verify(
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureFormat::X509,
            b"m",
            &[1; 64]
        ),
        Err(CryptoError::MalformedSignature { .. })
    ));
    let ed = fixture_key("crl/ca-ed25519");
    assert_eq!(
        ed.verify(
            SignatureAlgorithm::Ed25519,
            SignatureFormat::Jose,
            b"m",
            &[0; 63]
        )
        .unwrap_err()
        .to_string(),
        "malformed Ed25519 signature: 63 bytes, expected 64"
    );
}

/// An odd modulus of `bits` bits (not a real key: the bounds are checked first).
fn modulus(bits: usize) -> Vec<u8> {
    let mut n = vec![0xffu8; bits.div_ceil(8)];
    if bits % 8 != 0 {
        n[0] = 0xff >> (8 - bits % 8);
    }
    n
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rsa_key_bounds() {
    let e = [0x01, 0x00, 0x01];
    let error = |n: &[u8], e: &[u8]| {
        PublicKey::rsa_from_components(n, e)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(&modulus(2047), &e),
        "RSA modulus of 2047 bits is outside the accepted 2048..=8192 bits"
    );
    assert_eq!(
        error(&modulus(1024), &e),
        "RSA modulus of 1024 bits is outside the accepted 2048..=8192 bits"
    );
    assert_eq!(
        error(&modulus(8193), &e),
        "RSA modulus of 8193 bits is outside the accepted 2048..=8192 bits"
    );
    assert!(PublicKey::rsa_from_components(&modulus(2048), &e).is_ok());
    // Leading zero octets are not bits (JWK and DER INTEGER spellings).
    let mut padded = vec![0, 0];
    padded.extend(modulus(2048));
    assert_eq!(
        PublicKey::rsa_from_components(&padded, &e).unwrap().bits(),
        2048
    );
    assert!(PublicKey::rsa_from_components(&modulus(8192), &e).is_ok());
    let mut even = modulus(2048);
    *even.last_mut().unwrap() = 0xfe;
    assert_eq!(
        error(&even, &e),
        "malformed public key: the RSA modulus is even"
    );
    assert_eq!(
        error(&modulus(2048), &[1]),
        "RSA public exponent refused: 1 (it must be odd and at least 3)"
    );
    assert_eq!(
        error(&modulus(2048), &[4]),
        "RSA public exponent refused: 4 (it must be odd and at least 3)"
    );
    assert_eq!(
        error(&modulus(2048), &[0x02, 0x00, 0x00, 0x00, 0x01]),
        "RSA public exponent refused: 8589934593 is above 2^33 - 1"
    );
    assert_eq!(
        error(&modulus(2048), &[1; 9]),
        "RSA public exponent refused: 9 octets long, above 2^33 - 1"
    );
    assert!(PublicKey::rsa_from_components(&modulus(2048), &[3]).is_ok());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ec_and_ed25519_keys_are_checked() {
    assert_eq!(
        PublicKey::ec_from_sec1(EcCurve::P256, &[0x04; 65])
            .unwrap_err()
            .to_string(),
        "malformed public key: not a valid SEC1 point on P-256 (65 bytes)"
    );
    assert!(PublicKey::ec_from_sec1(EcCurve::P384, &[]).is_err());
    assert_eq!(
        PublicKey::ed25519_from_bytes(&[0; 31])
            .unwrap_err()
            .to_string(),
        "malformed public key: an Ed25519 key is 32 bytes, not 31"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn spki_refusals_name_what_they_found() {
    let spki = |algorithm: &[u8], key: &[u8]| {
        let mut bits = vec![0u8];
        bits.extend_from_slice(key);
        seq(&[algorithm, &tlv(0x03, &bits)])
    };
    let ec = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01][..];
    let p521 = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23][..];
    let error = |der: &[u8]| PublicKey::from_spki_der(der).unwrap_err().to_string();
    assert_eq!(
        error(&spki(&seq(&[ec, p521]), &[0x04; 10])),
        "unsupported elliptic curve 1.3.132.0.35 (secp521r1 (P-521)) (P-256 and P-384 are supported)"
    );
    assert_eq!(
        error(&spki(&seq(&[ec]), &[0x04; 10])),
        "unsupported elliptic curve (none given: namedCurve parameters are required) (P-256 and P-384 are supported)"
    );
    let x25519 = &[0x06, 0x03, 0x2b, 0x65, 0x6e][..];
    assert_eq!(
        error(&spki(&seq(&[x25519]), &[0; 32])),
        "unsupported public key algorithm 1.3.101.110 (id-X25519)"
    );
    assert_eq!(
        error(&spki(&seq(&[OID_ED25519, NULL]), &[0; 32])),
        "Ed25519 parameters refused: parameters must be absent, found NULL"
    );
    assert!(
        error(&[0x30, 0x00]).starts_with("malformed public key: not a DER SubjectPublicKeyInfo")
    );
}
