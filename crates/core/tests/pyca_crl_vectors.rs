//! Every CRL in pyca's `cryptography_vectors` (pip `cryptography-vectors`, installed into the
//! project's .venv by scripts/test.sh): the 173 PKITS CRLs (x509/PKITS_data/crls) and the
//! x509/custom CRLs. Each is read without a panic; PKITS CRLs are also checked against their
//! CA certificate (PKITS_data/certs, matched by name) at a fixed time, the custom ones for
//! structure only (they come without an issuer). The verdicts, grouped by refusal code, are
//! printed and pinned: a change in what we accept is noticed here.
//!
//! Native only (it reads the installed package): listed in scripts/test.sh
//! `core_native_only_tests`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mtls_authz_core::crl::{crl_der, CaCertificate, Crl, CrlLimits};
use mtls_authz_core::UnixTime;

/// 2026-11-23T00:00:00Z: PKITS CRLs run 2010..2030, so the time checks pass except where a
/// test CRL is meant to be stale or premature.
const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);

fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRYPTOGRAPHY_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".venv/bin/python");
    let output = Command::new(&python)
        .args([
            "-c",
            "import cryptography_vectors, os; print(os.path.dirname(cryptography_vectors.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "cryptography-vectors is not installed in .venv (scripts/test.sh installs it: \
         .venv/bin/pip install cryptography-vectors): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// The CA certificate of a PKITS CRL: `<CA>CRL.crl` / `<CA>deltaCRL.crl` / `<CA>CRLn.crl` is
/// issued by `<CA>Cert.crt` (`TrustAnchorRootCRL` by `TrustAnchorRootCertificate`).
fn pkits_ca(certs: &Path, crl_stem: &str) -> Option<PathBuf> {
    let base = crl_stem
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches("deltaCRL")
        .trim_end_matches("CRL");
    let base = ["otherreasons", "compromise", "Good", "Bad"]
        .iter()
        .fold(base, |base, suffix| {
            base.strip_suffix(suffix).unwrap_or(base)
        });
    let base = base.replace("NameOrderCA", "NameOrderingCA");
    [
        format!("{base}Cert.crt"),
        format!("{base}Certificate.crt"),
        format!("{base}.crt"),
        format!("{base}CRLSigningCert.crt"),
    ]
    .into_iter()
    .map(|name| certs.join(name))
    .find(|path| path.is_file())
}

fn verdict(bytes: &[u8], ca: Option<&CaCertificate>) -> String {
    let limits = CrlLimits::DEFAULT;
    let der = match crl_der(bytes, &limits) {
        Ok(der) => der,
        Err(error) => return error.code().to_string(),
    };
    let crl = match Crl::parse(&der, &limits) {
        Ok(crl) => crl,
        Err(error) => return error.code().to_string(),
    };
    let problems = match ca {
        Some(ca) => crl.check(ca, NOW),
        None => {
            // Structure only: what a CA cannot change (the CA's own checks are skipped).
            let any_ca = CaCertificate::parse(
                &mtls_authz_fixtures::cert_bytes("ca/health-issuing").unwrap(),
            )
            .unwrap();
            crl.check(&any_ca, NOW)
                .into_iter()
                .filter(|p| {
                    !matches!(
                        p.code(),
                        "crl_issuer_mismatch"
                            | "crl_key_id_mismatch"
                            | "crl_bad_signature"
                            | "crl_not_yet_valid"
                    )
                })
                .collect()
        }
    };
    if std::env::var_os("PYCA_CRL_VERBOSE").is_some() {
        for problem in &problems {
            println!("      {problem}");
        }
    }
    match (problems.first(), ca) {
        (Some(problem), _) => problem.code().to_string(),
        (None, Some(ca))
            if crl
                .validate(ca, NOW)
                .is_ok_and(|list| list.is_stale(NOW, 0)) =>
        {
            String::from("accepted (stale: nextUpdate passed)")
        }
        (None, _) => String::from("accepted"),
    }
}

/// Runs `verdict` under `catch_unwind`: a panic is a failure we report by file.
fn safe_verdict(path: &Path, ca: Option<&CaCertificate>) -> String {
    let bytes = std::fs::read(path).unwrap();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verdict(&bytes, ca)))
        .unwrap_or_else(|_| format!("PANIC in {}", path.display()))
}

#[test]
fn every_pyca_crl_is_read_without_a_panic_and_the_verdicts_are_pinned() {
    let root = vectors_dir();
    let pkits = root.join("x509/PKITS_data");
    let mut pkits_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut pkits_without_ca = Vec::new();
    let mut crls: Vec<PathBuf> = std::fs::read_dir(pkits.join("crls"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    crls.sort();
    for path in &crls {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let ca = pkits_ca(&pkits.join("certs"), &stem).map(|ca| {
            CaCertificate::parse(&std::fs::read(&ca).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", ca.display()))
        });
        if ca.is_none() {
            pkits_without_ca.push(stem.clone());
        }
        let verdict = safe_verdict(path, ca.as_ref());
        if std::env::var_os("PYCA_CRL_VERBOSE").is_some() {
            println!("    {stem}: {verdict}");
        }
        *pkits_counts.entry(verdict).or_default() += 1;
    }

    let custom = root.join("x509/custom");
    let mut custom_files: Vec<PathBuf> = std::fs::read_dir(&custom)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            let is_pem_crl = std::fs::read(path)
                .map(|bytes| bytes.windows(15).any(|w| w == b"BEGIN X509 CRL-"))
                .unwrap_or(false);
            is_pem_crl || (name.starts_with("crl_") && name.ends_with(".der"))
        })
        .collect();
    custom_files.sort();
    let mut custom_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut custom_verdicts = Vec::new();
    for path in &custom_files {
        let verdict = safe_verdict(path, None);
        custom_verdicts.push(format!(
            "{}: {verdict}",
            path.file_name().unwrap().to_string_lossy()
        ));
        *custom_counts.entry(verdict).or_default() += 1;
    }

    println!(
        "pyca cryptography_vectors: {} PKITS CRLs (checked against their CA at 2026-11-23, \
         {} without a CA found: {:?})",
        crls.len(),
        pkits_without_ca.len(),
        pkits_without_ca
    );
    for (code, count) in &pkits_counts {
        println!("  {count:4}  {code}");
    }
    println!(
        "pyca cryptography_vectors: {} x509/custom CRLs (structure only)",
        custom_files.len()
    );
    for (code, count) in &custom_counts {
        println!("  {count:4}  {code}");
    }
    for line in &custom_verdicts {
        println!("    {line}");
    }

    let panics: Vec<&String> = pkits_counts
        .keys()
        .chain(custom_counts.keys())
        .filter(|code| code.starts_with("PANIC"))
        .collect();
    assert!(panics.is_empty(), "{panics:?}");
    let pinned = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(
        pkits_counts,
        pinned(PKITS_EXPECTED),
        "PKITS verdicts changed"
    );
    assert_eq!(
        custom_counts,
        pinned(CUSTOM_EXPECTED),
        "custom verdicts changed"
    );
}

/// Verdicts of the 173 PKITS CRLs. Refused as PKITS intends: BadCRLSignature (bad
/// signature), BadCRLIssuerName, WrongCRL and TwoCRLsCABad (issuer name), UnknownCRLExtension
/// and UnknownCRLEntryExtension, keyUsage*cRLSignFalse (CA may not sign CRLs), the delta,
/// indirect and onlySomeReasons/onlyContains* CRLs (not supported: refused by design), DSA.
/// Refused by our pinning where PKITS expects success: BasicSelfIssuedCRLSigningKey and
/// BasicSelfIssuedOld/NewKey CRLs are signed by another key of the same CA (a key rollover);
/// we pin one CA key per issuer. Stale: OldCRLnextUpdate, pre2000CRLnextUpdate, deltaCRLCA3.
const PKITS_EXPECTED: &[(&str, usize)] = &[
    ("accepted", 139),
    ("accepted (stale: nextUpdate passed)", 3),
    ("crl_bad_signature", 1),
    ("crl_ca_not_crl_signer", 2),
    ("crl_delta", 4),
    ("crl_indirect", 4),
    ("crl_issuer_mismatch", 3),
    ("crl_key_id_mismatch", 3),
    ("crl_partial_scope", 10),
    ("crl_unknown_critical_extension", 2),
    ("crl_unsupported_algorithm", 2),
];

/// Verdicts of the 27 x509/custom CRLs (structure only: no issuer to verify against). Most
/// are refused for having no cRLNumber (pyca's test CRLs omit it); md2/sha1 signatures are
/// unsupported algorithms; crl_bad_version and crl_invalid_time are malformed DER.
const CUSTOM_EXPECTED: &[(&str, usize)] = &[
    ("accepted", 4),
    ("crl_algorithm_mismatch", 1),
    ("crl_delta", 1),
    ("crl_indirect", 1),
    ("crl_no_next_update", 1),
    ("crl_no_number", 10),
    ("crl_parse_error", 2),
    ("crl_partial_scope", 4),
    ("crl_unsupported_algorithm", 3),
];
