//! Rate limits and restart policy, on injected time (ns), no clock reads.

use super::{Nanos, Rng};

const NS_PER_SEC: u128 = 1_000_000_000;

/// A weighted token bucket: `capacity` tokens, refilled at `per_second`.
/// Used for REST weight (snapshots) and WebSocket control messages.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: u64,
    per_second: u64,
    /// Tokens, in millionths, so slow refill rates lose nothing to rounding.
    micro_tokens: u128,
    last: Nanos,
    /// Nothing may be taken before this (the venue said "retry after").
    paused_until: Nanos,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(capacity: u64, per_second: u64, now: Nanos) -> TokenBucket {
        TokenBucket {
            capacity,
            per_second,
            micro_tokens: u128::from(capacity) * 1_000_000,
            last: now,
            paused_until: 0,
        }
    }

    fn refill(&mut self, now: Nanos) {
        if now > self.last {
            let add =
                u128::from(now - self.last) * u128::from(self.per_second) * 1_000_000 / NS_PER_SEC;
            self.micro_tokens =
                (self.micro_tokens + add).min(u128::from(self.capacity) * 1_000_000);
            self.last = now;
        }
    }

    /// Takes `weight` tokens if available now.
    pub fn try_take(&mut self, weight: u64, now: Nanos) -> bool {
        if now < self.paused_until {
            return false;
        }
        self.refill(now);
        let need = u128::from(weight) * 1_000_000;
        if self.micro_tokens >= need {
            self.micro_tokens -= need;
            true
        } else {
            false
        }
    }

    /// Empties the bucket and refuses everything until `until` (HTTP 429/418).
    pub fn pause_until(&mut self, until: Nanos) {
        self.micro_tokens = 0;
        self.paused_until = self.paused_until.max(until);
        self.last = self.last.max(until);
    }

    /// The earliest time at or after `now` when `weight` tokens are
    /// available (never, for more than the capacity or a zero rate).
    pub fn ready_at(&self, weight: u64, now: Nanos) -> Nanos {
        let need = u128::from(weight) * 1_000_000;
        if weight > self.capacity || self.per_second == 0 {
            return Nanos::MAX;
        }
        let elapsed = u128::from(now.saturating_sub(self.last));
        let have = (self.micro_tokens
            + elapsed * u128::from(self.per_second) * 1_000_000 / NS_PER_SEC)
            .min(u128::from(self.capacity) * 1_000_000);
        let at = if have >= need {
            now
        } else {
            // Refill floors, so the wait from the last refill is the ceiling.
            let wait = ((need - self.micro_tokens) * NS_PER_SEC)
                .div_ceil(u128::from(self.per_second) * 1_000_000);
            Nanos::try_from(u128::from(self.last) + wait).unwrap_or(Nanos::MAX)
        };
        at.max(self.paused_until)
    }

    /// Whole tokens available now.
    pub fn available(&mut self, now: Nanos) -> u64 {
        self.refill(now);
        (self.micro_tokens / 1_000_000) as u64
    }
}

/// Exponential backoff with ±25% jitter, reset after a healthy stretch.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Nanos,
    max: Nanos,
    attempt: u32,
    rng: Rng,
}

impl Backoff {
    /// A policy from `initial` doubling up to `max`; `seed` decorrelates connections.
    pub fn new(initial: Nanos, max: Nanos, seed: u64) -> Backoff {
        Backoff {
            initial: initial.max(1),
            max: max.max(initial),
            attempt: 0,
            rng: Rng::new(seed),
        }
    }

    /// The next delay; grows on every call.
    pub fn next_delay(&mut self) -> Nanos {
        let base = self
            .initial
            .saturating_mul(1u64 << self.attempt.min(40))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        // Jitter in [-25%, +25%] of the base.
        let quarter = base / 4;
        let jitter = self.rng.below(2 * quarter + 1);
        base - quarter + jitter
    }

    /// Back to the initial delay (the connection was healthy).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// "At most `limit` restarts in `window`": the supervisor's storm guard.
#[derive(Clone, Debug)]
pub struct RestartIntensity {
    limit: usize,
    window: Nanos,
    /// Times of recent restarts, oldest first; never more than `limit` + 1.
    recent: std::collections::VecDeque<Nanos>,
}

impl RestartIntensity {
    /// A guard allowing `limit` restarts per `window`.
    pub fn new(limit: u32, window: Nanos) -> RestartIntensity {
        RestartIntensity {
            limit: limit as usize,
            window,
            recent: std::collections::VecDeque::with_capacity(limit as usize + 1),
        }
    }

    /// Records a restart at `now`; `false` when that exceeds the limit.
    pub fn record(&mut self, now: Nanos) -> bool {
        while self
            .recent
            .front()
            .is_some_and(|&t| now.saturating_sub(t) > self.window)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() > self.limit {
            self.recent.pop_front();
            false
        } else {
            true
        }
    }

    /// Forgets history (after a cool-down).
    pub fn clear(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn ready_at_is_when_try_take_first_succeeds() {
        let mut b = TokenBucket::new(1, 4, 0);
        assert_eq!(b.ready_at(1, 10), 10);
        assert!(b.try_take(1, 10));
        let at = b.ready_at(1, 10);
        assert!(at > 10 && at <= 10 + S / 4 + 1, "{at}");
        assert!(!b.clone().try_take(1, at - 1));
        assert!(b.try_take(1, at));
        assert_eq!(b.ready_at(2, at), Nanos::MAX, "more than the capacity");
        b.pause_until(5 * S);
        assert!(b.ready_at(1, S) >= 5 * S);
    }

    #[test]
    fn token_bucket_refills_and_pauses() {
        let mut b = TokenBucket::new(100, 10, 0);
        assert!(b.try_take(60, 0));
        assert!(!b.try_take(60, 0));
        assert!(b.try_take(60, 2 * S)); // 40 + 20 refilled
        assert!(!b.try_take(1, 2 * S));
        b.pause_until(10 * S);
        assert!(!b.try_take(1, 9 * S));
        assert!(b.try_take(1, 11 * S));
        assert_eq!(b.available(1000 * S), 100);
    }

    #[test]
    fn backoff_grows_caps_jitters_and_resets() {
        let mut b = Backoff::new(100, 1000, 1);
        let d: Vec<Nanos> = (0..8).map(|_| b.next_delay()).collect();
        assert!((75..=125).contains(&d[0]), "{d:?}");
        assert!((150..=250).contains(&d[1]), "{d:?}");
        assert!(d[6] <= 1250 && d[6] >= 750, "{d:?}");
        b.reset();
        assert!(b.next_delay() <= 125);
    }

    #[test]
    fn intensity_limits_restarts_per_window() {
        let mut r = RestartIntensity::new(5, 10 * S);
        for i in 0..5 {
            assert!(r.record(i * S), "restart {i}");
        }
        assert!(!r.record(5 * S));
        // Once the window has passed, restarts are allowed again.
        assert!(r.record(30 * S));
    }
}
