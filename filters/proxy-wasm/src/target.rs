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
}

/// Reads the request-target for the configured host. `auto` asks for NGINX's
/// `ngx.request_uri` (Envoy reports it as absent) and falls back to `:path`. An NGINX whose
/// `ngx.request_uri` cannot be read leaves nothing safe to authorise: that is an error.
pub fn request_target<'h, H: Host>(
    host: &H,
    headers: &'h RequestHeaders,
    kind: HostKind,
) -> Result<RequestTarget<'h>, HostError> {
    let from_path = || RequestTarget {
        raw: headers.text(":path"),
        forwarding: Forwarding::Rewritten,
    };
    if kind == HostKind::Envoy {
        return Ok(from_path());
    }
    match host.get_property(NGINX_REQUEST_URI)? {
        Some(uri) => Ok(RequestTarget {
            raw: Cow::Owned(String::from_utf8_lossy(&uri).into_owned()),
            forwarding: Forwarding::AsSent,
        }),
        None if kind == HostKind::Nginx => Err(HostError::new(
            "get_property(ngx.request_uri)",
            "absent: the request-target as sent cannot be read",
        )),
        None => Ok(from_path()),
    }
}
