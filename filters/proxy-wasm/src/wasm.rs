//! The wasm glue: entry point and the proxy-wasm contexts. Each callback only forwards to
//! [`crate::root`] (the native, host-generic lifecycle) with the real host.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel};

use crate::host::proxy_wasm::ProxyWasmHost;
use crate::root::{self, RequestContext, Root};

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
        Box::new(MtlsAuthzRoot(Root::new()))
    });
}}

struct MtlsAuthzRoot(Root);

impl Context for MtlsAuthzRoot {
    fn on_done(&mut self) -> bool {
        self.0.teardown(&mut ProxyWasmHost);
        true
    }

    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        self.0
            .on_http_call_response(&mut ProxyWasmHost, token_id, body_size);
    }
}

impl RootContext for MtlsAuthzRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        // Not the SDK's `get_plugin_configuration` (it unwraps); a read failure is "missing".
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten();
        self.0.configure(&mut ProxyWasmHost, bytes.as_deref())
    }

    fn on_tick(&mut self) {
        self.0.tick(&mut ProxyWasmHost);
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(MtlsAuthzRequest(self.0.new_request())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct MtlsAuthzRequest(RequestContext);

fn action(action: root::Action) -> Action {
    match action {
        root::Action::Continue => Action::Continue,
        root::Action::Pause => Action::Pause,
    }
}

impl Context for MtlsAuthzRequest {}

impl HttpContext for MtlsAuthzRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_headers(&mut ProxyWasmHost, end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(
            self.0
                .on_request_body(&mut ProxyWasmHost, body_size, end_of_stream),
        )
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.0.on_request_trailers(&mut ProxyWasmHost))
    }
}

impl Drop for MtlsAuthzRequest {
    fn drop(&mut self) {
        self.0.end(&mut ProxyWasmHost);
    }
}
