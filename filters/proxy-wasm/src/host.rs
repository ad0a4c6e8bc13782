//! The host interface the filter needs, as a trait owned by the filter logic.
//!
//! The request path is generic over [`Host`], so native tests drive it with
//! [`mock::MockHost`] and the wasm build with the real proxy-wasm host
//! (`host::proxy_wasm`, compiled for `wasm32` only). Property reads keep "not available"
//! (`Ok(None)`) apart from "the host failed" (`Err`): the first means no certificate, the
//! second must deny.

use core::fmt;

#[cfg(any(test, feature = "mock"))]
pub mod mock;
#[cfg(target_arch = "wasm32")]
pub(crate) mod proxy_wasm;

/// A host call failed. Carries the call and the host's status so logs say what failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    /// Which call (`get_property(connection.peer_certificate)`, `send_local_response`...).
    pub call: String,
    /// The host's status, as the host named it.
    pub status: String,
}

impl HostError {
    /// Builds an error for `call` with the host's `status`.
    pub fn new(call: impl Into<String>, status: impl Into<String>) -> Self {
        Self {
            call: call.into(),
            status: status.into(),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host call {} failed: {}", self.call, self.status)
    }
}

impl std::error::Error for HostError {}

/// Log severity (the proxy-wasm levels the filter uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Per-request detail.
    Debug,
    /// Decisions worth keeping (denies, shadow denies).
    Info,
    /// Something is off but the request was still handled (fail closed).
    Warn,
    /// Configuration refused, host failures.
    Error,
    /// Panics, right before the VM aborts.
    Critical,
}

/// Handle of a counter defined with [`Host::define_counter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CounterId(pub u32);

/// What the filter needs from a proxy-wasm host.
pub trait Host {
    /// Reads a property (`["connection", "peer_certificate"]`). `Ok(None)` when the host
    /// does not have it; `Err` when the host failed to produce it.
    fn get_property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError>;

    /// Every request header instance, in order, as (name, value bytes). Pseudo-headers
    /// (`:method`, `:path`) included.
    fn request_headers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError>;

    /// Removes EVERY instance of request header `name`.
    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError>;

    /// Replaces every instance of request header `name` with one `value`.
    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError>;

    /// [`Host::set_request_header`] with a value that need not be UTF-8 (a `:path` whose query
    /// carries raw bytes ≥ 0x80 must reach the upstream byte for byte).
    fn set_request_header_bytes(&mut self, name: &str, value: &[u8]) -> Result<(), HostError>;

    /// Adds one more instance of request header `name`.
    fn add_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError>;

    /// Every request trailer instance, in order, as (name, value bytes). Empty when the
    /// request has no trailers.
    fn request_trailers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError>;

    /// Removes EVERY instance of request trailer `name`.
    fn remove_request_trailer(&mut self, name: &str) -> Result<(), HostError>;

    /// `len` bytes of the buffered request body from `start` (`Ok(None)`: no body).
    fn request_body(&self, start: usize, len: usize) -> Result<Option<Vec<u8>>, HostError>;

    /// Answers the request locally; the upstream never sees it.
    fn send_local_response(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostError>;

    /// Writes one log line.
    fn log(&mut self, level: LogLevel, message: &str);

    /// Defines (or looks up) a counter by its full stat name.
    fn define_counter(&mut self, name: &str) -> Result<CounterId, HostError>;

    /// Adds `by` to a counter. Failures are ignored: a lost count must never change a decision.
    fn increment_counter(&mut self, id: CounterId, by: u64);

    /// The host's wall clock, in nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> Result<u64, HostError>;

    /// Asks the host to call the root context's tick every `period` (see [`crate::root`]);
    /// returns whether ticks will come. A bool, not a [`HostError`]: nobody logs the refusal,
    /// and building the error costs .wasm bytes for nothing.
    fn set_tick_period(&mut self, period: core::time::Duration) -> bool;

    /// Starts an HTTP call to `upstream` (Envoy: a cluster name) from the root context; the
    /// answer comes to [`crate::root::Root::on_http_call_response`] with the returned token.
    fn dispatch_http_call(
        &mut self,
        upstream: &str,
        headers: &[(&str, &str)],
        timeout: core::time::Duration,
    ) -> Result<u32, HostError>;

    /// The `:status` of the HTTP call response being delivered (`Ok(None)`: none, as when
    /// the call failed without a response).
    fn http_call_response_status(&self) -> Result<Option<u16>, HostError>;

    /// The first `len` bytes of the body of the HTTP call response being delivered.
    fn http_call_response_body(&self, len: usize) -> Result<Option<Vec<u8>>, HostError>;
}
