//! When to fetch an artefact the proxy keeps fresh by itself (a CRL, a JWKS), with the
//! time passed in.
//!
//! The proxy glue owns the transport (an HTTP call and its response); this schedule owns only
//! the timing, so every branch is testable natively and behaves the same in every proxy:
//!
//! - the first fetch is due at once;
//! - after a success the next one is due `interval` later, or earlier when the artefact says
//!   it expires sooner (never sooner than `min_retry`, so an expired artefact is not hammered);
//! - after a failure it retries with exponential backoff from `min_retry`, capped at `interval`;
//! - at most one fetch is in flight; one that never answers is abandoned one second after its
//!   timeout (the host's own timeout normally answers first) and counts as a failure;
//! - a clock that jumps backwards never stops the schedule: a due time more than one interval
//!   ahead (or a deadline beyond the timeout) is treated as reached;
//! - every fetch has a [`FetchTicket`]; the answer to an abandoned or unknown fetch is ignored,
//!   so a late response can never overwrite a newer state.

use core::fmt;

use crate::time::UnixTime;

/// How often and how patiently one artefact is fetched. Built by [`RefreshPlan::new`], which
/// refuses the values that would make a fetch loop or never happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPlan {
    interval_secs: u64,
    timeout_secs: u64,
    min_retry_secs: u64,
}

/// Why a [`RefreshPlan`] was refused: the field and what is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPlanError {
    /// `interval`, `timeout` or `min_retry`.
    pub field: &'static str,
    /// What the value must be.
    pub must_be: &'static str,
}

impl fmt::Display for RefreshPlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}", self.field, self.must_be)
    }
}

impl core::error::Error for RefreshPlanError {}

impl RefreshPlan {
    /// A plan: fetch every `interval_secs`, give each fetch `timeout_secs`, and retry a failed
    /// one after `min_retry_secs` at first (doubling up to the interval). All are at least one
    /// second; the timeout and the first retry are shorter than the interval.
    pub fn new(
        interval_secs: u64,
        timeout_secs: u64,
        min_retry_secs: u64,
    ) -> Result<Self, RefreshPlanError> {
        let refuse = |field, must_be| Err(RefreshPlanError { field, must_be });
        if interval_secs == 0 {
            return refuse("interval", "at least 1 second");
        }
        if timeout_secs == 0 || timeout_secs >= interval_secs {
            return refuse("timeout", "at least 1 second and shorter than the interval");
        }
        if min_retry_secs == 0 || min_retry_secs > interval_secs {
            return refuse("min_retry", "at least 1 second and at most the interval");
        }
        Ok(Self {
            interval_secs,
            timeout_secs,
            min_retry_secs,
        })
    }

    /// Seconds between two successful fetches.
    pub fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    /// Seconds one fetch may take (what the glue passes to the host's HTTP call).
    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs
    }

    /// Seconds before the first retry after a failure.
    pub fn min_retry_secs(&self) -> u64 {
        self.min_retry_secs
    }
}

/// What a fetch returned, as the glue saw it (shared by every fetched artefact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchResponse<'a> {
    /// An HTTP response: its status and body.
    Http {
        /// The `:status`.
        status: u16,
        /// The body (a CRL's PEM or DER, a JWKS's JSON).
        body: &'a [u8],
    },
    /// No response: connection refused, reset, or the host's timeout.
    Transport,
}

impl<'a> FetchResponse<'a> {
    /// The body of a 200 answer (the only one that carries the artefact), else why not: the
    /// status, or `None` without a response.
    pub fn ok_body(self) -> Result<&'a [u8], Option<u16>> {
        match self {
            FetchResponse::Http { status: 200, body } => Ok(body),
            FetchResponse::Http { status, .. } => Err(Some(status)),
            FetchResponse::Transport => Err(None),
        }
    }
}

/// Names one fetch, so its answer can be matched to it (and a late answer to an abandoned
/// fetch recognised and ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FetchTicket(u64);

impl FetchTicket {
    /// The ticket's number (1 for the first fetch of a schedule), for logs.
    pub fn number(self) -> u64 {
        self.0
    }
}

/// What the glue should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing: a fetch is in flight, or none is due yet.
    Wait,
    /// Start a fetch and report its end with this ticket.
    Fetch(FetchTicket),
    /// The fetch with this ticket took too long and was given up (counted as a failure); its
    /// answer, should it still come, will be ignored.
    Abandoned(FetchTicket),
}

/// How a fetch ended, as far as timing is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The artefact was obtained (new or unchanged) and is good until `expires`, when known.
    Succeeded {
        /// When the artefact says it should be replaced (a CRL's nextUpdate).
        expires: Option<UnixTime>,
    },
    /// Transport error, error status, or an artefact that was refused.
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    ticket: FetchTicket,
    deadline: UnixTime,
}

/// The timing state of one periodically fetched artefact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshSchedule {
    plan: RefreshPlan,
    next_due: UnixTime,
    in_flight: Option<InFlight>,
    consecutive_failures: u32,
    tickets_issued: u64,
}

impl RefreshSchedule {
    /// A schedule whose first fetch is due at once.
    pub fn new(plan: RefreshPlan) -> Self {
        Self {
            plan,
            next_due: UnixTime(0),
            in_flight: None,
            consecutive_failures: 0,
            tickets_issued: 0,
        }
    }

    /// The plan this schedule follows.
    pub fn plan(&self) -> &RefreshPlan {
        &self.plan
    }

    /// Called from the glue's timer: abandons a fetch past its deadline, or starts one when
    /// due and none is in flight.
    pub fn poll(&mut self, now: UnixTime) -> Poll {
        // The clock went backwards: a deadline or due time further ahead than the plan can set
        // would stop fetching for as long as the jump. Give up the fetch / fetch now instead.
        let longest_wait = add(now, self.plan.timeout_secs.saturating_add(1));
        if let Some(in_flight) = self.in_flight {
            if now < in_flight.deadline && in_flight.deadline <= longest_wait {
                return Poll::Wait;
            }
            self.in_flight = None;
            self.failed(now);
            return Poll::Abandoned(in_flight.ticket);
        }
        if now < self.next_due && self.next_due <= add(now, self.plan.interval_secs) {
            return Poll::Wait;
        }
        self.tickets_issued += 1;
        let ticket = FetchTicket(self.tickets_issued);
        self.in_flight = Some(InFlight {
            ticket,
            deadline: add(now, self.plan.timeout_secs.saturating_add(1)),
        });
        Poll::Fetch(ticket)
    }

    /// Records the end of fetch `ticket` and schedules the next one. Returns false, changing
    /// nothing, when `ticket` is not the fetch in flight (abandoned, already ended, or never
    /// issued): its answer must then be ignored.
    pub fn end(&mut self, ticket: FetchTicket, now: UnixTime, ended: Ended) -> bool {
        match self.in_flight {
            Some(in_flight) if in_flight.ticket == ticket => self.in_flight = None,
            _ => return false,
        }
        match ended {
            Ended::Succeeded { expires } => {
                self.consecutive_failures = 0;
                let regular = add(now, self.plan.interval_secs);
                let earliest = add(now, self.plan.min_retry_secs);
                self.next_due = match expires {
                    Some(expires) => regular.min(expires).max(earliest),
                    None => regular,
                };
            }
            Ended::Failed => self.failed(now),
        }
        true
    }

    /// True when the answer to `ticket` is still awaited.
    pub fn is_awaiting(&self, ticket: FetchTicket) -> bool {
        self.in_flight
            .is_some_and(|in_flight| in_flight.ticket == ticket)
    }

    /// When the next fetch starts; `None` while one is in flight.
    pub fn next_due(&self) -> Option<UnixTime> {
        self.in_flight.is_none().then_some(self.next_due)
    }

    /// Failures (including abandoned fetches) since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    fn failed(&mut self, now: UnixTime) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let doublings = (self.consecutive_failures - 1).min(63);
        let backoff = self
            .plan
            .min_retry_secs
            .saturating_mul(1u64 << doublings)
            .min(self.plan.interval_secs);
        self.next_due = add(now, backoff);
    }
}

fn add(time: UnixTime, secs: u64) -> UnixTime {
    UnixTime(time.as_secs().saturating_add(secs))
}

/// The fetching half of a source that keeps an artefact fresh (a CRL's, a JWKS's): the
/// schedule, if it fetches at all, the guard that ignores an answer no longer awaited, and the
/// counting of failed fetches. One copy, so every source treats its fetches alike.
#[derive(Clone, Debug)]
pub struct Fetches {
    schedule: Option<RefreshSchedule>,
}

impl Fetches {
    /// Fetches on `plan`; `None` for a source that is only given its artefact inline.
    pub fn new(plan: Option<RefreshPlan>) -> Self {
        Self {
            schedule: plan.map(RefreshSchedule::new),
        }
    }

    /// The schedule; `None` for an inline-only source.
    pub fn schedule(&self) -> Option<&RefreshSchedule> {
        self.schedule.as_ref()
    }

    /// [`RefreshSchedule::poll`] (`Wait` without a schedule); an abandoned fetch is counted
    /// in `fetch_failed`.
    pub fn poll(&mut self, now: UnixTime, fetch_failed: &mut u64) -> Poll {
        let Some(schedule) = self.schedule.as_mut() else {
            return Poll::Wait;
        };
        let poll = schedule.poll(now);
        if let Poll::Abandoned(_) = poll {
            *fetch_failed += 1;
        }
        poll
    }

    /// The answer to fetch `ticket`: `None` when it is not the fetch in flight (the answer
    /// must be ignored); else the body of a 200 answer, or the status of any other (`None`:
    /// no response), counted in `fetch_failed`. End the fetch with [`Fetches::end`].
    pub fn answer<'a>(
        &self,
        ticket: FetchTicket,
        response: FetchResponse<'a>,
        fetch_failed: &mut u64,
    ) -> Option<Result<&'a [u8], Option<u16>>> {
        if !self
            .schedule
            .as_ref()
            .is_some_and(|schedule| schedule.is_awaiting(ticket))
        {
            return None;
        }
        let body = response.ok_body();
        if body.is_err() {
            *fetch_failed += 1;
        }
        Some(body)
    }

    /// [`RefreshSchedule::end`]: false, changing nothing, when `ticket` is not the fetch in
    /// flight (or nothing is fetched).
    pub fn end(&mut self, ticket: FetchTicket, now: UnixTime, ended: Ended) -> bool {
        self.schedule
            .as_mut()
            .is_some_and(|schedule| schedule.end(ticket, now, ended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const T0: UnixTime = UnixTime(1_795_392_000);

    fn at(secs: u64) -> UnixTime {
        add(T0, secs)
    }

    fn schedule() -> RefreshSchedule {
        RefreshSchedule::new(RefreshPlan::new(300, 10, 5).unwrap())
    }

    fn fetch(schedule: &mut RefreshSchedule, now: UnixTime) -> FetchTicket {
        match schedule.poll(now) {
            Poll::Fetch(ticket) => ticket,
            other => panic!("expected a fetch at {now:?}, got {other:?}"),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn plans_that_would_loop_or_never_fetch_are_refused_by_field() {
        let refused = |interval, timeout, retry| {
            RefreshPlan::new(interval, timeout, retry)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(refused(0, 1, 1), "interval must be at least 1 second");
        assert_eq!(
            refused(60, 0, 1),
            "timeout must be at least 1 second and shorter than the interval"
        );
        assert_eq!(
            refused(60, 60, 1),
            "timeout must be at least 1 second and shorter than the interval"
        );
        assert_eq!(
            refused(60, 5, 0),
            "min_retry must be at least 1 second and at most the interval"
        );
        assert_eq!(
            refused(60, 5, 61),
            "min_retry must be at least 1 second and at most the interval"
        );
        let plan = RefreshPlan::new(60, 5, 60).unwrap();
        assert_eq!(
            (
                plan.interval_secs(),
                plan.timeout_secs(),
                plan.min_retry_secs()
            ),
            (60, 5, 60)
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_first_fetch_is_due_at_once_and_only_one_is_in_flight() {
        let mut schedule = schedule();
        let first = fetch(&mut schedule, T0);
        assert_eq!(first.number(), 1);
        assert!(schedule.is_awaiting(first));
        assert_eq!(schedule.next_due(), None);
        assert_eq!(schedule.poll(at(1)), Poll::Wait);
        assert_eq!(schedule.poll(at(10)), Poll::Wait);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_success_schedules_the_next_fetch_an_interval_later_or_at_expiry() {
        let mut schedule = schedule();
        let ticket = fetch(&mut schedule, T0);
        assert!(schedule.end(ticket, at(2), Ended::Succeeded { expires: None }));
        assert_eq!(schedule.next_due(), Some(at(302)));
        assert_eq!(schedule.poll(at(301)), Poll::Wait);
        let ticket = fetch(&mut schedule, at(302));
        assert_eq!(ticket.number(), 2);

        // The artefact expires before the interval ends: fetch when it expires.
        let expires = Some(at(402));
        assert!(schedule.end(ticket, at(302), Ended::Succeeded { expires }));
        assert_eq!(schedule.next_due(), Some(at(402)));

        // Already expired (a CA late with its CRL): retry after min_retry, not in a loop.
        let ticket = fetch(&mut schedule, at(402));
        let expires = Some(at(100));
        assert!(schedule.end(ticket, at(402), Ended::Succeeded { expires }));
        assert_eq!(schedule.next_due(), Some(at(407)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn failures_back_off_exponentially_up_to_the_interval_and_a_success_resets() {
        let mut schedule = schedule();
        let mut now = T0;
        let mut delays = alloc::vec::Vec::new();
        for _ in 0..8 {
            let ticket = fetch(&mut schedule, now);
            assert!(schedule.end(ticket, now, Ended::Failed));
            let due = schedule.next_due().unwrap();
            delays.push(due.as_secs() - now.as_secs());
            now = due;
        }
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(schedule.consecutive_failures(), 8);

        let ticket = fetch(&mut schedule, now);
        assert!(schedule.end(ticket, now, Ended::Succeeded { expires: None }));
        assert_eq!(schedule.consecutive_failures(), 0);
        assert_eq!(schedule.next_due(), Some(add(now, 300)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_fetch_that_never_answers_is_abandoned_and_its_late_answer_ignored() {
        let mut schedule = schedule();
        let lost = fetch(&mut schedule, T0);
        // Timeout 10 s: the host answers by then; the schedule gives up one second later.
        assert_eq!(schedule.poll(at(10)), Poll::Wait);
        assert_eq!(schedule.poll(at(11)), Poll::Abandoned(lost));
        assert_eq!(schedule.consecutive_failures(), 1);
        assert_eq!(schedule.next_due(), Some(at(16)));
        assert!(!schedule.is_awaiting(lost));

        let retry = fetch(&mut schedule, at(16));
        assert_ne!(retry, lost);
        // The lost fetch's answer arrives now: ignored, the retry still awaited.
        assert!(!schedule.end(lost, at(17), Ended::Succeeded { expires: None }));
        assert!(schedule.is_awaiting(retry));
        assert!(schedule.end(retry, at(18), Ended::Succeeded { expires: None }));
        // A second answer to the same ticket is ignored too.
        assert!(!schedule.end(retry, at(19), Ended::Failed));
        assert_eq!(schedule.next_due(), Some(at(318)));
        assert_eq!(schedule.consecutive_failures(), 0);
    }

    /// F4: a clock that jumps backwards (or forwards) never stops the schedule.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn clock_jumps_do_not_stop_fetching() {
        let mut schedule = schedule();
        let first = fetch(&mut schedule, at(1000));
        assert!(schedule.end(first, at(1000), Ended::Succeeded { expires: None }));
        assert_eq!(schedule.next_due(), Some(at(1300)));
        // Back a little: still within one interval, wait. Back by 1000 s: due 1300 s ahead,
        // more than an interval: fetch now.
        assert_eq!(schedule.poll(at(1000)), Poll::Wait);
        let after_jump = fetch(&mut schedule, at(0));
        // In flight, the clock goes back again: the deadline (far ahead) is given up.
        assert_eq!(schedule.poll(at(0)), Poll::Wait);
        assert_eq!(
            schedule.poll(UnixTime(T0.0 - 500)),
            Poll::Abandoned(after_jump)
        );
        let retry = fetch(&mut schedule, UnixTime(T0.0 - 495));
        assert!(schedule.end(
            retry,
            UnixTime(T0.0 - 495),
            Ended::Succeeded { expires: None }
        ));
        // Forwards by a day: due long ago, fetched at once.
        fetch(&mut schedule, at(86_400));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn time_at_the_end_of_the_range_saturates_instead_of_wrapping() {
        let mut schedule = schedule();
        let end = UnixTime(u64::MAX - 3);
        let ticket = fetch(&mut schedule, end);
        assert!(schedule.end(ticket, end, Ended::Failed));
        assert_eq!(schedule.next_due(), Some(UnixTime(u64::MAX)));
        let ticket = fetch(&mut schedule, UnixTime(u64::MAX));
        assert!(schedule.end(
            ticket,
            UnixTime(u64::MAX),
            Ended::Succeeded { expires: None }
        ));
        assert_eq!(schedule.next_due(), Some(UnixTime(u64::MAX)));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fetches_ignore_answers_not_awaited_and_count_every_failure() {
        let mut fetch_failed = 0;
        let mut inline_only = Fetches::new(None);
        assert_eq!(inline_only.poll(T0, &mut fetch_failed), Poll::Wait);
        assert!(!inline_only.end(FetchTicket(1), T0, Ended::Failed));

        let mut fetches = Fetches::new(Some(RefreshPlan::new(300, 10, 5).unwrap()));
        let Poll::Fetch(first) = fetches.poll(T0, &mut fetch_failed) else {
            panic!("the first fetch is due at once");
        };
        let ok = FetchResponse::Http {
            status: 200,
            body: b"artefact",
        };
        assert_eq!(fetches.answer(FetchTicket(7), ok, &mut fetch_failed), None);
        assert_eq!(
            fetches.answer(first, ok, &mut fetch_failed),
            Some(Ok(&b"artefact"[..]))
        );
        assert_eq!(
            fetches.answer(first, FetchResponse::Transport, &mut fetch_failed),
            Some(Err(None))
        );
        assert_eq!(fetch_failed, 1);
        assert!(fetches.end(first, T0, Ended::Failed));
        // Ended: a late answer is not awaited any more.
        assert_eq!(fetches.answer(first, ok, &mut fetch_failed), None);
        assert!(!fetches.end(first, T0, Ended::Failed));
        // Abandoned: counted as failed.
        let Poll::Fetch(_) = fetches.poll(at(5), &mut fetch_failed) else {
            panic!("the retry is due after 5 s");
        };
        assert!(matches!(
            fetches.poll(at(17), &mut fetch_failed),
            Poll::Abandoned(_)
        ));
        assert_eq!(fetch_failed, 2);
    }
}
