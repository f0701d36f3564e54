//! The simulator's Bybit and OKX frames have the real venues' shapes: the
//! same keys in the same order as the captures in `tests/fixtures/bybit/`
//! and `tests/fixtures/okx/` (OKX's 2022 capture predates `seqId` /
//! `prevSeqId` and `connId`, which the simulator adds as newer servers do).
//! Clients must not depend on key order; the simulator keeps it anyway so
//! that what it sends looks like the venue.

use std::path::PathBuf;

use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::Venue;

/// Line `n` (0-based) of a fixture file.
fn fixture_line(path: &str, n: usize) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines().nth(n).expect("line").to_owned()
}

/// Every object key as a dotted path (`data.b`, `data[].px`), in order of
/// first appearance.
fn key_paths(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    // Open containers: (is an object, its path).
    let mut stack: Vec<(bool, String)> = Vec::new();
    let mut last_key = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let after = text[i + 1..].trim_start();
                if let Some((true, parent)) = stack.last()
                    && after.starts_with(':')
                {
                    let key = &text[start..i];
                    last_key = if parent.is_empty() {
                        key.to_owned()
                    } else {
                        format!("{parent}.{key}")
                    };
                    if !out.contains(&last_key) {
                        out.push(last_key.clone());
                    }
                }
            }
            c @ (b'{' | b'[') => {
                let path = match stack.last() {
                    None => String::new(),
                    Some((true, _)) => std::mem::take(&mut last_key),
                    Some((false, p)) => format!("{p}[]"),
                };
                stack.push((c == b'{', path));
            }
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).expect("utf-8")
}

fn market(venue: Venue, symbol: &str) -> MarketSim {
    let mut cfg = MarketConfig::btcusdt(venue, 5);
    cfg.symbol = symbol.to_owned();
    MarketSim::new(cfg)
}

#[test]
fn key_paths_reads_nested_keys_in_order() {
    assert_eq!(
        key_paths(
            "{\"b\":1,\"a\":{\"y\":[[\"1\"]],\"x\":\"s:\"},\"d\":[{\"k\":2},{\"k\":3,\"j\":4}]}"
        ),
        ["b", "a", "a.y", "a.x", "d", "d[].k", "d[].j"]
    );
}

#[test]
fn bybit_book_and_trade_frames_have_the_captured_keys() {
    for (venue, prefix) in [(Venue::BybitSpot, "spot"), (Venue::BybitLinear, "linear")] {
        let mut sim = market(venue, "BTCUSDT");
        let book = format!("bybit/ws_{prefix}_orderbook_200_BTCUSDT.jsonl");
        let snapshot = text(|o| sim.bybit_snapshot(200, o));
        assert_eq!(
            key_paths(&snapshot),
            key_paths(&fixture_line(&book, 0)),
            "{venue}"
        );
        let mut deltas = vec![Vec::new()];
        sim.bybit_deltas(&[200], &mut deltas);
        let delta = String::from_utf8(deltas.remove(0)).expect("utf-8");
        assert_eq!(
            key_paths(&delta),
            key_paths(&fixture_line(&book, 1)),
            "{venue}"
        );
        let trade = text(|o| sim.bybit_trade(o));
        let captured = fixture_line(&format!("bybit/ws_{prefix}_publicTrade_BTCUSDT.jsonl"), 0);
        assert_eq!(key_paths(&trade), key_paths(&captured), "{venue}: {trade}");
    }
}

#[test]
fn bybit_linear_tickers_have_the_captured_keys() {
    let sim = market(Venue::BybitLinear, "BTCUSDT");
    let file = "bybit/ws_linear_tickers_BTCUSDT.jsonl";
    let delta = text(|o| sim.bybit_ticker(false, o));
    assert_eq!(key_paths(&delta), key_paths(&fixture_line(file, 1)));
    // The snapshot carries a subset of the real one's many fields.
    let snapshot = key_paths(&text(|o| sim.bybit_ticker(true, o)));
    let captured = key_paths(&fixture_line(file, 0));
    for key in &snapshot {
        assert!(captured.contains(key), "{key} is not in the capture");
    }
    assert!(snapshot.contains(&"data.bid1Price".to_owned()));
}

#[test]
fn okx_books_and_trades_have_the_captured_keys() {
    let mut sim = market(Venue::Okx, "BTC-USDT");
    let newer = |keys: Vec<String>| -> Vec<String> {
        keys.into_iter()
            .filter(|k| k != "data[].prevSeqId" && k != "data[].seqId")
            .collect()
    };
    let file = "okx/ws_books_BTC-USDT.jsonl";
    let snapshot = key_paths(&text(|o| sim.okx_snapshot(o)));
    assert!(snapshot.ends_with(&["data[].prevSeqId".to_owned(), "data[].seqId".to_owned()]));
    assert_eq!(newer(snapshot), key_paths(&fixture_line(file, 0)));
    let update = key_paths(&text(|o| sim.okx_update(false, o)));
    assert_eq!(newer(update), key_paths(&fixture_line(file, 1)));
    let trade = text(|o| sim.okx_trade(o));
    assert_eq!(
        key_paths(&trade),
        key_paths(&fixture_line("okx/ws_trades_BTC-USDT.jsonl", 0))
    );
}

#[cfg(feature = "sim")]
mod acks {
    use super::{fixture_line, key_paths};
    use tickwire::sim::{SimConfig, SimVenue};
    use tickwire::types::Venue;
    use tungstenite::Message;

    /// The first text reply to `request` on a plain connection to `path`.
    fn reply(venue: Venue, symbol: &str, path: &str, request: &str) -> String {
        let sim = SimVenue::start(SimConfig::new(venue, &[symbol])).expect("simulator");
        let url = format!("{}{path}", sim.ws_url());
        let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .expect("timeout");
        }
        ws.send(Message::text(request)).expect("send");
        for _ in 0..1000 {
            if let Message::Text(t) = ws.read().expect("read") {
                return t.as_str().to_owned();
            }
        }
        panic!("no reply");
    }

    #[test]
    fn subscribe_acks_have_the_captured_keys() {
        for (venue, path, file) in [
            (
                Venue::BybitSpot,
                "/v5/public/spot",
                "bybit/ws_spot_subscribe_acks.jsonl",
            ),
            (
                Venue::BybitLinear,
                "/v5/public/linear",
                "bybit/ws_linear_subscribe_acks.jsonl",
            ),
        ] {
            let ack = reply(
                venue,
                "BTCUSDT",
                path,
                "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\"]}",
            );
            assert_eq!(
                key_paths(&ack),
                key_paths(&fixture_line(file, 0)),
                "{venue}: {ack}"
            );
        }
        let ack = reply(
            Venue::Okx,
            "BTC-USDT",
            "/ws/v5/public",
            "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}]}",
        );
        let mut keys = key_paths(&ack);
        assert_eq!(keys.pop().as_deref(), Some("connId"), "{ack}");
        assert_eq!(
            keys,
            key_paths(&fixture_line("okx/ws_subscribe_acks.jsonl", 0))
        );
    }
}
