//! Bybit decoding of bad input: each case gives the right `What` at the
//! right `Location`, the same with and without the fast path, and never
//! panics.

mod bybit;

use bybit::registry;
use tickwire::types::{NumError, Venue};
use tickwire::venue::bybit::BybitDecoder;
use tickwire::venue::{DecodeError, JsonType, Location, What};

const BOOK: &str = r#"{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["65114.2","1.5"]],"a":[["65115.1","0"]],"u":7,"seq":8},"cts":2}"#;
const TRADE: &str = r#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.004","p":"65114.20","i":"a9188a0a-82bc-50de-be60-03eedbe3cdd7","seq":3}]}"#;
const TICKER: &str = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65114.20","bid1Size":"6.124"},"cs":5,"ts":6}"#;

fn field(key: &'static str) -> Location {
    Location::field(key)
}

fn at(key: &'static str, level: u32, part: Option<u8>) -> Location {
    Location::Field {
        key,
        level: Some(level),
        part,
    }
}

/// `base` with `from` replaced by `to` (which must occur).
fn edit(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "{from}");
    base.replacen(from, to, 1)
}

/// Decodes both ways; both must fail the same way.
fn fails(decoder: impl Fn() -> BybitDecoder, frame: &[u8]) -> DecodeError {
    let reg = registry();
    let symbols = reg.venue(Venue::BybitLinear);
    let mut fast = decoder();
    let mut tape = decoder();
    tape.set_fast_path(false);
    let a = fast.decode(frame, &symbols).map(|m| format!("{m:?}"));
    let b = tape.decode(frame, &symbols).map(|m| format!("{m:?}"));
    assert_eq!(a, b);
    match a {
        Err(e) => e,
        Ok(m) => panic!("decoded {m} from {}", String::from_utf8_lossy(frame)),
    }
}

fn linear() -> BybitDecoder {
    BybitDecoder::new(Venue::BybitLinear)
}

#[test]
fn every_malformed_frame_is_a_typed_error() {
    let too_many_decimals = What::Number(NumError::TooManyDecimals { scale: 1 });
    let cases: Vec<(String, What, Location)> = vec![
        // Shapes.
        ("[]".into(), What::UnknownMessage, Location::Root),
        ("{}".into(), What::UnknownMessage, Location::Root),
        ("\"orderbook\"".into(), What::UnknownMessage, Location::Root),
        (
            r#"{"op":"auth","success":true}"#.into(),
            What::UnknownMessage,
            field("op"),
        ),
        (
            r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#.into(),
            What::Missing,
            field("success"),
        ),
        (
            r#"{"op":"subscribe","success":"yes"}"#.into(),
            What::Expected(JsonType::Bool),
            field("success"),
        ),
        (
            r#"{"op":7}"#.into(),
            What::Expected(JsonType::String),
            field("op"),
        ),
        (
            edit(BOOK, "\"orderbook.200.BTCUSDT\"", "5"),
            What::Expected(JsonType::String),
            field("topic"),
        ),
        (
            edit(BOOK, "orderbook.200.", "orderbook.x."),
            What::UnknownMessage,
            field("topic"),
        ),
        (
            edit(BOOK, "orderbook.200.", "nonsense."),
            What::UnknownMessage,
            field("topic"),
        ),
        (
            edit(BOOK, "\"delta\"", "\"partial\""),
            What::UnknownMessage,
            field("type"),
        ),
        (
            edit(BOOK, "\"type\":\"delta\",", ""),
            What::Missing,
            field("type"),
        ),
        // Missing keys and wrong types.
        (edit(BOOK, "\"ts\":1,", ""), What::Missing, field("ts")),
        (
            edit(BOOK, "\"ts\":1", "\"ts\":\"1\""),
            What::Expected(JsonType::UnsignedInteger),
            field("ts"),
        ),
        (
            edit(BOOK, "\"cts\":2", "\"cts\":-2"),
            What::Expected(JsonType::UnsignedInteger),
            field("cts"),
        ),
        (
            r#"{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1}"#.into(),
            What::Missing,
            field("data"),
        ),
        (
            edit(BOOK, "\"data\":{", "\"data\":[{").replace("},\"cts\"", "}],\"cts\""),
            What::Expected(JsonType::Object),
            field("data"),
        ),
        (edit(BOOK, ",\"u\":7", ""), What::Missing, field("u")),
        (
            edit(BOOK, "\"u\":7", "\"u\":7.5"),
            What::Expected(JsonType::UnsignedInteger),
            field("u"),
        ),
        (
            edit(BOOK, "\"u\":7", "\"u\":9223372036854775808"),
            What::IdOutOfRange,
            field("u"),
        ),
        (
            edit(BOOK, "\"seq\":8", "\"seq\":null"),
            What::Expected(JsonType::UnsignedInteger),
            field("seq"),
        ),
        (
            edit(BOOK, "\"b\":[[\"65114.2\",\"1.5\"]],", ""),
            What::Missing,
            field("b"),
        ),
        (
            edit(BOOK, "\"a\":[[\"65115.1\",\"0\"]]", "\"a\":{}"),
            What::Expected(JsonType::Array),
            field("a"),
        ),
        // Levels and numbers.
        (
            edit(BOOK, "[\"65114.2\",\"1.5\"]", "[\"65114.2\",\"1.5\",\"x\"]"),
            What::Expected(JsonType::Level),
            at("b", 0, None),
        ),
        (
            edit(BOOK, "[\"65114.2\",\"1.5\"]", "[65114.2,\"1.5\"]"),
            What::Expected(JsonType::Level),
            at("b", 0, None),
        ),
        (
            edit(
                BOOK,
                "[[\"65114.2\",\"1.5\"]]",
                "[[\"1\",\"1\"],[\"6a.1\",\"1\"]]",
            ),
            What::Number(NumError::InvalidChar { at: 1, byte: b'a' }),
            at("b", 1, Some(0)),
        ),
        (
            edit(BOOK, "\"65115.1\"", "\"65115.15\""),
            too_many_decimals,
            at("a", 0, Some(0)),
        ),
        (
            edit(BOOK, "\"65114.2\"", "\"0\""),
            What::NotPositive,
            at("b", 0, Some(0)),
        ),
        (
            edit(BOOK, "\"1.5\"", "\"-1.5\""),
            What::Number(NumError::SignNotAllowed),
            at("b", 0, Some(1)),
        ),
        (
            edit(BOOK, "\"1.5\"", "\"\""),
            What::Number(NumError::Empty),
            at("b", 0, Some(1)),
        ),
        (
            edit(BOOK, "\"1.5\"", "\"1e3\""),
            What::Number(NumError::InvalidChar { at: 1, byte: b'e' }),
            at("b", 0, Some(1)),
        ),
        (
            edit(BOOK, "\"1.5\"", "\"99999999999999999999\""),
            What::Number(NumError::Overflow),
            at("b", 0, Some(1)),
        ),
        // Top of book carries one level a side.
        (
            edit(BOOK, "orderbook.200.", "orderbook.1.")
                .replace("[[\"65114.2\",\"1.5\"]]", "[[\"2\",\"1\"],[\"1\",\"1\"]]"),
            What::TooManyLevels { max: 1 },
            field("b"),
        ),
        // Trades.
        (
            edit(TRADE, ",\"i\":\"a9188a0a-82bc-50de-be60-03eedbe3cdd7\"", ""),
            What::Missing,
            field("i"),
        ),
        (
            edit(TRADE, "a9188a0a-82bc-50de-be60-03eedbe3cdd7", "not-an-id"),
            What::Number(NumError::TooLong),
            field("i"),
        ),
        (
            edit(
                TRADE,
                "a9188a0a-82bc-50de-be60-03eedbe3cdd7",
                "9223372036854775808",
            ),
            What::IdOutOfRange,
            field("i"),
        ),
        (
            edit(TRADE, "\"Buy\"", "\"Hold\""),
            What::UnknownMessage,
            field("S"),
        ),
        (
            edit(TRADE, "\"0.004\"", "\"0\""),
            What::NotPositive,
            field("v"),
        ),
        (
            edit(TRADE, "\"T\":1", "\"T\":true"),
            What::Expected(JsonType::UnsignedInteger),
            field("T"),
        ),
        (
            edit(TRADE, "[{", "{").replace("}]}", "}}"),
            What::Expected(JsonType::Array),
            field("data"),
        ),
        (
            edit(TRADE, "[{", "[1,{"),
            What::Expected(JsonType::Object),
            field("data"),
        ),
        // Tickers.
        (
            edit(TICKER, "\"65114.20\"", "65114.2"),
            What::Expected(JsonType::String),
            field("bid1Price"),
        ),
        (
            edit(TICKER, "\"6.124\"", "\"6.1245\""),
            What::Number(NumError::TooManyDecimals { scale: 3 }),
            field("bid1Size"),
        ),
        (
            edit(TICKER, "\"delta\"", "\"update\""),
            What::UnknownMessage,
            field("type"),
        ),
    ];
    for (frame, what, location) in cases {
        let e = fails(linear, frame.as_bytes());
        assert_eq!((e.what, e.at), (what, location), "{frame}");
        assert_eq!(e.venue, Venue::BybitLinear);
    }
}

#[test]
fn empty_huge_truncated_and_non_utf8_frames() {
    let e = fails(linear, b"");
    assert_eq!((e.what, e.at), (What::Empty, Location::Root));

    let small = || BybitDecoder::with_limits(Venue::BybitLinear, 128, 4);
    let huge = format!("{BOOK}{}", " ".repeat(200));
    let e = fails(small, huge.as_bytes());
    assert_eq!(
        (e.what, e.at),
        (What::TooLarge { max: 128 }, Location::Root)
    );

    // More levels than the decoder holds.
    let five = edit(
        BOOK,
        "[[\"65114.2\",\"1.5\"]]",
        &format!("[{}]", ["[\"1\",\"1\"]"; 5].join(",")),
    );
    let e = fails(
        || BybitDecoder::with_limits(Venue::BybitLinear, 4096, 4),
        five.as_bytes(),
    );
    assert_eq!((e.what, e.at), (What::TooManyLevels { max: 4 }, field("b")));
    let trades = edit(TRADE, "[{", "[{\"T\":1},{\"T\":1},{\"T\":1},{\"T\":1},{");
    let e = fails(
        || BybitDecoder::with_limits(Venue::BybitLinear, 4096, 4),
        trades.as_bytes(),
    );
    assert_eq!(
        (e.what, e.at),
        (What::TooManyLevels { max: 4 }, field("data"))
    );

    // Every truncation of a good frame is refused as invalid JSON at a byte.
    for cut in 1..BOOK.len() {
        let e = fails(linear, &BOOK.as_bytes()[..cut]);
        assert_eq!(e.what, What::InvalidJson, "{cut}");
        assert!(
            matches!(e.at, Location::Byte(b) if b as usize <= cut),
            "{cut}: {:?}",
            e.at
        );
    }

    let mut bad = BOOK.as_bytes().to_vec();
    let pos = BOOK.find("\"s\":\"BTC").map(|p| p + 7).expect("symbol");
    bad[pos] = 0xff;
    let e = fails(linear, &bad);
    assert_eq!((e.what, e.at), (What::NotUtf8, Location::Byte(pos as u32)));
}
