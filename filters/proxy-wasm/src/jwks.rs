//! v1.1 `tokens.jwks_fetch` in the proxy: the issuer's key set in force, refreshed from the
//! root context's tick with `dispatch_http_call`, exactly as CRLs are ([`crate::crl`], the
//! shared transport in [`crate::fetch`]).
//!
//! The timing and what a fetched set is worth are the core's
//! ([`mtls_authz_core::token::JwksSource`]); this module sends the calls, hands the answers
//! back, logs one line per update and counts them (`mtls_authz.jwks.<outcome>`). Before the
//! first good set (no inline `jwks`, nothing fetched yet) tokens fail closed with 401
//! `unauthenticated:token_keys_unavailable`.
//!
//! A changed set must take effect for the next request: the verified-token cache is keyed by
//! the set's generation (an entry of another generation is a miss), and the filter empties it
//! when a set is installed ([`crate::filter::Filter::on_http_call_response`]).
//!
//! Reconfiguration keeps the last fetched set per source, for the whole VM ([`LAST_FETCHED`]),
//! and a new filter fetching from the same source starts from it rather than from an older inline
//! set (whose keys may have been retired since) or from nothing. A VM-wide record rather than
//! a hand-over from the replaced filter, because Envoy gives a changed plugin configuration a
//! new root context in the same VM, which never sees the filter it replaces.

use std::cell::{Cell, Ref, RefCell};

use mtls_authz_core::policy::fetch::FetchSpec;
use mtls_authz_core::refresh::{FetchResponse, FetchTicket, Poll};
use mtls_authz_core::time::UnixTime;
use mtls_authz_core::token::{JwksSource, JwksUpdate, KeySet};
use mtls_authz_core::Policy;

use crate::fetch;
use crate::host::{CounterId, Host, HostError, LogLevel};
use crate::metrics::jwks_counter_name;

pub use crate::crl::{FETCH_FAILED, INSTALLED, REFUSED, UNCHANGED};

/// Most key sets [`LAST_FETCHED`] keeps: one per `jwks_fetch` source in use in the VM (a VM
/// serving several listeners with different sources), the least recently fetched dropped.
const MAX_FETCHED_SOURCES: usize = 8;

thread_local! {
    /// The last key set this VM fetched per source, most recent first: shared by every root
    /// context of the VM (one VM is one thread; its root contexts share its memory). Per
    /// source, so two listeners' filters with different sources never evict each other's.
    static LAST_FETCHED: RefCell<Vec<(FetchSpec, KeySet)>> = const { RefCell::new(Vec::new()) };
}

/// Records `keys` as the set last fetched from `spec`'s source.
fn remember_fetched(spec: &FetchSpec, keys: &KeySet) {
    LAST_FETCHED.with(|last| {
        let mut last = last.borrow_mut();
        last.retain(|(of, _)| !of.same_source(spec));
        last.insert(0, (spec.clone(), keys.clone()));
        last.truncate(MAX_FETCHED_SOURCES);
    });
}

#[derive(Clone, Copy, Debug)]
struct Counters {
    installed: CounterId,
    unchanged: CounterId,
    refused: CounterId,
    fetch_failed: CounterId,
}

/// The key set of one filter (`None` without `tokens`), its counters (only with
/// `jwks_fetch`) and the fetch in flight.
#[derive(Debug, Default)]
pub struct Jwks {
    source: RefCell<Option<JwksSource>>,
    counters: Option<Counters>,
    in_flight: Cell<Option<(u32, FetchTicket)>>,
}

impl Jwks {
    /// The key source for `policy`: the set the VM fetched last when it was fetched by the
    /// same `jwks_fetch` (in preference to the inline set: it was fetched after the policy
    /// was written), else the inline set or none.
    pub fn new<H: Host>(host: &mut H, policy: &Policy) -> Result<Jwks, HostError> {
        let Some(tokens) = policy.tokens() else {
            return Ok(Jwks::default());
        };
        let mut source = tokens.jwks_source();
        if let Some(spec) = tokens.jwks_fetch() {
            LAST_FETCHED.with(|last| {
                if let Some((_, keys)) = last.borrow().iter().find(|(of, _)| of.same_source(spec)) {
                    source.adopt(keys.clone());
                }
            });
        }
        let counters = match tokens.jwks_fetch() {
            None => None,
            Some(_) => {
                let mut define = |outcome| host.define_counter(&jwks_counter_name(outcome));
                Some(Counters {
                    installed: define(INSTALLED)?,
                    unchanged: define(UNCHANGED)?,
                    refused: define(REFUSED)?,
                    fetch_failed: define(FETCH_FAILED)?,
                })
            }
        };
        if tokens.jwks_fetch().is_some() {
            let held = match (source.fetched(), source.current()) {
                (Some(keys), _) => format!(
                    "the key set fetched before is in force ({} keys) until the next fetch",
                    keys.keys().len()
                ),
                (None, Some(keys)) => format!(
                    "the inline key set is in force ({} keys) until a fetch installs one",
                    keys.keys().len()
                ),
                (None, None) => String::from(
                    "no key set yet: tokens are refused (token_keys_unavailable) until one is fetched",
                ),
            };
            host.log(LogLevel::Info, &format!("mtls-authz: JWKS: {held}"));
        }
        Ok(Jwks {
            source: RefCell::new(Some(source)),
            counters,
            in_flight: Cell::new(None),
        })
    }

    /// The key source (`None` without `tokens`), to verify a request's token with.
    pub fn source(&self) -> Ref<'_, Option<JwksSource>> {
        self.source.borrow()
    }

    /// Whether the keys are fetched (needs the root's tick).
    pub fn fetches(&self) -> bool {
        self.counters.is_some()
    }

    /// From the root's tick: starts the fetch when due, gives it up when it took too long.
    pub fn poll<H: Host>(&self, host: &mut H, policy: &Policy, now: UnixTime) {
        let Some(fetch) = policy.tokens().and_then(|tokens| tokens.jwks_fetch()) else {
            return;
        };
        let mut source = self.source.borrow_mut();
        let Some(source) = source.as_mut() else {
            return;
        };
        match source.poll(now) {
            Poll::Wait => {}
            Poll::Abandoned(_) => {
                self.in_flight.set(None);
                self.count(host, |c| c.fetch_failed);
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "mtls-authz: JWKS fetch gave no answer in {} s; the last good key set stays",
                        fetch.plan().timeout_secs()
                    ),
                );
            }
            Poll::Fetch(ticket) => match fetch::dispatch(host, fetch, "application/jwk-set+json") {
                Ok(token) => self.in_flight.set(Some((token, ticket))),
                Err(error) => {
                    let update = source.on_response(ticket, now, FetchResponse::Transport);
                    host.log(
                        LogLevel::Warn,
                        &format!("mtls-authz: JWKS: {error}; {update}"),
                    );
                    self.count_update(host, &update);
                }
            },
        }
    }

    /// An HTTP call answered. `None` when `token` is not this filter's JWKS fetch; else the
    /// update (logged and counted). A body over the JWKS size limit is refused unread.
    pub fn on_http_call_response<H: Host>(
        &self,
        host: &mut H,
        policy: &Policy,
        token: u32,
        body_size: usize,
        now: UnixTime,
    ) -> Option<JwksUpdate> {
        let (call, ticket) = self.in_flight.get()?;
        if call != token {
            return None;
        }
        self.in_flight.set(None);
        let mut source = self.source.borrow_mut();
        let source = source.as_mut()?;
        let update = if body_size > source.limits().max_bytes {
            source.on_oversized(ticket, now, body_size)
        } else {
            fetch::with_response(host, body_size, |response| {
                source.on_response(ticket, now, response)
            })
        };
        // An unchanged set is recorded too: another filter of the VM may have recorded its
        // own source since.
        if let (
            JwksUpdate::Installed { .. } | JwksUpdate::Unchanged { .. },
            Some(keys),
            Some(spec),
        ) = (
            &update,
            source.fetched(),
            policy.tokens().and_then(|tokens| tokens.jwks_fetch()),
        ) {
            remember_fetched(spec, keys);
        }
        let level = match update {
            JwksUpdate::Installed { .. } => LogLevel::Info,
            JwksUpdate::Unchanged { .. } | JwksUpdate::Ignored => LogLevel::Debug,
            _ => LogLevel::Warn,
        };
        host.log(level, &format!("mtls-authz: {update}"));
        self.count_update(host, &update);
        Some(update)
    }

    fn count_update<H: Host>(&self, host: &mut H, update: &JwksUpdate) {
        match update {
            JwksUpdate::Installed { .. } => self.count(host, |c| c.installed),
            JwksUpdate::Unchanged { .. } => self.count(host, |c| c.unchanged),
            JwksUpdate::Refused(_) => self.count(host, |c| c.refused),
            JwksUpdate::FetchFailed { .. } => self.count(host, |c| c.fetch_failed),
            JwksUpdate::Ignored => {}
        }
    }

    fn count<H: Host>(&self, host: &mut H, which: impl Fn(&Counters) -> CounterId) {
        if let Some(counters) = &self.counters {
            host.increment_counter(which(counters), 1);
        }
    }
}
