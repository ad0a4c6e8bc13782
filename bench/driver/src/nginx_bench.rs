//! `--proxy nginx`: the variants that exist in NGINX + ngx_wasm_module — (a) no filter, (d) the
//! empty proxy-wasm filter, (e) mtls-authz with the healthcare policy and `"host": "nginx"` —
//! each its own NGINX process, rendered from examples/nginx/nginx.conf.j2 (the example's, the
//! demo's and the NGINX e2e test's template) with `return 200` where the example proxies: an
//! upstream would cap NGINX long before NGINX's own limit (the upstream Envoy serves a fraction
//! of NGINX's requests/s on this machine). The filter still runs its whole request path on
//! every request; but NGINX's `return` answers before a filter's verdict takes effect, so the
//! sanity check reads (e)'s refusal of the billing clerk from its log line.

use std::path::Path;

use mtls_authz_e2e::examples::{minify_json, with_host};
use mtls_authz_e2e::nginx::{free_port, NginxConfig};

use crate::error::{BenchError, Result};
use crate::proxy::Proxy;
use crate::render::VariantFiles;
use crate::variant::Variant;
use crate::{Row, Setup};

/// The variants `--proxy nginx` runs.
pub(crate) const VARIANTS: [Variant; 3] =
    [Variant::NoFilter, Variant::EmptyWasm, Variant::MtlsAuthz];

/// What ngx_wasm_module logs once it compiled the module (every variant loads one).
const MODULE_LOADED: &str = "successfully loaded \"mtls_authz\" module";
/// What the filter logs once its policy is accepted.
const FILTER_CONFIGURED: &str = "mtls-authz: configured";

/// Starts `variant` in NGINX (one process, pinned to `cpu`).
pub(crate) fn start(
    nginx: &Path,
    name: &str,
    dir: &Path,
    variant: Variant,
    files: &VariantFiles<'_>,
    cpu: Option<usize>,
) -> Result<Proxy> {
    let (wasm, policy, ready) = match variant {
        // The module is loaded but no location runs it: what a wasm-enabled NGINX costs alone.
        Variant::NoFilter => (files.empty_wasm, None, MODULE_LOADED),
        Variant::EmptyWasm => (
            files.empty_wasm,
            Some(files.empty_config.to_owned()),
            MODULE_LOADED,
        ),
        Variant::MtlsAuthz => {
            let policy = with_host(files.policy, "nginx").map_err(|e| {
                BenchError::new(format!("the benchmark policy cannot run in NGINX: {e}"))
            })?;
            (
                files.mtls_authz_wasm,
                Some(minify_json(&policy)),
                FILTER_CONFIGURED,
            )
        }
        Variant::Rbac | Variant::Lua => {
            return Err(BenchError::new(format!("{variant} runs in Envoy only")))
        }
    };
    let listen = free_port()?;
    let mut config = NginxConfig::with_fixture_certs(
        "healthcare",
        policy,
        wasm.to_path_buf(),
        listen,
        None,
        dir.to_path_buf(),
    );
    // oha keeps its connections for the whole run; NGINX would close them every 1000 requests.
    config.keepalive_requests = Some(1_000_000);
    Proxy::start_nginx(
        nginx,
        name,
        dir,
        &config.render()?,
        listen.port(),
        Some(ready),
        cpu,
    )
}

/// The host-call ladder in NGINX: the empty filter making the calls mtls-authz makes there on
/// an allowed request whose connection it has seen — read the request headers,
/// `ngx.request_uri` (the request-target as sent), `ngx.connection` (the handshake cache
/// key), the clock, set the two identity headers — one more per rung, between (a) and (e).
pub(crate) fn ladder_rows() -> Vec<Row> {
    let row = |label: &str, setup, against| (label.to_owned(), setup, against);
    vec![
        row("(a) no filter", Setup::Variant(Variant::NoFilter), None),
        row("(d) empty wasm", Setup::Calls(""), Some(0)),
        row("+ read request headers", Setup::Calls("headers"), Some(1)),
        row(
            "+ read property ngx.request_uri",
            Setup::Calls("headers,request_uri"),
            Some(2),
        ),
        row(
            "+ read property ngx.connection",
            Setup::Calls("headers,request_uri,connection"),
            Some(3),
        ),
        row(
            "+ read clock",
            Setup::Calls("headers,request_uri,connection,clock"),
            Some(4),
        ),
        row(
            "+ set 2 request headers",
            Setup::Calls("headers,request_uri,connection,clock,set,set"),
            Some(5),
        ),
        row(
            "(e) mtls-authz",
            Setup::Variant(Variant::MtlsAuthz),
            Some(6),
        ),
    ]
}

/// The line (e) must have logged for the billing clerk: its verdict, which NGINX's `return`
/// does not let it enforce in the benchmark's configuration.
pub(crate) const BILLING_DENIED: &str =
    "mtls-authz: deny status=403 reason=forbidden:rule[records-read]:role_not_held";
