//! Reading the policy as written (the core's public [`RawPolicy`] mirror) for lint, check and
//! audit: pattern kinds, method lists and allow lists the compiled policy does not expose.

use mtls_authz_core::policy::raw::RawPattern;

use crate::output::quote;

/// Reserved role: any client whose certificate passed every identity check.
pub(crate) const AUTHENTICATED: &str = "authenticated";
/// Reserved role: no certificate needed.
pub(crate) const PUBLIC: &str = "public";

/// True for methods that change state (lint and audit treat them as write operations).
pub(crate) fn is_write_method(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// `prefix`, `suffix` or `glob` for partial patterns, `None` for exact strings.
pub(crate) fn partial_kind(pattern: &RawPattern) -> Option<&'static str> {
    match pattern {
        RawPattern::Prefix(_) => Some("prefix"),
        RawPattern::Suffix(_) => Some("suffix"),
        RawPattern::Glob(_) => Some("glob"),
        _ => None,
    }
}

/// The pattern as a policy writes it (`"x"`, `{"prefix": "x"}`), for messages.
pub(crate) fn pattern_as_written(pattern: &RawPattern) -> String {
    match pattern {
        RawPattern::Prefix(v) => format!("{{\"prefix\": {}}}", quote(v)),
        RawPattern::Suffix(v) => format!("{{\"suffix\": {}}}", quote(v)),
        RawPattern::Glob(v) => format!("{{\"glob\": {}}}", quote(v)),
        RawPattern::Exact(v) => quote(v),
        RawPattern::IssuerSerial { issuer, serial } => {
            format!(
                "{{\"issuer\": {}, \"serial\": {}}}",
                quote(issuer),
                quote(serial)
            )
        }
    }
}
