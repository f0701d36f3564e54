//! Shared by the Bybit tests: the fixtures' instruments and files.
#![allow(dead_code, reason = "each test file uses part of this module")]

pub(crate) mod session_util;

use tickwire::types::{Registry, Venue};

/// The fixtures' directory (a copy of the shared captures, see SOURCES.md).
pub(crate) const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bybit");

/// Bybit's instrument specs for the captured symbols (tick, lot), as the
/// venue's `instruments-info` gives them.
pub(crate) const LINEAR: [(&str, &str, &str); 5] = [
    ("BTCUSDT", "0.10", "0.001"),
    ("ETHUSDT", "0.01", "0.01"),
    ("SOLUSDT", "0.010", "0.1"),
    ("DOGEUSDT", "0.00001", "1"),
    ("XRPUSDT", "0.0001", "1"),
];
/// Spot instruments of the capture.
pub(crate) const SPOT: [(&str, &str, &str); 2] = [
    ("BTCUSDT", "0.1", "0.000001"),
    ("ETHUSDT", "0.01", "0.00001"),
];

/// Every instrument of the captures, at their specs.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    for (venue, list) in [
        (Venue::BybitLinear, &LINEAR[..]),
        (Venue::BybitSpot, &SPOT[..]),
    ] {
        for (s, tick, lot) in list {
            r.add(venue, s, tick, lot).expect("instrument");
        }
    }
    r
}

/// The lines of a fixture file.
pub(crate) fn lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(format!("{DIR}/{name}"))
        .expect("fixture")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every received-frame fixture and the venue it was captured on.
pub(crate) const RECEIVED: [(&str, Venue); 17] = [
    (
        "linear_orderbook500_XRPUSDT_2024-12-01_bybit_history.jsonl",
        Venue::BybitLinear,
    ),
    ("ws_linear_all_frames_2026-08-09.jsonl", Venue::BybitLinear),
    ("ws_linear_orderbook_200_BTCUSDT.jsonl", Venue::BybitLinear),
    ("ws_linear_orderbook_200_ETHUSDT.jsonl", Venue::BybitLinear),
    ("ws_linear_publicTrade_BTCUSDT.jsonl", Venue::BybitLinear),
    ("ws_linear_publicTrade_ETHUSDT.jsonl", Venue::BybitLinear),
    ("ws_linear_subscribe_acks.jsonl", Venue::BybitLinear),
    ("ws_linear_tickers_BTCUSDT.jsonl", Venue::BybitLinear),
    ("ws_linear_tickers_ETHUSDT.jsonl", Venue::BybitLinear),
    ("ws_spot_all_frames_2026-08-09.jsonl", Venue::BybitSpot),
    ("ws_spot_orderbook_200_BTCUSDT.jsonl", Venue::BybitSpot),
    ("ws_spot_orderbook_200_ETHUSDT.jsonl", Venue::BybitSpot),
    ("ws_spot_publicTrade_BTCUSDT.jsonl", Venue::BybitSpot),
    ("ws_spot_publicTrade_ETHUSDT.jsonl", Venue::BybitSpot),
    ("ws_spot_subscribe_acks.jsonl", Venue::BybitSpot),
    ("ws_spot_tickers_BTCUSDT.jsonl", Venue::BybitSpot),
    ("ws_spot_tickers_ETHUSDT.jsonl", Venue::BybitSpot),
];
