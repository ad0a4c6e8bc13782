//! v1.1 revocation in the proxy: the CRLs in force for the filter's policy, refreshed from the
//! root context's tick with `dispatch_http_call`.
//!
//! The timing is the core's ([`mtls_authz_core::refresh`], through each
//! [`mtls_authz_core::crl::CrlSource`]); this module only sends the calls it is told to, hands
//! the answers back, logs one line per update and counts them. Requests are judged against
//! whatever is in force, which fails closed: before the first fetch answers, an issuer
//! without an inline CRL has none, and its certificates get 401
//! `unauthenticated:revocation_unavailable` (unless `when_unavailable: allow`).
//!
//! Each VM fetches on its own: a CRL is fetched every few minutes, so sharing one fetch
//! through shared data would save little and add a second copy of every list.
//!
//! Reconfiguration never rolls revocation back: the newest list installed per CA is kept for
//! the whole VM ([`NEWEST_BY_CA`]) and every new filter starts from it when it is newer than
//! its inline CRL. A VM-wide record rather than a hand-over from the replaced filter, because
//! Envoy gives a changed plugin configuration a NEW root context (no second `on_configure` on
//! the old one), which never sees the filter it replaces. (An NGINX reload starts new VMs:
//! they start from the inline CRL and fetch at their first tick.)

use std::cell::{Ref, RefCell};
use std::collections::BTreeMap;

use mtls_authz_core::crl::{FetchResponse, RevocationList, Update};
use mtls_authz_core::policy::CrlStore;
use mtls_authz_core::refresh::{FetchTicket, Poll};
use mtls_authz_core::time::UnixTime;
use mtls_authz_core::Policy;

use crate::fetch;
use crate::host::{CounterId, Host, HostError, LogLevel};
use crate::metrics::crl_counter_name;

thread_local! {
    /// The newest CRL this VM installed per CA (by the SHA-256 of the CA certificate), shared
    /// by every root context of the VM (they share its memory; a VM is single-threaded).
    /// Lists share their serials, so this costs no second copy of a large CRL.
    static NEWEST_BY_CA: RefCell<BTreeMap<[u8; 32], RevocationList>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Records the lists in force in `store` that are newer than what the VM knew.
fn remember(policy: &Policy, store: &CrlStore) {
    NEWEST_BY_CA.with(|newest| {
        let mut newest = newest.borrow_mut();
        for (revocation, source) in policy.revocations().iter().zip(store.sources()) {
            let Some(list) = source.current() else {
                continue;
            };
            let known = newest.get(revocation.ca_fingerprint());
            if known.is_none_or(|known| list.number() > known.number()) {
                newest.insert(*revocation.ca_fingerprint(), list.clone());
            }
        }
    });
}

/// Starts each source from the VM's newest list of its CA when that is newer (a source's
/// `adopt` keeps the higher CRL number).
fn adopt_newest(policy: &Policy, store: &mut CrlStore) {
    NEWEST_BY_CA.with(|newest| {
        let newest = newest.borrow();
        for (revocation, source) in policy.revocations().iter().zip(store.sources_mut()) {
            if let Some(list) = newest.get(revocation.ca_fingerprint()) {
                source.adopt(list.clone());
            }
        }
    });
}

/// Counter suffixes of one issuer's CRL updates.
pub const INSTALLED: &str = "installed";
/// A fetch returned the CRL in force.
pub const UNCHANGED: &str = "unchanged";
/// A CRL failed validation or was older than the one in force.
pub const REFUSED: &str = "refused";
/// No usable response (transport error, status other than 200, timeout).
pub const FETCH_FAILED: &str = "fetch_failed";

/// One issuer's counters.
#[derive(Clone, Copy, Debug)]
struct Counters {
    installed: CounterId,
    unchanged: CounterId,
    refused: CounterId,
    fetch_failed: CounterId,
}

/// An HTTP call in flight: its host token, the source it is for and the schedule's ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    token: u32,
    source: usize,
    ticket: FetchTicket,
}

/// The CRLs of one filter.
#[derive(Debug, Default)]
pub struct Crls {
    store: RefCell<CrlStore>,
    counters: Vec<Counters>,
    in_flight: RefCell<Vec<InFlight>>,
}

impl Crls {
    /// The store for `policy` at `now`, starting from the VM's newest list of each CA when
    /// that is newer than the inline one, and the counters of each issuer.
    pub fn new<H: Host>(host: &mut H, policy: &Policy, now: UnixTime) -> Result<Crls, HostError> {
        let mut store = policy.crl_store(now);
        adopt_newest(policy, &mut store);
        remember(policy, &store);
        let mut counters = Vec::with_capacity(policy.revocations().len());
        for revocation in policy.revocations() {
            let mut define =
                |outcome| host.define_counter(&crl_counter_name(revocation.name(), outcome));
            counters.push(Counters {
                installed: define(INSTALLED)?,
                unchanged: define(UNCHANGED)?,
                refused: define(REFUSED)?,
                fetch_failed: define(FETCH_FAILED)?,
            });
        }
        let crls = Crls {
            store: RefCell::new(store),
            counters,
            in_flight: RefCell::new(Vec::new()),
        };
        for (revocation, source) in policy
            .revocations()
            .iter()
            .zip(crls.store.borrow().sources())
        {
            let held = match source.current() {
                Some(list) => format!(
                    "CRL number {} in force ({} entries)",
                    list.number(),
                    list.entry_count()
                ),
                None => {
                    String::from("no CRL yet: its certificates are refused until one is fetched")
                }
            };
            host.log(
                LogLevel::Info,
                &format!("mtls-authz: issuer {}: {held}", revocation.name()),
            );
        }
        Ok(crls)
    }

    /// The CRLs in force, to judge a request against.
    pub fn store(&self) -> Ref<'_, CrlStore> {
        self.store.borrow()
    }

    /// From the root's tick: starts the fetches that are due, gives up those that took too
    /// long.
    pub fn poll<H: Host>(&self, host: &mut H, policy: &Policy, now: UnixTime) {
        let mut store = self.store.borrow_mut();
        let mut installed = false;
        for (index, (revocation, source)) in policy
            .revocations()
            .iter()
            .zip(store.sources_mut())
            .enumerate()
        {
            // An inline CRL not valid yet at configuration (its thisUpdate ahead of this
            // clock, or no clock then) is offered again until it is — also when an older
            // list carried over from an earlier configuration is in force meanwhile.
            let inline_due = source
                .current()
                .is_none_or(|current| revocation.inline_crl_is_newer_than(current.number()));
            if let (true, Some(inline)) = (inline_due, revocation.inline_crl()) {
                if let update @ Update::Installed { .. } = source.offer(inline, now) {
                    host.log(
                        LogLevel::Info,
                        &format!("mtls-authz: issuer {}: inline {update}", revocation.name()),
                    );
                    installed = true;
                }
            }
            let Some(fetch) = revocation.fetch() else {
                continue;
            };
            match source.poll(now) {
                Poll::Wait => {}
                Poll::Abandoned(ticket) => {
                    self.in_flight
                        .borrow_mut()
                        .retain(|call| call.source != index || call.ticket != ticket);
                    self.count(host, index, |c| c.fetch_failed);
                    host.log(
                        LogLevel::Warn,
                        &format!(
                            "mtls-authz: issuer {}: CRL fetch gave no answer in {} s; the last good CRL stays",
                            revocation.name(),
                            fetch.plan().timeout_secs()
                        ),
                    );
                }
                Poll::Fetch(ticket) => match fetch::dispatch(host, fetch, "application/pkix-crl") {
                    Ok(token) => self.in_flight.borrow_mut().push(InFlight {
                        token,
                        source: index,
                        ticket,
                    }),
                    Err(error) => {
                        let update = source.on_response(ticket, now, FetchResponse::Transport);
                        host.log(
                            LogLevel::Warn,
                            &format!(
                                "mtls-authz: issuer {}: {error}; {update}",
                                revocation.name()
                            ),
                        );
                        self.count_update(host, index, &update);
                    }
                },
            }
        }
        if installed {
            remember(policy, &store);
        }
    }

    /// An HTTP call answered. Returns false when `token` is not one of this filter's calls.
    /// A body over the CRL size limit is refused without being read.
    pub fn on_http_call_response<H: Host>(
        &self,
        host: &mut H,
        policy: &Policy,
        token: u32,
        body_size: usize,
        now: UnixTime,
    ) -> bool {
        let call = {
            let mut in_flight = self.in_flight.borrow_mut();
            let Some(at) = in_flight.iter().position(|call| call.token == token) else {
                return false;
            };
            in_flight.swap_remove(at)
        };
        let mut store = self.store.borrow_mut();
        let (Some(source), Some(revocation)) = (
            store.sources_mut().get_mut(call.source),
            policy.revocations().get(call.source),
        ) else {
            return false;
        };
        let update = if body_size > source.limits().max_pem_bytes() {
            source.on_oversized(call.ticket, now, body_size)
        } else {
            fetch::with_response(host, body_size, |response| {
                source.on_response(call.ticket, now, response)
            })
        };
        if matches!(update, Update::Installed { .. }) {
            remember(policy, &store);
        }
        drop(store);
        let level = match update {
            Update::Installed { .. } => LogLevel::Info,
            Update::Unchanged { .. } | Update::Ignored => LogLevel::Debug,
            _ => LogLevel::Warn,
        };
        host.log(
            level,
            &format!("mtls-authz: issuer {}: {update}", revocation.name()),
        );
        self.count_update(host, call.source, &update);
        true
    }

    fn count_update<H: Host>(&self, host: &mut H, index: usize, update: &Update) {
        match update {
            Update::Installed { .. } => self.count(host, index, |c| c.installed),
            Update::Unchanged { .. } => self.count(host, index, |c| c.unchanged),
            Update::Invalid(_) | Update::NotNewer(_) => self.count(host, index, |c| c.refused),
            Update::FetchFailed { .. } => self.count(host, index, |c| c.fetch_failed),
            Update::Ignored => {}
        }
    }

    fn count<H: Host>(&self, host: &mut H, index: usize, which: impl Fn(&Counters) -> CounterId) {
        if let Some(counters) = self.counters.get(index) {
            host.increment_counter(which(counters), 1);
        }
    }
}
