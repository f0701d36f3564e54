//! Coinbase decoding on the real 2026 capture: every received frame
//! decodes, the same way on the fast path and the tape path, with exact
//! values checked by hand on a few; generated frames agree on both paths;
//! and a table of malformed frames, each refused with the right `What` and
//! `Location`.

use std::io::Read;

use proptest::prelude::*;
use serde_json::Value;
use tickwire::book::Level;
use tickwire::types::{Aggressor, NumError, Price, Qty, Registry, Venue};
use tickwire::venue::coinbase::{CoinbaseDecoder, CoinbaseMsg, L2Kind};
use tickwire::venue::{DecodeError, JsonType, Location, What};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Coinbase, "BTC-USD", "0.01", "0.00000001")
        .unwrap();
    reg.add(Venue::Coinbase, "ETH-USD", "0.01", "0.00000001")
        .unwrap();
    reg
}

fn fixture(name: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/coinbase/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn received_frames() -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/coinbase/raw/cryptofeed_v3_COINBASE.jsonl.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    zstd::Decoder::new(std::fs::File::open(path).unwrap())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["t"] == "recv").then(|| v["data"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn l(price: i64, qty: i64) -> Level {
    Level {
        price: Price(price),
        qty: Qty(qty),
    }
}

/// Both paths' answers for `frame`, as text (the messages borrow the decoders).
fn both(
    fast: &mut CoinbaseDecoder,
    tape: &mut CoinbaseDecoder,
    reg: &Registry,
    frame: &[u8],
) -> (String, String) {
    let symbols = reg.venue(Venue::Coinbase);
    let a = format!("{:?}", fast.decode(frame, &symbols));
    let b = format!("{:?}", tape.decode(frame, &symbols));
    (a, b)
}

#[test]
fn every_frame_of_the_connection_decodes_alike_on_both_paths() {
    let reg = registry();
    let mut fast = CoinbaseDecoder::default();
    let mut tape = CoinbaseDecoder::default();
    tape.set_fast_path(false);
    let frames = received_frames();
    assert_eq!(frames.len(), 1030);
    // l2 snapshots, l2 updates, trades, tickers, heartbeats, subscriptions, other
    let mut kinds = [0usize; 7];
    for (i, frame) in frames.iter().enumerate() {
        let (a, b) = both(&mut fast, &mut tape, &reg, frame.as_bytes());
        assert_eq!(a, b, "frame {i}");
        let symbols = reg.venue(Venue::Coinbase);
        let f = fast.decode(frame.as_bytes(), &symbols).unwrap();
        assert_eq!(f.seq, Some(i as u64), "frame {i}");
        let k = match f.msg {
            CoinbaseMsg::L2(m) if m.events[0].kind == L2Kind::Snapshot => 0,
            CoinbaseMsg::L2(_) => 1,
            CoinbaseMsg::Trades(_) => 2,
            CoinbaseMsg::Tickers(_) => 3,
            CoinbaseMsg::Heartbeat { .. } => 4,
            CoinbaseMsg::Subscriptions => 5,
            _ => 6,
        };
        kinds[k] += 1;
    }
    assert_eq!(kinds[0], 2, "{kinds:?}");
    assert_eq!(kinds[5], 5, "{kinds:?}");
    assert_eq!(kinds[4], 25, "{kinds:?}");
    assert_eq!(kinds[0] + kinds[1], 2 + 399 + 374, "{kinds:?}");
    assert!(kinds[2] > 0 && kinds[3] > 0 && kinds[6] > 0, "{kinds:?}");
    // Every l2_data frame took the fast path; the rest the tape.
    assert_eq!(fast.stats().fast, 2 * 775);
}

#[test]
fn the_eth_snapshot_and_updates_read_exact_values() {
    let reg = registry();
    let eth = reg.lookup(Venue::Coinbase, b"ETH-USD").unwrap().id;
    let mut dec = CoinbaseDecoder::default();
    let symbols = reg.venue(Venue::Coinbase);
    let frames = fixture("ws_advanced_trade_l2_data_ETH-USD_2026-08-09.jsonl");
    assert_eq!(frames.len(), 375);
    let f = dec.decode(frames[0].as_bytes(), &symbols).unwrap();
    assert_eq!(f.seq, Some(21));
    assert_eq!(f.ts_ns, 1_786_309_548_618_125_631);
    let CoinbaseMsg::L2(m) = f.msg else {
        panic!("{:?}", f.msg)
    };
    assert_eq!(m.events.len(), 1);
    let e = m.events[0];
    assert_eq!(e.kind, L2Kind::Snapshot);
    assert_eq!(e.scaling.unwrap().instrument, eth);
    let (bids, asks) = (m.bids_of(&e), m.asks_of(&e));
    assert_eq!((bids.len(), asks.len()), (6_935, 16_399));
    // "1919.44" / "0.02858092", "1919.43" / "0.05050291", ... "1919.38" / "1".
    assert_eq!(bids[0], l(191_944, 2_858_092));
    assert_eq!(bids[1], l(191_943, 5_050_291));
    assert_eq!(bids[3], l(191_941, 115_310_000));
    assert_eq!(bids[4], l(191_938, 100_000_000));
    let f = dec.decode(frames[1].as_bytes(), &symbols).unwrap();
    assert_eq!(f.seq, Some(22));
    let CoinbaseMsg::L2(m) = f.msg else {
        panic!("{:?}", f.msg)
    };
    assert_eq!(m.events[0].kind, L2Kind::Update);
    assert_eq!(
        m.bids,
        &[l(191_855, 131), l(191_795, 115_310_000), l(191_735, 0)]
    );
    assert!(m.asks.is_empty());
}

#[test]
fn trades_tickers_heartbeats_and_acks_read_exact_values() {
    let reg = registry();
    let btc = reg.lookup(Venue::Coinbase, b"BTC-USD").unwrap().id;
    let eth = reg.lookup(Venue::Coinbase, b"ETH-USD").unwrap().id;
    let mut dec = CoinbaseDecoder::default();
    let symbols = reg.venue(Venue::Coinbase);
    let frames = fixture("ws_advanced_trade_non_l2_frames_2026-08-09.jsonl");
    let find = |prefix: &str| {
        frames
            .iter()
            .find(|f| f.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
            .clone()
    };
    let f = find(r#"{"channel":"market_trades","timestamp":"2026-08-09T21:05:49.25328358Z""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    assert_eq!(got.seq, Some(50));
    let CoinbaseMsg::Trades(t) = got.msg else {
        panic!("{:?}", got.msg)
    };
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].scaling.instrument, btc);
    assert_eq!(t[0].trade_id, 1_068_572_092);
    assert_eq!((t[0].price, t[0].qty), (Price(6_508_366), Qty(171_442)));
    assert_eq!(t[0].aggressor, Aggressor::Buy);
    assert_eq!(t[0].time_ns, 1_786_309_549_205_817_000);
    assert!(t[0].live);
    // The trades sent on subscribing are not live.
    let f = find(r#"{"channel":"market_trades","timestamp":"2026-08-09T21:05:48.228568804Z""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    let CoinbaseMsg::Trades(t) = got.msg else {
        panic!("{:?}", got.msg)
    };
    assert!(!t.is_empty() && t.iter().all(|t| !t.live));
    assert_eq!(t[0].aggressor, Aggressor::Sell);
    let f = find(r#"{"channel":"ticker","timestamp":"2026-08-09T21:05:48.229217756Z""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    assert_eq!(got.seq, Some(7));
    let CoinbaseMsg::Tickers(t) = got.msg else {
        panic!("{:?}", got.msg)
    };
    assert_eq!(t[0].scaling.instrument, eth);
    assert_eq!(t[0].bid, l(191_942, 151_267_300));
    assert_eq!(t[0].ask, l(191_949, 7_814_824));
    let f = find(r#"{"channel":"heartbeats","timestamp":"2026-08-09T21:05:48.856364007Z""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    assert_eq!(got.seq, Some(35));
    assert_eq!(got.msg, CoinbaseMsg::Heartbeat { counter: 41_691 });
    let f = find(r#"{"channel":"subscriptions""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    assert_eq!(got.msg, CoinbaseMsg::Subscriptions);
    let f = find(r#"{"channel":"candles""#);
    let got = dec.decode(f.as_bytes(), &symbols).unwrap();
    assert_eq!(got.msg, CoinbaseMsg::Unhandled { channel: "candles" });
}

#[test]
fn an_error_frame_is_a_venue_error_with_its_message() {
    let reg = registry();
    let mut dec = CoinbaseDecoder::default();
    let got = dec
        .decode(
            br#"{"type":"error","message":"failure to subscribe"}"#,
            &reg.venue(Venue::Coinbase),
        )
        .unwrap();
    assert_eq!(got.seq, None);
    assert_eq!(
        got.msg,
        CoinbaseMsg::Error {
            message: "failure to subscribe"
        }
    );
}

fn e(what: What, at: Location) -> DecodeError {
    DecodeError {
        venue: Venue::Coinbase,
        what,
        at,
    }
}

fn f(key: &'static str) -> Location {
    Location::field(key)
}

fn u(index: u32, part: Option<u8>) -> Location {
    Location::Field {
        key: "updates",
        level: Some(index),
        part,
    }
}

const HEAD: &str =
    r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.6Z","sequence_num":7,"events":"#;

fn l2(updates: &str) -> String {
    format!(r#"{HEAD}[{{"type":"update","product_id":"BTC-USD","updates":[{updates}]}}]}}"#)
}

const OK: &str = r#"{"side":"bid","event_time":"2026-08-09T21:05:48.5Z","price_level":"65000.01","new_quantity":"1.5"}"#;

#[test]
fn malformed_frames_are_refused_with_what_and_where() {
    let reg = registry();
    let cases: Vec<(String, DecodeError)> = vec![
        (String::new(), e(What::Empty, Location::Root)),
        (l2(OK)[..60].to_owned(), e(What::InvalidJson, Location::Byte(0))),
        ("[1,2]".into(), e(What::UnknownMessage, Location::Root)),
        (r#"{"type":"subscribe"}"#.into(), e(What::UnknownMessage, Location::Root)),
        (
            r#"{"channel":"level3","timestamp":"2026-08-09T21:05:48Z","sequence_num":1,"events":[]}"#.into(),
            e(What::UnknownMessage, f("channel")),
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48Z","events":[]}"#.into(),
            e(What::Missing, f("sequence_num")),
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48Z","sequence_num":"1","events":[]}"#.into(),
            e(What::Expected(JsonType::UnsignedInteger), f("sequence_num")),
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48Z","sequence_num":-1,"events":[]}"#.into(),
            e(What::Expected(JsonType::UnsignedInteger), f("sequence_num")),
        ),
        (
            r#"{"channel":"l2_data","timestamp":"yesterday","sequence_num":1,"events":[]}"#.into(),
            e(What::UnknownMessage, f("timestamp")),
        ),
        (
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48Z","sequence_num":1,"events":{}}"#.into(),
            e(What::Expected(JsonType::Array), f("events")),
        ),
        (
            format!(r#"{HEAD}[{{"type":"partial","product_id":"BTC-USD","updates":[]}}]}}"#),
            e(What::UnknownMessage, f("type")),
        ),
        (
            format!(r#"{HEAD}[{{"type":"update","updates":[]}}]}}"#),
            e(What::Missing, f("product_id")),
        ),
        (l2(&OK.replace(r#""side":"bid""#, r#""side":"buy""#)), e(What::UnknownMessage, u(0, None))),
        (l2(&OK.replace(r#","new_quantity":"1.5""#, "")), e(What::Missing, f("new_quantity"))),
        (
            l2(&OK.replace(r#""65000.01""#, "65000.01")),
            e(What::Expected(JsonType::String), f("price_level")),
        ),
        (
            l2(&format!("{OK},{}", OK.replace("65000.01", "65000.001"))),
            e(What::Number(NumError::TooManyDecimals { scale: 2 }), u(1, Some(0))),
        ),
        (l2(&OK.replace("65000.01", "-1")), e(What::Number(NumError::SignNotAllowed), u(0, Some(0)))),
        (l2(&OK.replace("65000.01", "0")), e(What::NotPositive, u(0, Some(0)))),
        (l2(&OK.replace("1.5", "1e3")), e(What::Number(NumError::InvalidChar { at: 1, byte: b'e' }), u(0, Some(1)))),
        (
            l2(&OK.replace("2026-08-09T21:05:48.5Z", "2026-02-30T21:05:48Z")),
            e(What::UnknownMessage, f("event_time")),
        ),
        (l2("[1]"), e(What::Expected(JsonType::Object), u(0, None))),
    ];
    for (frame, want) in &cases {
        for fast_path in [true, false] {
            let mut dec = CoinbaseDecoder::default();
            dec.set_fast_path(fast_path);
            let got = dec.decode(frame.as_bytes(), &reg.venue(Venue::Coinbase));
            assert_eq!(got.err(), Some(*want), "{frame} (fast path {fast_path})");
        }
    }
    // Not UTF-8: refused where the bad byte is.
    let mut bad = l2(OK).into_bytes();
    let at = bad.windows(5).position(|w| w == b"65000").unwrap();
    bad[at] = 0xFF;
    let mut dec = CoinbaseDecoder::default();
    let got = dec.decode(&bad, &reg.venue(Venue::Coinbase));
    assert_eq!(got.err(), Some(e(What::NotUtf8, Location::Byte(at as u32))));
    // Larger than the decoder's limit: refused before any work.
    let mut small = CoinbaseDecoder::new(64 << 10);
    let big = l2(&vec![OK; 1_000].join(","));
    assert_eq!(
        small
            .decode(big.as_bytes(), &reg.venue(Venue::Coinbase))
            .err(),
        Some(e(What::TooLarge { max: 64 << 10 }, Location::Root))
    );
}

#[test]
fn an_unsubscribed_product_keeps_its_event_without_levels() {
    let mut reg = Registry::new();
    reg.add(Venue::Coinbase, "ETH-USD", "0.01", "0.00000001")
        .unwrap();
    let mut dec = CoinbaseDecoder::default();
    let frame = format!(
        r#"{HEAD}[{{"type":"update","product_id":"BTC-USD","updates":[{OK}]}},{{"type":"update","product_id":"ETH-USD","updates":[{}]}}]}}"#,
        OK.replace("65000.01", "1900.5")
    );
    let got = dec
        .decode(frame.as_bytes(), &reg.venue(Venue::Coinbase))
        .unwrap();
    let CoinbaseMsg::L2(m) = got.msg else {
        panic!("{:?}", got.msg)
    };
    assert_eq!(m.events.len(), 2);
    assert_eq!(m.events[0].scaling, None);
    assert!(m.bids_of(&m.events[0]).is_empty());
    assert_eq!(m.bids_of(&m.events[1]), &[l(190_050, 150_000_000)]);
}

/// A generated event: snapshot or update, ETH-USD or BTC-USD, and its
/// levels as (bid, price in cents, quantity digits, decimals).
type GenEvent = (bool, bool, Vec<(bool, u32, u32, u8)>);

/// An `l2_data` frame of generated events, in Coinbase's key order or not.
fn generated(events: &[GenEvent], client_id: bool, reorder: bool) -> String {
    let mut s = String::from(r#"{"channel":"l2_data","#);
    if client_id {
        s.push_str(r#""client_id":"","#);
    }
    s.push_str(r#""timestamp":"2026-08-09T21:05:48.618125631Z","sequence_num":42,"events":["#);
    for (i, (snapshot, eth, levels)) in events.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let kind = if *snapshot { "snapshot" } else { "update" };
        let product = if *eth { "ETH-USD" } else { "BTC-USD" };
        s.push_str(&format!(
            r#"{{"type":"{kind}","product_id":"{product}","updates":["#
        ));
        for (j, (bid, px, qty, dp)) in levels.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let side = if *bid { "bid" } else { "offer" };
            let price = format!("{}.{:02}", px / 100, px % 100);
            let q = match dp {
                0 => format!("{}", qty % 1000),
                d => format!(
                    "{}.{:0width$}",
                    qty / 1000,
                    qty % 10u32.pow(u32::from(*d)),
                    width = usize::from(*d)
                ),
            };
            if reorder {
                s.push_str(&format!(
                    r#"{{"price_level":"{price}","new_quantity":"{q}","side":"{side}","event_time":"2026-08-09T21:05:48.35161Z"}}"#
                ));
            } else {
                s.push_str(&format!(
                    r#"{{"side":"{side}","event_time":"2026-08-09T21:05:48.35161Z","price_level":"{price}","new_quantity":"{q}"}}"#
                ));
            }
        }
        s.push_str("]}");
    }
    s.push_str("]}");
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_frames_decode_alike_on_both_paths(
        events in prop::collection::vec(
            (any::<bool>(), any::<bool>(), prop::collection::vec((any::<bool>(), 0u32..10_000_000, 0u32..100_000_000, 0u8..10), 0..20)),
            0..4,
        ),
        client_id in any::<bool>(),
        reorder in any::<bool>(),
    ) {
        let reg = registry();
        let mut fast = CoinbaseDecoder::new(1 << 20);
        let mut tape = CoinbaseDecoder::new(1 << 20);
        tape.set_fast_path(false);
        let frame = generated(&events, client_id, reorder);
        let (a, b) = both(&mut fast, &mut tape, &reg, frame.as_bytes());
        prop_assert_eq!(&a, &b, "{}", frame);
        // A frame in Coinbase's own order is the fast path's (unless a
        // value is one the tape path refuses: too many decimals, price 0).
        if !reorder && a.starts_with("Ok") {
            prop_assert_eq!(fast.stats().fast, 1, "{}", frame);
        }
    }
}
