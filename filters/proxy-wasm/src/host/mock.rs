//! An in-memory [`Host`] for native tests: build it with `with_*` methods, run the filter,
//! then inspect what the filter did (local response, headers the upstream would see, logs,
//! counters). It records outcomes, not call sequences, so tests do not break when the filter
//! reorders host calls.

use std::collections::HashMap;

use super::{CounterId, Host, HostError, LogLevel};

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
    headers: Vec<(String, Vec<u8>)>,
    trailers: Vec<(String, Vec<u8>)>,
    trailers_fail: bool,
    body: Option<Vec<u8>>,
    headers_fail: bool,
    header_writes_fail: bool,
    now_nanos: Option<u64>,
    local_response: Option<LocalResponse>,
    logs: Vec<(LogLevel, String)>,
    counters: Vec<(String, u64)>,
    property_reads: std::cell::Cell<usize>,
}

impl MockHost {
    /// An empty host: no properties, no headers, clock at 2026-11-23T00:00:00Z.
    pub fn new() -> Self {
        Self {
            now_nanos: Some(1_795_392_000 * 1_000_000_000),
            ..Self::default()
        }
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
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Appends one request trailer instance.
    pub fn with_trailer(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.trailers
            .push((name.to_string(), value.as_ref().to_vec()));
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

    /// Starts a new request on the same host (keeps properties, counters and the clock;
    /// clears headers, the local response and logs) — for cache tests.
    pub fn next_request(&mut self) {
        self.headers.clear();
        self.trailers.clear();
        self.body = None;
        self.local_response = None;
        self.logs.clear();
        self.property_reads.set(0);
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
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
    }

    /// The local response, if the filter sent one.
    pub fn local_response(&self) -> Option<&LocalResponse> {
        self.local_response.as_ref()
    }

    /// Every value of request header `name` as the upstream would see it (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// Every value of request header `name`, as bytes (case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
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

    /// Every request header instance, in order.
    pub fn headers(&self) -> &[(String, Vec<u8>)] {
        &self.headers
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
        self.property_reads.get()
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
        self.property_reads.set(self.property_reads.get() + 1);
        let key = path.join(".");
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
        Ok(self.headers.clone())
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
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        Ok(())
    }

    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        self.set_request_header_bytes(name, value.as_bytes())
    }

    fn set_request_header_bytes(&mut self, name: &str, value: &[u8]) -> Result<(), HostError> {
        self.check_writable("set_request_header")?;
        match self
            .headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(first) => {
                if let Some(slot) = self.headers.get_mut(first) {
                    slot.1 = value.to_vec();
                }
                let mut index = 0;
                self.headers.retain(|(n, _)| {
                    let keep = index <= first || !n.eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
            }
            None => self.headers.push((name.to_string(), value.to_vec())),
        }
        Ok(())
    }

    fn add_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError> {
        self.check_writable("add_request_header")?;
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
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
