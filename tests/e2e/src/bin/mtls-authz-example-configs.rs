//! Writes the NGINX and Istio examples rendered from their templates and the fixture policies
//! (see `mtls_authz_e2e::examples`). `--check` only compares and fails on a difference.

use std::process::ExitCode;

use mtls_authz_e2e::examples;

fn main() -> ExitCode {
    let check = std::env::args().nth(1).as_deref() == Some("--check");
    let rendered = match examples::all() {
        Ok(rendered) => rendered,
        Err(err) => {
            eprintln!("mtls-authz-example-configs: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut status = ExitCode::SUCCESS;
    for example in rendered {
        let current = std::fs::read_to_string(&example.path).unwrap_or_default();
        let path = example.path.display();
        if current == example.content {
            eprintln!("up to date: {path}");
        } else if check {
            eprintln!("stale: {path}");
            status = ExitCode::FAILURE;
        } else if let Err(err) = std::fs::write(&example.path, &example.content) {
            eprintln!("mtls-authz-example-configs: writing {path}: {err}");
            status = ExitCode::FAILURE;
        } else {
            eprintln!("wrote: {path}");
        }
    }
    status
}
