//! The order-entry thread end to end against the simulator on loopback
//! (real sockets, wss:// for the main cases): logon and user-data
//! subscription at start-up, orders acked and canceled, a 10,000-order burst
//! without a venue-counted breach, wrong secrets refused and reported, a
//! dropped reply resolved by a status query without a second order, a
//! disconnect mid-order reconciled after reconnect, a late fill after a
//! cancel applied, and the kill switch. Every wait is bounded in count and
//! time; nothing asserts a duration.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use tickwire::orders::{
    BreakerConfig, Cancel, ExecReport, NewOrder, OrderType, RejectReason, ReportKind, Request,
    SessionStatus, TimeInForce,
};
use tickwire::sim::{Fault, OrderFault, SimAccount, SimConfig, SimVenue};
use tickwire::trading::{KeyMaterial, OrderEntry, StrategyHandle, TradingConfig, TradingHandle};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;

const HMAC_KEY: &str = "hmacKey0001";
const SECRET: &str = "simSecretForTests";
const ED_KEY: &str = "edKey0001";

fn ed_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn sim(venue: Venue, tls: bool) -> SimVenue {
    let mut cfg = SimConfig::new(venue, &["BTCUSDT"]);
    cfg.rate = 0;
    cfg.tls = tls;
    cfg.accounts = vec![
        SimAccount::hmac(HMAC_KEY, SECRET),
        SimAccount::ed25519(ED_KEY, ed_key().verifying_key().to_bytes()),
    ];
    SimVenue::start(cfg).expect("sim starts")
}

fn registry(venue: Venue) -> Registry {
    let mut reg = Registry::new();
    reg.add(venue, "BTCUSDT", SimConfig::TICK, SimConfig::LOT)
        .unwrap();
    reg
}

struct Session {
    handle: TradingHandle,
    strat: StrategyHandle,
    /// Every report seen, in order.
    seen: Vec<ExecReport>,
}

fn start(
    s: &SimVenue,
    ed25519: bool,
    secret: &str,
    tweak: impl FnOnce(&mut TradingConfig),
) -> Session {
    let (market, url, venue) = match s.venue() {
        Venue::BinanceUsdm => (Market::Usdm, s.ws_fapi_url(), Venue::BinanceUsdm),
        _ => (Market::Spot, s.ws_api_url(), Venue::BinanceSpot),
    };
    let (key, material) = if ed25519 {
        (ED_KEY, KeyMaterial::Ed25519Raw(ed_key().to_bytes()))
    } else {
        (HMAC_KEY, KeyMaterial::Hmac(secret.as_bytes().to_vec()))
    };
    let mut cfg = TradingConfig::new(market, &url, key, material, registry(venue));
    cfg.ca_file = s.ca_file().unwrap();
    cfg.idle_poll = 100_000;
    tweak(&mut cfg);
    let mut oe = OrderEntry::new(cfg);
    let strat = oe.add_strategy().unwrap();
    let handle = oe.spawn().unwrap();
    Session {
        handle,
        strat,
        seen: Vec::new(),
    }
}

impl Session {
    /// Reads reports until `done` says so (at most 20 s, 200,000 polls).
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

    fn ready(&mut self) {
        self.until("ready", |s| {
            s.iter()
                .any(|r| r.kind == ReportKind::Status && r.status == Some(SessionStatus::Ready))
        });
    }

    fn limit(&mut self, side: Side, price: i64, qty: i64) -> NewOrder {
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

    fn cancel(&mut self, o: &NewOrder) {
        self.strat
            .requests
            .push(Request::Cancel(Cancel {
                client_id: o.client_id,
                instrument: o.instrument,
            }))
            .unwrap();
    }

    fn about(&self, o: &NewOrder) -> Vec<ReportKind> {
        self.seen
            .iter()
            .filter(|r| r.client_id == o.client_id)
            .map(|r| r.kind)
            .collect()
    }

    fn has(&self, o: &NewOrder, k: ReportKind) -> bool {
        self.about(o).contains(&k)
    }
}

fn counters(s: &SimVenue) -> (u64, u64) {
    let o = &s.stats().orders;
    (
        o.breaches.load(Ordering::Relaxed),
        o.duplicates.load(Ordering::Relaxed),
    )
}

/// A price far below the book: the order rests.
fn low(s: &SimVenue) -> i64 {
    s.true_book("BTCUSDT").unwrap().bids[0].0.0 / 2
}

fn has(seen: &[ExecReport], o: &NewOrder, k: ReportKind) -> bool {
    seen.iter()
        .any(|r| r.client_id == o.client_id && r.kind == k)
}

fn ack_then_cancel(s: &SimVenue, ed25519: bool) {
    let mut t = start(s, ed25519, SECRET, |_| {});
    t.ready();
    let o = t.limit(Side::Bid, low(s), 1_000);
    t.until("ack", |seen| has(seen, &o, ReportKind::Ack));
    t.cancel(&o);
    t.until("canceled", |seen| has(seen, &o, ReportKind::Canceled));
    let ack = t
        .seen
        .iter()
        .find(|r| r.client_id == o.client_id && r.kind == ReportKind::Ack)
        .unwrap();
    assert!(ack.venue_order_id > 0);
    assert_eq!((ack.price, ack.qty), (o.price, o.qty));
    assert_eq!(t.about(&o), vec![ReportKind::Ack, ReportKind::Canceled]);
    assert_eq!(counters(s), (0, 0));
    assert_eq!(t.handle.stats().connects.load(Ordering::Relaxed), 1);
    t.handle.stop();
}

#[test]
fn spot_hmac_over_wss_acks_and_cancels() {
    ack_then_cancel(&sim(Venue::BinanceSpot, true), false);
}

#[test]
fn spot_ed25519_over_wss_logs_on_acks_and_cancels() {
    ack_then_cancel(&sim(Venue::BinanceSpot, true), true);
}

#[test]
fn usdm_hmac_and_ed25519_over_wss_ack_and_cancel() {
    let s = sim(Venue::BinanceUsdm, true);
    ack_then_cancel(&s, false);
    ack_then_cancel(&s, true);
}

#[test]
fn a_burst_of_10000_never_breaches_and_each_order_gets_one_outcome() {
    let s = sim(Venue::BinanceSpot, true);
    let mut t = start(&s, false, SECRET, |_| {});
    t.ready();
    let px = low(&s);
    let mut orders = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        // The ring holds 16,384: no push fails.
        orders.push(t.limit(Side::Bid, px, 1_000));
    }
    let ids: std::collections::HashSet<_> = orders.iter().map(|o| o.client_id).collect();
    t.until("10,000 outcomes", |seen| {
        seen.iter()
            .filter(|r| {
                matches!(r.kind, ReportKind::Ack | ReportKind::Reject) && ids.contains(&r.client_id)
            })
            .count()
            >= 10_000
    });
    let mut first: HashMap<_, ReportKind> = HashMap::new();
    let mut reasons: HashMap<Option<RejectReason>, u64> = HashMap::new();
    for r in t.seen.iter().filter(|r| ids.contains(&r.client_id)) {
        if matches!(r.kind, ReportKind::Ack | ReportKind::Reject) {
            assert!(
                first.insert(r.client_id, r.kind).is_none(),
                "two outcomes for {}",
                r.client_id
            );
            if r.kind == ReportKind::Reject {
                *reasons.entry(r.reason).or_default() += 1;
            }
        }
    }
    assert_eq!(first.len(), 10_000);
    let acks = first.values().filter(|k| **k == ReportKind::Ack).count() as u64;
    assert!(acks > 0 && acks <= 100, "acks {acks}");
    assert_eq!(
        reasons.get(&Some(RejectReason::RateLimit)).copied(),
        Some(10_000 - acks),
        "{reasons:?}"
    );
    assert_eq!(counters(&s), (0, 0));
    assert_eq!(s.stats().orders.placed.load(Ordering::Relaxed), acks);
    t.handle.stop();
}

#[test]
fn a_wrong_secret_is_refused_by_the_venue_and_reported() {
    let s = sim(Venue::BinanceSpot, true);
    let mut t = start(&s, false, "notTheSecret", |_| {});
    t.until("refusal", |seen| {
        seen.iter()
            .any(|r| r.kind == ReportKind::Status && r.venue_code != 0)
    });
    let r = *t.seen.iter().find(|r| r.venue_code != 0).unwrap();
    assert_eq!(r.status, Some(SessionStatus::NotReady));
    assert_eq!(r.venue_code, -1022, "{r:?}");
    assert!(r.text.as_str().contains("ignature"), "{:?}", r.text);
    // Orders are refused locally, never sent.
    let o = t.limit(Side::Bid, low(&s), 1_000);
    t.until("reject", |seen| has(seen, &o, ReportKind::Reject));
    let rej = t.seen.iter().find(|r| r.client_id == o.client_id).unwrap();
    assert_eq!(rej.reason, Some(RejectReason::NotReady));
    assert_eq!(s.stats().orders.placed.load(Ordering::Relaxed), 0);
    t.handle.stop();
}

#[test]
fn a_wrong_api_key_is_refused_by_the_venue_and_reported() {
    let s = sim(Venue::BinanceSpot, false);
    let mut t = start(&s, false, SECRET, |c| c.api_key = "unknownKey42".into());
    t.until("refusal", |seen| {
        seen.iter()
            .any(|r| r.kind == ReportKind::Status && r.venue_code != 0)
    });
    let r = *t.seen.iter().find(|r| r.venue_code != 0).unwrap();
    assert_eq!(r.status, Some(SessionStatus::NotReady));
    assert!(matches!(r.venue_code, -2014 | -2015), "{r:?}");
    t.handle.stop();
}

#[test]
fn a_dropped_reply_goes_in_doubt_is_queried_and_never_sent_twice() {
    // USD-M: the reply and the order's user-data events are both lost, so
    // only the status query can resolve it.
    let s = sim(Venue::BinanceUsdm, true);
    let mut t = start(&s, false, SECRET, |c| {
        c.orders.request_timeout = 300_000_000;
        c.recv_window_ms = 500;
    });
    t.ready();
    s.inject(Fault::Orders(OrderFault::LoseReply));
    let o = t.limit(Side::Bid, low(&s), 1_000);
    t.until("in doubt then ack", |seen| {
        has(seen, &o, ReportKind::InDoubt) && has(seen, &o, ReportKind::Ack)
    });
    assert_eq!(t.about(&o), vec![ReportKind::InDoubt, ReportKind::Ack]);
    let o_stats = &s.stats().orders;
    assert_eq!(o_stats.dropped_replies.load(Ordering::Relaxed), 1);
    assert_eq!(o_stats.dropped_events.load(Ordering::Relaxed), 1);
    assert_eq!(o_stats.placed.load(Ordering::Relaxed), 1);
    assert_eq!(counters(&s), (0, 0));
    t.handle.stop();
}

#[test]
fn a_disconnect_mid_order_is_reconciled_after_reconnect() {
    let s = sim(Venue::BinanceSpot, true);
    let mut t = start(&s, false, SECRET, |c| {
        c.orders.request_timeout = 300_000_000;
        c.recv_window_ms = 500;
    });
    t.ready();
    s.inject(Fault::Orders(OrderFault::DisconnectMidOrder));
    let o = t.limit(Side::Bid, low(&s), 1_000);
    t.until("reconciled", |seen| has(seen, &o, ReportKind::Ack));
    let kinds = t.about(&o);
    assert_eq!(kinds.last(), Some(&ReportKind::Ack), "{kinds:?}");
    assert!(t.handle.stats().connects.load(Ordering::Relaxed) >= 2);
    assert_eq!(s.stats().orders.placed.load(Ordering::Relaxed), 1);
    assert_eq!(counters(&s), (0, 0));
    // The session takes new orders again.
    let o2 = t.limit(Side::Bid, low(&s), 1_000);
    t.until("second ack", |seen| has(seen, &o2, ReportKind::Ack));
    t.handle.stop();
}

#[test]
fn a_late_fill_after_a_cancel_is_applied() {
    let s = sim(Venue::BinanceSpot, true);
    let mut t = start(&s, false, SECRET, |_| {});
    t.ready();
    let o = t.limit(Side::Bid, low(&s), 1_000);
    t.until("ack", |seen| has(seen, &o, ReportKind::Ack));
    s.inject(Fault::Orders(OrderFault::LateFill));
    t.cancel(&o);
    t.until("canceled and filled", |seen| {
        has(seen, &o, ReportKind::Canceled) && has(seen, &o, ReportKind::PartialFill)
    });
    let fill = t
        .seen
        .iter()
        .find(|r| r.client_id == o.client_id && r.kind == ReportKind::PartialFill)
        .unwrap();
    assert_eq!(fill.last_qty, Qty(500));
    // The cancel reply's `executedQty` announces the fill before the
    // TRADE event: the first fill report may not know the price yet (0).
    assert!(
        fill.last_price == o.price || fill.last_price == Price::ZERO,
        "{fill:?}"
    );
    let kinds = t.about(&o);
    assert_eq!(kinds[0], ReportKind::Ack, "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == ReportKind::Canceled).count(),
        1,
        "{kinds:?}"
    );
    let last = t
        .seen
        .iter()
        .rev()
        .find(|r| r.client_id == o.client_id)
        .unwrap();
    assert_eq!(last.filled_qty, Qty(500));
    assert_eq!(counters(&s), (0, 0));
    t.handle.stop();
}

#[test]
fn the_kill_switch_cancels_everything_and_refuses_new_orders() {
    let s = sim(Venue::BinanceSpot, true);
    let mut t = start(&s, false, SECRET, |_| {});
    t.ready();
    let px = low(&s);
    let os: Vec<NewOrder> = (0..3).map(|i| t.limit(Side::Bid, px - i, 1_000)).collect();
    t.until("acks", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Ack))
    });
    t.handle.kill();
    t.until("all canceled", |seen| {
        os.iter().all(|o| has(seen, o, ReportKind::Canceled))
    });
    let late = t.limit(Side::Bid, px, 1_000);
    t.until("refused", |seen| has(seen, &late, ReportKind::Reject));
    let r = t
        .seen
        .iter()
        .find(|r| r.client_id == late.client_id)
        .unwrap();
    assert_eq!(r.reason, Some(RejectReason::KillSwitch));
    assert_eq!(s.stats().orders.placed.load(Ordering::Relaxed), 3);
    t.handle.reset_kill();
    t.until("kill off", |seen| {
        seen.iter()
            .any(|r| r.status == Some(SessionStatus::KillSwitchOff))
    });
    let again = t.limit(Side::Bid, px, 1_000);
    t.until("ack after reset", |seen| has(seen, &again, ReportKind::Ack));
    t.handle.stop();
}

#[test]
fn the_breaker_trips_on_timeouts_and_recovers() {
    let s = sim(Venue::BinanceSpot, false);
    let mut t = start(&s, false, SECRET, |c| {
        c.orders.request_timeout = 200_000_000;
        c.recv_window_ms = 300;
        c.breaker = BreakerConfig {
            failures: 2,
            cool_down: 500_000_000,
            probes: 1,
        };
    });
    t.ready();
    s.inject(Fault::Orders(OrderFault::DelayReplies(
        Duration::from_millis(1_500),
    )));
    let a = t.limit(Side::Bid, low(&s), 1_000);
    let b = t.limit(Side::Bid, low(&s), 1_000);
    t.until("breaker open", |seen| {
        seen.iter()
            .any(|r| r.status == Some(SessionStatus::BreakerOpen))
    });
    let refused = t.limit(Side::Bid, low(&s), 1_000);
    t.until("circuit_open", |seen| {
        has(seen, &refused, ReportKind::Reject)
    });
    let r = t
        .seen
        .iter()
        .find(|r| r.client_id == refused.client_id)
        .unwrap();
    assert_eq!(r.reason, Some(RejectReason::CircuitOpen));
    s.inject(Fault::Orders(OrderFault::DelayReplies(Duration::ZERO)));
    // The delayed replies (or the status queries) resolve a and b.
    t.until("a and b acked", |seen| {
        has(seen, &a, ReportKind::Ack) && has(seen, &b, ReportKind::Ack)
    });
    // Probes are refused with circuit_open until the cool-down ends, then
    // one is admitted (half-open) and its ack closes the breaker.
    let mut admitted = None;
    for _ in 0..200 {
        let probe = t.limit(Side::Bid, low(&s), 1_000);
        t.until("probe outcome", |seen| {
            has(seen, &probe, ReportKind::Ack) || has(seen, &probe, ReportKind::Reject)
        });
        if t.has(&probe, ReportKind::Ack) {
            admitted = Some(probe);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(admitted.is_some(), "no probe admitted");
    t.until("breaker closed", |seen| {
        seen.iter()
            .any(|r| r.status == Some(SessionStatus::BreakerClosed))
    });
    assert!(
        t.seen
            .iter()
            .any(|r| r.status == Some(SessionStatus::BreakerHalfOpen))
    );
    assert_eq!(counters(&s), (0, 0));
    t.handle.stop();
}
