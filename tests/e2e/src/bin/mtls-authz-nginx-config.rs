//! Renders examples/nginx/nginx.conf.j2 for the demo (`scripts/demo.sh --proxy nginx`) and the
//! benchmark, from the same library code as the committed example and the NGINX e2e test.
//!
//! ```text
//! mtls-authz-nginx-config --policy healthcare --wasm PATH --logs DIR [--out nginx.conf]
//!     [--listen-port 10443] [--upstream-port 18080 | --no-upstream] [--no-filter]
//!     [--verify-client on|optional|optional_no_ca]
//! ```
//! `--policy` takes a fixture policy name (tests/fixtures/policies/<name>.json, rendered with
//! `"host": "nginx"` like the example) or a file path (used as is). Paths are written absolute.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use mtls_authz_e2e::examples::{minify_json, with_host};
use mtls_authz_e2e::nginx::NginxConfig;
use mtls_authz_e2e::paths;

const USAGE: &str = "usage: mtls-authz-nginx-config --policy NAME|FILE --wasm FILE --logs DIR \
[--out FILE] [--listen-port N] [--upstream-port N | --no-upstream] [--no-filter] \
[--verify-client on|optional|optional_no_ca]";

struct Args {
    policy: Option<String>,
    wasm: Option<PathBuf>,
    logs: Option<PathBuf>,
    out: Option<PathBuf>,
    listen_port: u16,
    upstream_port: Option<u16>,
    filter: bool,
    verify_client: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        policy: None,
        wasm: None,
        logs: None,
        out: None,
        listen_port: 10443,
        upstream_port: Some(18080),
        filter: true,
        verify_client: String::from("on"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let port = |text: String| {
            text.parse::<u16>()
                .map_err(|_| format!("{flag}: {text:?} is not a port"))
        };
        match flag.as_str() {
            "--policy" => args.policy = Some(value()?),
            "--wasm" => args.wasm = Some(value()?.into()),
            "--logs" => args.logs = Some(value()?.into()),
            "--out" => args.out = Some(value()?.into()),
            "--listen-port" => args.listen_port = port(value()?)?,
            "--upstream-port" => args.upstream_port = Some(port(value()?)?),
            "--no-upstream" => args.upstream_port = None,
            "--no-filter" => args.filter = false,
            "--verify-client" => args.verify_client = value()?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        std::env::current_dir().map_or(path.clone(), |dir| dir.join(path))
    }
}

/// The policy document: a fixture by name (with `"host": "nginx"`), else a file as is.
fn policy_text(policy: &str) -> Result<(String, String), String> {
    let fixture = mtls_authz_fixtures::policy_path(policy);
    if fixture.is_file() {
        let text = std::fs::read_to_string(&fixture).map_err(|e| e.to_string())?;
        let text = with_host(&text, "nginx").map_err(|e| e.to_string())?;
        return Ok((policy.to_owned(), text));
    }
    let text = std::fs::read_to_string(policy).map_err(|e| format!("{policy}: {e}"))?;
    Ok((policy.to_owned(), text))
}

fn run(args: Args) -> Result<(), String> {
    let name = args.policy.ok_or("--policy is required")?;
    let wasm = absolute(args.wasm.ok_or("--wasm is required")?);
    let logs = absolute(args.logs.ok_or("--logs is required")?);
    let (policy_name, policy) = policy_text(&name)?;
    let address = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let mut config = NginxConfig::with_fixture_certs(
        &policy_name,
        args.filter.then(|| minify_json(&policy)),
        wasm,
        address(args.listen_port),
        args.upstream_port.map(address),
        logs,
    );
    config.certs = paths::repo_root().join("tests/fixtures/certs");
    config.verify_client = args.verify_client;
    let text = config.render().map_err(|e| e.to_string())?;
    match args.out {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string()),
    }
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("mtls-authz-nginx-config: {message}");
            }
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}
