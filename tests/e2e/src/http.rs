//! Just enough HTTP/1.1 for the echo upstream (reads requests) and for Envoy's admin API (one
//! GET at a time). Bounded: a head larger than [`MAX_HEAD_BYTES`] or a body larger than
//! [`MAX_BODY_BYTES`] is an error, not an allocation.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::E2eError;

/// Upper bound for a request or response head (request line + headers).
pub const MAX_HEAD_BYTES: usize = 256 * 1024;
/// Upper bound for a body.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One parsed HTTP/1.1 message head plus its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Request: `[method, target, version]`; response: `[version, status, reason]`.
    pub start_line: [String; 3],
    /// Header fields in arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body after transfer decoding.
    pub body: Vec<u8>,
    /// Trailer fields of a chunked body, in arrival order, names as sent.
    pub trailers: Vec<(String, String)>,
    /// The start line's second field as bytes (a request's target, exactly as received).
    pub target_bytes: Vec<u8>,
}

impl Message {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn protocol(msg: impl Into<String>) -> E2eError {
    E2eError::Protocol(msg.into())
}

fn read_line_bounded<R: BufRead>(reader: &mut R, budget: &mut usize) -> Result<String, E2eError> {
    // Header values may carry any bytes Envoy lets through; keep them visible, never fail here.
    read_raw_line(reader, budget).map(|line| String::from_utf8_lossy(&line).into_owned())
}

/// One line's bytes without its CR LF.
fn read_raw_line<R: BufRead>(reader: &mut R, budget: &mut usize) -> Result<Vec<u8>, E2eError> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX);
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|e| E2eError::io("reading an HTTP line", e))?;
    *budget = budget.saturating_sub(n);
    if !line.ends_with(b"\n") {
        return Err(protocol(if n == 0 {
            "connection closed in the middle of a message"
        } else {
            "HTTP head too large or truncated"
        }));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Reads one message from `reader`. `Ok(None)` when the peer closed before sending anything
/// (a keep-alive connection ending). `body_until_close` is for responses without a length.
fn read_message<R: BufRead>(
    reader: &mut R,
    body_until_close: bool,
) -> Result<Option<Message>, E2eError> {
    let mut budget = MAX_HEAD_BYTES;
    let first = {
        let buf = reader
            .fill_buf()
            .map_err(|e| E2eError::io("reading an HTTP message", e))?;
        if buf.is_empty() {
            return Ok(None);
        }
        read_raw_line(reader, &mut budget)?
    };
    let target_bytes = first
        .split(|&b| b == b' ')
        .nth(1)
        .unwrap_or_default()
        .to_vec();
    let first = String::from_utf8_lossy(&first).into_owned();
    let mut parts = first.splitn(3, ' ');
    let start_line = [
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    ];
    let mut headers = Vec::new();
    loop {
        let line = read_line_bounded(reader, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| protocol(format!("header line without ':': {line:?}")))?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut message = Message {
        start_line,
        headers,
        body: Vec::new(),
        trailers: Vec::new(),
        target_bytes,
    };
    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        (message.body, message.trailers) = read_chunked(reader)?;
    } else if let Some(len) = message.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| protocol(format!("bad content-length {len:?}")))?;
        if len > MAX_BODY_BYTES {
            return Err(protocol(format!("body of {len} bytes is over the limit")));
        }
        message.body = vec![0; len];
        reader
            .read_exact(&mut message.body)
            .map_err(|e| E2eError::io("reading an HTTP body", e))?;
    } else if body_until_close {
        let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX);
        reader
            .take(limit)
            .read_to_end(&mut message.body)
            .map_err(|e| E2eError::io("reading an HTTP body", e))?;
    }
    Ok(Some(message))
}

/// A chunked body and its trailer fields.
type Chunked = (Vec<u8>, Vec<(String, String)>);

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Chunked, E2eError> {
    let mut body = Vec::new();
    let mut budget = MAX_HEAD_BYTES;
    loop {
        let size_line = read_line_bounded(reader, &mut budget)?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| protocol(format!("bad chunk size {size_line:?}")))?;
        if size == 0 {
            // Trailer section, ends with an empty line.
            let mut trailers = Vec::new();
            loop {
                let line = read_line_bounded(reader, &mut budget)?;
                if line.is_empty() {
                    return Ok((body, trailers));
                }
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| protocol(format!("trailer line without ':': {line:?}")))?;
                trailers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        if body.len().saturating_add(size) > MAX_BODY_BYTES {
            return Err(protocol("chunked body over the limit"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(body.get_mut(start..).unwrap_or_default())
            .map_err(|e| E2eError::io("reading a chunk", e))?;
        if !read_line_bounded(reader, &mut budget)?.is_empty() {
            return Err(protocol("chunk not followed by CRLF"));
        }
    }
}

/// Reads one request (`Ok(None)` when the client closed the connection between requests).
pub fn read_request<R: BufRead>(reader: &mut R) -> Result<Option<Message>, E2eError> {
    read_message(reader, false)
}

/// A plain-HTTP GET on loopback (Envoy's admin API). Returns status and body.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String), E2eError> {
    let what = format!("GET http://{addr}{path}");
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| E2eError::io(&what, e))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| E2eError::io(&what, e))?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| E2eError::io(&what, e))?;
    let mut reader = BufReader::new(stream);
    let response = read_message(&mut reader, true)?
        .ok_or_else(|| protocol(format!("{what}: connection closed without a response")))?;
    let [_, status, _] = &response.start_line;
    let status = status
        .parse()
        .map_err(|_| protocol(format!("{what}: bad status line {:?}", response.start_line)))?;
    Ok((status, String::from_utf8_lossy(&response.body).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_request_with_a_chunked_body_and_keeps_header_order() {
        let raw = b"POST /a%2Fb?q=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-sum: 9\r\nX-Role: a\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        let mut reader = &raw[..];
        let first = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(
            first.start_line,
            ["POST", "/a%2Fb?q=1", "HTTP/1.1"].map(String::from)
        );
        assert_eq!(first.body, b"abcde");
        assert_eq!(
            first.trailers,
            [("x-sum".into(), "9".into()), ("X-Role".into(), "a".into())]
        );
        assert_eq!(
            first.headers[1..3],
            [("X-A".into(), "1".into()), ("x-a".into(), "2".into())]
        );
        let second = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(second.start_line[1], "/");
        assert_eq!(read_request(&mut reader).unwrap(), None);
    }

    #[test]
    fn reads_a_content_length_body() {
        let mut reader = &b"PUT /x HTTP/1.1\r\ncontent-length: 4\r\n\r\nbody"[..];
        assert_eq!(read_request(&mut reader).unwrap().unwrap().body, b"body");
    }

    #[test]
    fn a_truncated_head_is_an_error() {
        let mut reader = &b"GET / HTTP/1.1\r\nhost: x"[..];
        assert!(matches!(
            read_request(&mut reader),
            Err(E2eError::Protocol(_))
        ));
    }

    #[test]
    fn an_oversized_content_length_is_refused_before_allocating() {
        let mut reader = &b"PUT /x HTTP/1.1\r\ncontent-length: 999999999999\r\n\r\n"[..];
        assert!(matches!(
            read_request(&mut reader),
            Err(E2eError::Protocol(_))
        ));
    }

    #[test]
    fn a_response_body_may_run_until_close() {
        let mut reader = &b"HTTP/1.1 200 OK\r\n\r\nLIVE\n"[..];
        let response = read_message(&mut reader, true).unwrap().unwrap();
        assert_eq!(response.start_line[1], "200");
        assert_eq!(response.body, b"LIVE\n");
    }
}
