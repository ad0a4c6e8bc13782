//! The wasm glue: entry point, root context (owns the configured [`Filter`]) and one small
//! HTTP context per request. Everything here is a thin adapter over [`crate::request`].

use std::rc::Rc;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel};

use crate::filter::Filter;
use crate::host::proxy_wasm::ProxyWasmHost;
use crate::host::Host as _;
use crate::request::{self, Verdict};

proxy_wasm::main! {{
    // Installs the SDK logger; then our hook replaces the SDK's panic hook. With
    // `panic = "abort"` a panic kills the VM and the host fails the request (fail closed);
    // the hook makes sure the reason reaches the proxy's log first.
    proxy_wasm::set_log_level(LogLevel::Info);
    std::panic::set_hook(Box::new(|info| {
        let _ = hostcalls::log(
            LogLevel::Critical,
            &format!("mtls-authz: panic, the VM aborts and requests fail closed: {info}"),
        );
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(MtlsAuthzRoot { filter: None })
    });
}}

/// How often batched counters reach the host's stats (see `crate::metrics`).
const TICK_PERIOD: Duration = Duration::from_secs(1);

/// Owns the configured filter; `None` until a configuration is accepted.
struct MtlsAuthzRoot {
    filter: Option<Rc<Filter>>,
}

impl MtlsAuthzRoot {
    /// Hands the current filter's batched counts to the host before it goes away.
    fn flush(&self) {
        if let Some(filter) = &self.filter {
            filter.on_tick(&mut ProxyWasmHost);
        }
    }
}

impl Context for MtlsAuthzRoot {
    fn on_done(&mut self) -> bool {
        self.flush();
        true
    }
}

impl RootContext for MtlsAuthzRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let mut host = ProxyWasmHost;
        // Not the SDK's `get_plugin_configuration` (it unwraps); a read failure is "missing".
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten();
        self.flush();
        match Filter::configure(&mut host, bytes.as_deref()) {
            Ok(filter) => {
                // Without ticks every count goes to the host at once.
                if hostcalls::set_tick_period(TICK_PERIOD).is_ok() {
                    filter.ticks_enabled();
                }
                self.filter = Some(Rc::new(filter));
                true
            }
            Err(_) => {
                // Logged by `configure`. Drop any previous filter: this root serves nothing.
                self.filter = None;
                false
            }
        }
    }

    fn on_tick(&mut self) {
        self.flush();
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(MtlsAuthzRequest {
            filter: self.filter.clone(),
            pending_body: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Per-request context: a handle on the shared filter, and a request held for its body.
struct MtlsAuthzRequest {
    filter: Option<Rc<Filter>>,
    pending_body: Option<request::PendingBody>,
}

impl MtlsAuthzRequest {
    /// The host action for a verdict; a request whose body must be checked keeps its pending
    /// check. Its headers go on (Continue): proxy-wasm hosts turn a paused header stage into
    /// "stop everything", which would never deliver the body; the body itself is held
    /// (Pause = buffer) until it is checked, so a refused body never reaches the upstream.
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
}

impl Context for MtlsAuthzRequest {}

impl HttpContext for MtlsAuthzRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let mut host = ProxyWasmHost;
        let verdict = match &self.filter {
            Some(filter) => match filter.on_request_headers(&mut host) {
                // No body follows: check the empty one now.
                Verdict::WaitForBody(pending) if end_of_stream => {
                    filter.on_request_body(&mut host, pending, 0, true)
                }
                verdict => verdict,
            },
            None => request::not_configured(&mut host),
        };
        self.act(verdict)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let (Some(filter), Some(pending)) = (self.filter.clone(), self.pending_body.take()) else {
            return Action::Continue;
        };
        match filter.on_request_body(&mut ProxyWasmHost, pending, body_size, end_of_stream) {
            // Buffer: the body is not handed on until it is checked.
            Verdict::WaitForBody(pending) => {
                self.pending_body = Some(pending);
                Action::Pause
            }
            verdict => self.act(verdict),
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        let mut host = ProxyWasmHost;
        let verdict = match (&self.filter, self.pending_body.take()) {
            // Trailers end the body: a held request's body is complete now.
            (Some(filter), Some(pending)) => {
                let size = host
                    .request_body(0, usize::MAX)
                    .ok()
                    .flatten()
                    .map_or(0, |b| b.len());
                match filter.on_request_body(&mut host, pending, size, true) {
                    Verdict::Continue => filter.on_request_trailers(&mut host),
                    verdict => verdict,
                }
            }
            (Some(filter), None) => filter.on_request_trailers(&mut host),
            // The headers were answered with 500 already.
            (None, _) => Verdict::Respond,
        };
        self.act(verdict)
    }
}

impl Drop for MtlsAuthzRequest {
    /// A request still in flight when a reconfiguration replaced its filter is that filter's
    /// last holder: it hands over the counts the filter batched since the root's last flush.
    fn drop(&mut self) {
        if let Some(filter) = self.filter.take() {
            if Rc::strong_count(&filter) == 1 {
                filter.on_tick(&mut ProxyWasmHost);
            }
        }
    }
}
