//! The composed session core on a manual clock: local refusals are reports
//! at once and never sent; the breaker trips and recovers; 429/418 become
//! session statuses; the kill switch cancels everything; after a reconnect
//! new orders wait until every doubt is resolved.

use tickwire::orders::ratelimit::{Costs, LimitKind, LimitReport, RateLimits, WindowLimit};
use tickwire::orders::risk::Risk;
use tickwire::orders::{
    BreakerConfig, BreakerState, ClientIdGen, ExecReport, Gate, NewOrder, OrderType, OrdersConfig,
    RejectReason, Reply, ReplyMeta, ReportKind, Request, Send, SessionStatus, TimeInForce,
    VenueOrder, VenueStatus, VenueText,
};
use tickwire::types::{Clock, InstrumentId, ManualClock, Nanos, Price, Qty, Registry, Side, Venue};

const S: Nanos = 1_000_000_000;
const T0: Nanos = 1_764_547_200 * S;

struct Fixture {
    gate: Gate,
    clock: ManualClock,
    ids: ClientIdGen,
    inst: InstrumentId,
}

fn fixture(orders_10s: u32) -> Fixture {
    let mut reg = Registry::new();
    let inst = reg
        .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    let limits = RateLimits::new(
        &[
            WindowLimit::new(LimitKind::Orders, 10 * S, orders_10s),
            WindowLimit::new(LimitKind::Weight, 60 * S, 6000),
        ],
        Costs {
            new: 1,
            cancel: 1,
            cancel_replace: 1,
            cancel_all: 1,
            query: 4,
        },
    );
    let cfg = OrdersConfig {
        capacity: 512,
        instruments: 8,
        request_timeout: S,
        ..OrdersConfig::default()
    };
    let breaker = BreakerConfig {
        failures: 3,
        cool_down: 5 * S,
        probes: 1,
    };
    let mut gate = Gate::new(cfg, Risk::new(8, &reg), limits, breaker);
    let clock = ManualClock::new(T0);
    gate.set_ready(clock.now());
    let mut f = Fixture {
        gate,
        clock,
        ids: ClientIdGen::new("g").unwrap(),
        inst,
    };
    let _ = f.reports();
    f
}

impl Fixture {
    fn new_order(&mut self) -> NewOrder {
        NewOrder {
            client_id: self.ids.mint(),
            instrument: self.inst,
            side: Side::Ask,
            kind: OrderType::Limit,
            tif: TimeInForce::PostOnly,
            price: Price(4_300_001),
            qty: Qty(1_000),
        }
    }

    fn submit(&mut self) -> NewOrder {
        let o = self.new_order();
        self.gate.submit(Request::New(o), self.clock.now());
        o
    }

    fn sends(&mut self) -> Vec<Send> {
        let mut v = Vec::new();
        for _ in 0..1000 {
            match self.gate.poll_send(self.clock.now()) {
                Some(s) => v.push(s),
                None => break,
            }
        }
        v
    }

    fn reports(&mut self) -> Vec<ExecReport> {
        let mut v = Vec::new();
        for _ in 0..1000 {
            match self.gate.poll_report() {
                Some(r) => v.push(r),
                None => break,
            }
        }
        v
    }
}

fn ack(o: &NewOrder) -> Reply {
    Reply::Order(VenueOrder {
        client_id: o.client_id,
        venue_order_id: 1,
        status: VenueStatus::New,
        cum_qty: Qty::ZERO,
        fill: None,
        code: 0,
        text: VenueText::EMPTY,
    })
}

#[test]
fn a_burst_over_the_order_limit_is_refused_locally_and_never_sent() {
    let mut f = fixture(50);
    for _ in 0..120 {
        f.submit();
    }
    let sent = f.sends();
    assert_eq!(sent.len(), 50);
    assert!(sent.iter().all(|s| matches!(s, Send::New { .. })));
    let r = f.reports();
    assert_eq!(r.len(), 70);
    assert!(
        r.iter()
            .all(|r| r.kind == ReportKind::Reject && r.reason == Some(RejectReason::RateLimit))
    );
    f.clock.advance(10 * S);
    f.submit();
    assert_eq!(f.sends().len(), 1, "the next window has room");
}

#[test]
fn the_breaker_trips_on_timeouts_refuses_then_recovers_through_a_probe() {
    let mut f = fixture(1000);
    for _ in 0..3 {
        f.submit();
    }
    assert_eq!(f.sends().len(), 3);
    f.clock.advance(S);
    f.gate.handle_timeouts(f.clock.now());
    assert_eq!(f.gate.breaker(), BreakerState::Open);
    let r = f.reports();
    let statuses: Vec<_> = r.iter().filter_map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [SessionStatus::BreakerOpen],
        "one transition, one status"
    );
    assert_eq!(
        r.iter().filter(|r| r.kind == ReportKind::InDoubt).count(),
        3
    );
    // Open: refused at once, nothing queued.
    f.submit();
    let r = f.reports();
    assert_eq!(r[0].reason, Some(RejectReason::CircuitOpen));
    // Status queries still go out while open.
    let q = f.sends();
    assert_eq!(q.len(), 3);
    assert!(q.iter().all(|s| matches!(s, Send::Query { .. })));
    // Cool-down over: one probe admitted, the next refused.
    f.clock.advance(5 * S);
    let probe = f.submit();
    f.submit();
    let r = f.reports();
    assert_eq!(r[0].status, Some(SessionStatus::BreakerHalfOpen));
    assert_eq!(r[1].reason, Some(RejectReason::CircuitOpen));
    let s = f.sends();
    let Some(Send::New { req, .. }) = s.iter().find(|s| matches!(s, Send::New { .. })).copied()
    else {
        panic!("{s:?}")
    };
    f.gate
        .handle_reply(req, &ack(&probe), &ReplyMeta::OK, f.clock.now());
    assert_eq!(f.gate.breaker(), BreakerState::Closed);
    let r = f.reports();
    assert!(
        r.iter()
            .any(|r| r.status == Some(SessionStatus::BreakerClosed)),
        "{r:?}"
    );
}

#[test]
fn http_429_pauses_and_418_bans_with_a_status_report() {
    let mut f = fixture(1000);
    let o = f.submit();
    let s = f.sends();
    let mut meta = ReplyMeta {
        status: 429,
        retry_after: f.clock.now() + 3 * S,
        ..ReplyMeta::OK
    };
    let refused = Reply::Refused {
        code: -1003,
        text: VenueText::new(b"Too many requests"),
    };
    f.gate
        .handle_reply(s[0].req(), &refused, &meta, f.clock.now());
    let r = f.reports();
    assert_eq!(r[0].status, Some(SessionStatus::RateLimited));
    assert_eq!(r[0].until, T0 + 3 * S);
    assert_eq!(
        (r[1].kind, r[1].client_id),
        (ReportKind::Reject, o.client_id)
    );
    f.submit();
    assert_eq!(f.reports()[0].reason, Some(RejectReason::RateLimit));
    f.clock.advance(3 * S);
    f.submit();
    let s = f.sends();
    assert_eq!(s.len(), 1);
    meta.status = 418;
    meta.retry_after = f.clock.now() + 120 * S;
    f.gate
        .handle_reply(s[0].req(), &refused, &meta, f.clock.now());
    let r = f.reports();
    assert_eq!(
        (r[0].status, r[0].until),
        (Some(SessionStatus::Banned), T0 + 123 * S)
    );
    f.submit();
    assert_eq!(f.reports()[0].reason, Some(RejectReason::Banned));
}

#[test]
fn reply_limits_resync_the_session_limits() {
    let mut f = fixture(50);
    let o = f.submit();
    let s = f.sends();
    let mut meta = ReplyMeta::OK;
    meta.limits[0] = Some(LimitReport {
        kind: LimitKind::Orders,
        interval: 10 * S,
        limit: 50,
        count: 50,
    });
    f.gate
        .handle_reply(s[0].req(), &ack(&o), &meta, f.clock.now());
    f.submit();
    let r = f.reports();
    assert_eq!(r.last().unwrap().reason, Some(RejectReason::RateLimit));
}

#[test]
fn kill_switch_cancels_everything_and_refuses_new_orders_until_reset() {
    let mut f = fixture(1000);
    for _ in 0..4 {
        f.submit();
    }
    let _ = f.sends();
    f.gate.kill(f.clock.now());
    let s = f.sends();
    assert_eq!(s.len(), 1);
    assert!(matches!(s[0], Send::CancelAll { instrument, .. } if instrument == f.inst));
    f.submit();
    let r = f.reports();
    assert_eq!(r[0].status, Some(SessionStatus::KillSwitchOn));
    assert_eq!(r[1].reason, Some(RejectReason::KillSwitch));
    f.gate.reset_kill(f.clock.now());
    f.submit();
    assert_eq!(f.sends().len(), 1);
}

#[test]
fn after_a_reconnect_new_orders_wait_until_doubts_are_resolved() {
    let mut f = fixture(1000);
    let o = f.submit();
    let _ = f.sends();
    f.gate.handle_disconnect(f.clock.now());
    f.submit();
    let r = f.reports();
    let kinds: Vec<_> = r.iter().map(|r| (r.kind, r.reason)).collect();
    assert_eq!(
        kinds,
        [
            (ReportKind::InDoubt, None),
            (ReportKind::Status, None),
            (ReportKind::Reject, Some(RejectReason::NotReady))
        ]
    );
    assert!(
        f.sends().is_empty(),
        "nothing is written while disconnected"
    );
    f.gate.set_ready(f.clock.now());
    f.submit();
    assert_eq!(
        f.reports()[1].reason,
        Some(RejectReason::NotReady),
        "reconciling"
    );
    let q = f.sends();
    assert!(matches!(q[..], [Send::Query { .. }]), "{q:?}");
    f.gate
        .handle_reply(q[0].req(), &ack(&o), &ReplyMeta::OK, f.clock.now());
    f.submit();
    let s = f.sends();
    assert!(matches!(s[..], [Send::New { .. }]), "{s:?}");
}

fn meta(status: u16) -> ReplyMeta {
    ReplyMeta {
        status,
        ..ReplyMeta::OK
    }
}

#[test]
fn a_429_on_a_new_order_is_a_rate_limit_reject_with_the_venue_code() {
    let mut f = fixture(50);
    let o = f.submit();
    let Some(Send::New { req, .. }) = f.sends().pop() else {
        panic!("no send")
    };
    let refused = Reply::Refused {
        code: -1015,
        text: VenueText::new(b"Too many new orders."),
    };
    f.gate
        .handle_reply(req, &refused, &meta(429), f.clock.now());
    let r = f.reports();
    let rej = r.iter().find(|r| r.client_id == o.client_id).unwrap();
    assert_eq!(rej.kind, ReportKind::Reject);
    assert_eq!(rej.reason, Some(RejectReason::RateLimit));
    assert_eq!(rej.venue_code, -1015);
    assert_eq!(rej.text.as_str(), "Too many new orders.");
    // A 400 stays a venue reject.
    f.clock.advance(10 * S);
    let o2 = f.submit();
    let Some(Send::New { req, .. }) = f.sends().pop() else {
        panic!("no send")
    };
    f.gate
        .handle_reply(req, &refused, &meta(400), f.clock.now());
    let r = f.reports();
    let rej = r.iter().find(|r| r.client_id == o2.client_id).unwrap();
    assert_eq!(rej.reason, Some(RejectReason::Venue));
}

#[test]
fn an_amend_in_place_keeps_the_id_and_adopts_the_figures_only_when_confirmed() {
    let mut f = fixture(50);
    f.gate.set_amend_in_place(true);
    let o = f.submit();
    let Some(Send::New { req, .. }) = f.sends().pop() else {
        panic!("no send")
    };
    f.gate
        .handle_reply(req, &ack(&o), &ReplyMeta::OK, f.clock.now());
    let _ = f.reports();
    let amended = NewOrder {
        price: Price(4_300_101),
        qty: Qty(2_000),
        ..o
    };
    let cr = tickwire::orders::CancelReplace {
        cancel: o.client_id,
        new: amended,
    };
    f.gate.submit(Request::CancelReplace(cr), f.clock.now());
    let sent = f.sends();
    let [Send::CancelReplace { req, cancel, new }] = sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!((cancel, new), (o.client_id, amended));
    // Refused: the order keeps its figures, a cancel reject says so.
    let refused = Reply::Refused {
        code: -4028,
        text: VenueText::new(b"no"),
    };
    f.gate
        .handle_reply(req, &refused, &ReplyMeta::OK, f.clock.now());
    let r = f.reports();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].kind, ReportKind::CancelReject);
    assert_eq!((r[0].price, r[0].qty), (o.price, o.qty));
    // Again, confirmed: an ack with the new figures; a fill up to the new
    // quantity is no anomaly.
    f.gate.submit(Request::CancelReplace(cr), f.clock.now());
    let Some(Send::CancelReplace { req, .. }) = f.sends().pop() else {
        panic!("no amend")
    };
    f.gate
        .handle_reply(req, &ack(&o), &ReplyMeta::OK, f.clock.now());
    let r = f.reports();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].kind, ReportKind::Ack);
    assert_eq!((r[0].price, r[0].qty), (amended.price, amended.qty));
    let fill = VenueOrder {
        client_id: o.client_id,
        venue_order_id: 1,
        status: VenueStatus::Filled,
        cum_qty: Qty(2_000),
        fill: Some(tickwire::orders::FillInfo {
            trade_id: 9,
            price: amended.price,
            qty: Qty(2_000),
        }),
        code: 0,
        text: VenueText::EMPTY,
    };
    f.gate.handle_update(&fill, f.clock.now());
    let r = f.reports();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].kind, r[0].filled_qty), (ReportKind::Fill, Qty(2_000)));
    // The stream repeats the fill: nothing more.
    f.gate.handle_update(&fill, f.clock.now());
    assert!(f.reports().is_empty());
}

#[test]
fn each_market_refuses_the_other_replace_form() {
    let mut f = fixture(50);
    let o = f.submit();
    let same = tickwire::orders::CancelReplace {
        cancel: o.client_id,
        new: o,
    };
    // Spot (no amend in place): the same id is refused, nothing sent.
    let _ = f.sends();
    f.gate.submit(Request::CancelReplace(same), f.clock.now());
    let r = f.reports();
    assert_eq!(r[0].kind, ReportKind::CancelReject);
    assert_eq!(r[0].reason, Some(RejectReason::InvalidOrder));
    // USD-M: a fresh id is refused.
    f.gate.set_amend_in_place(true);
    let fresh = tickwire::orders::CancelReplace {
        cancel: o.client_id,
        new: f.new_order(),
    };
    f.gate.submit(Request::CancelReplace(fresh), f.clock.now());
    let r = f.reports();
    assert_eq!(r[0].kind, ReportKind::Reject);
    assert_eq!(r[0].reason, Some(RejectReason::InvalidOrder));
    assert!(f.sends().is_empty());
}

#[test]
fn a_lost_user_data_stream_holds_new_orders_and_its_return_requeries_open_ones() {
    let mut f = fixture(50);
    f.gate.set_user_data(true, f.clock.now());
    let o = f.submit();
    let Some(Send::New { req, .. }) = f.sends().pop() else {
        panic!("no send")
    };
    f.gate
        .handle_reply(req, &ack(&o), &ReplyMeta::OK, f.clock.now());
    let _ = f.reports();
    f.gate.set_user_data(false, f.clock.now());
    let held = f.submit();
    let r = f.reports();
    assert!(r.iter().any(|r| r.status == Some(SessionStatus::NotReady)));
    let rej = r.iter().find(|r| r.client_id == held.client_id).unwrap();
    assert_eq!(rej.reason, Some(RejectReason::NotReady));
    f.gate.set_user_data(true, f.clock.now());
    let sent = f.sends();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let Send::Query { req, client_id, .. } = sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(client_id, o.client_id);
    // Until the query is answered, new orders wait.
    let early = f.submit();
    let r = f.reports();
    assert_eq!(
        r.iter()
            .find(|r| r.client_id == early.client_id)
            .unwrap()
            .reason,
        Some(RejectReason::NotReady)
    );
    f.gate
        .handle_reply(req, &ack(&o), &ReplyMeta::OK, f.clock.now());
    let _ = f.reports();
    f.submit();
    assert_eq!(f.sends().len(), 1, "accepted again");
}

#[test]
fn the_per_strategy_cap_refuses_in_the_gate_and_leaves_other_strategies_alone() {
    // The venue allows 3 orders per 10 s; strategies 2 per second each.
    let mut f = fixture(3);
    f.gate.set_strategy_rate(2);
    let orders: Vec<NewOrder> = (0..3).map(|_| f.new_order()).collect();
    for o in &orders {
        f.gate.submit_from(3, Request::New(*o), f.clock.now());
    }
    let r = f.reports();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].client_id, orders[2].client_id);
    assert_eq!(r[0].reason, Some(RejectReason::StrategyRate));
    // The refused order spent none of the venue's budget: strategy 4's
    // order is the third the venue sees.
    let other = f.new_order();
    f.gate.submit_from(4, Request::New(other), f.clock.now());
    assert_eq!(f.sends().len(), 3);
    assert!(f.reports().is_empty());
    // Now the venue's limit refuses, not the strategy cap.
    let over = f.new_order();
    f.gate.submit_from(4, Request::New(over), f.clock.now());
    let r = f.reports();
    assert_eq!(r[0].reason, Some(RejectReason::RateLimit));
    // Next second, strategy 3 has room again (the venue does not, yet).
    f.clock.advance(S);
    let later = f.new_order();
    f.gate.submit_from(3, Request::New(later), f.clock.now());
    assert_eq!(f.reports()[0].reason, Some(RejectReason::RateLimit));
}
