//! The template fast path against the simd-json tape path (proptest).
//!
//! Valid frames of every type the fast path handles — spot and USD-M
//! depthUpdate, bookTicker, trade, aggTrade (both key orders), REST
//! snapshots — with random values (prices and quantities at 0–8 decimals,
//! ids over the whole `u64` range, booleans), bare or in the combined-stream
//! envelope, plus variations the fast path must decline (whitespace, escaped
//! characters, extra keys), reordered keys and 9+ decimals: a decoder with
//! the fast path on and one with it off must give identical results.

mod util;

use proptest::prelude::*;
use tickwire::types::{Registry, Venue};
use tickwire::venue::binance::{BinanceDecoder, BinanceMsg};

/// Symbols registered on both venues: (symbol, tick, lot, price scale, qty scale).
const INSTRUMENTS: [(&str, &str, &str, u8, u8); 4] = [
    ("BTCUSDT", "0.01", "0.00001", 2, 5),
    ("NKNUSDT", "0.00000001", "0.00000001", 8, 8),
    ("SUSHIUSDT", "0.001", "1", 3, 0),
    ("ETHBTC", "0.000001", "0.0001", 6, 4),
];

fn registry() -> Registry {
    let mut reg = Registry::new();
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        for (symbol, tick, lot, _, _) in INSTRUMENTS {
            reg.add(venue, symbol, tick, lot).unwrap();
        }
    }
    reg
}

/// A JSON value of a generated frame.
#[derive(Clone, Debug)]
enum Val {
    /// Written as is (integers, booleans, event names, symbols with quotes).
    Raw(String),
    /// A decimal string (written with quotes).
    Dec(String),
    /// `[[price, qty], ...]`.
    Levels(Vec<(String, String)>),
}

/// A generated frame: fields in order, the optional envelope, and whether
/// it is a REST body.
#[derive(Clone, Debug)]
struct Frame {
    venue: Venue,
    rest: bool,
    stream: Option<String>,
    fields: Vec<(String, Val)>,
}

/// Formatting choices.
#[derive(Clone, Copy, Debug, Default)]
struct Style {
    /// Bit i set: whitespace around field i's colon and comma.
    spaces: u64,
    /// Whitespace around the whole frame.
    outer: bool,
}

impl Frame {
    fn render(&self, style: Style) -> String {
        let ws = |on: bool| if on { " \n\t" } else { "" };
        let mut body = String::from("{");
        for (i, (key, val)) in self.fields.iter().enumerate() {
            let sp = style.spaces >> (i % 64) & 1 == 1;
            if i > 0 {
                body.push(',');
                body.push_str(ws(sp));
            }
            body.push_str(&format!("\"{key}\"{}:{}", ws(sp), ws(sp)));
            match val {
                Val::Raw(r) => body.push_str(r),
                Val::Dec(d) => body.push_str(&format!("\"{d}\"")),
                Val::Levels(levels) => {
                    let parts: Vec<String> = levels
                        .iter()
                        .map(|(p, q)| format!("[\"{p}\",{}\"{q}\"]", ws(sp)))
                        .collect();
                    body.push_str(&format!("[{}]", parts.join(",")));
                }
            }
        }
        body.push('}');
        let frame = match &self.stream {
            Some(s) => format!("{{\"stream\":\"{s}\",\"data\":{body}}}"),
            None => body,
        };
        if style.outer {
            format!(" {frame}\n")
        } else {
            frame
        }
    }
}

// ---------------------------------------------------------------------------
// Values.
// ---------------------------------------------------------------------------

/// `m` at `scale`, written in one of Binance's styles: 0 = eight decimals
/// (spot, `"813.00000000"`), 1 = trailing zeros trimmed (futures, `"7.504"`,
/// `"813"`), 2 = exactly `scale` decimals, 3 = trimmed but with at least one
/// decimal (`"813.0"`).
fn write_decimal(m: u64, scale: u8, style: u8, negative: bool) -> String {
    let one = 10u64.pow(u32::from(scale));
    let (int, frac) = (m / one, m % one);
    let mut digits = if scale == 0 {
        String::new()
    } else {
        format!("{frac:0width$}", width = usize::from(scale))
    };
    match style {
        0 => {
            while digits.len() < 8 {
                digits.push('0');
            }
        }
        2 => {}
        _ => {
            digits.truncate(digits.trim_end_matches('0').len());
            if style == 3 && digits.is_empty() {
                digits.push('0');
            }
        }
    }
    let sign = if negative { "-" } else { "" };
    if digits.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{digits}")
    }
}

/// A decimal for an instrument at `scale`: mostly fitting it, sometimes any
/// decimal text with up to 8 decimals (which may not fit), sometimes zero.
/// Prices (`signed`) are zero or negative now and then — both refused
/// unless the instrument allows them — and rarely enough that a frame of a
/// few dozen levels still decodes often.
fn decimal(scale: u8, signed: bool) -> impl Strategy<Value = String> {
    let zero = if signed { 1 } else { 8 };
    let fitting = (
        prop_oneof![zero => Just(0u64), 48 => 0u64..10_000_000_000_000, 8 => any::<u64>()],
        0u8..4,
        prop::bool::weighted(if signed { 0.01 } else { 0.0 }),
    )
        .prop_map(move |(m, style, neg)| {
            // Keep the value within i64 at this scale most of the time.
            let m = if m > i64::MAX as u64 { m >> 2 } else { m };
            write_decimal(m, scale, style, neg)
        });
    prop_oneof![
        8 => fitting,
        2 => "(0|[1-9][0-9]{0,11})(\\.[0-9]{1,8})?",
        1 => "[0-9]{1,7}\\.[0-9]{8}",
    ]
}

/// Ids and times: mostly realistic, now and then beyond `i64::MAX` (an id
/// there is refused).
fn uint() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => 1_500_000_000_000u64..1_800_000_000_000,
        8 => 0..=i64::MAX as u64,
        1 => any::<u64>(),
        4 => 0u64..10,
    ]
    .prop_map(|v| v.to_string())
}

fn boolean() -> impl Strategy<Value = String> {
    any::<bool>().prop_map(|b| b.to_string())
}

/// An instrument index (4 = a symbol nobody subscribed to).
fn instrument() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0usize..4, 1 => Just(4usize)]
}

fn symbol_of(i: usize) -> &'static str {
    INSTRUMENTS.get(i).map_or("XYZUSDT", |x| x.0)
}

fn scales_of(i: usize) -> (u8, u8) {
    INSTRUMENTS.get(i).map_or((8, 8), |x| (x.3, x.4))
}

fn levels(scales: (u8, u8), max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((decimal(scales.0, true), decimal(scales.1, false)), 0..max)
}

fn raw(s: impl Into<String>) -> Val {
    Val::Raw(s.into())
}

fn quoted(s: &str) -> Val {
    Val::Raw(format!("\"{s}\""))
}

fn fields(pairs: Vec<(&str, Val)>) -> Vec<(String, Val)> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

// ---------------------------------------------------------------------------
// Frames.
// ---------------------------------------------------------------------------

fn stream_name(symbol: &str, kind: &str) -> String {
    format!("{}@{kind}", symbol.to_ascii_lowercase())
}

fn depth(venue: Venue) -> impl Strategy<Value = Frame> {
    (instrument(), any::<bool>()).prop_flat_map(move |(i, wrap)| {
        let scales = scales_of(i);
        (
            uint(),
            uint(),
            uint(),
            uint(),
            uint(),
            levels(scales, 12),
            levels(scales, 12),
        )
            .prop_map(move |(e, t, first, last, prev, bids, asks)| {
                let sym = symbol_of(i);
                let mut f = vec![("e", quoted("depthUpdate")), ("E", raw(e))];
                if venue == Venue::BinanceUsdm {
                    f.push(("T", raw(t)));
                }
                f.extend([("s", quoted(sym)), ("U", raw(first)), ("u", raw(last))]);
                if venue == Venue::BinanceUsdm {
                    f.push(("pu", raw(prev)));
                }
                f.extend([("b", Val::Levels(bids)), ("a", Val::Levels(asks))]);
                Frame {
                    venue,
                    rest: false,
                    stream: wrap.then(|| stream_name(sym, "depth@100ms")),
                    fields: fields(f),
                }
            })
    })
}

fn book_ticker(venue: Venue) -> impl Strategy<Value = Frame> {
    (instrument(), any::<bool>()).prop_flat_map(move |(i, wrap)| {
        let (ps, qs) = scales_of(i);
        (
            uint(),
            decimal(ps, true),
            decimal(qs, false),
            decimal(ps, true),
            decimal(qs, false),
            uint(),
            uint(),
        )
            .prop_map(move |(u, b, bq, a, aq, t, e)| {
                let sym = symbol_of(i);
                let mut f = Vec::new();
                if venue == Venue::BinanceUsdm {
                    f.push(("e", quoted("bookTicker")));
                }
                f.extend([
                    ("u", raw(u)),
                    ("s", quoted(sym)),
                    ("b", Val::Dec(b)),
                    ("B", Val::Dec(bq)),
                    ("a", Val::Dec(a)),
                    ("A", Val::Dec(aq)),
                ]);
                if venue == Venue::BinanceUsdm {
                    f.extend([("T", raw(t)), ("E", raw(e))]);
                }
                Frame {
                    venue,
                    rest: false,
                    stream: wrap.then(|| stream_name(sym, "bookTicker")),
                    fields: fields(f),
                }
            })
    })
}

/// `trade` (spot), `aggTrade` spot (symbol before id) or USD-M (id first).
fn trade(venue: Venue, aggregated: bool) -> impl Strategy<Value = Frame> {
    (instrument(), any::<bool>()).prop_flat_map(move |(i, wrap)| {
        let (ps, qs) = scales_of(i);
        (
            (uint(), uint(), uint(), uint(), uint()),
            decimal(ps, true),
            decimal(qs, false),
            boolean(),
            prop::option::of(boolean()),
        )
            .prop_map(move |((e, id, first, last, t), p, q, m, big_m)| {
                let sym = symbol_of(i);
                let kind = if aggregated { "aggTrade" } else { "trade" };
                let id_key = if aggregated { "a" } else { "t" };
                let mut f = vec![("e", quoted(kind)), ("E", raw(e))];
                if venue == Venue::BinanceUsdm {
                    f.extend([(id_key, raw(id.clone())), ("s", quoted(sym))]);
                } else {
                    f.extend([("s", quoted(sym)), (id_key, raw(id.clone()))]);
                }
                f.extend([("p", Val::Dec(p)), ("q", Val::Dec(q))]);
                if aggregated {
                    f.extend([("f", raw(first)), ("l", raw(last))]);
                }
                f.extend([("T", raw(t)), ("m", raw(m))]);
                if let Some(big_m) = big_m.filter(|_| venue == Venue::BinanceSpot) {
                    f.push(("M", raw(big_m)));
                }
                Frame {
                    venue,
                    rest: false,
                    stream: wrap.then(|| stream_name(sym, kind)),
                    fields: fields(f),
                }
            })
    })
}

/// A REST body for `NKNUSDT`-like scales (decoded for instrument `i`).
fn snapshot(venue: Venue) -> impl Strategy<Value = (usize, Frame)> {
    (0usize..4).prop_flat_map(move |i| {
        let scales = scales_of(i);
        (
            uint(),
            uint(),
            uint(),
            levels(scales, 30),
            levels(scales, 30),
        )
            .prop_map(move |(id, e, t, bids, asks)| {
                let mut f = vec![("lastUpdateId", raw(id))];
                if venue == Venue::BinanceUsdm {
                    f.extend([("E", raw(e)), ("T", raw(t))]);
                }
                f.extend([("bids", Val::Levels(bids)), ("asks", Val::Levels(asks))]);
                let frame = Frame {
                    venue,
                    rest: true,
                    stream: None,
                    fields: fields(f),
                };
                (i, frame)
            })
    })
}

/// Any frame, with the instrument a REST body is decoded for.
fn any_frame() -> impl Strategy<Value = (usize, Frame)> {
    let spot = Venue::BinanceSpot;
    let usdm = Venue::BinanceUsdm;
    let stream = |s: BoxedStrategy<Frame>| s.prop_map(|f| (0usize, f)).boxed();
    prop_oneof![
        stream(depth(spot).boxed()),
        stream(depth(usdm).boxed()),
        stream(book_ticker(spot).boxed()),
        stream(book_ticker(usdm).boxed()),
        stream(trade(spot, false).boxed()),
        stream(trade(spot, true).boxed()),
        stream(trade(usdm, true).boxed()),
        snapshot(spot).boxed(),
        snapshot(usdm).boxed(),
    ]
}

// ---------------------------------------------------------------------------
// Variations.
// ---------------------------------------------------------------------------

/// A change to a valid frame.
#[derive(Clone, Debug)]
enum Variation {
    /// As Binance writes it.
    Canonical,
    /// Whitespace between tokens.
    Spaces(u64),
    /// Whitespace around the frame.
    Outer,
    /// Two fields swapped.
    Reorder(usize, usize),
    /// One character of a string written as a `\u00XX` escape.
    Escape(usize, usize),
    /// An extra key at some position.
    ExtraKey(usize, usize),
    /// A decimal given `n` more fractional digits (zeros or not).
    MoreDecimals(usize, usize, bool),
}

impl Variation {
    /// True for the variations the fast path's templates never match.
    fn declined(&self) -> bool {
        matches!(
            self,
            Variation::Spaces(_)
                | Variation::Outer
                | Variation::Escape(..)
                | Variation::ExtraKey(..)
        )
    }
}

fn variation() -> impl Strategy<Value = Variation> {
    prop_oneof![
        6 => Just(Variation::Canonical),
        2 => (1u64..).prop_map(Variation::Spaces),
        1 => Just(Variation::Outer),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Variation::Reorder(a, b)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Variation::Escape(a, b)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Variation::ExtraKey(a, b)),
        2 => (any::<usize>(), 1usize..8, any::<bool>())
            .prop_map(|(a, n, z)| Variation::MoreDecimals(a, n, z)),
    ]
}

const EXTRA_KEYS: [&str; 4] = [
    r#""x":1"#,
    r#""zz":"abc""#,
    r#""Ee":[1,{"y":null}]"#,
    r#""M2":true"#,
];

/// Escapes the character at `at` (mod length) of `text` as `\u00XX`.
fn escape_char(text: &str, at: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return "\\u0030".to_owned();
    }
    let at = at % chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == at {
                format!("\\u{:04X}", u32::from(*c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Every decimal of a frame, by (field index, level index, part).
fn decimal_slots(frame: &Frame) -> Vec<(usize, Option<(usize, usize)>)> {
    let mut out = Vec::new();
    for (i, (_, val)) in frame.fields.iter().enumerate() {
        match val {
            Val::Dec(_) => out.push((i, None)),
            Val::Levels(levels) => {
                for l in 0..levels.len() {
                    out.push((i, Some((l, 0))));
                    out.push((i, Some((l, 1))));
                }
            }
            Val::Raw(_) => {}
        }
    }
    out
}

fn decimal_mut(frame: &mut Frame, slot: (usize, Option<(usize, usize)>)) -> &mut String {
    match (&mut frame.fields[slot.0].1, slot.1) {
        (Val::Dec(d), None) => d,
        (Val::Levels(levels), Some((l, 0))) => &mut levels[l].0,
        (Val::Levels(levels), Some((l, _))) => &mut levels[l].1,
        _ => unreachable!("slots come from decimal_slots"),
    }
}

/// Applies `v`; returns the frame text.
fn apply(frame: &Frame, v: &Variation) -> String {
    let mut f = frame.clone();
    let mut style = Style::default();
    match *v {
        Variation::Canonical => {}
        // Bit 0 always: the first key gets whitespace around its colon.
        Variation::Spaces(mask) => style.spaces = mask | 1,
        Variation::Outer => style.outer = true,
        Variation::Reorder(a, b) => {
            let n = f.fields.len();
            let (a, b) = (a % n, b % n);
            let b = if a == b { (b + 1) % n } else { b };
            f.fields.swap(a, b);
        }
        Variation::Escape(which, at) => {
            // A string to escape in: the symbol, the event name, a decimal,
            // or (in REST bodies) a key.
            let slots = decimal_slots(&f);
            let strings: Vec<usize> = f
                .fields
                .iter()
                .enumerate()
                .filter(|(_, (_, v))| matches!(v, Val::Raw(r) if r.starts_with('"')))
                .map(|(i, _)| i)
                .collect();
            let pick = which % (strings.len() + slots.len() + 1);
            if pick < strings.len() {
                let Val::Raw(r) = &mut f.fields[strings[pick]].1 else {
                    unreachable!()
                };
                let inner = &r[1..r.len() - 1];
                *r = format!("\"{}\"", escape_char(inner, at));
            } else if pick < strings.len() + slots.len() {
                let d = decimal_mut(&mut f, slots[pick - strings.len()]);
                *d = escape_char(d, at);
            } else {
                let n = f.fields.len();
                let key = &mut f.fields[at % n].0;
                *key = escape_char(key, 0);
            }
        }
        Variation::ExtraKey(pos, which) => {
            let text = f.render(style);
            let depth = if f.stream.is_some() { 2 } else { 1 };
            let spots = key_positions(&text, depth);
            let at = spots[pos % spots.len()];
            let extra = EXTRA_KEYS[which % EXTRA_KEYS.len()];
            let mut out = text.clone();
            out.insert_str(at, &format!("{extra},"));
            return out;
        }
        Variation::MoreDecimals(which, n, zeros) => {
            let slots = decimal_slots(&f);
            if !slots.is_empty() {
                let d = decimal_mut(&mut f, slots[which % slots.len()]);
                if !d.contains('.') {
                    d.push('.');
                }
                let digits = if zeros {
                    "0".repeat(n + 8)
                } else {
                    format!("{}7", "0".repeat(n + 7))
                };
                d.push_str(&digits);
            }
        }
    }
    f.render(style)
}

/// Where a key may be inserted in the object at nesting `depth` (1 = the
/// top level): right after its `{` and after each of its commas.
fn key_positions(text: &str, depth: usize) -> Vec<usize> {
    let (mut objects, mut arrays, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    let mut out = Vec::new();
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => {
                objects += 1;
                if objects == depth && arrays == 0 {
                    out.push(i + 1);
                }
            }
            b'}' => objects -= 1,
            b'[' => arrays += 1,
            b']' => arrays -= 1,
            b',' if objects == depth && arrays == 0 => out.push(i + 1),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The property.
// ---------------------------------------------------------------------------

/// Both decoders for both venues, and the registry.
struct Pair {
    reg: Registry,
    decoders: [[BinanceDecoder; 2]; 2],
}

impl Pair {
    fn new() -> Pair {
        let make = |venue| {
            let fast = BinanceDecoder::with_limits(venue, 1 << 16, 256);
            let mut tape = BinanceDecoder::with_limits(venue, 1 << 16, 256);
            tape.set_fast_path(false);
            [fast, tape]
        };
        Pair {
            reg: registry(),
            decoders: [make(Venue::BinanceSpot), make(Venue::BinanceUsdm)],
        }
    }

    /// Decodes with both paths on `venue`'s decoders; returns (fast result,
    /// tape result, whether the fast path answered).
    fn decode(
        &mut self,
        venue: Venue,
        rest: bool,
        instrument: usize,
        text: &str,
    ) -> (String, String, bool) {
        let v = usize::from(venue == Venue::BinanceUsdm);
        let symbols = self.reg.venue(venue);
        let scaling = self
            .reg
            .lookup(venue, symbol_of(instrument).as_bytes())
            .expect("registered")
            .scaling();
        let [fast, tape] = &mut self.decoders[v];
        let before = fast.stats().fast;
        let (a, b) = if rest {
            (
                format!("{:?}", fast.decode_snapshot(text.as_bytes(), scaling)),
                format!("{:?}", tape.decode_snapshot(text.as_bytes(), scaling)),
            )
        } else {
            (
                format!("{:?}", fast.decode(text.as_bytes(), &symbols)),
                format!("{:?}", tape.decode(text.as_bytes(), &symbols)),
            )
        };
        (a, b, fast.stats().fast > before)
    }
}

proptest! {
    #![proptest_config(util::proptest_config(2_500))]

    #[test]
    fn fast_path_and_tape_path_agree(
        (instrument, frame) in any_frame(),
        variation in variation(),
    ) {
        thread_local! {
            static PAIR: std::cell::RefCell<Pair> = std::cell::RefCell::new(Pair::new());
        }
        let text = apply(&frame, &variation);
        PAIR.with(|p| {
            let mut p = p.borrow_mut();
            // Its own venue, and the other one's rules.
            for venue in [frame.venue, if frame.venue == Venue::BinanceSpot { Venue::BinanceUsdm } else { Venue::BinanceSpot }] {
                let (fast, tape, took_fast) = p.decode(venue, frame.rest, instrument, &text);
                prop_assert_eq!(&fast, &tape, "{:?} on {}: {}", variation, venue, text);
                if venue != frame.venue {
                    continue;
                }
                if variation.declined() {
                    prop_assert!(!took_fast, "the fast path must decline {:?}: {}", variation, text);
                }
                // A canonical frame that decodes is the fast path's to take.
                let decodes = tape.starts_with("Ok(") && !tape.contains("UnknownSymbol");
                if matches!(variation, Variation::Canonical) && decodes {
                    prop_assert!(took_fast, "the fast path declined a canonical frame: {}", text);
                }
            }
            Ok(())
        })?;
    }
}

#[test]
fn generated_frames_are_mostly_valid() {
    // Guard against generators that only produce errors: decode a fixed
    // sample of canonical frames and count the successes.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(util::proptest_config(1));
    let mut pair = Pair::new();
    let (mut ok, mut total) = (0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..600 {
        let (instrument, frame) = any_frame().new_tree(&mut runner).unwrap().current();
        let text = frame.render(Style::default());
        let (fast, tape, took_fast) = pair.decode(frame.venue, frame.rest, instrument, &text);
        assert_eq!(fast, tape);
        total += 1;
        if tape.starts_with("Ok(") {
            ok += 1;
            assert!(took_fast || tape.contains("UnknownSymbol"), "{text}");
            kinds.insert(tape.split('(').nth(1).unwrap_or("").to_owned());
        }
    }
    assert!(ok * 3 > total, "{ok} of {total} decoded");
    // Depth, BookTicker, Trade, Book (snapshots) and UnknownSymbol all seen.
    assert!(kinds.len() >= 5, "{kinds:?}");
}

#[test]
fn long_zero_padded_numbers_agree() {
    // A valid value padded past 64 bytes with leading or trailing zeros.
    let mut pair = Pair::new();
    let long_int = format!("{}1", "0".repeat(70));
    let long_frac = format!("1.{}", "0".repeat(70));
    for text in [&long_int, &long_frac] {
        let frames = [
            (
                Venue::BinanceSpot,
                false,
                format!(
                    r#"{{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[["{text}","1.00000000"]],"a":[]}}"#
                ),
            ),
            (
                Venue::BinanceSpot,
                false,
                format!(r#"{{"u":1,"s":"NKNUSDT","b":"{text}","B":"1","a":"1","A":"1"}}"#),
            ),
            (
                Venue::BinanceUsdm,
                true,
                format!(r#"{{"lastUpdateId":1,"bids":[["1","{text}"]],"asks":[]}}"#),
            ),
        ];
        for (venue, rest, frame) in frames {
            let (fast, tape, _) = pair.decode(venue, rest, 1, &frame);
            assert_eq!(fast, tape, "{frame}");
        }
    }
}

#[test]
fn decoded_values_match_the_generated_text() {
    // The tape path is the reference, but it is itself checked: the values
    // of one canonical depth frame are the generated ones.
    let frame = Frame {
        venue: Venue::BinanceUsdm,
        rest: false,
        stream: Some("sushiusdt@depth@100ms".to_owned()),
        fields: fields(vec![
            ("e", quoted("depthUpdate")),
            ("E", raw("18446744073709551615")),
            ("T", raw("0")),
            ("s", quoted("SUSHIUSDT")),
            ("U", raw("600859599090")),
            ("u", raw("600859600917")),
            ("pu", raw("600859598061")),
            (
                "b",
                Val::Levels(vec![("7.504".to_owned(), "813".to_owned())]),
            ),
            (
                "a",
                Val::Levels(vec![("9223372036854775.807".to_owned(), "0".to_owned())]),
            ),
        ]),
    };
    let text = frame.render(Style::default());
    let reg = registry();
    for fast in [true, false] {
        let mut dec = BinanceDecoder::new(Venue::BinanceUsdm);
        dec.set_fast_path(fast);
        let Ok(BinanceMsg::Depth(d)) = dec.decode(text.as_bytes(), &reg.venue(Venue::BinanceUsdm))
        else {
            panic!("{text}");
        };
        assert_eq!(d.event_ms, u64::MAX);
        assert_eq!(d.transact_ms, Some(0));
        assert_eq!(
            (d.first_id, d.final_id, d.prev_final_id),
            (600_859_599_090, 600_859_600_917, Some(600_859_598_061))
        );
        assert_eq!((d.bids[0].price.0, d.bids[0].qty.0), (7_504, 813));
        assert_eq!((d.asks[0].price.0, d.asks[0].qty.0), (i64::MAX, 0));
        assert_eq!(dec.stats().fast, u64::from(fast));
    }
}
