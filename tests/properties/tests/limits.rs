//! Every size and count limit (issue 15, part 5): just under it is accepted, just over it is
//! refused with the reason a client or operator sees, and the limits table in
//! docs/DECISIONS.md ("Limits") states exactly the values of the code's constants.
//!
//! Certificates here are built byte by byte (DER) at the size wanted: the core does not verify
//! signatures (the proxy verified the chain), so a certificate with an Ed25519 key and a zero
//! signature is a valid input for everything the policy selects on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use mtls_authz_core::crl::CrlLimits;
use mtls_authz_core::identity::{CertError, Identity, MAX_CERT_DER_LEN, MAX_CERT_PEM_LEN};
use mtls_authz_core::path::{normalize_path, PathError, MAX_PATH_LEN};
use mtls_authz_core::policy::{MAX_FORM_BODY_CHECK_BYTES, MAX_IDENTITY_CACHE_MAX_BYTES};
use mtls_authz_core::settings::{self, MAX_IDENTITY_CACHE_SIZE};
use mtls_authz_core::spiffe::MAX_SPIFFE_ID_LEN;
use mtls_authz_core::xfcc::MAX_XFCC_LEN;
use mtls_authz_core::Policy;

// ---- DER, just enough to build certificates -------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap());
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap());
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![u8::try_from(arcs[0] * 40 + arcs[1]).unwrap()];
    for &arc in &arcs[2..] {
        let mut groups = vec![u8::try_from(arc & 0x7f).unwrap()];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | u8::try_from(rest & 0x7f).unwrap());
            rest >>= 7;
        }
        body.extend(groups.into_iter().rev());
    }
    tlv(0x06, &body)
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(0x0c, text.as_bytes())
}

/// One attribute per RDN: the CN, then `extra_ous` OUs.
fn name(cn: &str, extra_ous: usize) -> Vec<u8> {
    let mut rdns = vec![tlv(0x31, &seq(&[oid(&[2, 5, 4, 3]), utf8(cn)]))];
    rdns.extend(
        (0..extra_ous).map(|i| tlv(0x31, &seq(&[oid(&[2, 5, 4, 11]), utf8(&format!("ou{i}"))]))),
    );
    seq(&rdns)
}

fn extension(id: Vec<u8>, value: Vec<u8>) -> Vec<u8> {
    seq(&[id, tlv(0x04, &value)])
}

/// What to put in a generated certificate.
#[derive(Clone, Copy, Default)]
struct Shape {
    sans: usize,
    rdns: usize,
    extensions: usize,
    /// Arcs (each 100, one byte) after `1.3.6.1.4.1` of one more custom extension (0: none).
    oid_arcs: usize,
}

fn custom_oid(arcs_after_enterprise: &[u64]) -> Vec<u64> {
    let mut arcs = vec![1, 3, 6, 1, 4, 1];
    arcs.extend_from_slice(arcs_after_enterprise);
    arcs
}

fn certificate(shape: Shape) -> Vec<u8> {
    let ed25519 = seq(&[oid(&[1, 3, 101, 112])]);
    let mut extensions = vec![extension(
        oid(&[2, 5, 29, 37]),
        seq(&[oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2])]),
    )];
    if shape.sans > 0 {
        let names: Vec<Vec<u8>> = (0..shape.sans)
            .map(|i| tlv(0x82, format!("h{i}.example").as_bytes()))
            .collect();
        extensions.push(extension(oid(&[2, 5, 29, 17]), seq(&names)));
    }
    for i in 0..shape.extensions {
        let id = custom_oid(&[99_999, u64::try_from(i).unwrap()]);
        extensions.push(extension(oid(&id), utf8("v")));
    }
    if shape.oid_arcs > 0 {
        let arcs = vec![100; shape.oid_arcs];
        extensions.push(extension(oid(&custom_oid(&arcs)), utf8("long")));
    }
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[0x01]),
        ed25519.clone(),
        name("Limits CA", 0),
        seq(&[tlv(0x17, b"250101000000Z"), tlv(0x18, b"20991231235959Z")]),
        name("client", shape.rdns),
        seq(&[ed25519.clone(), tlv(0x03, &[0u8; 33])]),
        tlv(0xa3, &seq(&extensions)),
    ]);
    let mut signature = vec![0u8];
    signature.extend([0u8; 64]);
    seq(&[tbs, ed25519, tlv(0x03, &signature)])
}

/// The largest value of one `Shape` field whose certificate still fits the DER cap, and its
/// certificate and the next one's (which must not fit).
fn largest_fitting(set: impl Fn(usize) -> Shape) -> (usize, Vec<u8>, Vec<u8>) {
    let (mut low, mut high) = (1, 1);
    while certificate(set(high)).len() <= MAX_CERT_DER_LEN {
        low = high;
        high *= 2;
    }
    while high - low > 1 {
        let mid = (low + high) / 2;
        if certificate(set(mid)).len() <= MAX_CERT_DER_LEN {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low, certificate(set(low)), certificate(set(low + 1)))
}

fn assert_too_large(der: &[u8]) {
    assert!(der.len() > MAX_CERT_DER_LEN);
    let err = Identity::from_der(der).unwrap_err();
    assert_eq!(
        err,
        CertError::TooLarge {
            len: der.len(),
            max: MAX_CERT_DER_LEN
        }
    );
    assert_eq!(err.reason_code(), "certificate_too_large");
    assert_eq!(
        err.to_string(),
        format!(
            "certificate is {} bytes, more than the {MAX_CERT_DER_LEN}-byte cap",
            der.len()
        )
    );
}

#[test]
fn a_generated_certificate_parses() {
    let identity = Identity::from_der(&certificate(Shape {
        sans: 2,
        rdns: 1,
        extensions: 1,
        oid_arcs: 3,
    }))
    .unwrap();
    assert_eq!(identity.san_dns, ["h0.example", "h1.example"]);
    assert_eq!(identity.subject.rfc4514, "OU=ou0,CN=client");
}

#[test]
fn sans_are_counted_only_by_the_certificate_size_cap() {
    let (n, fits, over) = largest_fitting(|sans| Shape {
        sans,
        ..Shape::default()
    });
    let identity = Identity::from_der(&fits).unwrap();
    assert_eq!(identity.san_dns.len(), n, "every SAN, not the first few");
    assert_eq!(identity.san_dns[n - 1], format!("h{}.example", n - 1));
    assert!(n > 900, "{n} SANs fit in {MAX_CERT_DER_LEN} bytes");
    assert_too_large(&over);
}

#[test]
fn rdns_are_counted_only_by_the_certificate_size_cap() {
    let (n, fits, over) = largest_fitting(|rdns| Shape {
        rdns,
        ..Shape::default()
    });
    let identity = Identity::from_der(&fits).unwrap();
    assert_eq!(identity.subject.values("2.5.4.11").count(), n);
    assert!(n > 600, "{n} RDNs fit");
    assert_too_large(&over);
}

#[test]
fn extensions_are_counted_only_by_the_certificate_size_cap() {
    let (n, fits, over) = largest_fitting(|extensions| Shape {
        extensions,
        ..Shape::default()
    });
    let identity = Identity::from_der(&fits).unwrap();
    let last = custom_oid(&[99_999, u64::try_from(n - 1).unwrap()])
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    assert!(
        identity
            .extensions
            .iter()
            .any(|(id, value)| *id == last && value == "v"),
        "the last extension {last} is selectable"
    );
    assert!(n > 500, "{n} extensions fit");
    assert_too_large(&over);
}

/// The DER reader's cap on an OBJECT IDENTIFIER's encoded bytes (const-oid's
/// `ObjectIdentifier`): the one limit inside a certificate that is not its size.
const MAX_OID_BYTES: usize = 39;

#[test]
fn an_extension_oid_longer_than_the_der_readers_cap_makes_the_certificate_unparseable() {
    // `1.3.6.1.4.1` is 5 bytes; each further arc below 128 one byte.
    let with_arcs = |n: usize| Shape {
        oid_arcs: n,
        ..Shape::default()
    };
    let at_cap = MAX_OID_BYTES - 5;
    let identity = Identity::from_der(&certificate(with_arcs(at_cap))).unwrap();
    let arcs = vec![100; at_cap];
    let long = custom_oid(&arcs)
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    assert!(
        identity
            .extensions
            .iter()
            .any(|(id, value)| *id == long && value == "long"),
        "an extension whose OID is {MAX_OID_BYTES} bytes is selectable"
    );
    let err = Identity::from_der(&certificate(with_arcs(at_cap + 1))).unwrap_err();
    assert_eq!(err.reason_code(), "certificate_parse_error");
    assert!(
        err.to_string()
            .contains("incorrect length for OBJECT IDENTIFIER"),
        "{err}"
    );
}

#[test]
fn certificate_der_and_pem_caps() {
    let (_, fits, _) = largest_fitting(|sans| Shape {
        sans,
        ..Shape::default()
    });
    assert!(fits.len() <= MAX_CERT_DER_LEN && fits.len() > MAX_CERT_DER_LEN - 64);
    Identity::from_der(&fits).unwrap();
    // The largest DER, as PEM, fits the PEM cap; a PEM one byte over the cap is refused before
    // it is decoded.
    let pem = pem_of(&fits);
    assert!(pem.len() <= MAX_CERT_PEM_LEN, "{} PEM bytes", pem.len());
    Identity::from_pem(pem.as_bytes()).unwrap();
    let mut padded = "\n".repeat(MAX_CERT_PEM_LEN - pem.len());
    padded.push_str(&pem);
    assert_eq!(padded.len(), MAX_CERT_PEM_LEN);
    Identity::from_pem(padded.as_bytes()).unwrap();
    let over = format!("\n{padded}");
    let err = Identity::from_pem(over.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CertError::TooLarge {
            len: MAX_CERT_PEM_LEN + 1,
            max: MAX_CERT_PEM_LEN
        }
    );
    assert_eq!(err.reason_code(), "certificate_too_large");
}

fn pem_of(der: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
fn path_length_cap() {
    let at_cap = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
    assert_eq!(normalize_path(&at_cap).unwrap().path, at_cap);
    let over = format!("{at_cap}a");
    assert_eq!(normalize_path(&over), Err(PathError::TooLong));
    assert_eq!(PathError::TooLong.code(), "path_too_long");
    // The query counts.
    let with_query = format!("/?{}", "q".repeat(MAX_PATH_LEN - 1));
    assert_eq!(normalize_path(&with_query), Err(PathError::TooLong));
}

#[test]
fn xfcc_header_cap() {
    let at_cap = format!("Cert={}", "a".repeat(MAX_XFCC_LEN - 5));
    assert_eq!(at_cap.len(), MAX_XFCC_LEN);
    assert!(mtls_authz_core::xfcc::last_element_cert(&at_cap).is_ok());
    let over = format!("{at_cap}a");
    let err = mtls_authz_core::xfcc::last_element_cert(&over).unwrap_err();
    assert_eq!(CertError::from(err).reason_code(), "certificate_too_large");
}

#[test]
fn spiffe_id_cap() {
    use mtls_authz_core::spiffe::SpiffeId;
    let prefix = "spiffe://example.org/";
    let at_cap = format!("{prefix}{}", "a".repeat(MAX_SPIFFE_ID_LEN - prefix.len()));
    assert!(SpiffeId::parse(&at_cap).is_ok());
    let over = format!("{at_cap}a");
    assert_eq!(
        SpiffeId::parse(&over).unwrap_err().to_string(),
        format!(
            "{} bytes, more than {MAX_SPIFFE_ID_LEN}",
            MAX_SPIFFE_ID_LEN + 1
        )
    );
}

fn policy_with(field: &str) -> String {
    format!(
        r#"{{"mode": "enforce", {field}, "rules": [{{"name": "r", "paths": ["/x"], "allow": ["authenticated"]}}]}}"#
    )
}

/// The error the filter and `mtls-authz validate` report (policy and filter settings).
fn policy_error(json: &str) -> String {
    settings::compile(json).unwrap_err().to_string()
}

#[test]
fn policy_number_caps() {
    for (field, max) in [
        ("identity_cache_size", MAX_IDENTITY_CACHE_SIZE),
        ("identity_cache_max_bytes", MAX_IDENTITY_CACHE_MAX_BYTES),
    ] {
        settings::compile(&policy_with(&format!("\"{field}\": {max}"))).unwrap();
        let err = policy_error(&policy_with(&format!("\"{field}\": {}", max + 1)));
        assert!(
            err.contains(&format!("at {field}:")) && err.contains(&(max + 1).to_string()),
            "{err}"
        );
    }
    let body = |n: usize| policy_with(&format!("\"form_body_check\": {{\"max_bytes\": {n}}}"));
    Policy::from_json(&body(MAX_FORM_BODY_CHECK_BYTES)).unwrap();
    let err = policy_error(&body(MAX_FORM_BODY_CHECK_BYTES + 1));
    assert!(err.contains("at form_body_check.max_bytes:"), "{err}");
}

#[test]
fn policy_name_length_cap() {
    let rule = |n: usize| {
        format!(
            r#"{{"rules": [{{"name": "{}", "paths": ["/x"], "allow": ["authenticated"]}}]}}"#,
            "r".repeat(n)
        )
    };
    Policy::from_json(&rule(MAX_NAME_LEN)).unwrap();
    let err = policy_error(&rule(MAX_NAME_LEN + 1));
    assert!(
        err.contains(&format!("must be 1 to {MAX_NAME_LEN} characters")),
        "{err}"
    );
}

/// Not exported by the core (`policy/compile.rs`); the docs table and this test pin it.
const MAX_NAME_LEN: usize = 128;
#[test]
fn policy_has_no_size_cap() {
    // No cap on the document's size: 5,000 rules compile (the proxy's config size bounds it).
    let rules: Vec<String> = (0..5000)
        .map(|i| {
            format!(r#"{{"name": "r{i}", "paths": ["/p{i}/**"], "allow": ["authenticated"]}}"#)
        })
        .collect();
    let big = format!(r#"{{"rules": [{}]}}"#, rules.join(","));
    assert!(big.len() > 300_000);
    Policy::from_json(&big).unwrap();
}

#[test]
fn crl_default_caps() {
    assert_eq!(CrlLimits::DEFAULT.max_der_bytes, CRL_MAX_DER_BYTES);
    assert_eq!(CrlLimits::DEFAULT.max_entries, CRL_MAX_ENTRIES);
}

const CRL_MAX_DER_BYTES: usize = 20 * 1024 * 1024;
const CRL_MAX_ENTRIES: usize = 500_000;

// ---- the table in docs/DECISIONS.md ---------------------------------------------------------

/// Rows of the "Limits" table: (name in the first column, value in the second).
fn documented_limits() -> Vec<(String, String)> {
    let decisions = include_str!("../../../docs/DECISIONS.md");
    let start = decisions
        .find("\n## Limits\n")
        .expect("docs/DECISIONS.md has a \"## Limits\" section");
    decisions[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| limit"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_owned(), cells[2].to_owned())
        })
        .collect()
}

fn plain_number(text: &str) -> usize {
    text.trim_matches('`')
        .replace([',', ' '], "")
        .parse()
        .unwrap_or_else(|_| panic!("limits table: {text:?} is not a number"))
}

#[test]
fn the_limits_table_in_decisions_states_the_code_constants() {
    let expected: Vec<(&str, usize)> = vec![
        ("certificate DER bytes", MAX_CERT_DER_LEN),
        ("certificate PEM bytes", MAX_CERT_PEM_LEN),
        ("SANs, RDNs, extensions, OID arcs", MAX_CERT_DER_LEN),
        ("XFCC header bytes", MAX_XFCC_LEN),
        ("path + query bytes", MAX_PATH_LEN),
        ("SPIFFE ID bytes", MAX_SPIFFE_ID_LEN),
        ("identity_cache_size", MAX_IDENTITY_CACHE_SIZE),
        ("identity_cache_max_bytes", MAX_IDENTITY_CACHE_MAX_BYTES),
        ("form_body_check.max_bytes", MAX_FORM_BODY_CHECK_BYTES),
        ("rule, role and issuer names", MAX_NAME_LEN),
        ("CRL DER bytes", CrlLimits::DEFAULT.max_der_bytes),
        ("CRL entries", CrlLimits::DEFAULT.max_entries),
        ("extension OID bytes", MAX_OID_BYTES),
    ];
    let documented = documented_limits();
    let names: Vec<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    let wanted: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, wanted, "the table's rows, in order");
    for ((name, value), (_, constant)) in documented.iter().zip(&expected) {
        assert_eq!(plain_number(value), *constant, "limits table row {name}");
    }
}
