//! v1.1 `rules[].hosts`: host patterns and how a request's authority matches them
//! (docs/DECISIONS.md "Hosts").
//!
//! A pattern is a host in lower case: an exact name (or IPv4 address, or `[IPv6]` literal),
//! `*.<name>` (any one label in front of `<name>`: never `<name>` itself, never two labels) or
//! `{param}.<name>` (the same, capturing the label for `bind`). It never has a port, and a
//! request's port is ignored: the port in `Host`/`:authority` is the client's choice, not the
//! listener it reached (scope by port with one policy per listener).

use alloc::string::String;

use crate::authority::{is_label, Authority, MAX_HOST_LEN};

/// One compiled entry of `hosts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostPattern {
    kind: HostKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostKind {
    /// The whole host, lower case.
    Exact(String),
    /// One label, then `.` and this suffix (lower case); `param` captures the label.
    OneLabel {
        suffix: String,
        param: Option<String>,
    },
}

impl HostPattern {
    /// Whether the authority's host matches (its port is not looked at).
    pub(crate) fn matches(&self, authority: &Authority<'_>) -> bool {
        self.first_label(authority).is_some()
    }

    /// The label a wildcard or capture matched (the whole host for an exact pattern), or
    /// `None` when the host does not match. Ports are not looked at.
    fn first_label<'a>(&self, authority: &Authority<'a>) -> Option<&'a str> {
        let host = authority.host();
        match &self.kind {
            HostKind::Exact(name) => authority.host_is(name).then_some(host),
            HostKind::OneLabel { suffix, .. } => {
                let (label, rest) = host.split_once('.')?;
                (!label.is_empty() && !label.starts_with('[') && rest.eq_ignore_ascii_case(suffix))
                    .then_some(label)
            }
        }
    }

    /// The label captured as `{name}`, lower-cased (DNS names are case-insensitive, so a
    /// bind sees one spelling), when this pattern captures `name` and matches.
    pub(crate) fn capture(&self, name: &str, authority: &Authority<'_>) -> Option<String> {
        match &self.kind {
            HostKind::OneLabel {
                param: Some(param), ..
            } if param == name => self
                .first_label(authority)
                .map(|label| label.to_ascii_lowercase()),
            _ => None,
        }
    }

    /// Whether the pattern captures `name`.
    pub(crate) fn captures(&self, name: &str) -> bool {
        matches!(&self.kind, HostKind::OneLabel { param: Some(p), .. } if p == name)
    }

    /// The captured parameter's name, if any.
    pub(crate) fn param(&self) -> Option<&str> {
        match &self.kind {
            HostKind::OneLabel { param, .. } => param.as_deref(),
            HostKind::Exact(_) => None,
        }
    }
}

/// Parses one `hosts` entry; the error says what is wrong (the caller adds where).
pub(crate) fn parse_host_pattern(pattern: &str) -> Result<HostPattern, String> {
    if pattern.is_empty() {
        return Err(String::from(
            "empty host pattern (omit `hosts` to match every host)",
        ));
    }
    if pattern.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(alloc::format!(
            "{pattern:?}: write host patterns in lower case (hosts are compared ignoring case)"
        ));
    }
    let host = refuse_port(pattern)?;
    if host.ends_with('.') {
        return Err(alloc::format!(
            "{pattern:?}: leave out the trailing `.` (a request's trailing dot is ignored)"
        ));
    }
    let kind = if host.starts_with('[') {
        Authority::parse(host)
            .map_err(|_| alloc::format!("{pattern:?} is not a valid IPv6 literal"))?;
        HostKind::Exact(String::from(host))
    } else if let Some((first, suffix)) = host
        .split_once('.')
        .filter(|(first, _)| *first == "*" || (first.starts_with('{') && first.ends_with('}')))
    {
        check_name(suffix, pattern)?;
        let param = match first {
            "*" => None,
            _ => {
                let name = first.get(1..first.len() - 1).unwrap_or_default();
                if !super::router::is_param_name(name) {
                    return Err(alloc::format!(
                        "{pattern:?}: `{first}`: a parameter name is a letter or `_` followed by letters, digits or `_`"
                    ));
                }
                Some(String::from(name))
            }
        };
        HostKind::OneLabel {
            suffix: String::from(suffix),
            param,
        }
    } else {
        check_name(host, pattern)?;
        HostKind::Exact(String::from(host))
    };
    Ok(HostPattern { kind })
}

/// The pattern itself, or an error when it names a port (`host:port`, `[IPv6]:port`).
fn refuse_port(pattern: &str) -> Result<&str, String> {
    let after_literal = if pattern.starts_with('[') {
        pattern.find(']').map_or(pattern.len(), |end| end + 1)
    } else {
        0
    };
    if pattern
        .get(after_literal..)
        .is_some_and(|rest| rest.contains(':'))
    {
        return Err(alloc::format!(
            "{pattern:?}: host patterns name hosts, never ports (a request's port is the client's choice, not the listener it reached): remove the `:port`, and scope rules by port with one policy per listener"
        ));
    }
    Ok(pattern)
}

/// A lower-case DNS name (or IPv4 address) without wildcards.
fn check_name(name: &str, pattern: &str) -> Result<(), String> {
    if name.contains('*') || name.contains('{') || name.contains('}') {
        return Err(alloc::format!(
            "{pattern:?}: `*` and `{{param}}` may only be the whole leftmost label, as in \"*.example.org\""
        ));
    }
    if name.is_empty() || name.len() > MAX_HOST_LEN || !name.split('.').all(is_label) {
        return Err(alloc::format!(
            "{pattern:?} is not a host name: labels of a-z, 0-9, `-` and `_` (1 to 63 characters) separated by single dots; internationalised names in their punycode (xn--) form"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, authority: &str) -> bool {
        let pattern = parse_host_pattern(pattern).unwrap();
        pattern.matches(&Authority::parse(authority).unwrap())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn exact_names_ignore_case_and_the_trailing_dot() {
        assert!(matches("records.example.org", "records.example.org"));
        assert!(matches("records.example.org", "RECORDS.Example.org."));
        assert!(matches("records.example.org", "records.example.org:8443"));
        assert!(!matches("records.example.org", "admin.example.org"));
        assert!(!matches("records.example.org", "records.example.org.evil"));
        assert!(!matches("records.example.org", "x.records.example.org"));
        assert!(matches("127.0.0.1", "127.0.0.1:10443"));
        assert!(matches("[::1]", "[::1]:10443"));
        assert!(matches("xn--bcher-kva.example", "XN--BCHER-KVA.example"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_wildcard_is_exactly_one_label_never_the_apex() {
        assert!(matches("*.example.org", "a.example.org"));
        assert!(matches("*.example.org", "A.EXAMPLE.ORG."));
        assert!(!matches("*.example.org", "example.org"));
        assert!(!matches("*.example.org", "a.b.example.org"));
        assert!(!matches("*.example.org", "aexample.org"));
        assert!(!matches("*.example.org", "a.example.org.evil"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_request_port_is_ignored() {
        assert!(matches("a.example.org", "a.example.org:8443"));
        assert!(matches("a.example.org", "a.example.org"));
        assert!(matches("*.example.org", "b.example.org:443"));
        assert!(matches("[::1]", "[::1]:10443"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn captures_are_lower_case() {
        let pattern = parse_host_pattern("{tenant}.example.org").unwrap();
        let authority = Authority::parse("Acme.example.org").unwrap();
        assert_eq!(
            pattern.capture("tenant", &authority).as_deref(),
            Some("acme")
        );
        assert_eq!(pattern.capture("other", &authority), None);
        assert!(pattern.captures("tenant"));
        assert_eq!(pattern.param(), Some("tenant"));
        let two = Authority::parse("a.b.example.org").unwrap();
        assert_eq!(pattern.capture("tenant", &two), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn invalid_patterns() {
        for (pattern, detail) in [
            ("", "empty host pattern"),
            ("Example.org", "lower case"),
            ("example.org.", "trailing `.`"),
            ("a.*.example.org", "whole leftmost label"),
            ("*a.example.org", "whole leftmost label"),
            ("*", "whole leftmost label"),
            ("*.", "trailing"),
            ("*.*.example.org", "whole leftmost label"),
            ("{t}.{u}.example.org", "whole leftmost label"),
            ("{1t}.example.org", "parameter name"),
            ("a..example.org", "not a host name"),
            ("exa mple.org", "not a host name"),
            ("bücher.example", "not a host name"),
            ("user@example.org", "not a host name"),
            ("example.org:", "never ports"),
            ("example.org:443", "never ports"),
            ("example.org:8443", "never ports"),
            ("*.example.org:443", "never ports"),
            ("[::1]:10443", "never ports"),
            ("[::1", "IPv6"),
            ("[::g]", "IPv6"),
        ] {
            let error = parse_host_pattern(pattern).unwrap_err();
            assert!(error.contains(detail), "{pattern:?}: {error}");
        }
    }
}
