//! The inbound half of [`Orders`]: replies, user-data events, timeouts,
//! disconnects, and reclaiming finished orders.

use crate::types::Nanos;

use super::super::evidence::{Reply, VenueOrder};
use super::super::state::OrderState;
use super::super::{ExecReport, RejectReason, ReportKind};
use super::{Health, Orders, RequestKind};

impl Orders {
    /// Runs `f` on the order in `slot`, collecting its reports, and keeps
    /// the open counts right when it finishes.
    fn with_order(
        &mut self,
        slot: usize,
        f: impl FnOnce(&mut super::Order, &mut dyn FnMut(ExecReport)),
    ) {
        let was_done = self.table.get(slot).state.is_terminal();
        let was_unfilled = self.table.get(slot).filled.0 == 0;
        let reports = &mut self.reports;
        let o = self.table.get_mut(slot);
        f(o, &mut |r| {
            reports.push(r);
        });
        let o = *self.table.get(slot);
        if was_unfilled && o.filled.0 > 0 {
            self.credits.push(o.charged_at);
        }
        if !was_done && o.state.is_terminal() {
            let i = o.req.instrument.index();
            self.open[i] = self.open[i].saturating_sub(1);
            self.open_total = self.open_total.saturating_sub(1);
        }
        if o.query_due != 0 {
            self.arm(o.query_due);
        }
    }

    /// A user-data event (or any venue message) about an order. Events for
    /// client ids this session does not track are counted and ignored.
    pub fn handle_update(&mut self, v: &VenueOrder, now: Nanos) {
        let Some(slot) = self.table.find(&v.client_id) else {
            self.stats.foreign_updates += 1;
            return;
        };
        let mut anomaly = false;
        self.with_order(slot, |o, out| {
            anomaly = o.apply(v, now, &mut |r| out(r)).is_err();
        });
        if anomaly {
            self.stats.anomalies += 1;
        }
    }

    /// The reply to request `req`. Returns what it says about the session's
    /// health. A reply to a timed-out request is still applied (a late
    /// reply is evidence).
    pub fn handle_reply(&mut self, req: u64, reply: &Reply, now: Nanos) -> Health {
        self.handle_reply_status(req, reply, 200, now)
    }

    /// [`Orders::handle_reply`] with the reply's HTTP-style status: a
    /// refusal answered 429 is reported with reason `rate_limit`, 418 with
    /// `banned` (the venue's code and text kept), any other with `venue`.
    pub fn handle_reply_status(
        &mut self,
        req: u64,
        reply: &Reply,
        status: u16,
        now: Nanos,
    ) -> Health {
        let reason = match status {
            429 => RejectReason::RateLimit,
            418 => RejectReason::Banned,
            _ => RejectReason::Venue,
        };
        let mask = self.flights.len() - 1;
        let f = self.flights[req as usize & mask];
        if f.req != req {
            self.stats.stray_replies += 1;
            // An order result still names its order.
            if let Reply::Order(v) = reply {
                self.handle_update(v, now);
            }
            return Health::Neutral;
        }
        self.flights[req as usize & mask].req = 0;
        let slot = if f.id.is_empty() {
            None
        } else {
            self.table.find(&f.id)
        };
        if let Some(s) = slot
            && f.kind == RequestKind::Query
        {
            self.table.get_mut(s).query_inflight = false;
        }
        let health = match reply {
            Reply::Unknown { .. } => Health::Failure,
            _ => Health::Ok,
        };
        match *reply {
            Reply::Order(ref v) => {
                if let Some(s) = slot
                    && f.kind == RequestKind::Amend
                    && v.client_id == f.id
                {
                    self.amended(s, v.status != super::super::VenueStatus::Rejected, now);
                }
                self.handle_update(v, now);
                if let Some(s) = slot
                    && f.kind == RequestKind::Query
                    && v.client_id == f.id
                    && f.sent_at >= self.table.get(s).doubt_at
                {
                    self.table.get_mut(s).query_due = 0;
                }
            }
            Reply::Done => {}
            Reply::Refused { code, text } | Reply::NotFound { code, text } => {
                let not_found = matches!(reply, Reply::NotFound { .. });
                match (f.kind, slot) {
                    (RequestKind::New | RequestKind::CancelReplace, Some(s))
                        if self.table.get(s).new_req == req =>
                    {
                        self.with_order(s, |o, out| {
                            o.refuse(code, text, reason, now, &mut |r| out(r));
                        });
                    }
                    (RequestKind::Cancel | RequestKind::Amend, Some(s)) => {
                        if f.kind == RequestKind::Amend {
                            self.table.get_mut(s).amend = None;
                        }
                        let o = self.table.get(s);
                        self.reports.push(ExecReport {
                            reason: Some(reason),
                            venue_code: code,
                            text,
                            ..o.report(ReportKind::CancelReject, now)
                        });
                    }
                    (RequestKind::Query, Some(s)) if not_found => self.absent(s, f.sent_at, now),
                    (RequestKind::Query, Some(s)) => {
                        let retry = now + self.cfg.query_retry;
                        self.with_order(s, |o, out| o.doubt(now, retry, &mut |r| out(r)));
                    }
                    (RequestKind::CancelAll, _) => {
                        let mut r = ExecReport::status(super::super::SessionStatus::Ready, 0, now);
                        r.kind = ReportKind::CancelReject;
                        r.status = None;
                        r.instrument = f.instrument;
                        r.reason = Some(reason);
                        r.venue_code = code;
                        r.text = text;
                        self.reports.push(r);
                    }
                    _ => {}
                }
            }
            Reply::Unknown { .. } => self.lost(f.kind, slot, now),
        }
        health
    }

    /// The venue answered an amend: adopt its price and quantity (`ok`) or
    /// forget it. A confirmed amend is reported as an `Ack` carrying the
    /// new figures.
    fn amended(&mut self, slot: usize, ok: bool, now: Nanos) {
        let o = self.table.get_mut(slot);
        let Some((price, qty)) = o.amend.take() else {
            return;
        };
        if ok && !o.state.is_terminal() {
            o.req.price = price;
            o.req.qty = qty;
            let r = o.report(ReportKind::Ack, now);
            self.reports.push(r);
        }
    }

    /// A "does not exist" answer to a status query sent at `asked_at`.
    fn absent(&mut self, slot: usize, asked_at: Nanos, now: Nanos) {
        let o = *self.table.get(slot);
        if o.seen || o.state.is_terminal() {
            return;
        }
        // Proof only if the original could no longer reach the venue when we asked.
        let too_late_after = o.sent_at + self.cfg.recv_window + self.cfg.request_timeout;
        if o.sent_at != 0 && asked_at < too_late_after {
            let again = too_late_after.max(now) + 1;
            self.with_order(slot, |o, out| o.doubt(now, again, &mut |r| out(r)));
            return;
        }
        if self.cfg.resend_absent {
            let o = self.table.get_mut(slot);
            o.state = OrderState::Pending;
            o.send_allowed = true;
            o.query_due = 0;
            let id = o.req.client_id;
            self.sends.push(super::Pending::New {
                slot: slot as u32,
                id,
            });
        } else {
            self.with_order(slot, |o, out| {
                o.refuse(
                    0,
                    super::super::VenueText::EMPTY,
                    RejectReason::AbsentAtVenue,
                    now,
                    &mut |r| out(r),
                );
            });
        }
    }

    /// The outcome of a request is unknown: new orders go in doubt, cancels
    /// and queries lead to a status query.
    fn lost(&mut self, kind: RequestKind, slot: Option<usize>, now: Nanos) {
        let Some(s) = slot else { return };
        let at = match kind {
            RequestKind::Query => now + self.cfg.query_retry,
            _ => now,
        };
        self.table.get_mut(s).query_inflight = false;
        self.with_order(s, |o, out| o.doubt(now, at, &mut |r| out(r)));
    }

    /// Times out requests past their deadline and returns how many (each is
    /// a breaker failure). Also reclaims finished orders past their linger.
    pub fn handle_timeouts(&mut self, now: Nanos) -> u32 {
        let mut count = 0;
        for i in 0..self.flights.len() {
            let f = self.flights[i];
            if f.req == 0 || f.expired || f.deadline > now {
                continue;
            }
            self.flights[i].expired = true;
            count += 1;
            self.stats.timeouts += 1;
            let slot = if f.id.is_empty() {
                None
            } else {
                self.table.find(&f.id)
            };
            self.lost(f.kind, slot, now);
        }
        let next = self.next_wake();
        self.wake = next;
        self.reclaim(now);
        count
    }

    /// The earliest pending deadline or due query (0 = none): a full scan,
    /// off the per-order path.
    pub(super) fn next_wake(&self) -> Nanos {
        let mut next = 0;
        let mut take = |t: Nanos| {
            if t != 0 && (next == 0 || t < next) {
                next = t;
            }
        };
        for f in self.flights.iter() {
            if f.req != 0 && !f.expired {
                take(f.deadline);
            }
        }
        for s in 0..self.table.capacity() {
            if self.table.live(s) {
                let o = self.table.get(s);
                if !o.state.is_terminal() && !o.query_inflight {
                    take(o.query_due);
                }
            }
        }
        next
    }

    /// The connection dropped: every request on it is lost. New orders on
    /// it go in doubt; everything unresolved is queried after reconnect
    /// (queries wait in the table; the IO layer polls sends once it is
    /// logged on again).
    pub fn handle_disconnect(&mut self, now: Nanos) {
        for i in 0..self.flights.len() {
            let f = self.flights[i];
            if f.req == 0 || f.expired {
                continue;
            }
            self.flights[i].expired = true;
            let slot = if f.id.is_empty() {
                None
            } else {
                self.table.find(&f.id)
            };
            self.lost(f.kind, slot, now);
        }
        // Orders queued but never written are not in doubt: they simply wait.
    }

    /// Frees finished orders older than the linger time.
    pub(super) fn reclaim(&mut self, now: Nanos) {
        for s in 0..self.table.capacity() {
            if self.table.live(s) {
                let o = self.table.get(s);
                if o.state.is_terminal() && o.done_at + self.cfg.linger <= now {
                    self.table.remove(s);
                }
            }
        }
    }
}
