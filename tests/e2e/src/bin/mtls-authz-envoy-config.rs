//! Renders examples/envoy/envoy.yaml.j2 for the demo and the benchmark (the e2e test calls the
//! same library code), so every Envoy we run comes from one template.
//!
//! ```text
//! mtls-authz-envoy-config --policy healthcare [--out envoy.yaml] [--listen-port 10443]
//!     [--admin-port 9901] [--upstream-port 18080] [--wasm PATH | --no-filter]
//!     [--xfcc sanitize|forward_only] [--no-access-log]
//! ```
//! `--policy` takes a fixture policy name (tests/fixtures/policies/<name>.json) or a file path.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use mtls_authz_e2e::config::{EnvoyConfig, FilterSetup, XfccHandling};
use mtls_authz_e2e::examples;
use mtls_authz_e2e::{paths, wasm};

const USAGE: &str = "usage: mtls-authz-envoy-config (--policy NAME|FILE | --no-filter) [--out FILE] \
[--listen-port N] [--admin-port N] [--upstream-port N] [--wasm FILE] [--xfcc sanitize|forward_only] \
[--no-access-log]";

struct Args {
    policy: Option<String>,
    no_filter: bool,
    out: Option<PathBuf>,
    listen_port: u16,
    admin_port: u16,
    upstream_port: u16,
    wasm: Option<PathBuf>,
    xfcc: XfccHandling,
    access_log: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        policy: None,
        no_filter: false,
        out: None,
        listen_port: 10443,
        admin_port: 9901,
        upstream_port: 18080,
        wasm: None,
        xfcc: XfccHandling::Sanitize,
        access_log: true,
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
            "--no-filter" => args.no_filter = true,
            "--out" => args.out = Some(value()?.into()),
            "--listen-port" => args.listen_port = port(value()?)?,
            "--admin-port" => args.admin_port = port(value()?)?,
            "--upstream-port" => args.upstream_port = port(value()?)?,
            "--wasm" => args.wasm = Some(value()?.into()),
            "--xfcc" => {
                let text = value()?;
                args.xfcc = XfccHandling::parse(&text)
                    .ok_or_else(|| format!("--xfcc: {text:?} is not sanitize or forward_only"))?;
            }
            "--no-access-log" => args.access_log = false,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.policy.is_some() == args.no_filter {
        return Err(format!(
            "give exactly one of --policy and --no-filter\n{USAGE}"
        ));
    }
    Ok(args)
}

fn policy_file(name_or_path: &str) -> PathBuf {
    let as_path = PathBuf::from(name_or_path);
    if as_path.is_file() {
        as_path
    } else {
        mtls_authz_fixtures::policy_path(name_or_path)
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let filter = match &args.policy {
        None => None,
        Some(policy) => {
            let file = policy_file(policy);
            let policy = std::fs::read_to_string(&file)
                .map_err(|e| format!("reading policy {}: {e}", file.display()))?;
            // The shipped example names its proxy: `auto` would also read NGINX's `ngx.*`
            // properties on Envoy (lint MA011).
            let policy = examples::with_host_unless_set(&policy, "envoy")
                .map_err(|e| format!("policy {}: {e}", file.display()))?;
            let wasm = args.wasm.clone().unwrap_or_else(|| {
                paths::repo_root()
                    .join("target/wasm32-wasip1/release")
                    .join(wasm::WASM_FILE)
            });
            Some(FilterSetup { wasm, policy })
        }
    };
    let mut config = EnvoyConfig::with_fixture_certs(args.upstream_port, filter);
    config.listen_port = args.listen_port;
    config.admin_port = args.admin_port;
    config.xfcc = args.xfcc;
    config.access_log = args.access_log;
    let yaml = config.render().map_err(|e| e.to_string())?;
    match &args.out {
        Some(out) => {
            std::fs::write(out, yaml).map_err(|e| format!("writing {}: {e}", out.display()))
        }
        None => std::io::stdout()
            .write_all(yaml.as_bytes())
            .map_err(|e| format!("writing to stdout: {e}")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mtls-authz-envoy-config: {message}");
            ExitCode::FAILURE
        }
    }
}
