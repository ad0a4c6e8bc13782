//! Evaluation: every reason string, the evaluation order, binds, `public`, identity checks.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::decision::{Decision, IdentityRejection, Outcome, Reason, Status};
use crate::dn::{Attribute, DistinguishedName};
use crate::identity::{CertError, ClientCert, Identity};
use crate::path::{normalize_path, PathError};
use crate::policy::test_support::{dn, identity, strings, NOW};
use crate::policy::{Mode, Policy, Request};
use crate::time::UnixTime;

/// Role names as a decision holds them.
fn names(list: &[&str]) -> Vec<Arc<str>> {
    list.iter().map(|name| Arc::from(*name)).collect()
}

const REVOKED_FP: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn policy_json() -> String {
    r#"{
      "issuers": {
        "health-ca": { "subject": "CN=Example Health Issuing CA,O=Example Health", "key_id": "9F:1C" },
        "other-ca": { "subject": "CN=Other CA" }
      },
      "revoked": { "serials": ["00:DE:AD"], "fingerprints_sha256": ["REVOKED_FP"] },
      "roles": {
        "clinician": [ { "subject.OU": ["Clinicians"], "issuer_pin": ["health-ca"] } ],
        "admin":     [ { "subject.OU": ["Admins"], "issuer_pin": ["health-ca"] } ],
        "billing":   [ { "subject.OU": ["Billing"] } ],
        "robot":     [ { "san.dns": [{"glob": "*.robots.example"}] }, { "spiffe_id": [{"prefix": "spiffe://example.org/robots/"}] } ]
      },
      "rules": [
        { "name": "health", "methods": ["GET"], "paths": ["/healthz"], "allow": ["public"] },
        { "name": "records-read", "methods": ["GET", "HEAD"], "paths": ["/patient-records", "/patient-records/**"], "allow": ["clinician", "admin"] },
        { "name": "records-write", "methods": ["POST", "PUT", "PATCH", "DELETE"], "paths": ["/patient-records/**"], "allow": ["admin"] },
        { "name": "admin", "paths": ["/admin/**"], "allow": ["admin"] },
        { "name": "ops", "paths": ["/ops"], "allow": ["admin", "clinician"] },
        { "name": "tenant-orders", "paths": ["/tenants/{tenant}/orders/**"], "allow": ["authenticated"], "bind": { "tenant": "subject.O" } },
        { "name": "zones", "methods": ["GET"], "paths": ["/zones/{zone}/tenants/{tenant}"], "allow": ["authenticated"], "bind": { "zone": "subject.L", "tenant": "subject.O" } },
        { "name": "whoami", "methods": ["GET"], "paths": ["/whoami"], "allow": ["clinician", "authenticated"] },
        { "name": "billing-first", "methods": ["GET"], "paths": ["/shared/*"], "allow": ["billing"] },
        { "name": "shared-any", "methods": ["GET"], "paths": ["/shared/{x}"], "allow": ["clinician"] },
        { "name": "bound", "paths": ["/b/{t}"], "allow": ["authenticated"], "bind": { "t": "subject.O" } },
        { "name": "unbound", "paths": ["/b/*"], "allow": ["admin"] },
        { "name": "robots", "paths": ["/robots/**"], "allow": ["robot"] }
      ]
    }"#
    .replace("REVOKED_FP", REVOKED_FP)
}

fn policy() -> Policy {
    Policy::from_json(&policy_json()).unwrap()
}

fn decide(policy: &Policy, method: &str, path: &str, client: ClientCert<'_>) -> Decision {
    policy.evaluate(&Request { method, path }, client, NOW)
}

fn clinician() -> Identity {
    identity("alice", "Clinicians")
}

fn admin() -> Identity {
    identity("root", "Admins")
}

fn billing() -> Identity {
    identity("bob", "Billing")
}

/// The reason string and status of a decision.
fn outcome(d: &Decision) -> (u16, String) {
    (d.status.code(), d.reason.to_string())
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn allowed_by_role_has_every_field() {
    let p = policy();
    let id = clinician();
    let d = decide(
        &p,
        "GET",
        "/patient-records/123?x=1",
        ClientCert::Present(&id),
    );
    assert_eq!(
        d,
        Decision {
            outcome: Outcome::Allow,
            status: Status::Ok,
            reason: Reason::AllowedByRole {
                rule: "records-read".into(),
                role: "clinician".into()
            },
            rule: Some("records-read".into()),
            rule_index: Some(1),
            roles: names(&["clinician"]),
            upstream_path: Some("/patient-records/123?x=1".to_string()),
        }
    );
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[records-read]:role[clinician]"
    );
    assert!(d.is_allowed());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn role_named_is_the_first_held_in_allow_order_roles_in_policy_order() {
    let p = policy();
    let mut both = identity("x", "Admins");
    both.subject = dn(&[
        ("CN", "x"),
        ("OU", "Admins"),
        ("OU", "Clinicians"),
        ("O", "Example Health"),
    ]);
    let d = decide(&p, "GET", "/ops", ClientCert::Present(&both));
    assert_eq!(
        outcome(&d),
        (200, "allow:rule[ops]:role[admin]".to_string())
    );
    assert_eq!(d.roles, names(&["clinician", "admin"]));
    let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&both));
    assert_eq!(
        outcome(&d),
        (200, "allow:rule[records-read]:role[clinician]".to_string())
    );
    // `authenticated` is listed after `clinician` in whoami.
    let d = decide(&p, "GET", "/whoami", ClientCert::Present(&both));
    assert_eq!(d.reason.to_string(), "allow:rule[whoami]:role[clinician]");
    let b = billing();
    let d = decide(&p, "GET", "/whoami", ClientCert::Present(&b));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[whoami]:role[authenticated]"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn role_not_held_names_the_first_matching_rule() {
    let p = policy();
    let b = billing();
    let d = decide(&p, "GET", "/patient-records/1", ClientCert::Present(&b));
    assert_eq!(
        outcome(&d),
        (
            403,
            "forbidden:rule[records-read]:role_not_held".to_string()
        )
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.rule.as_deref(), Some("records-read"));
    assert_eq!(d.rule_index, Some(1));
    assert_eq!(d.roles, names(&["billing"]));
    assert_eq!(d.upstream_path.as_deref(), Some("/patient-records/1"));

    let c = clinician();
    let d = decide(&p, "DELETE", "/patient-records/1", ClientCert::Present(&c));
    assert_eq!(
        outcome(&d),
        (
            403,
            "forbidden:rule[records-write]:role_not_held".to_string()
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn no_rule_matched() {
    let p = policy();
    let c = clinician();
    for (method, path) in [
        ("GET", "/nope"),
        ("get", "/patient-records"),
        ("GET", "/Patient-Records"),
        ("POST", "/healthz"),
        ("GET", "/"),
        ("GET", "/tenants/x"),
    ] {
        let d = decide(&p, method, path, ClientCert::Present(&c));
        assert_eq!(
            outcome(&d),
            (403, "forbidden:no_rule_matched".to_string()),
            "{method} {path}"
        );
        assert_eq!(d.rule, None);
        assert_eq!(d.rule_index, None);
        assert_eq!(d.roles, names(&["clinician"]));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rules_without_methods_match_every_method() {
    let p = policy();
    let a = admin();
    let c = clinician();
    for method in ["GET", "PURGE", "M-SEARCH", "DELETE"] {
        let d = decide(&p, method, "/admin/users", ClientCert::Present(&a));
        assert_eq!(
            d.reason.to_string(),
            "allow:rule[admin]:role[admin]",
            "{method}"
        );
        let d = decide(&p, method, "/admin/users", ClientCert::Present(&c));
        assert_eq!(
            d.reason.to_string(),
            "forbidden:rule[admin]:role_not_held",
            "{method}"
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn public_rules_allow_with_or_without_a_usable_identity() {
    let p = policy();
    let d = decide(&p, "GET", "/healthz", ClientCert::Absent);
    assert_eq!(outcome(&d), (200, "allow:rule[health]:public".to_string()));
    assert_eq!(d.rule.as_deref(), Some("health"));
    assert_eq!(d.rule_index, Some(0));
    assert!(d.roles.is_empty());
    assert_eq!(d.upstream_path.as_deref(), Some("/healthz"));

    let d = decide(&p, "GET", "/healthz/", ClientCert::Absent);
    assert_eq!(d.reason.to_string(), "allow:rule[health]:public");
    assert_eq!(d.upstream_path.as_deref(), Some("/healthz/"));

    let mut expired = clinician();
    expired.not_after = UnixTime(NOW.0 - 1);
    let d = decide(&p, "GET", "/healthz", ClientCert::Present(&expired));
    assert_eq!(d.reason.to_string(), "allow:rule[health]:public");
    assert!(d.roles.is_empty(), "an unusable identity holds no roles");

    let broken = CertError::Der("bad".to_string());
    let d = decide(&p, "GET", "/healthz", ClientCert::Invalid(&broken));
    assert_eq!(d.reason.to_string(), "allow:rule[health]:public");

    let c = clinician();
    let d = decide(&p, "GET", "/healthz", ClientCert::Present(&c));
    assert_eq!(d.reason.to_string(), "allow:rule[health]:public");
    assert_eq!(
        d.roles,
        names(&["clinician"]),
        "roles are still computed for headers"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unauthenticated_even_on_unmatched_routes() {
    let p = policy();
    for (method, path) in [
        ("GET", "/patient-records"),
        ("GET", "/nope"),
        ("POST", "/healthz"),
        ("GET", "/tenants/acme/orders"),
    ] {
        let d = decide(&p, method, path, ClientCert::Absent);
        assert_eq!(
            outcome(&d),
            (401, "unauthenticated:no_certificate".to_string()),
            "{method} {path}"
        );
        assert_eq!(d.rule, None);
        assert!(d.roles.is_empty());
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bad_requests_come_before_identity_and_routing() {
    let p = policy();
    let c = clinician();
    for method in ["GE T", "", "GET\r\n", "(GET)"] {
        for client in [ClientCert::Absent, ClientCert::Present(&c)] {
            let d = decide(&p, method, "/healthz", client);
            assert_eq!(outcome(&d), (400, "bad_request:invalid_method".to_string()));
            assert_eq!(d.upstream_path, None);
            assert_eq!(d.rule, None);
        }
    }
    let cases = [
        (
            "/patient-records%2F1",
            PathError::EncodedSlash,
            "bad_request:encoded_slash",
        ),
        (
            "/patient-records%5c1",
            PathError::EncodedBackslash,
            "bad_request:encoded_backslash",
        ),
        (
            "/patient-records\\1",
            PathError::Backslash,
            "bad_request:backslash",
        ),
        ("/a%00", PathError::EncodedNul, "bad_request:encoded_nul"),
        (
            "/a%0d%0a",
            PathError::ControlCharacter,
            "bad_request:control_character",
        ),
        (
            "/a%zz",
            PathError::BadEscape,
            "bad_request:bad_percent_escape",
        ),
        (
            "/%c0%ae",
            PathError::InvalidUtf8,
            "bad_request:invalid_utf8",
        ),
        (
            "/healthz/../..",
            PathError::DotDotAboveRoot,
            "bad_request:dot_dot_above_root",
        ),
        (
            "/admin;jsessionid=1",
            PathError::PathParameter,
            "bad_request:path_parameter",
        ),
        (
            "healthz",
            PathError::NotOriginForm,
            "bad_request:path_not_origin_form",
        ),
    ];
    for (path, error, reason) in cases {
        for client in [ClientCert::Absent, ClientCert::Present(&c)] {
            let d = decide(&p, "GET", path, client);
            assert_eq!(d.reason, Reason::BadPath(error), "{path}");
            assert_eq!(outcome(&d), (400, reason.to_string()), "{path}");
            assert_eq!(d.upstream_path, None);
            assert!(d.roles.is_empty());
        }
    }
    let long = alloc::format!("/{}", "a".repeat(crate::path::MAX_PATH_LEN));
    assert_eq!(
        decide(&p, "GET", &long, ClientCert::Absent)
            .reason
            .to_string(),
        "bad_request:path_too_long"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_authorised_path_is_the_path_served() {
    let p = policy();
    let c = clinician();
    for path in [
        "/patient-records/../admin/users",
        "/patient-records/%2e%2e/admin/users",
        "/patient-records/.%2E/admin/users",
        "//admin//users",
        "/./admin/./users",
        "/%61dmin/users",
    ] {
        let d = decide(&p, "GET", path, ClientCert::Present(&c));
        assert_eq!(
            d.reason.to_string(),
            "forbidden:rule[admin]:role_not_held",
            "{path}"
        );
        assert_eq!(d.upstream_path.as_deref(), Some("/admin/users"), "{path}");
    }
    let a = admin();
    let d = decide(
        &p,
        "GET",
        "/patient-records/../admin/users?q=%2F..#frag",
        ClientCert::Present(&a),
    );
    assert_eq!(d.reason.to_string(), "allow:rule[admin]:role[admin]");
    assert_eq!(d.upstream_path.as_deref(), Some("/admin/users?q=%2F.."));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn identity_rejections_in_documented_order() {
    let p = policy();
    let base = clinician();
    type Edit = fn(&mut Identity);
    let cases: &[(Edit, &str)] = &[
        (
            |i| i.not_before = UnixTime(NOW.0 + 1),
            "certificate_not_yet_valid",
        ),
        (|i| i.not_after = UnixTime(NOW.0 - 1), "certificate_expired"),
        (|i| i.serial = "dead".to_string(), "revoked_serial"),
        (|i| i.fingerprint_sha256 = [0x22; 32], "revoked_fingerprint"),
        (
            |i| {
                i.eku.clear();
                i.eku_present = false;
            },
            "missing_client_auth_eku",
        ),
        (
            |i| i.eku = strings(&["1.3.6.1.5.5.7.3.1", "serverAuth"]),
            "missing_client_auth_eku",
        ),
        (
            |i| i.eku = strings(&["2.5.29.37.0", "anyExtendedKeyUsage"]),
            "missing_client_auth_eku",
        ),
        (|i| i.eku_present = false, "missing_client_auth_eku"),
        (|i| i.is_ca = true, "ca_certificate"),
        // Several problems: the first in the documented order is reported.
        (
            |i| {
                i.not_after = UnixTime(NOW.0 - 1);
                i.serial = "dead".to_string();
                i.is_ca = true;
            },
            "certificate_expired",
        ),
        (
            |i| {
                i.serial = "dead".to_string();
                i.fingerprint_sha256 = [0x22; 32];
            },
            "revoked_serial",
        ),
        (
            |i| {
                i.fingerprint_sha256 = [0x22; 32];
                i.eku.clear();
            },
            "revoked_fingerprint",
        ),
        (
            |i| {
                i.eku.clear();
                i.is_ca = true;
            },
            "missing_client_auth_eku",
        ),
    ];
    for (edit, code) in cases {
        let mut id = base.clone();
        edit(&mut id);
        let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&id));
        assert_eq!(outcome(&d), (401, alloc::format!("unauthenticated:{code}")));
        assert!(d.roles.is_empty());
        assert_eq!(d.upstream_path.as_deref(), Some("/patient-records"));
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn validity_window_is_inclusive() {
    let p = policy();
    let mut id = clinician();
    id.not_before = NOW;
    id.not_after = NOW;
    let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&id));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[records-read]:role[clinician]"
    );
    let later = p.evaluate(
        &Request {
            method: "GET",
            path: "/patient-records",
        },
        ClientCert::Present(&id),
        UnixTime(NOW.0 + 1),
    );
    assert_eq!(
        later.reason.to_string(),
        "unauthenticated:certificate_expired"
    );
    let earlier = p.evaluate(
        &Request {
            method: "GET",
            path: "/patient-records",
        },
        ClientCert::Present(&id),
        UnixTime(NOW.0 - 1),
    );
    assert_eq!(
        earlier.reason.to_string(),
        "unauthenticated:certificate_not_yet_valid"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn certificates_that_never_became_identities() {
    let p = policy();
    let errors = [
        (CertError::Empty, "no_certificate"),
        (
            CertError::TooLarge {
                len: 1 << 20,
                max: 16 << 10,
            },
            "certificate_too_large",
        ),
        (
            CertError::Pem("bad base64".to_string()),
            "certificate_parse_error",
        ),
        (CertError::MultiplePem, "certificate_parse_error"),
        (CertError::Der("tag".to_string()), "certificate_parse_error"),
        (
            CertError::TrailingData { extra: 3 },
            "certificate_parse_error",
        ),
    ];
    for (error, code) in &errors {
        let d = decide(&p, "GET", "/patient-records", ClientCert::Invalid(error));
        assert_eq!(outcome(&d), (401, alloc::format!("unauthenticated:{code}")));
    }
    let d = decide(&p, "GET", "/patient-records", ClientCert::Unverified);
    assert_eq!(
        outcome(&d),
        (401, "unauthenticated:certificate_unverified".to_string())
    );
    assert_eq!(
        decide(&p, "GET", "/x", ClientCert::Unverified).reason,
        Reason::Unauthenticated(IdentityRejection::CertificateUnverified)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn eku_not_required_when_disabled() {
    let json = policy_json().replacen(
        "\"issuers\"",
        "\"identity\": {\"require_client_auth_eku\": false}, \"issuers\"",
        1,
    );
    let p = Policy::from_json(&json).unwrap();
    let mut id = clinician();
    id.eku.clear();
    id.eku_present = false;
    let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&id));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[records-read]:role[clinician]"
    );
    id.is_ca = true;
    let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&id));
    assert_eq!(d.reason.to_string(), "unauthenticated:ca_certificate");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn binds_compare_the_decoded_segment_with_identity_values() {
    let p = policy();
    let c = clinician(); // O=Example Health
    let d = decide(
        &p,
        "GET",
        "/tenants/Example%20Health/orders/7",
        ClientCert::Present(&c),
    );
    assert_eq!(
        outcome(&d),
        (
            200,
            "allow:rule[tenant-orders]:role[authenticated]".to_string()
        )
    );
    assert_eq!(
        d.upstream_path.as_deref(),
        Some("/tenants/Example%20Health/orders/7")
    );
    let d = decide(
        &p,
        "POST",
        "/tenants/Example%20Health/orders",
        ClientCert::Present(&c),
    );
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[tenant-orders]:role[authenticated]"
    );

    for path in [
        "/tenants/acme/orders/7",
        "/tenants/example%20health/orders",
        "/tenants/Example%20Health%20/orders",
        "/tenants/Example/orders",
    ] {
        let d = decide(&p, "GET", path, ClientCert::Present(&c));
        assert_eq!(
            outcome(&d),
            (
                403,
                "forbidden:rule[tenant-orders]:bind_failed[tenant]".to_string()
            ),
            "{path}"
        );
        assert_eq!(d.rule.as_deref(), Some("tenant-orders"));
    }
    let d = decide(&p, "GET", "/tenants/acme/orders", ClientCert::Absent);
    assert_eq!(d.reason.to_string(), "unauthenticated:no_certificate");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_first_failing_bind_in_sorted_order_is_named() {
    let p = policy();
    let mut id = clinician();
    id.subject = dn(&[("CN", "z"), ("L", "eu-1"), ("O", "acme")]);
    let cases = [
        (
            "/zones/eu-1/tenants/acme",
            "allow:rule[zones]:role[authenticated]",
        ),
        (
            "/zones/us-1/tenants/acme",
            "forbidden:rule[zones]:bind_failed[zone]",
        ),
        (
            "/zones/eu-1/tenants/other",
            "forbidden:rule[zones]:bind_failed[tenant]",
        ),
        // Both fail: `tenant` sorts before `zone` although `zone` comes first in the path.
        (
            "/zones/us-1/tenants/other",
            "forbidden:rule[zones]:bind_failed[tenant]",
        ),
    ];
    for (path, reason) in cases {
        let d = decide(&p, "GET", path, ClientCert::Present(&id));
        assert_eq!(d.reason.to_string(), reason, "{path}");
    }
}

/// `explain_rules` reports the binds the decision checks: sorted by parameter, with the value
/// captured by the route that matched, holding only with a usable identity; and the rules a
/// path matches whatever the method.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn explained_binds_are_the_decisions() {
    use crate::policy::{BindCheck, RuleMatch};
    let p = policy();
    let mut id = clinician();
    id.subject = dn(&[("CN", "z"), ("L", "eu-1"), ("O", "acme")]);
    let path = normalize_path("/zones/us-1/tenants/acme").unwrap();
    let bind = |param: &str, value: &str, holds: bool| BindCheck {
        param: param.to_string(),
        value: Some(value.to_string()),
        holds,
    };
    assert_eq!(
        p.explain_rules("GET", &path, None, Some(&id)),
        [RuleMatch {
            rule: 6,
            binds: vec![bind("tenant", "acme", true), bind("zone", "us-1", false)],
        }]
    );
    assert_eq!(
        p.explain_rules("GET", &path, None, None),
        [RuleMatch {
            rule: 6,
            binds: vec![bind("tenant", "acme", false), bind("zone", "us-1", false)],
        }]
    );
    assert!(p.explain_rules("POST", &path, None, Some(&id)).is_empty());
    assert_eq!(p.rules_matching_path(&path), [6]);
    let shared = normalize_path("/shared/doc").unwrap();
    assert_eq!(p.rules_matching_path(&shared), [8, 9]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_later_rule_may_allow_what_the_first_does_not() {
    let p = policy();
    let c = clinician();
    let d = decide(&p, "GET", "/shared/doc", ClientCert::Present(&c));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[shared-any]:role[clinician]"
    );
    assert_eq!(d.rule_index, Some(9));
    let a = admin();
    let d = decide(&p, "GET", "/shared/doc", ClientCert::Present(&a));
    assert_eq!(
        d.reason.to_string(),
        "forbidden:rule[billing-first]:role_not_held"
    );
    assert_eq!(d.rule_index, Some(8));

    // First rule: role held but bind fails; second rule allows by role.
    let d = decide(&p, "GET", "/b/not-my-org", ClientCert::Present(&a));
    assert_eq!(d.reason.to_string(), "allow:rule[unbound]:role[admin]");
    let d = decide(&p, "GET", "/b/not-my-org", ClientCert::Present(&c));
    assert_eq!(d.reason.to_string(), "forbidden:rule[bound]:bind_failed[t]");
    let d = decide(&p, "GET", "/b/Example%20Health", ClientCert::Present(&c));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[bound]:role[authenticated]"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn issuer_pins_need_the_issuer_dn_and_key_id() {
    let p = policy();
    let mut wrong_key = clinician();
    wrong_key.authority_key_id = Some("9f1d".to_string());
    let d = decide(
        &p,
        "GET",
        "/patient-records",
        ClientCert::Present(&wrong_key),
    );
    assert_eq!(
        d.reason.to_string(),
        "forbidden:rule[records-read]:role_not_held"
    );
    assert!(d.roles.is_empty());

    let mut no_key = clinician();
    no_key.authority_key_id = None;
    assert!(
        decide(&p, "GET", "/patient-records", ClientCert::Present(&no_key))
            .roles
            .is_empty()
    );

    let mut other_issuer = clinician();
    other_issuer.issuer = dn(&[
        ("CN", "Example Health Issuing CA"),
        ("O", "Example Health Labs"),
    ]);
    assert!(decide(
        &p,
        "GET",
        "/patient-records",
        ClientCert::Present(&other_issuer)
    )
    .roles
    .is_empty());

    // An OU that merely contains the text does not match.
    let mut injected = clinician();
    injected.subject = dn(&[("CN", "x,OU=Clinicians"), ("OU", "NotClinicians")]);
    assert!(decide(
        &p,
        "GET",
        "/patient-records",
        ClientCert::Present(&injected)
    )
    .roles
    .is_empty());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn matchers_are_or_and_globs_stay_in_one_label() {
    let p = policy();
    let mut robot = billing();
    robot.san_dns = strings(&["r2.robots.example"]);
    assert_eq!(
        decide(&p, "GET", "/robots/x", ClientCert::Present(&robot))
            .reason
            .to_string(),
        "allow:rule[robots]:role[robot]"
    );
    robot.san_dns = strings(&["a.r2.robots.example"]);
    assert_eq!(
        decide(&p, "GET", "/robots/x", ClientCert::Present(&robot))
            .reason
            .to_string(),
        "forbidden:rule[robots]:role_not_held"
    );
    robot.spiffe_id = Some("spiffe://example.org/robots/r2".to_string());
    let d = decide(&p, "GET", "/robots/x", ClientCert::Present(&robot));
    assert_eq!(d.reason.to_string(), "allow:rule[robots]:role[robot]");
    assert_eq!(d.roles, names(&["billing", "robot"]));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn many_exact_values_use_a_set() {
    let uris: Vec<String> = (0..50)
        .map(|i| alloc::format!("\"spiffe://example.org/svc/{i}\""))
        .collect();
    let json = alloc::format!(
        r#"{{"roles": {{"svc": [{{"san.uri": [{}]}}]}}, "rules": [{{"name": "r", "paths": ["/**"], "allow": ["svc"]}}]}}"#,
        uris.join(",")
    );
    let p = Policy::from_json(&json).unwrap();
    let mut id = clinician();
    id.san_uri = strings(&["https://other", "spiffe://example.org/svc/37"]);
    assert!(decide(&p, "GET", "/x", ClientCert::Present(&id)).is_allowed());
    id.san_uri = strings(&["spiffe://example.org/svc/50"]);
    assert!(!decide(&p, "GET", "/x", ClientCert::Present(&id)).is_allowed());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_thousand_rules_route_by_trie_in_policy_order() {
    let mut rules: Vec<String> = (0..1000)
        .map(|i| alloc::format!(r#"{{"name": "svc-{i}", "methods": ["GET"], "paths": ["/svc-{i}/items/{{id}}"], "allow": ["authenticated"]}}"#))
        .collect();
    rules.push(r#"{"name": "catch-all", "paths": ["/**"], "allow": ["admin"]}"#.to_string());
    let json = alloc::format!(
        r#"{{"roles": {{"admin": [{{"subject.OU": ["Admins"]}}]}}, "rules": [{}]}}"#,
        rules.join(",")
    );
    let p = Policy::from_json(&json).unwrap();
    let c = clinician();
    let d = decide(&p, "GET", "/svc-737/items/5", ClientCert::Present(&c));
    assert_eq!(
        d.reason.to_string(),
        "allow:rule[svc-737]:role[authenticated]"
    );
    assert_eq!(d.rule_index, Some(737));
    let d = decide(&p, "POST", "/svc-737/items/5", ClientCert::Present(&c));
    assert_eq!(
        d.reason.to_string(),
        "forbidden:rule[catch-all]:role_not_held"
    );
    assert_eq!(d.rule_index, Some(1000));
    let d = decide(&p, "GET", "/svc-737/items", ClientCert::Present(&c));
    assert_eq!(
        d.reason.to_string(),
        "forbidden:rule[catch-all]:role_not_held"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn shadow_mode_reports_the_enforce_verdict() {
    let json = policy_json().replacen('{', r#"{"mode": "shadow","#, 1);
    let p = Policy::from_json(&json).unwrap();
    assert_eq!(p.mode(), Mode::Shadow);
    let b = billing();
    let d = decide(&p, "GET", "/patient-records", ClientCert::Present(&b));
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(
        outcome(&d),
        (
            403,
            "forbidden:rule[records-read]:role_not_held".to_string()
        )
    );
}

fn header_policy() -> Policy {
    Policy::from_json(
        r#"{
          "issuers": { "health-ca": { "subject": "CN=Example Health Issuing CA,O=Example Health" } },
          "roles": {
            "clinician": [ { "subject.OU": ["Clinicians"] } ],
            "nurse": [ { "subject.OU": ["Nurses"] } ],
            "pinned": [ { "issuer_pin": ["health-ca"] } ]
          },
          "rules": [ { "name": "all", "paths": ["/**"], "allow": ["authenticated"] } ],
          "forward_headers": {
            "X-Client-Role": "roles",
            "x-client-subject": "subject",
            "x-client-ou": "subject.OU",
            "x-client-spiffe-id": "spiffe_id",
            "x-client-dns": "san.dns",
            "x-client-issuer-pin": "issuer_pin",
            "x-client-serial": "serial",
            "x-client-fp": "fingerprint_sha256",
            "x-client-eku": "eku"
          }
        }"#,
    )
    .unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn forward_header_values_are_header_safe() {
    let p = header_policy();
    let mut id = identity("alice", "Clinicians");
    id.subject = dn(&[
        ("CN", "alice\r\nx-admin: 1"),
        ("OU", "Nurses"),
        ("OU", "Clinicians,Admins"),
        ("OU", "Clinicians"),
        ("O", "Example Health"),
    ]);
    id.san_dns = strings(&["a.example", "b.example"]);
    let d = decide(&p, "GET", "/x", ClientCert::Present(&id));
    assert!(d.is_allowed());
    assert_eq!(d.roles, names(&["clinician", "nurse", "pinned"]));
    let headers = p.forward_header_values(&id, &d);
    let expected: Vec<(&str, String)> = vec![
        ("x-client-role", "clinician,nurse,pinned".to_string()),
        (
            "x-client-subject",
            "CN=alice\\0D\\0Ax-admin: 1,OU=Nurses,OU=Clinicians\\,Admins,OU=Clinicians,O=Example Health".to_string(),
        ),
        ("x-client-ou", "Clinicians,Clinicians%2CAdmins,Nurses".to_string()),
        ("x-client-dns", "a.example,b.example".to_string()),
        ("x-client-issuer-pin", "health-ca".to_string()),
        ("x-client-serial", "01ab".to_string()),
        ("x-client-fp", "11".repeat(32)),
        ("x-client-eku", "1.3.6.1.5.5.7.3.2,clientAuth".to_string()),
    ];
    assert_eq!(
        headers, expected,
        "spiffe_id has no value, so its header is omitted"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn forward_header_values_encode_raw_values() {
    let p = header_policy();
    let mut id = identity("alice", "Clinicians");
    // A subject attribute whose raw value carries CR LF and non-ASCII (the DN rendering
    // escapes it; the per-attribute selector must percent-encode it).
    id.subject =
        DistinguishedName::from_rdns(vec![vec![Attribute::utf8("2.5.4.11", "Clin\r\nicians é")]]);
    id.spiffe_id = Some("spiffe://example.org/ns/a".to_string());
    id.issuer = dn(&[("CN", "Another CA")]);
    let d = decide(&p, "GET", "/x", ClientCert::Present(&id));
    let headers = p.forward_header_values(&id, &d);
    let ou = headers
        .iter()
        .find(|(n, _)| *n == "x-client-ou")
        .map(|(_, v)| v.as_str());
    assert_eq!(ou, Some("Clin%0D%0Aicians %C3%A9"));
    let spiffe = headers
        .iter()
        .find(|(n, _)| *n == "x-client-spiffe-id")
        .map(|(_, v)| v.as_str());
    assert_eq!(spiffe, Some("spiffe://example.org/ns/a"));
    assert!(
        !headers.iter().any(|(n, _)| *n == "x-client-role"),
        "no role held: header omitted"
    );
    assert!(
        !headers.iter().any(|(n, _)| *n == "x-client-issuer-pin"),
        "no pin matches: header omitted"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn explanations_agree_with_decisions() {
    let p = policy();
    let c = clinician();
    let grants = p.role_grants(&c);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].role, "clinician");
    assert_eq!(grants[0].matcher, 0);
    let evidence: Vec<(&str, &str, &str)> = grants[0]
        .evidence
        .iter()
        .map(|e| (e.selector.as_str(), e.value.as_str(), e.pattern.as_str()))
        .collect();
    assert_eq!(
        evidence,
        [
            ("subject.OU", "Clinicians", "\"Clinicians\""),
            ("issuer_pin", "health-ca", "\"health-ca\"")
        ]
    );
    assert_eq!(p.roles_of(&c), ["clinician"]);

    let mut robot = billing();
    robot.spiffe_id = Some("spiffe://example.org/robots/r2".to_string());
    let grants = p.role_grants(&robot);
    assert_eq!(
        grants.iter().map(|g| g.role.as_str()).collect::<Vec<_>>(),
        ["billing", "robot"]
    );
    let robot_grant = &grants[1];
    assert_eq!(robot_grant.matcher, 1);
    assert_eq!(
        robot_grant.evidence[0].pattern,
        r#"{"prefix":"spiffe://example.org/robots/"}"#
    );

    let path = normalize_path("/shared/doc").unwrap();
    assert_eq!(p.matching_rules("GET", &path), [8, 9]);
    assert!(p.matching_rules("POST", &path).is_empty());
    let path = normalize_path("/patient-records/1").unwrap();
    assert_eq!(p.matching_rules("GET", &path), [1]);
    assert_eq!(p.matching_rules("PUT", &path), [2]);

    assert_eq!(
        p.check_identity(ClientCert::Present(&c), NOW)
            .map(|i| i.serial.as_str()),
        Ok("01ab")
    );
    assert_eq!(
        p.check_identity(ClientCert::Absent, NOW).err(),
        Some(IdentityRejection::NoCertificate)
    );
}

/// `evaluate_as_sent` (NGINX: the upstream receives the request-target as sent): a path that
/// normalisation would restructure is refused; one it only re-spells is decided as usual.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn as_sent_refuses_paths_the_upstream_would_see_differently() {
    let p = policy();
    let id = clinician();
    let as_sent = |path: &str| {
        p.evaluate_as_sent(
            &Request {
                method: "GET",
                path,
            },
            ClientCert::Present(&id),
            NOW,
        )
    };
    for path in [
        "/admin/../healthz",
        "/admin/%2E%2E/healthz",
        "//healthz",
        "/healthz/.",
        "/healthz#x",
    ] {
        let d = as_sent(path);
        assert_eq!(
            outcome(&d),
            (400, "bad_request:path_not_normalized".to_string()),
            "{path}"
        );
        assert_eq!(d.upstream_path, None, "{path}");
        assert_eq!(d.rule, None, "{path}");
        assert!(d.roles.is_empty(), "{path}");
    }
    // Normalisation errors keep their own reason.
    assert_eq!(
        outcome(&as_sent("/admin/..%2Fhealthz")),
        (400, "bad_request:encoded_slash".to_string())
    );
    // Re-spelling only (hex case, unreserved escapes, trailing slash) is fine.
    let d = as_sent("/patient-records/caf%c3%a9/?x=%2F");
    assert_eq!(
        outcome(&d),
        (200, "allow:rule[records-read]:role[clinician]".to_string())
    );
    assert_eq!(
        d.upstream_path.as_deref(),
        Some("/patient-records/caf%C3%A9/?x=%2F")
    );
    assert_eq!(
        outcome(&as_sent("/%61dmin/users")),
        (403, "forbidden:rule[admin]:role_not_held".to_string())
    );
    // `evaluate` itself still normalises.
    assert_eq!(
        outcome(&decide(
            &p,
            "GET",
            "/admin/../healthz",
            ClientCert::Present(&id)
        )),
        (200, "allow:rule[health]:public".to_string())
    );
}

/// A `serial` pattern scoped to an issuer holds only for that issuer's certificate; a plain
/// one holds for any CA's certificate with that serial.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn issuer_scoped_serials() {
    let policy = Policy::from_json(
        r#"{
          "issuers": {
            "health-ca": { "subject": "CN=Example Health Issuing CA,O=Example Health", "key_id": "9f1c" },
            "other-ca": { "subject": "CN=Other CA" }
          },
          "roles": {
            "scoped": [ { "serial": [ {"issuer": "other-ca", "serial": "01ab"}, {"issuer": "health-ca", "serial": "01:AB"} ] } ],
            "wrong-ca": [ { "serial": [ {"issuer": "other-ca", "serial": "01ab"} ] } ],
            "plain": [ { "serial": ["01ab"] } ]
          },
          "rules": [ { "name": "r", "methods": ["GET"], "paths": ["/r"], "allow": ["authenticated"] } ]
        }"#,
    )
    .unwrap();
    let alice = clinician();
    assert_eq!(policy.roles_of(&alice), ["scoped", "plain"]);
    let mut foreign = clinician();
    foreign.issuer = dn(&[("CN", "Other CA")]);
    foreign.authority_key_id = None;
    assert_eq!(policy.roles_of(&foreign), ["scoped", "wrong-ca", "plain"]);
    let mut other_serial = clinician();
    other_serial.serial = "01ac".to_string();
    assert!(policy.roles_of(&other_serial).is_empty());
}

/// Zero and negative serials are not usable identities (RFC 5280 §4.1.2.2).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn serials_must_be_positive() {
    let policy = policy();
    for serial in ["0", "-81", "-01"] {
        let mut cert = clinician();
        cert.serial = serial.to_string();
        let d = decide(
            &policy,
            "GET",
            "/patient-records/1",
            ClientCert::Present(&cert),
        );
        assert_eq!(
            outcome(&d),
            (401, "unauthenticated:serial_not_positive".to_string()),
            "{serial}"
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn method_override_parameters_are_refused_before_identity() {
    let policy = policy();
    for path in [
        "/patient-records/1?_method=DELETE",
        "/healthz?x=1&%5Fmethod=DELETE",
        "/a/../patient-records?_method",
    ] {
        let d = decide(&policy, "GET", path, ClientCert::Absent);
        assert_eq!(
            outcome(&d),
            (400, "bad_request:method_override".to_string()),
            "{path}"
        );
        assert_eq!(d.upstream_path, None);
    }
    let extra = Policy::from_json(
        r#"{"method_override_params": ["verb"], "rules": [{"name": "h", "methods": ["GET"], "paths": ["/healthz"], "allow": ["public"]}]}"#,
    )
    .unwrap();
    let d = decide(&extra, "GET", "/healthz?Verb=DELETE", ClientCert::Absent);
    assert_eq!(
        outcome(&d),
        (400, "bad_request:method_override".to_string())
    );
    let d = decide(&extra, "GET", "/healthz?verbose=1", ClientCert::Absent);
    assert_eq!(outcome(&d), (200, "allow:rule[h]:public".to_string()));
    let err = Policy::from_json(r#"{"method_override_params": ["[x]"], "rules": []}"#).unwrap_err();
    assert_eq!(err.path(), "method_override_params[0]");
}

/// v1.1 `rules[].hosts`: scoping, the authority's refusals, host binds, v1 unaffected.
mod hosts {
    use super::*;
    use crate::authority::{AuthorityError, RequestAuthority};

    fn hosts_policy() -> Policy {
        Policy::from_json(
            r#"{
              "roles": {
                "clinician": [ { "subject.OU": ["Clinicians"] } ],
                "admin": [ { "subject.OU": ["Admins"] } ]
              },
              "rules": [
                { "name": "records", "methods": ["GET"], "paths": ["/r/**"], "hosts": ["records.example.org"], "allow": ["clinician", "admin"] },
                { "name": "admin-records", "methods": ["GET"], "paths": ["/r/**"], "hosts": ["admin.example.org"], "allow": ["admin"] },
                { "name": "wild", "methods": ["GET"], "paths": ["/w"], "hosts": ["*.example.org"], "allow": ["authenticated"] },
                { "name": "tenant", "paths": ["/orders/**"], "hosts": ["{tenant}.tenants.example.org"], "allow": ["authenticated"], "bind": { "tenant": "subject.CN" } },
                { "name": "health", "methods": ["GET"], "paths": ["/healthz"], "allow": ["public"] }
              ]
            }"#,
        )
        .unwrap()
    }

    fn at(
        policy: &Policy,
        sent: Option<&str>,
        absolute: Option<&str>,
        path: &str,
        who: &Identity,
    ) -> Decision {
        policy.evaluate_with_authority(
            &Request {
                method: "GET",
                path,
            },
            RequestAuthority {
                sent,
                routed: absolute,
            },
            ClientCert::Present(who),
            NOW,
            None,
            false,
        )
    }

    fn reason(decision: &Decision) -> String {
        decision.reason.to_string()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_same_path_on_two_hosts_has_two_rules() {
        let policy = hosts_policy();
        let alice = identity("alice", "Clinicians");
        let bob = identity("bob", "Admins");
        let r = |host, who| reason(&at(&policy, Some(host), None, "/r/1", who));
        assert_eq!(
            r("records.example.org", &alice),
            "allow:rule[records]:role[clinician]"
        );
        assert_eq!(
            r("admin.example.org", &alice),
            "forbidden:rule[admin-records]:role_not_held"
        );
        assert_eq!(
            r("admin.example.org", &bob),
            "allow:rule[admin-records]:role[admin]"
        );
        assert_eq!(
            r("RECORDS.Example.ORG.", &alice),
            "allow:rule[records]:role[clinician]"
        );
        assert_eq!(
            r("records.example.org:8443", &alice),
            "allow:rule[records]:role[clinician]"
        );
        assert_eq!(r("other.example.net", &alice), "forbidden:no_rule_matched");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn wildcards_match_one_label() {
        let policy = hosts_policy();
        let alice = identity("alice", "Clinicians");
        let r = |host| reason(&at(&policy, Some(host), None, "/w", &alice));
        assert_eq!(r("a.example.org"), "allow:rule[wild]:role[authenticated]");
        assert_eq!(r("a.b.example.org"), "forbidden:no_rule_matched");
        assert_eq!(r("example.org"), "forbidden:no_rule_matched");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn host_binds() {
        let policy = hosts_policy();
        let acme = identity("acme", "Clinicians");
        let r = |host| reason(&at(&policy, Some(host), None, "/orders/7", &acme));
        assert_eq!(
            r("acme.tenants.example.org"),
            "allow:rule[tenant]:role[authenticated]"
        );
        assert_eq!(
            r("ACME.tenants.example.org"),
            "allow:rule[tenant]:role[authenticated]"
        );
        assert_eq!(
            r("globex.tenants.example.org"),
            "forbidden:rule[tenant]:bind_failed[tenant]"
        );
        assert_eq!(r("acme.x.tenants.example.org"), "forbidden:no_rule_matched");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn refusals_come_after_the_path_and_before_the_identity() {
        let policy = hosts_policy();
        let alice = identity("alice", "Clinicians");
        let code = |sent, absolute, path| at(&policy, sent, absolute, path, &alice);
        assert_eq!(
            code(None, None, "/r/1").reason,
            Reason::BadAuthority(AuthorityError::Missing)
        );
        assert_eq!(code(None, None, "/r/1").status, Status::BadRequest);
        assert_eq!(
            code(Some("u@records.example.org"), None, "/r/1").reason,
            Reason::BadAuthority(AuthorityError::Malformed)
        );
        assert_eq!(
            code(
                Some("admin.example.org"),
                Some("records.example.org"),
                "/r/1"
            )
            .reason,
            Reason::BadAuthority(AuthorityError::Mismatch)
        );
        assert_eq!(
            reason(&code(None, Some("records.example.org"), "/r/1")),
            "allow:rule[records]:role[clinician]"
        );
        // The path is refused first.
        assert_eq!(
            code(None, None, "/r/%2f").reason,
            Reason::BadPath(PathError::EncodedSlash)
        );
        // A `public` route is no exception: the host decides which rules exist.
        assert_eq!(
            reason(&policy.evaluate(
                &Request {
                    method: "GET",
                    path: "/healthz"
                },
                ClientCert::Absent,
                NOW
            )),
            "bad_request:authority_missing"
        );
        // Before the identity.
        assert_eq!(
            reason(&policy.evaluate_with_authority(
                &Request {
                    method: "GET",
                    path: "/r/1"
                },
                RequestAuthority {
                    sent: Some("a b"),
                    routed: None
                },
                ClientCert::Absent,
                NOW,
                None,
                false
            )),
            "bad_request:authority_malformed"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_policy_without_hosts_never_reads_the_authority() {
        let policy = policy();
        assert!(!policy.uses_hosts());
        let alice = identity("alice", "Clinicians");
        for sent in [None, Some("a b"), Some("x@y")] {
            let decision = at(
                &policy,
                sent,
                Some("elsewhere"),
                "/patient-records/1",
                &alice,
            );
            assert_eq!(
                reason(&decision),
                "allow:rule[records-read]:role[clinician]"
            );
        }
        assert!(hosts_policy().uses_hosts());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn compile_errors_name_the_entry() {
        let error = |rule: &str| {
            Policy::from_json(&alloc::format!(
                r#"{{"roles": {{"r": [{{"subject.OU": ["A"]}}]}}, "rules": [{rule}]}}"#
            ))
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            error(r#"{"name": "a", "paths": ["/"], "hosts": [], "allow": ["r"]}"#),
            "invalid policy at rules[0].hosts: empty hosts list: it could never match (omit `hosts` to match every host)"
        );
        assert!(
            error(r#"{"name": "a", "paths": ["/"], "hosts": ["a.b", "A.b"], "allow": ["r"]}"#)
                .starts_with(
                "invalid policy at rules[0].hosts[1]: \"A.b\": write host patterns in lower case"
            )
        );
        assert_eq!(
            error(r#"{"name": "a", "paths": ["/"], "hosts": ["a.b", "a.b"], "allow": ["r"]}"#),
            "invalid policy at rules[0].hosts[1]: host \"a.b\" is listed twice"
        );
        assert_eq!(
            error(r#"{"name": "a", "paths": ["/{t}"], "hosts": ["{t}.b.c"], "allow": ["r"]}"#),
            "invalid policy at rules[0].hosts[0]: {t} is captured by a path of this rule too; name the host parameter differently"
        );
        assert_eq!(
            error(r#"{"name": "a", "paths": ["/"], "hosts": ["{t}.b.c", "x.b.c"], "allow": ["r"], "bind": {"t": "subject.O"}}"#),
            "invalid policy at rules[0].bind.t: host \"x.b.c\" does not capture {t}; every host of a rule with a host bind must capture the bound parameter"
        );
        assert!(
            error(r#"{"name": "a", "paths": ["/"], "hosts": null, "allow": ["r"]}"#)
                .starts_with("invalid policy at rules[0].hosts: invalid type: null")
        );
    }
}
