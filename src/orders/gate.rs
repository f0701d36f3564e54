//! The order-entry core of one trading session: risk, breaker, rate limits
//! and the order table behind one sans-IO surface (see the module docs of
//! [`super`] for the call order).

use crate::types::Nanos;

use super::breaker::{Breaker, BreakerConfig, BreakerState};
use super::ratelimit::{LimitReport, Pause, RateLimits};
use super::strategy_rate::StrategyRate;
use super::{
    ExecReport, Health, NewOrder, Orders, OrdersConfig, RejectReason, Reply, ReportKind, Request,
    Risk, Send, SessionStatus, VenueOrder,
};

/// Most limit reports one reply carries that the gate reads.
pub const MAX_REPLY_LIMITS: usize = 6;

/// What a reply says besides its result: its HTTP-style status, a
/// `retryAfter` and the venue's current limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyMeta {
    /// 200, 400, 403, 409, 418, 429, 5xx.
    pub status: u16,
    /// For 418/429: until when (UTC ns); 0 if not given.
    pub retry_after: Nanos,
    /// The limits the reply reported.
    pub limits: [Option<LimitReport>; MAX_REPLY_LIMITS],
}

impl ReplyMeta {
    /// A 200 reply with no limit reports.
    pub const OK: ReplyMeta = ReplyMeta {
        status: 200,
        retry_after: 0,
        limits: [None; MAX_REPLY_LIMITS],
    };
}

/// One trading session's order-entry core.
#[derive(Debug)]
pub struct Gate {
    orders: Orders,
    risk: Risk,
    limits: RateLimits,
    breaker: Breaker,
    /// Logged on (requests may be written).
    connected: bool,
    /// Reconnected but not all doubts resolved: new orders wait.
    reconciling: bool,
    /// A separate user-data stream (USD-M) is down: new orders wait.
    user_down: bool,
    /// The user-data stream has been up before (a reopen re-queries).
    user_seen: bool,
    /// Cancel-replace is an amend in place (USD-M `order.modify`).
    amend_in_place: bool,
    /// New orders per second per strategy.
    rate: StrategyRate,
    /// The strategy whose request is being submitted.
    from: usize,
}

impl Gate {
    /// A session core, disconnected until [`Gate::set_ready`].
    pub fn new(cfg: OrdersConfig, risk: Risk, limits: RateLimits, breaker: BreakerConfig) -> Gate {
        Gate {
            orders: Orders::new(cfg),
            risk,
            limits,
            breaker: Breaker::new(breaker),
            connected: false,
            reconciling: false,
            user_down: false,
            user_seen: false,
            amend_in_place: false,
            rate: StrategyRate::new(0),
            from: 0,
        }
    }

    /// The order table.
    pub fn orders(&self) -> &Orders {
        &self.orders
    }

    /// The risk checker (to set limits and reference prices).
    pub fn risk_mut(&mut self) -> &mut Risk {
        &mut self.risk
    }

    /// The rate limits.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The breaker's state.
    pub fn breaker(&self) -> BreakerState {
        self.breaker.state()
    }

    fn status(&mut self, s: SessionStatus, until: Nanos, now: Nanos) {
        self.orders.push_report(ExecReport::status(s, until, now));
    }

    fn breaker_moved(&mut self, to: Option<BreakerState>, now: Nanos) {
        let s = match to {
            Some(BreakerState::Open) => SessionStatus::BreakerOpen,
            Some(BreakerState::HalfOpen) => SessionStatus::BreakerHalfOpen,
            Some(BreakerState::Closed) => SessionStatus::BreakerClosed,
            None => return,
        };
        self.status(s, 0, now);
    }

    /// Logged on (again): requests may be written. Orders left unresolved
    /// by a disconnect are queried before new orders are accepted.
    pub fn set_ready(&mut self, now: Nanos) {
        self.connected = true;
        self.reconciling = self.orders.unresolved();
        self.status(SessionStatus::Ready, 0, now);
    }

    /// How this venue replaces an order. `false` (spot `order.cancelReplace`):
    /// a [`Request::CancelReplace`] cancels one order and places another
    /// with a fresh client id. `true` (USD-M `order.modify`): it amends the
    /// order in place, the replacement must carry the *same* client id, and
    /// a confirmed amend is reported as an `Ack` with the new price and
    /// quantity (a refused one as a `CancelReject`, the order unchanged).
    /// Either market refuses the other form with `invalid_order`.
    pub fn set_amend_in_place(&mut self, on: bool) {
        self.amend_in_place = on;
    }

    /// A separate user-data stream (USD-M's listen-key stream) went down
    /// (`false`): new orders are refused with `not_ready` until it is back.
    /// Back up (`true`): if it had been up before, every open order is
    /// queried (events may have been missed) and new orders wait for the
    /// answers, as after a reconnect.
    pub fn set_user_data(&mut self, up: bool, now: Nanos) {
        if !up {
            if !self.user_down {
                self.user_down = true;
                if self.connected {
                    self.status(SessionStatus::NotReady, 0, now);
                }
            }
            return;
        }
        if self.user_seen {
            self.orders.requery_open(now);
        }
        self.user_seen = true;
        let was_down = self.user_down;
        self.user_down = false;
        self.reconciling = self.orders.unresolved();
        if was_down && self.connected {
            self.status(SessionStatus::Ready, 0, now);
        }
    }

    /// Caps new orders (and replacements) per strategy and second (0 =
    /// none); see [`StrategyRate`]. Refusals carry `strategy_rate`.
    pub fn set_strategy_rate(&mut self, per_sec: u32) {
        self.rate = StrategyRate::new(per_sec);
    }

    /// [`Gate::submit`] on behalf of strategy `strategy` (its index), for
    /// the per-strategy cap.
    pub fn submit_from(&mut self, strategy: usize, req: Request, now: Nanos) {
        self.from = strategy;
        self.submit(req, now);
        self.from = 0;
    }

    /// The connection dropped.
    pub fn handle_disconnect(&mut self, now: Nanos) {
        self.connected = false;
        self.orders.handle_disconnect(now);
        self.status(SessionStatus::NotReady, 0, now);
    }

    /// Turns the kill switch on: cancels everything, refuses new orders.
    pub fn kill(&mut self, now: Nanos) {
        self.risk.set_kill(true);
        self.orders.cancel_everything();
        self.status(SessionStatus::KillSwitchOn, 0, now);
    }

    /// Resets the kill switch.
    pub fn reset_kill(&mut self, now: Nanos) {
        self.risk.set_kill(false);
        self.status(SessionStatus::KillSwitchOff, 0, now);
    }

    fn admit_new(&mut self, o: &NewOrder, now: Nanos) -> Result<(), RejectReason> {
        self.admit(o, 0, now)
    }

    /// Admission of a new order or an amend (`already` = 1: the amended
    /// order is counted among the open ones already).
    fn admit(&mut self, o: &NewOrder, already: u32, now: Nanos) -> Result<(), RejectReason> {
        if !self.connected || self.user_down {
            return Err(RejectReason::NotReady);
        }
        if self.reconciling {
            self.reconciling = self.orders.unresolved();
            if self.reconciling {
                return Err(RejectReason::NotReady);
            }
        }
        let moved = self.breaker.tick(now);
        self.breaker_moved(moved, now);
        self.risk.check(
            o,
            self.orders.open_on(o.instrument).saturating_sub(already),
            self.orders.open_total().saturating_sub(already),
        )?;
        if self.breaker.state() == BreakerState::Open {
            return Err(RejectReason::CircuitOpen);
        }
        if let Some(Pause::Banned(_)) = self.limits.paused(now) {
            return Err(RejectReason::Banned);
        }
        if !self.breaker.admit() {
            return Err(RejectReason::CircuitOpen);
        }
        self.rate.admit(self.from, now)?;
        let from = self.from;
        self.limits
            .try_new_order(now)
            .inspect_err(|_| self.rate.refund(from, now))
    }

    /// A strategy request (as strategy 0; see [`Gate::submit_from`]). A
    /// refusal becomes a report at once (`Reject`
    /// for orders, `CancelReject` for cancels); nothing refused is queued.
    pub fn submit(&mut self, req: Request, now: Nanos) {
        let result = match req {
            Request::New(o) => self
                .admit_new(&o, now)
                .and_then(|()| self.orders.submit(o, now))
                .map_err(|e| ExecReport::local_reject(&o, e, now)),
            Request::CancelReplace(cr) if cr.new.client_id == cr.cancel => {
                self.submit_amend(cr.new, now).map_err(|e| {
                    let mut r = ExecReport::local_reject(&cr.new, e, now);
                    r.kind = ReportKind::CancelReject;
                    r
                })
            }
            Request::CancelReplace(cr) if self.amend_in_place => Err(ExecReport::local_reject(
                &cr.new,
                RejectReason::InvalidOrder,
                now,
            )),
            Request::CancelReplace(cr) => self
                .admit_new(&cr.new, now)
                .and_then(|()| self.orders.cancel_replace(cr.cancel, cr.new, now))
                .map_err(|e| ExecReport::local_reject(&cr.new, e, now)),
            Request::Cancel(c) => self.orders.cancel(c).map_err(|e| {
                let mut r = ExecReport::status(SessionStatus::Ready, 0, now);
                r.kind = ReportKind::CancelReject;
                r.status = None;
                r.client_id = c.client_id;
                r.instrument = c.instrument;
                r.reason = Some(e);
                r
            }),
            Request::CancelAll(i) => self.orders.cancel_all(i).map_err(|e| {
                let mut r = ExecReport::status(SessionStatus::Ready, 0, now);
                r.kind = ReportKind::CancelReject;
                r.status = None;
                r.instrument = i;
                r.reason = Some(e);
                r
            }),
        };
        if let Err(r) = result {
            self.orders.push_report(r);
        }
    }

    fn submit_amend(&mut self, o: NewOrder, now: Nanos) -> Result<(), RejectReason> {
        if !self.amend_in_place {
            return Err(RejectReason::InvalidOrder);
        }
        self.admit(&o, 1, now)?;
        self.orders.amend(o.client_id, o.price, o.qty)
    }

    /// The next request to write now, if any (and if the limits allow).
    pub fn poll_send(&mut self, now: Nanos) -> Option<Send> {
        if !self.connected {
            return None;
        }
        let limits = &mut self.limits;
        self.orders
            .poll_send(now, &mut |kind| limits.try_request(kind, now))
    }

    /// A reply to request `req`.
    pub fn handle_reply(&mut self, req: u64, reply: &Reply, meta: &ReplyMeta, now: Nanos) {
        let sent_at = self.orders.sent_at_of(req).unwrap_or(now);
        for l in meta.limits.iter().flatten() {
            self.limits.resync(l, sent_at, now);
        }
        match meta.status {
            429 => {
                let until = meta.retry_after.max(now);
                self.limits.pause_until(until);
                self.status(SessionStatus::RateLimited, until, now);
            }
            418 => {
                let until = meta.retry_after.max(now);
                self.limits.ban_until(until);
                self.status(SessionStatus::Banned, until, now);
            }
            _ => {}
        }
        let health = self
            .orders
            .handle_reply_status(req, reply, meta.status, now);
        self.after(health, now);
    }

    /// A user-data event.
    pub fn handle_update(&mut self, v: &VenueOrder, now: Nanos) {
        self.orders.handle_update(v, now);
        self.after(Health::Neutral, now);
    }

    fn after(&mut self, health: Health, now: Nanos) {
        while let Some(counted_at) = self.orders.poll_credit() {
            self.limits.on_fill(counted_at, now);
        }
        let moved = match health {
            Health::Ok => self.breaker.success(),
            Health::Failure => self.breaker.failure(now),
            Health::Neutral => None,
        };
        self.breaker_moved(moved, now);
    }

    /// Timeouts, breaker cool-down; call at [`Gate::poll_timeout`].
    pub fn handle_timeouts(&mut self, now: Nanos) {
        let n = self.orders.handle_timeouts(now);
        for _ in 0..n {
            let moved = self.breaker.failure(now);
            self.breaker_moved(moved, now);
        }
        let moved = self.breaker.tick(now);
        self.breaker_moved(moved, now);
    }

    /// When [`Gate::handle_timeouts`] (or a due query) next has work.
    pub fn poll_timeout(&self) -> Option<Nanos> {
        self.orders.poll_timeout()
    }

    /// The next execution report for the strategy.
    pub fn poll_report(&mut self) -> Option<ExecReport> {
        self.orders.poll_report()
    }
}
