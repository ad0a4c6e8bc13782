//! Mock-host scaffolding shared by the tests of what the root fetches on its tick (CRLs in
//! `revocation.rs`, key sets in `jwks.rs`): a configured root, the one call it started, an
//! answer to it, and what a request came to.

use mtls_authz_filter::host::mock::{HttpCall, MockHost};
use mtls_authz_filter::Root;

/// What [`decide`] returns for a request the filter let through.
pub(crate) const ALLOWED: &str = "allowed";

/// A host whose connection is mTLS with a verified peer certificate (set one with
/// `connection.peer_certificate`).
pub(crate) fn mtls_host() -> MockHost {
    MockHost::new()
        .with_property("connection.mtls", [1u8])
        .with_property("connection.peer_certificate_valid", [1u8])
}

/// Configured, and ticked once: the first fetch starts on the first tick (NGINX refuses HTTP
/// calls from `on_configure`).
pub(crate) fn configured(host: &mut MockHost, policy: &str) -> Root {
    let mut root = Root::new();
    assert!(root.configure(host, Some(policy.as_bytes())));
    assert!(
        host.take_http_calls().is_empty(),
        "no HTTP call from on_configure"
    );
    root.tick(host);
    root
}

/// Runs the request set up on `host` to its end: `allowed`, or the deny reason the filter
/// logged.
pub(crate) fn decide(root: &Root, host: &mut MockHost) -> String {
    let mut context = root.new_request();
    context.on_request_headers(host, true);
    context.end(host);
    if host.local_response().is_none() {
        return String::from(ALLOWED);
    }
    host.logs()
        .iter()
        .find_map(|(_, line)| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("reason="))
                .map(str::to_string)
        })
        .unwrap()
}

/// The one fetch the filter started since the last call.
pub(crate) fn one_call(host: &mut MockHost) -> HttpCall {
    let mut calls = host.take_http_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls.remove(0)
}

/// Answers `call` with `status` and `body`; returns the log lines it caused.
pub(crate) fn answer(
    root: &Root,
    host: &mut MockHost,
    call: &HttpCall,
    status: u16,
    body: &[u8],
) -> Vec<String> {
    host.next_request();
    host.set_http_call_response(Some(status), body);
    root.on_http_call_response(host, call.token, body.len());
    host.logs().iter().map(|(_, line)| line.clone()).collect()
}
