//! Bybit decoding: every captured frame decodes, the same through the fast
//! path and the tape path, with values checked by hand on a few; generated
//! book frames (number spellings, key orders) decode to what was written,
//! the same both ways; generated trade, ticker and `orderbook.1` frames
//! (member orders, bad values, dressing) the same both ways.

mod bybit;

use bybit::{RECEIVED, lines, registry};
use proptest::prelude::*;
use tickwire::book::Level;
use tickwire::types::{Aggressor, InstrumentId, Price, Qty, Registry, Venue};
use tickwire::venue::bybit::{BybitDecoder, BybitMsg, Kind, TickerField};

fn level(price: i64, qty: i64) -> Level {
    Level {
        price: Price(price),
        qty: Qty(qty),
    }
}

/// Decodes `frame` with and without the fast path, requires the same
/// answer, and returns it (as a debug string, the decoders being borrowed)
/// and whether the fast path took it.
fn both_ways(venue: Venue, reg: &Registry, frame: &[u8]) -> (String, bool) {
    let mut fast = BybitDecoder::new(venue);
    let mut tape = BybitDecoder::new(venue);
    tape.set_fast_path(false);
    let symbols = reg.venue(venue);
    let a = fast.decode(frame, &symbols).map(|m| format!("{m:?}"));
    let b = tape.decode(frame, &symbols).map(|m| format!("{m:?}"));
    assert_eq!(a, b, "{}", String::from_utf8_lossy(frame));
    (
        a.unwrap_or_else(|e| format!("Err({e:?})")),
        fast.stats().fast == 1,
    )
}

#[derive(Default, Debug, PartialEq, Eq)]
struct Counts {
    snapshots: usize,
    deltas: usize,
    fast: usize,
    tickers: usize,
    trades: usize,
    trade_frames: usize,
    acks: usize,
    unhandled: usize,
}

fn count(name: &str, venue: Venue, reg: &Registry) -> Counts {
    let mut c = Counts::default();
    let mut fast = BybitDecoder::new(venue);
    let mut tape = BybitDecoder::new(venue);
    tape.set_fast_path(false);
    let symbols = reg.venue(venue);
    // Which frames take the fast path (a third decoder: the others' answers
    // borrow them).
    let mut probe = BybitDecoder::new(venue);
    for line in lines(name) {
        let before = probe.stats().fast;
        let market = matches!(
            probe.decode(line.as_bytes(), &symbols),
            Ok(BybitMsg::Book(_) | BybitMsg::Ticker(_) | BybitMsg::Trades(_))
        );
        // Every book, trade and ticker frame takes the fast path; nothing else.
        assert_eq!(probe.stats().fast > before, market, "{name}: {line}");
        let a = fast.decode(line.as_bytes(), &symbols);
        let b = tape.decode(line.as_bytes(), &symbols);
        assert_eq!(a, b, "{name}: {line}");
        match a {
            Ok(BybitMsg::Book(m)) if m.kind == Kind::Snapshot => c.snapshots += 1,
            Ok(BybitMsg::Book(_)) => c.deltas += 1,
            Ok(BybitMsg::Ticker(_)) => c.tickers += 1,
            Ok(BybitMsg::Trades(t)) => {
                c.trades += t.trades.len();
                c.trade_frames += 1;
            }
            Ok(BybitMsg::SubscribeResult { req_id: None }) => c.acks += 1,
            Ok(BybitMsg::Unhandled { .. }) => c.unhandled += 1,
            other => panic!("{name}: {other:?} from {line}"),
        }
    }
    c.fast = fast.stats().fast as usize;
    c
}

#[test]
fn every_captured_frame_decodes_the_same_both_ways() {
    let reg = registry();
    for (name, venue) in RECEIVED {
        let c = count(name, venue, &reg);
        // The fast path takes every book, ticker and trade frame.
        assert_eq!(
            c.fast,
            c.snapshots + c.deltas + c.tickers + c.trade_frames,
            "{name}"
        );
        assert!(c != Counts::default(), "{name}");
    }
    let linear = count(
        "ws_linear_all_frames_2026-08-09.jsonl",
        Venue::BybitLinear,
        &reg,
    );
    assert_eq!(
        linear,
        Counts {
            snapshots: 4,
            deltas: 1594,
            fast: 1598 + 758 + 102,
            tickers: 758,
            trades: 327,
            trade_frames: 102,
            acks: 17,
            unhandled: 71,
        }
    );
    let spot = count(
        "ws_spot_all_frames_2026-08-09.jsonl",
        Venue::BybitSpot,
        &reg,
    );
    // Spot tickers (no bid/ask) and klines are recognised, not consumed.
    assert_eq!(
        spot,
        Counts {
            snapshots: 2,
            deltas: 548,
            fast: 550 + 18,
            tickers: 0,
            trades: 20,
            trade_frames: 18,
            acks: 7,
            unhandled: 106,
        }
    );
    let history = count(
        "linear_orderbook500_XRPUSDT_2024-12-01_bybit_history.jsonl",
        Venue::BybitLinear,
        &reg,
    );
    assert_eq!((history.snapshots, history.deltas), (1, 49));
}

#[test]
fn linear_snapshot_by_hand() {
    let reg = registry();
    let frame = lines("ws_linear_orderbook_200_BTCUSDT.jsonl").remove(0);
    let mut d = BybitDecoder::new(Venue::BybitLinear);
    let Ok(BybitMsg::Book(m)) = d.decode(frame.as_bytes(), &reg.venue(Venue::BybitLinear)) else {
        panic!("not a book");
    };
    assert_eq!(m.scaling.instrument, InstrumentId(0));
    assert_eq!((m.depth, m.kind), (200, Kind::Snapshot));
    assert_eq!(m.update_id, 15_076_952);
    assert_eq!(m.seq, Some(753_843_911_359));
    assert_eq!(
        (m.ts_ms, m.cts_ms),
        (1_786_310_818_129, Some(1_786_310_818_027))
    );
    assert_eq!(m.exch_ns(), 1_786_310_818_027_000_000);
    assert!(m.replaces_book());
    assert_eq!((m.bids.len(), m.asks.len()), (200, 200));
    // Price scale 1 (tick 0.10), quantity scale 3.
    assert_eq!(&m.bids[..2], &[level(651_142, 6_054), level(651_141, 2)]);
    assert_eq!(&m.asks[..2], &[level(651_143, 10_486), level(651_154, 2)]);
    assert_eq!(m.bids[199], level(650_860, 1));
    assert_eq!(d.stats().fast, 1);
}

#[test]
fn spot_delta_by_hand() {
    // Spot's key order (`ts` before `type`), integer-only and short decimals.
    let frame = br#"{"topic":"orderbook.200.BTCUSDT","ts":1786310816618,"type":"delta","data":{"s":"BTCUSDT","b":[["65140.4","0.875077"]],"a":[["65154.6","0.09948"],["65154.7","0.123013"],["65239","0.155135"],["65239.1","0"]],"u":62505425,"seq":112488545865},"cts":1786310816585}"#;
    let reg = registry();
    let mut d = BybitDecoder::new(Venue::BybitSpot);
    let Ok(BybitMsg::Book(m)) = d.decode(frame, &reg.venue(Venue::BybitSpot)) else {
        panic!("not a book");
    };
    assert_eq!(m.scaling.instrument, InstrumentId(5));
    assert_eq!(
        (m.kind, m.update_id, m.seq),
        (Kind::Delta, 62_505_425, Some(112_488_545_865))
    );
    assert!(!m.replaces_book());
    assert_eq!(m.bids, &[level(651_404, 875_077)]);
    assert_eq!(
        m.asks,
        &[
            level(651_546, 99_480),
            level(651_547, 123_013),
            level(652_390, 155_135),
            level(652_391, 0)
        ]
    );
    assert_eq!(d.stats().fast, 1);
}

#[test]
fn history_dump_by_hand() {
    let reg = registry();
    let frames = lines("linear_orderbook500_XRPUSDT_2024-12-01_bybit_history.jsonl");
    let mut d = BybitDecoder::new(Venue::BybitLinear);
    let symbols = reg.venue(Venue::BybitLinear);
    let Ok(BybitMsg::Book(m)) = d.decode(frames[0].as_bytes(), &symbols) else {
        panic!("not a book");
    };
    assert_eq!(
        (m.depth, m.kind, m.update_id),
        (500, Kind::Snapshot, 20_254_869)
    );
    assert_eq!((m.bids.len(), m.asks.len()), (500, 500));
    assert_eq!(
        (m.bids[0], m.asks[0]),
        (level(19_531, 6_203), level(19_532, 10_480))
    );
    let Ok(BybitMsg::Book(m)) = d.decode(frames[1].as_bytes(), &symbols) else {
        panic!("not a book");
    };
    assert_eq!((m.kind, m.update_id), (Kind::Delta, 20_254_870));
    assert_eq!(
        (m.bids.len(), m.asks.len(), m.bids[0]),
        (13, 22, level(19_531, 6_198))
    );
}

#[test]
fn trades_by_hand() {
    let reg = registry();
    let spot = br#"{"topic":"publicTrade.BTCUSDT","ts":1786310822606,"type":"snapshot","data":[{"i":"2290000001189048101","T":1786310822605,"p":"65140.5","v":"0.002705","S":"Buy","seq":112488547164,"s":"BTCUSDT","BT":false,"RPI":false}]}"#;
    let mut d = BybitDecoder::new(Venue::BybitSpot);
    let Ok(BybitMsg::Trades(t)) = d.decode(spot, &reg.venue(Venue::BybitSpot)) else {
        panic!("not trades");
    };
    assert_eq!(t.ts_ms, 1_786_310_822_606);
    assert_eq!(t.trades.len(), 1);
    let x = t.trades[0];
    assert_eq!(x.id, 2_290_000_001_189_048_101);
    assert_eq!((x.price, x.qty), (Price(651_405), Qty(2_705)));
    assert_eq!(
        (x.aggressor, x.trade_ms, x.seq),
        (Aggressor::Buy, 1_786_310_822_605, Some(112_488_547_164))
    );

    // Linear: a UUID per trade, folded to 63 bits; five trades share one seq.
    let frame = lines("ws_linear_publicTrade_ETHUSDT.jsonl")
        .into_iter()
        .find(|l| l.contains("19d7df56-4f10-5290-a969-d9d9f2c74cc3"))
        .expect("frame");
    let mut d = BybitDecoder::new(Venue::BybitLinear);
    let Ok(BybitMsg::Trades(t)) = d.decode(frame.as_bytes(), &reg.venue(Venue::BybitLinear)) else {
        panic!("not trades");
    };
    assert!(t.trades.len() >= 5);
    let want = (0x19d7_df56_4f10_5290_u64 ^ 0xa969_d9d9_f2c7_4cc3) & (i64::MAX as u64);
    assert_eq!(t.trades[0].id, want);
    assert_eq!(
        (t.trades[0].price, t.trades[0].qty),
        (Price(192_250), Qty(1))
    );
    assert_eq!(
        (t.trades[1].qty, t.trades[1].aggressor),
        (Qty(130), Aggressor::Buy)
    );
    assert!(t.trades.iter().all(|x| x.seq == Some(430_879_434_439)));
    let mut ids: Vec<u64> = t.trades.iter().map(|x| x.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), t.trades.len());
}

#[test]
fn tickers_acks_pongs_and_top_of_book_by_hand() {
    let reg = registry();
    let linear = reg.venue(Venue::BybitLinear);
    let mut d = BybitDecoder::new(Venue::BybitLinear);
    let delta = lines("ws_linear_tickers_BTCUSDT.jsonl").remove(3);
    let Ok(BybitMsg::Ticker(t)) = d.decode(delta.as_bytes(), &linear) else {
        panic!("not a ticker");
    };
    assert_eq!(
        (t.kind, t.cs, t.ts_ms),
        (Kind::Delta, Some(753_843_922_769), 1_786_310_818_484)
    );
    assert_eq!(
        (t.bid_price, t.bid_qty),
        (
            TickerField::Value(Price(651_142)),
            TickerField::Value(Qty(6_124))
        )
    );
    assert_eq!(
        (t.ask_price, t.ask_qty),
        (TickerField::Absent, TickerField::Absent)
    );
    let empty = br#"{"topic":"tickers.ETHUSDT","type":"snapshot","data":{"symbol":"ETHUSDT","bid1Price":"","bid1Size":"","ask1Price":"1922.51","ask1Size":"3.00"},"cs":1,"ts":2}"#;
    let Ok(BybitMsg::Ticker(t)) = d.decode(empty, &linear) else {
        panic!("not a ticker");
    };
    assert_eq!(
        (t.bid_price, t.ask_price, t.ask_qty),
        (
            TickerField::Empty,
            TickerField::Value(Price(192_251)),
            TickerField::Value(Qty(300))
        )
    );

    let top = br#"{"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":10,"data":{"s":"BTCUSDT","b":[["65114.20","6.054"]],"a":[],"u":7,"seq":8},"cts":9}"#;
    let Ok(BybitMsg::TopOfBook(t)) = d.decode(top, &linear) else {
        panic!("not a top of book");
    };
    assert_eq!(
        (t.update_id, t.seq, t.ts_ms, t.cts_ms),
        (7, Some(8), 10, Some(9))
    );
    assert_eq!((t.bid, t.ask), (Some(level(651_142, 6_054)), None));

    let cases: [(&[u8], BybitMsg<'_>); 6] = [
        (br#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"","op":"subscribe"}"#, BybitMsg::SubscribeResult { req_id: None }),
        (br#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"42","op":"unsubscribe"}"#, BybitMsg::SubscribeResult { req_id: Some(42) }),
        (br#"{"success":false,"ret_msg":"Invalid topic: invalid.topic.BTCUSDT","conn_id":"x","op":"subscribe"}"#, BybitMsg::Refused { req_id: None, msg: "Invalid topic: invalid.topic.BTCUSDT" }),
        (br#"{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}"#, BybitMsg::Pong),
        (br#"{"req_id":"3","op":"pong","args":["1661236017767"],"conn_id":"x"}"#, BybitMsg::Pong),
        (br#"{"topic":"orderbook.200.PEPEUSDT","type":"delta","ts":1,"data":{"s":"PEPEUSDT","b":[],"a":[],"u":2,"seq":3},"cts":1}"#, BybitMsg::UnknownSymbol { symbol: "PEPEUSDT" }),
    ];
    for (frame, want) in cases {
        assert_eq!(
            d.decode(frame, &linear),
            Ok(want),
            "{}",
            String::from_utf8_lossy(frame)
        );
        assert_eq!(
            both_ways(Venue::BybitLinear, &reg, frame).0,
            format!("{want:?}")
        );
    }
}

/// A number at `scale` decimals written one of several ways Bybit (or a
/// venue like it) might: exact, trailing zeros stripped, padded, or
/// integer-only when the fraction is zero.
fn spell(mantissa: u64, scale: u32, how: u8) -> String {
    let one = 10u64.pow(scale);
    let (int, frac) = (mantissa / one, mantissa % one);
    let exact = format!("{int}.{frac:0w$}", w = scale as usize);
    match how % 4 {
        0 => exact,
        1 if frac == 0 => int.to_string(),
        1 => exact.trim_end_matches('0').to_owned(),
        2 => format!("{exact}000"),
        _ => format!("{exact}0"),
    }
}

/// A book frame for linear BTCUSDT (price scale 1, quantity scale 3) with
/// its keys in the order `top` / `data` give (indices into the key lists).
fn book_frame(
    bids: &[(u64, u64, u8)],
    asks: &[(u64, u64, u8)],
    u: u64,
    top: &[usize],
    data: &[usize],
    snapshot: bool,
) -> String {
    let side = |l: &[(u64, u64, u8)]| {
        let v: Vec<String> = l
            .iter()
            .map(|&(p, q, how)| format!("[\"{}\",\"{}\"]", spell(p, 1, how), spell(q, 3, how / 4)))
            .collect();
        format!("[{}]", v.join(","))
    };
    let data_fields = [
        "\"s\":\"BTCUSDT\"".to_owned(),
        format!("\"b\":{}", side(bids)),
        format!("\"a\":{}", side(asks)),
        format!("\"u\":{u}"),
        "\"seq\":753843911359".to_owned(),
    ];
    let data: Vec<&str> = data.iter().map(|&i| data_fields[i].as_str()).collect();
    let kind = if snapshot { "snapshot" } else { "delta" };
    let top_fields = [
        "\"topic\":\"orderbook.200.BTCUSDT\"".to_owned(),
        format!("\"type\":\"{kind}\""),
        "\"ts\":1786310818129".to_owned(),
        format!("\"data\":{{{}}}", data.join(",")),
        "\"cts\":1786310818027".to_owned(),
    ];
    let top: Vec<&str> = top.iter().map(|&i| top_fields[i].as_str()).collect();
    format!("{{{}}}", top.join(","))
}

fn levels() -> impl Strategy<Value = Vec<(u64, u64, u8)>> {
    prop::collection::vec((1u64..10_000_000, 0u64..100_000_000, 0u8..16), 0..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any key order and number spelling: both paths give the levels written;
    /// the fast path takes the two templates.
    #[test]
    fn generated_book_frames_decode_to_what_was_written(
        bids in levels(),
        asks in levels(),
        u in 1u64..(1 << 62),
        top in Just(vec![0usize, 1, 2, 3, 4]).prop_shuffle(),
        data in Just(vec![0usize, 1, 2, 3, 4]).prop_shuffle(),
        template in 0u8..3,
        snapshot in any::<bool>(),
    ) {
        let (top, data) = match template {
            0 => (vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3, 4]),
            1 => (vec![0, 2, 1, 3, 4], vec![0, 1, 2, 3, 4]),
            _ => (top, data),
        };
        let frame = book_frame(&bids, &asks, u, &top, &data, snapshot);
        let (_, took) = both_ways(Venue::BybitLinear, &registry(), frame.as_bytes());
        if template < 2 {
            prop_assert!(took, "{}", frame);
        }
        let reg = registry();
        let mut d = BybitDecoder::new(Venue::BybitLinear);
        let msg = d.decode(frame.as_bytes(), &reg.venue(Venue::BybitLinear));
        let Ok(BybitMsg::Book(m)) = msg else {
            return Err(TestCaseError::fail(format!("{msg:?}")));
        };
        let want = |l: &[(u64, u64, u8)]| -> Vec<Level> {
            l.iter().map(|&(p, q, _)| level(p as i64, q as i64)).collect()
        };
        prop_assert_eq!(m.bids, &want(&bids)[..]);
        prop_assert_eq!(m.asks, &want(&asks)[..]);
        prop_assert_eq!(m.update_id, u);
        prop_assert_eq!(m.kind, if snapshot { Kind::Snapshot } else { Kind::Delta });
    }

    /// Captured frames cut short or with one byte changed: never a panic,
    /// and the same answer both ways.
    #[test]
    fn damaged_frames_decode_the_same_both_ways(
        which in 0usize..1000,
        cut in 0usize..4000,
        at in 0usize..4000,
        byte in any::<u8>(),
    ) {
        let all = lines(if which % 3 == 0 {
            "ws_linear_all_frames_2026-08-09.jsonl"
        } else {
            "ws_spot_all_frames_2026-08-09.jsonl"
        });
        let mut frame = all[which % all.len()].clone().into_bytes();
        let n = frame.len();
        frame[at % n] = byte;
        frame.truncate(1 + cut % n);
        let venue = if which % 2 == 0 { Venue::BybitSpot } else { Venue::BybitLinear };
        both_ways(venue, &registry(), &frame);
    }
}

/// A member value of a generated trade or ticker: mostly valid at
/// BTCUSDT's scales (price 1 decimal, size 3), sometimes not.
fn value(scale: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (1u64..10_000_000, 0u8..4).prop_map(move |(m, how)| spell(m, scale, how)),
        1 => Just("0".to_owned()),
        1 => Just("".to_owned()),
        1 => Just("-1.5".to_owned()),
        1 => Just("1e3".to_owned()),
        1 => Just("1.23456".to_owned()),
    ]
}

/// Members in a shuffled order, then dressed: 0 plain, 1 whitespace, 2 an
/// escape, 3 a member that is an object, 4 `dup` (a read member) repeated.
fn dress(mut m: Vec<String>, order: &[usize], dress: u8, dup: &str) -> String {
    for i in (1..m.len()).rev() {
        m.swap(i, order[i % order.len()] % (i + 1));
    }
    match dress {
        2 => m.push(r#""x":"\u0041""#.to_owned()),
        3 => m.push(r#""x":{}"#.to_owned()),
        4 => m.push(dup.to_owned()),
        _ => {}
    }
    m.join(if dress == 1 { ", " } else { "," })
}

fn trade_members() -> impl Strategy<Value = (Vec<String>, Vec<usize>)> {
    (
        value(1),
        value(3),
        prop_oneof![Just("Buy"), Just("Sell"), Just("buy")],
        prop_oneof![
            Just("2290000001189048101".to_owned()),
            Just("a9188a0a-82bc-50de-be60-03eedbe3cdd7".to_owned()),
            Just("x".to_owned()),
        ],
        proptest::option::of(0u64..(1 << 63)),
        proptest::collection::vec(any::<usize>(), 8),
    )
        .prop_map(|(p, v, side, i, seq, order)| {
            let mut m = vec![
                r#""T":1786310819680"#.to_owned(),
                format!(r#""p":"{p}""#),
                format!(r#""v":"{v}""#),
                format!(r#""S":"{side}""#),
                format!(r#""i":"{i}""#),
                r#""s":"BTCUSDT","BT":false,"RPI":true,"L":"PlusTick""#.to_owned(),
            ];
            m.extend(seq.map(|q| format!(r#""seq":{q}"#)));
            (m, order)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// `publicTrade` frames in both venues' envelope orders: the same both
    /// ways; a plain one that decodes takes the fast path.
    #[test]
    fn generated_trade_frames_decode_the_same_both_ways(
        trades in prop::collection::vec(trade_members(), 0..4),
        spot in any::<bool>(),
        how in prop_oneof![12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)],
    ) {
        let data: Vec<String> = trades.iter().map(|(m, o)| format!("{{{}}}", dress(m.clone(), o, how, r#""T":1"#))).collect();
        let head = if spot { r#""ts":1786310822606,"type":"snapshot""# } else { r#""type":"snapshot","ts":1786310822606"# };
        let frame = format!(r#"{{"topic":"publicTrade.BTCUSDT",{head},"data":[{}]}}"#, data.join(","));
        let venue = if spot { Venue::BybitSpot } else { Venue::BybitLinear };
        let (got, took) = both_ways(venue, &registry(), frame.as_bytes());
        if how == 0 || trades.is_empty() {
            prop_assert_eq!(took, !got.starts_with("Err"), "{}", frame);
        } else {
            prop_assert!(!took, "{}", frame);
        }
    }

    /// Linear `tickers` frames with any subset of the bid/ask members among
    /// others, and `orderbook.1` frames: the same both ways; plain ones that
    /// decode take the fast path.
    #[test]
    fn generated_ticker_and_top_frames_decode_the_same_both_ways(
        fields in prop::collection::vec(proptest::option::of(value(1)), 4),
        order in prop::collection::vec(any::<usize>(), 8),
        delta in any::<bool>(),
        how in prop_oneof![12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)],
        top in prop::collection::vec((1u64..10_000_000, 0u64..100_000, 0u8..4), 0..3),
        top_asks in 0usize..3,
    ) {
        let keys = ["bid1Price", "bid1Size", "ask1Price", "ask1Size"];
        let mut m: Vec<String> = [r#""symbol":"BTCUSDT""#, r#""lastPrice":"65114.30""#, r#""fundingIntervalHour":"8""#]
            .map(str::to_owned)
            .to_vec();
        m.extend(keys.iter().zip(&fields).filter_map(|(k, v)| v.as_ref().map(|v| format!(r#""{k}":"{v}""#))));
        let kind = if delta { "delta" } else { "snapshot" };
        let frame = format!(
            r#"{{"topic":"tickers.BTCUSDT","type":"{kind}","data":{{{}}},"cs":753843907770,"ts":1786310817883}}"#,
            dress(m, &order, how, r#""ask1Size":"1""#)
        );
        let (got, took) = both_ways(Venue::BybitLinear, &registry(), frame.as_bytes());
        // `ask1Size` appended when absent is no repeat.
        let plain = how == 0 || (how == 4 && fields[3].is_none());
        prop_assert_eq!(took, plain && !got.starts_with("Err"), "{}", frame);
        // Spot tickers are not consumed: the tape path says so.
        let (got, took) = both_ways(Venue::BybitSpot, &registry(), frame.as_bytes());
        prop_assert!(!took && got.starts_with("Unhandled"), "{}", got);

        // orderbook.1: more than one level a side is refused (both ways).
        let (bids, asks) = top.split_at(top.len().min(top_asks));
        let frame = book_frame(bids, asks, 7, &[0, 1, 2, 3, 4], &[0, 1, 2, 3, 4], !delta)
            .replace("orderbook.200.", "orderbook.1.");
        let (got, took) = both_ways(Venue::BybitLinear, &registry(), frame.as_bytes());
        prop_assert_eq!(took, bids.len() <= 1 && asks.len() <= 1, "{}", frame);
        prop_assert_eq!(got.starts_with("TopOfBook"), took, "{}", got);
    }
}
