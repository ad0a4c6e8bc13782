//! `crl`: CRL reading and validation ([`crl_der`], [`Crl::parse`], [`Crl::validate`]) against
//! the fixture CAs, the rogue CA that shares the health CA's name among them.

use std::sync::OnceLock;

use mtls_authz_core::crl::{crl_der, CaCertificate, Crl, CrlLimits};
use mtls_authz_core::UnixTime;

/// CAs every parsed CRL is validated against (`tests/fixtures/certs/<name>.pem`).
const CAS: &[&str] = &[
    "ca/health-issuing",
    "crl/rogue-health-ca",
    "crl/ca-rsa",
    "crl/ca-p384",
    "crl/ca-ed25519",
];

fn cas() -> &'static [CaCertificate] {
    static CAS_PARSED: OnceLock<Vec<CaCertificate>> = OnceLock::new();
    CAS_PARSED.get_or_init(|| {
        CAS.iter()
            .map(|name| {
                let pem = mtls_authz_fixtures::cert_bytes(name)
                    .unwrap_or_else(|| panic!("fixture CA {name} is missing"));
                CaCertificate::parse(&pem).unwrap_or_else(|e| panic!("{name}: {e}"))
            })
            .collect()
    })
}

/// Checks one CRL: see the crate table.
pub fn check(data: &[u8]) {
    let limits = CrlLimits::DEFAULT;
    let Ok(der) = crl_der(data, &limits) else {
        return;
    };
    let Ok(crl) = Crl::parse(&der, &limits) else {
        return;
    };
    let entries: Vec<String> = crl.entries().map(|entry| entry.serial).collect();
    assert_eq!(
        entries.len(),
        crl.entry_count(),
        "entries() and entry_count disagree"
    );
    assert!(crl.distinct_serials() <= crl.entry_count());
    for serial in &entries {
        assert!(
            !serial.is_empty()
                && serial
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && (serial == "0" || !serial.starts_with("00")),
            "entry serial {serial:?} is not in the identity's form"
        );
    }
    let now = UnixTime(1_795_392_000); // 2026-11-23T00:00:00Z
    let mut accepted_by = Vec::new();
    for (name, ca) in CAS.iter().zip(cas()) {
        let problems = crl.check(ca, now);
        let Ok(list) = Crl::parse(&der, &limits).and_then(|crl| crl.validate(ca, now)) else {
            continue;
        };
        assert!(
            problems.is_empty(),
            "validated against {name} despite {problems:?}"
        );
        assert_eq!(list.len(), crl.distinct_serials(), "{name}: serials lost");
        for serial in &entries {
            assert!(
                list.contains_serial(serial),
                "{name}: listed serial {serial} not found"
            );
        }
        accepted_by.push(*name);
    }
    // Only the signing key validates a CRL: never the same-name rogue CA and the real one.
    assert!(
        accepted_by.len() <= 1,
        "one CRL validated against several CAs: {accepted_by:?}"
    );
}
