//! The transport of a v1.1 fetched artefact (a CRL, a JWKS): the GET a
//! [`FetchSpec`] describes, sent from the root context's tick, and its answer read back. The
//! timing and what the body is worth are the core's; one definition here for both artefacts.

use std::time::Duration;

use mtls_authz_core::policy::fetch::FetchSpec;
use mtls_authz_core::refresh::FetchResponse;

use crate::host::{Host, HostError};

/// Sends the GET of `fetch` with this `accept`; the answer comes back under the returned
/// token to the root's `on_http_call_response`.
pub fn dispatch<H: Host>(host: &mut H, fetch: &FetchSpec, accept: &str) -> Result<u32, HostError> {
    let headers = [
        (":method", "GET"),
        (":path", fetch.path()),
        (":authority", fetch.authority()),
        ("accept", accept),
    ];
    let timeout = Duration::from_secs(fetch.plan().timeout_secs());
    host.dispatch_http_call(fetch.upstream(), &headers, timeout)
}

/// Reads the answer in hand (status, then `body_size` bytes of body) and gives it to `take`;
/// a status the host cannot tell is a transport failure. The caller checks `body_size`
/// against its limit first, so an oversized body is never read.
pub fn with_response<H: Host, R>(
    host: &mut H,
    body_size: usize,
    take: impl FnOnce(FetchResponse<'_>) -> R,
) -> R {
    let status = host.http_call_response_status();
    let body = host.http_call_response_body(body_size);
    let response = match (&status, &body) {
        (Ok(Some(status)), Ok(body)) => FetchResponse::Http {
            status: *status,
            body: body.as_deref().unwrap_or_default(),
        },
        _ => FetchResponse::Transport,
    };
    take(response)
}
