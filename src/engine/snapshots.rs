//! When a REST snapshot may be requested, per instrument, sans-IO.
//!
//! Every failed snapshot — no response, an HTTP error, a rate limit, a body
//! that is not a snapshot, a snapshot older than the buffered diffs, one the
//! book refuses — makes that instrument wait before it asks again: the
//! first wait is `backoff_initial`, doubling up to `backoff_max`, each with
//! ±25% jitter (seeded per instrument, so instruments failing together spread
//! out). The wait resets once the instrument syncs. Instruments are
//! independent: one bad symbol never delays the others. The venue's REST
//! weight budget is a separate, venue-wide gate that the feed loop applies
//! after this one.
//!
//! The feed loop calls, in this order: [`SnapshotRetry::may_request`] before
//! sending a request the book's sync wants (whatever made it want one: a
//! connection opening, a gap, a stale instrument, a too-old snapshot), then
//! [`SnapshotRetry::failed`] or [`SnapshotRetry::synced`] with the outcome.
//! [`SnapshotRetry::next_due`] says when a waiting instrument may ask again,
//! so the loop wakes for it without scanning every tick.
//!
//! A venue whose snapshots come on the stream (the first message after a
//! subscribe is the book) has no request to time out: a subscribe the venue
//! refuses or never answers would leave the book waiting for ever. For
//! those the loop calls [`SnapshotRetry::awaited`] for each book whose
//! snapshot is in flight: past `timeout` the wait counts as a failure (the
//! loop reports it), and once the backoff has passed the book is released to
//! ask again (the session resubscribes).

use super::limits::Backoff;
use crate::types::{InstrumentId, Nanos};

/// Retry state of one instrument.
#[derive(Clone, Debug)]
struct Slot {
    backoff: Backoff,
    /// No request before this (0: no wait).
    not_before: Nanos,
    /// Failures since the instrument last synced.
    failures: u32,
    /// A stream snapshot in flight since (first seen by [`SnapshotRetry::awaited`]).
    awaiting_since: Option<Nanos>,
    /// That snapshot is overdue and was counted as failed; the book is held
    /// until the backoff has passed.
    overdue: bool,
}

/// What to do about a stream snapshot in flight; see [`SnapshotRetry::awaited`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaited {
    /// Nothing now; look again at this time.
    Wait(Nanos),
    /// It did not come within the timeout: report a failure now (once per
    /// request), which calls [`SnapshotRetry::failed`]; the book is held
    /// until that backoff has passed.
    Overdue,
    /// The backoff has passed: mark the request failed so the book asks
    /// again (`SyncCore::snapshot_failed`).
    Release,
}

/// The per-instrument snapshot retry policy of one engine.
#[derive(Clone, Debug)]
pub struct SnapshotRetry {
    /// Indexed by [`InstrumentId::index`]; sized once at start-up.
    slots: Vec<Slot>,
}

impl SnapshotRetry {
    /// A policy for `instruments` instruments, none waiting. Delays start at
    /// `initial` and double up to `max`; `seed` decorrelates engines.
    pub fn new(instruments: usize, initial: Nanos, max: Nanos, seed: u64) -> SnapshotRetry {
        SnapshotRetry {
            slots: (0..instruments)
                .map(|i| Slot {
                    backoff: Backoff::new(initial, max, seed ^ (i as u64).wrapping_mul(0x9E37)),
                    not_before: 0,
                    failures: 0,
                    awaiting_since: None,
                    overdue: false,
                })
                .collect(),
        }
    }

    /// True when a snapshot request for `inst` may be sent at `now`.
    /// Unknown instruments may always ask.
    pub fn may_request(&self, inst: InstrumentId, now: Nanos) -> bool {
        self.slots
            .get(inst.index())
            .is_none_or(|s| now >= s.not_before)
    }

    /// A snapshot request for `inst` failed at `now`: it waits the next
    /// backoff delay. Returns the delay.
    pub fn failed(&mut self, inst: InstrumentId, now: Nanos) -> Nanos {
        let Some(s) = self.slots.get_mut(inst.index()) else {
            return 0;
        };
        let delay = s.backoff.next_delay();
        s.not_before = now.saturating_add(delay);
        s.failures = s.failures.saturating_add(1);
        delay
    }

    /// `inst` synced: its next failure waits the initial delay again.
    pub fn synced(&mut self, inst: InstrumentId) {
        if let Some(s) = self.slots.get_mut(inst.index()) {
            s.backoff.reset();
            s.not_before = 0;
            s.failures = 0;
        }
    }

    /// A stream snapshot of `inst`: `in_flight` is whether its book's
    /// request is out, `synced` whether the book is synced. Starts the clock
    /// the first time it sees the request out; `timeout` after that the
    /// request is [`Awaited::Overdue`] (the caller reports the failure
    /// through [`SnapshotRetry::failed`], so it backs off like any other),
    /// then [`Awaited::Release`] once the backoff has passed. A
    /// synced book resets the backoff; `None`: nothing is awaited.
    pub fn awaited(
        &mut self,
        inst: InstrumentId,
        in_flight: bool,
        synced: bool,
        now: Nanos,
        timeout: Nanos,
    ) -> Option<Awaited> {
        if synced && self.failures(inst) > 0 {
            self.synced(inst);
        }
        let s = self.slots.get_mut(inst.index())?;
        if !in_flight {
            s.awaiting_since = None;
            s.overdue = false;
            return None;
        }
        let since = *s.awaiting_since.get_or_insert(now);
        let due = since.saturating_add(timeout);
        if now < due {
            return Some(Awaited::Wait(due));
        }
        if !s.overdue {
            s.overdue = true;
            return Some(Awaited::Overdue);
        }
        if now >= s.not_before {
            s.overdue = false;
            s.awaiting_since = None;
            return Some(Awaited::Release);
        }
        Some(Awaited::Wait(s.not_before))
    }

    /// Failures of `inst` since it last synced.
    pub fn failures(&self, inst: InstrumentId) -> u32 {
        self.slots.get(inst.index()).map_or(0, |s| s.failures)
    }

    /// When `inst` may ask again (`now` or earlier: it may ask now).
    pub fn not_before(&self, inst: InstrumentId) -> Nanos {
        self.slots.get(inst.index()).map_or(0, |s| s.not_before)
    }

    /// The earliest time after `now` at which a waiting instrument may ask
    /// again, if any is waiting.
    pub fn next_due(&self, now: Nanos) -> Option<Nanos> {
        self.slots
            .iter()
            .map(|s| s.not_before)
            .filter(|&t| t > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn id(i: u32) -> InstrumentId {
        InstrumentId(i)
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_the_max() {
        let mut r = SnapshotRetry::new(1, 100 * MS, 800 * MS, 7);
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..6 {
            assert!(r.may_request(id(0), now));
            let d = r.failed(id(0), now);
            assert!(!r.may_request(id(0), now + d - 1));
            assert_eq!(r.next_due(now), Some(now + d));
            delays.push(d / MS);
            now += d;
        }
        let bases = [100, 200, 400, 800, 800, 800];
        for (d, b) in delays.iter().zip(bases) {
            assert!(
                (b * 3 / 4..=b * 5 / 4).contains(d),
                "{delays:?} against {bases:?}"
            );
        }
        assert_eq!(r.failures(id(0)), 6);
    }

    #[test]
    fn an_instrument_that_always_fails_asks_a_bounded_number_of_times() {
        // The burst of issue 9: a venue answering every request with an
        // error, polled every millisecond for one second of virtual time.
        let mut r = SnapshotRetry::new(1, 50 * MS, 400 * MS, 1);
        let mut requests = 0;
        for t in 0..1000 {
            let now = t * MS;
            if r.may_request(id(0), now) {
                requests += 1;
                r.failed(id(0), now);
            }
        }
        // 0, ~50, ~150, ~350, ~750 ms: five requests, give or take jitter.
        assert!((4..=6).contains(&requests), "{requests} requests in 1 s");
    }

    #[test]
    fn one_bad_symbol_does_not_delay_the_others() {
        let mut r = SnapshotRetry::new(3, 100 * MS, 1000 * MS, 2);
        for t in 0..10 {
            r.failed(id(1), t * 1000 * MS);
        }
        assert!(r.may_request(id(0), 0));
        assert!(r.may_request(id(2), 5 * MS));
        assert!(!r.may_request(id(1), 9000 * MS + MS));
        assert_eq!(r.failures(id(0)), 0);
    }

    #[test]
    fn syncing_resets_the_wait_and_the_delay() {
        let mut r = SnapshotRetry::new(1, 100 * MS, 10_000 * MS, 3);
        for t in 0..5 {
            r.failed(id(0), t * 20_000 * MS);
        }
        r.synced(id(0));
        assert!(r.may_request(id(0), 80_000 * MS));
        assert_eq!(r.next_due(0), None);
        let d = r.failed(id(0), 90_000 * MS);
        assert!((75 * MS..=125 * MS).contains(&d), "{d}");
    }

    #[test]
    fn instruments_failing_together_spread_out() {
        let mut r = SnapshotRetry::new(8, 1000 * MS, 1000 * MS, 4);
        let delays: Vec<Nanos> = (0..8).map(|i| r.failed(id(i), 0)).collect();
        let mut distinct = delays.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 6, "{delays:?}");
    }

    #[test]
    fn a_stream_snapshot_that_never_comes_fails_backs_off_and_is_asked_again() {
        let timeout = 1000 * MS;
        let mut r = SnapshotRetry::new(2, 100 * MS, 400 * MS, 6);
        // Not in flight: nothing awaited.
        assert_eq!(r.awaited(id(0), false, false, 0, timeout), None);
        // The subscribe went out at 10 ms: the clock starts when first seen.
        assert_eq!(
            r.awaited(id(0), true, false, 10 * MS, timeout),
            Some(Awaited::Wait(1010 * MS))
        );
        assert_eq!(
            r.awaited(id(0), true, false, 500 * MS, timeout),
            Some(Awaited::Wait(1010 * MS))
        );
        // Overdue once: the caller reports a failure, with its backoff
        // (100 ms ± 25%).
        assert_eq!(
            r.awaited(id(0), true, false, 1010 * MS, timeout),
            Some(Awaited::Overdue)
        );
        r.failed(id(0), 1010 * MS);
        let retry_at = r.not_before(id(0));
        assert!((1085 * MS..=1135 * MS).contains(&retry_at), "{retry_at}");
        assert_eq!(r.failures(id(0)), 1);
        // Held until the backoff has passed, counted once.
        assert_eq!(
            r.awaited(id(0), true, false, 1050 * MS, timeout),
            Some(Awaited::Wait(retry_at))
        );
        assert_eq!(r.failures(id(0)), 1);
        assert_eq!(
            r.awaited(id(0), true, false, retry_at, timeout),
            Some(Awaited::Release)
        );
        // The other instrument was never touched.
        assert_eq!(r.failures(id(1)), 0);
        // Asked again and answered: the next wait starts afresh and a synced
        // book resets the backoff.
        assert_eq!(
            r.awaited(id(0), true, false, 2000 * MS, timeout),
            Some(Awaited::Wait(3000 * MS))
        );
        assert_eq!(r.awaited(id(0), false, true, 2100 * MS, timeout), None);
        assert_eq!(r.failures(id(0)), 0);
        assert_eq!(
            r.awaited(id(0), true, false, 5000 * MS, timeout),
            Some(Awaited::Wait(6000 * MS))
        );
    }

    #[test]
    fn a_stream_snapshot_answered_in_time_is_never_a_failure() {
        let mut r = SnapshotRetry::new(1, 100 * MS, 400 * MS, 8);
        for t in 0..10 {
            assert!(matches!(
                r.awaited(id(0), true, false, t * 90 * MS, 1000 * MS),
                Some(Awaited::Wait(_))
            ));
        }
        assert_eq!(r.awaited(id(0), false, true, 950 * MS, 1000 * MS), None);
        assert_eq!(r.failures(id(0)), 0);
    }

    #[test]
    fn unknown_instruments_are_not_gated() {
        let mut r = SnapshotRetry::new(1, MS, MS, 5);
        assert_eq!(r.failed(id(9), 0), 0);
        assert!(r.may_request(id(9), 0));
    }
}
