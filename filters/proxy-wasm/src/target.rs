//! Which request-target the filter authorises, and whether the upstream can be made to
//! receive its normalised form.
//!
//! - Envoy: `:path` is the request-target as the client sent it, and the `:path` the filter
//!   writes is the one the upstream receives.
//! - NGINX (ngx_wasm_module): `:path` is NGINX's `$uri` — already percent-decoded (`%2F`
//!   included), dot segments resolved, slashes merged — plus `?args`, while `proxy_pass`
//!   without a URI part forwards `$request_uri`, the request-target as sent; writing `:path`
//!   only changes `$uri` (and traps when the value holds a query). Authorising `$uri` would
//!   let `/admin/..%2Fhealthz` pass as `/healthz` and reach the upstream unchanged. So the
//!   filter authorises `ngx.request_uri` and, unable to change what is forwarded, refuses a
//!   path that normalisation would restructure (`Policy::evaluate_as_sent`).

use std::borrow::Cow;

use crate::config::HostKind;
use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};

/// NGINX (`$request_uri`): the request-target exactly as the client sent it.
pub const NGINX_REQUEST_URI: &[&str] = &["ngx", "request_uri"];

/// What the upstream receives as the request-target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// The `:path` the filter writes (Envoy): the normalised path.
    Rewritten,
    /// The request-target as the client sent it (NGINX `proxy_pass` without a URI part).
    AsSent,
}

/// The request-target to authorise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestTarget<'h> {
    /// As the client sent it (lossy UTF-8: the core rejects anything non-ASCII); borrowed
    /// from the request headers when it is `:path`.
    pub raw: Cow<'h, str>,
    /// What the upstream will receive.
    pub forwarding: Forwarding,
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

/// Reads the request-target for the configured host. `auto` asks for NGINX's
/// `ngx.request_uri` (Envoy reports it as absent) and falls back to `:path`. An NGINX whose
/// `ngx.request_uri` cannot be read leaves nothing safe to authorise: that is an error.
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
            forwarding: Forwarding::Rewritten,
        }
    };
    if kind == HostKind::Envoy {
        return Ok(from_path());
    }
    match host.get_property(NGINX_REQUEST_URI)? {
        Some(uri) => Ok(RequestTarget {
            raw: Cow::Owned(String::from_utf8_lossy(&uri).into_owned()),
            forwarding: Forwarding::AsSent,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(sent: &[u8]) -> RequestTarget<'_> {
        let raw = String::from_utf8_lossy(sent);
        RequestTarget {
            sent_bytes: matches!(raw, Cow::Owned(_)).then_some(sent),
            raw,
            forwarding: Forwarding::Rewritten,
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
