//! The outcome of evaluating one request, with a deterministic reason string.
//!
//! Reason grammar (stable: logs, tests and the CLI rely on it):
//! ```text
//! allow:rule[<rule>]:role[<role>]          allowed; first rule (policy order) that allows, first role (rule's allow order) held
//! allow:rule[<rule>]:public                allowed by a rule that allows `public`
//! bad_request:<path_error>                 400, path cannot be normalised unambiguously (PathError::code)
//! bad_request:invalid_method               400, method is not an RFC 9110 token
//! bad_request:<authority_error>            400, v1.1: a policy with `hosts` and a request whose authority is missing,
//!                                          malformed or ambiguous (AuthorityError::code)
//! bad_request:method_override              400, a query parameter (or, with form_body_check, a body parameter) overrides the method
//! bad_request:form_body_too_large          400, form_body_check: the body is over max_bytes and cannot be checked
//! bad_request:form_body_malformed          400, form_body_check: a multipart body whose parts cannot be read
//! bad_request:spoofable_header[<name>]     400, a request that would be forwarded carries a header the filter must
//!                                          strip, through a host that cannot strip it (NGINX; decided by the filter)
//! bad_request:too_many_headers             400, a request that would be forwarded has more request headers than
//!                                          the host shows the filter (NGINX: 100; decided by the filter)
//! unauthenticated:<identity_error>         401, no usable identity and no `public` rule matched
//! unauthenticated:<token_error>            401, v1.1: the first matching rule (policy order) has `require_token`
//!                                          and the request has no verified, bound, consistent token
//! forbidden:no_rule_matched                403, identity ok but no rule matches method + path
//! forbidden:rule[<rule>]:role_not_held     403, first matching rule (policy order) not satisfied: no allowed role
//! forbidden:rule[<rule>]:bind_failed[<param>]  403, role held but the bind of <param> failed
//! ```
//! `<identity_error>` is one of: `no_certificate`, `certificate_unverified`,
//! `certificate_parse_error`, `certificate_too_large`, `certificate_expired`,
//! `certificate_not_yet_valid`, `serial_not_positive`, `revoked_serial`, `revoked_fingerprint`,
//! `missing_client_auth_eku`, `ca_certificate`; v1.1 revocation: `revoked_crl`,
//! `revocation_unavailable`.
//! `<token_error>` is a [`crate::token::TokenError::code`]: `token_missing`,
//! `token_keys_unavailable` (only `jwks_fetch` and no key set fetched yet), `token_repeated`,
//! `token_in_query` (an `access_token` query parameter under `require_token`),
//! `token_too_large`, `token_encrypted`, `token_malformed`, `token_bad_base64`, `token_bad_json`,
//! `token_duplicate_member`, `token_bad_header`, `token_alg_none`, `token_alg_hmac`,
//! `token_alg_unsupported`, `token_alg_not_allowed`, `token_unencoded_payload`,
//! `token_crit_unsupported`, `token_key_in_header`, `token_type_not_allowed`, `token_unknown_kid`,
//! `token_kid_required`, `token_no_key`, `token_key_unusable`, `token_key_mismatch`,
//! `token_bad_signature`, `token_bad_claim`, `token_missing_claim`, `token_issuer_mismatch`,
//! `token_audience_mismatch`, `token_expired`, `token_not_yet_valid`, `token_issued_in_future`,
//! `token_not_bound`, `token_binding_mismatch`, `token_claim_mismatch`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::authority::AuthorityError;
use crate::path::PathError;

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Forward the request upstream.
    Allow,
    /// Answer locally with [`Decision::status`].
    Deny,
}

/// HTTP status of the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 200: allowed (the upstream answers).
    Ok = 200,
    /// 400: the request path cannot be normalised unambiguously.
    BadRequest = 400,
    /// 401: no usable identity.
    Unauthenticated = 401,
    /// 403: identity not permitted.
    Forbidden = 403,
}

impl Status {
    /// Numeric HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::Unauthenticated => 401,
            Status::Forbidden => 403,
        }
    }
}

/// Why the client has no usable identity.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityRejection {
    /// No certificate presented.
    NoCertificate,
    /// The host reports that the chain did not verify.
    CertificateUnverified,
    /// Not parseable.
    CertificateParseError,
    /// Over the size cap.
    CertificateTooLarge,
    /// `now` is after notAfter.
    CertificateExpired,
    /// `now` is before notBefore.
    CertificateNotYetValid,
    /// The serial is zero or negative (RFC 5280 requires a positive one; a negative serial
    /// has the same octets as a positive one).
    SerialNotPositive,
    /// Serial is in `revoked.serials`.
    RevokedSerial,
    /// Fingerprint is in `revoked.fingerprints_sha256`.
    RevokedFingerprint,
    /// `require_client_auth_eku` and no clientAuth EKU.
    MissingClientAuthEku,
    /// basicConstraints cA = TRUE.
    CaCertificate,
    /// v1.1: listed by a CRL of its issuer (`issuers.<name>.revocation`).
    RevokedCrl,
    /// v1.1: its issuer's CRL is stale past the grace period or was never obtained, and
    /// `when_unavailable` is `deny` (the default).
    RevocationUnavailable,
}

impl IdentityRejection {
    /// The stable code used in reason strings.
    pub fn code(self) -> &'static str {
        match self {
            IdentityRejection::NoCertificate => "no_certificate",
            IdentityRejection::CertificateUnverified => "certificate_unverified",
            IdentityRejection::CertificateParseError => "certificate_parse_error",
            IdentityRejection::CertificateTooLarge => "certificate_too_large",
            IdentityRejection::CertificateExpired => "certificate_expired",
            IdentityRejection::CertificateNotYetValid => "certificate_not_yet_valid",
            IdentityRejection::SerialNotPositive => "serial_not_positive",
            IdentityRejection::RevokedSerial => "revoked_serial",
            IdentityRejection::RevokedFingerprint => "revoked_fingerprint",
            IdentityRejection::MissingClientAuthEku => "missing_client_auth_eku",
            IdentityRejection::CaCertificate => "ca_certificate",
            IdentityRejection::RevokedCrl => "revoked_crl",
            IdentityRejection::RevocationUnavailable => "revocation_unavailable",
        }
    }
}

/// The deterministic reason for a decision. `Display` renders the reason string above.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Allowed by `rule` because the identity holds `role`.
    AllowedByRole {
        /// Rule name.
        rule: Arc<str>,
        /// Role held.
        role: Arc<str>,
    },
    /// Allowed by a `public` rule.
    AllowedPublic {
        /// Rule name.
        rule: Arc<str>,
    },
    /// The path cannot be normalised.
    BadPath(PathError),
    /// The method is not a token.
    InvalidMethod,
    /// v1.1: the policy scopes rules by host and the request's authority cannot be used.
    BadAuthority(AuthorityError),
    /// A request parameter overrides the method (`?_method=DELETE`): see
    /// [`crate::method_override`].
    MethodOverride,
    /// `form_body_check`: the body is larger than it may be buffered and checked.
    FormBodyTooLarge,
    /// `form_body_check`: a `multipart/form-data` body that cannot be split into parts.
    FormBodyMalformed,
    /// The request would be forwarded, but carries a header that must never reach the upstream
    /// and that the host cannot remove (ngx_wasm_module: see docs/DECISIONS.md). Decided by the
    /// filter, not by [`crate::Policy::evaluate`]; see [`Decision::bad_request`].
    SpoofableHeader {
        /// The header's canonical (lower-case, `-`) name, as [`crate::strip`] lists it.
        name: String,
    },
    /// The request would be forwarded, but the host may have shown the filter only part of
    /// its headers (ngx_wasm_module hands a filter at most 100), so a spoofable header could
    /// hide behind the cut. Decided by the filter; see [`Decision::bad_request`].
    TooManyHeaders,
    /// No usable identity.
    Unauthenticated(IdentityRejection),
    /// v1.1: the first matching rule requires a token and the request has no usable one.
    TokenRejected(crate::token::TokenError),
    /// No rule matches method and path.
    NoRuleMatched,
    /// The first matching rule's roles are not held.
    RoleNotHeld {
        /// Rule name.
        rule: Arc<str>,
    },
    /// A bind of the first matching rule (whose role is held) failed.
    BindFailed {
        /// Rule name.
        rule: Arc<str>,
        /// The path parameter whose bind failed.
        param: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::AllowedByRole { rule, role } => write!(f, "allow:rule[{rule}]:role[{role}]"),
            Reason::AllowedPublic { rule } => write!(f, "allow:rule[{rule}]:public"),
            Reason::BadPath(e) => write!(f, "bad_request:{}", e.code()),
            Reason::InvalidMethod => f.write_str("bad_request:invalid_method"),
            Reason::BadAuthority(e) => write!(f, "bad_request:{}", e.code()),
            Reason::MethodOverride => f.write_str("bad_request:method_override"),
            Reason::FormBodyTooLarge => f.write_str("bad_request:form_body_too_large"),
            Reason::FormBodyMalformed => f.write_str("bad_request:form_body_malformed"),
            Reason::SpoofableHeader { name } => write!(f, "bad_request:spoofable_header[{name}]"),
            Reason::TooManyHeaders => f.write_str("bad_request:too_many_headers"),
            Reason::Unauthenticated(r) => write!(f, "unauthenticated:{}", r.code()),
            Reason::TokenRejected(e) => write!(f, "unauthenticated:{}", e.code()),
            Reason::NoRuleMatched => f.write_str("forbidden:no_rule_matched"),
            Reason::RoleNotHeld { rule } => write!(f, "forbidden:rule[{rule}]:role_not_held"),
            Reason::BindFailed { rule, param } => {
                write!(f, "forbidden:rule[{rule}]:bind_failed[{param}]")
            }
        }
    }
}

/// The result of [`crate::Policy::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Allow or deny. In shadow mode the filter still forwards; this is the enforce verdict.
    pub outcome: Outcome,
    /// HTTP status.
    pub status: Status,
    /// Why.
    pub reason: Reason,
    /// Name of the rule that allowed, or of the first matching rule that denied. Names are
    /// shared with the policy (`Arc`): deciding a request copies no rule or role name.
    pub rule: Option<Arc<str>>,
    /// Index of [`Decision::rule`] in the policy's `rules` (for per-rule counters).
    pub rule_index: Option<usize>,
    /// Every role defined in the policy that the identity holds, in policy `roles` order
    /// (the reserved `authenticated`/`public` are not listed). Empty without a usable identity.
    pub roles: Vec<Arc<str>>,
    /// The normalised path plus the original `?query` — what the upstream must receive.
    /// `None` when the path was rejected.
    pub upstream_path: Option<String>,
}

impl Decision {
    /// A 400 that names no rule, holds no roles and forwards nothing: what the evaluation
    /// answers for a bad method, path or override, and what the filter answers for a body it
    /// cannot check or a request its host cannot forward safely ([`Reason::SpoofableHeader`],
    /// [`Reason::TooManyHeaders`]; in shadow mode too).
    pub fn bad_request(reason: Reason) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            status: Status::BadRequest,
            reason,
            rule: None,
            rule_index: None,
            roles: Vec::new(),
            upstream_path: None,
        }
    }

    /// True when the request may proceed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_reason_string() {
        let cases: [(Reason, &str); 13] = [
            (
                Reason::AllowedByRole {
                    rule: "records-read".into(),
                    role: "clinician".into(),
                },
                "allow:rule[records-read]:role[clinician]",
            ),
            (
                Reason::AllowedPublic {
                    rule: "health".into(),
                },
                "allow:rule[health]:public",
            ),
            (
                Reason::BadPath(PathError::EncodedSlash),
                "bad_request:encoded_slash",
            ),
            (Reason::InvalidMethod, "bad_request:invalid_method"),
            (Reason::MethodOverride, "bad_request:method_override"),
            (Reason::FormBodyTooLarge, "bad_request:form_body_too_large"),
            (Reason::FormBodyMalformed, "bad_request:form_body_malformed"),
            (
                Reason::SpoofableHeader {
                    name: "x-client-role".to_string(),
                },
                "bad_request:spoofable_header[x-client-role]",
            ),
            (Reason::TooManyHeaders, "bad_request:too_many_headers"),
            (
                Reason::Unauthenticated(IdentityRejection::RevokedSerial),
                "unauthenticated:revoked_serial",
            ),
            (Reason::NoRuleMatched, "forbidden:no_rule_matched"),
            (
                Reason::RoleNotHeld {
                    rule: "admin".into(),
                },
                "forbidden:rule[admin]:role_not_held",
            ),
            (
                Reason::BindFailed {
                    rule: "tenant-orders".into(),
                    param: "tenant".to_string(),
                },
                "forbidden:rule[tenant-orders]:bind_failed[tenant]",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.to_string(), text);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_identity_rejection_code() {
        let codes = [
            (IdentityRejection::NoCertificate, "no_certificate"),
            (
                IdentityRejection::CertificateUnverified,
                "certificate_unverified",
            ),
            (
                IdentityRejection::CertificateParseError,
                "certificate_parse_error",
            ),
            (
                IdentityRejection::CertificateTooLarge,
                "certificate_too_large",
            ),
            (IdentityRejection::CertificateExpired, "certificate_expired"),
            (
                IdentityRejection::CertificateNotYetValid,
                "certificate_not_yet_valid",
            ),
            (IdentityRejection::SerialNotPositive, "serial_not_positive"),
            (IdentityRejection::RevokedSerial, "revoked_serial"),
            (IdentityRejection::RevokedFingerprint, "revoked_fingerprint"),
            (
                IdentityRejection::MissingClientAuthEku,
                "missing_client_auth_eku",
            ),
            (IdentityRejection::CaCertificate, "ca_certificate"),
            (IdentityRejection::RevokedCrl, "revoked_crl"),
            (
                IdentityRejection::RevocationUnavailable,
                "revocation_unavailable",
            ),
        ];
        for (rejection, code) in codes {
            assert_eq!(rejection.code(), code);
            assert_eq!(
                Reason::Unauthenticated(rejection).to_string(),
                alloc::format!("unauthenticated:{code}")
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn status_codes() {
        assert_eq!(Status::Ok.code(), 200);
        assert_eq!(Status::BadRequest.code(), 400);
        assert_eq!(Status::Unauthenticated.code(), 401);
        assert_eq!(Status::Forbidden.code(), 403);
    }
}
