//! The `mtls-authz` binary run as a process against the shared fixtures
//! (`tests/fixtures`) and the CLI's own test data (`crates/cli/testdata`): exact output,
//! exact exit codes (0 ok / 1 denied or finding / 2 bad input).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

const TIME: &str = "2026-11-23T00:00:00Z";

fn mtls_authz() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtls-authz"));
    // Paths in the output are relative to the repository root, as a user would type them.
    cmd.current_dir(repo_root());
    cmd
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout_json(cmd: &mut Command, code: i32) -> Value {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

const HEALTHCARE: &str = "tests/fixtures/policies/healthcare.json";
const MULTITENANT: &str = "tests/fixtures/policies/multitenant.json";

fn cert(name: &str) -> String {
    format!("tests/fixtures/certs/{name}.pem")
}

// ---------------------------------------------------------------- inspect

#[test]
fn inspect_prints_every_selector_as_policies_see_it() {
    mtls_authz()
        .args(["inspect", &cert("services/inventory"), "--time", TIME])
        .assert()
        .code(0)
        .stdout(
            r#"certificate: tests/fixtures/certs/services/inventory.pem
selectors (values as JSON strings, as a policy must write them):
  subject             "CN=inventory,OU=Services,O=Example Corp"
  subject.O           "Example Corp"
  subject.OU          "Services"
  subject.CN          "inventory"
  issuer              "CN=Example Services CA,O=Example Corp"
  issuer.O            "Example Corp"
  issuer.CN           "Example Services CA"
  san.dns             "inventory.internal.example"
                      "inventory-v2.internal.example"
  san.uri             (none)
  san.email           "inventory@corp.example"
  san.ip              "10.0.0.5"
                      "2001:db8::5"
  spiffe_id           (none)
  serial              "72d20b616ad9b0cd"
  fingerprint_sha256  "95e7e6bcc20a44a35de77c35e4eb2d489714095aadf075b77bfb24622d1892c4"
  eku                 "1.3.6.1.5.5.7.3.2"
                      "clientAuth"
identity checks:
  validity            2025-01-01T00:00:00Z .. 2099-12-31T23:59:59Z (valid at 2026-11-23T00:00:00Z)
  client_auth_eku     clientAuth present
  ca                  false
  fingerprint_twin    d655f599622c3ac68b241501ad4c8f0d769cf9be6af7ee4f8e3d45afdac40929  (same certificate with ECDSA signature (r, n-s), which verifies too: revoked.fingerprints_sha256 refuses both)
  authority_key_id    ef7a30573b1fd9dc15dc301cd83de63ce4567aa1  (compared with issuers.*.key_id)
"#,
        );
}

#[test]
fn inspect_json_keeps_an_injected_cn_as_one_cn() {
    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("attack/cn-comma-ou-admins"),
            "--format",
            "json",
        ]),
        0,
    );
    let s = &v["selectors"];
    assert_eq!(
        s["subject"],
        json!(["CN=x\\,OU\\=Admins,OU=Billing,O=Example Health"])
    );
    assert_eq!(s["subject.CN"], json!(["x,OU=Admins"]));
    assert_eq!(s["subject.OU"], json!(["Billing"]));
    assert_eq!(v["is_ca"], json!(false));
}

#[test]
fn inspect_json_spiffe_extension_ca_and_validity() {
    let v = stdout_json(
        mtls_authz().args(["inspect", &cert("services/billing-api"), "--format", "json"]),
        0,
    );
    assert_eq!(
        v["selectors"]["spiffe_id"],
        json!(["spiffe://example.org/ns/billing/sa/api"])
    );
    assert_eq!(
        v["selectors"]["san.uri"],
        json!(["spiffe://example.org/ns/billing/sa/api"])
    );

    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("services/svc-a-extension"),
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(
        v["selectors"]["ext.1.3.6.1.4.1.55555.1"],
        json!(["api-client-service-a"])
    );

    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("attack/ca-true-client"),
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(v["is_ca"], json!(true));

    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("attack/expired"),
            "--format",
            "json",
            "--time",
            TIME,
        ]),
        0,
    );
    assert_eq!(
        v["validity"],
        json!({"not_before": "2020-01-01T00:00:00Z", "not_after": "2021-12-31T23:59:59Z",
               "at": TIME, "status": "expired"})
    );
}

#[test]
fn inspect_json_shows_the_ecdsa_signature_twin_fingerprint() {
    // The two fixtures are each other's signature twin: the same TBS, signature (r, s) and
    // (r, n - s). Each one's twin fingerprint is the other's fingerprint.
    let fingerprints = |name: &str| {
        let v = stdout_json(
            mtls_authz().args(["inspect", &cert(name), "--format", "json"]),
            0,
        );
        (
            v["selectors"]["fingerprint_sha256"][0].clone(),
            v["fingerprint_sha256_signature_twin"].clone(),
        )
    };
    let twin = fingerprints("attack/revoked-fingerprint-twin");
    let original = fingerprints("healthcare/revoked-by-fingerprint");
    assert_eq!(
        twin,
        (
            json!("afccbec42c224df776ece4761e7c89760ed5f26bac1902faf0c9fd892e06e898"),
            json!("7b2cec2fe377de309d9b761aec60f37d37c1e060d091b8a7d02e8ed9a144ffe2")
        )
    );
    assert_eq!(original, (twin.1.clone(), twin.0.clone()));
}

#[test]
fn inspect_with_policy_explains_roles_and_pins() {
    mtls_authz()
        .args(["inspect", &cert("services/partner-a-client"), "--policy", MULTITENANT])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with(
            "policy tests/fixtures/policies/multitenant.json:\n  identity usable\n  issuer_pin: partner-a\n  partner      matcher 0: issuer_pin: issuer matches issuers.partner-a; subject.O \"Example Partners\" matches \"Example Partners\"\n",
        ));
    // Same subject and issuer DN, other issuing key: the key_id pin refuses the issuer, so
    // the role too.
    mtls_authz()
        .args([
            "inspect",
            &cert("services/partner-b-client"),
            "--policy",
            MULTITENANT,
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with(
            "  identity usable\n  issuer_pin: none of the 2 issuers matches\n  roles: none (only `authenticated`)\n",
        ));
    // No issuers at all.
    mtls_authz()
        .args([
            "inspect",
            &cert("services/partner-a-client"),
            "--policy",
            "tests/fixtures/policies/selectors.json",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "  identity usable\n  issuer_pin: none (no issuers defined)\n",
        ));
}

#[test]
fn inspect_json_with_policy_lists_matching_issuers() {
    // Revoked through its signature twin's fingerprint, still from the pinned issuer: the
    // verdict and the issuer match are reported independently.
    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("attack/revoked-fingerprint-twin"),
            "--policy",
            HEALTHCARE,
            "--time",
            TIME,
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(
        v["policy"],
        json!({
            "file": HEALTHCARE,
            "identity_rejection": "revoked_fingerprint",
            "issuer_pin": ["health-ca"],
            "roles": ["clinician"],
            "explanations": ["clinician    matcher 0: subject.OU \"Clinicians\" matches \"Clinicians\"; issuer_pin: issuer matches issuers.health-ca"]
        })
    );
    let v = stdout_json(
        mtls_authz().args([
            "inspect",
            &cert("services/partner-b-client"),
            "--policy",
            MULTITENANT,
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(v["policy"]["issuer_pin"], json!([]));
}

#[test]
fn inspect_rejects_malformed_certificates_with_exit_2() {
    mtls_authz()
        .args(["inspect", "tests/fixtures/certs/malformed/garbage.der"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "mtls-authz: error: tests/fixtures/certs/malformed/garbage.der: invalid certificate: certificate DER is malformed",
        ));
    mtls_authz()
        .args(["inspect", "tests/fixtures/certs/missing.pem"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "mtls-authz: error: tests/fixtures/certs/missing.pem: cannot read file:",
        ));
}

/// A file the test writes from fixture certificates (absolute path, under cargo's test tmpdir).
fn written_cert_file(name: &str, bytes: &[u8]) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join(cert(name))).unwrap()
}

/// The DER inside a fixture's (single, 64-column) PEM block.
fn fixture_der(name: &str) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(fixture_bytes(name)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn stdout_of(cmd: &mut Command, code: i32) -> String {
    String::from_utf8(cmd.assert().code(code).get_output().stdout.clone()).unwrap()
}

/// A PEM file with the leaf followed by its chain (what curl and most tools take): the leaf
/// is the certificate, the output says how many followed and which of them issued the leaf;
/// every other line is what the leaf alone gives.
#[test]
fn inspect_takes_the_first_certificate_of_a_chain_file() {
    let chain = [
        fixture_bytes("services/inventory"),
        b"subject=CN=Example Services CA\n".to_vec(),
        fixture_bytes("ca/services-issuing"),
        fixture_bytes("ca/root"),
    ]
    .concat();
    let file = written_cert_file("inventory-with-chain.pem", &chain);
    let single = stdout_of(
        mtls_authz().args(["inspect", &cert("services/inventory"), "--time", TIME]),
        0,
    );
    let expected = single.replacen(
        "certificate: tests/fixtures/certs/services/inventory.pem\n",
        &format!(
            "certificate: {file}\nchain: 2 certificates followed the leaf (policies see the leaf only, as the proxy takes the first certificate); the leaf was issued by \"CN=Example Services CA,O=Example Corp\" (chain certificate 1)\n"
        ),
        1,
    );
    mtls_authz()
        .args(["inspect", &file, "--time", TIME])
        .assert()
        .code(0)
        .stdout(expected);
    let v = stdout_json(mtls_authz().args(["inspect", &file, "--format", "json"]), 0);
    assert_eq!(
        v["chain"],
        json!({
            "certificates": 2,
            "subjects": ["CN=Example Services CA,O=Example Corp", "CN=Example Test Root CA,O=Example Test PKI"],
            "leaf_issuer": "CN=Example Services CA,O=Example Corp",
            "leaf_issuer_position": 1
        })
    );
    // A single certificate has no `chain` key at all.
    let v = stdout_json(
        mtls_authz().args(["inspect", &cert("services/inventory"), "--format", "json"]),
        0,
    );
    assert!(v.get("chain").is_none());
    // Two leaves: the second did not issue the first, and the output says so.
    mtls_authz()
        .args(["inspect", "tests/fixtures/certs/malformed/two-certs.pem", "--time", TIME])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\nchain: 1 certificate followed the leaf (policies see the leaf only, as the proxy takes the first certificate); the leaf was issued by \"CN=Example Health Issuing CA,O=Example Health\" (not in the file)\n"))
        .stdout(predicate::str::contains("\"CN=alice,OU=Clinicians,O=Example Health\""));
}

/// A broken chain certificate is an error that says which one.
#[test]
fn inspect_names_a_broken_chain_certificate() {
    let chain = [
        fixture_bytes("services/inventory"),
        fixture_bytes("malformed/trailing-garbage"),
    ]
    .concat();
    let file = written_cert_file("inventory-with-broken-chain.pem", &chain);
    mtls_authz()
        .args(["inspect", &file])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!("mtls-authz: error: {file}: invalid certificate: certificate field chain is invalid: certificate 1 after the leaf: 6 bytes of trailing data after the certificate\n"));
}

/// A DER file gives exactly what its PEM gives.
#[test]
fn inspect_and_check_read_der_files() {
    let file = written_cert_file("inventory.der", &fixture_der("services/inventory"));
    let pem = stdout_of(
        mtls_authz().args(["inspect", &cert("services/inventory"), "--time", TIME]),
        0,
    );
    mtls_authz()
        .args(["inspect", &file, "--time", TIME])
        .assert()
        .code(0)
        .stdout(pem.replacen("tests/fixtures/certs/services/inventory.pem", &file, 1));
    let check = |cert_file: &str| {
        stdout_of(
            mtls_authz().args([
                "check",
                "--policy",
                MULTITENANT,
                "--cert",
                cert_file,
                "--method",
                "GET",
                "--path",
                "/",
                "--time",
                TIME,
            ]),
            1,
        )
    };
    assert_eq!(check(&file), check(&cert("services/inventory")));
}

/// `check --cert` with a chain file decides on the leaf and notes the chain.
#[test]
fn check_takes_the_first_certificate_of_a_chain_file() {
    let chain = [
        fixture_bytes("healthcare/clinician-alice"),
        fixture_bytes("ca/health-issuing"),
    ]
    .concat();
    let file = written_cert_file("alice-with-chain.pem", &chain);
    let args = |cert_file: &str| {
        [
            "check", "--policy", HEALTHCARE, "--cert", cert_file, "--method", "GET", "--path", "/",
            "--time", TIME,
        ]
        .map(String::from)
    };
    let single = stdout_of(
        mtls_authz().args(args(&cert("healthcare/clinician-alice"))),
        1,
    );
    let expected = single.replacen(
        "\nidentity:",
        "\nnote:        --cert: 1 certificate followed the leaf (policies see the leaf only, as the proxy takes the first certificate); the leaf was issued by \"CN=Example Health Issuing CA,O=Example Health\" (chain certificate 1)\nidentity:",
        1,
    );
    assert_ne!(single, expected);
    mtls_authz()
        .args(args(&file))
        .assert()
        .code(1)
        .stdout(expected);
}

/// A `bind` on `issuer_pin`: `check` shows the bind verdict the core decides by (the issuer
/// names the certificate matches), so it holds exactly when the request is allowed.
#[test]
fn check_shows_binds_on_issuer_pin_as_the_core_decides() {
    let policy = written_cert_file(
        "issuer-pin-bind.json",
        br#"{
  "host": "envoy",
  "issuers": {"partner-a": {"subject": "CN=Example Partner CA,O=Example Partners"}},
  "rules": [{"name": "own-issuer", "methods": ["GET"], "paths": ["/issuers/{pin}"],
             "allow": ["authenticated"], "bind": {"pin": "issuer_pin"}}]
}"#,
    );
    let check = |path: &str, code: i32| {
        stdout_json(
            mtls_authz().args([
                "check",
                "--policy",
                &policy,
                "--cert",
                &cert("services/partner-a-client"),
                "--method",
                "GET",
                "--path",
                path,
                "--time",
                TIME,
                "--format",
                "json",
            ]),
            code,
        )
    };
    let own = check("/issuers/partner-a", 0);
    assert_eq!(own["decision"]["allowed"], json!(true));
    assert_eq!(
        own["matching_rules"][0]["binds"],
        json!([{"param": "pin", "value": "partner-a", "selector": "issuer_pin", "holds": true}])
    );
    let other = check("/issuers/partner-b", 1);
    assert_eq!(
        other["decision"]["reason"],
        json!("forbidden:rule[own-issuer]:bind_failed[pin]")
    );
    assert_eq!(
        other["matching_rules"][0]["binds"],
        json!([{"param": "pin", "value": "partner-b", "selector": "issuer_pin", "holds": false}])
    );
}

/// An XFCC header over the core's cap is `certificate_too_large`, as the filter reports it;
/// a malformed one is a parse error, and the error text is the XFCC parser's.
#[test]
fn check_reports_xfcc_errors_as_the_filter_does() {
    let check = |header: String| {
        stdout_json(
            mtls_authz().args([
                "check",
                "--policy",
                "tests/fixtures/policies/xfcc.json",
                "--no-cert",
                "--method",
                "GET",
                "--path",
                "/",
                "--time",
                TIME,
                "--format",
                "json",
                "--header",
                &header,
            ]),
            1,
        )
    };
    let oversized = check(format!(
        "x-forwarded-client-cert:By=spiffe://a;Cert=\"{}\"",
        "a".repeat(64 * 1024)
    ));
    assert_eq!(
        oversized["decision"]["reason"],
        json!("unauthenticated:certificate_too_large")
    );
    assert_eq!(
        oversized["identity_rejection"],
        json!("certificate_too_large")
    );
    let malformed = check(String::from("x-forwarded-client-cert:Cert=\"unterminated"));
    assert_eq!(
        malformed["decision"]["reason"],
        json!("unauthenticated:certificate_parse_error")
    );
}

// ---------------------------------------------------------------- validate

#[test]
fn validate_counts_rules_and_roles() {
    mtls_authz()
        .args(["validate", HEALTHCARE])
        .assert()
        .code(0)
        .stdout("policy OK: 6 rules, 3 roles\n");
    mtls_authz()
        .args(["validate", MULTITENANT])
        .assert()
        .code(0)
        .stdout("policy OK: 9 rules, 7 roles\n");
    let v = stdout_json(
        mtls_authz().args(["validate", HEALTHCARE, "--format", "json"]),
        0,
    );
    assert_eq!(
        v,
        json!({"file": HEALTHCARE, "valid": true, "rules": 6, "roles": 3})
    );
}

#[test]
fn every_fixture_policy_validates() {
    let dir = repo_root().join("tests/fixtures/policies");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        mtls_authz()
            .arg("validate")
            .arg(&path)
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with("policy OK: "));
        count += 1;
    }
    assert!(count >= 2);
}

#[test]
fn validate_names_file_and_json_path() {
    for (file, message) in [
        (
            "crates/cli/testdata/invalid/unknown-field.json",
            "invalid policy at rules[0].alow: unknown field `alow`, expected one of `name`, `methods`, `paths`, `allow`, `bind`, `hosts`, `require_token` at line 1 column 47",
        ),
        (
            "crates/cli/testdata/invalid/undefined-role.json",
            "invalid policy at rules[0].allow[0]: role \"reader\" is not defined (no roles are defined; reserved: authenticated, public)",
        ),
        (
            "crates/cli/testdata/invalid/host-port.json",
            "invalid policy at rules[0].hosts[0]: \"records.example.org:8443\": host patterns name hosts, never ports (a request's port is the client's choice, not the listener it reached): remove the `:port`, and scope rules by port with one policy per listener",
        ),
        (
            "crates/cli/testdata/invalid/truncated.json",
            "invalid policy at rules: EOF while parsing a list at line 2 column 0",
        ),
    ] {
        mtls_authz()
            .args(["validate", file])
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!("mtls-authz: error: {file}: {message}\n"));
    }
}

// ---------------------------------------------------------------- check

#[test]
fn check_explains_an_allowed_request() {
    mtls_authz()
        .args(["check", "--policy", HEALTHCARE, "--cert", &cert("healthcare/clinician-alice")])
        .args(["--method", "GET", "--path", "/patient-records/./123?x=1", "--time", TIME])
        .args(["--header", "x-client-role: admin"])
        .assert()
        .code(0)
        .stdout(
            r#"request:     GET /patient-records/./123?x=1
time:        2026-11-23T00:00:00Z
path:        /patient-records/123
certificate: "CN=alice,OU=Clinicians,O=Example Health" from peer_certificate
identity:    usable
roles:
  clinician    matcher 0: subject.OU "Clinicians" matches "Clinicians"; issuer_pin: issuer matches issuers.health-ca
rules matching (policy order):
  records-read     allow [clinician, admin]; held: clinician
decision:    ALLOW 200
reason:      allow:rule[records-read]:role[clinician]
upstream:    GET /patient-records/123?x=1
  set        x-client-role: clinician
  set        x-client-subject: CN=alice,OU=Clinicians,O=Example Health
  removed    x-client-role (inbound)
"#,
        );
}

#[test]
fn check_explains_a_denied_write() {
    mtls_authz()
        .args(["check", "--policy", HEALTHCARE, "--cert", &cert("healthcare/clinician-alice")])
        .args(["--method", "DELETE", "--path", "/patient-records/123", "--time", TIME])
        .assert()
        .code(1)
        .stdout(predicate::str::ends_with(
            "rules matching (policy order):\n  records-write    allow [admin]; none held\ndecision:    DENY 403\nreason:      forbidden:rule[records-write]:role_not_held\n",
        ));
}

#[test]
fn check_issuer_pin_refuses_a_clinician_from_another_ca() {
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--cert",
            &cert("healthcare/clinician-other-ca"),
        ])
        .args([
            "--method",
            "GET",
            "--path",
            "/patient-records/1",
            "--time",
            TIME,
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "roles:       none (only `authenticated`)\n",
        ))
        .stdout(predicate::str::contains(
            "reason:      forbidden:rule[records-read]:role_not_held\n",
        ));
}

#[test]
fn check_without_certificate_and_on_public_route() {
    mtls_authz()
        .args(["check", "--policy", HEALTHCARE, "--no-cert"])
        .args([
            "--method",
            "GET",
            "--path",
            "/patient-records",
            "--time",
            TIME,
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "identity:    rejected (no_certificate)\n",
        ))
        .stdout(predicate::str::contains(
            "decision:    DENY 401\nreason:      unauthenticated:no_certificate\n",
        ));
    mtls_authz()
        .args(["check", "--policy", HEALTHCARE, "--no-cert"])
        .args(["--method", "GET", "--path", "/healthz", "--time", TIME])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "reason:      allow:rule[health]:public\n",
        ));
}

#[test]
fn check_reports_unmatched_routes_and_method_near_misses() {
    mtls_authz()
        .args(["check", "--policy", HEALTHCARE, "--cert", &cert("healthcare/admin-bob")])
        .args(["--method", "POST", "--path", "/whoami", "--time", TIME])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "rules:       none matches POST /whoami\n             (path matches whoami but not method POST)\ndecision:    DENY 403\nreason:      forbidden:no_rule_matched\n",
        ));
}

#[test]
fn check_rejects_unnormalisable_paths() {
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--cert",
            &cert("healthcare/admin-bob"),
        ])
        .args([
            "--method",
            "GET",
            "--path",
            "/patient-records/..%2f..%2fadmin",
            "--time",
            TIME,
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "path:        cannot be normalised (rejected before routing)\n",
        ))
        .stdout(predicate::str::contains(
            "decision:    DENY 400\nreason:      bad_request:encoded_slash\n",
        ));
}

#[test]
fn check_identity_checks_use_the_given_time() {
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--cert",
            &cert("attack/expired"),
        ])
        .args(["--method", "GET", "--path", "/whoami", "--time", TIME])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "reason:      unauthenticated:certificate_expired\n",
        ));
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--cert",
            &cert("attack/expired"),
        ])
        .args([
            "--method",
            "GET",
            "--path",
            "/whoami",
            "--time",
            "2021-06-01T00:00:00+02:00",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "reason:      allow:rule[whoami]:role[authenticated]\n",
        ));
}

#[test]
fn check_json_explains_a_failed_tenant_bind() {
    let v = stdout_json(
        mtls_authz()
            .args([
                "check",
                "--policy",
                MULTITENANT,
                "--cert",
                &cert("tenants/acme-user"),
            ])
            .args([
                "--method",
                "GET",
                "--path",
                "/tenants/globex/orders/1",
                "--time",
                TIME,
            ])
            .args(["--format", "json"]),
        1,
    );
    assert_eq!(
        v["decision"],
        json!({"allowed": false, "status": 403, "reason": "forbidden:rule[tenant-orders]:bind_failed[tenant]", "rule": "tenant-orders"})
    );
    assert_eq!(
        v["matching_rules"],
        json!([{"name": "tenant-orders", "index": 1, "allow": ["tenant-user"], "held": ["tenant-user"],
                "binds": [{"param": "tenant", "value": "globex", "selector": "subject.O", "holds": false}]}])
    );
    assert_eq!(
        v["roles"],
        json!([{"role": "tenant-user", "matcher": 0, "evidence": [
            {"selector": "subject.OU", "value": "Users", "pattern": "\"Users\""},
            {"selector": "issuer_pin", "value": "services-ca", "pattern": "\"services-ca\""}]}])
    );
    assert_eq!(v["forwarded"], json!(false));
    assert_eq!(v["upstream_headers"], json!([]));
}

#[test]
fn check_reads_xfcc_when_the_policy_trusts_it() {
    let pem = std::fs::read_to_string(repo_root().join(cert("healthcare/admin-bob"))).unwrap();
    let encoded: String = pem
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let v = stdout_json(
        mtls_authz()
            .args(["check", "--policy", "tests/fixtures/policies/xfcc.json"])
            .args(["--cert", &cert("services/edge-proxy")])
            .args([
                "--method",
                "GET",
                "--path",
                "/admin/users",
                "--time",
                TIME,
                "--format",
                "json",
            ])
            .arg("--header")
            .arg(format!(
                "x-forwarded-client-cert:By=spiffe://x;Cert=\"{encoded}\""
            )),
        0,
    );
    assert_eq!(v["certificate"]["source"], json!("xfcc"));
    assert_eq!(
        v["certificate"]["subject"],
        json!("CN=bob,OU=Admins,O=Example Health")
    );
    assert_eq!(
        v["decision"]["reason"],
        json!("allow:rule[admin]:role[admin]")
    );
    assert_eq!(
        v["notes"],
        json!(["--cert is the TLS peer (e.g. an edge proxy); this policy does not take identities from it (identity.sources)"])
    );

    // Without the header, the edge proxy's own certificate is no identity.
    mtls_authz()
        .args(["check", "--policy", "tests/fixtures/policies/xfcc.json"])
        .args(["--cert", &cert("services/edge-proxy")])
        .args(["--method", "GET", "--path", "/admin/users", "--time", TIME])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "certificate: none presented\nnote:        --cert is the TLS peer",
        ))
        .stdout(predicate::str::ends_with(
            "reason:      unauthenticated:no_certificate\n",
        ));
}

#[test]
fn check_bad_arguments_exit_2() {
    // Neither --cert nor --no-cert.
    mtls_authz()
        .args([
            "check", "--policy", HEALTHCARE, "--method", "GET", "--path", "/",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<--cert <CERT>|--no-cert>"));
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--no-cert",
            "--method",
            "GET",
            "--path",
            "/",
        ])
        .args(["--time", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "mtls-authz: error: invalid --time: `yesterday` is not an RFC 3339 timestamp",
        ));
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--no-cert",
            "--method",
            "GET",
            "--path",
            "/",
        ])
        .args(["--header", "nocolon"])
        .assert()
        .code(2)
        .stderr("mtls-authz: error: invalid --header: `nocolon` is not NAME:VALUE\n");
    mtls_authz()
        .args([
            "check",
            "--policy",
            HEALTHCARE,
            "--cert",
            "tests/fixtures/certs/malformed/truncated.der",
        ])
        .args(["--method", "GET", "--path", "/"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "mtls-authz: error: tests/fixtures/certs/malformed/truncated.der: invalid certificate:",
        ));
}

// ---------------------------------------------------------------- lint

/// (id, severity, rule, role, issuer or field) of each finding.
type Finding = (String, String, String);

fn lint_ids(file: &str, code: i32) -> Vec<Finding> {
    let v = stdout_json(mtls_authz().args(["lint", file, "--format", "json"]), code);
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = ["rule", "role", "issuer", "field"]
                .iter()
                .find_map(|key| f[key].as_str())
                .unwrap()
                .to_owned();
            (
                f["id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                at,
            )
        })
        .collect()
}

fn finding(id: &str, severity: &str, at: &str) -> Finding {
    (id.to_owned(), severity.to_owned(), at.to_owned())
}

#[test]
fn lint_every_finding_id() {
    let dir = "crates/cli/testdata/lint";
    let cases: [(&str, i32, Vec<Finding>); 15] = [
        ("clean", 0, vec![]),
        (
            "ma001-authenticated-write",
            1,
            vec![finding("MA001", "error", "upload")],
        ),
        (
            "ma002-public-beyond-health",
            1,
            vec![
                finding("MA002", "warning", "docs"),
                finding("MA002", "error", "signup"),
            ],
        ),
        (
            "ma003-unpinned-subject",
            0,
            vec![finding("MA003", "warning", "reader")],
        ),
        (
            "ma003-unpinned-spiffe-id",
            0,
            vec![finding("MA003", "warning", "orders")],
        ),
        (
            "ma004-dn-substring",
            1,
            vec![finding("MA004", "error", "reader")],
        ),
        (
            "ma005-shadowed",
            0,
            vec![
                finding("MA005", "warning", "reports"),
                finding("MA005", "warning", "everything-again"),
            ],
        ),
        (
            "ma006-no-methods",
            0,
            vec![finding("MA006", "warning", "reports")],
        ),
        (
            "ma007-unused-role",
            0,
            vec![finding("MA007", "info", "auditor")],
        ),
        (
            "ma008-unbound-id",
            0,
            vec![finding("MA008", "warning", "report")],
        ),
        (
            "ma009-xfcc-fallback",
            1,
            vec![finding("MA009", "error", "identity.sources")],
        ),
        (
            "ma009-xfcc-only",
            0,
            vec![finding("MA009", "warning", "identity.sources")],
        ),
        (
            "ma010-issuer-without-key-id",
            0,
            vec![finding("MA010", "warning", "corp-ca")],
        ),
        (
            "ma011-host-auto",
            0,
            vec![finding("MA011", "warning", "host")],
        ),
        (
            "ma012-listener-verification",
            0,
            vec![finding("MA012", "info", "identity.peer_verification")],
        ),
    ];
    for (name, code, expected) in cases {
        assert_eq!(
            lint_ids(&format!("{dir}/{name}.json"), code),
            expected,
            "{name}"
        );
    }
}

#[test]
fn lint_text_output() {
    mtls_authz()
        .args(["lint", "crates/cli/testdata/lint/ma004-dn-substring.json"])
        .assert()
        .code(1)
        .stdout(
            r#"error    MA004  role[reader]: matcher 0 matches the whole subject DN with {"suffix": ",OU=Readers,O=Example Corp"}: an extra or reordered RDN satisfies it (`*` spans RDNs)
         fix: match one attribute exactly, e.g. "subject.OU": ["Admins"]
crates/cli/testdata/lint/ma004-dn-substring.json: 1 error(s), 0 warning(s), 0 info
"#,
        );
    mtls_authz()
        .args(["lint", "crates/cli/testdata/lint/ma005-shadowed.json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "warning  MA005  rule[reports]: is shadowed by earlier rule `everything` (GET /** covers it with the same or broader allow): it never decides a request\n",
        ))
        .stdout(predicate::str::contains(
            "warning  MA005  rule[everything-again]: duplicates earlier rule `everything`: it never decides a request\n         fix: delete the duplicate\n",
        ));
}

#[test]
fn lint_xfcc_and_unkeyed_issuer_text() {
    mtls_authz()
        .args(["lint", "crates/cli/testdata/lint/ma009-xfcc-fallback.json"])
        .assert()
        .code(1)
        .stdout(
            r#"error    MA009  identity.sources: ["peer_certificate", "xfcc"] falls back to `x-forwarded-client-cert`: a client that connects without a certificate names any certificate in that header and gets its roles
         fix: use one source per listener: ["peer_certificate"] where clients connect directly; ["xfcc"] only where the edge proxy alone can connect and overwrites the header: Envoy `forward_client_cert_details: SANITIZE_SET` with `set_current_client_cert_details: {cert: true}` (no `uri`/`dns`: Envoy writes them unquoted)
crates/cli/testdata/lint/ma009-xfcc-fallback.json: 1 error(s), 0 warning(s), 0 info
"#,
        );
    mtls_authz()
        .args(["lint", "crates/cli/testdata/lint/ma009-xfcc-only.json"])
        .assert()
        .code(0)
        .stdout(
            r#"warning  MA009  identity.sources: `x-forwarded-client-cert` is the only source: a client that reaches this listener directly names any certificate in that header, and an edge that adds `URI=`/`DNS=` lets a client SAN containing `,Cert=` forge the last element
         fix: let only the edge proxy connect (require its certificate at the TLS layer) and have it overwrite XFCC with the quoted PEM alone: Envoy `forward_client_cert_details: SANITIZE_SET` with `set_current_client_cert_details: {cert: true}` (no `uri`/`dns`: Envoy writes them unquoted)
crates/cli/testdata/lint/ma009-xfcc-only.json: 0 error(s), 1 warning(s), 0 info
"#,
        );
    // keyed-ca has a key_id; partner-ca is only used together with a fingerprint pin.
    mtls_authz()
        .args(["lint", "crates/cli/testdata/lint/ma010-issuer-without-key-id.json"])
        .assert()
        .code(0)
        .stdout(
            r#"warning  MA010  issuer[corp-ca]: pinned by subject DN alone ("CN=Example Corp CA,O=Example Corp"): `issuer_pin` ["corp-ca"] holds for a certificate from ANY CA the proxy trusts that has this name (a rogue, test or other team's CA named the same)
         fix: add "key_id": the CA's subject key identifier in hex (`openssl x509 -in ca.pem -noout -ext subjectKeyIdentifier`; `mtls-authz inspect` shows it as a leaf's authority_key_id)
crates/cli/testdata/lint/ma010-issuer-without-key-id.json: 0 error(s), 1 warning(s), 0 info
"#,
        );
}

#[test]
fn lint_scenario_policies() {
    // The fixture policies leave `host` to the examples that embed them (MA011 here; the
    // examples themselves are lint-clean: shipped_example_policies_are_lint_clean).
    assert_eq!(
        lint_ids(HEALTHCARE, 0),
        vec![finding("MA011", "warning", "host")]
    );
    // Every fixture issuer carries its key_id (MA010 stays quiet), every role is pinned.
    assert_eq!(
        lint_ids(MULTITENANT, 0),
        vec![finding("MA011", "warning", "host")]
    );
    assert_eq!(
        lint_ids("tests/fixtures/policies/xfcc-fallback.json", 1),
        vec![
            finding("MA009", "error", "identity.sources"),
            finding("MA011", "warning", "host")
        ]
    );
    assert_eq!(
        lint_ids("tests/fixtures/policies/xfcc.json", 0),
        vec![
            finding("MA009", "warning", "identity.sources"),
            finding("MA011", "warning", "host")
        ]
    );
    assert_eq!(
        lint_ids("tests/fixtures/policies/hardened.json", 0),
        vec![finding("MA011", "warning", "host")]
    );
    assert_eq!(
        lint_ids("tests/fixtures/policies/listener-verified.json", 0),
        vec![
            finding("MA011", "warning", "host"),
            finding("MA012", "info", "identity.peer_verification")
        ]
    );
}

#[test]
fn lint_refuses_an_invalid_policy() {
    mtls_authz()
        .args(["lint", "crates/cli/testdata/invalid/undefined-role.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid policy at rules[0].allow[0]",
        ));
}

// ---------------------------------------------------------------- audit

#[test]
fn audit_healthcare_covers_every_operation() {
    mtls_authz()
        .args(["audit", "--policy", HEALTHCARE, "--openapi", "crates/cli/testdata/openapi/healthcare.yaml"])
        .assert()
        .code(0)
        .stdout(
            "METHOD  PATH                           RULES          ROLES            BINDS  ISSUE
GET     /admin/audit-log               admin          admin            -
POST    /admin/reindex                 admin          admin            -
GET     /billing/invoices/{invoiceId}  invoices       billing,admin    -
GET     /healthz                       health         public           -      read open: anyone, no certificate needed
GET     /patient-records               records-read   clinician,admin  -
POST    /patient-records               records-write  admin            -
GET     /patient-records/{recordId}    records-read   clinician,admin  -
HEAD    /patient-records/{recordId}    records-read   clinician,admin  -
PUT     /patient-records/{recordId}    records-write  admin            -
DELETE  /patient-records/{recordId}    records-write  admin            -
GET     /whoami                        whoami         authenticated    -      read open: any authenticated client
11 operations: 0 uncovered, 0 write open, 2 read open, 0 rule(s) matching no operation
",
        );
}

#[test]
fn audit_fails_on_operations_the_policy_does_not_cover() {
    mtls_authz()
        .args(["audit", "--policy", HEALTHCARE, "--openapi", "crates/cli/testdata/openapi/healthcare-drift.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "GET     /appointments                -             -                -      UNCOVERED: always denied (403)\n",
        ))
        .stdout(predicate::str::contains(
            "rules matching no operation: records-write, admin, invoices, whoami\n",
        ))
        .stdout(predicate::str::ends_with(
            "4 operations: 2 uncovered, 0 write open, 1 read open, 4 rule(s) matching no operation\n",
        ));
}

#[test]
fn audit_multitenant_json_lists_binds() {
    let v = stdout_json(
        mtls_authz().args([
            "audit",
            "--policy",
            MULTITENANT,
            "--openapi",
            "crates/cli/testdata/openapi/multitenant.json",
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(v["uncovered"], json!(0));
    assert_eq!(v["write_open"], json!(0));
    assert_eq!(v["rules_matching_no_operation"], json!([]));
    let profile = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"] == "/tenants/{tenant}/users/{user}")
        .unwrap();
    assert_eq!(
        profile,
        &json!({"method": "GET", "path": "/tenants/{tenant}/users/{user}", "operation_id": "getTenantUser",
                "probe": "/tenants/__tenant__/users/__user__", "rules": ["tenant-user-profile"],
                "roles": ["tenant-user"], "binds": ["{user}=subject.CN", "{tenant}=subject.O"], "issues": []})
    );
}

#[test]
fn audit_fails_on_writes_open_to_any_client() {
    let v = stdout_json(
        mtls_authz().args([
            "audit",
            "--policy",
            "crates/cli/testdata/lint/ma001-authenticated-write.json",
            "--openapi",
            "crates/cli/testdata/openapi/uploads.yaml",
            "--format",
            "json",
        ]),
        1,
    );
    let issues: Vec<(String, Value)> = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{} {}",
                    o["method"].as_str().unwrap(),
                    o["path"].as_str().unwrap()
                ),
                o["issues"].clone(),
            )
        })
        .collect();
    assert_eq!(
        issues,
        vec![
            ("GET /reports/{id}".to_owned(), json!([])),
            ("GET /uploads".to_owned(), json!(["read_open"])),
            ("POST /uploads".to_owned(), json!(["write_open"])),
        ]
    );
    assert_eq!(v["write_open"], json!(1));
}

#[test]
fn audit_base_path_and_server_note() {
    mtls_authz()
        .args(["audit", "--policy", "crates/cli/testdata/lint/ma001-authenticated-write.json"])
        .args(["--openapi", "crates/cli/testdata/openapi/uploads.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "note: servers declare base path(s) /api; if the proxy sees them, rerun with --base-path\n",
        ));
    mtls_authz()
        .args(["audit", "--policy", "crates/cli/testdata/lint/ma001-authenticated-write.json"])
        .args(["--openapi", "crates/cli/testdata/openapi/uploads.yaml", "--base-path", "/api"])
        .assert()
        .code(1)
        .stdout(predicate::str::ends_with(
            "3 operations: 3 uncovered, 0 write open, 0 read open, 2 rule(s) matching no operation\n",
        ));
}

#[test]
fn audit_bad_openapi_exit_2() {
    for (file, message) in [
        ("swagger2.yaml", "at swagger: Swagger/OpenAPI 2.0 is not supported; convert the document to OpenAPI 3.x"),
        ("bad-operation.json", "at paths./a.get.operationId: invalid type: integer `7`, expected a string at line 1 column 56"),
    ] {
        let path = format!("crates/cli/testdata/openapi/invalid/{file}");
        mtls_authz()
            .args(["audit", "--policy", HEALTHCARE, "--openapi", &path])
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!("mtls-authz: error: {path}: invalid OpenAPI document: {message}\n"));
    }
}

/// Every policy a shipped example embeds — healthcare and multitenant as the Envoy demo runs
/// them (`"host": "envoy"`), healthcare in examples/nginx (`"nginx"`), multitenant in
/// examples/istio (`"envoy"`, `peer_verification: listener`) — passes `lint` without an error or
/// a warning; only the Istio one has a finding, the MA012 note on its deliberate `listener`.
#[test]
fn shipped_example_policies_are_lint_clean() {
    let dir = tempfile_dir("lint-examples");
    for (policy, host, listener) in [
        ("healthcare", "envoy", false),
        ("multitenant", "envoy", false),
        ("healthcare", "nginx", false),
        ("multitenant", "envoy", true),
    ] {
        let text = std::fs::read_to_string(format!("tests/fixtures/policies/{policy}.json"))
            .or_else(|_| {
                std::fs::read_to_string(format!("../../tests/fixtures/policies/{policy}.json"))
            })
            .unwrap();
        let mut doc: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
        assert!(
            !doc.contains_key("host"),
            "{policy}: the examples add the host"
        );
        doc.insert("host".into(), host.into());
        if listener {
            doc["identity"]["peer_verification"] = "listener".into();
        }
        let file = dir.join(format!("{policy}-{host}-{listener}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        mtls_authz()
            .args(["lint"])
            .arg(&file)
            .assert()
            .code(0)
            .stdout(predicate::str::ends_with(format!(
                "{}: 0 error(s), 0 warning(s), {} info\n",
                file.display(),
                u8::from(listener)
            )));
    }
}

/// A scratch directory under the target directory.
fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------- crl inspect

fn crl_file(name: &str) -> String {
    format!("tests/fixtures/crls/{name}.crl")
}

/// Exit codes and verdicts of `crl inspect` over the generated CRLs: 0 accepted and current,
/// 1 refused or stale, 2 not a CRL or an unreadable CA. Every refusal code is the core's.
#[test]
fn crl_inspect_exit_codes_and_refusal_codes() {
    let health = cert("ca/health-issuing");
    let rsa = cert("crl/ca-rsa");
    let table: &[(&str, &str, i32, &[&str])] = &[
        ("health-p256", &health, 0, &[]),
        ("health-hold", &health, 0, &[]),
        ("rsa-pkcs1-sha256", &rsa, 0, &[]),
        ("rsa-pss-sha512", &rsa, 0, &[]),
        ("expired", &health, 1, &[]),
        ("bad-signature", &health, 1, &["crl_bad_signature"]),
        (
            "rogue-same-name",
            &health,
            1,
            &["crl_key_id_mismatch", "crl_bad_signature"],
        ),
        ("not-yet-valid", &health, 1, &["crl_not_yet_valid"]),
        ("delta", &health, 1, &["crl_delta"]),
        ("indirect-idp", &health, 1, &["crl_indirect"]),
        (
            "unknown-critical-entry-extension",
            &health,
            1,
            &["crl_unknown_critical_extension"],
        ),
        (
            "mismatched-algorithms",
            &health,
            1,
            &["crl_algorithm_mismatch"],
        ),
        ("no-next-update", &health, 1, &["crl_no_next_update"]),
        (
            "rsa-pkcs1-sha256",
            &health,
            1,
            &[
                "crl_issuer_mismatch",
                "crl_key_id_mismatch",
                "crl_bad_signature",
            ],
        ),
    ];
    for (name, issuer, code, problems) in table {
        let json = stdout_json(
            mtls_authz().args([
                "crl",
                "inspect",
                &crl_file(name),
                "--issuer",
                issuer,
                "--time",
                TIME,
                "--format",
                "json",
            ]),
            *code,
        );
        let codes: Vec<&str> = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, *problems, "{name}");
        assert_eq!(json["accepted"], json!(problems.is_empty()), "{name}");
    }
    // Stale at another time, current again before nextUpdate.
    mtls_authz()
        .args([
            "crl",
            "inspect",
            &crl_file("expired"),
            "--issuer",
            &health,
            "--time",
            "2026-11-05T00:00:00Z",
        ])
        .assert()
        .code(0);
    // Not a CRL / unreadable issuer: bad input.
    mtls_authz()
        .args(["crl", "inspect", &health])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "label is `CERTIFICATE`, expected `X509 CRL`",
        ));
    mtls_authz()
        .args([
            "crl",
            "inspect",
            &crl_file("health-p256"),
            "--issuer",
            &crl_file("delta"),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CA certificate"));
    mtls_authz()
        .args(["crl", "inspect", "tests/fixtures/crls/missing.crl"])
        .assert()
        .code(2);
}

// ---------------------------------------------------------------- token inspect

const TOKENS: &str = "tests/fixtures/tokens";

/// Every token fixture through `token inspect` with the manifest's key set, issuer, audience,
/// time and certificate: the CLI reports exactly what the core decides (the first problem is
/// the manifest's expected code, then the binding), with exit 0 only when nothing is wrong.
#[test]
fn token_inspect_reports_what_the_core_decides_for_every_fixture() {
    let manifest = mtls_authz_fixtures::tokens::manifest();
    for token in &manifest.tokens {
        let file = format!("{TOKENS}/{}", token.file);
        let jwks = format!("{TOKENS}/{}", token.jwks);
        let mut args = vec![
            "token",
            "inspect",
            &file,
            "--jwks",
            &jwks,
            "--iss",
            &manifest.issuer,
            "--aud",
            &manifest.audience,
            "--time",
            &manifest.time,
            "--format",
            "json",
        ];
        let cert = token.cert.as_deref().map(cert);
        if let (Some(cert), Some(_)) = (&cert, &token.binding) {
            args.extend(["--cert", cert]);
        }
        let mut expected: Vec<&str> = Vec::new();
        if token.expect != "ok" {
            expected.push(&token.expect);
        }
        if let Some(binding) = token.binding.as_deref().filter(|b| *b != "ok") {
            expected.push(binding);
        }
        let code = if expected.is_empty() { 0 } else { 1 };
        let json = stdout_json(mtls_authz().args(&args), code);
        let codes: Vec<&str> = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        // The first problem is the manifest's; check() may list more after it.
        assert_eq!(codes.first(), expected.first(), "{}: {codes:?}", token.name);
        if token.expect == "ok" {
            assert_eq!(codes, expected, "{}", token.name);
            assert!(
                json["signature"]
                    .as_str()
                    .unwrap()
                    .starts_with("verified with "),
                "{}",
                token.name
            );
        }
        assert_eq!(
            json["accepted"],
            json!(expected.is_empty()),
            "{}",
            token.name
        );
    }
}

#[test]
fn token_inspect_json_shows_header_claims_and_what_was_not_checked() {
    let json = stdout_json(
        mtls_authz().args([
            "token",
            "inspect",
            &format!("{TOKENS}/valid-es256.jwt"),
            "--time",
            TIME,
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(
        json["header"],
        json!({"alg": "ES256", "typ": "JWT", "kid": "es256-1"})
    );
    assert_eq!(json["claims"]["sub"], json!("alice"));
    assert_eq!(
        json["claims"]["cnf"],
        json!({"x5t#S256": "zlMbPgMKrsQi7_bjlT2XzCg9MTwpYyUK6VL5D23__H8"})
    );
    assert_eq!(json["signature"], json!("not checked (no --jwks)"));
    assert_eq!(
        json["not_checked"],
        json!([
            "key and signature (no --jwks)",
            "issuer (no --iss)",
            "audience (no --aud)",
            "certificate binding (no --cert)"
        ])
    );
    // The token given on the command line instead of a file; alg and typ restricted.
    let text = std::fs::read_to_string(repo_root().join(TOKENS).join("valid-es256.jwt")).unwrap();
    let json = stdout_json(
        mtls_authz().args([
            "token", "inspect", &text, "--alg", "EdDSA", "--typ", "at+jwt", "--time", TIME,
            "--format", "json",
        ]),
        1,
    );
    assert_eq!(json["token"], json!("(argument)"));
    let codes: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["token_alg_not_allowed", "token_type_not_allowed"]);
    // The binding of a token bound to bob, shown against alice's certificate.
    let json = stdout_json(
        mtls_authz().args([
            "token",
            "inspect",
            &format!("{TOKENS}/bound-to-other-cert.jwt"),
            "--cert",
            &cert("healthcare/clinician-alice"),
            "--time",
            TIME,
            "--format",
            "json",
        ]),
        1,
    );
    assert_eq!(json["binding"], json!("does not match"));
    assert_eq!(
        json["certificate"]["x5t#S256"],
        json!("zlMbPgMKrsQi7_bjlT2XzCg9MTwpYyUK6VL5D23__H8")
    );
}

#[test]
fn token_inspect_bad_input_exits_2() {
    for (args, message) in [
        (
            vec!["token", "inspect", "not-a-token"],
            "mtls-authz: error: invalid TOKEN: `not-a-token` is neither a file nor a JWS token (header.claims.signature)\n",
        ),
        (
            vec![
                "token",
                "inspect",
                "tests/fixtures/tokens/valid-es256.jwt",
                "--jwks",
                "tests/fixtures/tokens/jwks-private-key.json",
            ],
            "mtls-authz: error: tests/fixtures/tokens/jwks-private-key.json: keys[0] (kid \"es256-1\") is a private key (member `d`): publish only public keys; a private key in a proxy configuration lets anyone who reads it sign tokens (jwks_private_key)\n",
        ),
        (
            vec![
                "token",
                "inspect",
                "tests/fixtures/tokens/valid-es256.jwt",
                "--alg",
                "HS256",
            ],
            "mtls-authz: error: invalid --alg: alg \"HS256\" refused: HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)\n",
        ),
        (
            vec![
                "token",
                "inspect",
                "tests/fixtures/tokens/valid-es256.jwt",
                "--skew",
                "3600",
            ],
            "mtls-authz: error: invalid --skew: 3600 is above 600 seconds\n",
        ),
        (
            vec![
                "token",
                "inspect",
                "tests/fixtures/tokens/valid-es256.jwt",
                "--cert",
                "tests/fixtures/tokens/jwks.json",
            ],
            "mtls-authz: error: tests/fixtures/tokens/jwks.json: invalid certificate: ",
        ),
    ] {
        let assert = mtls_authz().args(&args).assert().code(2).stdout("");
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------- v1.1 hosts

const HOSTS: &str = "tests/fixtures/policies/hosts.json";

#[test]
fn check_host_scopes_rules_and_binds_the_host_label() {
    let check = |who: &str, path: &str, host: Option<&str>, code: i32| {
        let mut cmd = mtls_authz();
        cmd.args(["check", "--policy", HOSTS, "--cert", &cert(who)])
            .args([
                "--method", "GET", "--path", path, "--time", TIME, "--format", "json",
            ]);
        if let Some(host) = host {
            cmd.args(["--host", host]);
        }
        stdout_json(&mut cmd, code)
    };
    let allowed = check(
        "healthcare/clinician-alice",
        "/patient-records/1",
        Some("RECORDS.example.org."),
        0,
    );
    assert_eq!(allowed["request"]["host"], "RECORDS.example.org.");
    assert_eq!(
        allowed["decision"]["reason"],
        "allow:rule[records-read]:role[clinician]"
    );
    let other_host = check(
        "healthcare/clinician-alice",
        "/patient-records/1",
        Some("admin.example.org"),
        1,
    );
    assert_eq!(
        other_host["decision"]["reason"],
        "forbidden:rule[admin-records]:role_not_held"
    );
    assert_eq!(other_host["matching_rules"][0]["name"], "admin-records");
    let missing = check("healthcare/clinician-alice", "/patient-records/1", None, 1);
    assert_eq!(
        missing["decision"]["reason"],
        "bad_request:authority_missing"
    );
    assert!(missing["request"].get("host").is_none());
    let malformed = check(
        "healthcare/clinician-alice",
        "/patient-records/1",
        Some("u@records.example.org"),
        1,
    );
    assert_eq!(
        malformed["decision"]["reason"],
        "bad_request:authority_malformed"
    );
    // Two `host` headers are joined as the filter joins them: malformed, as in the filter.
    let two_hosts = stdout_json(
        mtls_authz()
            .args([
                "check",
                "--policy",
                HOSTS,
                "--cert",
                &cert("healthcare/clinician-alice"),
            ])
            .args([
                "--method",
                "GET",
                "--path",
                "/patient-records/1",
                "--time",
                TIME,
                "--format",
                "json",
            ])
            .args([
                "--header",
                "host: records.example.org",
                "--header",
                "host: admin.example.org",
            ]),
        1,
    );
    assert_eq!(
        two_hosts["decision"]["reason"],
        "bad_request:authority_malformed"
    );
    assert_eq!(
        two_hosts["request"]["host"],
        "records.example.org,admin.example.org"
    );
    let tenant = check(
        "tenants/acme-user",
        "/orders/7",
        Some("globex.tenants.example.org"),
        1,
    );
    assert_eq!(
        tenant["decision"]["reason"],
        "forbidden:rule[tenant-orders]:bind_failed[tenant]"
    );
    assert_eq!(tenant["matching_rules"][0]["binds"][0]["value"], "globex");
    assert_eq!(tenant["matching_rules"][0]["binds"][0]["holds"], false);
    let own = check(
        "tenants/acme-user",
        "/orders/7",
        Some("Acme.tenants.example.org"),
        0,
    );
    assert_eq!(own["matching_rules"][0]["binds"][0]["value"], "acme");
    assert_eq!(own["matching_rules"][0]["binds"][0]["holds"], true);
}

#[test]
fn audit_probes_every_server_host_of_a_policy_with_hosts() {
    let spec = "crates/cli/testdata/openapi/hosts.yaml";
    let json = stdout_json(
        mtls_authz().args([
            "audit",
            "--policy",
            HOSTS,
            "--openapi",
            spec,
            "--format",
            "json",
        ]),
        1,
    );
    let ops = json["operations"].as_array().unwrap();
    let by_path = |path: &str| ops.iter().find(|op| op["path"] == path).unwrap().clone();
    assert_eq!(
        by_path("/patient-records/{recordId}")["rules"],
        serde_json::json!(["records-read", "admin-records"])
    );
    assert_eq!(
        by_path("/reports/{reportId}")["issues"],
        serde_json::json!(["uncovered"])
    );
    assert_eq!(json["uncovered"], 1);
    let on_port = stdout_json(
        mtls_authz().args([
            "audit",
            "--policy",
            HOSTS,
            "--openapi",
            spec,
            "--host",
            "records.example.org:8443",
            "--format",
            "json",
        ]),
        1,
    );
    // The port is ignored (host patterns never name one): the same as records.example.org.
    assert_eq!(on_port["uncovered"], 1);
    assert_eq!(
        on_port["operations"][0]["rules"],
        serde_json::json!(["records-read"])
    );
    // A host on which an operation has no rule is named, even when another host covers it.
    let two = stdout_json(
        mtls_authz().args([
            "audit",
            "--policy",
            HOSTS,
            "--openapi",
            spec,
            "--host",
            "reports.example.org",
            "--host",
            "admin.example.org",
            "--format",
            "json",
        ]),
        1,
    );
    assert!(two["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "GET /reports/{reportId}: no rule on admin.example.org"));
}

// ---------------------------------------------------------------- check --crl (v1.1 revocation)

const REVOCATION: &str = "tests/fixtures/policies/revocation.json";

fn check_bob(policy: &str, crls: &[&str]) -> Value {
    let mut cmd = mtls_authz();
    cmd.args([
        "check",
        "--policy",
        policy,
        "--cert",
        &cert("healthcare/admin-bob"),
    ])
    .args([
        "--method",
        "GET",
        "--path",
        "/records/1",
        "--time",
        TIME,
        "--format",
        "json",
    ]);
    for crl in crls {
        cmd.args(["--crl", crl]);
    }
    stdout_json(&mut cmd, 1)
}

#[test]
fn check_crl_applies_a_crl_to_every_issuer_whose_ca_verifies_it() {
    // The inline CRL (number 5) has admin-bob on hold; an older CRL does not roll it back, and
    // a CRL of another CA is not used.
    let out = check_bob(
        REVOCATION,
        &[
            "tests/fixtures/crls/health-p256.crl",
            "tests/fixtures/crls/p384.crl",
        ],
    );
    assert_eq!(out["decision"]["reason"], "unauthenticated:revoked_crl");
    assert_eq!(out["identity_rejection"], "revoked_crl");
    assert_eq!(
        out["notes"],
        json!([
            "--crl tests/fixtures/crls/health-p256.crl: issuer health-ca: CRL not installed: CRL number 2 is older than the current 5; kept 5",
            "--crl tests/fixtures/crls/p384.crl: no issuer with `revocation` has a CA whose key verifies it; not used"
        ])
    );

    // Fetched only: nothing without --crl (fail closed), revoked with it.
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(repo_root().join(REVOCATION)).unwrap()).unwrap();
    doc["issuers"]["health-ca"]["revocation"] = json!({
        "fetch": {"upstream": "crl", "authority": "crl.example", "path": "/health.crl"}
    });
    let fetched =
        std::env::temp_dir().join(format!("mtls-authz-fetched-{}.json", std::process::id()));
    std::fs::write(&fetched, doc.to_string()).unwrap();
    let fetched = fetched.to_str().unwrap();
    assert_eq!(
        check_bob(fetched, &[])["decision"]["reason"],
        "unauthenticated:revocation_unavailable"
    );
    let out = check_bob(fetched, &["tests/fixtures/crls/health-next.pem"]);
    assert_eq!(out["decision"]["reason"], "unauthenticated:revoked_crl");
    assert_eq!(
        out["notes"],
        json!(["--crl tests/fixtures/crls/health-next.pem: issuer health-ca: CRL number 5 installed: 5 entries, next update 2026-11-27T00:00:00Z (first CRL)"])
    );
    std::fs::remove_file(fetched).unwrap();
}

#[test]
fn validate_checks_inline_crls() {
    // The fixture policy with the rogue same-name CA's CRL inline instead of the health CA's.
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(repo_root().join(REVOCATION)).unwrap()).unwrap();
    let rogue = std::fs::read(repo_root().join("tests/fixtures/crls/rogue-same-name.crl")).unwrap();
    doc["issuers"]["health-ca"]["revocation"]["crl"] = json!(base64_encode(&rogue));
    let file = std::env::temp_dir().join(format!("mtls-authz-rogue-{}.json", std::process::id()));
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = mtls_authz()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(
        stderr.contains("invalid policy at issuers.health-ca.revocation.crl: "),
        "{stderr}"
    );
    std::fs::remove_file(file).unwrap();
}

/// Standard base64 with padding (the test needs no dependency for it).
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// v1.1 `check --token`: the token part of the decision (found, verified, bound, consistent),
/// the roles it grants, and why the header is ignored where no rule requires a token.
#[test]
fn check_explains_the_token_part_of_a_decision() {
    let policy = "tests/fixtures/policies/tokens.json";
    let check = |path: &str, token: &str| {
        let mut cmd = mtls_authz();
        cmd.args(["check", "--policy", policy, "--cert"])
            .arg(cert("healthcare/clinician-alice"))
            .args(["--method", "GET", "--path", path, "--time", TIME])
            .args(["--token", &format!("tests/fixtures/tokens/{token}.jwt")]);
        cmd
    };
    mtls_authz()
        .args(["check", "--policy", policy, "--cert"])
        .arg(cert("healthcare/clinician-alice"))
        .args(["--method", "GET", "--path", "/patient-records/1", "--time", TIME])
        .args(["--token", "tests/fixtures/tokens/valid-es256.jwt"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "token:       authorization (1 value): ok (required by a matching rule)\n             verified, bound to the certificate and consistent with it\n",
        ))
        .stdout(predicate::str::contains(
            "token.scope \"records:read\" matches \"records:read\"",
        ))
        .stdout(predicate::str::contains(
            "reason:      allow:rule[records-read]:role[records-reader]\n",
        ));
    let json = stdout_json(
        check("/patient-records/1", "bound-to-other-cert").args(["--format", "json"]),
        1,
    );
    assert_eq!(json["token"]["verdict"], "token_binding_mismatch");
    assert_eq!(json["token"]["required"], true);
    assert_eq!(
        json["decision"]["reason"],
        "unauthenticated:token_binding_mismatch"
    );
    let json = stdout_json(check("/profile", "expired").args(["--format", "json"]), 0);
    assert_eq!(json["token"]["verdict"], "token_expired");
    assert_eq!(json["token"]["required"], false);
    assert_eq!(
        json["decision"]["reason"],
        "allow:rule[profile]:role[clinician]"
    );
    // A token in the query counts only where a rule requires one, as in the decision.
    let json = stdout_json(
        check("/patient-records/1?access_token=x", "valid-es256").args(["--format", "json"]),
        1,
    );
    assert_eq!(json["token"]["verdict"], "token_in_query");
    assert_eq!(json["decision"]["reason"], "unauthenticated:token_in_query");
    let json = stdout_json(
        check("/profile?access_token=x", "valid-es256").args(["--format", "json"]),
        0,
    );
    assert_eq!(json["token"]["verdict"], "ok");
    assert_eq!(json["token"]["required"], false);
}

/// v1.1 `tokens.jwks_fetch` without an inline `jwks`: `validate` accepts it; `check` says the
/// keys are fetched at runtime and fails closed without them (`token_keys_unavailable`), and
/// verifies with `--jwks FILE` as if the proxy had fetched it.
#[test]
fn check_with_jwks_fetch_only_needs_jwks_for_the_keys() {
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("tests/fixtures/policies/tokens.json")).unwrap(),
    )
    .unwrap();
    let tokens = doc["tokens"].as_object_mut().unwrap();
    tokens.remove("jwks");
    tokens.insert(
        String::from("jwks_fetch"),
        json!({"upstream": "idp", "authority": "idp.example", "path": "/jwks.json"}),
    );
    let file =
        std::env::temp_dir().join(format!("mtls-authz-jwks-fetch-{}.json", std::process::id()));
    std::fs::write(&file, doc.to_string()).unwrap();
    let policy = file.to_str().unwrap();
    mtls_authz().args(["validate", policy]).assert().code(0);
    let check = |jwks: Option<&str>| {
        let mut cmd = mtls_authz();
        cmd.args(["check", "--policy", policy, "--cert"])
            .arg(cert("healthcare/clinician-alice"))
            .args([
                "--method",
                "GET",
                "--path",
                "/patient-records/1",
                "--time",
                TIME,
            ])
            .args(["--token", "tests/fixtures/tokens/valid-es256.jwt"])
            .args(["--format", "json"]);
        if let Some(jwks) = jwks {
            cmd.args(["--jwks", jwks]);
        }
        cmd
    };
    let out = stdout_json(&mut check(None), 1);
    assert_eq!(
        out["decision"]["reason"],
        "unauthenticated:token_keys_unavailable"
    );
    assert_eq!(
        out["notes"],
        json!(["tokens.jwks_fetch: the keys are fetched at runtime (upstream idp, path /jwks.json); without --jwks no key is known here, so tokens are token_keys_unavailable; pass --jwks FILE to verify with a fetched set"])
    );
    let out = stdout_json(&mut check(Some("tests/fixtures/tokens/jwks.json")), 0);
    assert_eq!(
        out["decision"]["reason"],
        "allow:rule[records-read]:role[records-reader]"
    );
    assert_eq!(out["token"]["verdict"], "ok");
    std::fs::remove_file(file).unwrap();
}
