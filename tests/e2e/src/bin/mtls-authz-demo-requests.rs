//! Prints a scenario's demo requests (examples/envoy/<scenario>.demo.json) as curl commands,
//! each under a comment with the status it returns in that proxy. Used by scripts/demo.sh.
//!
//! `mtls-authz-demo-requests [--proxy envoy|nginx] SCENARIO [PORT]` (PORT default 10443).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use mtls_authz_e2e::demo;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut proxy = demo::Proxy::Envoy;
    if args.peek().map(String::as_str) == Some("--proxy") {
        args.next();
        match args.next().as_deref().and_then(demo::Proxy::parse) {
            Some(p) => proxy = p,
            None => {
                eprintln!("usage: mtls-authz-demo-requests [--proxy envoy|nginx] SCENARIO [PORT]");
                return ExitCode::FAILURE;
            }
        }
    }
    let scenario = args.next().unwrap_or_default();
    let port = match args.next().map(|p| p.parse::<u16>()) {
        None => 10443,
        Some(Ok(port)) => port,
        Some(Err(_)) => {
            eprintln!("usage: mtls-authz-demo-requests [--proxy envoy|nginx] SCENARIO [PORT]");
            return ExitCode::FAILURE;
        }
    };
    match demo::load(&scenario) {
        Ok(file) => {
            let mut out = format!("{}\n", demo::CERTS_VAR);
            for request in &file.requests {
                let _ = write!(
                    out,
                    "\n# {}\n{}\n",
                    request.comment(proxy),
                    request.curl_command(port)
                );
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            match std::io::stdout().write_all(out.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(err) => {
            eprintln!(
                "mtls-authz-demo-requests: {err} (scenarios: {})",
                demo::SCENARIOS.join(", ")
            );
            ExitCode::FAILURE
        }
    }
}
