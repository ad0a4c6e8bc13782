//! mtls-authz proxy-wasm filter: turns the verified client certificate into an identity and
//! enforces the default-deny policy on every request, before the upstream sees it.
//!
//! Thin by design: it reads host properties and headers through the [`host::Host`] trait,
//! calls `mtls-authz-core`, and writes the response, headers, counters and logs. All wasm
//! glue (the `main!` entry point, root and HTTP contexts, the real host) is compiled only for
//! `wasm32`; everything else runs natively against [`host::mock::MockHost`] in tests.

pub mod authority;
pub mod cache;
pub mod config;
pub mod crl;
pub mod fetch;
pub mod filter;
pub mod headers;
pub mod host;
pub mod jwks;
pub mod metrics;
pub mod request;
pub mod response;
pub mod root;
pub mod source;
pub mod target;
pub mod token;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use filter::{Filter, PendingBody, Verdict};
pub use root::{Action, RequestContext, Root};
