//! USD-M order entry end to end against the simulator over wss:// on
//! loopback: the listen-key user-data stream (a second connection on the
//! order thread's loop, its key from the REST helper) delivers fills and
//! cancels without double counting; cancel-all goes over REST and cancels
//! every open order; `order.modify` amends in place; the kill switch arms
//! the venue's dead-man switch. Every wait is bounded in count and time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tickwire::orders::{
    CancelReplace, ExecReport, NewOrder, OrderType, RejectReason, ReportKind, Request,
    SessionStatus, TimeInForce,
};
use tickwire::sim::{Fault, OrderFault, SimAccount, SimConfig, SimVenue};
use tickwire::trading::{KeyMaterial, OrderEntry, StrategyHandle, TradingConfig, TradingHandle};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;

const KEY: &str = "hmacKey0001";
const SECRET: &str = "simSecretForTests";
const ED_KEY: &str = "edKey0001";

fn ed_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

fn sim(venue: Venue) -> SimVenue {
    let mut cfg = SimConfig::new(venue, &["BTCUSDT"]);
    cfg.rate = 0;
    cfg.tls = true;
    cfg.accounts = vec![
        SimAccount::hmac(KEY, SECRET),
        SimAccount::ed25519(ED_KEY, ed_key().verifying_key().to_bytes()),
    ];
    SimVenue::start(cfg).expect("sim starts")
}

thread_local! {
    /// The next session uses the Ed25519 account.
    static ED25519: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

struct Session {
    handle: TradingHandle,
    strat: StrategyHandle,
    seen: Vec<ExecReport>,
}

fn start(s: &SimVenue, tweak: impl FnOnce(&mut TradingConfig)) -> Session {
    let (market, url, venue) = match s.venue() {
        Venue::BinanceUsdm => (Market::Usdm, s.ws_fapi_url(), Venue::BinanceUsdm),
        _ => (Market::Spot, s.ws_api_url(), Venue::BinanceSpot),
    };
    let mut reg = Registry::new();
    reg.add(venue, "BTCUSDT", SimConfig::TICK, SimConfig::LOT)
        .unwrap();
    let key = KeyMaterial::Hmac(SECRET.as_bytes().to_vec());
    let mut cfg = TradingConfig::new(market, &url, KEY, key, reg);
    if ED25519.with(|e| e.get()) {
        cfg.api_key = ED_KEY.into();
        cfg.key = KeyMaterial::Ed25519Raw(ed_key().to_bytes());
    }
    cfg.ca_file = s.ca_file().unwrap();
    cfg.rest_url = Some(s.rest_url());
    cfg.idle_poll = 100_000;
    tweak(&mut cfg);
    let mut oe = OrderEntry::new(cfg);
    let strat = oe.add_strategy().unwrap();
    let handle = oe.spawn().unwrap();
    let mut t = Session {
        handle,
        strat,
        seen: Vec::new(),
    };
    t.until("ready", |s| {
        s.iter()
            .any(|r| r.kind == ReportKind::Status && r.status == Some(SessionStatus::Ready))
    });
    t
}

/// Waits until `done` (at most 20 s, 200,000 polls).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    for _ in 0..200_000 {
        if done() {
            return;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    panic!("waiting for {what}");
}

fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

impl Session {
    fn until(&mut self, what: &str, mut done: impl FnMut(&[ExecReport]) -> bool) {
        let t0 = Instant::now();
        for _ in 0..200_000 {
            while let Ok(r) = self.strat.reports.pop() {
                self.seen.push(r);
            }
            if done(&self.seen) {
                return;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        panic!(
            "waiting for {what}: {:#?}",
            &self.seen[self.seen.len().saturating_sub(12)..]
        );
    }

    fn order(&mut self, side: Side, price: i64, qty: i64) -> NewOrder {
        let o = NewOrder {
            client_id: self.strat.ids.mint(),
            instrument: InstrumentId(0),
            side,
            kind: OrderType::Limit,
            tif: TimeInForce::Gtc,
            price: Price(price),
            qty: Qty(qty),
        };
        self.strat.requests.push(Request::New(o)).unwrap();
        o
    }

    fn push(&mut self, r: Request) {
        self.strat.requests.push(r).unwrap();
    }

    fn of(&self, o: &NewOrder) -> Vec<ExecReport> {
        self.seen
            .iter()
            .filter(|r| r.client_id == o.client_id)
            .copied()
            .collect()
    }

    fn kinds(&self, o: &NewOrder) -> Vec<ReportKind> {
        self.of(o).iter().map(|r| r.kind).collect()
    }

    fn has(&self, o: &NewOrder, k: ReportKind) -> bool {
        self.kinds(o).contains(&k)
    }
}

fn has(seen: &[ExecReport], o: &NewOrder, k: ReportKind) -> bool {
    seen.iter()
        .any(|r| r.client_id == o.client_id && r.kind == k)
}

fn low(s: &SimVenue) -> i64 {
    s.true_book("BTCUSDT").unwrap().bids[0].0.0 / 2
}

#[test]
fn usdm_events_arrive_on_the_listen_key_stream_and_count_once() {
    let s = sim(Venue::BinanceUsdm);
    // A long request timeout: only the stream can resolve a dropped reply
    // in time.
    let mut t = start(&s, |c| c.orders.request_timeout = 30_000_000_000);
    assert_eq!(load(&t.handle.stats().user_data), 1);
    s.inject(Fault::Orders(OrderFault::DropReply));
    let o = t.order(Side::Bid, low(&s), 1_000);
    t.until("ack from the stream", |seen| has(seen, &o, ReportKind::Ack));
    assert_eq!(t.kinds(&o), vec![ReportKind::Ack], "no doubt, no query");
    assert_eq!(load(&s.stats().orders.dropped_replies), 1);
    // A fill: the reply and the stream both say so; it counts once.
    let ask = s.true_book("BTCUSDT").unwrap().asks[0].0.0;
    let f = t.order(Side::Bid, ask + 1_000, 1_000);
    t.until("fill", |seen| has(seen, &f, ReportKind::Fill));
    // Let the stream's copies arrive, then count.
    std::thread::sleep(Duration::from_millis(300));
    t.until("drained", |_| true);
    let fills: Vec<ExecReport> = t
        .of(&f)
        .into_iter()
        .filter(|r| matches!(r.kind, ReportKind::Fill | ReportKind::PartialFill))
        .collect();
    let total: i64 = fills.iter().map(|r| r.last_qty.0).sum();
    assert_eq!(total, 1_000, "{fills:#?}");
    assert_eq!(
        t.kinds(&f)
            .iter()
            .filter(|k| **k == ReportKind::Fill)
            .count(),
        1
    );
    assert_eq!(fills.last().unwrap().filled_qty, Qty(1_000));
    // A cancel: one Canceled, though reply and stream both report it.
    t.push(Request::Cancel(tickwire::orders::Cancel {
        client_id: o.client_id,
        instrument: o.instrument,
    }));
    t.until("canceled", |seen| has(seen, &o, ReportKind::Canceled));
    std::thread::sleep(Duration::from_millis(300));
    t.until("drained", |_| true);
    assert_eq!(t.kinds(&o), vec![ReportKind::Ack, ReportKind::Canceled]);
    assert_eq!(load(&s.stats().orders.duplicates), 0);
    assert_eq!(load(&s.stats().orders.breaches), 0);
    assert_eq!(load(&t.handle.stats().connects), 1);
    t.handle.stop();
}

#[test]
fn usdm_cancel_all_goes_over_rest_and_cancels_every_open_order() {
    cancel_all(false);
}

#[test]
fn usdm_cancel_all_signed_with_ed25519_over_rest() {
    cancel_all(true);
}

fn cancel_all(ed25519: bool) {
    ED25519.with(|e| e.set(ed25519));
    let s = sim(Venue::BinanceUsdm);
    let mut t = start(&s, |_| {});
    let px = low(&s);
    let os: Vec<NewOrder> = (0..3).map(|i| t.order(Side::Bid, px - i, 1_000)).collect();
    t.until("acks", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Ack))
    });
    t.push(Request::CancelAll(InstrumentId(0)));
    t.until("all canceled", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Canceled))
    });
    let st = t.handle.stats();
    assert_eq!(load(&st.rest_requests), 1);
    assert_eq!(load(&st.unencodable), 0);
    assert!(
        !t.seen.iter().any(|r| r.kind == ReportKind::CancelReject),
        "{:#?}",
        t.seen
    );
    // The simulator holds no open order: a new one rests alone and a
    // second cancel-all cancels just that one.
    let again = t.order(Side::Bid, px, 1_000);
    t.until("ack", |seen| has(seen, &again, ReportKind::Ack));
    t.push(Request::CancelAll(InstrumentId(0)));
    t.until("canceled", |seen| has(seen, &again, ReportKind::Canceled));
    for o in &os {
        assert_eq!(t.kinds(o), vec![ReportKind::Ack, ReportKind::Canceled]);
    }
    t.handle.stop();
}

#[test]
fn usdm_replace_amends_in_place_with_the_same_client_id() {
    let s = sim(Venue::BinanceUsdm);
    let mut t = start(&s, |_| {});
    let px = low(&s);
    let o = t.order(Side::Bid, px, 1_000);
    t.until("ack", |seen| has(seen, &o, ReportKind::Ack));
    let amended = NewOrder {
        price: Price(px + 100),
        qty: Qty(2_000),
        ..o
    };
    t.push(Request::CancelReplace(CancelReplace {
        cancel: o.client_id,
        new: amended,
    }));
    t.until("second ack", |seen| {
        seen.iter()
            .filter(|r| r.client_id == o.client_id && r.kind == ReportKind::Ack)
            .count()
            == 2
    });
    let acks: Vec<ExecReport> = t
        .of(&o)
        .into_iter()
        .filter(|r| r.kind == ReportKind::Ack)
        .collect();
    assert_eq!((acks[1].price, acks[1].qty), (amended.price, amended.qty));
    assert_eq!(acks[1].venue_order_id, acks[0].venue_order_id);
    // A fresh id is refused locally: USD-M has no cancel-replace.
    let fresh = NewOrder {
        client_id: t.strat.ids.mint(),
        ..amended
    };
    t.push(Request::CancelReplace(CancelReplace {
        cancel: o.client_id,
        new: fresh,
    }));
    t.until("refused", |seen| has(seen, &fresh, ReportKind::Reject));
    assert_eq!(t.of(&fresh)[0].reason, Some(RejectReason::InvalidOrder));
    t.push(Request::Cancel(tickwire::orders::Cancel {
        client_id: o.client_id,
        instrument: o.instrument,
    }));
    t.until("canceled", |seen| has(seen, &o, ReportKind::Canceled));
    assert_eq!(load(&s.stats().orders.placed), 1);
    t.handle.stop();
}

#[test]
fn spot_replace_cancels_and_places_with_a_fresh_client_id() {
    let s = sim(Venue::BinanceSpot);
    let mut t = start(&s, |_| {});
    let px = low(&s);
    let o = t.order(Side::Bid, px, 1_000);
    t.until("ack", |seen| has(seen, &o, ReportKind::Ack));
    let new = NewOrder {
        client_id: t.strat.ids.mint(),
        price: Price(px + 100),
        qty: Qty(2_000),
        ..o
    };
    t.push(Request::CancelReplace(CancelReplace {
        cancel: o.client_id,
        new,
    }));
    t.until("old canceled, new acked", |seen| {
        has(seen, &o, ReportKind::Canceled) && has(seen, &new, ReportKind::Ack)
    });
    let ack = t.of(&new)[0];
    assert_eq!((ack.price, ack.qty), (new.price, new.qty));
    assert!(!t.has(&new, ReportKind::Reject));
    assert_eq!(load(&s.stats().orders.placed), 2);
    t.handle.stop();
}

#[test]
fn usdm_kill_switch_cancels_everything_and_arms_the_dead_man_switch() {
    let s = sim(Venue::BinanceUsdm);
    let mut t = start(&s, |c| c.dead_man_ms = 60_000);
    let px = low(&s);
    let os: Vec<NewOrder> = (0..2).map(|i| t.order(Side::Bid, px - i, 1_000)).collect();
    t.until("acks", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Ack))
    });
    t.handle.kill();
    t.until("all canceled", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Canceled))
    });
    let orders = &s.stats().orders;
    wait_for("armed", || load(&t.handle.stats().dead_man_armed) == 1);
    assert_eq!(load(&orders.countdowns_armed), 1);
    assert_eq!(load(&orders.countdown_ms), 60_000);
    t.handle.reset_kill();
    wait_for("disarmed", || load(&orders.countdowns_disarmed) == 1);
    assert_eq!(load(&orders.countdowns_fired), 0);
    t.handle.stop();
}

#[test]
fn usdm_disconnect_mid_order_reopens_user_data_then_reconciles() {
    let s = sim(Venue::BinanceUsdm);
    let mut t = start(&s, |c| {
        c.orders.request_timeout = 300_000_000;
        c.recv_window_ms = 500;
    });
    let px = low(&s);
    let resting = t.order(Side::Bid, px - 1, 1_000);
    t.until("ack", |seen| has(seen, &resting, ReportKind::Ack));
    s.inject(Fault::Orders(OrderFault::DisconnectMidOrder));
    let o = t.order(Side::Bid, px, 1_000);
    // The ack may come over the user-data stream (its own connection)
    // before the trading connection is back: wait for both.
    t.until("reconciled", |seen| has(seen, &o, ReportKind::Ack));
    wait_for("reconnected", || load(&t.handle.stats().connects) >= 2);
    wait_for("user data back", || load(&t.handle.stats().user_data) == 1);
    // Accepting again, after the user-data stream is back.
    let o2 = t.order(Side::Bid, px, 1_000);
    t.until("second ack", |seen| has(seen, &o2, ReportKind::Ack));
    assert_eq!(load(&s.stats().orders.placed), 3);
    assert_eq!(load(&s.stats().orders.duplicates), 0);
    // All three are still tracked as open: one cancel-all ends them all.
    t.push(Request::CancelAll(InstrumentId(0)));
    t.until("canceled", |seen| {
        has(seen, &resting, ReportKind::Canceled)
            && has(seen, &o, ReportKind::Canceled)
            && has(seen, &o2, ReportKind::Canceled)
    });
    t.handle.stop();
}

#[test]
fn usdm_keeps_its_listen_key_alive() {
    let s = sim(Venue::BinanceUsdm);
    let t = start(&s, |c| c.listen_key_keepalive = 150_000_000);
    let orders = &s.stats().orders;
    wait_for("two keepalives", || {
        load(&orders.listen_key_keepalives) >= 2
    });
    // The stream stayed up on the same key: no reconnect.
    assert_eq!(load(&t.handle.stats().user_data), 1);
    assert_eq!(load(&t.handle.stats().connects), 1);
    t.handle.stop();
}
