//! SPIFFE IDs (SPIFFE ID specification §2): `spiffe://<trust-domain>[/<segment>...]`.
//!
//! The check is deliberately strict and byte-based: percent-encoding, upper-case trust
//! domains, ports, userinfo, queries and fragments are all rejected rather than normalised,
//! so the string a policy matches is exactly the string the certificate carries.

use core::fmt;

/// Longest SPIFFE ID accepted, in bytes (SPIFFE ID spec §2.3).
pub const MAX_SPIFFE_ID_LEN: usize = 2048;

const SCHEME_PREFIX: &str = "spiffe://";

/// A valid SPIFFE ID, borrowed from the URI it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpiffeId<'a> {
    trust_domain: &'a str,
    path: &'a str,
}

impl<'a> SpiffeId<'a> {
    /// Validates `uri` as a SPIFFE ID.
    pub fn parse(uri: &'a str) -> Result<Self, SpiffeIdError> {
        if uri.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::TooLong { len: uri.len() });
        }
        let rest = uri
            .strip_prefix(SCHEME_PREFIX)
            .ok_or(SpiffeIdError::WrongScheme)?;
        let (trust_domain, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if trust_domain.is_empty() {
            return Err(SpiffeIdError::EmptyTrustDomain);
        }
        if let Some(c) = trust_domain.chars().find(|c| !is_trust_domain_char(*c)) {
            return Err(SpiffeIdError::TrustDomainChar(c));
        }
        // `path` is empty or starts with '/': each '/' must introduce a non-empty segment.
        for segment in path.split('/').skip(1) {
            if segment.is_empty() {
                return Err(if path.ends_with('/') {
                    SpiffeIdError::TrailingSlash
                } else {
                    SpiffeIdError::EmptySegment
                });
            }
            if segment == "." || segment == ".." {
                return Err(SpiffeIdError::DotSegment);
            }
            if let Some(c) = segment.chars().find(|c| !is_path_char(*c)) {
                return Err(SpiffeIdError::PathChar(c));
            }
        }
        Ok(Self { trust_domain, path })
    }

    /// The trust domain, e.g. `example.org`.
    pub fn trust_domain(&self) -> &'a str {
        self.trust_domain
    }

    /// The path, empty or starting with `/`, e.g. `/ns/billing/sa/api`.
    pub fn path(&self) -> &'a str {
        self.path
    }
}

/// Whether `uri` is a valid SPIFFE ID.
pub fn is_spiffe_id(uri: &str) -> bool {
    SpiffeId::parse(uri).is_ok()
}

/// Trust domain characters: lower-case letters, digits, `.`, `-`, `_` (spec §2.1).
fn is_trust_domain_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
}

/// Path segment characters: letters, digits, `.`, `-`, `_` (spec §2.2).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Why a URI is not a SPIFFE ID.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpiffeIdError {
    /// Does not start with the lower-case `spiffe://`.
    WrongScheme,
    /// Nothing between `spiffe://` and the path.
    EmptyTrustDomain,
    /// A trust domain character outside `[a-z0-9._-]` (also catches `:port`, `user@`,
    /// `?query`, `#fragment` and percent-encoding).
    TrustDomainChar(char),
    /// A path character outside `[A-Za-z0-9._-]`.
    PathChar(char),
    /// `//` in the path.
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// The path ends with `/`.
    TrailingSlash,
    /// Longer than [`MAX_SPIFFE_ID_LEN`] bytes.
    TooLong {
        /// Length in bytes.
        len: usize,
    },
}

impl fmt::Display for SpiffeIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpiffeIdError::WrongScheme => f.write_str("scheme is not `spiffe://`"),
            SpiffeIdError::EmptyTrustDomain => f.write_str("trust domain is empty"),
            SpiffeIdError::TrustDomainChar(c) => {
                write!(f, "trust domain contains {c:?} (allowed: a-z 0-9 . - _)")
            }
            SpiffeIdError::PathChar(c) => {
                write!(f, "path contains {c:?} (allowed: A-Z a-z 0-9 . - _)")
            }
            SpiffeIdError::EmptySegment => f.write_str("path has an empty segment"),
            SpiffeIdError::DotSegment => f.write_str("path has a `.` or `..` segment"),
            SpiffeIdError::TrailingSlash => f.write_str("path ends with `/`"),
            SpiffeIdError::TooLong { len } => {
                write!(f, "{len} bytes, more than {MAX_SPIFFE_ID_LEN}")
            }
        }
    }
}

impl core::error::Error for SpiffeIdError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn accepts_workload_and_trust_domain_ids() {
        let id = SpiffeId::parse("spiffe://example.org/ns/billing/sa/api").unwrap();
        assert_eq!(id.trust_domain(), "example.org");
        assert_eq!(id.path(), "/ns/billing/sa/api");
        let td_only = SpiffeId::parse("spiffe://prod-1.example_org").unwrap();
        assert_eq!(td_only.trust_domain(), "prod-1.example_org");
        assert_eq!(td_only.path(), "");
        assert!(is_spiffe_id("spiffe://a/B.c-d_e/..x/.y"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rejects_each_rule_with_its_reason() {
        let cases: &[(&str, SpiffeIdError)] = &[
            ("SPIFFE://example.org/x", SpiffeIdError::WrongScheme),
            ("https://example.org/x", SpiffeIdError::WrongScheme),
            ("spiffe:/example.org/x", SpiffeIdError::WrongScheme),
            ("spiffe:///x", SpiffeIdError::EmptyTrustDomain),
            ("spiffe://", SpiffeIdError::EmptyTrustDomain),
            (
                "spiffe://Example.org/x",
                SpiffeIdError::TrustDomainChar('E'),
            ),
            (
                "spiffe://example.org:443/x",
                SpiffeIdError::TrustDomainChar(':'),
            ),
            (
                "spiffe://user@example.org/x",
                SpiffeIdError::TrustDomainChar('@'),
            ),
            (
                "spiffe://example.org?q=1",
                SpiffeIdError::TrustDomainChar('?'),
            ),
            (
                "spiffe://example.org#frag",
                SpiffeIdError::TrustDomainChar('#'),
            ),
            ("spiffe://example.org/x?q=1", SpiffeIdError::PathChar('?')),
            ("spiffe://example.org/x#frag", SpiffeIdError::PathChar('#')),
            ("spiffe://example.org/a%2Fb", SpiffeIdError::PathChar('%')),
            ("spiffe://example.org/é", SpiffeIdError::PathChar('é')),
            ("spiffe://example.org//x", SpiffeIdError::EmptySegment),
            ("spiffe://example.org/x/", SpiffeIdError::TrailingSlash),
            ("spiffe://example.org/", SpiffeIdError::TrailingSlash),
            ("spiffe://example.org/a/./b", SpiffeIdError::DotSegment),
            ("spiffe://example.org/a/..", SpiffeIdError::DotSegment),
        ];
        for (uri, expected) in cases {
            assert_eq!(SpiffeId::parse(uri), Err(*expected), "{uri}");
            assert!(!is_spiffe_id(uri));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn length_cap_is_inclusive() {
        let prefix = "spiffe://example.org/";
        let mut at_cap = String::from(prefix);
        at_cap.push_str(&"a".repeat(MAX_SPIFFE_ID_LEN - prefix.len()));
        assert!(is_spiffe_id(&at_cap));
        at_cap.push('a');
        assert_eq!(
            SpiffeId::parse(&at_cap),
            Err(SpiffeIdError::TooLong {
                len: MAX_SPIFFE_ID_LEN + 1
            })
        );
    }
}
