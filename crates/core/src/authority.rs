//! The request's authority (HTTP/2 `:authority`, HTTP/1.1 `Host`): read once, refused when
//! missing, malformed or ambiguous, and normalised for v1.1 `rules[].hosts`
//! (docs/DECISIONS.md "Hosts").
//!
//! Only policies with `hosts` read it: a v1 policy decides exactly as before.
//!
//! Normalisation: the host compares ASCII-case-insensitively, one trailing `.` is dropped, the
//! port is kept apart (a request without one is on 443: the filter runs on TLS listeners).
//! Internationalised names are compared as sent (punycode `xn--` labels; raw UTF-8 is
//! malformed): no conversion, so no two spellings of one name.

use core::fmt;

/// The port of an authority that names none: the filter only runs on mTLS (https) listeners.
pub const DEFAULT_PORT: u16 = 443;

/// Longest host accepted (DNS: 253 characters without the trailing dot).
pub const MAX_HOST_LEN: usize = 253;

/// Several instances of the authority header as one value: joined with `,` (RFC 9110 §5.3, as
/// Envoy does), which no authority holds, so the result is refused as malformed; `None` when
/// there is none. The filter, the CLI and the case driver all join this way.
pub fn join_sent<'v>(values: impl IntoIterator<Item = &'v str>) -> Option<alloc::string::String> {
    let mut values = values.into_iter();
    let first = values.next()?;
    let mut joined = alloc::string::String::from(first);
    for value in values {
        joined.push(',');
        joined.push_str(value);
    }
    Some(joined)
}

/// What the proxy shows of the request's authority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestAuthority<'a> {
    /// The `:authority` pseudo-header or `Host` header, exactly as sent; `None` when absent.
    pub sent: Option<&'a str>,
    /// The host the proxy routed on, when it shows one next to `sent` (NGINX `$host`: an
    /// absolute-form target's host, else `Host`, normalised); `None` for proxies whose
    /// `:authority` is already what they route on (Envoy).
    pub routed: Option<&'a str>,
}

impl<'a> RequestAuthority<'a> {
    /// An authority as sent, origin-form target.
    pub fn sent(authority: &'a str) -> Self {
        RequestAuthority {
            sent: Some(authority),
            routed: None,
        }
    }

    /// The one authority the request names, or why there is none: the routed host must be
    /// the host of `sent` (case, trailing dot and port aside — a proxy routes on the host
    /// only), else an absolute-form target named another host than `Host`; with no `sent`,
    /// the routed host alone counts.
    pub fn resolve(&self) -> Result<Authority<'a>, AuthorityError> {
        let sent = self.sent.map(Authority::parse).transpose()?;
        let target = self.routed.map(Authority::parse).transpose()?;
        match (sent, target) {
            (None, None) => Err(AuthorityError::Missing),
            (Some(one), None) | (None, Some(one)) => Ok(one),
            (Some(sent), Some(target)) if sent.same_as(&target) => Ok(target),
            (Some(_), Some(_)) => Err(AuthorityError::Mismatch),
        }
    }
}

/// Why a request's authority cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorityError {
    /// No `:authority`/`Host` (an HTTP/1.0 request may omit it).
    Missing,
    /// Not a `host[:port]`: userinfo (`@`), spaces, control or non-ASCII bytes, an empty or
    /// over-long host, an empty label, a character no host name holds, a bad IPv6 literal,
    /// several ports, a port that is not 1–65535.
    Malformed,
    /// An absolute-form request-target names another authority than `Host`.
    Mismatch,
}

impl AuthorityError {
    /// Stable code used in reason strings (`bad_request:<code>`).
    pub fn code(self) -> &'static str {
        match self {
            AuthorityError::Missing => "authority_missing",
            AuthorityError::Malformed => "authority_malformed",
            AuthorityError::Mismatch => "authority_mismatch",
        }
    }
}

impl fmt::Display for AuthorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A well-formed authority: host (trailing `.` removed, case as sent) and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authority<'a> {
    host: &'a str,
    port: Option<u16>,
}

impl<'a> Authority<'a> {
    /// Parses `host[:port]` (see [`AuthorityError::Malformed`] for what is refused).
    pub fn parse(text: &'a str) -> Result<Authority<'a>, AuthorityError> {
        let (host, port) = split_port(text)?;
        let host = if host.starts_with('[') {
            check_ip_literal(host)?;
            host
        } else {
            let host = host.strip_suffix('.').unwrap_or(host);
            check_reg_name(host)?;
            host
        };
        Ok(Authority { host, port })
    }

    /// The host, trailing dot removed, in the case it was sent (compare it with
    /// [`Authority::host_is`]).
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// The port as sent, if any.
    pub fn explicit_port(&self) -> Option<u16> {
        self.port
    }

    /// The port: as sent, else [`DEFAULT_PORT`].
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// Whether the host is `name` (lower case), ignoring ASCII case.
    pub fn host_is(&self, name: &str) -> bool {
        self.host.eq_ignore_ascii_case(name)
    }

    /// The same host (ASCII case aside); the port is the client's word and not compared.
    fn same_as(&self, other: &Authority<'_>) -> bool {
        self.host_is(other.host)
    }
}

/// Splits off `:port` (digits, 1–65535); a second `:` outside an IPv6 literal is malformed.
fn split_port(text: &str) -> Result<(&str, Option<u16>), AuthorityError> {
    let after_literal = if text.starts_with('[') {
        text.find(']')
            .map(|end| end + 1)
            .ok_or(AuthorityError::Malformed)?
    } else {
        0
    };
    let rest = text.get(after_literal..).ok_or(AuthorityError::Malformed)?;
    let Some(colon) = rest.find(':') else {
        return Ok((text, None));
    };
    let split = after_literal + colon;
    let host = text.get(..split).ok_or(AuthorityError::Malformed)?;
    let digits = text.get(split + 1..).ok_or(AuthorityError::Malformed)?;
    Ok((
        host,
        Some(parse_port(digits).ok_or(AuthorityError::Malformed)?),
    ))
}

/// 1–65535 in decimal, at most 5 digits (leading zeros included), nothing else.
pub(crate) fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u32 = digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
    u16::try_from(value).ok().filter(|port| *port != 0)
}

/// A DNS name or IPv4 address: labels of ASCII letters, digits, `-` and `_`, separated by
/// single dots, 1–253 characters.
fn check_reg_name(host: &str) -> Result<(), AuthorityError> {
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return Err(AuthorityError::Malformed);
    }
    if host.split('.').all(is_label) {
        Ok(())
    } else {
        Err(AuthorityError::Malformed)
    }
}

/// One DNS label as hosts may send it (letters in any case).
pub(crate) fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `[` IPv6 `]`: hex digits, `:` and (for an embedded IPv4 tail) `.`, with at least two `:`.
/// The address itself is not validated further: it is compared as text, and a literal no
/// pattern names matches no rule.
fn check_ip_literal(host: &str) -> Result<(), AuthorityError> {
    let inner = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .ok_or(AuthorityError::Malformed)?;
    let well_formed = (2..=45).contains(&inner.len())
        && inner.bytes().filter(|&b| b == b':').count() >= 2
        && inner
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    if well_formed {
        Ok(())
    } else {
        Err(AuthorityError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<(&str, Option<u16>), AuthorityError> {
        Authority::parse(text).map(|a| (a.host(), a.explicit_port()))
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn well_formed_authorities() {
        assert_eq!(parsed("example.org"), Ok(("example.org", None)));
        assert_eq!(parsed("Example.ORG."), Ok(("Example.ORG", None)));
        assert_eq!(parsed("example.org:8443"), Ok(("example.org", Some(8443))));
        assert_eq!(parsed("example.org.:443"), Ok(("example.org", Some(443))));
        assert_eq!(parsed("127.0.0.1:10443"), Ok(("127.0.0.1", Some(10443))));
        assert_eq!(parsed("[::1]:10443"), Ok(("[::1]", Some(10443))));
        assert_eq!(parsed("[::1]"), Ok(("[::1]", None)));
        assert_eq!(
            parsed("xn--bcher-kva.example"),
            Ok(("xn--bcher-kva.example", None))
        );
        assert_eq!(parsed("localhost"), Ok(("localhost", None)));
        assert_eq!(parsed("a:00443"), Ok(("a", Some(443))));
        assert_eq!(Authority::parse("a").map(|a| a.port()), Ok(DEFAULT_PORT));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn malformed_authorities() {
        for text in [
            "",
            ".",
            ":443",
            "user@example.org",
            "user:pw@example.org",
            "exa mple.org",
            " example.org",
            "example.org ",
            "example.org\t",
            "exa\u{0}mple.org",
            "bücher.example",
            "example.org:443:443",
            "example.org:",
            "example.org:0",
            "example.org:65536",
            "example.org:123456",
            "example.org:+1",
            "example.org:8o",
            "a..b",
            ".example.org",
            "example.org..",
            "example.org/x",
            "example.org?x",
            "example.org#x",
            "exa%6dple.org",
            "*.example.org",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[]",
            "[1.2.3.4]",
            "[::g]",
            "::1",
        ] {
            assert_eq!(
                Authority::parse(text),
                Err(AuthorityError::Malformed),
                "{text:?}"
            );
        }
        let long = alloc::format!("{}.org", "a.".repeat(130));
        assert_eq!(Authority::parse(&long), Err(AuthorityError::Malformed));
        let long_label = alloc::format!("{}.org", "a".repeat(64));
        assert_eq!(
            Authority::parse(&long_label),
            Err(AuthorityError::Malformed)
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn resolving_sent_and_routed_host() {
        let both = |sent, target| RequestAuthority {
            sent,
            routed: target,
        };
        assert_eq!(both(None, None).resolve(), Err(AuthorityError::Missing));
        assert_eq!(
            both(Some("a.example.org"), None)
                .resolve()
                .map(|a| a.host()),
            Ok("a.example.org")
        );
        assert_eq!(
            both(None, Some("b.example.org"))
                .resolve()
                .map(|a| a.host()),
            Ok("b.example.org")
        );
        assert_eq!(
            both(Some("A.example.org."), Some("a.example.org:443"))
                .resolve()
                .map(|a| a.host()),
            Ok("a.example.org")
        );
        assert_eq!(
            both(Some("a.example.org"), Some("b.example.org")).resolve(),
            Err(AuthorityError::Mismatch)
        );
        // NGINX `$host` has no port: the port is not compared.
        assert_eq!(
            both(Some("A.example.org.:8443"), Some("a.example.org"))
                .resolve()
                .map(|a| a.host()),
            Ok("a.example.org")
        );
        // A malformed half is malformed, whatever the other says.
        assert_eq!(
            both(Some("a@b"), Some("b.example.org")).resolve(),
            Err(AuthorityError::Malformed)
        );
        assert_eq!(
            both(Some("b.example.org"), Some("a@b")).resolve(),
            Err(AuthorityError::Malformed)
        );
    }
}
