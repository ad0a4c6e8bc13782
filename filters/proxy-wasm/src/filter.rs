//! The configured plugin: compiled policy, counters, identity cache. Built once per
//! `on_configure` and shared (`Rc`) by every request of the VM.

use std::cell::{Cell, RefCell, RefMut};

use mtls_authz_core::method_override::FormBody;

use mtls_authz_core::time::UnixTime;

use crate::cache::IdentityCache;
use crate::config::{self, ConfigError, FilterConfig, HostKind};
use crate::crl::Crls;
use crate::host::{Host, LogLevel};
use crate::jwks::Jwks;
use crate::metrics::{Metrics, Outcome};
use crate::request;
use crate::source::ConnectionCertificates;
use crate::token::VerifiedTokens;

pub use mtls_authz_core::strip::{METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS, SHADOW_HEADER};

/// What the host should do with the request after the filter ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Forward upstream (headers possibly rewritten).
    Continue,
    /// A local response was sent; stop the request here.
    Respond,
    /// `form_body_check`: the headers (rewritten) may go on, but the body must be buffered and
    /// handed to [`Filter::on_request_body`] with this before any of it is forwarded.
    WaitForBody(PendingBody),
}

/// An allowed request whose form body must be checked before it is forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingBody {
    /// What the `content-type` says the body is.
    pub kind: FormBody,
    /// The allowing rule, counted once the body passed.
    pub rule_index: Option<usize>,
}

/// A configured filter.
#[derive(Debug)]
pub struct Filter {
    config: FilterConfig,
    metrics: Metrics,
    cache: RefCell<IdentityCache>,
    /// NGINX: what each connection's handshake gave (see [`crate::cache::ConnectionCache`]).
    connections: RefCell<ConnectionCertificates>,
    /// v1.1: the CRLs in force and the fetches in flight.
    crls: Crls,
    /// v1.1 `tokens`: the key set in force and its fetch (see [`crate::jwks`]).
    jwks: Jwks,
    /// v1.1 `tokens`: verified tokens by digest (see [`crate::token`]).
    tokens: RefCell<VerifiedTokens>,
    /// Per-VM request counter, part of generated request ids.
    sequence: Cell<u64>,
    /// With `"host": "auto"`: the proxy this VM turned out to run in, once a request proved
    /// it (see [`Filter::learn_host`]). A VM never moves between proxies.
    detected_host: Cell<Option<HostKind>>,
}

impl Filter {
    /// Parses the plugin configuration and defines the counters. On error, logs one line that
    /// names the offending field and returns the error (`on_configure` then returns false).
    /// CRLs and fetched key sets start from what the VM holds (see [`crate::crl`],
    /// [`crate::jwks`]): a reconfiguration never rolls them back.
    pub fn configure<H: Host>(host: &mut H, bytes: Option<&[u8]>) -> Result<Filter, ConfigError> {
        let result = config::parse(bytes).and_then(|config| {
            let metrics =
                Metrics::define(host, &config.policy.rule_names()).map_err(ConfigError::Metrics)?;
            // Without a clock no inline CRL is valid yet: fail closed until one is.
            let now = host.now_nanos().map_or(UnixTime(0), UnixTime::from_nanos);
            let crls = Crls::new(host, &config.policy, now).map_err(ConfigError::Metrics)?;
            let jwks = Jwks::new(host, &config.policy).map_err(ConfigError::Metrics)?;
            Ok(Filter::new(config, metrics, crls, jwks))
        });
        match &result {
            Ok(filter) => host.log(
                LogLevel::Info,
                &format!(
                    "mtls-authz: configured: mode={:?} sources={:?} host={:?} rules={} identity_cache_size={} identity_cache_max_bytes={}",
                    filter.config.policy.mode(),
                    filter.config.policy.sources(),
                    filter.config.host,
                    filter.config.policy.rule_names().len(),
                    filter.config.identity_cache_size,
                    filter.config.policy.identity_cache_max_bytes(),
                ),
            ),
            Err(err) => host.log(
                LogLevel::Error,
                &format!("mtls-authz: configuration refused: {err}"),
            ),
        }
        result
    }

    fn new(config: FilterConfig, metrics: Metrics, crls: Crls, jwks: Jwks) -> Filter {
        Filter {
            crls,
            jwks,
            cache: RefCell::new(IdentityCache::new(
                config.identity_cache_size,
                config.policy.identity_cache_max_bytes(),
            )),
            connections: RefCell::new(ConnectionCertificates::new(config.identity_cache_size)),
            tokens: RefCell::new(VerifiedTokens::new(Default::default())),
            config,
            metrics,
            sequence: Cell::new(0),
            detected_host: Cell::new(None),
        }
    }

    /// The proxy whose properties to read: the configured one, or in `auto` the detected one.
    pub(crate) fn host_kind(&self) -> HostKind {
        match self.config.host {
            HostKind::Auto => self.detected_host.get().unwrap_or(HostKind::Auto),
            configured => configured,
        }
    }

    /// `auto` stops asking for `ngx.request_uri` on every request once one request proved
    /// which proxy this is: NGINX by its `ngx.request_uri` (Envoy has no `ngx.*` property);
    /// Envoy by `ngx.request_uri` being absent while Envoy's own peer-certificate digest is
    /// present. Both signs are required for Envoy, so an NGINX that one day implemented the
    /// digest property would still be recognised by its `ngx.request_uri`.
    pub(crate) fn learn_host(&self, request_uri_present: bool, envoy_digest_present: bool) {
        if self.config.host != HostKind::Auto || self.detected_host.get().is_some() {
            return;
        }
        if request_uri_present {
            self.detected_host.set(Some(HostKind::Nginx));
        } else if envoy_digest_present {
            self.detected_host.set(Some(HostKind::Envoy));
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

    /// The host agreed to call [`Filter::on_tick`] periodically: allow counts may wait for it
    /// (see [`crate::metrics`]).
    pub fn ticks_enabled(&self) {
        self.metrics.batch_allowed();
    }

    /// Periodic work (the root context's tick) and teardown: hands batched counts to the host.
    pub fn on_tick<H: Host>(&self, host: &mut H) {
        self.metrics.flush(host);
    }

    /// The CRLs in force (v1.1 revocation).
    pub fn crls(&self) -> &Crls {
        &self.crls
    }

    /// The token key set in force (v1.1 `tokens`).
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Whether some issuer's CRL is fetched (needs the root's tick).
    pub fn fetches_crls(&self) -> bool {
        self.config
            .policy
            .revocations()
            .iter()
            .any(|r| r.fetch().is_some())
    }

    /// Whether the token keys are fetched (needs the root's tick).
    pub fn fetches_jwks(&self) -> bool {
        self.jwks.fetches()
    }

    /// From the root's tick: starts due CRL and JWKS fetches, installs an inline CRL that was
    /// not valid yet (see [`crate::crl`], [`crate::jwks`]).
    pub fn poll_fetches<H: Host>(&self, host: &mut H) {
        if self.config.policy.revocations().is_empty() && !self.jwks.fetches() {
            return;
        }
        if let Ok(nanos) = host.now_nanos() {
            let now = UnixTime::from_nanos(nanos);
            self.crls.poll(host, &self.config.policy, now);
            self.jwks.poll(host, &self.config.policy, now);
        }
    }

    /// An HTTP call answered; false when it is not one of this filter's. A key set installed
    /// empties the verified-token cache (its entries are of another generation anyway: this
    /// frees them at once).
    pub fn on_http_call_response<H: Host>(
        &self,
        host: &mut H,
        token: u32,
        body_size: usize,
    ) -> bool {
        let now = host.now_nanos().map_or(UnixTime(0), UnixTime::from_nanos);
        if self
            .crls
            .on_http_call_response(host, &self.config.policy, token, body_size, now)
        {
            return true;
        }
        match self
            .jwks
            .on_http_call_response(host, &self.config.policy, token, body_size, now)
        {
            Some(update) => {
                if let mtls_authz_core::token::JwksUpdate::Installed { .. } = update {
                    self.tokens.borrow_mut().clear();
                }
                true
            }
            None => false,
        }
    }

    /// Decides one request from its headers; see [`crate::request`].
    pub fn on_request_headers<H: Host>(&self, host: &mut H) -> Verdict {
        request::handle(self, host)
    }

    /// Checks the form body of a request held by [`Verdict::WaitForBody`]; see
    /// [`request::body`].
    pub fn on_request_body<H: Host>(
        &self,
        host: &mut H,
        pending: PendingBody,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        request::body(self, host, pending, body_size, end_of_stream)
    }

    /// Strips protected names from the request trailers; see [`request::trailers`].
    pub fn on_request_trailers<H: Host>(&self, host: &mut H) -> Verdict {
        request::trailers(self, host)
    }

    /// Counts one request outcome (batched or at once, see [`crate::metrics`]).
    #[inline(always)]
    pub(crate) fn record<H: Host>(
        &self,
        host: &mut H,
        outcome: Outcome,
        rule_index: Option<usize>,
    ) {
        self.metrics.record(host, outcome, rule_index);
    }

    /// The identity cache and NGINX's per-connection certificates, borrowed together for
    /// one request's certificate lookup.
    #[inline(always)]
    pub(crate) fn caches(
        &self,
    ) -> (
        RefMut<'_, IdentityCache>,
        RefMut<'_, ConnectionCertificates>,
    ) {
        (self.cache.borrow_mut(), self.connections.borrow_mut())
    }

    /// The verified-token cache (see [`crate::token`]).
    pub(crate) fn token_cache(&self) -> &RefCell<VerifiedTokens> {
        &self.tokens
    }

    /// Number of verified tokens cached.
    pub fn cached_tokens(&self) -> usize {
        self.tokens.borrow().len()
    }

    /// The next request sequence number (for generated request ids).
    pub(crate) fn next_sequence(&self) -> u64 {
        let n = self.sequence.get().wrapping_add(1);
        self.sequence.set(n);
        n
    }
}
