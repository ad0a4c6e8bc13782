//! One issuer's CRL as the proxy keeps it: the last good [`RevocationList`], the schedule of
//! the next fetch, and what a request's certificate is worth against them.
//!
//! The glue polls [`CrlSource::poll`] from its timer, sends the HTTP call it is told to, and
//! hands the answer to [`CrlSource::on_response`]; inline CRLs from the policy go through
//! [`CrlSource::offer`]. A CRL that fails any check, or would roll the number back, never
//! replaces the last good one. A request is judged by [`CrlSource::status`], which fails
//! closed: no CRL yet, a stale one, or a certificate this CRL does not speak for is
//! [`RevocationStatus::Unavailable`], never good.

use core::fmt;

use super::{crl_der, format_time, CaCertificate, CrlError, CrlLimits, CrlNumber};
use super::{ReplaceError, RevocationList};
use crate::identity::Identity;
pub use crate::refresh::FetchResponse;
use crate::refresh::{Ended, FetchTicket, Fetches, Poll, RefreshPlan, RefreshSchedule};
use crate::time::UnixTime;

/// What an offered or fetched CRL did to the source. Its `Display` is the log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// The CRL is now in force.
    Installed {
        /// The number it replaced; `None` for the first CRL of this source.
        replaced: Option<CrlNumber>,
        /// Its number.
        number: CrlNumber,
        /// Revoked entries listed.
        entries: usize,
        /// Its nextUpdate.
        next_update: UnixTime,
    },
    /// The same CRL as the one in force (same signature, or same number and bytes).
    Unchanged {
        /// The number in force.
        number: CrlNumber,
    },
    /// The CRL failed validation; the last good one (if any) stays.
    Invalid(CrlError),
    /// A valid CRL that may not replace the one in force (an older number, or another CRL under
    /// the same number); the one in force stays.
    NotNewer(ReplaceError),
    /// The fetch failed (transport error or a status other than 200).
    FetchFailed {
        /// The HTTP status; `None` for a transport error.
        status: Option<u16>,
    },
    /// The answer belongs to a fetch that was abandoned or already answered: ignored.
    Ignored,
}

impl Update {
    /// Stable short name for counters: `installed`, `unchanged`, `invalid`, `not_newer`,
    /// `fetch_failed`, `ignored`.
    pub fn code(&self) -> &'static str {
        match self {
            Update::Installed { .. } => "installed",
            Update::Unchanged { .. } => "unchanged",
            Update::Invalid(_) => "invalid",
            Update::NotNewer(_) => "not_newer",
            Update::FetchFailed { .. } => "fetch_failed",
            Update::Ignored => "ignored",
        }
    }

    /// Why a CRL was not installed, as a stable code (the [`CrlError::code`] of an invalid
    /// one); `None` for updates that are not refusals.
    pub fn refusal_code(&self) -> Option<&'static str> {
        match self {
            Update::Invalid(error) => Some(error.code()),
            Update::NotNewer(ReplaceError::Older { .. }) => Some("crl_older_number"),
            Update::NotNewer(ReplaceError::SameNumber { .. }) => Some("crl_same_number_different"),
            Update::NotNewer(_) => Some("crl_other_issuer"),
            _ => None,
        }
    }
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Update::Installed {
                replaced,
                number,
                entries,
                next_update,
            } => {
                let plural = if *entries == 1 { "entry" } else { "entries" };
                write!(
                    f,
                    "CRL number {number} installed: {entries} {plural}, next update {}",
                    format_time(*next_update)
                )?;
                match replaced {
                    Some(previous) => write!(f, " (replaced number {previous})"),
                    None => f.write_str(" (first CRL)"),
                }
            }
            Update::Unchanged { number } => write!(f, "CRL number {number} unchanged"),
            Update::Invalid(error) => write!(
                f,
                "CRL refused ({}): {error}; the last good CRL stays",
                error.code()
            ),
            Update::NotNewer(error) => write!(f, "CRL not installed: {error}"),
            Update::FetchFailed {
                status: Some(status),
            } => write!(
                f,
                "CRL fetch failed: HTTP status {status}; the last good CRL stays"
            ),
            Update::FetchFailed { status: None } => f.write_str(
                "CRL fetch failed: no response (connection or timeout); the last good CRL stays",
            ),
            Update::Ignored => f.write_str("late CRL response to an abandoned fetch ignored"),
        }
    }
}

/// A certificate's standing against its issuer's CRL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// A fresh CRL of its issuer does not list it.
    Good,
    /// A CRL of its issuer lists it (any reason, `certificateHold` included).
    Revoked,
    /// It cannot be told: the request must be refused unless the operator chose otherwise.
    Unavailable(Unavailable),
}

/// Why revocation cannot be told for a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// No CRL has been obtained yet (before the first fetch answers, or every one failed).
    NotYetObtained,
    /// The CRL in force is past its nextUpdate plus the grace period.
    Stale {
        /// Its nextUpdate.
        next_update: UnixTime,
    },
    /// The certificate's issuer name or key id is not this CRL's issuer.
    OtherIssuer,
}

impl Unavailable {
    /// Stable short name for logs and counters.
    pub fn code(self) -> &'static str {
        match self {
            Unavailable::NotYetObtained => "crl_not_yet_obtained",
            Unavailable::Stale { .. } => "crl_stale",
            Unavailable::OtherIssuer => "crl_other_issuer",
        }
    }
}

/// Counts of what happened to a source's updates, for the proxy's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateCounts {
    /// CRLs installed.
    pub installed: u64,
    /// Fetches that returned the CRL in force.
    pub unchanged: u64,
    /// CRLs refused by validation.
    pub invalid: u64,
    /// Valid CRLs refused because they were not newer.
    pub not_newer: u64,
    /// Fetches without a usable HTTP response, abandoned ones included.
    pub fetch_failed: u64,
}

/// One issuer's CRL source: the CA that signs its CRLs, the last good list, and when to fetch
/// the next one.
#[derive(Clone, Debug)]
pub struct CrlSource {
    ca: CaCertificate,
    limits: CrlLimits,
    grace_secs: u64,
    fetches: Fetches,
    current: Option<RevocationList>,
    counts: UpdateCounts,
}

impl CrlSource {
    /// A source for CRLs signed by `ca`. `plan` is `None` for a source that is only ever given
    /// CRLs by [`CrlSource::offer`] (inline in the policy); `grace_secs` is how long past
    /// nextUpdate a CRL still counts as fresh.
    pub fn new(
        ca: CaCertificate,
        plan: Option<RefreshPlan>,
        grace_secs: u64,
        limits: CrlLimits,
    ) -> Self {
        Self {
            ca,
            limits,
            grace_secs,
            fetches: Fetches::new(plan),
            current: None,
            counts: UpdateCounts::default(),
        }
    }

    /// The CA whose CRLs this source takes.
    pub fn ca(&self) -> &CaCertificate {
        &self.ca
    }

    /// The list in force, if any.
    pub fn current(&self) -> Option<&RevocationList> {
        self.current.as_ref()
    }

    /// What happened to this source's updates so far.
    pub fn counts(&self) -> UpdateCounts {
        self.counts
    }

    /// The fetch schedule; `None` for an inline-only source.
    pub fn schedule(&self) -> Option<&RefreshSchedule> {
        self.fetches.schedule()
    }

    /// Called from the glue's timer: whether to start a fetch now. An abandoned fetch counts as
    /// a failed one.
    pub fn poll(&mut self, now: UnixTime) -> Poll {
        self.fetches.poll(now, &mut self.counts.fetch_failed)
    }

    /// Takes the answer to fetch `ticket`: a 200 body is offered as a CRL; anything else is a
    /// failed fetch. The schedule learns the outcome either way.
    pub fn on_response(
        &mut self,
        ticket: FetchTicket,
        now: UnixTime,
        response: FetchResponse<'_>,
    ) -> Update {
        let update = match self
            .fetches
            .answer(ticket, response, &mut self.counts.fetch_failed)
        {
            None => return Update::Ignored,
            Some(Ok(body)) => self.offer(body, now),
            Some(Err(status)) => Update::FetchFailed { status },
        };
        let ended = match (&update, &self.current) {
            (Update::Installed { .. } | Update::Unchanged { .. }, Some(current)) => {
                Ended::Succeeded {
                    expires: Some(current.next_update()),
                }
            }
            _ => Ended::Failed,
        };
        self.fetches.end(ticket, now, ended);
        update
    }

    /// Offers a CRL (PEM or DER): validated against the CA at `now` and installed when it is
    /// newer than the one in force. A CRL whose signature equals the one in force is the same
    /// CRL and is not validated again (its bytes are not installed either, so nothing unchecked
    /// can enter this way).
    pub fn offer(&mut self, bytes: &[u8], now: UnixTime) -> Update {
        let update = self.offer_uncounted(bytes, now);
        let counter = match &update {
            Update::Installed { .. } => &mut self.counts.installed,
            Update::Unchanged { .. } => &mut self.counts.unchanged,
            Update::Invalid(_) => &mut self.counts.invalid,
            Update::NotNewer(_) => &mut self.counts.not_newer,
            Update::FetchFailed { .. } => &mut self.counts.fetch_failed,
            Update::Ignored => return update,
        };
        *counter += 1;
        update
    }

    fn offer_uncounted(&mut self, bytes: &[u8], now: UnixTime) -> Update {
        if let Some(current) = &self.current {
            if let Ok(der) = crl_der(bytes, &self.limits) {
                if ends_with_signature(&der, current.signature_value()) {
                    return Update::Unchanged {
                        number: current.number().clone(),
                    };
                }
            }
        }
        let offered = match RevocationList::from_crl(bytes, &self.ca, now, &self.limits) {
            Ok(offered) => offered,
            Err(error) => return Update::Invalid(error),
        };
        let number = offered.number().clone();
        let entries = offered.entry_count();
        let next_update = offered.next_update();
        let replaced = match self.current.as_mut() {
            None => {
                self.current = Some(offered);
                None
            }
            Some(current) => match current.replace_with(offered) {
                Ok(previous) => Some(previous),
                Err(ReplaceError::SameNumber {
                    number,
                    identical: true,
                }) => return Update::Unchanged { number },
                Err(error) => return Update::NotNewer(error),
            },
        };
        Update::Installed {
            replaced,
            number,
            entries,
            next_update,
        }
    }

    /// The limits CRLs offered to this source must respect (the glue refuses a larger fetched
    /// body before reading it).
    pub fn limits(&self) -> &CrlLimits {
        &self.limits
    }

    /// Takes over `list`, a list this source's CA validated for another source (the proxy
    /// keeps the newest per CA for its VM), when it is newer than the one in force or none
    /// is: carried CRLs never roll back. Returns whether it was taken.
    pub fn adopt(&mut self, list: RevocationList) -> bool {
        match self.current.as_mut() {
            None => {
                self.current = Some(list);
                true
            }
            Some(current) => current.replace_with(list).is_ok(),
        }
    }

    /// The answer to fetch `ticket` has a body of `len` bytes, over what a CRL may be: refused
    /// without reading it (a failed fetch for the schedule; the last good CRL stays).
    pub fn on_oversized(&mut self, ticket: FetchTicket, now: UnixTime, len: usize) -> Update {
        if !self.fetches.end(ticket, now, Ended::Failed) {
            return Update::Ignored;
        }
        self.counts.invalid += 1;
        Update::Invalid(CrlError::TooLarge {
            len,
            max: self.limits.max_pem_bytes(),
        })
    }

    /// The standing of `identity` (a certificate of this source's issuer) at `now`. Fails
    /// closed: without a fresh CRL that speaks for its issuer, it is unavailable.
    pub fn status(&self, identity: &Identity, now: UnixTime) -> RevocationStatus {
        let Some(current) = &self.current else {
            return RevocationStatus::Unavailable(Unavailable::NotYetObtained);
        };
        if current.is_stale(now, self.grace_secs) {
            return RevocationStatus::Unavailable(Unavailable::Stale {
                next_update: current.next_update(),
            });
        }
        if !current.covers(identity) {
            return RevocationStatus::Unavailable(Unavailable::OtherIssuer);
        }
        if current.contains_serial(&identity.serial) {
            RevocationStatus::Revoked
        } else {
            RevocationStatus::Good
        }
    }
}

/// True when the DER CertificateList ends with the BIT STRING content `signature`: the
/// signatureValue is the last field, so equal trailing bytes mean the same signature. Only a
/// shortcut to skip work: a match keeps the list in force, it never installs anything.
fn ends_with_signature(der: &[u8], signature: &[u8]) -> bool {
    !signature.is_empty() && der.ends_with(signature)
}
