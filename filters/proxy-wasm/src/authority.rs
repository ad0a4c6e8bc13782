//! Which authority each proxy shows the filter, for v1.1 `rules[].hosts` (read only when the
//! policy has them; the core decides what it means: `mtls_authz_core::authority`).
//!
//! - Envoy: `:authority`. Its HTTP/1 codec presents `Host` as `:authority` and, for an
//!   absolute-form target (`GET https://b.example.org/x HTTP/1.1`), replaces it with the
//!   target's authority — the one Envoy routes on — so there is one value and nothing to
//!   compare.
//! - NGINX (ngx_wasm_module 3bed2783): `:authority` is NOT the client's (the module makes it
//!   up from the server block's first `server_name` and the local port). NGINX routes on
//!   `$host`: an absolute-form target's host, else `Host` (HTTP/2: `:authority`), lower-cased,
//!   port and trailing dot removed (seen in NGINX 1.27.4: `GET   web+x://ADMIN.example.org.:99/x`
//!   with `Host: records.example.org` routes on, and gives `$host`, `admin.example.org`). The
//!   filter reads `ngx.http_host` (`Host` as sent) and `ngx.host` (what NGINX routed on) and
//!   lets the core refuse a disagreement (`authority_mismatch`) — no request-line parsing,
//!   which would have to match NGINX's parser byte for byte (several spaces, any
//!   `[A-Za-z][A-Za-z0-9+.-]*` scheme). Without `Host` (HTTP/1.0 may omit it) `$host` falls
//!   back to the server name, so it is not read: `authority_missing`, also for an HTTP/1.0
//!   absolute-form target without `Host` (fail closed). Two host calls per request, only
//!   under a policy with `hosts`.
//!
//! Several values of the header are joined with `,` (RFC 9110 §5.3), which no authority holds:
//! the core refuses them as malformed.

use std::borrow::Cow;

use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};
use crate::target::Proxy;

/// NGINX `$host` (ngx_wasm_module maps `ngx.<name>` to the variable `$<name>`): the host NGINX
/// routes on, normalised by NGINX (see the module docs).
pub const NGINX_HOST: &[&str] = &["ngx", "host"];

/// NGINX `$http_host`: the `Host` header as sent; absent when the request has none.
pub const NGINX_HTTP_HOST: &[&str] = &["ngx", "http_host"];

/// What the proxy shows of the request's authority, owned (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentAuthority {
    /// `:authority` (Envoy; several instances joined with `,`) or `$http_host` (NGINX).
    pub sent: Option<String>,
    /// NGINX: `$host`, the host NGINX routed on.
    pub routed: Option<String>,
}

impl SentAuthority {
    /// The core's view, borrowing from this.
    pub fn as_request(&self) -> mtls_authz_core::RequestAuthority<'_> {
        mtls_authz_core::RequestAuthority {
            sent: self.sent.as_deref(),
            routed: self.routed.as_deref(),
        }
    }
}

/// Reads the authority the way `proxy` shows it.
pub fn sent_authority<H: Host>(
    host: &H,
    headers: &RequestHeaders,
    proxy: Proxy,
) -> Result<SentAuthority, HostError> {
    match proxy {
        Proxy::Envoy => Ok(SentAuthority {
            sent: joined(headers, ":authority"),
            routed: None,
        }),
        Proxy::Nginx => {
            // Without `Host`, `$host` is the server name, not the client's: nothing to read.
            let Some(sent) = host.get_property(NGINX_HTTP_HOST)? else {
                return Ok(SentAuthority::default());
            };
            let routed = host.get_property(NGINX_HOST)?.ok_or_else(|| {
                HostError::new(
                    "get_property(ngx.host)",
                    "absent: the host NGINX routed on cannot be read",
                )
            })?;
            Ok(SentAuthority {
                sent: Some(String::from_utf8_lossy(&sent).into_owned()),
                routed: Some(String::from_utf8_lossy(&routed).into_owned()),
            })
        }
    }
}

/// Every instance of `name` as text, joined as the core joins them
/// ([`mtls_authz_core::authority::join_sent`]); `None` when there is none.
fn joined(headers: &RequestHeaders, name: &str) -> Option<String> {
    let values: Vec<Cow<'_, str>> = headers
        .all(name)
        .into_iter()
        .map(String::from_utf8_lossy)
        .collect();
    mtls_authz_core::authority::join_sent(values.iter().map(|value| value.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_values_are_joined() {
        let headers = RequestHeaders::new(vec![
            ("Host".to_string(), b"a.example.org".to_vec()),
            ("host".to_string(), b"b.example.org".to_vec()),
        ]);
        assert_eq!(
            joined(&headers, "host").as_deref(),
            Some("a.example.org,b.example.org")
        );
        assert_eq!(joined(&headers, ":authority"), None);
    }
}
