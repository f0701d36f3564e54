//! OKX decoding on the real 2022 capture: every frame decodes, the same way
//! on the fast path and the tape path, with exact values checked by hand on
//! a few; and a table of malformed frames, each refused with the right
//! `What` and `Location`.

use tickwire::book::Level;
use tickwire::types::{Aggressor, NumError, Price, Qty, Registry, Venue};
use tickwire::venue::okx::{Action, OkxDecoder, OkxMsg, Spell, Subscription};
use tickwire::venue::{DecodeError, JsonType, Location, What};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .unwrap();
    reg.add(Venue::Okx, "UNI-USD-SWAP", "0.001", "1").unwrap();
    reg.add(Venue::Okx, "BTC-USD-220527", "0.1", "1").unwrap();
    reg
}

fn fixture(name: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/okx/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a frame decoded to, owned, for comparing the two paths.
fn summary(msg: &OkxMsg<'_>) -> String {
    format!("{msg:?}")
}

#[test]
fn every_fixture_frame_decodes_alike_on_both_paths() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut fast = OkxDecoder::new();
    let mut tape = OkxDecoder::new();
    tape.set_fast_path(false);
    let files = [
        ("ws_public_all_frames_2022-05-13.jsonl", 410),
        ("ws_books_BTC-USDT.jsonl", 98),
        ("ws_books_UNI-USD-SWAP.jsonl", 93),
        ("ws_books_BTC-USD-220527.jsonl", 99),
        ("ws_subscribe_acks.jsonl", 18),
        ("ws_trades_BTC-USDT.jsonl", 69),
        ("ws_trades_UNI-USD-SWAP.jsonl", 1),
        ("ws_trades_BTC-USD-220527.jsonl", 4),
        ("ws_tickers_BTC-USDT.jsonl", 25),
        ("ws_tickers_UNI-USD-SWAP.jsonl", 1),
        ("ws_tickers_BTC-USD-220527.jsonl", 2),
    ];
    // snapshots, updates, trade frames, acks, tickers
    let mut kinds = [0usize; 5];
    let mut trade_frames = 0;
    for (name, count) in files {
        let frames = fixture(name);
        assert_eq!(frames.len(), count, "{name}");
        for frame in &frames {
            let before = fast.stats().fast;
            let a = summary(&fast.decode(frame.as_bytes(), &symbols).unwrap());
            let took_fast = fast.stats().fast > before;
            let b = tape.decode(frame.as_bytes(), &symbols).unwrap();
            assert_eq!(a, summary(&b), "{frame}");
            // Market data takes the fast path; acks and tickers do not.
            let market = matches!(b, OkxMsg::Book(_) | OkxMsg::Trades(_) | OkxMsg::Bbo(_));
            assert_eq!(took_fast, market, "{frame}");
            if let OkxMsg::Trades(_) = b {
                trade_frames += 1;
            }
            if name.starts_with("ws_public") {
                match b {
                    OkxMsg::Book(m) if m.action == Action::Snapshot => kinds[0] += 1,
                    OkxMsg::Book(_) => kinds[1] += 1,
                    OkxMsg::Trades(t) => {
                        assert_eq!(t.len(), 1);
                        kinds[2] += 1
                    }
                    OkxMsg::Subscribed(_) => kinds[3] += 1,
                    OkxMsg::Unhandled { channel: "tickers" } => kinds[4] += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }
    assert_eq!(kinds, [3, 287, 74, 18, 28]);
    // Every books and trades frame took the fast path; nothing else did.
    assert_eq!(trade_frames, 74 + 69 + 1 + 4);
    assert_eq!(fast.stats().fast, 2 * 290 + trade_frames);
    assert_eq!(tape.stats().fast, 0);
}

#[test]
fn btc_usdt_snapshot_and_update_by_hand() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let frames = fixture("ws_books_BTC-USDT.jsonl");
    let mut dec = OkxDecoder::new();
    let OkxMsg::Book(snap) = dec.decode(frames[0].as_bytes(), &symbols).unwrap() else {
        panic!("not a book");
    };
    assert_eq!(snap.action, Action::Snapshot);
    assert_eq!(
        snap.scaling.instrument,
        reg.lookup(Venue::Okx, b"BTC-USDT").unwrap().id
    );
    assert_eq!((snap.asks.len(), snap.bids.len()), (400, 400));
    let level = |p, q| Level {
        price: Price(p),
        qty: Qty(q),
    };
    assert_eq!(snap.asks[0], level(302_435, 144_679_000));
    assert_eq!(snap.bids[0], level(302_434, 120_290));
    assert_eq!(snap.bids[399], level(299_997, 276_686));
    assert_eq!(snap.ask_spells[0], Spell { px: 1, sz: 5 });
    assert_eq!(snap.bid_spells[399], Spell { px: 1, sz: 8 });
    assert_eq!(snap.ts_ms, 1_652_459_225_381);
    assert_eq!(snap.checksum, Some(47_640_993));
    assert_eq!((snap.seq_id, snap.prev_seq_id), (None, None));

    let OkxMsg::Book(upd) = dec.decode(frames[1].as_bytes(), &symbols).unwrap() else {
        panic!("not a book");
    };
    assert_eq!(upd.action, Action::Update);
    assert_eq!((upd.asks.len(), upd.bids.len()), (26, 17));
    assert_eq!(upd.asks[1], level(302_436, 5_900_000));
    // Size "0" deletes.
    assert_eq!(upd.bids[0], level(302_372, 0));
    assert_eq!(upd.bid_spells[0], Spell { px: 1, sz: 0 });
    assert_eq!(upd.checksum, Some(-652_563_973));
}

#[test]
fn uni_swap_keeps_short_spellings() {
    let reg = registry();
    let frames = fixture("ws_books_UNI-USD-SWAP.jsonl");
    let mut dec = OkxDecoder::new();
    let OkxMsg::Book(snap) = dec
        .decode(frames[0].as_bytes(), &reg.venue(Venue::Okx))
        .unwrap()
    else {
        panic!("not a book");
    };
    // "5.16" at a tick of 0.001: mantissa 5160, spelled with 2 decimals.
    assert_eq!(snap.asks[11].price, Price(5_160));
    assert_eq!(snap.ask_spells[11], Spell { px: 2, sz: 0 });
    assert_eq!(snap.bids[0].qty, Qty(251));
    assert_eq!(snap.checksum, Some(555_605_283));
}

#[test]
fn trades_acks_errors_pong_by_hand() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut dec = OkxDecoder::new();
    let frame = fixture("ws_trades_BTC-USDT.jsonl").remove(0);
    let OkxMsg::Trades(t) = dec.decode(frame.as_bytes(), &symbols).unwrap() else {
        panic!("not trades");
    };
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].trade_id, 338_476_307);
    assert_eq!((t[0].price, t[0].qty), (Price(302_360), Qty(20_000)));
    assert_eq!(t[0].aggressor, Aggressor::Buy);
    assert_eq!(t[0].ts_ms, 1_652_459_224_818);

    let frame = fixture("ws_trades_UNI-USD-SWAP.jsonl").remove(0);
    let OkxMsg::Trades(t) = dec.decode(frame.as_bytes(), &symbols).unwrap() else {
        panic!("not trades");
    };
    assert_eq!(
        (t[0].trade_id, t[0].price, t[0].qty),
        (12_883_020, Price(5_123), Qty(100))
    );
    assert_eq!(t[0].aggressor, Aggressor::Sell);

    let two = br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1.5","sz":"2","side":"sell","ts":"7"},{"tradeId":"2","px":"1.6","sz":"0.5","side":"buy","ts":"8","count":"3"}]}"#;
    let OkxMsg::Trades(t) = dec.decode(two, &symbols).unwrap() else {
        panic!("not trades");
    };
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[1].trade_id, t[1].price, t[1].qty),
        (2, Price(16), Qty(50_000_000))
    );

    let ack = fixture("ws_subscribe_acks.jsonl").remove(0);
    assert_eq!(
        dec.decode(ack.as_bytes(), &symbols).unwrap(),
        OkxMsg::Subscribed(Subscription {
            channel: "tickers",
            inst_id: Some("BTC-USD-220527")
        })
    );
    let unsub = br#"{"event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}"#;
    assert_eq!(
        dec.decode(unsub, &symbols).unwrap(),
        OkxMsg::Unsubscribed(Subscription {
            channel: "books",
            inst_id: Some("BTC-USDT")
        })
    );
    let error = br#"{"event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:FOO-BAR doesn't exist"}"#;
    assert!(matches!(
        dec.decode(error, &symbols).unwrap(),
        OkxMsg::VenueError { code: 60018, msg } if msg.starts_with("Wrong URL")
    ));
    assert_eq!(dec.decode(b"pong", &symbols).unwrap(), OkxMsg::Pong);
    let unknown = br#"{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1","checksum":0}]}"#;
    assert_eq!(
        dec.decode(unknown, &symbols).unwrap(),
        OkxMsg::UnknownSymbol { symbol: "ETH-USDT" }
    );
}

#[test]
fn bbo_tbt_and_seq_ids() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut dec = OkxDecoder::new();
    let bbo = br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["30243.5","1.2","0","3"]],"bids":[],"ts":"1652459225381","seqId":42}]}"#;
    let OkxMsg::Bbo(b) = dec.decode(bbo, &symbols).unwrap() else {
        panic!("not a bbo");
    };
    assert_eq!(
        b.ask.map(|l| (l.price, l.qty)),
        Some((Price(302_435), Qty(120_000_000)))
    );
    assert_eq!(
        (b.bid, b.seq_id, b.ts_ms),
        (None, Some(42), 1_652_459_225_381)
    );
    assert_eq!(dec.stats().fast, 1);

    let book = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[],"bids":[["1","2","0","1"]],"ts":"5","checksum":-1,"prevSeqId":-1,"seqId":123456789012}]}"#;
    let OkxMsg::Book(m) = dec.decode(book, &symbols).unwrap() else {
        panic!("not a book");
    };
    assert_eq!(
        (m.checksum, m.prev_seq_id, m.seq_id),
        (Some(-1), Some(-1), Some(123_456_789_012))
    );
    assert_eq!(dec.stats().fast, 2);
}

fn okx_err(what: What, at: Location) -> DecodeError {
    DecodeError {
        venue: Venue::Okx,
        what,
        at,
    }
}

fn at_level(key: &'static str, level: u32, part: Option<u8>) -> Location {
    Location::Field {
        key,
        level: Some(level),
        part,
    }
}

#[test]
fn malformed_frames_are_refused_precisely() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let head = r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":"#;
    let book = |data: &str| format!("{head}{data}}}");
    let f = Location::field;
    let huge = format!(
        "{head}[{{\"asks\":[{}]}}]}}",
        "[\"1\",\"1\"],".repeat(120_000)
    );
    let many = vec![r#"["1","1","0","1"]"#; 1_025].join(",");
    let many = book(&format!(r#"[{{"asks":[{many}],"bids":[],"ts":"1"}}]"#));
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (b"".to_vec(), okx_err(What::Empty, Location::Root)),
        (huge.into_bytes(), okx_err(What::TooLarge { max: 1 << 20 }, Location::Root)),
        (many.into_bytes(), okx_err(What::TooManyLevels { max: 1_024 }, f("asks"))),
        (b"ping".to_vec(), okx_err(What::InvalidJson, Location::Byte(0))),
        (b"[1,2]".to_vec(), okx_err(What::UnknownMessage, Location::Root)),
        (b"{}".to_vec(), okx_err(What::UnknownMessage, Location::Root)),
        (br#"{"event":"login2"}"#.to_vec(), okx_err(What::UnknownMessage, f("event"))),
        (br#"{"event":7}"#.to_vec(), okx_err(What::Expected(JsonType::String), f("event"))),
        (br#"{"event":"error","msg":"x"}"#.to_vec(), okx_err(What::Missing, f("code"))),
        (
            br#"{"event":"error","code":"6a"}"#.to_vec(),
            okx_err(What::Number(NumError::InvalidChar { at: 1, byte: b'a' }), f("code")),
        ),
        (br#"{"event":"subscribe"}"#.to_vec(), okx_err(What::Missing, f("arg"))),
        (br#"{"data":[]}"#.to_vec(), okx_err(What::Missing, f("arg"))),
        (br#"{"arg":[],"data":[]}"#.to_vec(), okx_err(What::Expected(JsonType::Object), f("arg"))),
        (br#"{"arg":{"instId":"BTC-USDT"},"data":[]}"#.to_vec(), okx_err(What::Missing, f("channel"))),
        (br#"{"arg":{"channel":"books"},"data":[]}"#.to_vec(), okx_err(What::Missing, f("instId"))),
        (
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update"}"#.to_vec(),
            okx_err(What::Missing, f("data")),
        ),
        (book("{}").into_bytes(), okx_err(What::Expected(JsonType::Array), f("data"))),
        (book("[]").into_bytes(), okx_err(What::UnknownMessage, f("data"))),
        (
            book(r#"[{"asks":[],"bids":[],"ts":"1"},{"asks":[],"bids":[],"ts":"2"}]"#).into_bytes(),
            okx_err(What::UnknownMessage, f("data")),
        ),
        (book("[1]").into_bytes(), okx_err(What::Expected(JsonType::Object), f("data"))),
        (book(r#"[{"bids":[],"ts":"1"}]"#).into_bytes(), okx_err(What::Missing, f("asks"))),
        (
            book(r#"[{"asks":{},"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Array), f("asks")),
        ),
        (book(r#"[{"asks":[],"bids":[]}]"#).into_bytes(), okx_err(What::Missing, f("ts"))),
        (
            book(r#"[{"asks":[],"bids":[],"ts":1}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::String), f("ts")),
        ),
        (
            book(r#"[{"asks":[],"bids":[],"ts":"1","checksum":"5"}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Integer), f("checksum")),
        ),
        (
            book(r#"[{"asks":[],"bids":[],"ts":"1","checksum":2147483648}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Integer), f("checksum")),
        ),
        (
            book(r#"[{"asks":[],"bids":[],"ts":"1","seqId":1.5}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Integer), f("seqId")),
        ),
        (
            book(r#"[{"asks":[],"bids":[],"ts":"1","seqId":9223372036854775808}]"#).into_bytes(),
            okx_err(What::IdOutOfRange, f("seqId")),
        ),
        (
            book(r#"[{"asks":[["1"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Level), at_level("asks", 0, None)),
        ),
        (
            book(r#"[{"asks":[["1","2",0,"1"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(What::Expected(JsonType::Level), at_level("asks", 0, None)),
        ),
        (
            book(r#"[{"asks":[],"bids":[["1","1"],["1x","2"]],"ts":"1"}]"#).into_bytes(),
            okx_err(
                What::Number(NumError::InvalidChar { at: 1, byte: b'x' }),
                at_level("bids", 1, Some(0)),
            ),
        ),
        (
            book(r#"[{"asks":[["1.25","2"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(
                What::Number(NumError::TooManyDecimals { scale: 1 }),
                at_level("asks", 0, Some(0)),
            ),
        ),
        (
            book(r#"[{"asks":[["1e3","2"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(
                What::Number(NumError::InvalidChar { at: 1, byte: b'e' }),
                at_level("asks", 0, Some(0)),
            ),
        ),
        (
            book(r#"[{"asks":[["01.5","2"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(
                What::Number(NumError::InvalidChar { at: 0, byte: b'0' }),
                at_level("asks", 0, Some(0)),
            ),
        ),
        (
            book(r#"[{"asks":[["0","2"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(What::NotPositive, at_level("asks", 0, Some(0))),
        ),
        (
            book(r#"[{"asks":[["1","-2"]],"bids":[],"ts":"1"}]"#).into_bytes(),
            okx_err(What::Number(NumError::SignNotAllowed), at_level("asks", 0, Some(1))),
        ),
        (
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"partial","data":[]}"#.to_vec(),
            okx_err(What::UnknownMessage, f("action")),
        ),
        (
            br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["1","1"],["2","1"]],"bids":[],"ts":"1"}]}"#.to_vec(),
            okx_err(What::TooManyLevels { max: 1 }, f("asks")),
        ),
        (
            br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"1","px":"1","sz":"0","side":"buy","ts":"1"}]}"#.to_vec(),
            okx_err(What::NotPositive, f("sz")),
        ),
        (
            br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"1","px":"1","sz":"1","side":"both","ts":"1"}]}"#.to_vec(),
            okx_err(What::UnknownMessage, f("side")),
        ),
        (
            br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1","sz":"1","side":"buy","ts":"1"}]}"#.to_vec(),
            okx_err(What::Missing, f("tradeId")),
        ),
        (
            b"{\"event\":\"subscribe\",\"arg\":{\"channel\":\"bo\xffks\"}}".to_vec(),
            okx_err(What::NotUtf8, Location::Byte(41)),
        ),
    ];
    for with_fast in [true, false] {
        let mut dec = OkxDecoder::new();
        dec.set_fast_path(with_fast);
        for (frame, want) in &cases {
            let got = dec.decode(frame, &symbols);
            assert_eq!(
                got,
                Err(*want),
                "{}",
                String::from_utf8_lossy(&frame[..frame.len().min(200)])
            );
        }
    }
    // Truncations of a real frame: an error, never a panic, never a book.
    let frame = fixture("ws_books_BTC-USDT.jsonl").remove(1);
    let mut dec = OkxDecoder::new();
    for cut in 0..frame.len() {
        let got = dec.decode(&frame.as_bytes()[..cut], &symbols);
        assert!(got.is_err(), "cut at {cut}");
    }
}
