//! The per-strategy cap on new orders per second, sans-IO: fixed one-second
//! windows aligned to UTC seconds (like the venue's own windows), one
//! counter per strategy. A new order (or a replacement) over the cap is
//! refused at once with `strategy_rate`; cancels are never capped. A cap of
//! 0 means none.

use crate::types::Nanos;

use super::RejectReason;

/// Strategies a session tracks (the order-entry thread allows 16).
pub const MAX_STRATEGIES: usize = 16;

const SECOND: Nanos = 1_000_000_000;

/// New orders per second, per strategy.
#[derive(Clone, Copy, Debug)]
pub struct StrategyRate {
    per_sec: u32,
    /// Per strategy: the window (UTC second) and its count.
    windows: [(u64, u32); MAX_STRATEGIES],
}

impl StrategyRate {
    /// A cap of `per_sec` new orders per second per strategy (0 = none).
    pub const fn new(per_sec: u32) -> StrategyRate {
        StrategyRate {
            per_sec,
            windows: [(u64::MAX, 0); MAX_STRATEGIES],
        }
    }

    /// The cap (0 = none).
    pub const fn per_sec(&self) -> u32 {
        self.per_sec
    }

    /// Counts one new order of `strategy` at `now`, or refuses it. A
    /// strategy index past [`MAX_STRATEGIES`] shares the last counter.
    #[inline]
    pub fn admit(&mut self, strategy: usize, now: Nanos) -> Result<(), RejectReason> {
        if self.per_sec == 0 {
            return Ok(());
        }
        let w = &mut self.windows[strategy.min(MAX_STRATEGIES - 1)];
        let second = now / SECOND;
        if w.0 != second {
            *w = (second, 0);
        }
        if w.1 >= self.per_sec {
            return Err(RejectReason::StrategyRate);
        }
        w.1 += 1;
        Ok(())
    }

    /// Gives back the count of an order refused later in the pipeline (it
    /// never left), if its window is still the current one.
    #[inline]
    pub fn refund(&mut self, strategy: usize, now: Nanos) {
        if self.per_sec == 0 {
            return;
        }
        let w = &mut self.windows[strategy.min(MAX_STRATEGIES - 1)];
        if w.0 == now / SECOND {
            w.1 = w.1.saturating_sub(1);
        }
    }
}

impl Default for StrategyRate {
    fn default() -> Self {
        StrategyRate::new(0)
    }
}
