//! Malformed input never panics and always comes back as a typed
//! `DecodeError` that says what is wrong and where: a table of hand-made
//! cases (truncations at every cut point, each field with each wrong JSON
//! type, missing fields, bad numbers, invalid UTF-8, oversized frames and
//! level lists, shapes Binance never sends), then proptests over random
//! bytes and mutated real frames, where the fast path and the tape path
//! must also agree.

mod util;

use proptest::prelude::*;
use tickwire::types::{NumError, Registry, Venue};
use tickwire::venue::binance::{BinanceDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS};
use tickwire::venue::{DecodeError, JsonType, Location, What};
use util::{WIRE_INCREMENT, fixture_files, fixture_lines, read_fixture};

const SYMBOL: &str = "BTCUSDT";

/// Spot and USD-M decoders with the fast path on and off, and a registry
/// holding `BTCUSDT` at the wire precision (8 decimals for both scales).
struct Decoders {
    reg: Registry,
    spot: [BinanceDecoder; 2],
    usdm: [BinanceDecoder; 2],
}

impl Decoders {
    fn new() -> Decoders {
        Decoders::with_limits(DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS)
    }

    fn with_limits(max_frame: usize, max_levels: usize) -> Decoders {
        let mut reg = Registry::new();
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            reg.add(venue, SYMBOL, WIRE_INCREMENT, WIRE_INCREMENT)
                .unwrap();
            for s in util::symbols_of(venue) {
                reg.add(venue, s, WIRE_INCREMENT, WIRE_INCREMENT).unwrap();
            }
        }
        let pair = |venue| {
            let fast = BinanceDecoder::with_limits(venue, max_frame, max_levels);
            let mut tape = BinanceDecoder::with_limits(venue, max_frame, max_levels);
            tape.set_fast_path(false);
            [fast, tape]
        };
        Decoders {
            reg,
            spot: pair(Venue::BinanceSpot),
            usdm: pair(Venue::BinanceUsdm),
        }
    }

    fn pair(&mut self, venue: Venue) -> &mut [BinanceDecoder; 2] {
        match venue {
            Venue::BinanceSpot => &mut self.spot,
            _ => &mut self.usdm,
        }
    }

    /// Decodes a stream frame both ways; they must agree. Returns the
    /// error, or `None` when the frame decoded.
    fn frame(&mut self, venue: Venue, frame: &[u8]) -> Option<DecodeError> {
        let symbols = self.reg.venue(venue);
        let [fast, tape] = match venue {
            Venue::BinanceSpot => &mut self.spot,
            _ => &mut self.usdm,
        };
        let a = fast.decode(frame, &symbols);
        let a_text = format!("{a:?}");
        let err = a.err();
        let b = format!("{:?}", tape.decode(frame, &symbols));
        assert_eq!(a_text, b, "fast vs tape on {}", show(frame));
        err
    }

    /// Decodes a REST body (for `BTCUSDT`) both ways.
    fn snapshot(&mut self, venue: Venue, body: &[u8]) -> Option<DecodeError> {
        let scaling = self.reg.lookup(venue, SYMBOL.as_bytes()).unwrap().scaling();
        let [fast, tape] = self.pair(venue);
        let a = fast.decode_snapshot(body, scaling);
        let a_text = format!("{a:?}");
        let err = a.err();
        let b = format!("{:?}", tape.decode_snapshot(body, scaling));
        assert_eq!(a_text, b, "fast vs tape on {}", show(body));
        err
    }
}

/// A frame for messages, shortened.
fn show(frame: &[u8]) -> String {
    let text = String::from_utf8_lossy(frame);
    text.chars().take(300).collect()
}

fn field(key: &'static str) -> Location {
    Location::field(key)
}

fn level_at(key: &'static str, level: u32, part: Option<u8>) -> Location {
    Location::Field {
        key,
        level: Some(level),
        part,
    }
}

/// Asserts a decode error with exactly this `what` and `at`.
#[track_caller]
fn assert_error(got: Option<DecodeError>, venue: Venue, what: What, at: Location, frame: &str) {
    let want = DecodeError { venue, what, at };
    assert_eq!(got, Some(want), "{}", show(frame.as_bytes()));
}

/// Asserts a decode error `what` located at a byte offset in `range`.
#[track_caller]
fn assert_byte_error(
    got: Option<DecodeError>,
    what: What,
    range: std::ops::RangeInclusive<usize>,
    frame: &[u8],
) {
    match got {
        Some(DecodeError {
            what: w,
            at: Location::Byte(n),
            ..
        }) if w == what && range.contains(&(n as usize)) => {}
        other => panic!(
            "want {what:?} at a byte in {range:?}, got {other:?}: {}",
            show(frame)
        ),
    }
}

// ---------------------------------------------------------------------------
// Message templates, keys in Binance's order.
// ---------------------------------------------------------------------------

/// How a field is read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// An unsigned integer.
    UInt,
    /// A string (symbol, event type or decimal).
    Str,
    /// A boolean.
    Bool,
    /// A `[[price, qty], ...]` list.
    Levels,
    /// Sent, but not read (`M` of trades).
    Unread,
}

/// Whether a frame without the field is an error.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Presence {
    Required,
    Optional,
    /// Removing it changes what the message is; covered separately.
    Identity,
}

use Kind::{Bool, Levels, Str, UInt, Unread};
use Presence::{Identity, Optional, Required};

/// One field of a template: key, valid value, kind, presence.
type Field = (&'static str, &'static str, Kind, Presence);

const LEVELS: &str = r#"[["100.01000000","1.50000000"],["100.00000000","0.00000000"]]"#;

const SPOT_DEPTH: &[Field] = &[
    ("e", r#""depthUpdate""#, Str, Identity),
    ("E", "1700000000000", UInt, Required),
    ("s", r#""BTCUSDT""#, Str, Required),
    ("U", "100", UInt, Required),
    ("u", "105", UInt, Required),
    ("b", LEVELS, Levels, Required),
    ("a", r#"[["100.02000000","2.00000000"]]"#, Levels, Required),
];

const USDM_DEPTH: &[Field] = &[
    ("e", r#""depthUpdate""#, Str, Identity),
    ("E", "1700000000000", UInt, Required),
    ("T", "1699999999999", UInt, Optional),
    ("s", r#""BTCUSDT""#, Str, Required),
    ("U", "100", UInt, Required),
    ("u", "105", UInt, Required),
    ("pu", "99", UInt, Required),
    ("b", r#"[["7.5040","813"]]"#, Levels, Required),
    ("a", "[]", Levels, Required),
];

const SPOT_BOOK_TICKER: &[Field] = &[
    ("u", "400900217", UInt, Identity),
    ("s", r#""BTCUSDT""#, Str, Identity),
    ("b", r#""25.35190000""#, Str, Identity),
    ("B", r#""31.21000000""#, Str, Required),
    ("a", r#""25.36520000""#, Str, Identity),
    ("A", r#""40.66000000""#, Str, Required),
];

const USDM_BOOK_TICKER: &[Field] = &[
    // Without `e` this is the spot form, which decodes the same.
    ("e", r#""bookTicker""#, Str, Optional),
    ("u", "400900217", UInt, Required),
    ("s", r#""BTCUSDT""#, Str, Required),
    ("b", r#""25.3519""#, Str, Required),
    ("B", r#""31""#, Str, Required),
    ("a", r#""25.3652""#, Str, Required),
    ("A", r#""40""#, Str, Required),
    ("T", "1568014460891", UInt, Optional),
    ("E", "1568014460893", UInt, Optional),
];

const SPOT_TRADE: &[Field] = &[
    ("e", r#""trade""#, Str, Identity),
    ("E", "1672515782136", UInt, Required),
    ("s", r#""BTCUSDT""#, Str, Required),
    ("t", "12345", UInt, Required),
    ("p", r#""0.00100000""#, Str, Required),
    ("q", r#""100.00000000""#, Str, Required),
    ("T", "1672515782136", UInt, Required),
    ("m", "true", Bool, Required),
    ("M", "true", Unread, Optional),
];

const USDM_AGG_TRADE: &[Field] = &[
    ("e", r#""aggTrade""#, Str, Identity),
    ("E", "123456789", UInt, Required),
    ("a", "5933014", UInt, Required),
    ("s", r#""BTCUSDT""#, Str, Required),
    ("p", r#""0.001""#, Str, Required),
    ("q", r#""100""#, Str, Required),
    ("f", "100", UInt, Required),
    ("l", "105", UInt, Required),
    ("T", "123456785", UInt, Required),
    ("m", "true", Bool, Required),
];

const USDM_SNAPSHOT: &[Field] = &[
    ("lastUpdateId", "1027024", UInt, Required),
    ("E", "1589436922972", UInt, Optional),
    ("T", "1589436922959", UInt, Optional),
    (
        "bids",
        r#"[["4.00000000","431.00000000"]]"#,
        Levels,
        Required,
    ),
    (
        "asks",
        r#"[["4.00000200","12.00000000"]]"#,
        Levels,
        Required,
    ),
];

/// The message templates: (name, venue, fields, is a REST body).
const TEMPLATES: [(&str, Venue, &[Field], bool); 7] = [
    ("spot depth", Venue::BinanceSpot, SPOT_DEPTH, false),
    ("usdm depth", Venue::BinanceUsdm, USDM_DEPTH, false),
    (
        "spot bookTicker",
        Venue::BinanceSpot,
        SPOT_BOOK_TICKER,
        false,
    ),
    (
        "usdm bookTicker",
        Venue::BinanceUsdm,
        USDM_BOOK_TICKER,
        false,
    ),
    ("spot trade", Venue::BinanceSpot, SPOT_TRADE, false),
    ("usdm aggTrade", Venue::BinanceUsdm, USDM_AGG_TRADE, false),
    ("usdm snapshot", Venue::BinanceUsdm, USDM_SNAPSHOT, true),
];

/// Renders `fields`, replacing the value of `key` (or dropping the field
/// when the replacement is `None`).
fn render(fields: &[Field], key: &str, replacement: Option<Option<&str>>) -> String {
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|&(k, v, _, _)| {
            let value = match replacement {
                Some(r) if k == key => r?,
                _ => v,
            };
            Some(format!("\"{k}\":{value}"))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn valid(fields: &[Field]) -> String {
    render(fields, "", None)
}

fn decode(d: &mut Decoders, venue: Venue, rest: bool, frame: &str) -> Option<DecodeError> {
    if rest {
        d.snapshot(venue, frame.as_bytes())
    } else {
        d.frame(venue, frame.as_bytes())
    }
}

#[test]
fn the_templates_are_valid() {
    let mut d = Decoders::new();
    for (name, venue, fields, rest) in TEMPLATES {
        let frame = valid(fields);
        assert_eq!(decode(&mut d, venue, rest, &frame), None, "{name}: {frame}");
        // Keys in Binance's order: the fast path takes every template.
        let before = d.pair(venue)[0].stats().fast;
        decode(&mut d, venue, rest, &frame);
        assert_eq!(d.pair(venue)[0].stats().fast, before + 1, "{name}");
    }
}

#[test]
fn each_field_with_each_wrong_json_type() {
    let mut d = Decoders::new();
    let mut cases = 0;
    for (name, venue, fields, rest) in TEMPLATES {
        for &(key, _, kind, _) in fields {
            let (wrong, want): (&[&str], JsonType) = match kind {
                UInt => (
                    &[r#""1""#, "-1", "1.5", "1e3", "true", "null", "{}", "[]"],
                    JsonType::UnsignedInteger,
                ),
                Str => (&["1", "-1.5", "true", "null", "[]", "{}"], JsonType::String),
                Bool => (&["1", r#""true""#, "null", "[]"], JsonType::Bool),
                Levels => (&[r#""x""#, "{}", "null", "5", "false"], JsonType::Array),
                Unread => {
                    // Not read: any value is fine.
                    let frame = render(fields, key, Some(Some("{\"x\":[1]}")));
                    assert_eq!(decode(&mut d, venue, rest, &frame), None, "{name}");
                    continue;
                }
            };
            for value in wrong {
                let frame = render(fields, key, Some(Some(value)));
                let got = decode(&mut d, venue, rest, &frame);
                assert_error(got, venue, What::Expected(want), field(key), &frame);
                cases += 1;
            }
        }
    }
    assert!(cases > 250, "{cases}");
}

#[test]
fn each_missing_field() {
    let mut d = Decoders::new();
    for (name, venue, fields, rest) in TEMPLATES {
        for &(key, _, _, presence) in fields {
            let frame = render(fields, key, Some(None));
            let got = decode(&mut d, venue, rest, &frame);
            match presence {
                Required => assert_error(got, venue, What::Missing, field(key), &frame),
                Optional => assert_eq!(got, None, "{name} without {key}"),
                Identity => assert!(got.is_some(), "{name} without {key}: {frame}"),
            }
        }
    }
    // A spot bookTicker missing one of the keys that identify it is no
    // known message at all.
    for key in ["u", "s", "b", "a"] {
        let frame = render(SPOT_BOOK_TICKER, key, Some(None));
        let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
        assert_error(
            got,
            Venue::BinanceSpot,
            What::UnknownMessage,
            Location::Root,
            &frame,
        );
    }
    // A trade without its event type is no known message either.
    let frame = render(SPOT_TRADE, "e", Some(None));
    let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
    assert_error(
        got,
        Venue::BinanceSpot,
        What::UnknownMessage,
        Location::Root,
        &frame,
    );
    // Spot depth may omit `pu`; USD-M may not (checked above).
    let frame = valid(SPOT_DEPTH);
    assert_eq!(d.frame(Venue::BinanceSpot, frame.as_bytes()), None);
}

/// Bad decimal text and the number error it must give (at scale 8).
const BAD_NUMBERS: &[(&str, NumError)] = &[
    ("1e5", NumError::InvalidChar { at: 1, byte: b'e' }),
    ("1E-3", NumError::InvalidChar { at: 1, byte: b'E' }),
    ("0.123456789", NumError::TooManyDecimals { scale: 8 }),
    ("1.0000000001", NumError::TooManyDecimals { scale: 8 }),
    ("99999999999999999999", NumError::Overflow),
    ("92233720368.54775808", NumError::Overflow),
    ("", NumError::Empty),
    ("1.", NumError::InvalidChar { at: 1, byte: b'.' }),
    (".5", NumError::InvalidChar { at: 0, byte: b'.' }),
    ("1.2.3", NumError::InvalidChar { at: 3, byte: b'.' }),
    ("+1", NumError::SignNotAllowed),
    (" 1", NumError::InvalidChar { at: 0, byte: b' ' }),
    ("1 ", NumError::InvalidChar { at: 1, byte: b' ' }),
    ("0x10", NumError::InvalidChar { at: 1, byte: b'x' }),
    ("NaN", NumError::InvalidChar { at: 0, byte: b'N' }),
    ("1,5", NumError::InvalidChar { at: 1, byte: b',' }),
    // Full-width digit one: the first byte of its UTF-8 encoding.
    ("\u{ff11}", NumError::InvalidChar { at: 0, byte: 0xEF }),
];

/// Quantities are unsigned.
const BAD_QUANTITIES: &[(&str, NumError)] = &[
    ("-1.00000000", NumError::SignNotAllowed),
    ("-0", NumError::SignNotAllowed),
    ("-", NumError::SignNotAllowed),
];

#[test]
fn bad_numbers_in_every_decimal_position() {
    let mut d = Decoders::new();
    let long = "1".repeat(65);
    let too_long = [(long.as_str(), NumError::TooLong)];
    let all = BAD_NUMBERS.iter().chain(&too_long);
    for &(text, num) in all {
        let quoted = format!("\"{text}\"");
        // Level lists: the second level, price then quantity.
        for (part, fields, key, venue, rest) in [
            (0u8, SPOT_DEPTH, "b", Venue::BinanceSpot, false),
            (1, SPOT_DEPTH, "a", Venue::BinanceSpot, false),
            (0, USDM_SNAPSHOT, "bids", Venue::BinanceUsdm, true),
            (1, USDM_SNAPSHOT, "asks", Venue::BinanceUsdm, true),
        ] {
            let pair = if part == 0 {
                format!(r#"["1.00000000","1"],[{quoted},"1"]"#)
            } else {
                format!(r#"["1.00000000","1"],["1",{quoted}]"#)
            };
            let frame = render(fields, key, Some(Some(&format!("[{pair}]"))));
            let got = decode(&mut d, venue, rest, &frame);
            assert_error(
                got,
                venue,
                What::Number(num),
                level_at(key, 1, Some(part)),
                &frame,
            );
        }
        // Plain decimal fields.
        for (fields, key, venue) in [
            (SPOT_BOOK_TICKER, "b", Venue::BinanceSpot),
            (SPOT_BOOK_TICKER, "A", Venue::BinanceSpot),
            (USDM_BOOK_TICKER, "a", Venue::BinanceUsdm),
            (SPOT_TRADE, "p", Venue::BinanceSpot),
            (USDM_AGG_TRADE, "q", Venue::BinanceUsdm),
        ] {
            let frame = render(fields, key, Some(Some(&quoted)));
            let got = d.frame(venue, frame.as_bytes());
            assert_error(got, venue, What::Number(num), field(key), &frame);
        }
    }
    for &(text, num) in BAD_QUANTITIES {
        let quoted = format!("\"{text}\"");
        let frame = render(SPOT_TRADE, "q", Some(Some(&quoted)));
        let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
        assert_error(
            got,
            Venue::BinanceSpot,
            What::Number(num),
            field("q"),
            &frame,
        );
        let levels = format!("[[\"1\",{quoted}]]");
        let frame = render(USDM_DEPTH, "a", Some(Some(&levels)));
        let got = d.frame(Venue::BinanceUsdm, frame.as_bytes());
        assert_error(
            got,
            Venue::BinanceUsdm,
            What::Number(num),
            level_at("a", 0, Some(1)),
            &frame,
        );
    }
}

#[test]
fn numbers_at_the_edge_of_the_range_decode() {
    let mut d = Decoders::new();
    for (text, ok) in [
        ("92233720368.54775807", true),
        ("0.1234567800", true),
        ("1.00000000000000000000", true),
        ("0.00000001", true),
        (
            "0000000000000000000000000000000000000000000000000000000000000001",
            true,
        ), // 64 bytes
    ] {
        let frame = render(SPOT_TRADE, "p", Some(Some(&format!("\"{text}\""))));
        assert_eq!(
            d.frame(Venue::BinanceSpot, frame.as_bytes()).is_none(),
            ok,
            "{text}"
        );
    }
    // Ids: up to i64::MAX (events carry them as signed values).
    let frame = render(SPOT_DEPTH, "u", Some(Some("9223372036854775807")));
    assert_eq!(d.frame(Venue::BinanceSpot, frame.as_bytes()), None);
}

/// Regression (hostile venue): a correctly chained diff with `u = 2^64 - 1`
/// froze the book for good (every later diff "stale"), and a 2^64 id was
/// "invalid JSON at byte 88". Ids above `i64::MAX` are refused, named by
/// their field, by both decoders alike.
#[test]
fn ids_beyond_i64_are_out_of_range_at_their_field() {
    let mut d = Decoders::new();
    let cases: [(&[Field], &str, Venue, bool); 9] = [
        (SPOT_DEPTH, "U", Venue::BinanceSpot, false),
        (SPOT_DEPTH, "u", Venue::BinanceSpot, false),
        (USDM_DEPTH, "u", Venue::BinanceUsdm, false),
        (USDM_DEPTH, "pu", Venue::BinanceUsdm, false),
        (SPOT_BOOK_TICKER, "u", Venue::BinanceSpot, false),
        (SPOT_TRADE, "t", Venue::BinanceSpot, false),
        (USDM_AGG_TRADE, "a", Venue::BinanceUsdm, false),
        (USDM_AGG_TRADE, "l", Venue::BinanceUsdm, false),
        (USDM_SNAPSHOT, "lastUpdateId", Venue::BinanceUsdm, true),
    ];
    for (fields, key, venue, rest) in cases {
        for id in [
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "100000000000000000000000000000",
        ] {
            let frame = render(fields, key, Some(Some(id)));
            let got = decode(&mut d, venue, rest, &frame);
            assert_error(got, venue, What::IdOutOfRange, field(key), &frame);
            let shown = got.map(|e| e.to_string()).unwrap_or_default();
            assert!(shown.contains(&format!("`{key}`")), "{shown}");
        }
    }
    // A huge timestamp is not an id, but still named by its field.
    let frame = render(SPOT_DEPTH, "E", Some(Some("18446744073709551616")));
    let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
    assert_error(
        got,
        Venue::BinanceSpot,
        What::Expected(JsonType::UnsignedInteger),
        field("E"),
        &frame,
    );
}

/// Regression (hostile venue): negative and zero prices were accepted
/// everywhere (levels at `-1` and `0` in the book, trades at `-43000.01`, a
/// BBO bid of `-43000`). A price must be positive; a zero quantity is a
/// delete in a book and invalid in a trade.
#[test]
fn prices_must_be_positive_and_trades_need_a_quantity() {
    let mut d = Decoders::new();
    for price in ["-1.00000000", "0.00000000", "0", "-43000.01", "-0.00000001"] {
        let quoted = format!("\"{price}\"");
        for (fields, key, venue, rest) in [
            (SPOT_DEPTH, "b", Venue::BinanceSpot, false),
            (USDM_DEPTH, "a", Venue::BinanceUsdm, false),
            (USDM_SNAPSHOT, "bids", Venue::BinanceUsdm, true),
        ] {
            let levels = format!(r#"[["1.00000000","1"],[{quoted},"1"]]"#);
            let frame = render(fields, key, Some(Some(&levels)));
            let got = decode(&mut d, venue, rest, &frame);
            assert_error(
                got,
                venue,
                What::NotPositive,
                level_at(key, 1, Some(0)),
                &frame,
            );
        }
        for (fields, key, venue) in [
            (SPOT_BOOK_TICKER, "b", Venue::BinanceSpot),
            (SPOT_BOOK_TICKER, "a", Venue::BinanceSpot),
            (USDM_BOOK_TICKER, "b", Venue::BinanceUsdm),
            (SPOT_TRADE, "p", Venue::BinanceSpot),
            (USDM_AGG_TRADE, "p", Venue::BinanceUsdm),
        ] {
            let frame = render(fields, key, Some(Some(&quoted)));
            let got = d.frame(venue, frame.as_bytes());
            assert_error(got, venue, What::NotPositive, field(key), &frame);
        }
    }
    for qty in ["0.00000000", "0"] {
        let quoted = format!("\"{qty}\"");
        for (fields, venue) in [
            (SPOT_TRADE, Venue::BinanceSpot),
            (USDM_AGG_TRADE, Venue::BinanceUsdm),
        ] {
            let frame = render(fields, "q", Some(Some(&quoted)));
            let got = d.frame(venue, frame.as_bytes());
            assert_error(got, venue, What::NotPositive, field("q"), &frame);
        }
    }
    // A zero quantity in a level is a delete, as ever.
    assert_eq!(
        d.frame(Venue::BinanceSpot, valid(SPOT_DEPTH).as_bytes()),
        None
    );
}

/// An instrument that opts in to negative prices decodes them (both paths).
#[test]
fn an_instrument_may_opt_in_to_negative_prices() {
    let mut reg = Registry::new();
    let id = reg
        .add(Venue::BinanceSpot, SYMBOL, WIRE_INCREMENT, WIRE_INCREMENT)
        .unwrap();
    assert!(reg.set_negative_prices(id, true));
    let symbols = reg.venue(Venue::BinanceSpot);
    let mut fast = BinanceDecoder::new(Venue::BinanceSpot);
    let mut tape = BinanceDecoder::new(Venue::BinanceSpot);
    tape.set_fast_path(false);
    for price in ["-1.00000000", "0.00000000"] {
        let frame = render(SPOT_TRADE, "p", Some(Some(&format!("\"{price}\""))));
        let a = format!("{:?}", fast.decode(frame.as_bytes(), &symbols));
        let b = format!("{:?}", tape.decode(frame.as_bytes(), &symbols));
        assert_eq!(a, b);
        assert!(a.starts_with("Ok(Trade"), "{a}");
    }
}

#[test]
fn levels_that_are_not_price_quantity_pairs() {
    let mut d = Decoders::new();
    for value in [
        r#"[["1"]]"#,
        r#"[["1","2","3"]]"#,
        r#"[[1,"2"]]"#,
        r#"[["1",2]]"#,
        r#"[[1.5,2.5]]"#,
        r#"[[]]"#,
        r#"["1","2"]"#,
        r#"[{"p":"1","q":"2"}]"#,
        r#"[null]"#,
        r#"[[["1","2"]]]"#,
    ] {
        let frame = render(SPOT_DEPTH, "b", Some(Some(value)));
        let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
        assert_error(
            got,
            Venue::BinanceSpot,
            What::Expected(JsonType::Level),
            level_at("b", 0, None),
            &frame,
        );
    }
    // The bad pair's index is reported.
    let frame = render(
        USDM_SNAPSHOT,
        "asks",
        Some(Some(r#"[["1","2"],["3","4"],["5"]]"#)),
    );
    let got = d.snapshot(Venue::BinanceUsdm, frame.as_bytes());
    assert_error(
        got,
        Venue::BinanceUsdm,
        What::Expected(JsonType::Level),
        level_at("asks", 2, None),
        &frame,
    );
}

#[test]
fn shapes_binance_never_sends() {
    let mut d = Decoders::new();
    let root = |d: &mut Decoders, venue: Venue, frame: &str| {
        let got = d.frame(venue, frame.as_bytes());
        assert_error(got, venue, What::UnknownMessage, Location::Root, frame);
    };
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        for frame in [
            "[]",
            "null",
            "true",
            "1",
            "\"depthUpdate\"",
            "{}",
            "[{\"e\":\"depthUpdate\"}]",
            r#"{"x":{"y":{"z":[[[[]]]]}}}"#,
            r#"{"a":{"b":{"c":[1,[2,[3]]]}}}"#,
            // Envelopes: nested twice, data not an object, stream not a string.
            r#"{"stream":"btcusdt@depth","data":{"data":{"e":"depthUpdate"}}}"#,
            r#"{"stream":"btcusdt@depth","data":[1,2]}"#,
            r#"{"stream":5,"data":{"e":"depthUpdate"}}"#,
        ] {
            root(&mut d, venue, frame);
        }
        for event in [
            "depthUpdat",
            "DEPTHUPDATE",
            "depthUpdate ",
            "",
            "trade\u{0}",
        ] {
            let frame = format!(r#"{{"e":"{}","E":1}}"#, event.replace('\u{0}', "\\u0000"));
            let got = d.frame(venue, frame.as_bytes());
            assert_error(got, venue, What::UnknownMessage, field("e"), &frame);
        }
        // REST bodies that are not books.
        for body in ["[]", "null", "{}", r#"{"bids":[],"asks":[]}"#] {
            let got = d.snapshot(venue, body.as_bytes());
            let want = if body.starts_with('{') {
                (What::Missing, field("lastUpdateId"))
            } else {
                (What::UnknownMessage, Location::Root)
            };
            assert_error(got, venue, want.0, want.1, body);
        }
        let body = r#"{"lastUpdateId":5,"asks":[]}"#;
        assert_error(
            d.snapshot(venue, body.as_bytes()),
            venue,
            What::Missing,
            field("bids"),
            body,
        );
        let body = r#"{"code":-1121}"#;
        assert_error(
            d.snapshot(venue, body.as_bytes()),
            venue,
            What::Missing,
            field("msg"),
            body,
        );
    }
    // Replies with a bad shape.
    let v = Venue::BinanceSpot;
    for (frame, what, at) in [
        (r#"{"code":2}"#, What::Missing, field("msg")),
        (
            r#"{"code":"2","msg":"x"}"#,
            What::Expected(JsonType::Integer),
            field("code"),
        ),
        (
            r#"{"code":2,"msg":7}"#,
            What::Expected(JsonType::String),
            field("msg"),
        ),
        (r#"{"e":"serverShutdown"}"#, What::Missing, field("E")),
    ] {
        let got = d.frame(v, frame.as_bytes());
        assert_error(got, v, what, at, frame);
    }
    // A known event tickwire does not consume is not an error, whatever its body.
    let frame = r#"{"e":"kline","E":"x","k":[]}"#;
    assert_eq!(d.frame(v, frame.as_bytes()), None);
}

#[test]
fn empty_and_blank_input() {
    let mut d = Decoders::new();
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        assert_error(d.frame(venue, b""), venue, What::Empty, Location::Root, "");
        assert_error(
            d.snapshot(venue, b""),
            venue,
            What::Empty,
            Location::Root,
            "",
        );
        for blank in [" ", "\n", " \t\r\n ", &" ".repeat(5_000)] {
            let got = d.frame(venue, blank.as_bytes());
            assert_byte_error(got, What::InvalidJson, 0..=blank.len(), blank.as_bytes());
        }
    }
}

#[test]
fn json_syntax_errors_point_into_the_frame() {
    let mut d = Decoders::new();
    let good = valid(SPOT_DEPTH);
    let v = Venue::BinanceSpot;
    let e_at = good.find("\"E\":").unwrap() + 4;
    // (frame, where the error may be reported)
    let cases: Vec<(String, std::ops::RangeInclusive<usize>)> = vec![
        // Trailing garbage, a second object (reported where the first
        // value ends), a trailing comma.
        (format!("{good} x"), good.len() - 1..=good.len() + 1),
        (format!("{good}{good}"), good.len() - 1..=good.len()),
        (good.replacen("]]", "],]", 1), 0..=good.len()),
        // Numbers JSON does not allow.
        (good.replacen("\"E\":1", "\"E\":01", 1), e_at..=e_at + 2),
        (good.replacen("\"E\":1", "\"E\":+1", 1), e_at..=e_at + 2),
        (good.replacen("\"E\":1", "\"E\":.5", 1), e_at..=e_at + 2),
        // (Valid JSON integers beyond u64 are named by their field: see
        // `ids_beyond_i64_are_out_of_range_at_their_field`.)
        // Strings: a raw control byte, a lone surrogate, a bad escape.
        (good.replacen("BTCUSDT", "BTC\nUSDT", 1), 0..=good.len()),
        (
            good.replacen("BTCUSDT", "BTCUSDT\\ud800", 1),
            0..=good.len() + 6,
        ),
        (
            good.replacen("BTCUSDT", "BTC\\qUSDT", 1),
            0..=good.len() + 2,
        ),
        // A byte-order mark.
        (format!("\u{feff}{good}"), 0..=3),
        // Unbalanced brackets, deep nesting (simd-json stops at depth 1024).
        (good.replacen("]]", "]", 1), 0..=good.len()),
        (
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            0..=200_000,
        ),
        (
            format!("{{\"b\":{}{}}}", "[".repeat(5_000), "]".repeat(5_000)),
            0..=10_010,
        ),
    ];
    for (frame, range) in cases {
        let got = d.frame(v, frame.as_bytes());
        assert_byte_error(got, What::InvalidJson, range, frame.as_bytes());
    }
}

#[test]
fn invalid_utf8_is_refused() {
    let mut d = Decoders::new();
    let good = valid(SPOT_DEPTH);
    let at_symbol = good.find("BTCUSDT").unwrap() + 3;
    for bad in [
        &[0xFF][..],
        &[0xC3],                   // truncated two-byte sequence
        &[0xE2, 0x82],             // truncated three-byte sequence
        &[0xC0, 0xAF],             // overlong '/'
        &[0xED, 0xA0, 0x80],       // UTF-16 surrogate
        &[0xF4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    ] {
        let mut frame = good.as_bytes()[..at_symbol].to_vec();
        frame.extend_from_slice(bad);
        frame.extend_from_slice(&good.as_bytes()[at_symbol..]);
        let got = d.frame(Venue::BinanceSpot, &frame);
        // simd-json validates UTF-8 in blocks; the error names the first
        // bad byte itself (regression: it said byte 0).
        assert_byte_error(got, What::NotUtf8, at_symbol..=at_symbol, &frame);
        let got = d.snapshot(Venue::BinanceSpot, &frame);
        assert_byte_error(got, What::NotUtf8, at_symbol..=at_symbol, &frame);
    }
}

/// Valid frames to cut, mutate and compare.
fn corpus() -> Vec<(Venue, bool, Vec<u8>)> {
    let mut out = Vec::new();
    for (_, venue, fields, rest) in TEMPLATES {
        out.push((venue, rest, valid(fields).into_bytes()));
    }
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        for path in fixture_files(venue) {
            if path.ends_with(".jsonl") && !path.contains("combined") {
                for line in fixture_lines(&path).into_iter().take(2) {
                    out.push((venue, false, line));
                }
            }
        }
    }
    out
}

#[test]
fn every_truncation_is_invalid_json() {
    let mut d = Decoders::new();
    let mut cuts = 0;
    for (venue, rest, frame) in corpus() {
        for cut in 1..frame.len() {
            let part = &frame[..cut];
            let got = if rest {
                d.snapshot(venue, part)
            } else {
                d.frame(venue, part)
            };
            // Every proper prefix of an object is invalid; simd-json reports
            // the offset where it gave up, which is within the prefix.
            assert_byte_error(got, What::InvalidJson, 0..=cut, part);
            cuts += 1;
        }
    }
    // A real 48 kB snapshot, cut at a few hundred points.
    let body = read_fixture("binance/rest_depth_snapshot_NKNUSDT.json");
    for cut in (1..body.len()).step_by(149) {
        let got = d.snapshot(Venue::BinanceSpot, &body[..cut]);
        assert_byte_error(got, What::InvalidJson, 0..=cut, &body[..cut]);
        cuts += 1;
    }
    assert!(cuts > 3_000, "{cuts}");
}

#[test]
fn frames_over_the_size_limit_are_refused_whole() {
    // A 5 MB depth frame: larger than any limit here.
    let level = r#"["100.00000000","1.00000000"],"#;
    let mut frame = String::from(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":["#);
    while frame.len() < 5_000_000 {
        frame.push_str(level);
    }
    frame.push_str(r#"["1.00000000","1.00000000"]],"a":[]}"#);
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut small = Decoders::with_limits(1 << 20, DEFAULT_MAX_LEVELS);
        let got = small.frame(venue, frame.as_bytes());
        assert_error(
            got,
            venue,
            What::TooLarge { max: 1 << 20 },
            Location::Root,
            "5 MB",
        );
        let got = small.snapshot(venue, frame.as_bytes());
        assert_error(
            got,
            venue,
            What::TooLarge { max: 1 << 20 },
            Location::Root,
            "5 MB",
        );
        let mut default = Decoders::new();
        let got = default.frame(venue, frame.as_bytes());
        let max = DEFAULT_MAX_FRAME as u32;
        assert_error(got, venue, What::TooLarge { max }, Location::Root, "5 MB");
    }
    // The limit is inclusive: a frame of exactly `max_frame` bytes decodes.
    let good = valid(SPOT_BOOK_TICKER);
    let mut exact = Decoders::with_limits(good.len(), 16);
    assert_eq!(exact.frame(Venue::BinanceSpot, good.as_bytes()), None);
    let padded = format!("{good} ");
    let got = exact.frame(Venue::BinanceSpot, padded.as_bytes());
    let max = good.len() as u32;
    assert_error(
        got,
        Venue::BinanceSpot,
        What::TooLarge { max },
        Location::Root,
        &padded,
    );
}

#[test]
fn level_lists_over_the_limit_are_refused() {
    let mut d = Decoders::with_limits(1 << 16, 4);
    let levels = |n: usize| {
        let pairs: Vec<String> = (0..n)
            .map(|i| format!(r#"["{}.00000000","1.00000000"]"#, 100 - i))
            .collect();
        format!("[{}]", pairs.join(","))
    };
    let four = levels(4);
    let five = levels(5);
    let frame = render(SPOT_DEPTH, "b", Some(Some(&four)));
    assert_eq!(d.frame(Venue::BinanceSpot, frame.as_bytes()), None);
    let frame = render(SPOT_DEPTH, "a", Some(Some(&five)));
    let got = d.frame(Venue::BinanceSpot, frame.as_bytes());
    assert_error(
        got,
        Venue::BinanceSpot,
        What::TooManyLevels { max: 4 },
        field("a"),
        &frame,
    );
    let body = render(USDM_SNAPSHOT, "bids", Some(Some(&five)));
    let got = d.snapshot(Venue::BinanceUsdm, body.as_bytes());
    assert_error(
        got,
        Venue::BinanceUsdm,
        What::TooManyLevels { max: 4 },
        field("bids"),
        &body,
    );
}

// ---------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------

/// Bytes that steer mutations into the interesting parts of a frame.
const INTERESTING: &[u8] = b"0123456789.-+eE \"\\,:[]{}nulltrfase\x00\x7f\xc3\xff";

#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), prop::sample::select(INTERESTING)];
    prop_oneof![
        4 => (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        2 => (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(frame: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = frame.to_vec();
    let n = out.len().max(1);
    match *m {
        Mutation::Replace(i, b) => out[i % n] = b,
        Mutation::Insert(i, b) => out.insert(i % (n + 1), b),
        Mutation::Delete(i) => {
            out.remove(i % n);
        }
        Mutation::Truncate(i) => out.truncate(i % n),
    }
    out
}

proptest! {
    #![proptest_config(util::proptest_config(512))]

    /// Arbitrary bytes: no panic, both paths agree, every venue and entry point.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut d = Decoders::with_limits(1 << 16, 64);
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            d.frame(venue, &bytes);
            d.snapshot(venue, &bytes);
        }
    }

    /// Random text over JSON's alphabet reaches deeper into the decoder.
    #[test]
    fn json_like_text_never_panics(
        text in r#"\{("(e|E|s|U|u|pu|b|a|B|A|T|t|p|q|m|f|l|stream|data|lastUpdateId|bids|asks|code|msg|result|id)":([0-9]{1,22}|"[0-9.\-eA-Z]{0,12}"|\[(\["[0-9.]{0,12}","[0-9.\-]{0,12}"\],?){0,4}\]|true|null|\{\}|"depthUpdate"|"bookTicker"|"aggTrade"|"trade"|"BTCUSDT"),?){0,10}\}?"#
    ) {
        let mut d = Decoders::with_limits(1 << 16, 64);
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            d.frame(venue, text.as_bytes());
            d.snapshot(venue, text.as_bytes());
        }
    }
}

proptest! {
    #![proptest_config(util::proptest_config(768))]

    /// One mutation of a valid frame: no panic, and the fast path and the
    /// tape path agree (both errors, or the same message).
    #[test]
    fn mutated_frames_agree_on_both_paths(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..3),
    ) {
        thread_local! {
            static CORPUS: Vec<(Venue, bool, Vec<u8>)> = corpus();
        }
        let (venue, rest, frame) = CORPUS.with(|c| c[pick.index(c.len())].clone());
        let mut mutated = frame;
        for m in &mutations {
            mutated = mutate(&mutated, m);
        }
        let mut d = Decoders::with_limits(1 << 16, 64);
        if rest {
            d.snapshot(venue, &mutated);
        } else {
            d.frame(venue, &mutated);
        }
    }
}
