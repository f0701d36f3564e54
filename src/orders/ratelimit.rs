//! Venue rate limits that mirror the venue's own accounting: counters in
//! **fixed windows aligned to the clock** (a 10 s window starts at :00,
//! :10, …; a day at 00:00 UTC), since `now` is UTC. Not token buckets: a
//! bucket would let through bursts the venue refuses at a window edge, or
//! refuse what it allows.
//!
//! * `Orders` limits count new orders; an order that fills (even partly)
//!   is taken off the count of the window it was counted in (Binance's
//!   "unfilled order count"); cancels and expiries are not.
//! * `Weight` limits count request weight; every request kind has a cost.
//! * Every reply's limit report re-syncs the counter of the window the
//!   request was sent in: the count becomes the larger of ours and the
//!   venue's (ours may include requests the venue has not answered yet;
//!   the venue's includes other sessions of the account), and the venue's
//!   limit replaces ours.
//! * A new order that would exceed any known limit is refused at once
//!   ([`RejectReason::RateLimit`]), never queued; cancels and status
//!   queries wait for room instead (they are safe to delay).
//! * 429: nothing is sent until the venue's `retryAfter`; 418: banned
//!   until the time given.

use crate::types::Nanos;

use super::{RejectReason, RequestKind};

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// Unfilled new orders.
    Orders,
    /// Request weight.
    Weight,
}

/// One fixed-window counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimit {
    /// What it counts.
    pub kind: LimitKind,
    /// Window length in ns (windows start at multiples of it since the epoch).
    pub interval: Nanos,
    /// Most allowed per window.
    pub limit: u32,
    /// Counted in the current window.
    pub count: u32,
    /// Index of the current window (`now / interval`).
    window: u64,
}

impl WindowLimit {
    /// A limit of `limit` per `interval`.
    pub const fn new(kind: LimitKind, interval: Nanos, limit: u32) -> WindowLimit {
        WindowLimit {
            kind,
            interval,
            limit,
            count: 0,
            window: 0,
        }
    }

    #[inline]
    fn roll(&mut self, now: Nanos) {
        let w = now / self.interval;
        if w != self.window {
            self.window = w;
            self.count = 0;
        }
    }

    #[inline]
    fn room(&mut self, now: Nanos, n: u32) -> bool {
        self.roll(now);
        self.count.saturating_add(n) <= self.limit
    }

    /// Start of the next window.
    fn next_window(&self, now: Nanos) -> Nanos {
        (now / self.interval + 1) * self.interval
    }
}

/// Weight of each request kind, and how many orders it places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Costs {
    /// Weight of a new order.
    pub new: u32,
    /// Weight of a cancel.
    pub cancel: u32,
    /// Weight of a cancel-replace.
    pub cancel_replace: u32,
    /// Weight of a cancel-all (one instrument).
    pub cancel_all: u32,
    /// Weight of a status query.
    pub query: u32,
}

impl Costs {
    /// The weight of `kind`.
    pub const fn weight(&self, kind: RequestKind) -> u32 {
        match kind {
            RequestKind::New => self.new,
            RequestKind::Cancel => self.cancel,
            RequestKind::CancelReplace | RequestKind::Amend => self.cancel_replace,
            RequestKind::CancelAll => self.cancel_all,
            RequestKind::Query => self.query,
        }
    }
}

/// A limit as a venue reply reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitReport {
    /// What it counts.
    pub kind: LimitKind,
    /// Window length (ns).
    pub interval: Nanos,
    /// The venue's limit.
    pub limit: u32,
    /// The venue's count in the current window.
    pub count: u32,
}

/// Most limits one session tracks.
pub const MAX_LIMITS: usize = 6;

/// Why nothing may be sent for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// 429: until the venue's `retryAfter` (UTC ns).
    RetryAfter(Nanos),
    /// 418: banned until (UTC ns).
    Banned(Nanos),
}

/// One session's limits.
#[derive(Clone, Debug)]
pub struct RateLimits {
    limits: [WindowLimit; MAX_LIMITS],
    n: usize,
    costs: Costs,
    pause: Option<Pause>,
    /// Over-limit refusals of new orders.
    pub refused: u64,
}

impl RateLimits {
    /// Limits with the venue's published numbers and request costs.
    pub fn new(limits: &[WindowLimit], costs: Costs) -> RateLimits {
        let mut all = [WindowLimit::new(LimitKind::Weight, 1, u32::MAX); MAX_LIMITS];
        let n = limits.len().min(MAX_LIMITS);
        all[..n].copy_from_slice(&limits[..n]);
        RateLimits {
            limits: all,
            n,
            costs,
            pause: None,
            refused: 0,
        }
    }

    /// The tracked limits.
    pub fn limits(&self) -> &[WindowLimit] {
        &self.limits[..self.n]
    }

    /// The current pause, if it still runs at `now`.
    pub fn paused(&mut self, now: Nanos) -> Option<Pause> {
        match self.pause {
            Some(Pause::RetryAfter(t) | Pause::Banned(t)) if now >= t => {
                self.pause = None;
                None
            }
            p => p,
        }
    }

    /// Takes a new order (1 order + its weight) if every limit has room;
    /// otherwise refuses it and takes nothing.
    #[inline]
    pub fn try_new_order(&mut self, now: Nanos) -> Result<(), RejectReason> {
        match self.paused(now) {
            Some(Pause::Banned(_)) => return Err(RejectReason::Banned),
            Some(Pause::RetryAfter(_)) => {
                self.refused += 1;
                return Err(RejectReason::RateLimit);
            }
            None => {}
        }
        let weight = self.costs.new;
        let need = |l: &WindowLimit| match l.kind {
            LimitKind::Orders => 1,
            LimitKind::Weight => weight,
        };
        for l in &mut self.limits[..self.n] {
            let n = need(l);
            if !l.room(now, n) {
                self.refused += 1;
                return Err(RejectReason::RateLimit);
            }
        }
        for l in &mut self.limits[..self.n] {
            l.count += need(l);
        }
        Ok(())
    }

    /// Takes the weight of a cancel, cancel-all or query if there is room.
    #[inline]
    pub fn try_request(&mut self, kind: RequestKind, now: Nanos) -> bool {
        if self.paused(now).is_some() {
            return false;
        }
        let w = self.costs.weight(kind);
        let mut ok = true;
        for l in &mut self.limits[..self.n] {
            if l.kind == LimitKind::Weight && !l.room(now, w) {
                ok = false;
            }
        }
        if ok {
            for l in &mut self.limits[..self.n] {
                if l.kind == LimitKind::Weight {
                    l.count += w;
                }
            }
        }
        ok
    }

    /// When a refused cancel/query could first go: the end of the pause,
    /// or the start of the next window of the fullest weight limit.
    pub fn ready_at(&mut self, kind: RequestKind, now: Nanos) -> Nanos {
        if let Some(Pause::RetryAfter(t) | Pause::Banned(t)) = self.paused(now) {
            return t;
        }
        let w = self.costs.weight(kind);
        let mut at = now;
        for l in &mut self.limits[..self.n] {
            if l.kind == LimitKind::Weight && !l.room(now, w) {
                at = at.max(l.next_window(now));
            }
        }
        at
    }

    /// An order counted at `counted_at` filled (first fill): it leaves the
    /// unfilled count of that window if that window is still current.
    pub fn on_fill(&mut self, counted_at: Nanos, now: Nanos) {
        for l in &mut self.limits[..self.n] {
            if l.kind == LimitKind::Orders {
                l.roll(now);
                if counted_at / l.interval == l.window {
                    l.count = l.count.saturating_sub(1);
                }
            }
        }
    }

    /// Re-syncs from a reply to a request sent at `sent_at`. A limit the
    /// session did not know is added (if there is space).
    pub fn resync(&mut self, r: &LimitReport, sent_at: Nanos, now: Nanos) {
        if r.interval == 0 {
            return;
        }
        let i = match self.limits[..self.n]
            .iter()
            .position(|l| l.kind == r.kind && l.interval == r.interval)
        {
            Some(i) => i,
            None if self.n < MAX_LIMITS => {
                self.limits[self.n] = WindowLimit::new(r.kind, r.interval, r.limit);
                self.n += 1;
                self.n - 1
            }
            None => return,
        };
        let l = &mut self.limits[i];
        l.limit = r.limit;
        l.roll(now);
        if sent_at / l.interval == l.window {
            l.count = l.count.max(r.count);
        }
    }

    /// The venue said 429: nothing goes out before `until`.
    pub fn pause_until(&mut self, until: Nanos) {
        if !matches!(self.pause, Some(Pause::Banned(t)) if t >= until) {
            self.pause = Some(Pause::RetryAfter(until));
        }
    }

    /// The venue said 418: banned until `until`.
    pub fn ban_until(&mut self, until: Nanos) {
        self.pause = Some(Pause::Banned(until));
    }
}
