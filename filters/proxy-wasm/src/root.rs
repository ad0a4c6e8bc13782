//! The plugin's lifecycle, natively: the root context ([`Root`]: configure, tick,
//! reconfigure, teardown) and one [`RequestContext`] per request (headers, body, trailers,
//! end). Generic over [`Host`], so the mock host drives exactly what the proxy drives;
//! `wasm.rs` only forwards the proxy-wasm callbacks here and maps [`Action`] to the SDK's.
//!
//! Counters: with ticks, allow counts are batched in the [`Filter`] (see [`crate::metrics`]).
//! Every batch reaches the host: on each tick, before a reconfiguration replaces the filter,
//! at teardown, and, for a filter a reconfiguration already replaced, when the last request
//! still holding it ends.
//!
//! CRL and JWKS fetches (v1.1 revocation, [`crate::crl`]; `tokens.jwks_fetch`,
//! [`crate::jwks`]) are driven from [`Root::tick`] (the first one at the first tick, never from
//! `on_configure`, where NGINX refuses HTTP calls); their answers land on
//! [`Root::on_http_call_response`].

use std::rc::Rc;
use std::time::Duration;

use crate::filter::{Filter, PendingBody, Verdict};
use crate::host::{Host, LogLevel};
use crate::request;

/// How often batched counters reach the host's stats (see [`crate::metrics`]).
pub const TICK_PERIOD: Duration = Duration::from_secs(1);

/// What the proxy should do with the request stream after a callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Go on (forward what was received).
    Continue,
    /// Hold: a local response was sent, or the body is buffered until it is checked.
    Pause,
}

/// The root context: the configured filter, `None` until a configuration is accepted.
#[derive(Debug, Default)]
pub struct Root {
    filter: Option<Rc<Filter>>,
}

impl Root {
    /// A root with no configuration yet: requests are answered 500 until one is accepted.
    pub fn new() -> Self {
        Self::default()
    }

    /// The filter in force, if configured.
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_deref()
    }

    /// Applies a plugin configuration (`None`: the host gave none). The current filter's
    /// batched counts are flushed first; a refused configuration leaves this root serving
    /// nothing (500 `not_configured`), never the previous policy. Returns whether it was
    /// accepted (`on_configure`'s answer).
    pub fn configure<H: Host>(&mut self, host: &mut H, bytes: Option<&[u8]>) -> bool {
        self.flush(host);
        match Filter::configure(host, bytes) {
            Ok(filter) => {
                // Without ticks every count goes to the host at once, and no CRL is fetched
                // (the first fetch waits for the first tick: ngx_wasm_module traps an HTTP
                // call from `on_configure` and the worker dies).
                if host.set_tick_period(TICK_PERIOD) {
                    filter.ticks_enabled();
                } else {
                    if filter.fetches_crls() {
                        host.log(
                            LogLevel::Warn,
                            "mtls-authz: the host refused a tick period: no CRL will be fetched, so certificates of issuers without a fresh inline CRL are refused",
                        );
                    }
                    if filter.fetches_jwks() {
                        host.log(
                            LogLevel::Warn,
                            "mtls-authz: the host refused a tick period: no JWKS will be fetched, so tokens are verified with the inline keys only (none: refused)",
                        );
                    }
                }
                self.filter = Some(Rc::new(filter));
                true
            }
            Err(_) => {
                // Logged by `Filter::configure`.
                self.filter = None;
                false
            }
        }
    }

    /// The periodic tick: hands batched counts to the host and starts due CRL and JWKS
    /// fetches.
    pub fn tick<H: Host>(&self, host: &mut H) {
        self.flush(host);
        if let Some(filter) = &self.filter {
            filter.poll_fetches(host);
        }
    }

    /// An HTTP call the root started (a CRL or JWKS fetch) answered. The answer to a call of a filter
    /// a reconfiguration replaced is dropped: the new filter fetches on its own.
    pub fn on_http_call_response<H: Host>(&self, host: &mut H, token: u32, body_size: usize) {
        if let Some(filter) = &self.filter {
            filter.on_http_call_response(host, token, body_size);
        }
    }

    /// The VM or plugin goes away (`on_done`): hands over what is still batched.
    pub fn teardown<H: Host>(&self, host: &mut H) {
        self.flush(host);
    }

    /// A context for a new request, holding the filter in force now: a reconfiguration
    /// while the request is in flight does not change the policy it is decided by.
    pub fn new_request(&self) -> RequestContext {
        RequestContext {
            filter: self.filter.clone(),
            pending_body: None,
        }
    }

    fn flush<H: Host>(&self, host: &mut H) {
        if let Some(filter) = &self.filter {
            filter.on_tick(host);
        }
    }
}

/// One request: a handle on the filter it started under, and a request held for its body.
#[derive(Debug)]
pub struct RequestContext {
    filter: Option<Rc<Filter>>,
    pending_body: Option<PendingBody>,
}

impl RequestContext {
    /// The host action for a verdict; a request whose body must be checked keeps its pending
    /// check. Its headers go on (Continue): proxy-wasm hosts turn a paused header stage into
    /// "stop everything", which would never deliver the body; the body itself is held
    /// (Pause = buffer) until it is checked, so a refused body never reaches the upstream.
    #[inline(always)]
    fn act(&mut self, verdict: Verdict) -> Action {
        match verdict {
            Verdict::Continue => Action::Continue,
            Verdict::Respond => Action::Pause,
            Verdict::WaitForBody(pending) => {
                self.pending_body = Some(pending);
                Action::Continue
            }
        }
    }

    /// The request headers arrived (`end_of_stream`: no body follows).
    pub fn on_request_headers<H: Host>(&mut self, host: &mut H, end_of_stream: bool) -> Action {
        let verdict = match &self.filter {
            Some(filter) => match filter.on_request_headers(host) {
                // No body follows: check the empty one now.
                Verdict::WaitForBody(pending) if end_of_stream => {
                    filter.on_request_body(host, pending, 0, true)
                }
                verdict => verdict,
            },
            None => request::not_configured(host),
        };
        self.act(verdict)
    }

    /// A piece of the request body arrived; `body_size` is what is buffered so far.
    pub fn on_request_body<H: Host>(
        &mut self,
        host: &mut H,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        let (Some(filter), Some(pending)) = (self.filter.clone(), self.pending_body.take()) else {
            return Action::Continue;
        };
        match filter.on_request_body(host, pending, body_size, end_of_stream) {
            // Buffer: the body is not handed on until it is checked.
            Verdict::WaitForBody(pending) => {
                self.pending_body = Some(pending);
                Action::Pause
            }
            verdict => self.act(verdict),
        }
    }

    /// The request trailers arrived: they end the body.
    pub fn on_request_trailers<H: Host>(&mut self, host: &mut H) -> Action {
        let verdict = match (&self.filter, self.pending_body.take()) {
            // Trailers end the body: a held request's body is complete now.
            (Some(filter), Some(pending)) => {
                let size = host
                    .request_body(0, usize::MAX)
                    .ok()
                    .flatten()
                    .map_or(0, |b| b.len());
                match filter.on_request_body(host, pending, size, true) {
                    Verdict::Continue => filter.on_request_trailers(host),
                    verdict => verdict,
                }
            }
            (Some(filter), None) => filter.on_request_trailers(host),
            // The headers were answered with 500 already.
            (None, _) => Verdict::Respond,
        };
        self.act(verdict)
    }

    /// The request is over (the context is dropped). A request still in flight when a
    /// reconfiguration replaced its filter is that filter's last holder: it hands over the
    /// counts the filter batched since the root's last flush.
    pub fn end<H: Host>(&mut self, host: &mut H) {
        if let Some(filter) = self.filter.take() {
            if Rc::strong_count(&filter) == 1 {
                filter.on_tick(host);
            }
        }
    }
}
