//! `[risk]`: every key parsed, every bad value refused naming its key, and
//! the caps converted to each instrument's scales.

use tickwire::config::{ConfigError, RiskFile, RiskInstrumentSection, RiskSection};
use tickwire::orders::RiskLimits;
use tickwire::trading::{KeyMaterial, TradingConfig};
use tickwire::types::{Qty, Registry, Venue};
use tickwire::venue::binance::orders::Market;

#[track_caller]
fn refused(section: &RiskSection, key: &str) -> String {
    match section.validate() {
        Ok(c) => panic!("accepted {c:?}, expected an error naming `{key}`"),
        Err(ConfigError::Invalid { key: k, message }) => {
            assert_eq!(k, key, "wrong key (message: {message})");
            message
        }
        Err(e) => panic!("expected an Invalid error naming `{key}`, got {e}"),
    }
}

const FULL: &str = r#"
[engine]
ring_size = 1024
[risk]
max_qty = "5"
max_notional = "250000.5"
price_band_bps = 500
max_open_orders = 200
max_open_total = 1000
max_orders_per_sec = 20
[[risk.instrument]]
symbol = "btcusdt"
tick_size = "0.10"
lot_size = "0.001"
max_qty = "2"
max_notional = "100000"
"#;

#[test]
fn every_key_is_parsed_and_other_sections_are_ignored() {
    let f = RiskFile::from_toml_str(FULL).unwrap();
    let r = f.risk.validate().unwrap();
    assert_eq!(r.max_qty.unwrap().to_string(), "5");
    assert_eq!(r.max_notional.unwrap().to_string(), "250000.5");
    assert_eq!(
        (
            r.price_band_bps,
            r.max_open_orders,
            r.max_open_total,
            r.max_orders_per_sec
        ),
        (500, 200, 1000, 20)
    );
    let i = &r.instruments[0];
    assert_eq!(i.symbol, "BTCUSDT");
    assert_eq!(
        (i.tick_size.as_str(), i.lot_size.as_str()),
        ("0.10", "0.001")
    );
    assert_eq!(i.max_qty.unwrap().to_string(), "2");
    assert_eq!(i.max_notional.unwrap().to_string(), "100000");
}

#[test]
fn the_defaults_are_wide_and_documented() {
    let r = RiskFile::from_toml_str("")
        .unwrap()
        .risk
        .validate()
        .unwrap();
    assert_eq!(r.max_qty, None);
    assert_eq!(r.max_notional, None);
    assert_eq!(r.price_band_bps, 5_000);
    assert_eq!((r.max_open_orders, r.max_open_total), (100_000, 100_000));
    assert_eq!(r.max_orders_per_sec, 0);
}

#[test]
fn unknown_keys_and_wrong_types_are_parse_errors() {
    for text in [
        "[risk]\nmax_qtty = \"1\"",
        "[risk]\nprice_band_bps = \"wide\"",
        "[risk]\nmax_open_orders = -1",
        "[[risk.instrument]]\nsymbol = \"X\"\ntick_size = \"1\"\nlot_size = \"1\"\nband = 1",
        "[[risk.instrument]]\nsymbol = \"X\"\nlot_size = \"1\"",
    ] {
        match RiskFile::from_toml_str(text) {
            Err(ConfigError::Parse(_)) => {}
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn every_bad_value_is_refused_naming_its_key() {
    let ok = || RiskSection {
        instruments: vec![RiskInstrumentSection {
            symbol: "BTCUSDT".into(),
            tick_size: "0.01".into(),
            lot_size: "0.00001".into(),
            max_qty: None,
            max_notional: None,
        }],
        ..RiskSection::default()
    };
    ok().validate().unwrap();
    let text = |f: &dyn Fn(&mut RiskSection)| {
        let mut s = ok();
        f(&mut s);
        s
    };
    refused(&text(&|s| s.max_qty = Some("0".into())), "risk.max_qty");
    refused(&text(&|s| s.max_qty = Some("-1".into())), "risk.max_qty");
    refused(&text(&|s| s.max_qty = Some("1e3".into())), "risk.max_qty");
    refused(
        &text(&|s| s.max_notional = Some("abc".into())),
        "risk.max_notional",
    );
    refused(
        &text(&|s| s.price_band_bps = Some(0)),
        "risk.price_band_bps",
    );
    refused(
        &text(&|s| s.price_band_bps = Some(10_001)),
        "risk.price_band_bps",
    );
    refused(
        &text(&|s| s.max_open_orders = Some(0)),
        "risk.max_open_orders",
    );
    refused(
        &text(&|s| s.max_open_total = Some(1_000_001)),
        "risk.max_open_total",
    );
    let m = refused(
        &text(&|s| s.max_orders_per_sec = Some(100_001)),
        "risk.max_orders_per_sec",
    );
    assert!(m.contains("0..=100000"), "{m}");
    refused(
        &text(&|s| s.instruments[0].symbol = "".into()),
        "risk.instrument[0].symbol",
    );
    refused(
        &text(&|s| s.instruments[0].symbol = "BTC USDT".into()),
        "risk.instrument[0].symbol",
    );
    refused(
        &text(&|s| s.instruments[0].tick_size = "0".into()),
        "risk.instrument[0].tick_size",
    );
    refused(
        &text(&|s| s.instruments[0].lot_size = "x".into()),
        "risk.instrument[0].lot_size",
    );
    refused(
        &text(&|s| s.instruments[0].max_qty = Some("0".into())),
        "risk.instrument[0].max_qty",
    );
    refused(
        &text(&|s| s.instruments[0].max_notional = Some("-5".into())),
        "risk.instrument[0].max_notional",
    );
    let m = refused(
        &text(&|s| {
            let again = s.instruments[0].clone();
            s.instruments.push(RiskInstrumentSection {
                symbol: "btcusdt".into(),
                ..again
            });
        }),
        "risk.instrument[1].symbol",
    );
    assert!(m.contains("risk.instrument[0]"), "{m}");
}

#[test]
fn caps_land_on_each_instruments_scales() {
    let r = RiskFile::from_toml_str(FULL)
        .unwrap()
        .risk
        .validate()
        .unwrap();
    let mut reg = Registry::new();
    // BTCUSDT: tick 0.10 (scale 1), lot 0.001 (scale 3); ETHUSDT: 8 decimals.
    reg.add(Venue::BinanceSpot, "BTCUSDT", "0.10", "0.001")
        .unwrap();
    reg.add(Venue::BinanceSpot, "ETHUSDT", "0.00000001", "0.00000001")
        .unwrap();
    let mut cfg = TradingConfig::new(
        Market::Spot,
        "ws://127.0.0.1:1/ws-api/v3",
        "k",
        KeyMaterial::Hmac(b"s".to_vec()),
        reg,
    );
    cfg.apply_risk(&r);
    assert_eq!((cfg.max_open_total, cfg.max_orders_per_sec), (1000, 20));
    let btc: RiskLimits = cfg.risk_per_instrument[0].1;
    assert_eq!(btc.max_qty, Qty(2_000));
    assert_eq!(btc.max_notional, 100_000 * 10_000);
    assert_eq!((btc.band_bps, btc.max_open), (500, 200));
    let eth = cfg.risk_per_instrument[1].1;
    assert_eq!(eth.max_qty, Qty(5 * 100_000_000));
    assert_eq!(eth.max_notional, 2_500_005 * 10i128.pow(15));
}

/// The engine's own file may carry `[risk]` (one file for `run` and `trade`):
/// it is accepted, and a bad value in it is refused by the engine's
/// validation too, naming the key.
#[test]
fn the_engine_config_accepts_and_checks_the_risk_section() {
    let text = r#"
[[venue]]
name = "binance-spot"
symbols = ["BTCUSDT"]
[risk]
max_qty = "5"
max_orders_per_sec = 20
"#;
    let config = tickwire::config::Config::from_toml_str(text).expect("parses");
    assert_eq!(config.risk.max_qty.as_deref(), Some("5"));
    assert!(config.validate().is_ok());

    let mut bad = crate::base();
    bad.risk.max_qty = Some("-1".to_owned());
    crate::refused(&bad, "risk.max_qty");
}
