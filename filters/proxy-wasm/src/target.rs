//! Which proxy a request runs in, which request-target the filter authorises there, and what
//! that proxy lets the filter change in what the upstream receives.
//!
//! - Envoy: `:path` is the request-target as the client sent it, the `:path` the filter
//!   writes is the one the upstream receives, and a removed request header is gone.
//! - NGINX (ngx_wasm_module 3bed2783, read from its source and checked in the real module by
//!   tests/e2e/tests/nginx.rs):
//!   - `:path` is NGINX's `$uri` — already percent-decoded (`%2F` included), dot segments
//!     resolved, slashes merged — plus `?args`, while `proxy_pass` without a URI part forwards
//!     `$request_uri`, the request-target as sent; writing `:path` only changes `$uri` (and
//!     traps when the value holds a query). Authorising `$uri` would let `/admin/..%2Fhealthz`
//!     pass as `/healthz` and reach the upstream unchanged. So the filter authorises
//!     `ngx.request_uri` and, unable to change what is forwarded, refuses a path that
//!     normalisation would restructure (`Policy::evaluate_as_sent`).
//!   - Removing a request header (`proxy_remove_header_map_value`) only zeroes the entry's
//!     hash in `r->headers_in.headers`: `$http_*` and the filter's own view of the map skip
//!     it, but `ngx_http_proxy_module` (like grpc, fastcgi, uwsgi and scgi) copies every
//!     entry of the list into the upstream request, hash or not. Replacing a header
//!     (`proxy_replace_header_map_value`) updates the first entry in place but, when there
//!     are several, zeroes the hash of all of them — the stale values still go upstream, and
//!     the next replace appends a new entry. So the filter cannot take a spoofed header away
//!     from NGINX's upstream request: a request it would forward that carries one is refused
//!     instead ([`unforwardable`]).
//!   - The header map a filter reads holds at most 100 entries (pseudo-headers included,
//!     `NGX_HTTP_WASM_MAX_REQ_HEADERS`); the rest is cut silently (a `warn` log line). A
//!     spoofed header behind the cut would be invisible, so 100 entries or more refuse the
//!     request too.

use std::borrow::Cow;

use mtls_authz_core::decision::Reason;
use mtls_authz_core::strip::StrippedHeaders;

use crate::config::HostKind;
use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};

/// NGINX (`$request_uri`): the request-target exactly as the client sent it.
pub const NGINX_REQUEST_URI: &[&str] = &["ngx", "request_uri"];

/// The most request-header entries ngx_wasm_module hands a filter (pseudo-headers included):
/// `NGX_HTTP_WASM_MAX_REQ_HEADERS`. A map this long may have been cut.
pub const NGINX_MAX_HEADER_ENTRIES: usize = 100;

/// The proxy a request runs in, as far as the filter acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proxy {
    /// Envoy (and Istio): `:path` and removed headers are what the upstream gets.
    Envoy,
    /// NGINX with ngx_wasm_module: the request-target and every header entry are forwarded as
    /// received (see the module docs).
    Nginx,
}

impl Proxy {
    /// Whether the upstream receives the `:path` the filter writes (else the target as sent).
    pub fn rewrites_path(self) -> bool {
        self == Proxy::Envoy
    }

    /// Whether a request header the filter removes is gone from the upstream request.
    pub fn removes_headers(self) -> bool {
        self == Proxy::Envoy
    }

    /// The `host` value whose properties the filter reads here.
    pub fn host_kind(self) -> HostKind {
        match self {
            Proxy::Envoy => HostKind::Envoy,
            Proxy::Nginx => HostKind::Nginx,
        }
    }
}

/// The request-target to authorise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestTarget<'h> {
    /// As the client sent it (lossy UTF-8: the core rejects anything non-ASCII); borrowed
    /// from the request headers when it is `:path`.
    pub raw: Cow<'h, str>,
    /// The proxy, which decides what the upstream receives.
    pub proxy: Proxy,
    /// The `:path` bytes as received when they are not UTF-8 (raw bytes ≥ 0x80 in the query;
    /// anywhere else the core refuses them): `raw` is lossy then, and a rewritten `:path`
    /// takes its query from here, byte for byte.
    pub sent_bytes: Option<&'h [u8]>,
}

impl RequestTarget<'_> {
    /// The `:path` to forward for the core's `upstream` (normalised path + query as `raw`
    /// had it), or `None` when it is exactly what was received (no rewrite needed). With
    /// non-UTF-8 `sent_bytes`, the query is copied from them, not from the lossy text.
    pub fn rewritten(&self, upstream: &str) -> Option<Vec<u8>> {
        let Some(sent) = self.sent_bytes else {
            return (upstream != self.raw.as_ref()).then(|| upstream.as_bytes().to_vec());
        };
        let path = upstream.split('?').next().unwrap_or(upstream);
        let without_fragment = sent.split(|&b| b == b'#').next().unwrap_or_default();
        let mut out = path.as_bytes().to_vec();
        if let Some(query) = without_fragment.iter().position(|&b| b == b'?') {
            out.extend_from_slice(without_fragment.get(query..).unwrap_or_default());
        }
        (out != sent).then_some(out)
    }
}

/// Reads the request-target for the configured host and tells the proxy apart. `auto` asks
/// for NGINX's `ngx.request_uri` first — ngx_wasm_module has it on every HTTP request, Envoy
/// reports it absent — so `auto` never reads the other proxy's properties: present, this is
/// NGINX; absent, Envoy and `:path`. An NGINX whose `ngx.request_uri` cannot be read leaves
/// nothing safe to authorise: that is an error.
pub fn request_target<'h, H: Host>(
    host: &H,
    headers: &'h RequestHeaders,
    kind: HostKind,
) -> Result<RequestTarget<'h>, HostError> {
    let from_path = || {
        let raw = headers.text(":path");
        RequestTarget {
            sent_bytes: match raw {
                Cow::Owned(_) => headers.first(":path"),
                Cow::Borrowed(_) => None,
            },
            raw,
            proxy: Proxy::Envoy,
        }
    };
    if kind == HostKind::Envoy {
        return Ok(from_path());
    }
    match host.get_property(NGINX_REQUEST_URI)? {
        Some(uri) => Ok(RequestTarget {
            // Valid UTF-8 is taken as is (no copy); anything else is repaired: the core
            // refuses a U+FFFD in the path, and in the query only reads parameter names
            // (NGINX forwards the query's bytes as sent).
            raw: Cow::Owned(
                String::from_utf8(uri)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            proxy: Proxy::Nginx,
            // Forwarded as sent: never rewritten, nothing to keep.
            sent_bytes: None,
        }),
        None if kind == HostKind::Nginx => Err(HostError::new(
            "get_property(ngx.request_uri)",
            "absent: the request-target as sent cannot be read",
        )),
        None => Ok(from_path()),
    }
}

/// Why a request the policy lets through cannot be forwarded by a proxy that does not remove
/// headers (NGINX): more header entries than the host shows the filter, or a header that must
/// never reach the upstream — `spoofable`, the names [`RequestHeaders::names_to_remove`]
/// found, the first named by its canonical spelling. `None`: safe to forward.
pub fn unforwardable(
    headers: &RequestHeaders,
    spoofable: &[&str],
    stripped: &StrippedHeaders,
) -> Option<Reason> {
    if headers.len() >= NGINX_MAX_HEADER_ENTRIES {
        return Some(Reason::TooManyHeaders);
    }
    spoofable
        .iter()
        .find_map(|name| stripped.canonical(name))
        .map(|name| Reason::SpoofableHeader {
            name: name.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> RequestHeaders {
        RequestHeaders::new(
            names
                .iter()
                .map(|n| ((*n).to_string(), b"v".to_vec()))
                .collect(),
        )
    }

    fn unforwardable(headers: &RequestHeaders, stripped: &StrippedHeaders) -> Option<Reason> {
        super::unforwardable(headers, &headers.names_to_remove(stripped), stripped)
    }

    #[test]
    fn a_spoofable_header_is_named_by_its_canonical_spelling() {
        let stripped = StrippedHeaders::new(["x-client-role"], false);
        assert_eq!(
            unforwardable(&headers(&[":path", "accept", "X_Client-ROLE"]), &stripped),
            Some(Reason::SpoofableHeader {
                name: "x-client-role".to_string()
            })
        );
        assert_eq!(
            unforwardable(&headers(&[":path", "X-Forwarded-Client-Cert"]), &stripped),
            Some(Reason::SpoofableHeader {
                name: "x-forwarded-client-cert".to_string()
            })
        );
        assert_eq!(
            unforwardable(&headers(&[":path", "accept", "x-client-roles"]), &stripped),
            None
        );
    }

    #[test]
    fn a_trusted_xfcc_may_be_forwarded_in_its_own_spelling_only() {
        let stripped = StrippedHeaders::new([], true);
        assert_eq!(
            unforwardable(&headers(&["x-forwarded-client-cert"]), &stripped),
            None
        );
        assert!(unforwardable(&headers(&["x_forwarded_client_cert"]), &stripped).is_some());
    }

    #[test]
    fn a_map_the_host_may_have_cut_is_refused() {
        let stripped = StrippedHeaders::new([], false);
        let names: Vec<String> = (0..NGINX_MAX_HEADER_ENTRIES)
            .map(|i| format!("x-h{i}"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            unforwardable(&headers(&names[..NGINX_MAX_HEADER_ENTRIES - 1]), &stripped),
            None
        );
        assert_eq!(
            unforwardable(&headers(&names), &stripped),
            Some(Reason::TooManyHeaders)
        );
    }

    fn target(sent: &[u8]) -> RequestTarget<'_> {
        let raw = String::from_utf8_lossy(sent);
        RequestTarget {
            sent_bytes: matches!(raw, Cow::Owned(_)).then_some(sent),
            raw,
            proxy: Proxy::Envoy,
        }
    }

    #[test]
    fn a_rewritten_path_keeps_the_query_bytes_as_sent() {
        let sent = b"/a/../b?q=\xff\xfe&x=%C3%A9#frag\xff";
        let t = target(sent);
        assert!(t.raw.contains('\u{fffd}'));
        assert_eq!(
            t.rewritten("/b?q=\u{fffd}\u{fffd}&x=%C3%A9").as_deref(),
            Some(&b"/b?q=\xff\xfe&x=%C3%A9"[..])
        );
        // Nothing to rewrite: the path was already normal and no fragment was dropped.
        let t = target(b"/b?q=\xff");
        assert_eq!(t.rewritten("/b?q=\u{fffd}"), None);
        // A fragment alone (with a raw byte) is dropped.
        let t = target(b"/b#\xff");
        assert_eq!(t.rewritten("/b").as_deref(), Some(&b"/b"[..]));
        // UTF-8 targets compare as text.
        let t = target(b"/a/./b?q=\xc3\xa9");
        assert_eq!(t.sent_bytes, None);
        assert_eq!(
            t.rewritten("/a/b?q=\u{e9}").as_deref(),
            Some("/a/b?q=\u{e9}".as_bytes())
        );
        assert_eq!(target(b"/a?x").rewritten("/a?x"), None);
    }
}
