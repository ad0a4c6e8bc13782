//! The issuer's key set as the proxy keeps it (v1.1 `tokens.jwks_fetch`): the last good
//! [`KeySet`], the schedule of the next fetch, and a generation that changes with the set.
//!
//! The same shape as [`crate::crl::CrlSource`]: the glue polls [`JwksSource::poll`] from its
//! timer, sends the HTTP call it is told to and hands the answer to
//! [`JwksSource::on_response`]. A fetched set that does not parse, or has no usable key, never
//! replaces the last good one. Before the first good set (no inline `jwks`, nothing fetched
//! yet) there is no key: tokens fail closed with `token_keys_unavailable`.
//!
//! Verified tokens may be cached by the glue; an entry must be tagged with
//! [`JwksSource::generation`] and looked up under the current one, so a token whose key was
//! removed is never accepted from the cache after the set changed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::error::shown;
use super::{JwksError, JwksLimits, KeySet};
use crate::refresh::{
    Ended, FetchResponse, FetchTicket, Fetches, Poll, RefreshPlan, RefreshSchedule,
};
use crate::time::UnixTime;

/// Most `kid`s named in one log line (a set has 2–10 in practice).
const MAX_KIDS_SHOWN: usize = 10;

/// What a fetched key set did to the source. Its `Display` is the log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksUpdate {
    /// The set is now in force.
    Installed {
        /// Usable keys.
        keys: usize,
        /// Their `kid`s (keys without one are left out).
        kids: Vec<String>,
        /// Whether it replaced a set (false: the first one).
        replaced: bool,
    },
    /// The same bytes as the set in force.
    Unchanged {
        /// Usable keys in force.
        keys: usize,
    },
    /// The set failed to parse or has no usable key; the last good one (if any) stays.
    Refused(JwksError),
    /// No usable response (transport error, or a status other than 200).
    FetchFailed {
        /// The HTTP status; `None` for a transport error.
        status: Option<u16>,
    },
    /// The answer belongs to a fetch that was abandoned or already answered: ignored.
    Ignored,
}

impl JwksUpdate {
    /// Stable short name for counters: `installed`, `unchanged`, `refused`, `fetch_failed`,
    /// `ignored`.
    pub fn code(&self) -> &'static str {
        match self {
            JwksUpdate::Installed { .. } => "installed",
            JwksUpdate::Unchanged { .. } => "unchanged",
            JwksUpdate::Refused(_) => "refused",
            JwksUpdate::FetchFailed { .. } => "fetch_failed",
            JwksUpdate::Ignored => "ignored",
        }
    }
}

impl fmt::Display for JwksUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksUpdate::Installed {
                keys,
                kids,
                replaced,
            } => {
                let plural = if *keys == 1 { "key" } else { "keys" };
                write!(f, "JWKS installed: {keys} {plural}")?;
                if !kids.is_empty() {
                    f.write_str(" (kid")?;
                    for (i, kid) in kids.iter().take(MAX_KIDS_SHOWN).enumerate() {
                        f.write_str(if i == 0 { " " } else { ", " })?;
                        f.write_str(&shown(kid))?;
                    }
                    if kids.len() > MAX_KIDS_SHOWN {
                        write!(f, ", ... {} more", kids.len() - MAX_KIDS_SHOWN)?;
                    }
                    f.write_str(")")?;
                }
                f.write_str(if *replaced {
                    "; replaced the previous set"
                } else {
                    "; first key set"
                })
            }
            JwksUpdate::Unchanged { keys } => write!(f, "JWKS unchanged ({keys} keys)"),
            JwksUpdate::Refused(error) => write!(
                f,
                "JWKS refused ({}): {error}; the last good key set stays",
                error.code()
            ),
            JwksUpdate::FetchFailed {
                status: Some(status),
            } => write!(
                f,
                "JWKS fetch failed: HTTP status {status}; the last good key set stays"
            ),
            JwksUpdate::FetchFailed { status: None } => f.write_str(
                "JWKS fetch failed: no response (connection or timeout); the last good key set stays",
            ),
            JwksUpdate::Ignored => f.write_str("late JWKS response to an abandoned fetch ignored"),
        }
    }
}

/// Counts of what happened to a source's fetches, for the proxy's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JwksCounts {
    /// Key sets installed by a fetch.
    pub installed: u64,
    /// Fetches that returned the set in force.
    pub unchanged: u64,
    /// Fetched sets refused (parse error, no usable key, too large).
    pub refused: u64,
    /// Fetches without a usable HTTP response, abandoned ones included.
    pub fetch_failed: u64,
}

/// The key set in force for one policy's `tokens`, and when to fetch the next one.
#[derive(Clone, Debug)]
pub struct JwksSource {
    limits: JwksLimits,
    fetches: Fetches,
    current: Option<KeySet>,
    /// The set in force came from a fetch (only such a set is carried over a
    /// reconfiguration: an inline one is the new policy's to give).
    fetched: bool,
    generation: u64,
    counts: JwksCounts,
}

impl JwksSource {
    /// A source holding `inline` (if any), fetching on `plan` (if any).
    pub fn new(inline: Option<KeySet>, plan: Option<RefreshPlan>, limits: JwksLimits) -> Self {
        Self {
            limits,
            fetches: Fetches::new(plan),
            current: inline,
            fetched: false,
            generation: 0,
            counts: JwksCounts::default(),
        }
    }

    /// The key set in force; `None` before the first good one.
    pub fn current(&self) -> Option<&KeySet> {
        self.current.as_ref()
    }

    /// The set in force, if it came from a fetch.
    pub fn fetched(&self) -> Option<&KeySet> {
        self.current.as_ref().filter(|_| self.fetched)
    }

    /// Changes whenever the set in force does: tag cached verifications with it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What happened to this source's fetches so far.
    pub fn counts(&self) -> JwksCounts {
        self.counts
    }

    /// The fetch schedule; `None` for an inline-only source.
    pub fn schedule(&self) -> Option<&RefreshSchedule> {
        self.fetches.schedule()
    }

    /// The limits a fetched set must respect (the glue refuses a larger body before reading
    /// it).
    pub fn limits(&self) -> &JwksLimits {
        &self.limits
    }

    /// Takes over a set fetched earlier from the same source (the proxy keeps the last one per
    /// source for its VM): a reconfiguration does not send tokens back to
    /// `token_keys_unavailable` or to an older inline set until the next fetch.
    pub fn adopt(&mut self, keys: KeySet) {
        self.install(keys);
    }

    /// Called from the glue's timer: whether to start a fetch now. An abandoned fetch counts as
    /// a failed one.
    pub fn poll(&mut self, now: UnixTime) -> Poll {
        self.fetches.poll(now, &mut self.counts.fetch_failed)
    }

    /// Takes the answer to fetch `ticket`: a 200 body is read as a JWKS; anything else is a
    /// failed fetch. The schedule learns the outcome either way.
    pub fn on_response(
        &mut self,
        ticket: FetchTicket,
        now: UnixTime,
        response: FetchResponse<'_>,
    ) -> JwksUpdate {
        let update = match self
            .fetches
            .answer(ticket, response, &mut self.counts.fetch_failed)
        {
            None => return JwksUpdate::Ignored,
            Some(Ok(body)) => self.offer(body),
            Some(Err(status)) => JwksUpdate::FetchFailed { status },
        };
        self.end(ticket, now, update)
    }

    /// The answer to fetch `ticket` has a body of `len` bytes, over the JWKS limit: refused
    /// without reading it.
    pub fn on_oversized(&mut self, ticket: FetchTicket, now: UnixTime, len: usize) -> JwksUpdate {
        if !self.fetches.end(ticket, now, Ended::Failed) {
            return JwksUpdate::Ignored;
        }
        self.counts.refused += 1;
        JwksUpdate::Refused(JwksError::TooLarge {
            len,
            max: self.limits.max_bytes,
        })
    }

    /// Reads `bytes` as a JWKS and installs it unless it is the set in force (same bytes) or
    /// refused.
    fn offer(&mut self, bytes: &[u8]) -> JwksUpdate {
        let keys = match KeySet::from_jwks(bytes, &self.limits) {
            Ok(keys) => keys,
            Err(error) => return JwksUpdate::Refused(error),
        };
        if let Some(current) = &self.current {
            if current.digest() == keys.digest() {
                return JwksUpdate::Unchanged {
                    keys: current.keys().len(),
                };
            }
        }
        let update = JwksUpdate::Installed {
            keys: keys.keys().len(),
            kids: keys
                .keys()
                .iter()
                .filter_map(|key| key.kid().map(String::from))
                .collect(),
            replaced: self.current.is_some(),
        };
        self.install(keys);
        update
    }

    fn install(&mut self, keys: KeySet) {
        self.current = Some(keys);
        self.fetched = true;
        self.generation = self.generation.wrapping_add(1);
    }

    /// Counts `update` (a failed fetch is counted by [`Fetches::answer`]) and tells the
    /// schedule how fetch `ticket` ended.
    fn end(&mut self, ticket: FetchTicket, now: UnixTime, update: JwksUpdate) -> JwksUpdate {
        let ended = match &update {
            JwksUpdate::Installed { .. } => {
                self.counts.installed += 1;
                Ended::Succeeded { expires: None }
            }
            JwksUpdate::Unchanged { .. } => {
                self.counts.unchanged += 1;
                Ended::Succeeded { expires: None }
            }
            JwksUpdate::Refused(_) => {
                self.counts.refused += 1;
                Ended::Failed
            }
            JwksUpdate::FetchFailed { .. } => Ended::Failed,
            JwksUpdate::Ignored => return update,
        };
        self.fetches.end(ticket, now, ended);
        update
    }
}
