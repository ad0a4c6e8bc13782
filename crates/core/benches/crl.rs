//! Criterion benchmarks of CRL handling (issue 13): what a 100,000-entry CRL costs to take in,
//! and what a revocation lookup adds to a request.
//!
//! Run: `cargo bench -p mtls-authz-core --bench crl` (a filter such as `crl/lookup` runs one
//! group). The CRL is built by the fixture harness (`mtls_authz_fixtures::crl::large_crl`):
//! 100,000 entries with 16-octet serials and a reasonCode each, ~5 MB of DER, signed by the
//! Ed25519 fixture CA.
//!
//! Groups:
//! - `crl/ingest/*`: PEM → DER, DER → parsed (structure, extensions, the serial set), the
//!   signature check alone (hashing the 5 MB tbsCertList dominates), and the whole
//!   `RevocationList::from_crl` a fetcher runs per new CRL.
//! - `crl/lookup/*`: `RevocationList::is_revoked` for a certificate of the CRL's issuer (name and
//!   key id compared, serial hashed and looked up) and of another issuer (stops at the name),
//!   with 100,000 entries and with 1 (O(1): the two must cost the same).
//! - `crl/request/*`: `Policy::evaluate` for an allowed request with a cached identity, alone
//!   and followed by the revocation lookup against the 100,000-entry list: the per-request cost
//!   of revocation.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup: a broken fixture should stop the run loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mtls_authz_core::crl::{crl_der, CaCertificate, Crl, CrlLimits, RevocationList};
use mtls_authz_core::policy::{CrlStore, NoToken};
use mtls_authz_core::{ClientCert, Identity, Policy, Request, RequestAuthority, UnixTime};
use mtls_authz_fixtures::crl::{large_crl, LARGE_CRL_ISSUER};

/// 2026-11-23T00:00:00Z, inside the CRLs' validity window.
const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);
const ENTRIES: u64 = 100_000;

fn ca(name: &str) -> CaCertificate {
    CaCertificate::parse(&mtls_authz_fixtures::cert_bytes(name).expect("fixture CA"))
        .expect("CA parses")
}

fn identity(name: &str) -> Identity {
    Identity::parse(&mtls_authz_fixtures::cert_bytes(name).expect("fixture cert"))
        .expect("cert parses")
}

fn pem(der: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN X509 CRL-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END X509 CRL-----\n");
    out.into_bytes()
}

fn ingest(c: &mut Criterion) {
    let der = large_crl(ENTRIES);
    let pem = pem(&der);
    let ca = ca(LARGE_CRL_ISSUER);
    let limits = CrlLimits::DEFAULT;
    let mut group = c.benchmark_group("crl/ingest");
    group.sample_size(10);
    group.bench_function("pem_to_der/100000", |b| {
        b.iter(|| crl_der(black_box(&pem), &limits).expect("PEM"))
    });
    group.bench_function("parse/100000", |b| {
        b.iter(|| Crl::parse(black_box(&der), &limits).expect("parses"))
    });
    let crl = Crl::parse(&der, &limits).expect("parses");
    assert_eq!(crl.signature_problem(&ca), None);
    group.bench_function("verify_signature/100000", |b| {
        b.iter(|| black_box(&crl).signature_problem(&ca))
    });
    group.bench_function("from_crl_der/100000", |b| {
        b.iter(|| RevocationList::from_crl(black_box(&der), &ca, NOW, &limits).expect("valid"))
    });
    group.bench_function("from_crl_pem/100000", |b| {
        b.iter(|| RevocationList::from_crl(black_box(&pem), &ca, NOW, &limits).expect("valid"))
    });
    // A forgery (the signature's last byte changed): refused before its entries are read.
    let mut forged = der.clone();
    if let Some(last) = forged.last_mut() {
        *last ^= 0x01;
    }
    group.bench_function("from_crl_forged/100000", |b| {
        b.iter(|| {
            RevocationList::from_crl(black_box(&forged), &ca, NOW, &limits).expect_err("forged")
        })
    });
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let limits = CrlLimits::DEFAULT;
    let ca = ca(LARGE_CRL_ISSUER);
    let big = RevocationList::from_crl(&large_crl(ENTRIES), &ca, NOW, &limits).expect("valid");
    let small = RevocationList::from_crl(&large_crl(1), &ca, NOW, &limits).expect("valid");
    let own = identity("crl/ed25519-client");
    let other = identity("healthcare/clinician-alice");
    assert!(big.covers(&own) && !big.covers(&other) && !big.is_revoked(&own));
    let mut group = c.benchmark_group("crl/lookup");
    for (name, list) in [("100000", &big), ("1", &small)] {
        group.bench_function(format!("own_issuer/{name}"), |b| {
            b.iter(|| black_box(list).is_revoked(black_box(&own)))
        });
        group.bench_function(format!("other_issuer/{name}"), |b| {
            b.iter(|| black_box(list).is_revoked(black_box(&other)))
        });
    }
    group.bench_function("contains_serial/100000", |b| {
        b.iter(|| black_box(&big).contains_serial(black_box(&own.serial)))
    });
    group.finish();
}

fn request(c: &mut Criterion) {
    let policy = Policy::from_json(include_str!(
        "../../../tests/fixtures/policies/healthcare.json"
    ))
    .expect("policy");
    let ca = ca(LARGE_CRL_ISSUER);
    let list = RevocationList::from_crl(&large_crl(ENTRIES), &ca, NOW, &CrlLimits::DEFAULT)
        .expect("valid");
    let identity = identity("crl/ed25519-client");
    let request = Request {
        method: "GET",
        path: "/whoami",
    };
    let decision = policy.evaluate(&request, ClientCert::Present(&identity), NOW);
    assert_eq!(
        decision.reason.to_string(),
        "allow:rule[whoami]:role[authenticated]"
    );
    let mut group = c.benchmark_group("crl/request");
    group.bench_function("evaluate/no_crl", |b| {
        b.iter(|| policy.evaluate(black_box(&request), ClientCert::Present(&identity), NOW))
    });
    group.bench_function("evaluate/crl_100000", |b| {
        b.iter(|| {
            let revoked = black_box(&list).is_revoked(black_box(&identity));
            (
                revoked,
                policy.evaluate(black_box(&request), ClientCert::Present(&identity), NOW),
            )
        })
    });
    // v1.1: the CRL check inside the decision, the 100,000-entry CRL in force for a
    // `revocation` issuer, against the same policy without `revocation`.
    let ca_pem =
        String::from_utf8(mtls_authz_fixtures::cert_bytes(LARGE_CRL_ISSUER).expect("fixture CA"))
            .expect("PEM");
    let with_revocation = |revocation: bool| {
        let extra = if revocation {
            r#", "revocation": {"fetch": {"upstream": "crl", "authority": "crl", "path": "/c"}}"#
        } else {
            ""
        };
        Policy::from_json(&format!(
            r#"{{"issuers": {{"ed": {{"certificate": {}{extra}}}}},
                "rules": [{{"name": "whoami", "methods": ["GET"], "paths": ["/whoami"], "allow": ["authenticated"]}}]}}"#,
            serde_json::to_string(&ca_pem).expect("JSON")
        ))
        .expect("policy")
    };
    let (plain, revoking) = (with_revocation(false), with_revocation(true));
    let mut crls = revoking.crl_store(NOW);
    let update = crls.sources_mut()[0].offer(&large_crl(ENTRIES), NOW);
    assert_eq!(update.code(), "installed");
    let evaluate = |policy: &Policy, crls: &CrlStore| {
        policy.evaluate_with(
            black_box(&request),
            RequestAuthority::default(),
            ClientCert::Present(&identity),
            NOW,
            None,
            false,
            Some(crls),
            &mut NoToken,
        )
    };
    assert_eq!(
        evaluate(&revoking, &crls).reason.to_string(),
        "allow:rule[whoami]:role[authenticated]"
    );
    let empty = plain.crl_store(NOW);
    // IDs kept from `Policy::evaluate_with_crls` (now `evaluate_with`), so baselines compare.
    group.bench_function("evaluate_with_crls/no_revocation", |b| {
        b.iter(|| evaluate(&plain, &empty))
    });
    group.bench_function("evaluate_with_crls/crl_100000", |b| {
        b.iter(|| evaluate(&revoking, &crls))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short by default: the machine is shared. Override on the command line for careful runs.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = ingest, lookup, request
}
criterion_main!(benches);
