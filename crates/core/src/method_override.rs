//! Method overrides outside headers: request parameters that make an upstream framework run
//! another method than the request line's.
//!
//! Headers (`x-http-method-override`...) are removed by the filter ([`crate::strip`]). But
//! frameworks also take the method from a request *parameter*: Laravel and Symfony `_method`
//! (query for POST requests, form and — Laravel — JSON bodies), Spring's `HiddenHttpMethodFilter`
//! and Gorilla's `HTTPMethodOverrideHandler` (`_method`, query or form), ASP.NET Core, Rails,
//! CakePHP, Slim (`_method`/`_METHOD`, form), Salesforce-style APIs (`_HttpMethod`), and
//! Express `method-override` with a custom getter on any name, the header names included. A
//! client allowed `POST` would otherwise send `POST /billing/invoices?_method=DELETE` and have
//! the upstream run a DELETE the policy never authorised.
//!
//! The core refuses such a request (`400 bad_request:method_override`) rather than authorise
//! the overridden method: which of several values, spellings and locations wins differs from
//! framework to framework (first or last, query or body, POST only or any method), so no
//! single "effective method" is right for every upstream.
//!
//! A parameter name counts as an override when, read as the most lenient of those frameworks
//! reads it, it is one of [`METHOD_OVERRIDE_PARAMS`] (or a name the policy adds):
//! percent-decoded (`%5Fmethod`), `+` as a space, cut at a NUL (PHP truncates there) and at
//! the first `[` (`_method[]` is PHP's array `_method`), leading and trailing spaces dropped
//! (PHP drops leading ones), ` `, `.` and `-` read as `_` (PHP turns ` ` and `.` into `_`;
//! header-style names use `-`), and ASCII case ignored. Parameters are split at `&` and at `;`
//! (the separator older parsers also accept).

use alloc::string::String;
use alloc::vec::Vec;

use crate::hex::digit_value;

/// Parameter names that override the method, in canonical form (see the module doc).
pub const METHOD_OVERRIDE_PARAMS: [&str; 5] = [
    "_method",
    "_httpmethod",
    "x_http_method_override",
    "x_http_method",
    "x_method_override",
];

/// The override parameter names a policy checks: the built-in ones and its own additions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverrideParams {
    /// Extra canonical names (`method_override_params`), lower case.
    extra: Vec<String>,
}

impl OverrideParams {
    /// The built-in names plus `extra` (each canonicalised; names that are empty once
    /// canonical are ignored — the policy compiler refuses them first).
    pub fn new<'a>(extra: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = Self::default();
        let mut scratch = Vec::new();
        for name in extra {
            let canonical = canonical_name(name.as_bytes(), &mut scratch);
            if canonical.is_empty() {
                continue;
            }
            let canonical = String::from_utf8_lossy(canonical).into_owned();
            if !out.is_listed(canonical.as_bytes()) {
                out.extra.push(canonical);
            }
        }
        out
    }

    /// The canonical form of a parameter name as a policy writes it; `None` when nothing is
    /// left of it (empty once decoded and trimmed, or cut at `[`/NUL right away).
    pub fn canonical(name: &str) -> Option<String> {
        let mut scratch = Vec::new();
        let canonical = canonical_name(name.as_bytes(), &mut scratch);
        (!canonical.is_empty()).then(|| String::from_utf8_lossy(canonical).into_owned())
    }

    /// Whether a canonical name is an override name.
    fn is_listed(&self, canonical: &[u8]) -> bool {
        METHOD_OVERRIDE_PARAMS
            .iter()
            .any(|n| n.as_bytes() == canonical)
            || self.extra.iter().any(|n| n.as_bytes() == canonical)
    }

    /// Whether any parameter of an `application/x-www-form-urlencoded` string (a URL query
    /// without its `?`, or a form body) names a method override.
    pub fn in_urlencoded(&self, params: &[u8]) -> bool {
        let mut scratch = Vec::new();
        params
            .split(|&b| b == b'&' || b == b';')
            .map(|param| param.split(|&b| b == b'=').next().unwrap_or_default())
            .any(|key| self.is_override_key(key, &mut scratch))
    }

    /// Whether one raw parameter name (as sent, still percent-encoded) is an override.
    /// `scratch` is reused between calls so a long query allocates once.
    pub fn is_override_key(&self, raw: &[u8], scratch: &mut Vec<u8>) -> bool {
        !raw.is_empty() && self.is_listed(canonical_name(raw, scratch))
    }
}

/// The canonical form of a raw parameter name (see the module doc), built in `scratch`:
/// decoded, cut at NUL and `[`, trimmed of spaces, ` `/`.`/`-` as `_`, ASCII lower case.
fn canonical_name<'s>(raw: &[u8], scratch: &'s mut Vec<u8>) -> &'s [u8] {
    scratch.clear();
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let (byte, len) = match b {
            b'%' => match (
                raw.get(i + 1).and_then(|&h| digit_value(h)),
                raw.get(i + 2).and_then(|&l| digit_value(l)),
            ) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, 3),
                // A lone `%` stays literal, as every lenient decoder keeps it.
                _ => (b'%', 1),
            },
            b'+' => (b' ', 1),
            b => (b, 1),
        };
        if byte == 0 || byte == b'[' {
            break;
        }
        scratch.push(byte);
        i += len;
    }
    let start = scratch
        .iter()
        .position(|&b| b != b' ')
        .unwrap_or(scratch.len());
    let end = scratch
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |p| p + 1);
    scratch.truncate(end);
    scratch.drain(..start);
    for b in scratch.iter_mut() {
        *b = match *b {
            b' ' | b'.' | b'-' => b'_',
            other => other.to_ascii_lowercase(),
        };
    }
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(query: &str) -> bool {
        OverrideParams::default().in_urlencoded(query.as_bytes())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_spelling_of_an_override_parameter() {
        for query in [
            "_method=DELETE",
            "a=1&_method=DELETE",
            "_method",
            "_method=",
            "_METHOD=put",
            "_Method=PATCH",
            "%5Fmethod=DELETE",
            "%5fmethod=DELETE",
            "_%6Dethod=DELETE",
            "_method[]=DELETE",
            "_method[x]=DELETE",
            "_method%5B%5D=DELETE",
            "+_method=DELETE",
            "%20_method=DELETE",
            "_method%00junk=DELETE",
            ".method=DELETE",
            "a=1;_method=DELETE",
            "_httpmethod=PATCH",
            "_HttpMethod=PATCH",
            "x-http-method-override=DELETE",
            "X-HTTP-Method-Override=DELETE",
            "x_http_method_override=DELETE",
            "x-http-method=DELETE",
            "x-method-override=DELETE",
            "x.method.override=DELETE",
            "x+http+method=DELETE",
        ] {
            assert!(overrides(query), "{query}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn ordinary_parameters_pass() {
        for query in [
            "",
            "x=1",
            "method=card",
            "+method=DELETE",
            "payment_method=card",
            "_methods=1",
            "__method=1",
            "q=_method%3DDELETE",
            "x=_method",
            "a=1&b=_method=DELETE",
            "_meth=1",
            "%5Fmethodx=1",
            "_method\u{e9}=1",
            "%C3%A9_method=1",
            "%=1",
            "&&&",
            "==",
        ] {
            assert!(!overrides(query), "{query}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_policy_adds_its_own_names() {
        let params = OverrideParams::new(["verb", "X-Verb", "_method", ""]);
        assert!(params.in_urlencoded(b"verb=DELETE"));
        assert!(params.in_urlencoded(b"x_verb=DELETE"));
        assert!(params.in_urlencoded(b"_method=DELETE"));
        assert!(!params.in_urlencoded(b"verbose=1"));
        assert_eq!(params.extra, ["verb", "x_verb"]);
        assert_eq!(
            OverrideParams::new(["+ [", "%00"]),
            OverrideParams::default()
        );
    }

    /// Padding that canonicalises away (PHP drops leading spaces and everything after a NUL)
    /// makes no key too long to be an override.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn padding_does_not_hide_an_override() {
        assert!(overrides(&alloc::format!("{}_method=1", "+".repeat(4000))));
        assert!(overrides(&alloc::format!(
            "_method%00{}=1",
            "x".repeat(4000)
        )));
        assert!(overrides(&alloc::format!(
            "_method[{}]=1",
            "x".repeat(4000)
        )));
        assert!(!overrides(&alloc::format!("{}=1", "%5F".repeat(100))));
    }
}
