//! One order's state and how venue evidence moves it.
//!
//! ```text
//!  Pending ──ack──► Acked ──fill──► PartiallyFilled ──fill──► Filled
//!     │               │                   │
//!     │               └──────┬────────────┴──► Canceled / Expired
//!     ├──refused──► Rejected │
//!     └──timeout / disconnect / -1007 / 5xx──► InDoubt ──venue evidence──► any of the above
//! ```
//!
//! Rules: the first terminal outcome (filled, canceled, rejected, expired)
//! is final and reported once; fills arriving after it are still applied
//! and reported (late fills). `filled` only grows, to at most the order's
//! quantity, taken from the venue's cumulative quantity, so duplicate and
//! out-of-order messages add nothing twice; trade ids already seen are
//! skipped as well.

use crate::types::{Nanos, Price, Qty};

use super::evidence::{VenueOrder, VenueStatus};
use super::{ExecReport, NewOrder, RejectReason, ReportKind};

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// Sent (or about to be), no answer yet.
    Pending,
    /// Accepted by the venue.
    Acked,
    /// Partly filled, open.
    PartiallyFilled,
    /// Completely filled (terminal).
    Filled,
    /// Canceled (terminal).
    Canceled,
    /// Refused (terminal).
    Rejected,
    /// Expired (terminal).
    Expired,
    /// The outcome is unknown until the venue says more.
    InDoubt,
}

impl OrderState {
    /// Whether this is a final outcome.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Canceled | OrderState::Rejected | OrderState::Expired
        )
    }
}

/// How many recent trade ids an order remembers for de-duplication.
const TRADE_MEMORY: usize = 4;

/// One order's record in the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Order {
    /// The request as the strategy sent it.
    pub(crate) req: NewOrder,
    pub(crate) state: OrderState,
    pub(crate) venue_order_id: u64,
    /// Cumulative fill: monotone, `<= req.qty`.
    pub(crate) filled: Qty,
    /// The venue has spoken about this order on some channel.
    pub(crate) seen: bool,
    /// An `Ack` report went out.
    pub(crate) acked: bool,
    /// A new-order send may go out (set on submit and after a proven
    /// absence; cleared by the send and by any venue evidence).
    pub(crate) send_allowed: bool,
    /// New-order sends so far.
    pub(crate) sends: u8,
    /// When the last new-order request was written (UTC ns); 0 = never.
    pub(crate) sent_at: Nanos,
    /// Request id of the latest new-order request (0 = none).
    pub(crate) new_req: u64,
    /// A status query is wanted at or after this time (0 = none).
    pub(crate) query_due: Nanos,
    /// When the latest doubt arose: only a query written after it settles it.
    pub(crate) doubt_at: Nanos,
    /// A status query is on the wire.
    pub(crate) query_inflight: bool,
    /// When the order reached a terminal state (for reclaiming the slot).
    pub(crate) done_at: Nanos,
    /// When the rate limiter counted it (UTC ns), for the unfilled count.
    pub(crate) charged_at: Nanos,
    /// An amend (USD-M `order.modify`) on the wire: the price and quantity
    /// it asks for, adopted when the venue confirms it.
    pub(crate) amend: Option<(Price, Qty)>,
    trade_ids: [i64; TRADE_MEMORY],
    trade_next: u8,
}

impl Order {
    /// A fresh record for `req`.
    pub(crate) fn new(req: NewOrder) -> Order {
        Order {
            req,
            state: OrderState::Pending,
            venue_order_id: 0,
            filled: Qty::ZERO,
            seen: false,
            acked: false,
            send_allowed: true,
            sends: 0,
            sent_at: 0,
            new_req: 0,
            query_due: 0,
            doubt_at: 0,
            query_inflight: false,
            done_at: 0,
            charged_at: 0,
            amend: None,
            trade_ids: [i64::MIN; TRADE_MEMORY],
            trade_next: 0,
        }
    }

    /// A report about this order with its current figures.
    pub(crate) fn report(&self, kind: ReportKind, now: Nanos) -> ExecReport {
        ExecReport {
            venue_order_id: self.venue_order_id,
            filled_qty: self.filled,
            ..ExecReport::about(kind, &self.req, now)
        }
    }

    /// Sets a terminal state once; returns whether this call did it.
    fn finish(&mut self, state: OrderState, now: Nanos) -> bool {
        if self.state.is_terminal() {
            return false;
        }
        self.state = state;
        self.done_at = now;
        self.query_due = 0;
        true
    }

    /// A definitive refusal of the latest new-order request.
    pub(crate) fn refuse(
        &mut self,
        code: i32,
        text: super::VenueText,
        reason: RejectReason,
        now: Nanos,
        out: &mut impl FnMut(ExecReport),
    ) {
        if self.seen || !self.finish(OrderState::Rejected, now) {
            return;
        }
        self.send_allowed = false;
        out(ExecReport {
            reason: Some(reason),
            venue_code: code,
            text,
            ..self.report(ReportKind::Reject, now)
        });
    }

    /// The outcome became unknown: report `InDoubt` (once per episode) and
    /// ask for a status query at `query_at`.
    pub(crate) fn doubt(&mut self, now: Nanos, query_at: Nanos, out: &mut impl FnMut(ExecReport)) {
        if self.state.is_terminal() {
            return;
        }
        self.doubt_at = self.doubt_at.max(now);
        if self.state != OrderState::InDoubt && !self.seen {
            self.state = OrderState::InDoubt;
            out(self.report(ReportKind::InDoubt, now));
        }
        if self.query_due == 0 || self.query_due > query_at {
            self.query_due = query_at.max(1);
        }
    }

    /// Applies what the venue says. Reports go to `out`, in order: ack,
    /// fill, terminal outcome. Returns `Err` for a message that contradicts
    /// the order (a cumulative quantity above the order's), which is ignored.
    pub(crate) fn apply(
        &mut self,
        v: &VenueOrder,
        now: Nanos,
        out: &mut impl FnMut(ExecReport),
    ) -> Result<(), Anomaly> {
        if v.cum_qty.0 < 0 {
            return Err(Anomaly::OverFill);
        }
        if v.cum_qty > self.req.qty {
            // A fill beyond the quantity an unconfirmed amend raised it to
            // proves the amend went through.
            match self.amend {
                Some((price, qty)) if v.cum_qty <= qty => {
                    self.req.price = price;
                    self.req.qty = qty;
                    self.amend = None;
                }
                _ => return Err(Anomaly::OverFill),
            }
        }
        let first = !self.seen;
        self.seen = true;
        self.send_allowed = false;
        if self.venue_order_id == 0 {
            self.venue_order_id = v.venue_order_id;
        }
        if self.state == OrderState::InDoubt || self.state == OrderState::Pending {
            // Venue evidence resolves the doubt: the status below decides.
            self.state = OrderState::Acked;
        }
        // A pending status query stays due: only its answer (or a final
        // state) settles what a lost cancel or request did.
        if first && v.status != VenueStatus::Rejected && !self.acked {
            self.acked = true;
            out(self.report(ReportKind::Ack, now));
        }
        // Fills: only what the cumulative quantity adds.
        let dup_trade = v.fill.is_some_and(|f| self.trade_ids.contains(&f.trade_id));
        if let Some(f) = v.fill
            && !dup_trade
        {
            self.trade_ids[usize::from(self.trade_next) % TRADE_MEMORY] = f.trade_id;
            self.trade_next = self.trade_next.wrapping_add(1);
        }
        let mut filled_report = false;
        if !dup_trade && v.cum_qty > self.filled {
            let last_qty = Qty(v.cum_qty.0 - self.filled.0);
            self.filled = v.cum_qty;
            let last_price = v.fill.map_or(Price::ZERO, |f| f.price);
            let complete = self.filled == self.req.qty;
            let kind = if complete {
                ReportKind::Fill
            } else {
                ReportKind::PartialFill
            };
            if complete {
                filled_report = self.finish(OrderState::Filled, now) || filled_report;
            } else if self.state == OrderState::Acked {
                self.state = OrderState::PartiallyFilled;
            }
            out(ExecReport {
                last_qty,
                last_price,
                ..self.report(kind, now)
            });
        }
        let terminal = match v.status {
            VenueStatus::New | VenueStatus::PartiallyFilled => None,
            VenueStatus::Filled => Some((OrderState::Filled, ReportKind::Fill)),
            VenueStatus::Canceled => Some((OrderState::Canceled, ReportKind::Canceled)),
            VenueStatus::Rejected => Some((OrderState::Rejected, ReportKind::Reject)),
            VenueStatus::Expired => Some((OrderState::Expired, ReportKind::Expired)),
        };
        if let Some((state, kind)) = terminal
            && !filled_report
            && self.finish(state, now)
        {
            let mut r = self.report(kind, now);
            if kind == ReportKind::Reject {
                r.reason = Some(RejectReason::Venue);
                r.venue_code = v.code;
                r.text = v.text;
            }
            out(r);
        }
        Ok(())
    }
}

/// A venue message that contradicts what tickwire knows (ignored, counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anomaly {
    /// A cumulative fill above the order's quantity, or negative.
    OverFill,
}
