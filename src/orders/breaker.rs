//! The per-session circuit breaker.
//!
//! ```text
//! Closed ──N consecutive failures──► Open ──cool-down──► HalfOpen
//!   ▲                                  ▲                    │ probes admitted
//!   └──────── a probe succeeds ────────┼────────────────────┤
//!                                      └── a probe fails ───┘
//! ```
//!
//! Failures are timeouts and unknown outcomes (`-1007`, 5xx); a business
//! reject is a success (the venue answered). While open, new orders are
//! refused at once with `circuit_open`; cancels and status queries still go
//! (they reduce risk and resolve doubt). Each transition is returned once
//! so the IO layer can emit one status report and one log line.

use crate::types::Nanos;

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Normal operation.
    Closed,
    /// Refusing new orders until the cool-down ends.
    Open,
    /// Admitting up to `probes` new orders to test the venue.
    HalfOpen,
}

/// Breaker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failures: u32,
    /// How long it stays open (ns).
    pub cool_down: Nanos,
    /// New orders admitted while half-open.
    pub probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 5,
            cool_down: 10_000_000_000,
            probes: 2,
        }
    }
}

/// A circuit breaker on a manual or real clock (`now` is passed in).
#[derive(Clone, Copy, Debug)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: BreakerState,
    consecutive: u32,
    opened_at: Nanos,
    probes_left: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker {
            cfg,
            state: BreakerState::Closed,
            consecutive: 0,
            opened_at: 0,
            probes_left: 0,
        }
    }

    /// The current state (without advancing time).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Moves open → half-open once the cool-down is over; returns the new
    /// state if it changed.
    pub fn tick(&mut self, now: Nanos) -> Option<BreakerState> {
        if self.state == BreakerState::Open && now >= self.opened_at + self.cfg.cool_down {
            self.state = BreakerState::HalfOpen;
            self.probes_left = self.cfg.probes;
            return Some(BreakerState::HalfOpen);
        }
        None
    }

    /// Whether a new order may go now (a half-open probe is used up).
    /// Call [`Breaker::tick`] first.
    #[inline]
    pub fn admit(&mut self) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen if self.probes_left > 0 => {
                self.probes_left -= 1;
                true
            }
            BreakerState::HalfOpen => false,
        }
    }

    /// The venue answered; returns the new state if it changed.
    #[inline]
    pub fn success(&mut self) -> Option<BreakerState> {
        self.consecutive = 0;
        if self.state == BreakerState::HalfOpen {
            self.state = BreakerState::Closed;
            return Some(BreakerState::Closed);
        }
        None
    }

    /// A timeout or unknown outcome; returns the new state if it changed.
    pub fn failure(&mut self, now: Nanos) -> Option<BreakerState> {
        self.consecutive = self.consecutive.saturating_add(1);
        let trip = match self.state {
            BreakerState::Closed => self.consecutive >= self.cfg.failures,
            BreakerState::HalfOpen => true,
            BreakerState::Open => false,
        };
        if trip {
            self.state = BreakerState::Open;
            self.opened_at = now;
            return Some(BreakerState::Open);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Clock, ManualClock};

    const S: Nanos = 1_000_000_000;

    #[test]
    fn opens_after_n_failures_cools_down_probes_and_closes() {
        let clock = ManualClock::new(1_000 * S);
        let mut b = Breaker::new(BreakerConfig {
            failures: 3,
            cool_down: 10 * S,
            probes: 2,
        });
        assert_eq!(b.failure(clock.now()), None);
        assert_eq!(b.success(), None, "a success resets the streak");
        assert_eq!(b.failure(clock.now()), None);
        assert_eq!(b.failure(clock.now()), None);
        assert!(b.admit());
        assert_eq!(b.failure(clock.now()), Some(BreakerState::Open));
        assert!(!b.admit());
        clock.advance(10 * S - 1);
        assert_eq!(b.tick(clock.now()), None);
        assert!(!b.admit(), "still open one ns before the cool-down ends");
        clock.advance(1);
        assert_eq!(b.tick(clock.now()), Some(BreakerState::HalfOpen));
        assert!(b.admit() && b.admit());
        assert!(!b.admit(), "only two probes");
        assert_eq!(b.success(), Some(BreakerState::Closed));
        assert!(b.admit());
    }

    #[test]
    fn a_failed_probe_reopens_for_a_full_cool_down() {
        let clock = ManualClock::new(0);
        let mut b = Breaker::new(BreakerConfig {
            failures: 1,
            cool_down: 5 * S,
            probes: 1,
        });
        assert_eq!(b.failure(clock.now()), Some(BreakerState::Open));
        assert_eq!(
            b.failure(clock.now()),
            None,
            "already open: no second transition"
        );
        clock.advance(5 * S);
        assert_eq!(b.tick(clock.now()), Some(BreakerState::HalfOpen));
        assert!(b.admit());
        clock.advance(S);
        assert_eq!(b.failure(clock.now()), Some(BreakerState::Open));
        clock.advance(5 * S - 1);
        assert_eq!(b.tick(clock.now()), None);
        clock.advance(1);
        assert_eq!(b.tick(clock.now()), Some(BreakerState::HalfOpen));
    }
}
