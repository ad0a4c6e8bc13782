//! One HTTPS request with a client certificate, sent by curl: a real TLS stack with ALPN, both
//! HTTP/1.1 and HTTP/2, and the request target sent byte for byte (`--request-target`), which
//! is what path-confusion attacks need. curl must be on PATH (scripts install it).
//!
//! Requests with trailers or a body, raw (non-UTF-8) targets or TLS session resumption go through
//! `tests/e2e/tls_client.py` instead (Python's `ssl` and the `h2` package from PyPI, in the
//! repository's `.venv`): curl sends no request trailers and does not report resumption.

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::echo::{Echo, ECHO_HEADER};
use crate::E2eError;

/// Which HTTP version curl must negotiate (checked against what it reports afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTP/1.1 over TLS.
    Http1,
    /// HTTP/2 over TLS (ALPN h2).
    Http2,
}

impl Protocol {
    /// Both, in the order the tests run them.
    pub const ALL: [Self; 2] = [Self::Http1, Self::Http2];

    fn curl_flag(self) -> &'static str {
        match self {
            Self::Http1 => "--http1.1",
            Self::Http2 => "--http2",
        }
    }

    /// What curl's `%{http_version}` prints for it.
    fn curl_version(self) -> &'static str {
        match self {
            Self::Http1 => "1.1",
            Self::Http2 => "2",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http1 => "HTTP/1.1",
            Self::Http2 => "HTTP/2",
        })
    }
}

/// A client certificate and its key (PEM files).
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    /// Certificate PEM (the leaf, followed by any intermediates the client sends).
    pub cert: PathBuf,
    /// Private key PEM.
    pub key: PathBuf,
}

/// One request to the mTLS listener on 127.0.0.1 (addressed as `localhost`, the server cert's name).
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// Listener port.
    pub port: u16,
    /// CA that signed the server certificate.
    pub ca_bundle: &'a Path,
    /// HTTP version to use.
    pub protocol: Protocol,
    /// Method, sent as is.
    pub method: &'a str,
    /// Request target, sent byte for byte (path, query, or anything an attacker would send).
    pub target: &'a str,
    /// Extra request headers.
    pub headers: &'a [(String, String)],
    /// Client certificate, or none.
    pub client: Option<&'a ClientIdentity>,
    /// Request body (sent with its length; chunked when there are trailers).
    pub body: Option<&'a str>,
    /// Request trailers (sent by the Python client).
    pub trailers: &'a [(String, String)],
}

/// What came back over TLS.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// Response body (empty for HEAD).
    pub body: String,
}

impl Response {
    /// The first value of a response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What the echo upstream saw, when the request reached it.
    pub fn echo(&self) -> Result<Option<Echo>, E2eError> {
        let Some(hex) = self.header(ECHO_HEADER) else {
            return Ok(None);
        };
        let bytes = decode_hex(hex)
            .ok_or_else(|| E2eError::Protocol(format!("{ECHO_HEADER} is not hex: {hex}")))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| E2eError::Protocol(format!("{ECHO_HEADER} is not echo JSON: {e}")))
    }
}

/// Either an HTTP response, or curl could not get one (TLS refused, connection reset...).
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A response arrived.
    Response(Response),
    /// No response: curl's exit code and message.
    NoResponse {
        /// curl's exit code (35/56 = TLS/receive failure, 16/92 = HTTP/2 framing/stream error).
        curl_exit: i32,
        /// curl's error message.
        message: String,
    },
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

impl Request<'_> {
    fn curl_args(&self) -> Vec<OsString> {
        let authority = format!("localhost:{}", self.port);
        let mut args: Vec<OsString> = [
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            "20",
            "--path-as-is",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        args.push("--resolve".into());
        args.push(format!("{authority}:127.0.0.1").into());
        args.push("--cacert".into());
        args.push(self.ca_bundle.into());
        if let Some(client) = self.client {
            args.extend(["--cert".into(), client.cert.clone().into_os_string()]);
            args.extend(["--key".into(), client.key.clone().into_os_string()]);
        }
        args.push(self.protocol.curl_flag().into());
        if self.method == "HEAD" {
            // `-X HEAD` would make curl wait for a body that never comes.
            args.push("--head".into());
        } else {
            args.extend(["--request".into(), self.method.into()]);
            args.extend(["--dump-header".into(), "-".into()]);
        }
        args.extend(["--request-target".into(), self.target.into()]);
        if self.body.is_some() {
            args.extend(["--data-binary".into(), "@-".into()]);
        }
        for (name, value) in self.headers {
            // `name;` is curl's spelling of a header with an empty value.
            let header = if value.is_empty() {
                format!("{name};")
            } else {
                format!("{name}: {value}")
            };
            args.extend(["--header".into(), header.into()]);
        }
        args.push("--write-out".into());
        args.push("%{stderr}\n%{http_code} %{http_version}".into());
        args.push(format!("https://{authority}/").into());
        args
    }

    /// Sends the request and waits for the outcome (curl, or the Python client for trailers
    /// and bodies: when Envoy answers before an HTTP/2 request body is complete, it ends the
    /// response and then resets the stream, which curl sometimes reports as a framing error
    /// instead of the response it received).
    pub fn send(&self) -> Result<Outcome, E2eError> {
        if !self.trailers.is_empty() || self.body.is_some() {
            let mut outcomes = self.send_python(None, 1)?;
            return outcomes
                .pop()
                .map(|(outcome, _)| outcome)
                .ok_or_else(|| E2eError::Protocol(String::from("the Python client said nothing")));
        }
        let mut child = Command::new("curl")
            .args(self.curl_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| E2eError::io("running curl (is it installed?)", e))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(self.body.unwrap_or_default().as_bytes())
                .map_err(|e| E2eError::io("writing the body to curl", e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| E2eError::io("running curl", e))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let (message, write_out) = stderr.rsplit_once('\n').unwrap_or(("", &stderr));
        let mut fields = write_out.split_whitespace();
        let status: u16 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let version = fields.next().unwrap_or_default();
        if !output.status.success() || status == 0 {
            return Ok(Outcome::NoResponse {
                curl_exit: output.status.code().unwrap_or(-1),
                message: message.trim().to_owned(),
            });
        }
        if version != self.protocol.curl_version() {
            return Err(E2eError::Protocol(format!(
                "asked curl for {} but it used HTTP version {version:?}",
                self.protocol
            )));
        }
        let (headers, body) = split_head(&output.stdout);
        Ok(Outcome::Response(Response {
            status,
            headers,
            body,
        }))
    }
}

impl Request<'_> {
    /// Sends the request with `tests/e2e/tls_client.py` on `connections` connections one
    /// after the other, each resuming the previous one's TLS session; `raw_target` replaces
    /// `target` with bytes that need not be UTF-8. Returns each outcome and whether its
    /// session was resumed.
    pub fn send_python(
        &self,
        raw_target: Option<&[u8]>,
        connections: usize,
    ) -> Result<Vec<(Outcome, bool)>, E2eError> {
        let root = crate::paths::repo_root();
        let python = root.join(".venv/bin/python");
        let mut spec = serde_json::Map::new();
        let mut set = |key: &str, value: serde_json::Value| {
            spec.insert(key.to_owned(), value);
        };
        set("port", self.port.into());
        set("ca", self.ca_bundle.to_string_lossy().into_owned().into());
        set("http2", (self.protocol == Protocol::Http2).into());
        set("method", self.method.into());
        set("target", self.target.into());
        set("headers", serde_json::json!(self.headers));
        set("trailers", serde_json::json!(self.trailers));
        set("connections", connections.into());
        if let Some(raw) = raw_target {
            set("target_hex", crate::echo::encode_hex(raw).into());
        }
        if let Some(body) = self.body {
            set("body", body.into());
        }
        if let Some(client) = self.client {
            set("cert", client.cert.to_string_lossy().into_owned().into());
            set("key", client.key.to_string_lossy().into_owned().into());
        }
        let spec = serde_json::Value::Object(spec);
        let mut child = Command::new(&python)
            .arg(root.join("tests/e2e/tls_client.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                E2eError::io(
                    format!(
                        "running {} (scripts/test.sh creates it with h2)",
                        python.display()
                    ),
                    e,
                )
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(spec.to_string().as_bytes())
                .map_err(|e| E2eError::io("writing to the Python client", e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| E2eError::io("running the Python client", e))?;
        if !output.status.success() {
            return Err(E2eError::Protocol(format!(
                "the Python client failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| {
                let json: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                    E2eError::Protocol(format!("the Python client printed {line:?}: {e}"))
                })?;
                let field = |key: &str| json.get(key).cloned().unwrap_or_default();
                let resumed = field("resumed").as_bool().unwrap_or(false);
                let status = field("status").as_u64().and_then(|s| u16::try_from(s).ok());
                let outcome = match status {
                    Some(status) => Outcome::Response(Response {
                        status,
                        headers: field("headers")
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|pair| {
                                Some((
                                    pair.get(0)?.as_str()?.to_ascii_lowercase(),
                                    pair.get(1)?.as_str()?.to_owned(),
                                ))
                            })
                            .collect(),
                        body: field("body").as_str().unwrap_or_default().to_owned(),
                    }),
                    None => Outcome::NoResponse {
                        curl_exit: -1,
                        message: field("error").as_str().unwrap_or("no response").to_owned(),
                    },
                };
                Ok((outcome, resumed))
            })
            .collect()
    }
}

/// Splits curl's `--dump-header -` output (status line, headers, blank line, body).
fn split_head(stdout: &[u8]) -> (Vec<(String, String)>, String) {
    let text = String::from_utf8_lossy(stdout);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_ref(), ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (headers, body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::encode_hex;

    #[test]
    fn hex_round_trips() {
        let bytes = b"{\"path\":\"/\xc3\xa9\"}";
        assert_eq!(decode_hex(&encode_hex(bytes)).unwrap(), bytes);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn splits_headers_from_body() {
        let (headers, body) = split_head(
            b"HTTP/2 403\r\ncontent-type: application/json\r\nX-A: b: c\r\n\r\n{\"x\":1}",
        );
        assert_eq!(
            headers,
            [
                ("content-type".into(), "application/json".into()),
                ("x-a".into(), "b: c".into())
            ]
        );
        assert_eq!(body, "{\"x\":1}");
    }

    #[test]
    fn head_uses_curl_head_and_empty_headers_use_the_semicolon_form() {
        let headers = [("x-empty".to_owned(), String::new())];
        let request = Request {
            port: 1,
            ca_bundle: Path::new("/ca.pem"),
            protocol: Protocol::Http2,
            method: "HEAD",
            target: "/a%2Fb",
            headers: &headers,
            client: None,
            body: None,
            trailers: &[],
        };
        let args: Vec<String> = request
            .curl_args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert!(args.contains(&"--head".to_owned()));
        assert!(!args.contains(&"--request".to_owned()));
        assert!(args.contains(&"x-empty;".to_owned()));
        assert!(args.contains(&"--http2".to_owned()));
        assert!(!args.contains(&"--cert".to_owned()));
    }
}
