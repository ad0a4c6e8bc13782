//! Identity parsing against certificates from `testdata/identity` (see its `gen.py`).
//! Every expected value below is written by hand from the generator's inputs.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::dn::{Attribute, ValueEncoding};

macro_rules! testdata {
    ($name:literal) => {
        include_bytes!(concat!("../../testdata/identity/", $name))
    };
}

const FULL_PEM: &[u8] = testdata!("full.pem");

fn der(name: &str) -> Vec<u8> {
    let bytes: &[u8] = match name {
        "real-multi-valued-rdn" => testdata!("real-multi-valued-rdn.der"),
        "real-cn-comma-ou-admins" => testdata!("real-cn-comma-ou-admins.der"),
        "real-cn-nul" => testdata!("real-cn-nul.der"),
        "real-ou-bmpstring" => testdata!("real-ou-bmpstring.der"),
        "real-several-uri-sans" => testdata!("real-several-uri-sans.der"),
        "real-non-spiffe-uri" => testdata!("real-non-spiffe-uri.der"),
        "real-invalid-spiffe-uri" => testdata!("real-invalid-spiffe-uri.der"),
        "real-leading-zero-serial" => testdata!("real-leading-zero-serial.der"),
        "real-ca" => testdata!("real-ca.der"),
        "real-no-eku" => testdata!("real-no-eku.der"),
        "crafted-encodings" => testdata!("crafted-encodings.der"),
        "crafted-negative-serial" => testdata!("crafted-negative-serial.der"),
        "crafted-zero-serial" => testdata!("crafted-zero-serial.der"),
        "crafted-twenty-octet-serial" => testdata!("crafted-twenty-octet-serial.der"),
        "crafted-duplicate-extension" => testdata!("crafted-duplicate-extension.der"),
        "crafted-ip-san-bad-length" => testdata!("crafted-ip-san-bad-length.der"),
        "crafted-bmp-unpaired-surrogate" => testdata!("crafted-bmp-unpaired-surrogate.der"),
        "crafted-universal-bad-length" => testdata!("crafted-universal-bad-length.der"),
        "crafted-utf8-invalid" => testdata!("crafted-utf8-invalid.der"),
        "crafted-empty-rdn" => testdata!("crafted-empty-rdn.der"),
        "crafted-v1" => testdata!("crafted-v1.der"),
        "crafted-v1-explicit" => testdata!("crafted-v1-explicit.der"),
        "crafted-v1-with-extensions" => testdata!("crafted-v1-with-extensions.der"),
        "crafted-x400-and-other-sans" => testdata!("crafted-x400-and-other-sans.der"),
        "crafted-san-constructed-dns" => testdata!("crafted-san-constructed-dns.der"),
        "crafted-san-non-ascii-dns" => testdata!("crafted-san-non-ascii-dns.der"),
        "crafted-empty-subject" => testdata!("crafted-empty-subject.der"),
        "crafted-utc-times" => testdata!("crafted-utc-times.der"),
        "crafted-eku-absent-empty-extensions" => {
            testdata!("crafted-eku-absent-empty-extensions.der")
        }
        "crafted-eku-any" => testdata!("crafted-eku-any.der"),
        "crafted-unique-id-in-v1" => testdata!("crafted-unique-id-in-v1.der"),
        "crafted-unknown-tbs-field" => testdata!("crafted-unknown-tbs-field.der"),
        other => panic!("no test certificate {other}"),
    };
    bytes.to_vec()
}

fn full_der() -> Vec<u8> {
    crate::x509::pem::certificate_der(FULL_PEM).unwrap()
}

fn parse(name: &str) -> Identity {
    Identity::from_der(&der(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse_err(name: &str) -> CertError {
    Identity::from_der(&der(name)).expect_err(name)
}

fn pem_of(der: &[u8], label: &str) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn attr(oid: &str, value: &str, encoding: ValueEncoding) -> Attribute {
    Attribute {
        oid: oid.into(),
        value: value.into(),
        encoding,
    }
}

// ------------------------------------------------------------------ every field of a real cert

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn full_certificate_every_field() {
    let id = Identity::from_pem(FULL_PEM).unwrap();
    assert_eq!(
        id.subject.rfc4514,
        "CN=alice,emailAddress=alice@example.org,UID=alice01,serialNumber=E-1001,title=Dr,\
         OU=Research,OU=Clinicians,O=Example Health,DC=example,DC=org,L=San Francisco,ST=CA,C=US"
    );
    assert_eq!(id.issuer.rfc4514, "CN=Test Issuing CA,O=Example Health");
    assert_eq!(id.subject.rdns.len(), 13);
    assert_eq!(
        id.subject.rdns[0],
        vec![attr("2.5.4.6", "US", ValueEncoding::PrintableString)]
    );
    assert_eq!(
        id.subject.rdns[12],
        vec![attr("2.5.4.3", "alice", ValueEncoding::Utf8String)]
    );
    let values = |oid: &'static str| id.subject.values(oid).collect::<Vec<_>>();
    assert_eq!(values("2.5.4.11"), vec!["Clinicians", "Research"]);
    assert_eq!(values("0.9.2342.19200300.100.1.25"), vec!["org", "example"]);
    assert_eq!(values("0.9.2342.19200300.100.1.1"), vec!["alice01"]);
    assert_eq!(values("1.2.840.113549.1.9.1"), vec!["alice@example.org"]);
    assert_eq!(values("2.5.4.5"), vec!["E-1001"]);
    assert_eq!(values("2.5.4.12"), vec!["Dr"]);
    assert_eq!(values("2.5.4.7"), vec!["San Francisco"]);
    assert_eq!(values("2.5.4.8"), vec!["CA"]);
    assert_eq!(
        id.issuer.values("2.5.4.10").collect::<Vec<_>>(),
        vec!["Example Health"]
    );

    // All SANs of each type, in certificate order; otherName, dirName, registeredID skipped.
    assert_eq!(id.san_dns, strings(&["a.example.org", "b.example.org"]));
    assert_eq!(
        id.san_uri,
        strings(&["spiffe://example.org/ns/billing/sa/api"])
    );
    assert_eq!(id.san_email, strings(&["alice@example.org"]));
    assert_eq!(id.san_ip, strings(&["192.0.2.10", "2001:db8::1:0:0:1"]));
    assert_eq!(
        id.spiffe_id.as_deref(),
        Some("spiffe://example.org/ns/billing/sa/api")
    );

    assert_eq!(id.serial, "01ab");
    assert_eq!(
        id.fingerprint_sha256_hex,
        "4d15b65abd16cf43ef6c8e071116e492d94ebb6606233508bd14d77a5897266c"
    );
    assert_eq!(id.fingerprint_sha256[..2], [0x4d, 0x15]);
    assert!(id.eku_present);
    assert_eq!(
        id.eku,
        strings(&[
            "1.3.6.1.5.5.7.3.2",
            "clientAuth",
            "1.3.6.1.5.5.7.3.1",
            "serverAuth",
            "1.3.6.1.4.1.55555.9",
        ])
    );
    // keyUsage, SKI, SAN, EKU, basicConstraints and AKI are decoded, not listed.
    assert_eq!(
        id.extensions,
        vec![
            (
                "1.3.6.1.4.1.55555.1".to_string(),
                "api-client-service-a".to_string()
            ),
            ("1.3.6.1.4.1.55555.2".to_string(), "tier1".to_string()),
            ("1.3.6.1.4.1.55555.3".to_string(), "hi".to_string()),
            ("1.3.6.1.4.1.55555.4".to_string(), "02020100".to_string()),
        ]
    );
    assert_eq!(
        id.authority_key_id.as_deref(),
        Some("4b913299febb9786483f0579f64c9632c85164e8")
    );
    assert_eq!(id.not_before, UnixTime::from_secs(1_735_689_600)); // 2025-01-01T00:00:00Z, UTCTime
    assert_eq!(id.not_after, UnixTime::from_secs(4_102_444_799)); // 2099-12-31T23:59:59Z, GeneralizedTime
    assert!(!id.is_ca);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_der_and_auto_detection_agree() {
    let from_pem = Identity::from_pem(FULL_PEM).unwrap();
    let der = full_der();
    assert_eq!(Identity::from_der(&der).unwrap(), from_pem);
    assert_eq!(Identity::parse(&der).unwrap(), from_pem);
    assert_eq!(Identity::parse(FULL_PEM).unwrap(), from_pem);
    let mut indented = b"  \r\n\t".to_vec();
    indented.extend_from_slice(FULL_PEM);
    assert_eq!(Identity::parse(&indented).unwrap(), from_pem);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn utc_times_decode_to_unix_seconds() {
    let id = parse("crafted-utc-times");
    assert_eq!(id.not_before, UnixTime::from_secs(1_582_979_415)); // 2020-02-29T12:30:15Z
    assert_eq!(id.not_after, UnixTime::from_secs(2_524_607_999)); // 2049-12-31T23:59:59Z
}

// ------------------------------------------------------------------ names and string types

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_string_encoding_and_non_string_values() {
    let id = parse("crafted-encodings");
    assert_eq!(
        id.subject.rdns,
        vec![
            vec![attr("2.5.4.6", "US", ValueEncoding::PrintableString)],
            vec![attr("2.5.4.10", "Café T61", ValueEncoding::TeletexString)],
            vec![attr("2.5.4.11", "Ωmega😀", ValueEncoding::BmpString)],
            vec![attr("2.5.4.11", "Uni😀", ValueEncoding::UniversalString)],
            vec![attr("2.5.4.11", "Visible", ValueEncoding::VisibleString)],
            vec![attr("2.5.4.5", "0042 17", ValueEncoding::NumericString)],
            vec![attr(
                "1.2.840.113549.1.9.1",
                "a@example.org",
                ValueEncoding::Ia5String
            )],
            vec![attr(
                "1.3.6.1.4.1.55555.7",
                "#020105",
                ValueEncoding::NonString
            )],
            vec![
                attr("2.5.4.11", "Multi", ValueEncoding::PrintableString),
                attr("2.5.4.3", "Zoë + co", ValueEncoding::Utf8String),
            ],
        ]
    );
    assert_eq!(
        id.subject.rfc4514,
        "CN=Zoë \\+ co+OU=Multi,1.3.6.1.4.1.55555.7=#020105,emailAddress=a@example.org,\
         serialNumber=0042 17,OU=Visible,OU=Uni😀,OU=Ωmega😀,O=Café T61,C=US"
    );
    assert_eq!(
        id.subject.values("2.5.4.11").collect::<Vec<_>>(),
        vec!["Ωmega😀", "Uni😀", "Visible", "Multi"]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn multi_valued_rdn_from_real_tooling() {
    // DER sorts the SET: CN=x is encoded before OU=Clinicians; OpenSSL prints it reversed.
    let id = parse("real-multi-valued-rdn");
    assert_eq!(
        id.subject.rdns[1],
        vec![
            attr("2.5.4.3", "x", ValueEncoding::Utf8String),
            attr("2.5.4.11", "Clinicians", ValueEncoding::Utf8String),
        ]
    );
    assert_eq!(id.subject.rfc4514, "OU=Clinicians+CN=x,O=Example Health");
    assert_eq!(id.subject.rdns.len(), 2);
    assert_eq!(
        id.subject.values("2.5.4.11").collect::<Vec<_>>(),
        vec!["Clinicians"]
    );
    assert_eq!(id.subject.values("2.5.4.3").collect::<Vec<_>>(), vec!["x"]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn comma_injection_in_cn_is_one_escaped_value() {
    let id = parse("real-cn-comma-ou-admins");
    assert_eq!(
        id.subject.values("2.5.4.3").collect::<Vec<_>>(),
        vec!["x,OU=Admins"]
    );
    assert_eq!(id.subject.values("2.5.4.11").count(), 0);
    assert_eq!(id.subject.rfc4514, "CN=x\\,OU\\=Admins,O=Example Health");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn nul_in_cn_is_kept_and_rendered_escaped() {
    let id = parse("real-cn-nul");
    assert_eq!(
        id.subject.values("2.5.4.3").collect::<Vec<_>>(),
        vec!["admin\u{0}.evil"]
    );
    assert_eq!(id.subject.rfc4514, "CN=admin\\00.evil,O=Example Health");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bmpstring_ou_decodes_to_the_same_text() {
    let id = parse("real-ou-bmpstring");
    assert_eq!(
        id.subject.rdns[0],
        vec![attr("2.5.4.11", "Admins", ValueEncoding::BmpString)]
    );
    assert_eq!(id.subject.rfc4514, "CN=bmp,OU=Admins");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn empty_subject_is_allowed() {
    let id = parse("crafted-empty-subject");
    assert!(id.subject.rdns.is_empty());
    assert_eq!(id.subject.rfc4514, "");
    assert_eq!(id.spiffe_id.as_deref(), Some("spiffe://example.org/ns/x"));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn malformed_name_values_are_invalid_with_context() {
    assert_eq!(
        parse_err("crafted-bmp-unpaired-surrogate"),
        CertError::Invalid {
            field: "tbsCertificate.subject",
            detail: "value of 2.5.4.3 in RDN #1: BMPString has an unpaired surrogate".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-universal-bad-length"),
        CertError::Invalid {
            field: "tbsCertificate.subject",
            detail: "value of 2.5.4.3 in RDN #1: UniversalString length is not a multiple of 4"
                .into(),
        }
    );
    assert_eq!(
        parse_err("crafted-utf8-invalid"),
        CertError::Invalid {
            field: "tbsCertificate.subject",
            detail: "value of 2.5.4.3 in RDN #1: invalid UTF-8".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-empty-rdn"),
        CertError::Invalid {
            field: "tbsCertificate.subject",
            detail: "RDN #1 is empty".into(),
        }
    );
}

// ------------------------------------------------------------------ SANs and SPIFFE

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn several_uri_sans_give_no_spiffe_id() {
    let id = parse("real-several-uri-sans");
    assert_eq!(
        id.san_uri,
        strings(&[
            "spiffe://example.org/ns/a/sa/one",
            "spiffe://example.org/ns/b/sa/two"
        ])
    );
    assert_eq!(id.spiffe_id, None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn non_spiffe_or_invalid_spiffe_uri_gives_no_spiffe_id() {
    let https = parse("real-non-spiffe-uri");
    assert_eq!(https.san_uri, strings(&["https://example.org/ns/a"]));
    assert_eq!(https.spiffe_id, None);
    let upper = parse("real-invalid-spiffe-uri");
    assert_eq!(upper.san_uri, strings(&["spiffe://Example.org/ns/a"]));
    assert_eq!(upper.spiffe_id, None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unmodelled_general_names_are_skipped_not_fatal() {
    let id = parse("crafted-x400-and-other-sans");
    assert_eq!(id.san_dns, strings(&["kept.example.org"]));
    assert_eq!(id.spiffe_id.as_deref(), Some("spiffe://example.org/only"));
    assert!(id.san_email.is_empty() && id.san_ip.is_empty());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bad_sans_are_invalid() {
    assert_eq!(
        parse_err("crafted-ip-san-bad-length"),
        CertError::Invalid {
            field: "extensions.subjectAltName",
            detail: "entry #1: iPAddress has 5 octets, expected 4 or 16".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-san-constructed-dns"),
        CertError::Invalid {
            field: "extensions.subjectAltName",
            detail: "entry #1 ([2]) must be primitive".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-san-non-ascii-dns"),
        CertError::Invalid {
            field: "extensions.subjectAltName",
            detail: "entry #1: non-ASCII octet in an ASCII string type".into(),
        }
    );
}

// ------------------------------------------------------------------ serials

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn serials_are_hex_without_leading_zero_octets() {
    assert_eq!(parse("real-leading-zero-serial").serial, "ff00aa");
    let negative = parse("crafted-negative-serial");
    assert_eq!(negative.serial, "-81");
    assert!(!negative.serial_is_positive());
    assert_eq!(parse("crafted-zero-serial").serial, "0");
    assert_eq!(
        parse("crafted-twenty-octet-serial").serial,
        "7f11111111111111111111111111111111111111"
    );
}

// ------------------------------------------------------------------ extensions

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ca_flag_and_eku_presence() {
    let ca = parse("real-ca");
    assert!(ca.is_ca);
    assert_eq!(ca.eku, strings(&["1.3.6.1.5.5.7.3.2", "clientAuth"]));
    let no_eku = parse("real-no-eku");
    assert!(!no_eku.eku_present);
    assert!(no_eku.eku.is_empty());
    assert!(!no_eku.is_ca);
    let empty_bc = parse("crafted-eku-absent-empty-extensions");
    assert!(!empty_bc.eku_present);
    assert!(!empty_bc.is_ca);
    assert_eq!(empty_bc.authority_key_id, None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn well_known_eku_names_and_bare_aki() {
    let id = parse("crafted-eku-any");
    assert_eq!(
        id.eku,
        strings(&[
            "2.5.29.37.0",
            "anyExtendedKeyUsage",
            "1.3.6.1.5.5.7.3.9",
            "OCSPSigning"
        ])
    );
    assert_eq!(id.authority_key_id.as_deref(), Some("00112233aabbccdd"));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn duplicate_extensions_are_invalid() {
    assert_eq!(
        parse_err("crafted-duplicate-extension"),
        CertError::Invalid {
            field: "extensions",
            detail: "extension 2.5.29.17 appears more than once".into(),
        }
    );
}

// ------------------------------------------------------------------ versions and structure

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn version_rules() {
    let v1 = parse("crafted-v1");
    assert!(!v1.eku_present);
    assert_eq!(v1.subject.rfc4514, "CN=crafted");
    assert_eq!(
        parse_err("crafted-v1-explicit"),
        CertError::Invalid {
            field: "tbsCertificate.version",
            detail: "v1 is the DEFAULT and must be omitted in DER".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-v1-with-extensions"),
        CertError::Invalid {
            field: "tbsCertificate.version",
            detail: "extensions require v3".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-unique-id-in-v1"),
        CertError::Invalid {
            field: "tbsCertificate.version",
            detail: "unique identifiers require v2 or v3".into(),
        }
    );
    assert_eq!(
        parse_err("crafted-unknown-tbs-field"),
        CertError::Der("tbsCertificate: unexpected data after the last field".into())
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn trailing_data_is_rejected_with_its_length() {
    let mut bytes = full_der();
    bytes.extend_from_slice(b"junk");
    assert_eq!(
        Identity::from_der(&bytes),
        Err(CertError::TrailingData { extra: 4 })
    );
    assert_eq!(
        Identity::parse(&bytes),
        Err(CertError::TrailingData { extra: 4 })
    );
    // The same garbage inside PEM armour is caught after base64 decoding.
    let pem = pem_of(&bytes, "CERTIFICATE");
    assert_eq!(
        Identity::from_pem(pem.as_bytes()),
        Err(CertError::TrailingData { extra: 4 })
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn truncated_der_is_a_der_error() {
    let bytes = full_der();
    let error = Identity::from_der(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(
        matches!(&error, CertError::Der(d) if d.starts_with("certificate: ")),
        "{error:?}"
    );
    assert_eq!(error.reason_code(), "certificate_parse_error");
    let error = Identity::from_der(&bytes[..40]).unwrap_err();
    assert!(matches!(error, CertError::Der(_)), "{error:?}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn empty_and_oversized_inputs() {
    assert_eq!(Identity::from_der(&[]), Err(CertError::Empty));
    assert_eq!(Identity::parse(&[]), Err(CertError::Empty));
    assert_eq!(Identity::from_pem(b" \n\t "), Err(CertError::Empty));
    assert_eq!(CertError::Empty.reason_code(), "no_certificate");
    let big = vec![0x30u8; MAX_CERT_DER_LEN + 1];
    let error = Identity::from_der(&big).unwrap_err();
    assert_eq!(
        error,
        CertError::TooLarge {
            len: MAX_CERT_DER_LEN + 1,
            max: MAX_CERT_DER_LEN
        }
    );
    assert_eq!(error.reason_code(), "certificate_too_large");
    let mut big_pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
    big_pem.resize(MAX_CERT_PEM_LEN + 1, b'A');
    assert_eq!(
        Identity::parse(&big_pem),
        Err(CertError::TooLarge {
            len: MAX_CERT_PEM_LEN + 1,
            max: MAX_CERT_PEM_LEN
        })
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn not_a_certificate() {
    let error = Identity::parse(b"hello").unwrap_err();
    assert!(
        matches!(&error, CertError::Der(d) if d.starts_with("certificate: ")),
        "{error:?}"
    );
    // A SEQUENCE that is not a certificate.
    let error = Identity::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap_err();
    assert_eq!(
        error,
        CertError::Der("tbsCertificate: expected a SEQUENCE, found INTEGER".into())
    );
}

// ------------------------------------------------------------------ PEM armour

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_with_wrong_label_is_rejected() {
    let der = full_der();
    for label in ["PRIVATE KEY", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"] {
        let pem = pem_of(&der, label);
        assert_eq!(
            Identity::from_pem(pem.as_bytes()),
            Err(CertError::Pem(alloc::format!(
                "label is `{label}`, expected `CERTIFICATE`"
            ))),
            "{label}"
        );
        assert!(matches!(
            Identity::parse(pem.as_bytes()),
            Err(CertError::Pem(_))
        ));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn two_pem_blocks_are_rejected() {
    let mut two = FULL_PEM.to_vec();
    two.extend_from_slice(FULL_PEM);
    assert_eq!(Identity::from_pem(&two), Err(CertError::MultiplePem));
    assert_eq!(Identity::parse(&two), Err(CertError::MultiplePem));
    // A key after the certificate is a second block too.
    let mut with_key = FULL_PEM.to_vec();
    with_key.extend_from_slice(pem_of(b"\x30\x00", "PRIVATE KEY").as_bytes());
    assert_eq!(Identity::parse(&with_key), Err(CertError::MultiplePem));
    assert_eq!(
        CertError::MultiplePem.reason_code(),
        "certificate_parse_error"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_tolerates_explanatory_text_before_the_block_and_whitespace_around_it() {
    let expected = Identity::from_pem(FULL_PEM).unwrap();
    let mut bag = b"Bag Attributes\n    localKeyID: 01 02\nsubject=CN=alice\n\n".to_vec();
    bag.extend_from_slice(FULL_PEM);
    bag.extend_from_slice(b"\n\n  \n");
    assert_eq!(Identity::from_pem(&bag).unwrap(), expected);
    assert_eq!(Identity::parse(&bag).unwrap(), expected);
    let crlf = String::from_utf8(FULL_PEM.to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    assert_eq!(Identity::parse(crlf.as_bytes()).unwrap(), expected);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_accepts_other_fixed_line_widths() {
    let der = full_der();
    let mut buf = vec![0u8; 4096];
    let mut encoder =
        pem_rfc7468::Encoder::new_wrapped("CERTIFICATE", 76, pem_rfc7468::LineEnding::LF, &mut buf)
            .unwrap();
    encoder.encode(&der).unwrap();
    let len = encoder.finish().unwrap();
    let wide = &buf[..len];
    assert!(wide
        .windows(77)
        .any(|w| w[76] == b'\n' && !w[..76].contains(&b'\n')));
    assert_eq!(
        Identity::from_pem(wide).unwrap(),
        Identity::from_der(&der).unwrap()
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pem_text_after_the_block_headers_and_bad_base64_are_rejected() {
    let mut trailing = FULL_PEM.to_vec();
    trailing.extend_from_slice(b"garbage\n");
    assert!(matches!(
        Identity::from_pem(&trailing),
        Err(CertError::Pem(_))
    ));

    let text = core::str::from_utf8(FULL_PEM).unwrap();
    let with_header = text.replacen(
        "-----BEGIN CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n",
        1,
    );
    assert!(matches!(
        Identity::from_pem(with_header.as_bytes()),
        Err(CertError::Pem(_))
    ));

    let bad_base64 = text.replacen("MII", "M!I", 1);
    assert!(matches!(
        Identity::from_pem(bad_base64.as_bytes()),
        Err(CertError::Pem(_))
    ));

    assert_eq!(
        Identity::from_pem(b"no armour here"),
        Err(CertError::Pem("no `-----BEGIN` line".into()))
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn errors_display_what_and_where() {
    assert_eq!(
        parse_err("crafted-duplicate-extension").to_string(),
        "certificate field extensions is invalid: extension 2.5.29.17 appears more than once"
    );
    assert_eq!(
        CertError::TrailingData { extra: 4 }.to_string(),
        "4 bytes of trailing data after the certificate"
    );
}

// ------------------------------------------------------------------ never panic

/// A tiny deterministic PRNG (xorshift64*), so the test needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn random_bytes_truncations_and_mutations_never_panic() {
    let corpus = [
        full_der(),
        der("crafted-encodings"),
        der("crafted-x400-and-other-sans"),
        der("real-multi-valued-rdn"),
    ];
    for cert in &corpus {
        assert!(Identity::from_der(cert).is_ok());
        // Every truncation fails cleanly.
        for len in 0..cert.len() {
            assert!(Identity::parse(&cert[..len]).is_err(), "truncated to {len}");
        }
        // Every single-octet mutation at every position either parses or fails cleanly.
        for position in 0..cert.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut mutated = cert.clone();
                mutated[position] ^= flip;
                let _ = Identity::parse(&mutated);
            }
        }
    }
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let len = (rng.next() % 600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 && !bytes.is_empty() {
            // Start like a certificate so the parser gets past the first header.
            bytes[0] = 0x30;
        }
        let _ = Identity::parse(&bytes);
        // Splice random bytes into a real certificate.
        let mut spliced = corpus[0].clone();
        let at = (rng.next() as usize) % spliced.len();
        let end = (at + bytes.len().min(8)).min(spliced.len());
        spliced[at..end].copy_from_slice(&bytes[..end - at]);
        let _ = Identity::parse(&spliced);
    }
}

/// The cache budgets identities by `memory_bytes`: it counts every owned allocation, so a
/// certificate with more names holds more, and never less than the struct itself.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn memory_bytes_counts_every_allocation() {
    let full = Identity::from_pem(FULL_PEM).unwrap();
    let bytes = full.memory_bytes();
    let text: usize = full.subject.rfc4514.len()
        + full.issuer.rfc4514.len()
        + full
            .san_dns
            .iter()
            .chain(&full.san_uri)
            .map(String::len)
            .sum::<usize>()
        + full.fingerprint_sha256_hex.len();
    assert!(bytes >= size_of::<Identity>() + text, "{bytes}");
    let mut more = full.clone();
    let before = more.memory_bytes();
    more.san_dns.push("x".repeat(1000));
    assert!(more.memory_bytes() >= before + 1000);
    let err = CertError::Der("d".repeat(100));
    assert!(err.memory_bytes() >= 100 + size_of::<CertError>());
}
