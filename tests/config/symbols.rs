//! Symbols go into stream names and URLs: each venue has its alphabet, and
//! anything outside it is refused naming the symbol's key.

use super::{accepted, base, refused};
use tickwire::config::{SymbolSection, VenueSection};
use tickwire::types::Venue;

/// Text that would change the stream URL, or that Binance never lists.
const INJECTED: [&str; 12] = [
    "BTCUSDT@trade/ethusdt",
    "BTC/USDT",
    "BTC USDT",
    "BTC?X",
    "A&B",
    "A#B",
    "A%20",
    "BTC-USDT",
    "BTC.USDT",
    "BTC\u{e9}",
    "",
    "BTC_USDT",
];

#[test]
fn spot_symbols_are_letters_and_digits() {
    for bad in INJECTED {
        let mut c = base();
        c.venues[0].symbols = vec!["ETHUSDT".to_owned(), bad.to_owned()];
        refused(&c, "venue[0].symbols[1]");
    }
    let mut c = base();
    c.venues[0].symbols = vec!["btcusdt".to_owned(), "1000SATSUSDT".to_owned()];
    accepted(&c);
}

#[test]
fn symbol_tables_are_checked_too() {
    let mut c = base();
    c.venues[0].symbol_specs = vec![SymbolSection {
        symbol: "ETH/USDT".to_owned(),
        tick_size: "0.01".to_owned(),
        lot_size: "0.0001".to_owned(),
    }];
    let msg = refused(&c, "venue[0].symbol[0]");
    assert!(msg.contains("letters"), "{msg}");
}

#[test]
fn usdm_delivery_symbols_keep_their_underscore() {
    let mut c = base();
    let mut usdm = VenueSection::new(Venue::BinanceUsdm);
    usdm.ws_url = Some("ws://127.0.0.1:9001".to_owned());
    usdm.rest_url = Some("http://127.0.0.1:9001".to_owned());
    usdm.symbols = vec!["BTCUSDT_261225".to_owned()];
    c.venues = vec![usdm];
    accepted(&c);
    for bad in &INJECTED[..INJECTED.len() - 1] {
        c.venues[0].symbols = vec![(*bad).to_owned()];
        refused(&c, "venue[0].symbols[0]");
    }
}
