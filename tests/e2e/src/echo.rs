//! The echo upstream: answers every request with 200 and a JSON description of what arrived —
//! method, raw request target, every header in order, the body's length and every trailer — so
//! a test can see exactly what the filter let through and how it rewrote it. A thread per connection; HTTP/1.1 keep-alive.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use crate::http::{self, Message};
use crate::E2eError;

/// The response header in which the upstream repeats its JSON body, hex-encoded (header-safe
/// whatever the request carried), so that HEAD requests — which get no body — can be checked too.
pub const ECHO_HEADER: &str = "x-echo-json";

/// Lower-case hex of bytes.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the upstream saw, as returned in the response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    /// The request method.
    pub method: String,
    /// The raw request target (path and query as received).
    pub path: String,
    /// Every header field in arrival order, names as received.
    pub headers: Vec<(String, String)>,
    /// Length of the request body.
    pub body_bytes: usize,
    /// Every trailer field of a chunked request body, in arrival order, names as received.
    #[serde(default)]
    pub trailers: Vec<(String, String)>,
    /// The request target's bytes, hex (`path` is their lossy UTF-8 text).
    #[serde(default)]
    pub path_hex: String,
}

impl Echo {
    /// Every value of a header (case-insensitive name), in arrival order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every value of a trailer (case-insensitive name), in arrival order.
    pub fn trailer_values(&self, name: &str) -> Vec<&str> {
        self.trailers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn from_message(message: Message) -> Self {
        let [method, path, _version] = message.start_line;
        Self {
            method,
            path,
            headers: message.headers,
            body_bytes: message.body.len(),
            path_hex: encode_hex(&message.target_bytes),
            trailers: message.trailers,
        }
    }
}

/// A running echo upstream on 127.0.0.1. Stops when dropped.
pub struct EchoServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    acceptor: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Starts on `127.0.0.1:port` (0 = any free port).
    pub fn start(port: u16) -> Result<Self, E2eError> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| E2eError::io(format!("binding the echo upstream to port {port}"), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| E2eError::io("reading the echo upstream's address", e))?;
        let stopping = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let (flag, counter) = (Arc::clone(&stopping), Arc::clone(&served));
        let acceptor = std::thread::Builder::new()
            .name("echo-accept".into())
            .spawn(move || accept_loop(&listener, &flag, &counter))
            .map_err(|e| E2eError::io("spawning the echo upstream", e))?;
        Ok(Self {
            addr,
            stopping,
            served,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests reached the upstream so far (to prove a refused request never did).
    pub fn requests_served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    /// Blocks until the server stops (for the standalone binary: forever).
    pub fn wait(mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            // A panicked acceptor thread has nothing left to clean up.
            let _ = acceptor.join();
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, stopping: &AtomicBool, served: &Arc<AtomicU64>) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let served = Arc::clone(served);
        // Connection threads end with their connection.
        let _ = std::thread::Builder::new()
            .name("echo-conn".into())
            .spawn(move || serve_connection(stream, &served));
    }
}

fn serve_connection(stream: TcpStream, served: &AtomicU64) {
    // Each response goes out in one write: with Nagle's algorithm on, a second small write
    // waited for the proxy's delayed ACK (40 ms per keep-alive response).
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let message = match http::read_request(&mut reader) {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(err) => {
                let _ = respond(&mut writer, 400, err.to_string().as_bytes(), false, true);
                return;
            }
        };
        served.fetch_add(1, Ordering::SeqCst);
        let close = message
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let echo = Echo::from_message(message);
        // A response to HEAD has no body (RFC 9110 §9.3.2); sending one would corrupt the
        // next response on this keep-alive connection. The echo header still carries it.
        let head = echo.method == "HEAD";
        let written = match serde_json::to_vec(&echo) {
            Ok(body) => respond(&mut writer, 200, &body, head, close),
            Err(err) => respond(&mut writer, 500, err.to_string().as_bytes(), head, true),
        };
        if close || written.is_err() {
            return;
        }
    }
}

fn respond(
    writer: &mut TcpStream,
    status: u16,
    body: &[u8],
    head_only: bool,
    close: bool,
) -> std::io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: {connection}\r\n{ECHO_HEADER}: {}\r\n\r\n",
        if status == 200 { "OK" } else { "Error" },
        body.len(),
        encode_hex(body),
    );
    let mut response = head.into_bytes();
    if !head_only {
        response.extend_from_slice(body);
    }
    writer.write_all(&response)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(raw).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn echoes_method_raw_path_and_every_header_in_order() {
        let server = EchoServer::start(0).unwrap();
        let out = exchange(
            server.addr(),
            b"DELETE /a/../b%2F?x=1 HTTP/1.1\r\nx-dup: 1\r\nhost: h\r\nx-dup: 2\r\nconnection: close\r\n\r\n",
        );
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains(&format!("{ECHO_HEADER}: {}", encode_hex(body.as_bytes()))));
        let echo: Echo = serde_json::from_str(body).unwrap();
        assert_eq!(echo.method, "DELETE");
        assert_eq!(echo.path, "/a/../b%2F?x=1");
        assert_eq!(echo.header_values("X-Dup"), ["1", "2"]);
        assert_eq!(echo.headers.len(), 4);
    }

    #[test]
    fn a_head_response_has_no_body_so_the_next_response_stays_in_sync() {
        let server = EchoServer::start(0).unwrap();
        let out = exchange(
            server.addr(),
            b"HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\nconnection: close\r\n\r\n",
        );
        let (first_head, rest) = out.split_once("\r\n\r\n").unwrap();
        assert!(first_head.contains(ECHO_HEADER), "{first_head}");
        assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
    }

    #[test]
    fn serves_several_requests_on_one_connection() {
        let server = EchoServer::start(0).unwrap();
        let out = exchange(
            server.addr(),
            b"GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\nconnection: close\r\n\r\n",
        );
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
        assert_eq!(server.requests_served(), 2);
        assert!(out.contains("\"/two\""));
    }
}
