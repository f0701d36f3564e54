//! The Kraken decoder: every frame kind; the malformed-input table
//! (truncated, wrong types, missing keys, non-UTF-8, huge, exponents,
//! unknown channel); and the template fast path against the reference walk
//! on every captured frame, on reordered / respaced variants and on
//! generated frames.

mod kraken_util;

use kraken_util::{BTC, MINA, frames};
use proptest::prelude::*;
use tickwire::book::Level;
use tickwire::types::{Aggressor, NumError, Price, Qty, Registry, Venue};
use tickwire::venue::kraken::{BookKind, KrakenDecoder, KrakenMsg};
use tickwire::venue::{DecodeError, JsonType, Location, What};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Kraken, "BTC/USD", "0.1", "0.00000001")
        .unwrap();
    reg.add(Venue::Kraken, "MINA/GBP", "0.0001", "0.00000001")
        .unwrap();
    reg
}

/// The message's content in plain values, to compare the two paths.
fn summary(m: &KrakenMsg<'_>) -> String {
    match m {
        KrakenMsg::Book(b) => {
            let entries: Vec<String> = b
                .entries()
                .map(|e| {
                    format!(
                        "{:?} {:?} {} {} {:?} {:?}",
                        e.scaling.instrument, e.kind, e.checksum, e.exch_ns, e.bids, e.asks
                    )
                })
                .collect();
            format!("book {entries:?}")
        }
        other => format!("{other:?}"),
    }
}

fn both(
    frame: &[u8],
    reg: &Registry,
) -> (
    Result<String, DecodeError>,
    Result<String, DecodeError>,
    bool,
) {
    let symbols = reg.venue(Venue::Kraken);
    let mut fast = KrakenDecoder::new();
    let mut tape = KrakenDecoder::new();
    tape.set_fast_path(false);
    let a = fast.decode(frame, &symbols).map(|m| summary(&m));
    let hit = fast.stats().fast == 1;
    let b = tape.decode(frame, &symbols).map(|m| summary(&m));
    (a, b, hit)
}

#[test]
fn every_captured_frame_decodes_the_same_both_ways_and_books_take_the_fast_path() {
    let reg = registry();
    let mut fast_hits = 0;
    let mut books = 0;
    for file in [BTC, MINA] {
        for f in frames(file) {
            let (a, b, hit) = both(f.as_bytes(), &reg);
            assert!(b.is_ok(), "{f}: {b:?}");
            assert_eq!(a, b, "{f}");
            if f.starts_with(r#"{"channel":"book""#) {
                books += 1;
                assert!(hit, "book frame missed the fast path: {f}");
            }
            fast_hits += usize::from(hit);
        }
    }
    assert_eq!(books, 84);
    assert!(fast_hits >= 84);
}

#[test]
fn reordered_and_spaced_frames_read_the_same() {
    let reg = registry();
    let canonical = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":62802.5,"qty":0.02987767}],"asks":[],"checksum":222201382,"timestamp":"2026-08-16T23:37:05.723653Z"}]}"#;
    let reordered = r#"{ "data" : [ { "timestamp":"2026-08-16T23:37:05.723653Z", "checksum" : 222201382, "asks" : [ ], "bids" : [ { "qty" : 0.02987767 , "price" : 62802.5 } ], "symbol":"BTC/USD" } ] , "type":"update", "channel":"book" }"#;
    let (a, _, hit) = both(canonical.as_bytes(), &reg);
    assert!(hit);
    let (b, c, hit2) = both(reordered.as_bytes(), &reg);
    assert!(!hit2);
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert!(
        a.unwrap()
            .contains("price: Price(628025), qty: Qty(2987767)")
    );
}

#[test]
fn every_kind_of_frame() {
    let reg = registry();
    let symbols = reg.venue(Venue::Kraken);
    let mut d = KrakenDecoder::new();
    let btc = reg.lookup(Venue::Kraken, b"BTC/USD").unwrap().id;
    let ticker = r#"{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":62802.5,"bid_qty":0.02987767,"ask":62802.6,"ask_qty":1.09074394,"last":62802.6,"volume":1234.56789012,"vwap":62000.123456,"low":61000.0,"high":63000.0,"change":100.5,"change_pct":0.16}]}"#;
    match d.decode(ticker.as_bytes(), &symbols).unwrap() {
        KrakenMsg::Bbo([q]) => {
            assert_eq!(q.scaling.instrument, btc);
            assert_eq!(
                q.bid,
                Level {
                    price: Price(628_025),
                    qty: Qty(2_987_767)
                }
            );
            assert_eq!(
                q.ask,
                Level {
                    price: Price(628_026),
                    qty: Qty(109_074_394)
                }
            );
        }
        other => panic!("{other:?}"),
    }
    let trade = r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":62802.5,"qty":0.00510000,"ord_type":"market","trade_id":83412345,"timestamp":"2026-08-16T23:37:05.723653Z"},{"symbol":"BTC/USD","side":"buy","price":62802.6,"qty":0.1,"ord_type":"limit","trade_id":83412346,"timestamp":"2026-08-16T23:37:05.723653Z"}]}"#;
    match d.decode(trade.as_bytes(), &symbols).unwrap() {
        KrakenMsg::Trades([a, b]) => {
            assert_eq!(
                (a.trade_id, a.price, a.qty, a.aggressor),
                (83_412_345, Price(628_025), Qty(510_000), Aggressor::Sell)
            );
            assert_eq!((b.trade_id, b.aggressor), (83_412_346, Aggressor::Buy));
            assert_eq!(a.exch_ns, 1_786_923_425_723_653_000);
        }
        other => panic!("{other:?}"),
    }
    let cases: [(&str, &str); 7] = [
        (r#"{"channel":"heartbeat"}"#, "Heartbeat"),
        (
            r#"{"method":"pong","req_id":42,"time_in":"2023-09-25T09:05:00.123456Z","time_out":"2023-09-25T09:05:00.123500Z"}"#,
            "Pong",
        ),
        (
            r#"{"channel":"status","type":"update","data":[{"version":"2.0.10","system":"online","api_version":"v2","connection_id":18446744073709551615}]}"#,
            "Status { connection_id: 18446744073709551615, online: true }",
        ),
        (
            r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"x","time_out":"y"}"#,
            r#"Ack { unsubscribe: false, channel: "book" }"#,
        ),
        (
            r#"{"error":"Subscription depth not supported","method":"subscribe","success":false,"symbol":"BTC/USD"}"#,
            r#"Refused { error: "Subscription depth not supported", symbol: Some("BTC/USD") }"#,
        ),
        (
            r#"{"channel":"ohlc","type":"update","data":[]}"#,
            "Unhandled",
        ),
        (
            r#"{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","bids":[{"price":1e5,"qty":1}],"asks":[],"checksum":1,"timestamp":"2026-08-16T23:37:05Z"}]}"#,
            "UnknownSymbol",
        ),
    ];
    for (frame, want) in cases {
        let got = d
            .decode(frame.as_bytes(), &symbols)
            .map(|m| format!("{m:?}"));
        assert_eq!(got.as_deref(), Ok(want), "{frame}");
    }
    let snap = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"MINA/GBP","bids":[{"price":0.0286,"qty":74198.19125726}],"asks":[{"price":0.0288,"qty":32416.38964164}],"checksum":1,"timestamp":"2026-08-16T23:37:04.190019Z"}]}"#;
    match d.decode(snap.as_bytes(), &symbols).unwrap() {
        KrakenMsg::Book(b) => {
            assert_eq!(b.kind, BookKind::Snapshot);
            let e = b.entries().next().unwrap();
            assert_eq!(
                e.bids,
                [Level {
                    price: Price(286),
                    qty: Qty(7_419_819_125_726)
                }]
            );
            assert_eq!(e.exch_ns, 1_786_923_424_190_019_000);
        }
        other => panic!("{other:?}"),
    }
}

fn field(key: &'static str) -> Location {
    Location::field(key)
}

fn lvl(key: &'static str, level: u32, part: u8) -> Location {
    Location::Field {
        key,
        level: Some(level),
        part: Some(part),
    }
}

#[test]
fn the_malformed_input_table() {
    let reg = registry();
    let book = |bids: &str, rest: &str| {
        format!(
            r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":{bids},"asks":[]{rest}}}]}}"#
        )
    };
    let ok_rest = r#","checksum":1,"timestamp":"2026-08-16T23:37:05Z""#;
    let huge = format!(
        r#"{{"channel":"heartbeat","pad":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let table: Vec<(String, What, Location)> = vec![
        (String::new(), What::Empty, Location::Root),
        (huge, What::TooLarge { max: 1 << 20 }, Location::Root),
        (r#"{"channel":"book","type":"upd"#.into(), What::InvalidJson, Location::Byte(29)),
        (r#"{"channel":"heartbeat"} x"#.into(), What::InvalidJson, Location::Byte(24)),
        ("[1,2]".into(), What::Expected(JsonType::Object), Location::Root),
        (r#"{"type":"update"}"#.into(), What::Missing, field("channel")),
        (r#"{"channel":7}"#.into(), What::Expected(JsonType::String), field("channel")),
        (r#"{"channel":"book","data":[]}"#.into(), What::Missing, field("type")),
        (r#"{"channel":"book","type":"delta","data":[]}"#.into(), What::UnknownMessage, field("type")),
        (r#"{"channel":"book","type":"update"}"#.into(), What::Missing, field("data")),
        (r#"{"channel":"book","type":"update","data":{}}"#.into(), What::Expected(JsonType::Array), field("data")),
        (book(r#"[{"price":62802.5,"qty":1}]"#, r#","timestamp":"2026-08-16T23:37:05Z""#), What::Missing, field("checksum")),
        (book(r#"[{"price":62802.5}]"#, ok_rest), What::Missing, field("qty")),
        (book(r#"[{"price":"62802.5","qty":1}]"#, ok_rest), What::Expected(JsonType::UnsignedInteger), field("price")),
        (book(r#"[[62802.5,1]]"#, ok_rest), What::Expected(JsonType::Object), field("bids")),
        (book(r#"[{"price":62802.55,"qty":1}]"#, ok_rest), What::Number(NumError::TooManyDecimals { scale: 1 }), lvl("bids", 0, 0)),
        (book(r#"[{"price":1,"qty":1},{"price":6.28e4,"qty":1}]"#, ok_rest), What::Number(NumError::InvalidChar { at: 4, byte: b'e' }), lvl("bids", 1, 0)),
        (book(r#"[{"price":-5.0,"qty":1}]"#, ok_rest), What::Number(NumError::SignNotAllowed), lvl("bids", 0, 0)),
        (book(r#"[{"price":0.0,"qty":1}]"#, ok_rest), What::NotPositive, lvl("bids", 0, 0)),
        (book(r#"[{"price":5.0,"qty":-1}]"#, ok_rest), What::Number(NumError::SignNotAllowed), lvl("bids", 0, 1)),
        (book("[]", r#","checksum":4294967296,"timestamp":"2026-08-16T23:37:05Z""#), What::Expected(JsonType::UnsignedInteger), field("checksum")),
        (book("[]", r#","checksum":1.5,"timestamp":"x""#), What::Expected(JsonType::UnsignedInteger), field("checksum")),
        (book("[]", r#","checksum":1,"timestamp":"yesterday""#), What::Number(NumError::Empty), field("timestamp")),
        (r#"{"channel":"status","data":[{"system":"online","connection_id":-1}]}"#.into(), What::Expected(JsonType::UnsignedInteger), field("connection_id")),
        (r#"{"channel":"status","data":[{"system":"online","connection_id":99999999999999999999}]}"#.into(), What::IdOutOfRange, field("connection_id")),
        (r#"{"channel":"status","data":[{"system":"online"}]}"#.into(), What::Missing, field("connection_id")),
        (r#"{"method":"subscribe","result":{}}"#.into(), What::Missing, field("success")),
        (r#"{"method":"subscribe","success":"yes"}"#.into(), What::Expected(JsonType::Bool), field("success")),
        (r#"{"channel":"trade","data":[{"symbol":"BTC/USD","side":"hold","price":1,"qty":1,"trade_id":1}]}"#.into(), What::UnknownMessage, field("side")),
        (r#"{"channel":"trade","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":0,"trade_id":1}]}"#.into(), What::NotPositive, field("qty")),
        (r#"{"channel":"ticker","data":[{"symbol":"BTC/USD","bid":1,"ask":2,"ask_qty":1}]}"#.into(), What::Missing, field("bid_qty")),
        (format!("{}{}", "[".repeat(64), "]".repeat(64)), What::InvalidJson, Location::Byte(33)),
    ];
    let symbols = reg.venue(Venue::Kraken);
    let not_utf8 = b"{\"channel\":\"\xff\"}";
    let e = KrakenDecoder::new().decode(not_utf8, &symbols).unwrap_err();
    assert_eq!((e.what, e.at), (What::NotUtf8, Location::Byte(12)));
    for (frame, what, at) in &table {
        for fast in [true, false] {
            let mut d = KrakenDecoder::new();
            d.set_fast_path(fast);
            let got = d
                .decode(frame.as_bytes(), &symbols)
                .map(|m| format!("{m:?}"));
            let want = DecodeError {
                venue: Venue::Kraken,
                what: *what,
                at: *at,
            };
            assert_eq!(got, Err(want), "{}", &frame[..frame.len().min(120)]);
        }
    }
}

#[test]
fn truncations_of_a_real_frame_are_errors_never_panics() {
    let reg = registry();
    let symbols = reg.venue(Venue::Kraken);
    let f = frames(BTC)
        .into_iter()
        .find(|f| f.contains("snapshot"))
        .unwrap();
    let mut d = KrakenDecoder::new();
    for n in 0..f.len() {
        assert!(
            d.decode(&f.as_bytes()[..n], &symbols).is_err(),
            "prefix {n}"
        );
    }
    assert!(d.decode(f.as_bytes(), &symbols).is_ok());
}

fn level_text(p: u32, q: u64) -> String {
    format!(
        r#"{{"price":{}.{},"qty":{}.{:08}}}"#,
        p / 10,
        p % 10,
        q / 100_000_000,
        q % 100_000_000
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// Generated book frames (and byte-level damage to them): the fast
    /// path, when it answers, answers as the reference does.
    #[test]
    fn fast_path_equals_reference(
        bids in prop::collection::vec((1u32..2_000_000, 0u64..10_000_000_000), 0..30),
        asks in prop::collection::vec((1u32..2_000_000, 0u64..10_000_000_000), 0..30),
        sum in any::<u32>(),
        snapshot in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let reg = registry();
        let side = |l: &[(u32, u64)]| l.iter().map(|&(p, q)| level_text(p, q)).collect::<Vec<_>>().join(",");
        let frame = format!(
            r#"{{"channel":"book","type":"{}","data":[{{"symbol":"BTC/USD","bids":[{}],"asks":[{}],"checksum":{sum},"timestamp":"2026-08-16T23:37:05.723653Z"}}]}}"#,
            if snapshot { "snapshot" } else { "update" }, side(&bids), side(&asks)
        );
        let (a, b, hit) = both(frame.as_bytes(), &reg);
        prop_assert!(hit);
        prop_assert_eq!(&a, &b);
        let mut damaged = frame.into_bytes();
        let i = cut.index(damaged.len());
        damaged[i] = byte;
        let (a, b, _) = both(&damaged, &reg);
        prop_assert_eq!(a, b);
    }
}
