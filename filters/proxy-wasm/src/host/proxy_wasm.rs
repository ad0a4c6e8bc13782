//! The real [`Host`]: proxy-wasm hostcalls, called directly.
//!
//! Never the SDK's `Context::get_property` (it `unwrap()`s the host status and would turn a
//! host error into a panic): every status is mapped to a [`HostError`] so the request path
//! can deny. Some SDK hostcalls still panic on statuses the ABI says cannot happen; with
//! `panic = "abort"` that kills the VM and the host fails the request, which is fail closed.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType, MetricType, Status};

use super::{CounterId, Host, HostError, LogLevel};

/// The host of the running proxy (Envoy, ngx_wasm_module...). Stateless: every call goes to
/// the host for the current context.
pub(crate) struct ProxyWasmHost;

fn status_name(status: Status) -> String {
    format!("{status:?}")
}

impl Host for ProxyWasmHost {
    fn get_property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        hostcalls::get_property(path.to_vec()).map_err(|status| {
            HostError::new(
                format!("get_property({})", path.join(".")),
                status_name(status),
            )
        })
    }

    fn request_headers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError> {
        hostcalls::get_map_bytes(MapType::HttpRequestHeaders)
            .map_err(|status| HostError::new("get_request_headers", status_name(status)))
    }

    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError> {
        hostcalls::remove_map_value(MapType::HttpRequestHeaders, name).map_err(|status| {
            HostError::new(
                format!("remove_request_header({name})"),
                status_name(status),
            )
        })
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value)).map_err(|status| {
            HostError::new(format!("set_request_header({name})"), status_name(status))
        })
    }

    fn set_request_header_bytes(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, Some(value)).map_err(
            |status| HostError::new(format!("set_request_header({name})"), status_name(status)),
        )
    }

    fn add_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        hostcalls::add_map_value(MapType::HttpRequestHeaders, name, value).map_err(|status| {
            HostError::new(format!("add_request_header({name})"), status_name(status))
        })
    }

    fn request_trailers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError> {
        hostcalls::get_map_bytes(MapType::HttpRequestTrailers)
            .map_err(|status| HostError::new("get_request_trailers", status_name(status)))
    }

    fn remove_request_trailer(&mut self, name: &str) -> Result<(), HostError> {
        hostcalls::remove_map_value(MapType::HttpRequestTrailers, name).map_err(|status| {
            HostError::new(
                format!("remove_request_trailer({name})"),
                status_name(status),
            )
        })
    }

    fn request_body(&self, start: usize, len: usize) -> Result<Option<Vec<u8>>, HostError> {
        hostcalls::get_buffer(BufferType::HttpRequestBody, start, len)
            .map_err(|status| HostError::new("get_request_body", status_name(status)))
    }

    fn send_local_response(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostError> {
        hostcalls::send_http_response(u32::from(status), headers.to_vec(), Some(body))
            .map_err(|s| HostError::new("send_local_response", status_name(s)))
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Debug => proxy_wasm::types::LogLevel::Debug,
            LogLevel::Info => proxy_wasm::types::LogLevel::Info,
            LogLevel::Warn => proxy_wasm::types::LogLevel::Warn,
            LogLevel::Error => proxy_wasm::types::LogLevel::Error,
            LogLevel::Critical => proxy_wasm::types::LogLevel::Critical,
        };
        // Nothing useful can be done when logging itself fails.
        let _ = hostcalls::log(level, message);
    }

    fn define_counter(&mut self, name: &str) -> Result<CounterId, HostError> {
        hostcalls::define_metric(MetricType::Counter, name)
            .map(CounterId)
            .map_err(|status| HostError::new(format!("define_metric({name})"), status_name(status)))
    }

    fn increment_counter(&mut self, id: CounterId, by: u64) {
        // A lost count must never change a decision. Deltas above i64::MAX cannot happen
        // (they are counts of requests); saturate rather than wrap if one ever did.
        let _ = hostcalls::increment_metric(id.0, i64::try_from(by).unwrap_or(i64::MAX));
    }

    fn now_nanos(&self) -> Result<u64, HostError> {
        let now = hostcalls::get_current_time()
            .map_err(|status| HostError::new("get_current_time", status_name(status)))?;
        let since_epoch = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| HostError::new("get_current_time", "before the Unix epoch"))?;
        u64::try_from(since_epoch.as_nanos())
            .map_err(|_| HostError::new("get_current_time", "out of range"))
    }

    fn set_tick_period(&mut self, period: core::time::Duration) -> bool {
        hostcalls::set_tick_period(period).is_ok()
    }

    fn dispatch_http_call(
        &mut self,
        upstream: &str,
        headers: &[(&str, &str)],
        timeout: core::time::Duration,
    ) -> Result<u32, HostError> {
        hostcalls::dispatch_http_call(upstream, headers.to_vec(), None, Vec::new(), timeout)
            .map_err(|status| HostError::new("dispatch_http_call", status_name(status)))
    }

    fn http_call_response_status(&self) -> Result<Option<u16>, HostError> {
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
            .map_err(|status| {
                HostError::new("get_http_call_response_headers", status_name(status))
            })?;
        Ok(status.and_then(|s| s.trim().parse().ok()))
    }

    fn http_call_response_body(&self, len: usize) -> Result<Option<Vec<u8>>, HostError> {
        hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, len)
            .map_err(|status| HostError::new("get_http_call_response_body", status_name(status)))
    }
}
