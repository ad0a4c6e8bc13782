//! A proxy-wasm HTTP filter that only returns `Continue`: the benchmark's floor for "a wasm
//! filter is loaded". It has the same shape as mtls-authz (a root context that hands out one
//! HTTP context per request, `on_http_request_headers` called once), and no other work.
//!
//! Diagnostic mode (`bench/run.sh --probe`): a plugin configuration such as
//! `headers,digest,clock,set,set` makes it perform those host calls on every request, in order:
//! the ones mtls-authz makes on an allowed request with a cached identity (`count` prices a
//! counter increment, which mtls-authz batches per second instead). In NGINX the calls are
//! `headers,request_uri,connection,clock,set,set` (`request_uri` and `connection` read
//! `ngx.request_uri` and `ngx.connection`).
//! The driver measures each prefix of that list, which prices every call. Without a
//! configuration (variant (d)) the per-request path is one empty loop.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(EmptyRoot { calls: Rc::new(Vec::new()) })
    });
}}

/// A host call the probe can make.
#[derive(Clone, Copy)]
enum Call {
    /// `proxy_get_header_map_pairs` (all request headers).
    Headers,
    /// `proxy_get_property connection.sha256_peer_certificate_digest`.
    Digest,
    /// `proxy_get_property connection.id` (a cheaper per-connection key, for comparison).
    ConnectionId,
    /// `proxy_get_property ngx.request_uri` (NGINX: the request-target as sent).
    RequestUri,
    /// `proxy_get_property ngx.connection` (NGINX: the connection serial, mtls-authz's key).
    NginxConnection,
    /// `proxy_get_current_time_nanoseconds`.
    Clock,
    /// `proxy_replace_header_map_value` of a fixed header.
    Set,
    /// `proxy_increment_metric` of a counter defined at configure time.
    Count(u32),
}

struct EmptyRoot {
    calls: Rc<Vec<Call>>,
}

impl Context for EmptyRoot {}

impl RootContext for EmptyRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let config = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&config);
        let mut calls = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            calls.push(match name {
                "headers" => Call::Headers,
                "digest" => Call::Digest,
                "connection_id" => Call::ConnectionId,
                "request_uri" => Call::RequestUri,
                "connection" => Call::NginxConnection,
                "clock" => Call::Clock,
                "set" => Call::Set,
                "count" => {
                    let metric = format!("bench_probe.count_{}", calls.len());
                    match hostcalls::define_metric(MetricType::Counter, &metric) {
                        Ok(id) => Call::Count(id),
                        Err(_) => return false,
                    }
                }
                // `{}` and other JSON: variant (d) is configured like mtls-authz, with no calls.
                _ => continue,
            });
        }
        self.calls = Rc::new(calls);
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(EmptyRequest {
            calls: Rc::clone(&self.calls),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct EmptyRequest {
    calls: Rc<Vec<Call>>,
}

impl Context for EmptyRequest {}

impl HttpContext for EmptyRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        for call in self.calls.iter() {
            // Results are ignored: the probe prices the calls, it decides nothing.
            let _ = match *call {
                Call::Headers => hostcalls::get_map_bytes(MapType::HttpRequestHeaders).map(drop),
                Call::Digest => {
                    hostcalls::get_property(vec!["connection", "sha256_peer_certificate_digest"])
                        .map(drop)
                }
                Call::ConnectionId => hostcalls::get_property(vec!["connection", "id"]).map(drop),
                Call::RequestUri => hostcalls::get_property(vec!["ngx", "request_uri"]).map(drop),
                Call::NginxConnection => {
                    hostcalls::get_property(vec!["ngx", "connection"]).map(drop)
                }
                Call::Clock => hostcalls::get_current_time().map(drop),
                Call::Set => hostcalls::set_map_value(
                    MapType::HttpRequestHeaders,
                    "x-bench-probe",
                    Some("value"),
                ),
                Call::Count(id) => hostcalls::increment_metric(id, 1),
            };
        }
        Action::Continue
    }
}
