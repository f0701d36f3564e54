//! The real Binance captures in `tests/fixtures/` through `BinanceDecoder`:
//! every frame and REST body decodes, values read by eye from the files come
//! out as exact mantissas, and the fast path agrees with the simd-json tape
//! path on every frame.

mod util;

use tickwire::book::Level;
use tickwire::types::{Price, Qty, Registry, Venue};
use tickwire::venue::binance::{BinanceDecoder, BinanceMsg, SnapshotReply};
use util::{fixture_files, fixture_lines, read_fixture, symbols_of, wire_registry};

const VENUES: [Venue; 2] = [Venue::BinanceSpot, Venue::BinanceUsdm];

/// A mantissa at eight decimals.
fn px(units: i64) -> Price {
    Price(units)
}

fn qty(units: i64) -> Qty {
    Qty(units)
}

fn level(price: i64, quantity: i64) -> Level {
    Level {
        price: px(price),
        qty: qty(quantity),
    }
}

/// The symbol a REST snapshot file is for (`rest_depth_snapshot_NKNUSDT.json`).
fn snapshot_symbol(path: &str) -> &str {
    path.rsplit_once("rest_depth_snapshot_")
        .and_then(|(_, tail)| tail.strip_suffix(".json"))
        .expect("snapshot file name")
}

/// Counts of decoded message kinds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Kinds {
    depth: usize,
    book_ticker: usize,
    trade: usize,
    unhandled: usize,
}

impl Kinds {
    fn count(&mut self, msg: &BinanceMsg<'_>) {
        match msg {
            BinanceMsg::Depth(_) => self.depth += 1,
            BinanceMsg::BookTicker(_) => self.book_ticker += 1,
            BinanceMsg::Trade(_) => self.trade += 1,
            BinanceMsg::Unhandled { .. } => self.unhandled += 1,
            other => panic!("fixture frames hold no {other:?}"),
        }
    }
}

fn decode_file(venue: Venue, reg: &Registry, path: &str) -> Kinds {
    let mut dec = BinanceDecoder::new(venue);
    let mut kinds = Kinds::default();
    for (n, line) in fixture_lines(path).iter().enumerate() {
        match dec.decode(line, &reg.venue(venue)) {
            Ok(msg) => kinds.count(&msg),
            Err(e) => panic!("{path} line {}: {e}", n + 1),
        }
    }
    kinds
}

#[test]
fn every_fixture_file_decodes_without_error() {
    let mut files_seen = 0;
    for venue in VENUES {
        let reg = wire_registry(venue, &symbols_of(venue));
        for path in fixture_files(venue) {
            files_seen += 1;
            if path.ends_with(".jsonl") {
                let kinds = decode_file(venue, &reg, &path);
                let total = kinds.depth + kinds.book_ticker + kinds.trade + kinds.unhandled;
                assert!(total > 0, "{path} is empty");
                // A single-stream file holds one kind of message only.
                if path.contains("ws_depth_") {
                    assert_eq!(kinds.depth, total, "{path}");
                } else if path.contains("ws_bookTicker_") {
                    assert_eq!(kinds.book_ticker, total, "{path}");
                } else if path.contains("ws_aggTrade_") {
                    assert_eq!(kinds.trade, total, "{path}");
                }
            } else if path.ends_with(".json") {
                let symbol = snapshot_symbol(&path);
                let scaling = reg
                    .lookup(venue, symbol.as_bytes())
                    .expect("fixture symbol")
                    .scaling();
                let body = read_fixture(&path);
                let mut dec = BinanceDecoder::new(venue);
                match dec.decode_snapshot(&body, scaling) {
                    Ok(SnapshotReply::Book(s)) => {
                        assert!(!s.bids.is_empty() && !s.asks.is_empty(), "{path}");
                    }
                    other => panic!("{path}: {other:?}"),
                }
            }
        }
    }
    // Spot: 4 snapshots, 4 depth, 3 bookTicker, 2 aggTrade, 1 combined;
    // USD-M: 4 of each stream and snapshot, 1 combined.
    assert!(files_seen >= 14 + 17, "{files_seen} files");
}

#[test]
fn combined_captures_hold_the_documented_frame_mix() {
    // Stream counts from `SOURCES.md` and the captures' stream names.
    let spot = decode_file(
        Venue::BinanceSpot,
        &wire_registry(Venue::BinanceSpot, &util::SPOT_SYMBOLS),
        "binance/ws_combined_all_frames.jsonl",
    );
    assert_eq!(
        spot,
        Kinds {
            depth: 177,
            book_ticker: 84,
            trade: 2,
            unhandled: 2
        }
    );
    let usdm = decode_file(
        Venue::BinanceUsdm,
        &wire_registry(Venue::BinanceUsdm, &util::USDM_SYMBOLS),
        "binance_futures/ws_combined_all_frames.jsonl",
    );
    assert_eq!(
        usdm,
        Kinds {
            depth: 764,
            book_ticker: 613,
            trade: 91,
            unhandled: 67
        }
    );
}

#[test]
fn kline_frames_are_unhandled() {
    for venue in VENUES {
        let reg = wire_registry(venue, &symbols_of(venue));
        let path = format!("{}/ws_combined_all_frames.jsonl", util::venue_dir(venue));
        let mut dec = BinanceDecoder::new(venue);
        let mut klines = 0;
        for line in fixture_lines(&path) {
            if !line.windows(8).any(|w| w == b"@kline_1") {
                continue;
            }
            klines += 1;
            let msg = dec.decode(&line, &reg.venue(venue)).expect("kline decodes");
            assert_eq!(msg, BinanceMsg::Unhandled { event: "kline" });
        }
        assert!(klines > 0, "{venue}: the capture has kline frames");
    }
}

#[test]
fn first_spot_depth_frame_has_the_captured_values() {
    let reg = wire_registry(Venue::BinanceSpot, &util::SPOT_SYMBOLS);
    let lines = fixture_lines("binance/ws_depth_100ms_NKNUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceSpot);
    let Ok(BinanceMsg::Depth(d)) = dec.decode(&lines[0], &reg.venue(Venue::BinanceSpot)) else {
        panic!("a depth frame");
    };
    assert_eq!(
        d.scaling.instrument,
        reg.lookup(Venue::BinanceSpot, b"NKNUSDT").unwrap().id
    );
    assert_eq!(d.event_ms, 1_633_998_512_068);
    assert_eq!(d.transact_ms, None);
    assert_eq!((d.first_id, d.final_id), (499_869_750, 499_869_752));
    assert_eq!(d.prev_final_id, None);
    assert_eq!(
        d.bids,
        &[
            level(35_130_000, 619_500_000_000),
            level(34_750_000, 554_800_000_000),
            level(34_640_000, 622_200_000_000),
        ]
    );
    assert!(d.asks.is_empty());
    assert_eq!(d.exch_ns(), 1_633_998_512_068_000_000);
}

#[test]
fn first_usdm_depth_frame_has_the_captured_values() {
    let reg = wire_registry(Venue::BinanceUsdm, &util::USDM_SYMBOLS);
    let lines = fixture_lines("binance_futures/ws_depth_100ms_SUSHIUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceUsdm);
    let Ok(BinanceMsg::Depth(d)) = dec.decode(&lines[0], &reg.venue(Venue::BinanceUsdm)) else {
        panic!("a depth frame");
    };
    assert_eq!(d.event_ms, 1_626_992_741_037);
    assert_eq!(d.transact_ms, Some(1_626_992_741_024));
    assert_eq!((d.first_id, d.final_id), (600_859_599_090, 600_859_600_917));
    assert_eq!(d.prev_final_id, Some(600_859_598_061));
    // "7.5040" / "813": four and zero decimals on the wire.
    assert_eq!(
        d.bids,
        &[
            level(750_400_000, 81_300_000_000),
            level(760_900_000, 0),
            level(761_100_000, 200_000_000),
        ]
    );
    assert_eq!(
        d.asks,
        &[
            level(761_500_000, 156_300_000_000),
            level(762_200_000, 328_400_000_000)
        ]
    );
    assert_eq!(d.exch_ns(), 1_626_992_741_024_000_000);
}

#[test]
fn book_tickers_have_the_captured_values() {
    let reg = wire_registry(Venue::BinanceSpot, &util::SPOT_SYMBOLS);
    let lines = fixture_lines("binance/ws_bookTicker_NKNUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceSpot);
    let Ok(BinanceMsg::BookTicker(t)) = dec.decode(&lines[0], &reg.venue(Venue::BinanceSpot))
    else {
        panic!("a bookTicker");
    };
    assert_eq!(t.update_id, 499_869_768);
    assert_eq!(
        (t.bid_price, t.bid_qty),
        (px(35_210_000), qty(67_200_000_000))
    );
    assert_eq!(
        (t.ask_price, t.ask_qty),
        (px(35_260_000), qty(319_900_000_000))
    );
    // Spot bookTicker has no E / T.
    assert_eq!((t.event_ms, t.transact_ms), (None, None));

    let reg = wire_registry(Venue::BinanceUsdm, &util::USDM_SYMBOLS);
    let lines = fixture_lines("binance_futures/ws_bookTicker_SUSHIUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceUsdm);
    let Ok(BinanceMsg::BookTicker(t)) = dec.decode(&lines[0], &reg.venue(Venue::BinanceUsdm))
    else {
        panic!("a bookTicker");
    };
    assert_eq!(t.update_id, 600_859_600_576);
    assert_eq!(
        (t.bid_price, t.bid_qty),
        (px(761_100_000), qty(200_000_000))
    );
    assert_eq!(
        (t.ask_price, t.ask_qty),
        (px(761_200_000), qty(29_700_000_000))
    );
    assert_eq!(t.transact_ms, Some(1_626_992_741_012));
    assert_eq!(t.event_ms, Some(1_626_992_741_017));
}

#[test]
fn agg_trades_have_the_captured_values() {
    let reg = wire_registry(Venue::BinanceSpot, &util::SPOT_SYMBOLS);
    let lines = fixture_lines("binance/ws_aggTrade_NKNUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceSpot);
    let Ok(BinanceMsg::Trade(t)) = dec.decode(&lines[0], &reg.venue(Venue::BinanceSpot)) else {
        panic!("a trade");
    };
    assert!(t.aggregated);
    assert_eq!(t.id, 15_683_430);
    assert_eq!((t.price, t.qty), (px(35_280_000), qty(5_800_000_000)));
    assert_eq!((t.first_id, t.last_id), (19_862_790, 19_862_790));
    assert_eq!(
        (t.trade_ms, t.event_ms),
        (1_633_998_523_963, 1_633_998_523_963)
    );
    // "m":false: the buyer took liquidity.
    assert!(!t.buyer_is_maker);

    let reg = wire_registry(Venue::BinanceUsdm, &util::USDM_SYMBOLS);
    let lines = fixture_lines("binance_futures/ws_aggTrade_SUSHIUSDT.jsonl");
    let mut dec = BinanceDecoder::new(Venue::BinanceUsdm);
    let Ok(BinanceMsg::Trade(t)) = dec.decode(&lines[1], &reg.venue(Venue::BinanceUsdm)) else {
        panic!("a trade");
    };
    // Second line: {"a":87353231,"p":"7.6120","q":"1","f":126902928,"l":126902928,"T":1626992745907,"m":true}
    assert!(t.aggregated);
    assert_eq!(t.id, 87_353_231);
    assert_eq!((t.price, t.qty), (px(761_200_000), qty(100_000_000)));
    assert_eq!((t.first_id, t.last_id), (126_902_928, 126_902_928));
    assert_eq!(
        (t.trade_ms, t.event_ms),
        (1_626_992_745_907, 1_626_992_746_062)
    );
    assert!(t.buyer_is_maker);
}

/// What `jq` shows for a snapshot file: id, level counts, first and last levels.
struct SnapshotFacts {
    venue: Venue,
    symbol: &'static str,
    last_update_id: u64,
    times: Option<(u64, u64)>,
    counts: (usize, usize),
    bids: [(i64, i64); 2],
    asks: [(i64, i64); 2],
}

const SNAPSHOTS: [SnapshotFacts; 8] = [
    SnapshotFacts {
        venue: Venue::BinanceSpot,
        symbol: "BLZETH",
        last_update_id: 281_916_627,
        times: None,
        counts: (174, 1000),
        // ["0.00006547","100.00000000"] .. ["0.00000001","1000000.00000000"]
        bids: [(6_547, 10_000_000_000), (1, 100_000_000_000_000)],
        // ["0.00006555","6617.00000000"] .. ["0.00348000","3.00000000"]
        asks: [(6_555, 661_700_000_000), (348_000, 300_000_000)],
    },
    SnapshotFacts {
        venue: Venue::BinanceSpot,
        symbol: "LRCBTC",
        last_update_id: 259_345_543,
        times: None,
        counts: (176, 1000),
        bids: [(637, 650_000_000_000), (1, 30_000_000_000_000)],
        asks: [(638, 2_436_500_000_000), (1_785, 59_600_000_000)],
    },
    SnapshotFacts {
        venue: Venue::BinanceSpot,
        symbol: "NKNUSDT",
        last_update_id: 499_869_752,
        times: None,
        counts: (609, 1000),
        bids: [(35_210_000, 67_200_000_000), (212_000, 11_792_450_000_000)],
        asks: [
            (35_250_000, 395_900_000_000),
            (55_060_000, 1_441_800_000_000),
        ],
    },
    SnapshotFacts {
        venue: Venue::BinanceSpot,
        symbol: "RUNEEUR",
        last_update_id: 15_602_511,
        times: None,
        counts: (221, 468),
        bids: [(625_100_000, 6_930_000_000), (53_100_000, 28_800_000_000)],
        asks: [(626_900_000, 6_930_000_000), (4_500_000_000, 930_000_000)],
    },
    SnapshotFacts {
        venue: Venue::BinanceUsdm,
        symbol: "AKROUSDT",
        last_update_id: 600_859_605_486,
        times: Some((1_626_992_741_242, 1_626_992_741_238)),
        counts: (609, 763),
        // ["0.01731","57618"] .. ["0.00001","332200000"]
        bids: [
            (1_731_000, 5_761_800_000_000),
            (1_000, 33_220_000_000_000_000),
        ],
        // ["0.01732","72524"] .. ["10.00000","330"]
        asks: [
            (1_732_000, 7_252_400_000_000),
            (1_000_000_000, 33_000_000_000),
        ],
    },
    SnapshotFacts {
        venue: Venue::BinanceUsdm,
        symbol: "CTKUSDT",
        last_update_id: 600_859_618_836,
        times: Some((1_626_992_741_986, 1_626_992_741_972)),
        counts: (485, 744),
        bids: [
            (101_000_000, 8_578_200_000_000),
            (1_000, 32_923_527_700_000_000),
        ],
        asks: [(101_100_000, 648_300_000_000), (9_900_000_000, 100_000_000)],
    },
    SnapshotFacts {
        venue: Venue::BinanceUsdm,
        symbol: "KEEPUSDT",
        last_update_id: 600_859_619_434,
        times: Some((1_626_992_742_018, 1_626_992_742_012)),
        counts: (400, 612),
        bids: [(24_630_000, 63_100_000_000), (400_000, 48_981_800_000_000)],
        asks: [
            (24_640_000, 31_700_000_000),
            (1_268_060_000, 18_700_000_000),
        ],
    },
    SnapshotFacts {
        venue: Venue::BinanceUsdm,
        symbol: "SUSHIUSDT",
        last_update_id: 600_859_605_926,
        times: Some((1_626_992_741_264, 1_626_992_741_261)),
        counts: (1000, 1000),
        bids: [(761_100_000, 600_000_000), (634_700_000, 7_200_000_000)],
        asks: [(761_200_000, 29_700_000_000), (912_200_000, 200_000_000)],
    },
];

#[test]
fn rest_snapshots_have_the_captured_values() {
    for facts in &SNAPSHOTS {
        let venue = facts.venue;
        let reg = wire_registry(venue, &symbols_of(venue));
        let scaling = reg
            .lookup(venue, facts.symbol.as_bytes())
            .unwrap()
            .scaling();
        let path = format!(
            "{}/rest_depth_snapshot_{}.json",
            util::venue_dir(venue),
            facts.symbol
        );
        let body = read_fixture(&path);
        let mut dec = BinanceDecoder::new(venue);
        let Ok(SnapshotReply::Book(s)) = dec.decode_snapshot(&body, scaling) else {
            panic!("{path}: a book");
        };
        assert_eq!(s.last_update_id, facts.last_update_id, "{path}");
        assert_eq!(
            s.event_ms.zip(s.transact_ms),
            facts.times,
            "{path}: E and T"
        );
        assert_eq!((s.bids.len(), s.asks.len()), facts.counts, "{path}");
        let ends = |levels: &[Level]| {
            let (first, last) = (levels[0], levels[levels.len() - 1]);
            [(first.price.0, first.qty.0), (last.price.0, last.qty.0)]
        };
        assert_eq!(ends(s.bids), facts.bids, "{path}: bids");
        assert_eq!(ends(s.asks), facts.asks, "{path}: asks");
        // Sent best first: bids strictly descending, asks strictly ascending.
        assert!(s.bids.windows(2).all(|w| w[0].price > w[1].price), "{path}");
        assert!(s.asks.windows(2).all(|w| w[0].price < w[1].price), "{path}");
        assert!(s.bids.iter().chain(s.asks).all(|l| l.qty.0 > 0), "{path}");
    }
}

/// Decodes `frame` with the fast path on and off; returns both as `Debug` text.
fn both_paths(
    fast: &mut BinanceDecoder,
    tape: &mut BinanceDecoder,
    frame: &[u8],
    reg: &Registry,
) -> (String, String) {
    let venue = fast.venue();
    let a = format!("{:?}", fast.decode(frame, &reg.venue(venue)));
    let b = format!("{:?}", tape.decode(frame, &reg.venue(venue)));
    (a, b)
}

#[test]
fn fast_path_and_tape_path_agree_on_every_fixture_frame() {
    for venue in VENUES {
        let reg = wire_registry(venue, &symbols_of(venue));
        let mut fast = BinanceDecoder::new(venue);
        let mut tape = BinanceDecoder::new(venue);
        tape.set_fast_path(false);
        let (mut frames, mut klines) = (0u64, 0u64);
        for path in fixture_files(venue) {
            if path.ends_with(".jsonl") {
                for line in fixture_lines(&path) {
                    frames += 1;
                    klines += u64::from(line.windows(8).any(|w| w == b"@kline_1"));
                    let (a, b) = both_paths(&mut fast, &mut tape, &line, &reg);
                    assert_eq!(a, b, "{path}: {}", String::from_utf8_lossy(&line));
                }
            } else if path.ends_with(".json") {
                frames += 1;
                let scaling = reg
                    .lookup(venue, snapshot_symbol(&path).as_bytes())
                    .unwrap()
                    .scaling();
                let body = read_fixture(&path);
                let a = format!("{:?}", fast.decode_snapshot(&body, scaling));
                let b = format!("{:?}", tape.decode_snapshot(&body, scaling));
                assert_eq!(a, b, "{path}");
            }
        }
        // The tape decoder never took the fast path; the fast decoder took it
        // for every real frame except klines, which no template covers.
        assert_eq!(tape.stats().fast, 0);
        assert_eq!(tape.stats().fallback, frames);
        assert_eq!(fast.stats().fallback, klines, "{venue}");
        assert_eq!(fast.stats().fast, frames - klines, "{venue}");
    }
}

#[test]
fn fixture_frames_decode_the_same_unwrapped() {
    // The envelope is optional: the bare `data` object decodes to the same message.
    for venue in VENUES {
        let reg = wire_registry(venue, &symbols_of(venue));
        let path = format!("{}/ws_combined_all_frames.jsonl", util::venue_dir(venue));
        let mut dec = BinanceDecoder::new(venue);
        let mut bare_dec = BinanceDecoder::new(venue);
        for line in fixture_lines(&path) {
            let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
            let bare = serde_json::to_vec(&value["data"]).unwrap();
            let a = format!("{:?}", dec.decode(&line, &reg.venue(venue)));
            let b = format!("{:?}", bare_dec.decode(&bare, &reg.venue(venue)));
            assert_eq!(a, b, "{}", String::from_utf8_lossy(&line));
        }
    }
}

#[test]
fn captured_tickers_and_trades_become_events() {
    use tickwire::types::{Aggressor, Bbo, Body, Event, Trade};
    use tickwire::venue::binance::{BinanceFrames, FrameKind, GapPolicy, books_for};

    // (venue, file, line, the event's body, seq, exchange time in ms)
    let cases = [
        (
            Venue::BinanceSpot,
            "binance/ws_bookTicker_NKNUSDT.jsonl",
            0,
            Body::Bbo(Bbo {
                bid_price: px(35_210_000),
                bid_qty: qty(67_200_000_000),
                ask_price: px(35_260_000),
                ask_qty: qty(319_900_000_000),
            }),
            499_869_768,
            0, // spot bookTicker carries no time
        ),
        (
            Venue::BinanceUsdm,
            "binance_futures/ws_bookTicker_SUSHIUSDT.jsonl",
            0,
            Body::Bbo(Bbo {
                bid_price: px(761_100_000),
                bid_qty: qty(200_000_000),
                ask_price: px(761_200_000),
                ask_qty: qty(29_700_000_000),
            }),
            600_859_600_576,
            1_626_992_741_012, // T, the transaction time
        ),
        (
            Venue::BinanceSpot,
            "binance/ws_aggTrade_NKNUSDT.jsonl",
            0,
            Body::Trade(Trade {
                price: px(35_280_000),
                qty: qty(5_800_000_000),
                aggressor: Aggressor::Buy, // "m":false
                trade_id: 15_683_430,
                aggregated: true,
                first_trade_id: 19_862_790,
                last_trade_id: 19_862_790,
            }),
            15_683_430,
            1_633_998_523_963,
        ),
        (
            Venue::BinanceUsdm,
            "binance_futures/ws_aggTrade_SUSHIUSDT.jsonl",
            1,
            Body::Trade(Trade {
                price: px(761_200_000),
                qty: qty(100_000_000),
                aggressor: Aggressor::Sell, // "m":true
                trade_id: 87_353_231,
                aggregated: true,
                first_trade_id: 126_902_928,
                last_trade_id: 126_902_928,
            }),
            87_353_231,
            1_626_992_745_907,
        ),
    ];
    for (venue, path, line, body, seq, exch_ms) in cases {
        let reg = wire_registry(venue, &symbols_of(venue));
        let mut books = books_for(&reg, 64, GapPolicy::Resync);
        let mut feed = BinanceFrames::new(venue, 64);
        let mut out: Vec<Event> = Vec::new();
        let frame = &fixture_lines(path)[line];
        let kind = feed
            .handle_frame(frame, 77, &reg, &mut books, &mut out)
            .expect("decodes");
        assert!(
            matches!(kind, FrameKind::Bbo(_) | FrameKind::Trade(_)),
            "{kind:?}"
        );
        assert_eq!(out.len(), 1, "{path}");
        let e = out[0];
        assert_eq!(e.body(), body, "{path}");
        assert_eq!(e.venue(), Some(venue));
        assert_eq!(
            (e.seq, e.exch_ns, e.recv_ns),
            (seq, exch_ms * 1_000_000, 77),
            "{path}"
        );
        assert!(e.end_of_batch());
        // Market data flows before the book is synced; the book is untouched.
        assert!(!books.iter().any(|b| b.sync.is_synced()));
    }
}
