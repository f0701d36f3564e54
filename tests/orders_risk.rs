//! Every risk rule refuses what it should, with its own reason, and
//! nothing else; the defaults let a 120-order burst through.

use tickwire::orders::risk::{Risk, RiskLimits};
use tickwire::orders::{ClientIdGen, NewOrder, OrderType, RejectReason, TimeInForce};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};

/// BTCUSDT with tick 0.01 (scale 2) and lot 0.00001 (scale 5).
fn setup() -> (Risk, InstrumentId) {
    let mut reg = Registry::new();
    let id = reg
        .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    (Risk::new(8, &reg), id)
}

fn order(inst: InstrumentId, price: i64, qty: i64) -> NewOrder {
    NewOrder {
        client_id: ClientIdGen::new("r").unwrap().mint(),
        instrument: inst,
        side: Side::Bid,
        kind: OrderType::Limit,
        tif: TimeInForce::Gtc,
        price: Price(price),
        qty: Qty(qty),
    }
}

#[test]
fn defaults_are_wide() {
    let (risk, i) = setup();
    // 43000.01 × 50 BTC, far from nothing: no reference, so no band.
    assert_eq!(risk.check(&order(i, 4_300_001, 5_000_000), 0, 0), Ok(()));
    for n in 0..120 {
        assert_eq!(risk.check(&order(i, 4_300_001, 1), n, n), Ok(()));
    }
}

#[test]
fn invalid_orders() {
    let (risk, i) = setup();
    assert_eq!(
        risk.check(&order(i, 100, 0), 0, 0),
        Err(RejectReason::InvalidOrder)
    );
    assert_eq!(
        risk.check(&order(i, 100, -1), 0, 0),
        Err(RejectReason::InvalidOrder)
    );
    assert_eq!(
        risk.check(&order(i, 0, 1), 0, 0),
        Err(RejectReason::InvalidOrder)
    );
    let mut market = order(i, 0, 1);
    market.kind = OrderType::Market;
    assert_eq!(
        risk.check(&market, 0, 0),
        Ok(()),
        "a market order needs no price"
    );
    assert_eq!(risk.check(&order(i, 4_300_001, 1), 0, 0), Ok(()));
}

#[test]
fn grid() {
    let mut reg = Registry::new();
    // Tick 0.05 at scale 2 (5), lot 0.001 at scale 3 (1): a coarser tick.
    let i = reg
        .add(Venue::BinanceSpot, "ETHUSDT", "0.05", "0.001")
        .unwrap();
    let risk = Risk::new(8, &reg);
    assert_eq!(risk.check(&order(i, 250_005, 1), 0, 0), Ok(()));
    assert_eq!(
        risk.check(&order(i, 250_003, 1), 0, 0),
        Err(RejectReason::OffGrid)
    );
    let coarse_lot = reg
        .add(Venue::BinanceSpot, "XRPUSDT", "0.0001", "0.1")
        .unwrap();
    let risk = Risk::new(8, &reg);
    assert_eq!(risk.check(&order(coarse_lot, 5_000, 10), 0, 0), Ok(()));
    assert_eq!(
        risk.check(&order(coarse_lot, 5_000, 15), 0, 0),
        Ok(()),
        "scale 1: 1.5"
    );
}

#[test]
fn max_qty_and_notional() {
    let (mut risk, i) = setup();
    risk.set_instrument(
        i,
        RiskLimits {
            max_qty: Qty(100_000),                 // 1 BTC
            max_notional: 4_300_001 * 50_000_i128, // 43000.01 × 0.5
            ..RiskLimits::default()
        },
    );
    assert_eq!(risk.check(&order(i, 4_300_001, 50_000), 0, 0), Ok(()));
    assert_eq!(
        risk.check(&order(i, 4_300_001, 50_001), 0, 0),
        Err(RejectReason::MaxNotional)
    );
    assert_eq!(risk.check(&order(i, 100, 100_000), 0, 0), Ok(()));
    assert_eq!(
        risk.check(&order(i, 100, 100_001), 0, 0),
        Err(RejectReason::MaxQty)
    );
}

#[test]
fn price_band_only_when_a_reference_is_known() {
    let (mut risk, i) = setup();
    risk.set_instrument(
        i,
        RiskLimits {
            band_bps: 100, // ±1%
            ..RiskLimits::default()
        },
    );
    assert_eq!(
        risk.check(&order(i, 9_000_000, 1), 0, 0),
        Ok(()),
        "no reference yet"
    );
    risk.set_reference(i, Price(4_000_000));
    assert_eq!(risk.check(&order(i, 4_040_000, 1), 0, 0), Ok(()));
    assert_eq!(risk.check(&order(i, 3_960_000, 1), 0, 0), Ok(()));
    assert_eq!(
        risk.check(&order(i, 4_040_001, 1), 0, 0),
        Err(RejectReason::PriceBand)
    );
    assert_eq!(
        risk.check(&order(i, 3_959_999, 1), 0, 0),
        Err(RejectReason::PriceBand)
    );
    risk.set_reference(i, Price::ZERO);
    assert_eq!(risk.check(&order(i, 9_000_000, 1), 0, 0), Ok(()));
}

#[test]
fn open_order_limits() {
    let (mut risk, i) = setup();
    risk.set_instrument(
        i,
        RiskLimits {
            max_open: 3,
            ..RiskLimits::default()
        },
    );
    risk.set_max_open_total(5);
    assert_eq!(risk.check(&order(i, 100, 1), 2, 2), Ok(()));
    assert_eq!(
        risk.check(&order(i, 100, 1), 3, 3),
        Err(RejectReason::MaxOpenInstrument)
    );
    assert_eq!(risk.check(&order(i, 100, 1), 2, 4), Ok(()));
    assert_eq!(
        risk.check(&order(i, 100, 1), 2, 5),
        Err(RejectReason::MaxOpenTotal)
    );
}

#[test]
fn kill_switch_refuses_everything_new_until_reset() {
    let (mut risk, i) = setup();
    risk.set_kill(true);
    assert_eq!(
        risk.check(&order(i, 100, 1), 0, 0),
        Err(RejectReason::KillSwitch)
    );
    risk.set_kill(false);
    assert_eq!(risk.check(&order(i, 100, 1), 0, 0), Ok(()));
}

#[test]
fn unknown_instrument() {
    let (risk, _) = setup();
    assert_eq!(
        risk.check(&order(InstrumentId(99), 100, 1), 0, 0),
        Err(RejectReason::UnknownInstrument)
    );
}

#[test]
fn the_per_strategy_cap_counts_each_strategy_in_utc_seconds() {
    use tickwire::orders::StrategyRate;
    use tickwire::types::{Clock, ManualClock};
    const S: u64 = 1_000_000_000;
    // 0.9 s into a UTC second.
    let clock = ManualClock::new(1_764_547_200 * S + 900_000_000);
    let mut cap = StrategyRate::new(3);
    for _ in 0..3 {
        assert_eq!(cap.admit(0, clock.now()), Ok(()));
    }
    assert_eq!(cap.admit(0, clock.now()), Err(RejectReason::StrategyRate));
    assert_eq!(RejectReason::StrategyRate.name(), "strategy_rate");
    // Another strategy has its own count.
    assert_eq!(cap.admit(1, clock.now()), Ok(()));
    // A refund (refused later in the pipeline) gives one back.
    cap.refund(0, clock.now());
    assert_eq!(cap.admit(0, clock.now()), Ok(()));
    assert_eq!(cap.admit(0, clock.now()), Err(RejectReason::StrategyRate));
    // The window is the UTC second, not a rolling one: 0.1 s later is a
    // new second with room again.
    clock.advance(100_000_000);
    for _ in 0..3 {
        assert_eq!(cap.admit(0, clock.now()), Ok(()));
    }
    assert_eq!(cap.admit(0, clock.now()), Err(RejectReason::StrategyRate));
    // No cap: anything goes.
    let mut none = StrategyRate::new(0);
    for _ in 0..10_000 {
        assert_eq!(none.admit(0, clock.now()), Ok(()));
    }
}
