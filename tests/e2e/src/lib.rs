//! End-to-end support for mtls-authz: the built `.wasm` inside a real Envoy and a real NGINX,
//! over real mTLS.
//!
//! The pieces are separate so the demo, the e2e test and the benchmark share them:
//! - [`config`] renders `examples/envoy/envoy.yaml.j2`, the one Envoy bootstrap template;
//! - [`echo`] is the upstream that echoes method, raw path and headers as JSON;
//! - [`envoy`] finds (or installs) Envoy, starts it, waits for readiness, keeps its log;
//! - [`nginx`] finds (or builds) NGINX + ngx_wasm_module, renders its template, runs it;
//! - [`replay`] sends a fixture case to a running proxy and checks what came back;
//! - [`wasm`] finds (or builds) `mtls_authz_filter.wasm`;
//! - [`client`] sends one request with curl over TLS with a client certificate;
//! - [`oha`] runs the `oha` load generator over mTLS (the saturated soak);
//! - [`measure`] reads run sizes from the environment and a proxy's memory and CPU time;
//! - [`demo`] holds the example scenarios' requests, shown in the docs and replayed in tests.
//!
//! Nothing here panics on bad input: every failure is an [`E2eError`] that says what failed.

pub mod client;
pub mod config;
pub mod demo;
pub mod echo;
pub mod envoy;
mod error;
pub mod examples;
pub mod http;
pub mod measure;
pub mod nginx;
pub mod oha;
pub mod paths;
pub mod replay;
pub mod wasm;

pub use error::E2eError;
