//! Every compile error names the JSON path of the field at fault and says what is wrong.

use alloc::string::{String, ToString};

use crate::policy::{Mode, Policy, PolicyError, Source};
use crate::selector::Selector;

const FP: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

/// The contract's example document, with full-length hex values.
fn contract_example() -> String {
    r#"{
      "mode": "enforce",
      "identity": { "sources": ["peer_certificate"], "require_client_auth_eku": true },
      "issuers": {
        "health-ca": { "subject": "CN=Example Health Issuing CA,O=Example Health", "key_id": "9F:1C" }
      },
      "revoked": { "serials": ["01ab"], "fingerprints_sha256": ["FP"] },
      "roles": {
        "clinician":   [ { "subject.OU": ["Clinicians"], "issuer_pin": ["health-ca"] } ],
        "admin":       [ { "subject.OU": ["Admins"], "issuer_pin": ["health-ca"] } ],
        "billing":     [ { "san.uri": ["spiffe://example.org/ns/billing/sa/api"] } ],
        "partner":     [ { "fingerprint_sha256": ["FP"] } ],
        "svc-a":       [ { "ext.1.3.6.1.4.1.55555.1": ["api-client-service-a"] } ]
      },
      "rules": [
        { "name": "records-read",  "methods": ["GET", "HEAD"], "paths": ["/patient-records", "/patient-records/**"], "allow": ["clinician", "admin"] },
        { "name": "records-write", "methods": ["POST", "PUT", "PATCH", "DELETE"], "paths": ["/patient-records/**"], "allow": ["admin"] },
        { "name": "tenant-orders", "paths": ["/tenants/{tenant}/orders/**"], "allow": ["authenticated"], "bind": { "tenant": "subject.O" } },
        { "name": "health",        "methods": ["GET"], "paths": ["/healthz"], "allow": ["public"] }
      ],
      "forward_headers": { "x-client-role": "roles", "x-client-subject": "subject", "X-Client-SPIFFE-ID": "spiffe_id" }
    }"#
    .replace("FP", FP)
}

fn invalid(json: &str) -> (String, String) {
    match Policy::from_json(json) {
        Err(PolicyError::Invalid { path, detail }) => (path, detail),
        Err(other) => panic!("expected a content error, got {other}"),
        Ok(_) => panic!("expected an error, the policy compiled:\n{json}"),
    }
}

/// Asserts the error's path and the start of its detail.
#[track_caller]
fn assert_invalid(json: &str, path: &str, detail_prefix: &str) {
    let (got_path, detail) = invalid(json);
    assert_eq!(got_path, path, "path; detail was: {detail}");
    assert!(
        detail.starts_with(detail_prefix),
        "detail of {path}:\n  got:  {detail}\n  want: {detail_prefix}..."
    );
}

/// A document with these `roles` and one rule allowing `r`.
fn with_roles(roles: &str) -> String {
    alloc::format!(
        r#"{{"issuers": {{"ca": {{"subject": "CN=CA"}}}}, "roles": {roles}, "rules": [{{"name": "x", "paths": ["/"], "allow": ["authenticated"]}}]}}"#
    )
}

/// A document with one role `r` and these `rules`.
fn with_rules(rules: &str) -> String {
    alloc::format!(
        r#"{{"roles": {{"r": [{{"subject.OU": ["A"]}}], "admin": [{{"subject.OU": ["B"]}}]}}, "rules": {rules}}}"#
    )
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_contract_example_compiles() {
    let policy = Policy::from_json(&contract_example()).unwrap();
    assert_eq!(policy.mode(), Mode::Enforce);
    assert_eq!(policy.sources(), &[Source::PeerCertificate]);
    assert!(policy.require_client_auth_eku());
    assert!(!policy.expose_reason());
    assert_eq!(
        policy.rule_names(),
        ["records-read", "records-write", "tenant-orders", "health"]
    );
    assert_eq!(
        policy.role_names(),
        ["clinician", "admin", "billing", "partner", "svc-a"]
    );
    assert_eq!(
        policy.forward_headers(),
        &[
            ("x-client-role".to_string(), Selector::Roles),
            ("x-client-subject".to_string(), Selector::Subject),
            ("x-client-spiffe-id".to_string(), Selector::SpiffeId),
        ]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn defaults() {
    let policy = Policy::from_json(r#"{"rules": []}"#).unwrap();
    assert_eq!(policy.mode(), Mode::Enforce);
    assert_eq!(policy.sources(), &[Source::PeerCertificate]);
    assert!(policy.require_client_auth_eku());
    assert!(!policy.expose_reason());
    assert!(policy.forward_headers().is_empty());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn shadow_mode_sources_and_flags() {
    let policy = Policy::from_json(
        r#"{"mode": "shadow", "identity": {"sources": ["xfcc", "peer_certificate"], "require_client_auth_eku": false}, "expose_reason": true, "rules": []}"#,
    )
    .unwrap();
    assert_eq!(policy.mode(), Mode::Shadow);
    assert_eq!(policy.sources(), &[Source::Xfcc, Source::PeerCertificate]);
    assert!(!policy.require_client_auth_eku());
    assert!(policy.expose_reason());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn display_matches_the_documented_example() {
    let json = r#"{"roles": {"clinician": [{"subject.OU": ["C"]}], "admin": [{"subject.OU": ["A"]}]},
      "rules": [{"name": "a", "paths": ["/a"], "allow": ["admin"]}, {"name": "b", "paths": ["/b"], "allow": ["admn"]}]}"#;
    let err = Policy::from_json(json).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid policy at rules[1].allow[0]: role "admn" is not defined (defined: admin, clinician)"#
    );
    assert_eq!(err.path(), "rules[1].allow[0]");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn syntax_errors_pass_through_with_their_path() {
    let err = Policy::from_json(r#"{"rules": [{"name": "a", "paths": ["/"], "allow": ["authenticated"], "methods": "GET"}]}"#)
        .unwrap_err();
    let PolicyError::Syntax { path, detail } = err else {
        panic!("expected a syntax error");
    };
    assert_eq!(path, "rules[0].methods");
    assert_eq!(
        detail,
        "invalid type: string \"GET\", expected an array at line 1 column 85"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn mode_and_identity_errors() {
    assert_invalid(
        r#"{"mode": "audit", "rules": []}"#,
        "mode",
        r#"unknown mode "audit" (expected "enforce" or "shadow")"#,
    );
    assert_invalid(
        r#"{"mode": "Enforce", "rules": []}"#,
        "mode",
        r#"unknown mode "Enforce""#,
    );
    assert_invalid(
        r#"{"identity": {"sources": []}, "rules": []}"#,
        "identity.sources",
        "list at least one source",
    );
    assert_invalid(
        r#"{"identity": {"sources": ["peer_certificate", "header"]}, "rules": []}"#,
        "identity.sources[1]",
        r#"unknown source "header" (expected "peer_certificate" or "xfcc")"#,
    );
    assert_invalid(
        r#"{"identity": {"sources": ["xfcc", "xfcc"]}, "rules": []}"#,
        "identity.sources[1]",
        r#"source "xfcc" is listed twice"#,
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn issuer_errors() {
    assert_invalid(
        r#"{"issuers": {"bad name": {"subject": "CN=CA"}}, "rules": []}"#,
        r#"issuers["bad name"]"#,
        r#"issuer name "bad name" must be 1 to 128 characters"#,
    );
    assert_invalid(
        r#"{"issuers": {"ca": {"subject": "Example CA"}}, "rules": []}"#,
        "issuers.ca.subject",
        "not an RFC 4514 DN such as \"CN=Issuing CA,O=Example\": expected `=` after attribute type `Example`",
    );
    assert_invalid(
        r#"{"issuers": {"ca": {"subject": "CN=CA,XX=1"}}, "rules": []}"#,
        "issuers.ca.subject",
        "not an RFC 4514 DN such as \"CN=Issuing CA,O=Example\": unknown attribute type `XX`",
    );
    assert_invalid(
        r#"{"issuers": {"ca": {"subject": ""}}, "rules": []}"#,
        "issuers.ca.subject",
        "not an RFC 4514 DN such as \"CN=Issuing CA,O=Example\": the DN is empty",
    );
    assert_invalid(
        r#"{"issuers": {"ca": {"subject": "CN=CA", "key_id": "9f1"}}, "rules": []}"#,
        "issuers.ca.key_id",
        "a key_id is whole octets",
    );
    assert_invalid(
        r#"{"issuers": {"ca": {"subject": "CN=CA", "key_id": "keyid"}}, "rules": []}"#,
        "issuers.ca.key_id",
        "a key_id is hex digits",
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn revoked_errors() {
    assert_invalid(
        r#"{"revoked": {"serials": ["01", "0x02"]}, "rules": []}"#,
        "revoked.serials[1]",
        "a serial is hex digits, optionally separated by `:`",
    );
    assert_invalid(
        r#"{"revoked": {"fingerprints_sha256": ["5e88"]}, "rules": []}"#,
        "revoked.fingerprints_sha256[0]",
        "a SHA-256 fingerprint is 64 hex digits",
    );
    let upper_with_colons: String = FP
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|pair| core::str::from_utf8(pair).unwrap())
        .collect::<alloc::vec::Vec<_>>()
        .join(":");
    let json = alloc::format!(
        r#"{{"revoked": {{"serials": ["00:01:AB"], "fingerprints_sha256": ["{upper_with_colons}"]}}, "rules": []}}"#
    );
    assert!(Policy::from_json(&json).is_ok());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn role_name_errors() {
    for reserved in ["authenticated", "public"] {
        assert_invalid(
            &with_roles(&alloc::format!(
                r#"{{"{reserved}": [{{"subject.OU": ["A"]}}]}}"#
            )),
            &alloc::format!("roles.{reserved}"),
            &alloc::format!("\"{reserved}\" is a reserved role name"),
        );
    }
    assert_invalid(
        &with_roles(r#"{"a b": [{"subject.OU": ["A"]}]}"#),
        r#"roles["a b"]"#,
        r#"role name "a b" must be 1 to 128 characters"#,
    );
    assert_invalid(
        &with_roles(r#"{"r": []}"#),
        "roles.r",
        "a role needs at least one matcher",
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn matcher_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"r": [{}]}"#,
            "roles.r[0]",
            "empty matcher: it would match every certificate",
        ),
        (
            r#"{"r": [{"subject.OU": ["A"]}, {"subject.XX": ["A"]}]}"#,
            r#"roles.r[1]["subject.XX"]"#,
            "unknown selector `subject.XX`: attribute must be CN, O, OU",
        ),
        (
            r#"{"r": [{"subjects": ["A"]}]}"#,
            "roles.r[0].subjects",
            "unknown selector `subjects`",
        ),
        (
            r#"{"r": [{"ext.1.2.x": ["A"]}]}"#,
            r#"roles.r[0]["ext.1.2.x"]"#,
            "unknown selector `ext.1.2.x`: ext.<oid> needs a dotted OID",
        ),
        (
            r#"{"r": [{"subject.3.1": ["A"]}]}"#,
            r#"roles.r[0]["subject.3.1"]"#,
            "unknown selector `subject.3.1`",
        ),
        (
            r#"{"r": [{"roles": ["admin"]}]}"#,
            "roles.r[0].roles",
            "the `roles` selector is only for forward_headers",
        ),
        (
            r#"{"r": [{"subject.OU": []}]}"#,
            r#"roles.r[0]["subject.OU"]"#,
            "empty pattern list",
        ),
        (
            r#"{"r": [{"subject.OU": [{"issuer": "a", "serial": "01"}]}]}"#,
            r#"roles.r[0]["subject.OU"][0]"#,
            "an {\"issuer\", \"serial\"} pattern is only for the `serial` selector",
        ),
        (
            r#"{"r": [{"serial": [{"issuer": "nope", "serial": "01"}]}]}"#,
            "roles.r[0].serial[0].issuer",
            "issuer \"nope\" is not defined in `issuers`",
        ),
        (
            r#"{"r": [{"serial": [{"issuer": "ca", "serial": "0x1"}]}]}"#,
            "roles.r[0].serial[0].serial",
            "a serial is hex digits",
        ),
        (
            r#"{"r": [{"subject.OU": ["A", ""]}]}"#,
            r#"roles.r[0]["subject.OU"][1]"#,
            "empty exact pattern",
        ),
        (
            r#"{"r": [{"san.dns": [{"glob": ""}]}]}"#,
            r#"roles.r[0]["san.dns"][0]"#,
            "empty glob pattern",
        ),
        (
            r#"{"r": [{"san.uri": [{"prefix": ""}]}]}"#,
            r#"roles.r[0]["san.uri"][0]"#,
            "empty prefix pattern",
        ),
        (
            r#"{"r": [{"issuer_pin": ["ca", "other-ca"]}]}"#,
            "roles.r[0].issuer_pin[1]",
            r#"issuer "other-ca" is not defined (defined: ca)"#,
        ),
        (
            r#"{"r": [{"issuer_pin": [{"prefix": "c"}]}]}"#,
            "roles.r[0].issuer_pin[0]",
            "issuer_pin takes exact values only",
        ),
        (
            r#"{"r": [{"fingerprint_sha256": ["abc"]}]}"#,
            "roles.r[0].fingerprint_sha256[0]",
            "a SHA-256 fingerprint is 64 hex digits",
        ),
        (
            r#"{"r": [{"fingerprint_sha256": [{"prefix": "ab"}]}]}"#,
            "roles.r[0].fingerprint_sha256[0]",
            "fingerprint_sha256 takes exact values only",
        ),
        (
            r#"{"r": [{"serial": ["xyz"]}]}"#,
            "roles.r[0].serial[0]",
            "a serial is hex digits",
        ),
        (
            r#"{"r": [{"serial": [{"glob": "0*"}]}]}"#,
            "roles.r[0].serial[0]",
            "serial takes exact values only",
        ),
    ];
    for (roles, path, detail) in cases {
        assert_invalid(&with_roles(roles), path, detail);
    }
    assert_invalid(
        r#"{"roles": {"r": [{"issuer_pin": ["ca"]}]}, "rules": []}"#,
        "roles.r[0].issuer_pin[0]",
        r#"issuer "ca" is not defined (no issuers are defined)"#,
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rule_name_errors() {
    assert_invalid(
        &with_rules(r#"[{"name": "", "paths": ["/"], "allow": ["r"]}]"#),
        "rules[0].name",
        r#"rule name "" must be 1 to 128 characters"#,
    );
    assert_invalid(
        &with_rules(r#"[{"name": "read records", "paths": ["/"], "allow": ["r"]}]"#),
        "rules[0].name",
        r#"rule name "read records" must be"#,
    );
    assert_invalid(
        &with_rules(
            r#"[{"name": "a", "paths": ["/a"], "allow": ["r"]}, {"name": "a", "paths": ["/b"], "allow": ["r"]}]"#,
        ),
        "rules[1].name",
        r#"duplicate rule name "a""#,
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn method_errors() {
    let rule = |methods: &str| {
        with_rules(&alloc::format!(
            r#"[{{"name": "a", "methods": {methods}, "paths": ["/"], "allow": ["r"]}}]"#
        ))
    };
    assert_invalid(
        &rule("[]"),
        "rules[0].methods",
        "empty methods list: it could never match",
    );
    assert_invalid(
        &rule(r#"["GET", "get"]"#),
        "rules[0].methods[1]",
        r#""get" is not an upper-case HTTP method token"#,
    );
    assert_invalid(
        &rule(r#"["GE T"]"#),
        "rules[0].methods[0]",
        r#""GE T" is not an upper-case"#,
    );
    assert_invalid(
        &rule(r#"[""]"#),
        "rules[0].methods[0]",
        r#""" is not an upper-case"#,
    );
    assert_invalid(
        &rule(r#"["GET", "GET"]"#),
        "rules[0].methods[1]",
        r#"method "GET" is listed twice"#,
    );
    assert!(Policy::from_json(&rule(r#"["M-SEARCH", "PURGE"]"#)).is_ok());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn path_errors() {
    let rule = |paths: &str| {
        with_rules(&alloc::format!(
            r#"[{{"name": "a", "paths": {paths}, "allow": ["r"]}}]"#
        ))
    };
    assert_invalid(
        &rule("[]"),
        "rules[0].paths",
        "a rule needs at least one path pattern",
    );
    assert_invalid(
        &rule(r#"["/ok", "admin"]"#),
        "rules[0].paths[1]",
        "a path pattern must start with `/`",
    );
    assert_invalid(
        &rule(r#"["/a/**/b"]"#),
        "rules[0].paths[0]",
        "`**` may only be the last segment",
    );
    assert_invalid(
        &rule(r#"["/a*"]"#),
        "rules[0].paths[0]",
        "`a*`: a literal segment may not contain",
    );
    assert_invalid(
        &rule(r#"["/a/%2e%2e"]"#),
        "rules[0].paths[0]",
        "`%2e%2e`: path patterns match decoded segments",
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn allow_errors() {
    let rule = |allow: &str| {
        with_rules(&alloc::format!(
            r#"[{{"name": "a", "paths": ["/"], "allow": {allow}}}]"#
        ))
    };
    assert_invalid(&rule("[]"), "rules[0].allow", "empty allow list");
    assert_invalid(
        &rule(r#"["r", "admn"]"#),
        "rules[0].allow[1]",
        r#"role "admn" is not defined (defined: admin, r)"#,
    );
    assert_invalid(
        &rule(r#"["public", "admin"]"#),
        "rules[0].allow[1]",
        "`public` cannot be mixed with other roles",
    );
    assert_invalid(
        &rule(r#"["authenticated", "public"]"#),
        "rules[0].allow[0]",
        "`public` cannot be mixed with other roles",
    );
    assert_invalid(
        &rule(r#"["public", "public"]"#),
        "rules[0].allow[1]",
        r#"role "public" is listed twice"#,
    );
    assert_invalid(
        &rule(r#"["r", "r"]"#),
        "rules[0].allow[1]",
        r#"role "r" is listed twice"#,
    );
    assert_invalid(
        &rule(r#"["authenticated", "authenticated"]"#),
        "rules[0].allow[1]",
        r#"role "authenticated" is listed twice"#,
    );
    assert_invalid(
        r#"{"rules": [{"name": "a", "paths": ["/"], "allow": ["admin"]}]}"#,
        "rules[0].allow[0]",
        r#"role "admin" is not defined (no roles are defined; reserved: authenticated, public)"#,
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bind_errors() {
    let rule = |paths: &str, allow: &str, bind: &str| {
        with_rules(&alloc::format!(
            r#"[{{"name": "t", "paths": {paths}, "allow": {allow}, "bind": {bind}}}]"#
        ))
    };
    assert_invalid(
        &rule(
            r#"["/tenants/{tenant}/**", "/t/*"]"#,
            r#"["r"]"#,
            r#"{"tenant": "subject.O"}"#,
        ),
        "rules[0].bind.tenant",
        r#"path "/t/*" does not capture {tenant}; every path of a rule with a bind must capture the bound parameter"#,
    );
    assert_invalid(
        &rule(
            r#"["/tenants/{tenant}"]"#,
            r#"["r"]"#,
            r#"{"tenant": "subject.X"}"#,
        ),
        "rules[0].bind.tenant",
        "unknown selector `subject.X`",
    );
    assert_invalid(
        &rule(
            r#"["/tenants/{tenant}"]"#,
            r#"["r"]"#,
            r#"{"tenant": "roles"}"#,
        ),
        "rules[0].bind.tenant",
        "`roles` cannot be bound",
    );
    assert_invalid(
        &rule(
            r#"["/tenants/{tenant}"]"#,
            r#"["public"]"#,
            r#"{"tenant": "subject.O"}"#,
        ),
        "rules[0].bind",
        "a rule that allows `public` needs no identity",
    );
    assert!(Policy::from_json(&rule(
        r#"["/tenants/{tenant}/orders/**", "/t/{tenant}"]"#,
        r#"["r"]"#,
        r#"{"tenant": "issuer_pin"}"#
    ))
    .is_ok());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn forward_header_errors() {
    let doc = |headers: &str| alloc::format!(r#"{{"rules": [], "forward_headers": {headers}}}"#);
    assert_invalid(
        &doc(r#"{"x client": "subject"}"#),
        r#"forward_headers["x client"]"#,
        r#""x client" is not a valid header name"#,
    );
    assert_invalid(
        &doc(r#"{":path": "subject"}"#),
        r#"forward_headers[":path"]"#,
        r#"":path" is not a valid header name"#,
    );
    for name in [
        "Host",
        "content-length",
        "transfer-encoding",
        "X-Forwarded-Client-Cert",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "x-mtls-authz-shadow",
        "connection",
    ] {
        assert_invalid(
            &doc(&alloc::format!(r#"{{"{name}": "subject"}}"#)),
            &alloc::format!("forward_headers.{name}"),
            &alloc::format!(
                r#""{}" may not be set by a policy"#,
                name.to_ascii_lowercase()
            ),
        );
    }
    assert_invalid(
        &doc(r#"{"x-a": "subject", "X-A": "issuer"}"#),
        "forward_headers.X-A",
        r#"header "x-a" is listed twice"#,
    );
    assert_invalid(
        &doc(r#"{"x-a": "subject.ou"}"#),
        "forward_headers.x-a",
        "unknown selector `subject.ou`",
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn first_error_in_document_order_wins() {
    // Both the mode and a rule are wrong: the mode comes first in the document contract.
    assert_invalid(
        r#"{"mode": "x", "rules": [{"name": "", "paths": [], "allow": []}]}"#,
        "mode",
        "unknown mode",
    );
}
