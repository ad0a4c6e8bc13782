//! Which authority each proxy shows the filter, for v1.1 `rules[].hosts` (read only when the
//! policy has them; the core decides what it means: `mtls_authz_core::authority`).
//!
//! - Envoy: `:authority`. Its HTTP/1 codec presents `Host` as `:authority` and, for an
//!   absolute-form target (`GET https://b.example.org/x HTTP/1.1`), replaces it with the
//!   target's authority — the one Envoy routes on — so there is one value and nothing to
//!   compare.
//! - NGINX (ngx_wasm_module 3bed2783, read from its source): `:authority` is NOT the client's:
//!   the module makes it up from the server block's first `server_name` and the local port.
//!   The client's value is the `Host` entry of the header map (HTTP/2's `:authority` becomes a
//!   `host` entry there too). For an absolute-form target NGINX routes on the target's
//!   authority and keeps `Host` as sent, and `$request_uri` holds only the path, so the filter
//!   reads the request line (`ngx.request`) to see the target's authority as well: one
//!   host call more per request, only under a policy with `hosts`.
//!
//! Several values of the header are joined with `,` (RFC 9110 §5.3), which no authority holds:
//! the core refuses them as malformed.

use std::borrow::Cow;

use crate::headers::RequestHeaders;
use crate::host::{Host, HostError};
use crate::target::Proxy;

/// NGINX (`$request`: ngx_wasm_module maps `ngx.<name>` to the variable; there is no
/// `$request_line`): the request line as received (HTTP/2: NGINX's own rendering).
pub const NGINX_REQUEST_LINE: &[&str] = &["ngx", "request"];

/// What the proxy shows of the request's authority, owned (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentAuthority {
    /// `:authority` (Envoy) or `Host` (NGINX), several instances joined with `,`.
    pub sent: Option<String>,
    /// NGINX: the authority of an absolute-form request-target.
    pub absolute_form: Option<String>,
}

impl SentAuthority {
    /// The core's view, borrowing from this.
    pub fn as_request(&self) -> mtls_authz_core::RequestAuthority<'_> {
        mtls_authz_core::RequestAuthority {
            sent: self.sent.as_deref(),
            absolute_form: self.absolute_form.as_deref(),
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
            absolute_form: None,
        }),
        Proxy::Nginx => {
            let line = host.get_property(NGINX_REQUEST_LINE)?.ok_or_else(|| {
                HostError::new(
                    "get_property(ngx.request)",
                    "absent: an absolute-form target's authority cannot be read",
                )
            })?;
            Ok(SentAuthority {
                sent: joined(headers, "host"),
                absolute_form: absolute_form_authority(&String::from_utf8_lossy(&line))
                    .map(str::to_string),
            })
        }
    }
}

/// Every instance of `name` as text, joined with `,`; `None` when there is none.
fn joined(headers: &RequestHeaders, name: &str) -> Option<String> {
    let values: Vec<Cow<'_, str>> = headers
        .all(name)
        .into_iter()
        .map(String::from_utf8_lossy)
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The authority of the request line's target when it is absolute-form (`scheme://authority`
/// then `/`, `?`, `#` or the end), else `None`.
pub fn absolute_form_authority(request_line: &str) -> Option<&str> {
    let target = request_line.split(' ').nth(1)?;
    let (scheme, rest) = target.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.get(..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_form_targets() {
        assert_eq!(
            absolute_form_authority("GET https://b.example.org:8443/x?y HTTP/1.1"),
            Some("b.example.org:8443")
        );
        assert_eq!(
            absolute_form_authority("GET HTTP://b.example.org HTTP/1.1"),
            Some("b.example.org")
        );
        assert_eq!(
            absolute_form_authority("GET https://u@b.example.org/ HTTP/1.1"),
            Some("u@b.example.org")
        );
        assert_eq!(absolute_form_authority("GET /x HTTP/1.1"), None);
        assert_eq!(
            absolute_form_authority("GET /x?u=https://a/ HTTP/1.1"),
            None
        );
        assert_eq!(absolute_form_authority("GET / HTTP/2.0"), None);
        assert_eq!(absolute_form_authority(""), None);
    }

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
