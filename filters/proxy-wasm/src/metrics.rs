//! Counters, named for Envoy's stats tree.
//!
//! Envoy files metrics that a wasm module defines under the `wasmcustom` namespace: Envoy 1.40
//! lists them in `/stats` as `wasmcustom.mtls_authz.allowed`, and its Prometheus output drops
//! the namespace (`mtls_authz_allowed`). Per-rule counters put the rule name in the middle
//! (`mtls_authz.rule.records-read.allowed`) so a `stats_tags` regex can lift it into a tag.
//!
//! What each counter counts:
//! - `allowed`: allow verdicts (both modes).
//! - `denied`, `unauthenticated`, `bad_request`: 403 / 401 / 400 responses sent (enforce).
//! - `shadow_denied`: deny verdicts forwarded anyway in shadow mode.
//! - `rule.<rule>.allowed` / `rule.<rule>.denied`: verdicts by the deciding rule (both modes).
//! - `host_error`: requests where a host call failed and the filter denied (fail closed).
//! - `crl.<issuer>.installed|unchanged|refused|fetch_failed`: what each CRL offered or fetched
//!   for a v1.1 `revocation` issuer did (see [`crate::crl`]).
//!
//! Allow counts are batched: every host call costs a VM crossing, and two counter increments
//! were a measurable share of an allowed request's cost in Envoy. Once the host runs a tick
//! ([`Metrics::batch_allowed`], set up by the root context), `allowed` and
//! `rule.<rule>.allowed` are added up in the VM and handed to the host on each tick (every
//! second: Envoy's stats sinks flush every 5 s by default) and when the plugin is torn down.
//! Everything else — denies, 400s, 401s, host errors, shadow denies — is counted at once:
//! those are the counts an operator watches during an attack.

use std::cell::Cell;

use crate::host::{CounterId, Host, HostError};

/// Prefix of every metric name.
pub const PREFIX: &str = "mtls_authz";
/// Counter suffixes, one per outcome.
pub const ALLOWED: &str = "allowed";
/// 403 responses.
pub const DENIED: &str = "denied";
/// 401 responses.
pub const UNAUTHENTICATED: &str = "unauthenticated";
/// 400 responses.
pub const BAD_REQUEST: &str = "bad_request";
/// Shadow-mode deny verdicts.
pub const SHADOW_DENIED: &str = "shadow_denied";
/// Host failures that forced a deny.
pub const HOST_ERROR: &str = "host_error";

/// The outcome a request is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed (or public).
    Allowed,
    /// 403.
    Denied,
    /// 401.
    Unauthenticated,
    /// 400.
    BadRequest,
    /// Shadow mode, deny verdict, forwarded.
    ShadowDenied,
    /// A host call failed; the request was denied.
    HostError,
}

/// Counter ids, defined once per configuration.
#[derive(Debug)]
pub struct Metrics {
    allowed: CounterId,
    denied: CounterId,
    unauthenticated: CounterId,
    bad_request: CounterId,
    shadow_denied: CounterId,
    host_error: CounterId,
    /// (allowed, denied) per rule, indexed like `Policy::rule_names`.
    rules: Vec<(CounterId, CounterId)>,
    /// Whether allow counts wait for [`Metrics::flush`] (the host ticks) or go out at once.
    batching: Cell<bool>,
    /// Allowed requests not yet handed to the host.
    unflushed_allowed: Cell<u64>,
    /// The same per rule, indexed like `rules`.
    unflushed_rule_allowed: Vec<Cell<u64>>,
}

/// `mtls_authz.<name>`.
pub fn counter_name(name: &str) -> String {
    format!("{PREFIX}.{name}")
}

/// `mtls_authz.rule.<rule>.<outcome>`, the rule name made safe for a stat name.
pub fn rule_counter_name(rule: &str, outcome: &str) -> String {
    format!("{PREFIX}.rule.{}.{outcome}", stat_safe(rule))
}

/// `mtls_authz.crl.<issuer>.<outcome>` (v1.1 revocation, see [`crate::crl`]), the issuer name
/// made safe for a stat name.
pub fn crl_counter_name(issuer: &str, outcome: &str) -> String {
    format!("{PREFIX}.crl.{}.{outcome}", stat_safe(issuer))
}

/// `mtls_authz.jwks.<outcome>` (v1.1 `tokens.jwks_fetch`, see [`crate::jwks`]): one key set
/// per policy, so no name in between.
pub fn jwks_counter_name(outcome: &str) -> String {
    format!("{PREFIX}.jwks.{outcome}")
}

/// Keeps `[A-Za-z0-9_-]`; anything else (notably `.`, which would add a stats level) becomes
/// `_`.
fn stat_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Metrics {
    /// Defines every counter for a policy whose rules are `rule_names`.
    pub fn define<H: Host>(host: &mut H, rule_names: &[&str]) -> Result<Metrics, HostError> {
        let mut define = |name: &str| host.define_counter(&counter_name(name));
        let allowed = define(ALLOWED)?;
        let denied = define(DENIED)?;
        let unauthenticated = define(UNAUTHENTICATED)?;
        let bad_request = define(BAD_REQUEST)?;
        let shadow_denied = define(SHADOW_DENIED)?;
        let host_error = define(HOST_ERROR)?;
        let mut rules = Vec::with_capacity(rule_names.len());
        for rule in rule_names {
            rules.push((
                host.define_counter(&rule_counter_name(rule, ALLOWED))?,
                host.define_counter(&rule_counter_name(rule, DENIED))?,
            ));
        }
        Ok(Metrics {
            allowed,
            denied,
            unauthenticated,
            bad_request,
            shadow_denied,
            host_error,
            unflushed_rule_allowed: rules.iter().map(|_| Cell::new(0)).collect(),
            rules,
            batching: Cell::new(false),
            unflushed_allowed: Cell::new(0),
        })
    }

    /// From now on allow counts wait for [`Metrics::flush`]: call it only once the host has
    /// agreed to tick.
    pub fn batch_allowed(&self) {
        self.batching.set(true);
    }

    /// Hands every batched allow count to the host.
    pub fn flush<H: Host>(&self, host: &mut H) {
        let pending = self.unflushed_allowed.take();
        if pending > 0 {
            host.increment_counter(self.allowed, pending);
        }
        for ((allowed, _), unflushed) in self.rules.iter().zip(&self.unflushed_rule_allowed) {
            let pending = unflushed.take();
            if pending > 0 {
                host.increment_counter(*allowed, pending);
            }
        }
    }

    /// Counts one request: its outcome, and its deciding rule when there is one.
    pub fn record<H: Host>(&self, host: &mut H, outcome: Outcome, rule_index: Option<usize>) {
        if outcome == Outcome::Allowed && self.batching.get() {
            add_one(&self.unflushed_allowed);
            if let Some(unflushed) = rule_index.and_then(|i| self.unflushed_rule_allowed.get(i)) {
                add_one(unflushed);
            }
            return;
        }
        let id = match outcome {
            Outcome::Allowed => self.allowed,
            Outcome::Denied => self.denied,
            Outcome::Unauthenticated => self.unauthenticated,
            Outcome::BadRequest => self.bad_request,
            Outcome::ShadowDenied => self.shadow_denied,
            Outcome::HostError => self.host_error,
        };
        host.increment_counter(id, 1);
        if let Some((allowed, denied)) = rule_index.and_then(|i| self.rules.get(i)) {
            let rule_id = if outcome == Outcome::Allowed {
                *allowed
            } else {
                *denied
            };
            host.increment_counter(rule_id, 1);
        }
    }
}

fn add_one(count: &Cell<u64>) {
    count.set(count.get().saturating_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::mock::MockHost;

    #[test]
    fn names_read_well_in_envoy_stats() {
        assert_eq!(counter_name(ALLOWED), "mtls_authz.allowed");
        assert_eq!(
            rule_counter_name("records-read", ALLOWED),
            "mtls_authz.rule.records-read.allowed"
        );
        assert_eq!(
            rule_counter_name("v1.admin/x y", DENIED),
            "mtls_authz.rule.v1_admin_x_y.denied"
        );
    }

    #[test]
    fn defines_fixed_and_per_rule_counters() {
        let mut host = MockHost::new();
        Metrics::define(&mut host, &["a", "b"]).unwrap();
        assert_eq!(
            host.counter_names(),
            [
                "mtls_authz.allowed",
                "mtls_authz.denied",
                "mtls_authz.unauthenticated",
                "mtls_authz.bad_request",
                "mtls_authz.shadow_denied",
                "mtls_authz.host_error",
                "mtls_authz.rule.a.allowed",
                "mtls_authz.rule.a.denied",
                "mtls_authz.rule.b.allowed",
                "mtls_authz.rule.b.denied",
            ]
        );
    }

    #[test]
    fn records_outcome_and_rule() {
        let mut host = MockHost::new();
        let metrics = Metrics::define(&mut host, &["a", "b"]).unwrap();
        metrics.record(&mut host, Outcome::Allowed, Some(1));
        metrics.record(&mut host, Outcome::Denied, Some(1));
        metrics.record(&mut host, Outcome::ShadowDenied, Some(0));
        metrics.record(&mut host, Outcome::Unauthenticated, None);
        metrics.record(&mut host, Outcome::BadRequest, Some(99));
        assert_eq!(host.counter("mtls_authz.allowed"), Some(1));
        assert_eq!(host.counter("mtls_authz.denied"), Some(1));
        assert_eq!(host.counter("mtls_authz.shadow_denied"), Some(1));
        assert_eq!(host.counter("mtls_authz.unauthenticated"), Some(1));
        assert_eq!(host.counter("mtls_authz.bad_request"), Some(1));
        assert_eq!(host.counter("mtls_authz.host_error"), Some(0));
        assert_eq!(host.counter("mtls_authz.rule.b.allowed"), Some(1));
        assert_eq!(host.counter("mtls_authz.rule.b.denied"), Some(1));
        assert_eq!(host.counter("mtls_authz.rule.a.denied"), Some(1));
        assert_eq!(host.counter("mtls_authz.rule.a.allowed"), Some(0));
    }

    #[test]
    fn batched_allow_counts_reach_the_host_on_flush_and_denies_at_once() {
        let mut host = MockHost::new();
        let metrics = Metrics::define(&mut host, &["a", "b"]).unwrap();
        metrics.batch_allowed();
        metrics.record(&mut host, Outcome::Allowed, Some(1));
        metrics.record(&mut host, Outcome::Allowed, Some(1));
        metrics.record(&mut host, Outcome::Allowed, None);
        metrics.record(&mut host, Outcome::Denied, Some(0));
        assert_eq!(host.counter("mtls_authz.allowed"), Some(0));
        assert_eq!(host.counter("mtls_authz.rule.b.allowed"), Some(0));
        assert_eq!(host.counter("mtls_authz.denied"), Some(1));
        assert_eq!(host.counter("mtls_authz.rule.a.denied"), Some(1));
        metrics.flush(&mut host);
        assert_eq!(host.counter("mtls_authz.allowed"), Some(3));
        assert_eq!(host.counter("mtls_authz.rule.b.allowed"), Some(2));
        assert_eq!(host.counter("mtls_authz.rule.a.allowed"), Some(0));
        // A flush hands each count over once.
        metrics.flush(&mut host);
        assert_eq!(host.counter("mtls_authz.allowed"), Some(3));
        assert_eq!(host.counter("mtls_authz.rule.b.allowed"), Some(2));
    }
}
