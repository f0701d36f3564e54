//! The price band against the feed: the order-entry thread reads the feed
//! engine's events through its own consumer ring and checks every new
//! order against the mid of the instrument's live book. Engine and order
//! thread both run against the simulator on loopback (market data and
//! `/ws-api/v3` on one simulated venue). Every wait is bounded.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection};
use tickwire::engine::Engine;
use tickwire::orders::{
    Cancel, ExecReport, NewOrder, OrderType, RejectReason, ReportKind, Request, SessionStatus,
    TimeInForce,
};
use tickwire::sim::{SimAccount, SimConfig, SimVenue};
use tickwire::trading::{KeyMaterial, OrderEntry, StrategyHandle, TradingConfig};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;

const KEY: &str = "bandKey0001";
const SECRET: &str = "bandSecret";

/// Reads reports until `done` (at most 20 s).
fn until(
    strat: &mut StrategyHandle,
    seen: &mut Vec<ExecReport>,
    what: &str,
    mut done: impl FnMut(&[ExecReport]) -> bool,
) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        while let Ok(r) = strat.reports.pop() {
            seen.push(r);
        }
        if done(seen) {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!(
        "waiting for {what}: {:#?}",
        &seen[seen.len().saturating_sub(8)..]
    );
}

fn limit(strat: &mut StrategyHandle, price: i64) -> NewOrder {
    let o = NewOrder {
        client_id: strat.ids.mint(),
        instrument: InstrumentId(0),
        side: Side::Bid,
        kind: OrderType::Limit,
        tif: TimeInForce::Gtc,
        price: Price(price),
        qty: Qty(1_000),
    };
    strat.requests.push(Request::New(o)).expect("ring");
    o
}

fn outcome(seen: &[ExecReport], o: &NewOrder) -> Option<ExecReport> {
    seen.iter()
        .find(|r| {
            r.client_id == o.client_id && matches!(r.kind, ReportKind::Ack | ReportKind::Reject)
        })
        .copied()
}

#[test]
fn orders_outside_the_band_around_the_live_mid_are_refused_and_inside_it_go_out() {
    let mut sim_cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    sim_cfg.rate = 2_000;
    sim_cfg.accounts = vec![SimAccount::hmac(KEY, SECRET)];
    let sim = SimVenue::start(sim_cfg).expect("sim");

    let config = Config {
        engine: EngineSection::default(),
        venues: vec![sim.venue_section().expect("section")],
        risk: Default::default(),
    }
    .validate()
    .expect("config");
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config).expect("engine");
    let feed = engine.add_consumer();

    // The order path's grid is the simulator's (0.01), the feed's is the
    // venue's default (8 decimals): the reference crosses scales.
    let mut reg = Registry::new();
    reg.add(
        Venue::BinanceSpot,
        "BTCUSDT",
        SimConfig::TICK,
        SimConfig::LOT,
    )
    .unwrap();
    let mut cfg = TradingConfig::new(
        Market::Spot,
        &sim.ws_api_url(),
        KEY,
        KeyMaterial::Hmac(SECRET.as_bytes().to_vec()),
        reg,
    );
    cfg.risk.band_bps = 100; // ±1%
    let mut oe = OrderEntry::new(cfg);
    assert!(oe.set_market_data(feed, &engine.registry(), capacity));
    let mut strat = oe.add_strategy().expect("strategy");
    let feed_handle = engine.spawn().expect("engine spawns");
    let handle = oe.spawn().expect("order thread spawns");
    let mut seen = Vec::new();
    until(&mut strat, &mut seen, "ready", |s| {
        s.iter()
            .any(|r| r.kind == ReportKind::Status && r.status == Some(SessionStatus::Ready))
    });
    // The first reference comes once the feed's book is synced.
    let t0 = Instant::now();
    while handle.stats().references.load(Ordering::Relaxed) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no reference price from the feed ({} feed events read)",
            handle.stats().market_events.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    let best_bid = sim.true_book("BTCUSDT").expect("book").bids[0].0.0;
    // Half the price: far outside ±1%, refused before it leaves the process.
    let far = limit(&mut strat, best_bid / 2);
    until(&mut strat, &mut seen, "far", |s| outcome(s, &far).is_some());
    let r = outcome(&seen, &far).unwrap();
    assert_eq!(
        (r.kind, r.reason),
        (ReportKind::Reject, Some(RejectReason::PriceBand)),
        "{r:?}"
    );
    // Far above the book, too.
    let high = limit(&mut strat, best_bid * 2);
    until(&mut strat, &mut seen, "high", |s| {
        outcome(s, &high).is_some()
    });
    assert_eq!(
        outcome(&seen, &high).unwrap().reason,
        Some(RejectReason::PriceBand)
    );
    // Ten ticks under the best bid: inside the band, sent and acked.
    let near = limit(&mut strat, best_bid - 10);
    until(&mut strat, &mut seen, "near", |s| {
        outcome(s, &near).is_some()
    });
    assert_eq!(outcome(&seen, &near).unwrap().kind, ReportKind::Ack);
    strat
        .requests
        .push(Request::Cancel(Cancel {
            client_id: near.client_id,
            instrument: near.instrument,
        }))
        .expect("ring");
    until(&mut strat, &mut seen, "canceled", |s| {
        s.iter()
            .any(|r| r.client_id == near.client_id && r.kind == ReportKind::Canceled)
    });
    assert_eq!(
        sim.stats().orders.breaches.load(Ordering::Relaxed),
        0,
        "no limit breached"
    );
    handle.stop();
    feed_handle.stop();
}
