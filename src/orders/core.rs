//! The order table and the per-session protocol around it, sans-IO in the
//! style of [`crate::venue::Session`]: the IO layer feeds what happened
//! (`handle_*`) and polls what to do (`poll_*`). Nothing here owns a socket
//! or reads a clock; `now` is UTC nanoseconds as the venue sees it.
//!
//! Call order for the IO layer:
//! 1. [`Orders::submit`] (via the [`super::Gate`], after risk and limits).
//! 2. Drain [`Orders::poll_send`]; write each request at once (the request
//!    id goes in the envelope), or call [`Orders::handle_disconnect`].
//! 3. Feed every reply to [`Orders::handle_reply`] and every user-data
//!    event to [`Orders::handle_update`].
//! 4. At [`Orders::poll_timeout`], call [`Orders::handle_timeouts`].
//! 5. Drain [`Orders::poll_report`] into the strategy's report ring.

use crate::types::{InstrumentId, Nanos};

use super::queue::Fifo;
use super::state::{Order, OrderState};
use super::table::{InsertError, Table};
use super::{Cancel, ClientId, ExecReport, NewOrder, RejectReason};

/// Timing and capacity of an [`Orders`].
#[derive(Clone, Copy, Debug)]
pub struct OrdersConfig {
    /// Orders tracked at once (open, in doubt, or recently done).
    pub capacity: usize,
    /// Maximum instrument index + 1 (open-order counts are per instrument).
    pub instruments: usize,
    /// A request without a reply after this long is timed out (ns).
    pub request_timeout: Nanos,
    /// The venue's receive window: a new order written more than this long
    /// ago can no longer be accepted (ns). A "does not exist" answer counts
    /// as proof of absence only for a query sent after `sent_at +
    /// recv_window + request_timeout`.
    pub recv_window: Nanos,
    /// Delay before retrying a failed status query (ns).
    pub query_retry: Nanos,
    /// How long a finished order stays in the table for late fills (ns).
    pub linger: Nanos,
    /// After a proven absence, send the order again (`true`) or report it
    /// rejected with `absent_at_venue` (`false`, the default).
    pub resend_absent: bool,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            capacity: 4096,
            instruments: 1024,
            request_timeout: 5_000_000_000,
            recv_window: 5_000_000_000,
            query_retry: 1_000_000_000,
            linger: 60_000_000_000,
            resend_absent: false,
        }
    }
}

/// What a request in flight was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A new order.
    New,
    /// A cancel.
    Cancel,
    /// A cancel-replace (the slot is the replacement's).
    CancelReplace,
    /// A cancel-all for one instrument.
    CancelAll,
    /// An amend in place (USD-M `order.modify`), written as a
    /// [`Send::CancelReplace`] whose replacement keeps the client id.
    Amend,
    /// A status query.
    Query,
}

/// A request the IO layer must write now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Send {
    /// Place `order`.
    New {
        /// Request id for the envelope.
        req: u64,
        /// The order.
        order: NewOrder,
    },
    /// Cancel an order.
    Cancel {
        /// Request id.
        req: u64,
        /// Which order.
        cancel: Cancel,
        /// The venue's order id if known (0 = cancel by client id).
        venue_order_id: u64,
    },
    /// Cancel `cancel` and place `new`.
    CancelReplace {
        /// Request id.
        req: u64,
        /// The order to cancel.
        cancel: ClientId,
        /// The replacement.
        new: NewOrder,
    },
    /// Cancel every open order of an instrument.
    CancelAll {
        /// Request id.
        req: u64,
        /// The instrument.
        instrument: InstrumentId,
    },
    /// Ask the venue for an order's status.
    Query {
        /// Request id.
        req: u64,
        /// The order.
        client_id: ClientId,
        /// Its instrument.
        instrument: InstrumentId,
    },
}

impl Send {
    /// The request id.
    pub fn req(&self) -> u64 {
        match *self {
            Send::New { req, .. }
            | Send::Cancel { req, .. }
            | Send::CancelReplace { req, .. }
            | Send::CancelAll { req, .. }
            | Send::Query { req, .. } => req,
        }
    }

    /// The kind of request.
    pub fn kind(&self) -> RequestKind {
        match self {
            Send::New { .. } => RequestKind::New,
            Send::Cancel { .. } => RequestKind::Cancel,
            Send::CancelReplace { .. } => RequestKind::CancelReplace,
            Send::CancelAll { .. } => RequestKind::CancelAll,
            Send::Query { .. } => RequestKind::Query,
        }
    }
}

/// A queued request before it gets an id.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pending {
    /// A new order in table slot `slot` (checked against `id` when taken,
    /// since a slot can be reclaimed and reused).
    New {
        slot: u32,
        id: ClientId,
    },
    Cancel(Cancel),
    CancelReplace {
        cancel: ClientId,
        slot: u32,
        id: ClientId,
    },
    CancelAll(InstrumentId),
    Amend {
        slot: u32,
        id: ClientId,
    },
}

/// A request on the wire (or timed out, kept for a late reply).
#[derive(Clone, Copy, Debug)]
struct Inflight {
    req: u64,
    kind: RequestKind,
    id: ClientId,
    instrument: InstrumentId,
    sent_at: Nanos,
    deadline: Nanos,
    /// Timed out or lost with its connection; a late reply is still used.
    expired: bool,
}

const NO_FLIGHT: Inflight = Inflight {
    req: 0,
    kind: RequestKind::Query,
    id: ClientId::EMPTY,
    instrument: InstrumentId(0),
    sent_at: 0,
    deadline: 0,
    expired: true,
};

/// What a reply or timeout means for the session's health (fed to the breaker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// The venue answered normally (including a business reject).
    Ok,
    /// A failure: unknown outcome, timeout.
    Failure,
    /// Nothing to say (unknown request id).
    Neutral,
}

/// Counters, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrdersStats {
    /// New-order requests written.
    pub new_sends: u64,
    /// Re-sends after a proven absence (only with `resend_absent`).
    pub resends: u64,
    /// Re-sends dropped because the venue reported the order first.
    pub resends_dropped: u64,
    /// Status queries written.
    pub queries: u64,
    /// Requests timed out.
    pub timeouts: u64,
    /// Replies to unknown or overwritten request ids.
    pub stray_replies: u64,
    /// Venue messages about unknown client ids (other sessions).
    pub foreign_updates: u64,
    /// Messages contradicting the order (ignored).
    pub anomalies: u64,
}

/// The order table and its request/reply bookkeeping.
#[derive(Debug)]
pub struct Orders {
    cfg: OrdersConfig,
    table: Table<Order>,
    /// Requests by `req % len`; a slot is reused when ids wrap around.
    flights: Box<[Inflight]>,
    next_req: u64,
    sends: Fifo<Pending>,
    reports: Fifo<ExecReport>,
    /// Non-terminal orders per instrument index, and in total.
    open: Box<[u32]>,
    open_total: u32,
    /// Orders whose first fill was just seen: when they were counted
    /// (for the limiter's unfilled-order count). Drained by the gate.
    credits: Fifo<Nanos>,
    /// Earliest time `handle_timeouts` has work (0 = none known).
    wake: Nanos,
    stats: OrdersStats,
}

impl Orders {
    /// An empty table, everything allocated now.
    pub fn new(cfg: OrdersConfig) -> Orders {
        let blank = Order::new(NewOrder {
            client_id: ClientId::EMPTY,
            instrument: InstrumentId(0),
            side: crate::types::Side::Bid,
            kind: super::OrderType::Limit,
            tif: super::TimeInForce::Gtc,
            price: crate::types::Price::ZERO,
            qty: crate::types::Qty::ZERO,
        });
        let queue = cfg.capacity * 2 + 16;
        Orders {
            cfg,
            table: Table::new(cfg.capacity, blank),
            flights: vec![NO_FLIGHT; cfg.capacity.next_power_of_two()].into_boxed_slice(),
            next_req: 1,
            sends: Fifo::new(queue),
            reports: Fifo::new(queue * 2),
            open: vec![0; cfg.instruments.max(1)].into_boxed_slice(),
            open_total: 0,
            credits: Fifo::new(queue),
            wake: 0,
            stats: OrdersStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> OrdersStats {
        self.stats
    }

    /// Open (non-terminal, including in-doubt) orders on `instrument`.
    pub fn open_on(&self, instrument: InstrumentId) -> u32 {
        self.open.get(instrument.index()).copied().unwrap_or(0)
    }

    /// Open orders in total.
    pub fn open_total(&self) -> u32 {
        self.open_total
    }

    /// The state and cumulative fill of an order, if tracked.
    pub fn state(&self, id: &ClientId) -> Option<(OrderState, crate::types::Qty)> {
        let slot = self.table.find(id)?;
        let o = self.table.get(slot);
        Some((o.state, o.filled))
    }

    /// New-order requests written for an order so far.
    pub fn sends_of(&self, id: &ClientId) -> Option<u8> {
        self.table.find(id).map(|s| self.table.get(s).sends)
    }

    /// Whether any order is in doubt or has a status query outstanding.
    pub fn unresolved(&self) -> bool {
        (0..self.table.capacity()).any(|s| {
            self.table.live(s) && {
                let o = self.table.get(s);
                !o.state.is_terminal()
                    && (o.state == OrderState::InDoubt || o.query_due != 0 || o.query_inflight)
            }
        })
    }

    /// Tracks a new order (already risk- and limit-checked) and queues it.
    pub fn submit(&mut self, order: NewOrder, now: Nanos) -> Result<(), RejectReason> {
        if self.sends.is_full() || self.reports.free() < 8 {
            return Err(RejectReason::Capacity);
        }
        if order.instrument.index() >= self.open.len() {
            return Err(RejectReason::UnknownInstrument);
        }
        if self.table.len() == self.table.capacity() {
            self.reclaim(now);
        }
        let mut record = Order::new(order);
        record.charged_at = now;
        let slot = self
            .table
            .insert(order.client_id, record)
            .map_err(|e| match e {
                InsertError::Duplicate => RejectReason::DuplicateClientId,
                InsertError::Full => RejectReason::Capacity,
            })?;
        self.open[order.instrument.index()] += 1;
        self.open_total += 1;
        self.sends.push(Pending::New {
            slot: slot as u32,
            id: order.client_id,
        });
        Ok(())
    }

    /// Queues a cancel of a tracked, unfinished order.
    pub fn cancel(&mut self, cancel: Cancel) -> Result<(), RejectReason> {
        let slot = self
            .table
            .find(&cancel.client_id)
            .ok_or(RejectReason::UnknownOrder)?;
        if self.table.get(slot).state.is_terminal() {
            return Err(RejectReason::UnknownOrder);
        }
        self.sends
            .push(Pending::Cancel(cancel))
            .then_some(())
            .ok_or(RejectReason::Capacity)
    }

    /// Queues a cancel-replace: `new` is tracked like a new order.
    pub fn cancel_replace(
        &mut self,
        cancel: ClientId,
        new: NewOrder,
        now: Nanos,
    ) -> Result<(), RejectReason> {
        self.table.find(&cancel).ok_or(RejectReason::UnknownOrder)?;
        self.submit(new, now)?;
        // `submit` queued a plain New; turn it into the combined request.
        if let Some(Pending::New { slot, id }) = self.sends.pop_back() {
            self.sends.push(Pending::CancelReplace { cancel, slot, id });
        }
        Ok(())
    }

    /// Queues a cancel-all for `instrument`.
    pub fn cancel_all(&mut self, instrument: InstrumentId) -> Result<(), RejectReason> {
        self.sends
            .push(Pending::CancelAll(instrument))
            .then_some(())
            .ok_or(RejectReason::Capacity)
    }

    /// Queues a cancel-all for every instrument with open orders (kill switch).
    pub fn cancel_everything(&mut self) {
        for i in 0..self.open.len() {
            if self.open[i] > 0 {
                self.sends.push(Pending::CancelAll(InstrumentId(i as u32)));
            }
        }
    }

    /// The next request to write, with a fresh request id. Status queries
    /// that are due come first, then queued requests. A queued new order
    /// that the venue has meanwhile reported is dropped here, never sent.
    /// `admit(kind)` is asked before a request is taken (rate limits): on
    /// `false` the request stays queued.
    pub fn poll_send(
        &mut self,
        now: Nanos,
        admit: &mut impl FnMut(RequestKind) -> bool,
    ) -> Option<Send> {
        if let Some(s) = self.due_query(now, admit) {
            return Some(s);
        }
        loop {
            let next = *self.sends.front()?;
            let kind = match next {
                Pending::New { .. } => RequestKind::New,
                Pending::Cancel(_) => RequestKind::Cancel,
                Pending::CancelReplace { .. } => RequestKind::CancelReplace,
                Pending::CancelAll(_) => RequestKind::CancelAll,
                Pending::Amend { .. } => RequestKind::Amend,
            };
            // A new order still allowed to go? (Checked before the budget.)
            let new_slot = match next {
                Pending::New { slot, id } | Pending::CancelReplace { slot, id, .. } => {
                    let s = slot as usize;
                    match self.table.key(s) == &id && self.table.get(s).send_allowed {
                        true => Some(s),
                        false => {
                            self.sends.pop_front();
                            self.stats.resends_dropped += 1;
                            continue;
                        }
                    }
                }
                _ => None,
            };
            // New orders were charged when admitted; the rest are charged here.
            if new_slot.is_none() && !admit(kind) {
                return None;
            }
            self.sends.pop_front();
            let req = self.next_req;
            self.next_req += 1;
            return Some(match next {
                Pending::New { id, .. } | Pending::CancelReplace { id, .. } => {
                    let slot = new_slot.unwrap_or(0);
                    let o = self.table.get_mut(slot);
                    o.send_allowed = false;
                    o.sends += 1;
                    o.sent_at = now;
                    o.new_req = req;
                    let order = o.req;
                    self.stats.new_sends += 1;
                    if o.sends > 1 {
                        self.stats.resends += 1;
                    }
                    self.fly(req, kind, id, order.instrument, now);
                    match next {
                        Pending::CancelReplace { cancel, .. } => Send::CancelReplace {
                            req,
                            cancel,
                            new: order,
                        },
                        _ => Send::New { req, order },
                    }
                }
                Pending::Cancel(cancel) => {
                    let venue_order_id = self
                        .table
                        .find(&cancel.client_id)
                        .map_or(0, |s| self.table.get(s).venue_order_id);
                    self.fly(req, kind, cancel.client_id, cancel.instrument, now);
                    Send::Cancel {
                        req,
                        cancel,
                        venue_order_id,
                    }
                }
                Pending::CancelAll(instrument) => {
                    self.fly(req, kind, ClientId::EMPTY, instrument, now);
                    Send::CancelAll { req, instrument }
                }
                Pending::Amend { slot, id } => {
                    let s = slot as usize;
                    let live = self.table.key(s) == &id && self.table.live(s);
                    let o = *self.table.get(s);
                    let Some((price, qty)) = o.amend.filter(|_| live) else {
                        // Finished (or reclaimed) meanwhile: nothing to amend.
                        continue;
                    };
                    self.fly(req, kind, id, o.req.instrument, now);
                    Send::CancelReplace {
                        req,
                        cancel: id,
                        new: NewOrder {
                            price,
                            qty,
                            ..o.req
                        },
                    }
                }
            });
        }
    }

    fn due_query(
        &mut self,
        now: Nanos,
        admit: &mut impl FnMut(RequestKind) -> bool,
    ) -> Option<Send> {
        if self.wake == 0 || self.wake > now {
            return None;
        }
        for slot in 0..self.table.capacity() {
            if !self.table.live(slot) {
                continue;
            }
            let o = *self.table.get(slot);
            if o.query_due == 0 || o.query_due > now || o.query_inflight || o.state.is_terminal() {
                continue;
            }
            if !admit(RequestKind::Query) {
                return None;
            }
            let req = self.next_req;
            self.next_req += 1;
            let o = self.table.get_mut(slot);
            o.query_inflight = true;
            o.query_due = 0;
            let (client_id, instrument) = (o.req.client_id, o.req.instrument);
            self.stats.queries += 1;
            self.fly(req, RequestKind::Query, client_id, instrument, now);
            return Some(Send::Query {
                req,
                client_id,
                instrument,
            });
        }
        // Nothing due after all: sleep until the next deadline, so later
        // polls do not scan again.
        self.wake = self.next_wake();
        None
    }

    fn fly(
        &mut self,
        req: u64,
        kind: RequestKind,
        id: ClientId,
        instrument: InstrumentId,
        now: Nanos,
    ) {
        let mask = self.flights.len() - 1;
        let deadline = now + self.cfg.request_timeout;
        self.flights[req as usize & mask] = Inflight {
            req,
            kind,
            id,
            instrument,
            sent_at: now,
            deadline,
            expired: false,
        };
        self.arm(deadline);
    }

    fn arm(&mut self, at: Nanos) {
        if self.wake == 0 || at < self.wake {
            self.wake = at;
        }
    }

    /// When [`Orders::handle_timeouts`] (or a due query) next has work.
    pub fn poll_timeout(&self) -> Option<Nanos> {
        (self.wake != 0).then_some(self.wake)
    }

    /// The next report for the strategy.
    pub fn poll_report(&mut self) -> Option<ExecReport> {
        self.reports.pop_front()
    }

    /// The next "first fill" credit: when the filled order was counted.
    pub fn poll_credit(&mut self) -> Option<Nanos> {
        self.credits.pop_front()
    }

    /// When request `req` was written, if it is still tracked.
    pub fn sent_at_of(&self, req: u64) -> Option<Nanos> {
        let f = self.flights[req as usize & (self.flights.len() - 1)];
        (f.req == req).then_some(f.sent_at)
    }

    /// Queues a report produced outside the table (local rejects, status).
    pub fn push_report(&mut self, r: ExecReport) {
        self.reports.push(r);
    }
}

mod flow;
mod resync;
