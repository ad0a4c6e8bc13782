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
//! percent-decoded (`%5Fmethod`), `+` as a space, cut at a NUL (PHP truncates there), leading
//! and trailing spaces dropped (PHP drops leading ones), ` `, `.` and `-` read as `_` (PHP
//! turns ` ` and `.` into `_`; header-style names use `-`), and ASCII case ignored; brackets
//! every way a framework reads them: cut at the first `[` (`_method[]` is PHP's array
//! `_method`), leading `[`/`]` skipped up to the next bracket (Rack 2 reads `[_method]`,
//! `]_method` and `_method]` as `_method`, qs a leading `[_method]`), an unclosed `[` as `_`
//! (PHP). Parameters are split at `&` and at `;` (the separator older parsers also accept).
//! The token check reads `access_token` the same way ([`any_param_named`]).
//!
//! Bodies (the opt-in `form_body_check`): [`FormBody`] says from the `content-type` whether a
//! body can carry parameters a framework reads — `application/x-www-form-urlencoded` (the same
//! syntax as a query), `multipart/form-data` (each part's `Content-Disposition` `name`, or
//! `name*`), and JSON (`application/json`, `*+json`: Laravel reads a top-level `_method` of a
//! JSON body) — and [`OverrideParams::in_body`] looks for an override name there. A multipart
//! body that cannot be split into parts is refused ([`BodyError::Malformed`]): what an
//! upstream parser would make of it is unknown. A JSON body that is not a JSON object is left
//! alone: no framework takes parameters from it.

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
        any_param_named(params, |canonical| self.is_listed(canonical))
    }

    /// Whether one raw parameter name (as sent, still percent-encoded) is an override, read
    /// any way a framework may read it.
    pub fn is_override_key(&self, raw: &[u8]) -> bool {
        !raw.is_empty()
            && any_reading(raw, &mut NameBuffers::default(), &mut |name| {
                self.is_listed(name)
            })
    }
}

/// Whether any parameter of an `application/x-www-form-urlencoded` string (a URL query without
/// its `?`, or a form body) has a name `wanted` accepts, given the name in canonical form (the
/// lenient reading of the module doc). Also how the token check finds `access_token`.
pub fn any_param_named(params: &[u8], mut wanted: impl FnMut(&[u8]) -> bool) -> bool {
    let mut buffers = NameBuffers::default();
    params
        .split(|&b| b == b'&' || b == b';')
        .map(|param| param.split(|&b| b == b'=').next().unwrap_or_default())
        .any(|key| !key.is_empty() && any_reading(key, &mut buffers, &mut wanted))
}

/// A request body that can carry method-override parameters, by its `content-type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormBody {
    /// `application/x-www-form-urlencoded`.
    UrlEncoded,
    /// `multipart/form-data` with this boundary (`None`: the type names no usable boundary).
    Multipart(Option<Vec<u8>>),
    /// `application/json` or `application/<anything>+json`.
    Json,
}

/// Why a body was not checked for overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// A multipart body without a boundary or whose parts cannot be read.
    Malformed,
}

impl FormBody {
    /// The body kind named by a `content-type` value; `None` for bodies no framework reads
    /// parameters from (`text/plain`, `application/octet-stream`...).
    pub fn of_content_type(content_type: &[u8]) -> Option<FormBody> {
        let mut parts = content_type.split(|&b| b == b';');
        let media = parts.next().unwrap_or_default().trim_ascii();
        let is = |name: &str| media.eq_ignore_ascii_case(name.as_bytes());
        if is("application/x-www-form-urlencoded") {
            return Some(FormBody::UrlEncoded);
        }
        if is("application/json")
            || (starts_with_ignore_case(media, b"application/")
                && ends_with_ignore_case(media, b"+json"))
        {
            return Some(FormBody::Json);
        }
        if !is("multipart/form-data") {
            return None;
        }
        let boundary = parts.find_map(|param| {
            let (name, value) = split_once(param, b'=')?;
            if !name.trim_ascii().eq_ignore_ascii_case(b"boundary") {
                return None;
            }
            let value = value.trim_ascii();
            let value = match value {
                [b'"', inner @ .., b'"'] => inner,
                other => other,
            };
            // RFC 2046: 1 to 70 characters.
            (!value.is_empty() && value.len() <= 70).then(|| value.to_vec())
        });
        Some(FormBody::Multipart(boundary))
    }
}

impl OverrideParams {
    /// Whether a body of this kind names a method override.
    pub fn in_body(&self, kind: &FormBody, body: &[u8]) -> Result<bool, BodyError> {
        match kind {
            FormBody::UrlEncoded => Ok(self.in_urlencoded(body)),
            FormBody::Json => self.in_json_object_keys(body),
            FormBody::Multipart(None) => Err(BodyError::Malformed),
            FormBody::Multipart(Some(boundary)) => self.in_multipart(boundary, body),
        }
    }

    /// Top-level keys of a JSON object (anything else carries no parameters). A body that is
    /// not JSON yields the keys read before the error: a framework would read none, so this
    /// only errs towards refusing. Nesting deeper than any framework parses is refused.
    fn in_json_object_keys(&self, body: &[u8]) -> Result<bool, BodyError> {
        let mut key = Vec::new();
        json_keys::any_top_level_key(body, &mut key, |key| self.is_override_key_decoded(key))
            .ok_or(BodyError::Malformed)
    }

    /// [`OverrideParams::is_override_key`] for a name that is not percent-encoded (a JSON key,
    /// a multipart field name): `%` and `+` are taken literally.
    fn is_override_key_decoded(&self, name: &[u8]) -> bool {
        // Escaping `%` and `+` makes the query-key decoder read them literally.
        let mut raw = Vec::with_capacity(name.len());
        for &b in name {
            match b {
                b'%' => raw.extend_from_slice(b"%25"),
                b'+' => raw.extend_from_slice(b"%2B"),
                b => raw.push(b),
            }
        }
        self.is_override_key(&raw)
    }

    /// Every part's `Content-Disposition` name of a `multipart/form-data` body.
    fn in_multipart(&self, boundary: &[u8], body: &[u8]) -> Result<bool, BodyError> {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary);
        let mut rest = body;
        // The preamble before the first delimiter is ignored (RFC 2046).
        let first = find(rest, &delimiter).ok_or(BodyError::Malformed)?;
        rest = rest.get(first + delimiter.len()..).unwrap_or_default();
        loop {
            if rest.starts_with(b"--") {
                return Ok(false); // the close delimiter
            }
            let after_line = skip_line(rest).ok_or(BodyError::Malformed)?;
            let headers_end = find(after_line, b"\r\n\r\n").ok_or(BodyError::Malformed)?;
            let headers = after_line.get(..headers_end).unwrap_or_default();
            for line in headers.split(|&b| b == b'\n') {
                let Some((name, value)) = split_once(line, b':') else {
                    continue;
                };
                if !name
                    .trim_ascii()
                    .eq_ignore_ascii_case(b"content-disposition")
                {
                    continue;
                }
                for (field_name, encoded) in disposition_names(value) {
                    let found = if encoded {
                        self.is_override_key(&field_name)
                    } else {
                        self.is_override_key_decoded(&field_name)
                    };
                    if found {
                        return Ok(true);
                    }
                }
            }
            let content = after_line.get(headers_end + 4..).unwrap_or_default();
            let mut next_delimiter = b"\r\n".to_vec();
            next_delimiter.extend_from_slice(&delimiter);
            let end = find(content, &next_delimiter).ok_or(BodyError::Malformed)?;
            rest = content
                .get(end + next_delimiter.len()..)
                .unwrap_or_default();
        }
    }
}

/// The `name` (and `name*`, RFC 7578/5987) parameters of a `Content-Disposition` value, each
/// with whether it is percent-encoded (`name*`).
fn disposition_names(value: &[u8]) -> Vec<(Vec<u8>, bool)> {
    let mut names = Vec::new();
    let mut rest = value;
    while let Some(eq) = rest.iter().position(|&b| b == b'=') {
        let key = rest
            .get(..eq)
            .unwrap_or_default()
            .rsplit(|&b| b == b';' || b == b' ' || b == b'\t')
            .next()
            .unwrap_or_default();
        let after = rest.get(eq + 1..).unwrap_or_default().trim_ascii_start();
        let (raw, remainder) = match after.first() {
            Some(b'"') => {
                let inner = after.get(1..).unwrap_or_default();
                let mut value = Vec::new();
                let mut i = 0;
                while let Some(&b) = inner.get(i) {
                    match b {
                        b'\\' => {
                            value.extend(inner.get(i + 1).copied());
                            i += 2;
                        }
                        b'"' => break,
                        b => {
                            value.push(b);
                            i += 1;
                        }
                    }
                }
                (value, inner.get(i + 1..).unwrap_or_default())
            }
            _ => {
                let end = after.iter().position(|&b| b == b';').unwrap_or(after.len());
                (
                    after.get(..end).unwrap_or_default().trim_ascii().to_vec(),
                    after.get(end..).unwrap_or_default(),
                )
            }
        };
        if key.eq_ignore_ascii_case(b"name") {
            names.push((raw, false));
        } else if key.eq_ignore_ascii_case(b"name*") {
            // `charset'language'percent-encoded`: the encoded part canonicalises as a query key.
            let encoded = raw
                .rsplit(|&b| b == b'\'')
                .next()
                .unwrap_or_default()
                .to_vec();
            names.push((encoded, true));
        }
        rest = remainder;
    }
    names
}

fn starts_with_ignore_case(value: &[u8], prefix: &[u8]) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn ends_with_ignore_case(value: &[u8], suffix: &[u8]) -> bool {
    value
        .len()
        .checked_sub(suffix.len())
        .and_then(|start| value.get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

fn split_once(value: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = value.iter().position(|&b| b == separator)?;
    Some((value.get(..at)?, value.get(at + 1..)?))
}

/// The first index of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// What follows the end of the current line (`\r\n` or `\n`).
fn skip_line(rest: &[u8]) -> Option<&[u8]> {
    let end = rest.iter().position(|&b| b == b'\n')?;
    rest.get(end + 1..)
}

/// A minimal JSON reader: the top-level keys of an object, every value skipped. serde_json's
/// parser, instantiated for one more visitor, costs ~36 KB of .wasm; this costs ~2.
mod json_keys {
    /// Values nested deeper than this are not read: PHP's `json_decode` (Laravel) stops at
    /// 512 levels, so nothing a framework reads hides below.
    const MAX_DEPTH: usize = 512;

    /// Calls `f` with each top-level key of the object in `text` (unescaped into `key`) until
    /// it returns true; returns whether it did. Stops quietly at the first syntax error;
    /// `None` when a value nests deeper than [`MAX_DEPTH`].
    pub(super) fn any_top_level_key(
        text: &[u8],
        key: &mut alloc::vec::Vec<u8>,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> Option<bool> {
        let mut at = skip_ws(text, 0);
        if text.get(at) != Some(&b'{') {
            return Some(false);
        }
        at = skip_ws(text, at + 1);
        if text.get(at) == Some(&b'}') {
            return Some(false);
        }
        loop {
            key.clear();
            let Some(after_key) = string(text, at, Some(key)) else {
                return Some(false);
            };
            if f(key) {
                return Some(true);
            }
            at = skip_ws(text, after_key);
            if text.get(at) != Some(&b':') {
                return Some(false);
            }
            let after_value = match value(text, skip_ws(text, at + 1), 0) {
                Ok(Some(after)) => after,
                Ok(None) => return Some(false),
                Err(TooDeep) => return None,
            };
            at = skip_ws(text, after_value);
            match text.get(at) {
                Some(b',') => at = skip_ws(text, at + 1),
                _ => return Some(false),
            }
        }
    }

    /// A value nested deeper than [`MAX_DEPTH`].
    struct TooDeep;

    fn skip_ws(text: &[u8], mut at: usize) -> usize {
        while matches!(text.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }

    /// The string starting at `at` (a `"`); returns the index after it, unescaping into `out`.
    fn string(text: &[u8], at: usize, mut out: Option<&mut alloc::vec::Vec<u8>>) -> Option<usize> {
        if text.get(at) != Some(&b'"') {
            return None;
        }
        let mut i = at + 1;
        loop {
            let b = *text.get(i)?;
            match b {
                b'"' => return Some(i + 1),
                b'\\' => {
                    let escaped = *text.get(i + 1)?;
                    let mut buf = [0u8; 4];
                    let bytes: &[u8] = match escaped {
                        b'u' => {
                            let (c, len) = unicode_escape(text, i)?;
                            i += len;
                            c.encode_utf8(&mut buf).as_bytes()
                        }
                        b'b' => b"\x08",
                        b'f' => b"\x0c",
                        b'n' => b"\n",
                        b'r' => b"\r",
                        b't' => b"\t",
                        b'"' | b'\\' | b'/' => core::slice::from_ref(text.get(i + 1)?),
                        _ => return None,
                    };
                    if escaped != b'u' {
                        i += 2;
                    }
                    if let Some(out) = out.as_deref_mut() {
                        out.extend_from_slice(bytes);
                    }
                }
                _ => {
                    if let Some(out) = out.as_deref_mut() {
                        out.push(b);
                    }
                    i += 1;
                }
            }
        }
    }

    /// `\uXXXX` (a surrogate pair as one character) at `at`: the character and the bytes read.
    fn unicode_escape(text: &[u8], at: usize) -> Option<(char, usize)> {
        let hex = |from: usize| -> Option<u32> {
            let digits = core::str::from_utf8(text.get(from..from + 4)?).ok()?;
            u32::from_str_radix(digits, 16).ok()
        };
        let first = hex(at + 2)?;
        if (0xd800..0xdc00).contains(&first) && text.get(at + 6..at + 8) == Some(b"\\u") {
            let second = hex(at + 8)?;
            if (0xdc00..0xe000).contains(&second) {
                let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                return Some((char::from_u32(c)?, 12));
            }
        }
        Some((char::from_u32(first).unwrap_or('\u{fffd}'), 6))
    }

    /// Skips the value at `at`: the index after it, `Ok(None)` at a syntax error.
    fn value(text: &[u8], at: usize, depth: usize) -> Result<Option<usize>, TooDeep> {
        if depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        let Some(&first) = text.get(at) else {
            return Ok(None);
        };
        Ok(match first {
            b'"' => string(text, at, None),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut i = skip_ws(text, at + 1);
                if text.get(i) == Some(&close) {
                    return Ok(Some(i + 1));
                }
                loop {
                    if open == b'{' {
                        let Some(after) = string(text, i, None) else {
                            return Ok(None);
                        };
                        i = skip_ws(text, after);
                        if text.get(i) != Some(&b':') {
                            return Ok(None);
                        }
                        i = skip_ws(text, i + 1);
                    }
                    let Some(after) = value(text, i, depth + 1)? else {
                        return Ok(None);
                    };
                    i = skip_ws(text, after);
                    match text.get(i) {
                        Some(b',') => i = skip_ws(text, i + 1),
                        Some(&b) if b == close => return Ok(Some(i + 1)),
                        _ => return Ok(None),
                    }
                }
            }
            _ => {
                // A number, true, false or null: up to the next delimiter.
                let len = text
                    .get(at..)
                    .unwrap_or_default()
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(text.len() - at);
                (len > 0).then_some(at + len)
            }
        })
    }
}

/// The canonical form of a raw parameter name (see the module doc), built in `scratch`:
/// decoded, cut at NUL and `[`, trimmed of spaces, ` `/`.`/`-` as `_`, ASCII lower case. How
/// a policy's own names are read; a request's names are read every way a framework may read
/// them ([`any_reading`]).
fn canonical_name<'s>(raw: &[u8], scratch: &'s mut Vec<u8>) -> &'s [u8] {
    let mut decoded = Vec::new();
    decode_name(raw, &mut decoded);
    let cut = decoded
        .iter()
        .position(|&b| b == b'[')
        .unwrap_or(decoded.len());
    normalise_name(decoded.get(..cut).unwrap_or_default(), scratch);
    scratch
}

/// A raw parameter name percent-decoded (a lone `%` stays literal, as every lenient decoder
/// keeps it), `+` as a space, cut at the first NUL (PHP truncates there).
fn decode_name(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let (byte, len) = match b {
            b'%' => match (
                raw.get(i + 1).and_then(|&h| digit_value(h)),
                raw.get(i + 2).and_then(|&l| digit_value(l)),
            ) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, 3),
                _ => (b'%', 1),
            },
            b'+' => (b' ', 1),
            b => (b, 1),
        };
        if byte == 0 {
            break;
        }
        out.push(byte);
        i += len;
    }
}

/// A decoded name trimmed of spaces, with ` `, `.` and `-` as `_`, in ASCII lower case.
fn normalise_name(decoded: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let start = decoded
        .iter()
        .position(|&b| b != b' ')
        .unwrap_or(decoded.len());
    let end = decoded
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |p| p + 1);
    out.extend(
        decoded
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|&b| match b {
                b' ' | b'.' | b'-' => b'_',
                other => other.to_ascii_lowercase(),
            }),
    );
}

/// Whether `wanted` accepts one of the canonical names frameworks read a raw parameter name
/// as. Brackets are where they part ways:
/// - cut at the first `[` (PHP, Rack and qs arrays: `_method[]`, `_method[x]`);
/// - leading `[`/`]` skipped, then up to the next bracket (Rack 2 reads `]_method`,
///   `_method]` and `[_method]` as `_method`; qs reads a leading `[_method]` so too);
/// - an unclosed `[` as `_` (PHP: `access[token` is `access_token`).
fn any_reading(
    raw: &[u8],
    buffers: &mut NameBuffers,
    wanted: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let NameBuffers { decoded, name } = buffers;
    decode_name(raw, decoded);
    let mut accepts = |reading: &[u8], name: &mut Vec<u8>| {
        normalise_name(reading, name);
        !name.is_empty() && wanted(name)
    };
    let first_bracket = decoded.iter().position(|&b| b == b'[');
    let cut = decoded
        .get(..first_bracket.unwrap_or(decoded.len()))
        .unwrap_or_default();
    if accepts(cut, name) {
        return true;
    }
    if first_bracket.is_none() && !decoded.contains(&b']') {
        return false;
    }
    let inner_start = decoded
        .iter()
        .position(|&b| b != b'[' && b != b']')
        .unwrap_or(decoded.len());
    let inner = decoded.get(inner_start..).unwrap_or_default();
    let inner_end = inner
        .iter()
        .position(|&b| b == b'[' || b == b']')
        .unwrap_or(inner.len());
    if accepts(inner.get(..inner_end).unwrap_or_default(), name) {
        return true;
    }
    match first_bracket {
        Some(at) if !decoded.get(at..).unwrap_or_default().contains(&b']') => {
            // The last reading: the decoded name itself becomes PHP's.
            if let Some(bracket) = decoded.get_mut(at) {
                *bracket = b'_';
            }
            accepts(decoded, name)
        }
        _ => false,
    }
}

/// The two buffers [`any_reading`] works in, reused for every name of a query or body so that
/// reading one allocates once, not per parameter.
#[derive(Default)]
struct NameBuffers {
    decoded: Vec<u8>,
    name: Vec<u8>,
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
            // Brackets as Rack 2, qs and PHP read them (review of F6).
            "[_method]=DELETE",
            "%5B_method%5D=DELETE",
            "]_method=DELETE",
            "_method]=DELETE",
            "[[_method]]=DELETE",
            "x_http[method_override=DELETE",
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
            "x[_method]=1",
            "[]=_method",
            "[x]_method=1",
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

    fn body(kind: &str, body: &str) -> Result<bool, BodyError> {
        let kind = FormBody::of_content_type(kind.as_bytes()).unwrap();
        OverrideParams::default().in_body(&kind, body.as_bytes())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn content_types_that_carry_parameters() {
        let of = |ct: &str| FormBody::of_content_type(ct.as_bytes());
        assert_eq!(
            of("application/x-www-form-urlencoded"),
            Some(FormBody::UrlEncoded)
        );
        assert_eq!(
            of(" Application/X-WWW-Form-Urlencoded ; charset=UTF-8"),
            Some(FormBody::UrlEncoded)
        );
        assert_eq!(of("application/json"), Some(FormBody::Json));
        assert_eq!(
            of("application/vnd.api+json; charset=utf-8"),
            Some(FormBody::Json)
        );
        assert_eq!(
            of("multipart/form-data; boundary=xYz"),
            Some(FormBody::Multipart(Some(b"xYz".to_vec())))
        );
        assert_eq!(
            of("multipart/form-data; charset=x; BOUNDARY=\"a b\""),
            Some(FormBody::Multipart(Some(b"a b".to_vec())))
        );
        assert_eq!(of("multipart/form-data"), Some(FormBody::Multipart(None)));
        for other in [
            "text/plain",
            "application/octet-stream",
            "",
            "multipart/mixed; boundary=x",
        ] {
            assert_eq!(of(other), None, "{other}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn form_bodies() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(body(form, "amount=1&_method=DELETE"), Ok(true));
        assert_eq!(body(form, "amount=1&_METHOD%5B%5D=DELETE"), Ok(true));
        assert_eq!(body(form, "amount=1&note=_method%3DDELETE"), Ok(false));
        assert_eq!(body(form, ""), Ok(false));
        let json = "application/json";
        assert_eq!(
            body(json, r#"{"amount": 1, "_method": "DELETE"}"#),
            Ok(true)
        );
        assert_eq!(
            body(json, r#"{"a": {"_method": "DELETE"}, "x-http-method": 1}"#),
            Ok(true)
        );
        assert_eq!(body(json, r#"{"a": {"_method": "DELETE"}}"#), Ok(false));
        assert_eq!(body(json, r#"["_method"]"#), Ok(false));
        assert_eq!(body(json, "not json"), Ok(false));
        assert_eq!(body(json, r#"{"\u005fmethod": "DELETE"}"#), Ok(true));
        assert_eq!(
            body(json, r#"{"_method": "PUT", "_method": "DELETE"}"#),
            Ok(true)
        );
        assert_eq!(
            body(
                json,
                r#" { "a" : [1, {"b": "}"}, "x\"y"], "n": -1.5e3, "t": true, "_method" : null}"#
            ),
            Ok(true)
        );
        assert_eq!(
            body(json, r#"{"a": [1, {"b": "}"}], "n": -1.5e3, "t": true}"#),
            Ok(false)
        );
        assert_eq!(body(json, r#"{"%5Fmethod": 1, "+_method": 2}"#), Ok(false));
        assert_eq!(body(json, r#"{"\ud83d\ude00": 1, "_method": 2}"#), Ok(true));
        assert_eq!(body(json, r#"{"a": 1 "_method": 2}"#), Ok(false));
        assert_eq!(body(json, r#"{"_method"#), Ok(false));
        assert_eq!(body(json, "{}"), Ok(false));
        assert_eq!(body(json, &"[".repeat(1000)), Ok(false));
        let nested = |depth: usize| {
            alloc::format!(
                r#"{{"a": {}1{}, "_method": 1}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        assert_eq!(body(json, &nested(500)), Ok(true), "PHP reads 512 levels");
        assert_eq!(
            body(json, &nested(600)),
            Err(BodyError::Malformed),
            "deeper than any framework reads: refused, not skipped"
        );
        let multipart = "multipart/form-data; boundary=XX";
        let part = |disposition: &str| {
            alloc::format!(
                "preamble\r\n--XX\r\nContent-Type: text/plain\r\nContent-Disposition: {disposition}\r\n\r\nDELETE\r\n--XX--\r\n"
            )
        };
        for disposition in [
            "form-data; name=\"_method\"",
            "form-data; name=_method",
            "form-data; NAME=\"_METHOD\"",
            "form-data;name=\"_method[]\"",
            "form-data; filename=\"a\"; name=\"x-http-method-override\"",
            "form-data; name=\"_\\method\"",
            "form-data; name*=UTF-8''%5Fmethod",
        ] {
            assert_eq!(
                body(multipart, &part(disposition)),
                Ok(true),
                "{disposition}"
            );
        }
        for disposition in [
            "form-data; name=\"amount\"",
            "form-data; filename=\"_method\"; name=\"file\"",
        ] {
            assert_eq!(
                body(multipart, &part(disposition)),
                Ok(false),
                "{disposition}"
            );
        }
        let two = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nPUT\r\n--XX--";
        assert_eq!(body(multipart, two), Ok(true));
        for malformed in [
            "no delimiter",
            "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n",
            "--XX\r\n\r\n\r\nunterminated",
        ] {
            assert_eq!(
                body(multipart, malformed),
                Err(BodyError::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(body("multipart/form-data", "x"), Err(BodyError::Malformed));
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
