//! The configured plugin: compiled policy, counters, identity cache. Built once per
//! `on_configure` and shared (`Rc`) by every request of the VM.

use std::cell::{Cell, RefCell};

use mtls_authz_core::Source;

use crate::cache::IdentityCache;
use crate::config::{self, ConfigError, FilterConfig};
use crate::host::{Host, LogLevel};
use crate::metrics::Metrics;
use crate::request::{self, Verdict};
use crate::source::XFCC_HEADER;

/// Method-override headers: a client must not pick the method the upstream acts on after the
/// filter authorised another one.
pub const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];
/// Path-override headers: Symfony < 3.4.14, Zend Framework, Yii and IIS-style front
/// controllers route on these instead of the request line, so the path that was authorised
/// would not be the path that is served (the classic bypass of path ACLs in proxies).
pub const PATH_OVERRIDE_HEADERS: [&str; 2] = ["x-original-url", "x-rewrite-url"];
/// The header that carries the shadow-mode verdict upstream.
pub const SHADOW_HEADER: &str = "x-mtls-authz-shadow";

/// A configured filter.
#[derive(Debug)]
pub struct Filter {
    pub(crate) config: FilterConfig,
    pub(crate) metrics: Metrics,
    pub(crate) cache: RefCell<IdentityCache>,
    /// Request headers that a client could spoof and that are removed before the upstream.
    pub(crate) spoofable_headers: Vec<String>,
    /// Headers whose underscore spellings are removed too: the spoofable ones plus a trusted
    /// `x-forwarded-client-cert` (see [`crate::headers::RequestHeaders::names_to_remove`]).
    pub(crate) protected_headers: Vec<String>,
    /// Per-VM request counter, part of generated request ids.
    sequence: Cell<u64>,
}

impl Filter {
    /// Parses the plugin configuration and defines the counters. On error, logs one line that
    /// names the offending field and returns the error (`on_configure` then returns false).
    pub fn configure<H: Host>(host: &mut H, bytes: Option<&[u8]>) -> Result<Filter, ConfigError> {
        let result = config::parse(bytes).and_then(|config| {
            let metrics =
                Metrics::define(host, &config.policy.rule_names()).map_err(ConfigError::Metrics)?;
            Ok(Filter::new(config, metrics))
        });
        match &result {
            Ok(filter) => host.log(
                LogLevel::Info,
                &format!(
                    "mtls-authz: configured: mode={:?} sources={:?} host={:?} rules={} identity_cache_size={}",
                    filter.config.policy.mode(),
                    filter.config.policy.sources(),
                    filter.config.host,
                    filter.config.policy.rule_names().len(),
                    filter.config.identity_cache_size,
                ),
            ),
            Err(err) => host.log(
                LogLevel::Error,
                &format!("mtls-authz: configuration refused: {err}"),
            ),
        }
        result
    }

    fn new(config: FilterConfig, metrics: Metrics) -> Filter {
        let mut spoofable: Vec<String> = METHOD_OVERRIDE_HEADERS
            .iter()
            .chain(PATH_OVERRIDE_HEADERS.iter())
            .map(|h| (*h).to_string())
            .collect();
        spoofable.extend(
            config
                .policy
                .forward_headers()
                .iter()
                .map(|(name, _)| name.to_ascii_lowercase()),
        );
        spoofable.push(SHADOW_HEADER.to_string());
        if !config.policy.sources().contains(&Source::Xfcc) {
            spoofable.push(XFCC_HEADER.to_string());
        }
        let spoofable = without_repeats(spoofable);
        let mut protected = spoofable.clone();
        protected.push(XFCC_HEADER.to_string());
        let protected = without_repeats(protected);
        Filter {
            cache: RefCell::new(IdentityCache::new(config.identity_cache_size)),
            spoofable_headers: spoofable,
            protected_headers: protected,
            config,
            metrics,
            sequence: Cell::new(0),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &FilterConfig {
        &self.config
    }

    /// Number of certificates in the identity cache.
    pub fn cached_identities(&self) -> usize {
        self.cache.borrow().len()
    }

    /// Decides one request from its headers; see [`crate::request`].
    pub fn on_request_headers<H: Host>(&self, host: &mut H) -> Verdict {
        request::handle(self, host)
    }

    /// The next request sequence number (for generated request ids).
    pub(crate) fn next_sequence(&self) -> u64 {
        let n = self.sequence.get().wrapping_add(1);
        self.sequence.set(n);
        n
    }
}

/// `names` with repeats dropped, first occurrences kept in order. The header lists are sets
/// (only membership is asked), and this avoids a sort: each `sort` element type is ~4 KB of
/// .wasm (docs/wasm-size.md). Quadratic, but runs once per configuration on a few names.
fn without_repeats(names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}
