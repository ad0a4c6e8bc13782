//! What the e2e tests of fetched artefacts (CRLs: revocation.rs; JWKS: jwks.rs) share: the
//! test upstream the filter fetches from, an HTTP/2 session kept open across requests, and
//! waiting for the proxy's log.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code shared by several test files, each using a part of it"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtls_authz_e2e::paths;
use serde_json::{json, Value};

/// Serves whatever artefact (a CRL, a JWKS) is published now, HTTP/1.1, one request per
/// connection.
pub struct Server {
    pub port: u16,
    body: Arc<Mutex<Vec<u8>>>,
    status: Arc<Mutex<u16>>,
    served: Arc<Mutex<u64>>,
}

impl Server {
    pub fn start(content_type: &'static str, body: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = Arc::new(Mutex::new(body));
        let status = Arc::new(Mutex::new(200));
        let served = Arc::new(Mutex::new(0));
        let (shared, count) = (Arc::clone(&body), Arc::clone(&served));
        let shared_status = Arc::clone(&status);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let body = shared.lock().unwrap().clone();
                let status = *shared_status.lock().unwrap();
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = stream.write_all(&body);
                *count.lock().unwrap() += 1;
            }
        });
        Self {
            port,
            body,
            status,
            served,
        }
    }

    /// Answers every later fetch with `status` (503: the CRL server is down).
    pub fn answer_with(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }

    pub fn publish(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = body;
    }

    pub fn served(&self) -> u64 {
        *self.served.lock().unwrap()
    }
}

/// An Envoy cluster `name` on 127.0.0.1:`port`, with the `clusters:` line it goes after (to
/// replace that line of the rendered bootstrap).
pub fn cluster(name: &str, port: u16) -> String {
    format!(
        "  clusters:\n  - name: {name}\n    type: STATIC\n    connect_timeout: 1s\n    load_assignment:\n      cluster_name: {name}\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address: {{ address: 127.0.0.1, port_value: {port} }}\n"
    )
}

/// Log lines containing `needle`.
pub fn logged(log: &dyn Fn() -> String, needle: &str) -> usize {
    log().lines().filter(|l| l.contains(needle)).count()
}

/// Waits until `needle` was logged by every VM: each VM (Envoy: one per worker thread, plus
/// the main thread's; NGINX: one per worker) fetches on its own, and a request is served by
/// one of them.
pub fn wait_every_vm(log: &dyn Fn() -> String, vms: usize, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while logged(log, needle) < vms {
        assert!(Instant::now() < deadline, "{needle} x{vms}\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTP/2 connection as `cert`; `ask` sends a request on it and returns its JSON answer.
pub struct Session {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Session {
    pub fn open(port: u16, cert: &str) -> Self {
        let root = paths::repo_root();
        let spec = json!({
            "port": port,
            "ca": mtls_authz_fixtures::ca_bundle_path(),
            "cert": mtls_authz_fixtures::cert_pem_path(cert),
            "key": mtls_authz_fixtures::key_path(cert),
        });
        let mut child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tests/e2e/h2_session.py"))
            .arg(spec.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        Self { child, out }
    }

    pub fn ask(&mut self, target: &str) -> Value {
        self.send(target)
    }

    /// [`Session::ask`] with these request headers too (a JSON line for h2_session.py).
    pub fn ask_with(&mut self, target: &str, headers: &[(&str, &str)]) -> Value {
        let line = json!({"target": target, "headers": headers}).to_string();
        self.send(&line)
    }

    fn send(&mut self, line: &str) -> Value {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The deny reason of the last denial logged: the proxy's log has it, the body does not
/// (`expose_reason` is off).
pub fn last_reason(log: &dyn Fn() -> String) -> String {
    log()
        .lines()
        .rev()
        .find_map(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("reason="))
                .map(str::to_string)
        })
        .unwrap_or_default()
}
