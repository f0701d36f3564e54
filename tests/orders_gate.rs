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
