//! Property test: the order core against a simple model venue, under random
//! interleavings of replies (delivered, dropped, delayed, duplicated,
//! `-1007`), user-data events, venue fills/cancels/expiries, orders that
//! arrive late or never, timeouts and disconnects.
//!
//! Invariants:
//! * the venue never holds two orders for one client id (no duplicate order);
//! * `filled_qty` in reports never decreases and never exceeds the order qty;
//! * at most one terminal outcome per order; after draining, exactly one;
//! * a `canceled` report only for an order the venue canceled, a venue
//!   `reject` only for one the venue refused, `absent_at_venue` only for one
//!   the venue never got: in-doubt is never resolved without evidence.

use std::collections::HashMap;

use proptest::prelude::*;
use tickwire::orders::{
    Cancel, ClientId, ClientIdGen, ExecReport, FillInfo, NewOrder, OrderType, Orders, OrdersConfig,
    RejectReason, Reply, ReportKind, Send, TimeInForce, VenueOrder, VenueStatus, VenueText,
};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Side};

const S: Nanos = 1_000_000_000;
const MS: Nanos = 1_000_000;
const T0: Nanos = 1_764_547_200 * S;

#[derive(Clone, Debug)]
enum Op {
    Submit(i64),
    Pump(u8),
    Deliver(usize, bool),
    Fill(usize, i64),
    VenueCancel(usize),
    Expire(usize),
    Cancel(usize),
    Advance(u64),
    Disconnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1i64..6).prop_map(Op::Submit),
        4 => (0u8..8).prop_map(Op::Pump),
        5 => (0usize..8, any::<bool>()).prop_map(|(i, d)| Op::Deliver(i, d)),
        2 => (0usize..8, 1i64..4).prop_map(|(i, q)| Op::Fill(i, q)),
        1 => (0usize..8).prop_map(Op::VenueCancel),
        1 => (0usize..8).prop_map(Op::Expire),
        1 => (0usize..8).prop_map(Op::Cancel),
        2 => (1u64..4000).prop_map(Op::Advance),
        1 => Just(Op::Disconnect),
    ]
}

/// The venue's view of one client id.
#[derive(Clone, Copy, Debug)]
struct VOrder {
    qty: i64,
    cum: i64,
    status: VenueStatus,
    /// The order becomes visible at this time (late arrival).
    arrive_at: Nanos,
    next_trade: i64,
}

#[derive(Clone, Copy, Debug)]
enum Msg {
    Reply(u64, Reply),
    Event(VenueOrder),
}

struct World {
    core: Orders,
    now: Nanos,
    ids: Vec<ClientId>,
    qty: HashMap<ClientId, i64>,
    venue: HashMap<ClientId, VOrder>,
    /// How many times the venue accepted each id (must stay ≤ 1).
    accepted: HashMap<ClientId, u32>,
    refused: HashMap<ClientId, bool>,
    canceled_by_venue: HashMap<ClientId, bool>,
    transit: Vec<Msg>,
    reports: Vec<ExecReport>,
    ids_gen: ClientIdGen,
}

fn vo(id: ClientId, v: &VOrder, fill: Option<(i64, i64)>) -> VenueOrder {
    VenueOrder {
        client_id: id,
        venue_order_id: 1,
        status: v.status,
        cum_qty: Qty(v.cum),
        fill: fill.map(|(t, q)| FillInfo {
            trade_id: t,
            price: Price(100),
            qty: Qty(q),
        }),
        code: 0,
        text: VenueText::EMPTY,
    }
}

fn open(s: VenueStatus) -> bool {
    matches!(s, VenueStatus::New | VenueStatus::PartiallyFilled)
}

impl World {
    fn new() -> World {
        World {
            core: Orders::new(OrdersConfig {
                capacity: 256,
                instruments: 2,
                request_timeout: 2 * S,
                recv_window: 5 * S,
                query_retry: S,
                linger: 3600 * S,
                resend_absent: true,
            }),
            now: T0,
            ids: Vec::new(),
            qty: HashMap::new(),
            venue: HashMap::new(),
            accepted: HashMap::new(),
            refused: HashMap::new(),
            canceled_by_venue: HashMap::new(),
            transit: Vec::new(),
            reports: Vec::new(),
            ids_gen: ClientIdGen::new("m").unwrap(),
        }
    }

    fn visible(&self, id: &ClientId) -> Option<VOrder> {
        self.venue
            .get(id)
            .copied()
            .filter(|v| v.arrive_at <= self.now)
    }

    fn pump(&mut self, fate: u8) {
        for _ in 0..20 {
            let Some(send) = self.core.poll_send(self.now, &mut |_| true) else {
                break;
            };
            match send {
                Send::New { req, order } => self.venue_new(req, order.client_id, fate),
                Send::Cancel { req, cancel, .. } => {
                    let id = cancel.client_id;
                    let reply = match self.visible(&id) {
                        Some(mut v) if open(v.status) => {
                            v.status = VenueStatus::Canceled;
                            self.venue.insert(id, v);
                            self.canceled_by_venue.insert(id, true);
                            Reply::Order(vo(id, &v, None))
                        }
                        _ => Reply::NotFound {
                            code: -2011,
                            text: VenueText::EMPTY,
                        },
                    };
                    if fate % 4 != 1 {
                        self.transit.push(Msg::Reply(req, reply));
                    }
                }
                Send::Query { req, client_id, .. } => {
                    let reply = match self.visible(&client_id) {
                        Some(v) => Reply::Order(vo(client_id, &v, None)),
                        None => Reply::NotFound {
                            code: -2013,
                            text: VenueText::EMPTY,
                        },
                    };
                    if fate % 4 != 1 {
                        self.transit.push(Msg::Reply(req, reply));
                    }
                }
                Send::CancelReplace { .. } | Send::CancelAll { .. } => unreachable!(),
            }
        }
    }

    fn venue_new(&mut self, req: u64, id: ClientId, fate: u8) {
        let qty = self.qty[&id];
        let accept = |w: &mut World, arrive_at: Nanos| {
            // Binance accepts a repeated id only once the first is filled/expired;
            // the model is stricter: any second acceptance is a duplicate order.
            *w.accepted.entry(id).or_insert(0) += 1;
            let v = VOrder {
                qty,
                cum: 0,
                status: VenueStatus::New,
                arrive_at,
                next_trade: 1,
            };
            w.venue.insert(id, v);
            v
        };
        match fate {
            0 | 7 => {
                let v = accept(self, self.now);
                self.transit
                    .push(Msg::Reply(req, Reply::Order(vo(id, &v, None))));
                self.transit.push(Msg::Event(vo(id, &v, None)));
            }
            1 => {
                accept(self, self.now); // reply dropped, no event either
            }
            2 => {
                self.refused.insert(id, true);
                let text = VenueText::new(b"refused");
                self.transit
                    .push(Msg::Reply(req, Reply::Refused { code: -2010, text }));
            }
            3 => {} // lost on the way: the venue never sees it
            4 => {
                // Arrives late (within the receive window); the gateway says -1007.
                accept(self, self.now + 3 * S);
                let text = VenueText::new(b"Timeout waiting for response");
                self.transit
                    .push(Msg::Reply(req, Reply::Unknown { code: -1007, text }));
            }
            5 => {
                let v = accept(self, self.now);
                // Delayed: queued behind other traffic.
                self.transit
                    .insert(0, Msg::Reply(req, Reply::Order(vo(id, &v, None))));
            }
            _ => {
                let text = VenueText::new(b"Internal error");
                accept(self, self.now);
                self.transit
                    .push(Msg::Reply(req, Reply::Unknown { code: 500, text }));
            }
        }
    }

    fn venue_change(&mut self, i: usize, f: impl FnOnce(&mut VOrder) -> Option<(i64, i64)>) {
        let Some(&id) = self.ids.get(i % self.ids.len().max(1)) else {
            return;
        };
        let Some(mut v) = self.visible(&id) else {
            return;
        };
        if !open(v.status) {
            return;
        }
        let fill = f(&mut v);
        self.venue.insert(id, v);
        self.transit.push(Msg::Event(vo(id, &v, fill)));
    }

    fn deliver(&mut self, i: usize, dup: bool) {
        if self.transit.is_empty() {
            return;
        }
        let i = i % self.transit.len();
        let m = if dup {
            self.transit[i]
        } else {
            self.transit.remove(i)
        };
        match m {
            Msg::Reply(req, r) => {
                self.core.handle_reply(req, &r, self.now);
            }
            Msg::Event(v) => self.core.handle_update(&v, self.now),
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Submit(q) => {
                let id = self.ids_gen.mint();
                let o = NewOrder {
                    client_id: id,
                    instrument: InstrumentId(1),
                    side: Side::Ask,
                    kind: OrderType::Limit,
                    tif: TimeInForce::Gtc,
                    price: Price(100),
                    qty: Qty(q),
                };
                if self.core.submit(o, self.now).is_ok() {
                    self.ids.push(id);
                    self.qty.insert(id, q);
                }
            }
            Op::Pump(fate) => self.pump(fate),
            Op::Deliver(i, dup) => self.deliver(i, dup),
            Op::Fill(i, q) => self.venue_change(i, |v| {
                let q = q.min(v.qty - v.cum);
                v.cum += q;
                v.status = if v.cum == v.qty {
                    VenueStatus::Filled
                } else {
                    VenueStatus::PartiallyFilled
                };
                v.next_trade += 1;
                Some((v.next_trade, q))
            }),
            Op::VenueCancel(i) => {
                if let Some(&id) = self.ids.get(i % self.ids.len().max(1))
                    && self.visible(&id).is_some_and(|v| open(v.status))
                {
                    self.canceled_by_venue.insert(id, true);
                }
                self.venue_change(i, |v| {
                    v.status = VenueStatus::Canceled;
                    None
                })
            }
            Op::Expire(i) => self.venue_change(i, |v| {
                v.status = VenueStatus::Expired;
                None
            }),
            Op::Cancel(i) => {
                if let Some(&id) = self.ids.get(i % self.ids.len().max(1)) {
                    let _ = self.core.cancel(Cancel {
                        client_id: id,
                        instrument: InstrumentId(1),
                    });
                }
            }
            Op::Advance(ms) => {
                self.now += ms * MS;
                self.core.handle_timeouts(self.now);
            }
            Op::Disconnect => {
                self.transit.retain(|m| matches!(m, Msg::Event(_)));
                self.core.handle_disconnect(self.now);
            }
        }
        while let Some(r) = self.core.poll_report() {
            self.reports.push(r);
        }
    }

    /// Delivers everything, lets time pass, ends every venue order.
    fn drain(&mut self) {
        for round in 0..40 {
            for _ in 0..200 {
                if self.transit.is_empty() {
                    break;
                }
                self.deliver(0, false);
            }
            self.now += 3 * S;
            self.core.handle_timeouts(self.now);
            self.pump(0);
            if round == 20 {
                for i in 0..self.ids.len() {
                    self.step(&Op::VenueCancel(i));
                }
            }
            while let Some(r) = self.core.poll_report() {
                self.reports.push(r);
            }
        }
    }

    fn check(&self, drained: bool) -> Result<(), TestCaseError> {
        for (id, n) in &self.accepted {
            prop_assert!(*n <= 1, "{id} accepted {n} times by the venue");
        }
        for id in &self.ids {
            let qty = self.qty[id];
            let mine: Vec<&ExecReport> =
                self.reports.iter().filter(|r| r.client_id == *id).collect();
            let mut last = 0;
            let mut terminal = 0;
            for r in &mine {
                prop_assert!(r.filled_qty.0 >= last, "{id}: filled went back {:?}", mine);
                prop_assert!(r.filled_qty.0 <= qty);
                last = r.filled_qty.0;
                let is_terminal = match r.kind {
                    ReportKind::Reject | ReportKind::Canceled | ReportKind::Expired => true,
                    ReportKind::Fill => terminal == 0,
                    _ => false,
                };
                if is_terminal {
                    terminal += 1;
                }
                match (r.kind, r.reason) {
                    (ReportKind::Canceled, _) => {
                        prop_assert!(
                            self.canceled_by_venue.contains_key(id),
                            "{id}: canceled without evidence"
                        )
                    }
                    (ReportKind::Reject, Some(RejectReason::Venue)) => {
                        prop_assert!(
                            self.refused.contains_key(id),
                            "{id}: rejected without evidence"
                        )
                    }
                    (ReportKind::Reject, Some(RejectReason::AbsentAtVenue)) => {
                        prop_assert!(
                            !self.venue.contains_key(id),
                            "{id}: declared absent but exists"
                        )
                    }
                    _ => {}
                }
            }
            prop_assert!(
                terminal <= 1,
                "{id}: {terminal} terminal outcomes {:?}",
                mine
            );
            if drained {
                prop_assert_eq!(terminal, 1, "{}: no outcome after draining {:?}", id, mine);
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn invariants_hold_under_random_interleavings(ops in proptest::collection::vec(op(), 1..120)) {
        let mut w = World::new();
        for op in &ops {
            w.step(op);
            w.check(false)?;
        }
        w.drain();
        w.check(true)?;
    }
}
