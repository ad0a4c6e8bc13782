//! The echo upstream as a standalone process for the demo and the benchmark: every request gets
//! 200 and a JSON description (method, raw path, headers) of what reached the upstream.
//!
//! `mtls-authz-echo [PORT]` (default 18080, on 127.0.0.1).

use std::process::ExitCode;

use mtls_authz_e2e::echo::EchoServer;

fn main() -> ExitCode {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 18080,
        Some(Ok(port)) => port,
        Some(Err(_)) => {
            eprintln!("usage: mtls-authz-echo [PORT]");
            return ExitCode::FAILURE;
        }
    };
    match EchoServer::start(port) {
        Ok(server) => {
            eprintln!("mtls-authz-echo: listening on http://{}", server.addr());
            server.wait();
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("mtls-authz-echo: {err}");
            ExitCode::FAILURE
        }
    }
}
