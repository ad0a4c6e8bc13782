//! An in-memory [`Host`] for native tests: build it with `with_*` methods, run the filter,
//! then inspect what the filter did (local response, headers the upstream would see, logs,
//! counters). It records outcomes, not call sequences, so tests do not break when the filter
//! reorders host calls.
//!
//! Its request-header map follows one of two real hosts ([`HeaderModel`]), so a filter that
//! passes here cannot rely on a header behaviour its proxy does not have:
//! - Envoy (default, [`MockHost::new`]): a removed header is gone, a replaced one has exactly
//!   one instance.
//! - NGINX + ngx_wasm_module ([`MockHost::nginx`]), as its source (3bed2783) does it and
//!   `ngx_http_proxy_module` forwards it: a removal only hides entries from the filter's view
//!   (NGINX zeroes their hash) while the upstream still receives them; a replace updates the
//!   first visible entry in place, but with two or more it hides them all (the stale values
//!   still go upstream); the filter sees at most 100 entries. Writing `:path` fails when the
//!   value has a query (ngx_wasm_module traps) and otherwise never reaches the upstream, which
//!   receives the request-target as sent. Request trailers never exist (NGINX discards them).
//!   `ngx.<name>` answers only for variables NGINX 1.27.4 has ([`NGINX_VARIABLES`]; any other
//!   name is a host error here, so a made-up property fails in the mock as it would on the real
//!   proxy), and `$host`/`$http_host` are built from the request as NGINX builds them
//!   ([`MockHost::with_absolute_form_host`]).

use std::collections::HashMap;

use super::{CounterId, Host, HostError, LogLevel};

/// Which proxy's request-header semantics the mock follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeaderModel {
    /// Envoy: removal removes, replacement replaces.
    #[default]
    Envoy,
    /// NGINX with ngx_wasm_module 3bed2783 and `proxy_pass` (see the module docs).
    Nginx,
}

/// ngx_wasm_module's `NGX_HTTP_WASM_MAX_REQ_HEADERS`: the filter sees at most this many
/// request-header entries, pseudo-headers included.
pub const NGINX_MAX_VISIBLE_HEADERS: usize = 100;

/// The NGINX variables (`ngx.<name>`) the NGINX mock answers: the ones the filter and its
/// tests read, every one a real NGINX 1.27.4 variable (`ngx_http_variables.c`,
/// `ngx_http_ssl_module.c`). Real NGINX answers an unknown name as absent; the mock fails
/// instead, so that a misspelt variable cannot pass here.
pub const NGINX_VARIABLES: &[&str] = &[
    "connection",
    "host",
    "http_host",
    "request",
    "request_uri",
    "server_name",
    "ssl_client_raw_cert",
    "ssl_client_verify",
];

/// One request-header entry as the host holds it.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    value: Vec<u8>,
    /// NGINX only: false once ngx_wasm_module "removed" it (hash 0). Hidden from the filter
    /// and from `$http_*`, still sent upstream by `proxy_pass`.
    visible: bool,
}

/// A local response the filter sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, as sent.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl LocalResponse {
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first value of response header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A property value, or a scripted host failure.
#[derive(Clone, Debug)]
enum Property {
    Value(Vec<u8>),
    Fails(String),
}

/// In-memory host. Property paths are written joined with `.` (`connection.mtls`).
#[derive(Clone, Debug, Default)]
pub struct MockHost {
    properties: HashMap<String, Property>,
    model: HeaderModel,
    headers: Vec<Entry>,
    trailers: Vec<(String, Vec<u8>)>,
    trailers_fail: bool,
    body: Option<Vec<u8>>,
    headers_fail: bool,
    header_writes_fail: bool,
    now_nanos: Option<u64>,
    local_response: Option<LocalResponse>,
    logs: Vec<(LogLevel, String)>,
    counters: Vec<(String, u64)>,
    property_reads: std::cell::RefCell<Vec<String>>,
    /// What the filter asked for with `set_tick_period` (`None`: never asked).
    tick_period: Option<core::time::Duration>,
    /// `set_tick_period` fails (a host without timers).
    ticks_refused: bool,
    /// NGINX: the host of an absolute-form request-target, which `$host` prefers to `Host`.
    absolute_form_host: Option<String>,
    /// HTTP calls dispatched, not yet taken by [`MockHost::take_http_calls`].
    http_calls: Vec<HttpCall>,
    /// Tokens handed out so far.
    http_call_tokens: u32,
    /// `dispatch_http_call` fails.
    http_calls_fail: bool,
    /// The response being delivered: (`:status`, body).
    http_response: Option<(Option<u16>, Vec<u8>)>,
    /// How many times the response body was read.
    http_body_reads: std::cell::Cell<usize>,
}

/// One `dispatch_http_call`, as the filter made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// The token the host answered with.
    pub token: u32,
    /// The upstream (cluster).
    pub upstream: String,
    /// The request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The timeout.
    pub timeout: core::time::Duration,
}

impl MockHost {
    /// An empty host: no properties, no headers, clock at 2026-11-23T00:00:00Z.
    pub fn new() -> Self {
        Self {
            now_nanos: Some(1_795_392_000 * 1_000_000_000),
            ..Self::default()
        }
    }

    /// The HTTP calls dispatched since the last take.
    pub fn take_http_calls(&mut self) -> Vec<HttpCall> {
        core::mem::take(&mut self.http_calls)
    }

    /// Makes `dispatch_http_call` fail (or work again).
    pub fn set_http_calls_fail(&mut self, fail: bool) {
        self.http_calls_fail = fail;
    }

    /// The response the next `on_http_call_response` delivers (`status: None`: no `:status`).
    pub fn set_http_call_response(&mut self, status: Option<u16>, body: impl AsRef<[u8]>) {
        self.http_response = Some((status, body.as_ref().to_vec()));
    }

    /// How many times an HTTP call response body was read.
    pub fn http_body_reads(&self) -> usize {
        self.http_body_reads.get()
    }

    /// An empty host with NGINX's request-header semantics ([`HeaderModel::Nginx`]).
    pub fn nginx() -> Self {
        Self {
            model: HeaderModel::Nginx,
            ..Self::new()
        }
    }

    /// The header semantics this host follows.
    pub fn model(&self) -> HeaderModel {
        self.model
    }

    /// Sets property `path` (dotted, e.g. `connection.peer_certificate`) to `value`.
    pub fn with_property(mut self, path: &str, value: impl AsRef<[u8]>) -> Self {
        self.properties
            .insert(path.to_string(), Property::Value(value.as_ref().to_vec()));
        self
    }

    /// Makes reading property `path` fail with host status `status`.
    pub fn with_property_error(mut self, path: &str, status: &str) -> Self {
        self.properties
            .insert(path.to_string(), Property::Fails(status.to_string()));
        self
    }

    /// Appends one request header instance.
    pub fn with_header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.push_header(name, value);
        self
    }

    /// Appends one request trailer instance. NGINX discards it: its HTTP/1.1 chunked parser
    /// drops request trailers before any filter, ngx_wasm_module never calls
    /// `on_http_request_trailers`, and over HTTP/2 a trailer HEADERS frame is a connection
    /// error (tests/e2e/tests/nginx.rs shows all three).
    pub fn with_trailer(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        if self.model == HeaderModel::Envoy {
            self.trailers
                .push((name.to_string(), value.as_ref().to_vec()));
        }
        self
    }

    /// Sets the (buffered) request body.
    pub fn with_body(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = Some(body.as_ref().to_vec());
        self
    }

    /// Makes reading the request trailers fail.
    pub fn with_trailer_read_failure(mut self) -> Self {
        self.trailers_fail = true;
        self
    }

    /// Every value of request trailer `name` as the upstream would see it (case-insensitive).
    pub fn trailer_values(&self, name: &str) -> Vec<String> {
        self.trailers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// Every request trailer instance, in order.
    pub fn trailers(&self) -> &[(String, Vec<u8>)] {
        &self.trailers
    }

    /// NGINX: the request line's target was absolute-form with this host (as NGINX's parser
    /// cut it: after `scheme://`, up to `:`, `/`, `?` or a space), so `$host` is it.
    pub fn with_absolute_form_host(mut self, host: &str) -> Self {
        self.absolute_form_host = Some(host.to_string());
        self
    }

    /// NGINX's `$host`/`$http_host` from the request, as `ngx_http_variable_host` and
    /// `ngx_http_validate_host` build them: the absolute-form target's host, else the first
    /// `Host` entry, lower-cased, without port and trailing dots; without either, the server
    /// name (`ngx.server_name`). `$http_host` is the `Host` header as sent, absent without one.
    fn nginx_derived(&self, name: &str) -> Option<Vec<u8>> {
        let host_header = self
            .headers
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case("host"))
            .map(|e| e.value.clone());
        match name {
            "http_host" => host_header,
            "host" => {
                let sent = self
                    .absolute_form_host
                    .clone()
                    .map(String::into_bytes)
                    .or(host_header);
                let Some(sent) = sent else {
                    return match self.properties.get("ngx.server_name") {
                        Some(Property::Value(v)) => Some(v.clone()),
                        _ => Some(b"localhost".to_vec()),
                    };
                };
                let text = String::from_utf8_lossy(&sent).to_ascii_lowercase();
                // The port: after the last `:` outside an IPv6 literal's brackets.
                let without_port = match text.rfind(':') {
                    Some(colon) if !text[colon..].contains(']') => &text[..colon],
                    _ => text.as_str(),
                };
                Some(without_port.trim_end_matches('.').as_bytes().to_vec())
            }
            _ => None,
        }
    }

    /// Adds `:method` and `:path`.
    pub fn with_request(self, method: &str, path: &str) -> Self {
        self.with_header(":method", method)
            .with_header(":path", path)
    }

    /// Sets the host clock (seconds since the epoch).
    pub fn with_time(mut self, secs: u64) -> Self {
        self.now_nanos = Some(secs.saturating_mul(1_000_000_000));
        self
    }

    /// Makes the host clock fail.
    pub fn with_clock_failure(mut self) -> Self {
        self.now_nanos = None;
        self
    }

    /// Makes reading the request headers fail.
    pub fn with_header_read_failure(mut self) -> Self {
        self.headers_fail = true;
        self
    }

    /// Makes every request-header write (remove/set/add) fail.
    pub fn with_header_write_failure(mut self) -> Self {
        self.header_writes_fail = true;
        self
    }

    /// `set_tick_period` fails, as on a host without timers.
    pub fn with_ticks_refused(mut self) -> Self {
        self.ticks_refused = true;
        self
    }

    /// The tick period the filter asked for, if it asked.
    pub fn tick_period(&self) -> Option<core::time::Duration> {
        self.tick_period
    }

    /// Starts a new request on the same host (keeps properties, counters and the clock;
    /// clears headers, the local response and logs) — for cache tests.
    pub fn next_request(&mut self) {
        self.headers.clear();
        self.trailers.clear();
        self.body = None;
        self.local_response = None;
        self.logs.clear();
        self.property_reads.borrow_mut().clear();
    }

    /// [`MockHost::next_request`] for a request `method path` (no other headers yet).
    pub fn next_request_to(&mut self, method: &str, path: &str) {
        self.next_request();
        self.push_header(":method", method);
        self.push_header(":path", path);
    }

    /// Replaces (or adds) a property between requests.
    pub fn set_property(&mut self, path: &str, value: impl AsRef<[u8]>) {
        self.properties
            .insert(path.to_string(), Property::Value(value.as_ref().to_vec()));
    }

    /// Moves the host clock between requests (seconds since the epoch).
    pub fn set_time(&mut self, secs: u64) {
        self.now_nanos = Some(secs.saturating_mul(1_000_000_000));
    }

    /// Removes a property between requests.
    pub fn clear_property(&mut self, path: &str) {
        self.properties.remove(path);
    }

    /// Appends a request header between requests.
    pub fn push_header(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.headers.push(Entry {
            name: name.to_string(),
            value: value.as_ref().to_vec(),
            visible: true,
        });
    }

    /// The local response, if the filter sent one.
    pub fn local_response(&self) -> Option<&LocalResponse> {
        self.local_response.as_ref()
    }

    /// Every value of request header `name` as the upstream would see it (case-insensitive),
    /// including, on NGINX, entries the filter "removed".
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(name))
            .map(|e| String::from_utf8_lossy(&e.value).into_owned())
            .collect()
    }

    /// Every value of request header `name`, as bytes (case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(name))
            .map(|e| e.value.as_slice())
            .collect()
    }

    /// The single value of request header `name`; `None` when absent. Panics when the header
    /// has several instances (a test asking for one value must not see two).
    pub fn header(&self, name: &str) -> Option<String> {
        let values = self.header_values(name);
        assert!(
            values.len() <= 1,
            "header {name} has {} instances: {values:?}",
            values.len()
        );
        values.into_iter().next()
    }

    /// Every request header instance the upstream would receive, in order.
    pub fn headers(&self) -> Vec<(String, Vec<u8>)> {
        self.headers
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect()
    }

    /// Log lines written so far.
    pub fn logs(&self) -> &[(LogLevel, String)] {
        &self.logs
    }

    /// The value of counter `name` (0 when never incremented; `None` when never defined).
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// Names of every defined counter, in definition order.
    pub fn counter_names(&self) -> Vec<&str> {
        self.counters.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// How many property reads the current request made.
    pub fn property_reads(&self) -> usize {
        self.property_reads.borrow().len()
    }

    /// The properties the current request read, in order (dotted paths).
    pub fn properties_read(&self) -> Vec<String> {
        self.property_reads.borrow().clone()
    }

    /// Envoy: the first instance takes the value, every other instance goes.
    fn envoy_replace(&mut self, name: &str, value: &[u8]) {
        match self
            .headers
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(name))
        {
            Some(first) => {
                if let Some(slot) = self.headers.get_mut(first) {
                    slot.value = value.to_vec();
                }
                let mut index = 0;
                self.headers.retain(|e| {
                    let keep = index <= first || !e.name.eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
            }
            None => self.push_header(name, value),
        }
    }

    /// ngx_wasm_module's `ngx_http_wasm_set_header_helper` in SET mode, step for step: the
    /// first visible match is updated in place; each further visible match is hidden and the
    /// search starts over, which then hides the updated first one too. No visible match:
    /// a new entry is appended.
    fn nginx_replace(&mut self, name: &str, value: &[u8]) {
        let mut found = false;
        'again: loop {
            for entry in &mut self.headers {
                if !entry.visible || !entry.name.eq_ignore_ascii_case(name) {
                    continue;
                }
                if found {
                    entry.visible = false;
                    continue 'again;
                }
                entry.name = name.to_string();
                entry.value = value.to_vec();
                found = true;
            }
            break;
        }
        if !found {
            self.push_header(name, value);
        }
    }

    fn check_writable(&self, call: &str) -> Result<(), HostError> {
        if self.header_writes_fail {
            Err(HostError::new(call, "InternalFailure"))
        } else {
            Ok(())
        }
    }
}

impl Host for MockHost {
    fn get_property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
        let key = path.join(".");
        self.property_reads.borrow_mut().push(key.clone());
        if self.model == HeaderModel::Nginx {
            if let Some(["ngx", name]) = path.get(..) {
                if !NGINX_VARIABLES.contains(name) {
                    return Err(HostError::new(
                        format!("get_property({key})"),
                        "NGINX has no such variable (mock)",
                    ));
                }
                if !self.properties.contains_key(&key) {
                    return Ok(self.nginx_derived(name));
                }
            }
        }
        match self.properties.get(&key) {
            None => Ok(None),
            Some(Property::Value(v)) => Ok(Some(v.clone())),
            Some(Property::Fails(status)) => {
                Err(HostError::new(format!("get_property({key})"), status))
            }
        }
    }

    fn request_headers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError> {
        if self.headers_fail {
            return Err(HostError::new("get_request_headers", "InternalFailure"));
        }
        let visible = self
            .headers
            .iter()
            .filter(|e| e.visible)
            .map(|e| (e.name.clone(), e.value.clone()));
        Ok(match self.model {
            HeaderModel::Envoy => visible.collect(),
            HeaderModel::Nginx => visible.take(NGINX_MAX_VISIBLE_HEADERS).collect(),
        })
    }

    fn request_trailers(&self) -> Result<Vec<(String, Vec<u8>)>, HostError> {
        if self.trailers_fail {
            return Err(HostError::new("get_request_trailers", "InternalFailure"));
        }
        Ok(self.trailers.clone())
    }

    fn request_body(&self, start: usize, len: usize) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self
            .body
            .as_ref()
            .map(|body| body.iter().skip(start).take(len).copied().collect()))
    }

    fn remove_request_trailer(&mut self, name: &str) -> Result<(), HostError> {
        self.check_writable("remove_request_trailer")?;
        self.trailers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        Ok(())
    }

    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError> {
        self.check_writable("remove_request_header")?;
        match self.model {
            HeaderModel::Envoy => self.headers.retain(|e| !e.name.eq_ignore_ascii_case(name)),
            HeaderModel::Nginx => {
                for entry in &mut self.headers {
                    if entry.name.eq_ignore_ascii_case(name) {
                        entry.visible = false;
                    }
                }
            }
        }
        Ok(())
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        self.set_request_header_bytes(name, value.as_bytes())
    }

    fn set_request_header_bytes(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        self.check_writable("set_request_header")?;
        if self.model == HeaderModel::Nginx && name == ":path" {
            // ngx_wasm_module sets `$uri`, which `proxy_pass` without a URI part ignores; a
            // value with a query makes it trap.
            return if value.contains(&b'?') {
                Err(HostError::new("set_request_header(:path)", "trap"))
            } else {
                Ok(())
            };
        }
        match self.model {
            HeaderModel::Envoy => self.envoy_replace(name, value),
            HeaderModel::Nginx => self.nginx_replace(name, value),
        }
        Ok(())
    }

    fn add_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        self.check_writable("add_request_header")?;
        self.push_header(name, value);
        Ok(())
    }

    fn send_local_response(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostError> {
        assert!(
            self.local_response.is_none(),
            "the filter sent two local responses"
        );
        self.local_response = Some(LocalResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        });
        Ok(())
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_string()));
    }

    fn define_counter(&mut self, name: &str) -> Result<CounterId, HostError> {
        if let Some(index) = self.counters.iter().position(|(n, _)| n == name) {
            return Ok(CounterId(u32::try_from(index).unwrap_or(u32::MAX)));
        }
        self.counters.push((name.to_string(), 0));
        Ok(CounterId(
            u32::try_from(self.counters.len() - 1).unwrap_or(u32::MAX),
        ))
    }

    fn set_tick_period(&mut self, period: core::time::Duration) -> bool {
        if self.ticks_refused {
            return false;
        }
        self.tick_period = Some(period);
        true
    }

    fn dispatch_http_call(
        &mut self,
        upstream: &str,
        headers: &[(&str, &str)],
        timeout: core::time::Duration,
    ) -> Result<u32, HostError> {
        if self.http_calls_fail {
            return Err(HostError::new("dispatch_http_call", "BadArgument"));
        }
        self.http_call_tokens += 1;
        self.http_calls.push(HttpCall {
            token: self.http_call_tokens,
            upstream: upstream.to_string(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            timeout,
        });
        Ok(self.http_call_tokens)
    }

    fn http_call_response_status(&self) -> Result<Option<u16>, HostError> {
        Ok(self.http_response.as_ref().and_then(|(status, _)| *status))
    }

    fn http_call_response_body(&self, len: usize) -> Result<Option<Vec<u8>>, HostError> {
        self.http_body_reads.set(self.http_body_reads.get() + 1);
        Ok(self
            .http_response
            .as_ref()
            .map(|(_, body)| body.iter().take(len).copied().collect()))
    }

    fn increment_counter(&mut self, id: CounterId, by: u64) {
        if let Some((_, value)) = usize::try_from(id.0)
            .ok()
            .and_then(|i| self.counters.get_mut(i))
        {
            *value += by;
        }
    }

    fn now_nanos(&self) -> Result<u64, HostError> {
        self.now_nanos
            .ok_or_else(|| HostError::new("get_current_time", "InternalFailure"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_headers(mut host: MockHost, headers: &[(&str, &str)]) -> MockHost {
        for (name, value) in headers {
            host.push_header(name, value);
        }
        host
    }

    fn visible(host: &MockHost, name: &str) -> Vec<String> {
        host.request_headers()
            .unwrap()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8(v).unwrap())
            .collect()
    }

    /// The bypass the real NGINX showed: remove, then set, leaves the spoofed copy upstream.
    #[test]
    fn nginx_removal_hides_a_header_from_the_filter_but_not_from_the_upstream() {
        let mut host = with_headers(MockHost::nginx(), &[("x-client-role", "admin")]);
        host.remove_request_header("X-Client-Role").unwrap();
        assert!(visible(&host, "x-client-role").is_empty());
        assert_eq!(host.header_values("x-client-role"), ["admin"]);
        host.set_request_header("x-client-role", "clinician")
            .unwrap();
        assert_eq!(visible(&host, "x-client-role"), ["clinician"]);
        assert_eq!(host.header_values("x-client-role"), ["admin", "clinician"]);
    }

    #[test]
    fn nginx_replace_updates_a_single_entry_in_place() {
        let mut host = with_headers(
            MockHost::nginx(),
            &[("X-Client-Role", "admin"), ("accept", "*/*")],
        );
        host.set_request_header("x-client-role", "clinician")
            .unwrap();
        assert_eq!(visible(&host, "x-client-role"), ["clinician"]);
        assert_eq!(
            host.headers()[0],
            ("x-client-role".to_string(), b"clinician".to_vec())
        );
    }

    /// ngx_http_wasm_set_header_helper: the second match is hidden and the search starts over,
    /// which hides the updated first one too; the stale second value still goes upstream.
    #[test]
    fn nginx_replace_of_two_entries_hides_both() {
        let mut host = with_headers(
            MockHost::nginx(),
            &[("x-client-role", "admin"), ("x-client-role", "root")],
        );
        host.set_request_header("x-client-role", "clinician")
            .unwrap();
        assert!(visible(&host, "x-client-role").is_empty());
        assert_eq!(host.header_values("x-client-role"), ["clinician", "root"]);
        host.set_request_header("x-client-role", "clinician")
            .unwrap();
        assert_eq!(
            host.header_values("x-client-role"),
            ["clinician", "root", "clinician"]
        );
    }

    #[test]
    fn envoy_removal_and_replacement_are_what_the_upstream_gets() {
        let mut host = with_headers(
            MockHost::new(),
            &[("x-client-role", "admin"), ("X-Client-Role", "root")],
        );
        host.set_request_header("x-client-role", "clinician")
            .unwrap();
        assert_eq!(host.header_values("x-client-role"), ["clinician"]);
        host.remove_request_header("x-client-role").unwrap();
        assert!(host.header_values("x-client-role").is_empty());
    }

    #[test]
    fn nginx_shows_the_filter_at_most_100_entries() {
        let mut host = MockHost::nginx().with_request("GET", "/");
        for i in 0..120 {
            host.push_header(&format!("x-h{i}"), "v");
        }
        let seen = host.request_headers().unwrap();
        assert_eq!(seen.len(), NGINX_MAX_VISIBLE_HEADERS);
        assert_eq!(seen[0].0, ":method");
        assert_eq!(host.headers().len(), 122);
    }

    #[test]
    fn nginx_path_writes_never_reach_the_upstream() {
        let mut host = MockHost::nginx().with_request("GET", "/a/../b");
        host.set_request_header(":path", "/b").unwrap();
        assert_eq!(host.header_values(":path"), ["/a/../b"]);
        assert!(host.set_request_header(":path", "/b?x=1").is_err());
    }
}
