//! Which inbound request headers never reach the upstream.
//!
//! One definition for every layer: the filter removes these names, and the CLI's `check`
//! shows the same list, so they cannot drift apart.
//! - Method overrides (`x-http-method-override`, ...): the method authorised is the method served.
//! - Path overrides (`x-original-url`, `x-rewrite-url`): some front controllers (old Symfony,
//!   Zend, Yii, IIS rewrite) route on them instead of the request line.
//! - Every `forward_headers` name: only the filter sets identity headers.
//! - `x-mtls-authz-shadow`: only the filter reports shadow verdicts.
//! - `x-forwarded-client-cert`, unless `xfcc` is a trusted source.
//!
//! Names compare case-insensitively with `_` read as `-`, because WSGI/CGI-style upstreams
//! see `x_client_role` as `HTTP_X_CLIENT_ROLE`, the same as `x-client-role`, and Envoy forwards
//! underscore names by default. A trusted XFCC keeps its exact spelling but loses its
//! underscore spellings.

use alloc::string::String;
use alloc::vec::Vec;

/// Method-override headers.
pub const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];
/// Path-override headers.
pub const PATH_OVERRIDE_HEADERS: [&str; 2] = ["x-original-url", "x-rewrite-url"];
/// The header that carries the shadow-mode verdict upstream.
pub const SHADOW_HEADER: &str = "x-mtls-authz-shadow";
/// The header an edge proxy puts the client certificate in.
pub const XFCC_HEADER: &str = "x-forwarded-client-cert";

/// The inbound header names a policy strips, compiled once per policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrippedHeaders {
    /// Removed in every spelling (lower case, no repeats).
    spoofable: Vec<String>,
    /// Removed only in their underscore spellings: a trusted `x-forwarded-client-cert`.
    underscore_only: Vec<String>,
    /// Bit `n` set: some listed name is `n` bytes long (bit 127: one is 127 or longer). Every
    /// request's every header name is looked up here; most are rejected by length alone.
    lengths: u128,
}

impl StrippedHeaders {
    /// The names for a policy's `forward_headers` (lower case) and XFCC trust.
    pub fn new<'a>(
        forward_headers: impl IntoIterator<Item = &'a str>,
        xfcc_trusted: bool,
    ) -> StrippedHeaders {
        let mut spoofable: Vec<String> = Vec::new();
        let fixed = METHOD_OVERRIDE_HEADERS
            .iter()
            .chain(PATH_OVERRIDE_HEADERS.iter())
            .copied()
            .chain(forward_headers)
            .chain([SHADOW_HEADER])
            .chain((!xfcc_trusted).then_some(XFCC_HEADER));
        for name in fixed {
            let name = name.to_ascii_lowercase();
            if !spoofable.contains(&name) {
                spoofable.push(name);
            }
        }
        let underscore_only = if xfcc_trusted {
            alloc::vec![String::from(XFCC_HEADER)]
        } else {
            Vec::new()
        };
        let lengths = spoofable
            .iter()
            .chain(&underscore_only)
            .fold(0u128, |mask, name| mask | length_bit(name.len()));
        StrippedHeaders {
            spoofable,
            underscore_only,
            lengths,
        }
    }

    /// Whether an inbound header with this name (as received) must be removed.
    pub fn must_remove(&self, name: &str) -> bool {
        self.canonical(name).is_some()
    }

    /// The listed name (lower case, `-`) an inbound header with this name (as received) is a
    /// spelling of, when it must be removed: what logs and reasons name, never the bytes a
    /// client chose.
    pub fn canonical(&self, name: &str) -> Option<&str> {
        if self.lengths & length_bit(name.len()) == 0 {
            return None;
        }
        fn find<'a>(list: &'a [String], name: &str) -> Option<&'a str> {
            list.iter().find(|n| folded_eq(name, n)).map(String::as_str)
        }
        find(&self.spoofable, name).or_else(|| {
            if name.contains('_') {
                find(&self.underscore_only, name)
            } else {
                None
            }
        })
    }

    /// Whether a request TRAILER with this name must be removed: every name
    /// [`StrippedHeaders::must_remove`] removes, and `x-forwarded-client-cert` in every
    /// spelling even when it is a trusted source — the filter reads XFCC from the headers only,
    /// and an edge proxy that sanitises the header usually forwards trailers untouched.
    pub fn must_remove_trailer(&self, name: &str) -> bool {
        self.must_remove(name) || folded_eq(name, XFCC_HEADER)
    }

    /// The names removed in every spelling, lower case, in a stable order.
    pub fn names(&self) -> &[String] {
        &self.spoofable
    }
}

/// The [`StrippedHeaders::lengths`] bit of a name length (long names share the last bit).
fn length_bit(len: usize) -> u128 {
    1u128 << len.min(127)
}

/// Whether header `name` is `canonical` (lower case) as WSGI/CGI-style upstreams see names:
/// case-insensitive, with `_` read as `-`.
pub fn folded_eq(name: &str, canonical: &str) -> bool {
    name.len() == canonical.len()
        && name.bytes().zip(canonical.bytes()).all(|(n, c)| {
            let n = if n == b'_' {
                b'-'
            } else {
                n.to_ascii_lowercase()
            };
            n == c
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_spelling_of_a_spoofable_header_is_removed() {
        let stripped = StrippedHeaders::new(["x-client-role"], false);
        for name in [
            "x-client-role",
            "X-Client-Role",
            "x_client_role",
            "X_CLIENT-ROLE",
            "x-http-method-override",
            "X-Original-URL",
            "x_rewrite_url",
            "x-mtls-authz-shadow",
            "x-forwarded-client-cert",
            "x_forwarded_client_cert",
        ] {
            assert!(stripped.must_remove(name), "{name}");
        }
        for name in [
            "x-client-role2",
            "x-client",
            "host",
            ":path",
            "x-request-id",
        ] {
            assert!(!stripped.must_remove(name), "{name}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_canonical_name_is_the_listed_one() {
        let stripped = StrippedHeaders::new(["X-Client-Role"], true);
        assert_eq!(stripped.canonical("X_CLIENT-role"), Some("x-client-role"));
        assert_eq!(
            stripped.canonical("X-HTTP-Method-Override"),
            Some("x-http-method-override")
        );
        assert_eq!(
            stripped.canonical("x_forwarded_client_cert"),
            Some("x-forwarded-client-cert")
        );
        assert_eq!(stripped.canonical("x-forwarded-client-cert"), None);
        assert_eq!(stripped.canonical("x-client-roles"), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn long_names_are_found_past_the_length_mask() {
        let long = alloc::format!("x-{}", "a".repeat(140));
        let longer = alloc::format!("x-{}", "a".repeat(141));
        let stripped = StrippedHeaders::new([long.as_str()], false);
        assert_eq!(
            stripped.canonical(&long.to_uppercase()),
            Some(long.as_str())
        );
        assert_eq!(stripped.canonical(&longer), None);
        assert_eq!(stripped.canonical("x-a"), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_trusted_xfcc_keeps_its_real_spelling_only() {
        let stripped = StrippedHeaders::new([], true);
        assert!(!stripped.must_remove("x-forwarded-client-cert"));
        assert!(!stripped.must_remove("X-Forwarded-Client-Cert"));
        assert!(stripped.must_remove("x_forwarded_client_cert"));
        assert!(stripped.must_remove("x-forwarded_client-cert"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn trailers_lose_every_protected_name_and_any_xfcc() {
        for trusted in [false, true] {
            let stripped = StrippedHeaders::new(["x-client-role"], trusted);
            for name in [
                "x-client-role",
                "X_Client_Role",
                "x-http-method-override",
                "x-original-url",
                "x-mtls-authz-shadow",
                "x-forwarded-client-cert",
                "X-Forwarded-Client-Cert",
                "x_forwarded_client_cert",
            ] {
                assert!(
                    stripped.must_remove_trailer(name),
                    "{name} (trusted {trusted})"
                );
            }
            for name in ["grpc-status", "x-checksum", "x-client"] {
                assert!(!stripped.must_remove_trailer(name), "{name}");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn names_are_lower_case_without_repeats() {
        let stripped = StrippedHeaders::new(["X-Client-Role", "x-http-method"], false);
        let names = stripped.names();
        assert_eq!(names.iter().filter(|n| *n == "x-http-method").count(), 1);
        assert!(names.iter().any(|n| n == "x-client-role"));
    }
}
