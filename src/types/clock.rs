//! Time sources. Protocol code never reads a clock: the engine stamps time
//! once per frame and passes `now` in, so replay, tests and benches can run
//! it on any time they choose. [`MonotonicClock`] is the engine's;
//! [`ManualClock`] is a clock a test advances by hand: the supervisor's
//! deadlines and the venue sessions' pacing, pings and resubscribes are
//! tested on it (`tickwire replay` stamps each line with the wall clock it
//! measures its own speed with).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::event::Nanos;

/// A source of monotonic nanoseconds.
pub trait Clock {
    /// Nanoseconds since the clock's origin. Never decreases.
    fn now(&self) -> Nanos;
}

/// The engine's clock: the CPU's invariant TSC where available (about 10 ns a
/// read), scaled to `CLOCK_MONOTONIC`, via the `quanta` crate. Clones share
/// the origin, so stamps taken on different threads compare directly.
#[derive(Clone, Debug)]
pub struct MonotonicClock {
    clock: quanta::Clock,
    origin: quanta::Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> MonotonicClock {
        let clock = quanta::Clock::new();
        let origin = clock.now();
        MonotonicClock { clock, origin }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock::new()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now(&self) -> Nanos {
        self.clock
            .now()
            .saturating_duration_since(self.origin)
            .as_nanos() as Nanos
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at `start` ns.
    pub fn new(start: Nanos) -> ManualClock {
        ManualClock {
            now: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Moves time forward by `by` ns.
    pub fn advance(&self, by: Nanos) {
        self.now.fetch_add(by, Ordering::Relaxed);
    }

    /// Sets the time (never backwards).
    pub fn set(&self, to: Nanos) {
        self.now.fetch_max(to, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Nanos {
        self.now.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_moves_forward_and_clones_share_origin() {
        let a = MonotonicClock::new();
        let b = a.clone();
        let t0 = a.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let t1 = b.now();
        assert!(t1 >= t0 + 1_000_000, "{t0} -> {t1}");
    }

    #[test]
    fn manual_clock_is_shared() {
        let c = ManualClock::new(5);
        let d = c.clone();
        d.advance(10);
        assert_eq!(c.now(), 15);
        c.set(3);
        assert_eq!(d.now(), 15);
    }
}
