//! The configured plugin: compiled policy, counters, identity cache. Built once per
//! `on_configure` and shared (`Rc`) by every request of the VM.

use std::cell::{Cell, RefCell};

use crate::cache::IdentityCache;
use crate::config::{self, ConfigError, FilterConfig};
use crate::host::{Host, LogLevel};
use crate::metrics::Metrics;
use crate::request::{self, Verdict};

pub use mtls_authz_core::strip::{METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS, SHADOW_HEADER};

/// A configured filter.
#[derive(Debug)]
pub struct Filter {
    pub(crate) config: FilterConfig,
    pub(crate) metrics: Metrics,
    pub(crate) cache: RefCell<IdentityCache>,
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
        Filter {
            cache: RefCell::new(IdentityCache::new(config.identity_cache_size)),
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
