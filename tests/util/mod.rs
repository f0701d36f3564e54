//! Helpers shared by the integration tests: fixture access, Binance frames
//! written as JSON text, an independent model of Binance's book-sync rules,
//! and the proptest settings every property test uses.
//!
//! The model ([`model_replay`]) deliberately shares no code with the crate:
//! it reads frames with `serde_json` into plain values, converts decimal
//! strings to integers by hand ([`decimal_units`]) and keeps the book in two
//! `BTreeMap`s, applying the rules exactly as Binance documents them.
#![allow(dead_code, reason = "each test file uses part of this module")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use serde_json::Value;
use tickwire::book::BookRead;
use tickwire::types::{Registry, Side, Venue};

/// The spot symbols captured in `tests/fixtures/binance/`.
pub(crate) const SPOT_SYMBOLS: [&str; 4] = ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"];
/// The USD-M symbols captured in `tests/fixtures/binance_futures/`.
pub(crate) const USDM_SYMBOLS: [&str; 4] = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"];
/// Binance writes eight decimals; fixtures are decoded at this scale.
pub(crate) const WIRE_SCALE: u32 = 8;
/// Tick and lot sizes matching the wire precision.
pub(crate) const WIRE_INCREMENT: &str = "0.00000001";

/// Proptest settings: `cases` cases from a fixed seed (so every run checks
/// the same inputs), no regression files written into the source tree.
pub(crate) fn proptest_config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(0x7469_636b_7769_7265),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::with_cases(cases)
    }
}

/// `tests/fixtures/`.
pub(crate) fn fixtures_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture folder of a venue.
pub(crate) fn venue_dir(venue: Venue) -> &'static str {
    match venue {
        Venue::BinanceSpot => "binance",
        _ => "binance_futures",
    }
}

/// Symbols captured for a venue.
pub(crate) fn symbols_of(venue: Venue) -> [&'static str; 4] {
    match venue {
        Venue::BinanceSpot => SPOT_SYMBOLS,
        _ => USDM_SYMBOLS,
    }
}

/// The bytes of a fixture, by path relative to `tests/fixtures/`.
pub(crate) fn read_fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_root().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The non-blank lines of a fixture, without line endings.
pub(crate) fn fixture_lines(rel: &str) -> Vec<Vec<u8>> {
    split_lines(&read_fixture(rel))
}

/// Splits text into non-blank lines, stripping `\r`.
pub(crate) fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(<[u8]>::to_vec)
        .collect()
}

/// Every file under `tests/fixtures/<venue dir>/` with its name, sorted.
pub(crate) fn fixture_files(venue: Venue) -> Vec<String> {
    let dir = fixtures_root().join(venue_dir(venue));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| format!("{}/{n}", venue_dir(venue)))
        .collect()
}

/// A registry with `symbols` on `venue`, at the 8-decimal wire precision.
pub(crate) fn wire_registry(venue: Venue, symbols: &[&str]) -> Registry {
    let mut reg = Registry::new();
    for s in symbols {
        reg.add(venue, s, WIRE_INCREMENT, WIRE_INCREMENT)
            .expect("valid instrument");
    }
    reg
}

/// Levels of a book side, best first, as `(price, qty)` mantissas.
pub(crate) fn side_levels(book: &impl BookRead, side: Side) -> Vec<(i64, i64)> {
    book.levels(side).map(|l| (l.price.0, l.qty.0)).collect()
}

// ---------------------------------------------------------------------------
// Frames as JSON text, keys in the order Binance writes them.
// ---------------------------------------------------------------------------

/// `[["p","q"],...]`.
pub(crate) fn levels_json(levels: &[(&str, &str)]) -> String {
    let inner: Vec<String> = levels
        .iter()
        .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
        .collect();
    format!("[{}]", inner.join(","))
}

/// A bare `depthUpdate`. USD-M frames get `T` and `pu` (`prev` is required there).
pub(crate) fn depth_json(
    venue: Venue,
    symbol: &str,
    first: u64,
    last: u64,
    prev: Option<u64>,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> String {
    let (b, a) = (levels_json(bids), levels_json(asks));
    match venue {
        Venue::BinanceSpot => format!(
            "{{\"e\":\"depthUpdate\",\"E\":1700000000000,\"s\":\"{symbol}\",\"U\":{first},\"u\":{last},\"b\":{b},\"a\":{a}}}"
        ),
        _ => {
            let pu = prev.expect("USD-M diffs carry pu");
            format!(
                "{{\"e\":\"depthUpdate\",\"E\":1700000000000,\"T\":1699999999999,\"s\":\"{symbol}\",\"U\":{first},\"u\":{last},\"pu\":{pu},\"b\":{b},\"a\":{a}}}"
            )
        }
    }
}

/// A REST depth body (USD-M bodies carry `E` and `T`).
pub(crate) fn snapshot_json(
    venue: Venue,
    last_update_id: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> String {
    let (b, a) = (levels_json(bids), levels_json(asks));
    match venue {
        Venue::BinanceSpot => {
            format!("{{\"lastUpdateId\":{last_update_id},\"bids\":{b},\"asks\":{a}}}")
        }
        _ => format!(
            "{{\"lastUpdateId\":{last_update_id},\"E\":1700000000000,\"T\":1700000000000,\"bids\":{b},\"asks\":{a}}}"
        ),
    }
}

/// Wraps a frame in the combined-stream envelope.
pub(crate) fn wrap(stream: &str, data: &str) -> String {
    format!("{{\"stream\":\"{stream}\",\"data\":{data}}}")
}

// ---------------------------------------------------------------------------
// The independent model.
// ---------------------------------------------------------------------------

/// Exact integer value of decimal text at `scale` places, computed without
/// floats: `"0.35130000"` at 8 is `35_130_000`. `None` for anything that is
/// not `digits[.digits]` or that has significant digits beyond `scale`.
pub(crate) fn decimal_units(text: &str, scale: u32) -> Option<i128> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || int.len() > 30 {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > scale as usize {
        return None;
    }
    let mut value: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    for _ in frac.len()..scale as usize {
        value = value.checked_mul(10)?;
    }
    Some(value)
}

/// Exact decimal text of `units` at `scale`, trailing fractional zeros
/// (and a bare point) trimmed: `35_130_000` at 8 is `"0.3513"`.
pub(crate) fn units_text(units: i128, scale: u32) -> String {
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = frac.trim_end_matches('0');
    let sign = if units < 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A book as the model keeps it: price → quantity per side, in units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ModelBook {
    /// Bids by price (ascending; the best is the last).
    pub(crate) bids: BTreeMap<i128, i128>,
    /// Asks by price (ascending; the best is the first).
    pub(crate) asks: BTreeMap<i128, i128>,
}

impl ModelBook {
    /// Sets an absolute quantity (0 removes).
    pub(crate) fn set(&mut self, side: Side, price: i128, qty: i128) {
        let map = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if qty == 0 {
            map.remove(&price);
        } else {
            map.insert(price, qty);
        }
    }

    /// Levels of a side, best first.
    pub(crate) fn levels(&self, side: Side) -> Vec<(i128, i128)> {
        match side {
            Side::Bid => self.bids.iter().rev().map(|(&p, &q)| (p, q)).collect(),
            Side::Ask => self.asks.iter().map(|(&p, &q)| (p, q)).collect(),
        }
    }

    /// Levels of a side as `i64` mantissas (the crate's representation).
    pub(crate) fn levels_i64(&self, side: Side) -> Vec<(i64, i64)> {
        self.levels(side)
            .into_iter()
            .map(|(p, q)| {
                let p = i64::try_from(p).expect("price fits i64");
                let q = i64::try_from(q).expect("qty fits i64");
                (p, q)
            })
            .collect()
    }

    /// The `tickwire replay --dump-book` text of this book at `scale`.
    pub(crate) fn dump(&self, price_scale: u32, qty_scale: u32) -> String {
        let mut out = String::new();
        for (side, tag) in [(Side::Bid, 'B'), (Side::Ask, 'A')] {
            for (p, q) in self.levels(side) {
                out.push_str(&format!(
                    "{tag} {} {}\n",
                    units_text(p, price_scale),
                    units_text(q, qty_scale)
                ));
            }
        }
        out
    }
}

/// The result of running the model over a capture.
#[derive(Clone, Debug)]
pub(crate) struct ModelRun {
    /// The final book.
    pub(crate) book: ModelBook,
    /// `u` of the last applied diff (the snapshot's id if none applied).
    pub(crate) last_id: u64,
    /// Diffs applied.
    pub(crate) applied: usize,
    /// Diffs dropped as older than the book.
    pub(crate) dropped: usize,
    /// Indexes (into the input lines) of diffs that broke the sequence.
    pub(crate) gaps: Vec<usize>,
}

/// The `data` object of a combined-stream frame, or the frame itself.
fn payload(frame: &Value) -> &Value {
    match frame.get("data") {
        Some(d) if frame.get("stream").is_some() => d,
        _ => frame,
    }
}

fn json_u64(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("`{key}` must be an unsigned integer in {v}"))
}

fn apply_json_levels(book: &mut ModelBook, side: Side, levels: &Value, scale: (u32, u32)) {
    let levels = levels.as_array().expect("a level list");
    for level in levels {
        let pair = level.as_array().expect("a [price, qty] pair");
        let text = |i: usize| pair[i].as_str().expect("a decimal string");
        let price = decimal_units(text(0), scale.0).expect("price at scale");
        let qty = decimal_units(text(1), scale.1).expect("qty at scale");
        book.set(side, price, qty);
    }
}

/// Replays `lines` (one frame each; other symbols and events are skipped) on
/// top of the REST `snapshot` body with Binance's documented rules for
/// `venue`, at `(price, qty)` scales. A gap is recorded and the diff applied
/// anyway, as `tickwire replay` does.
///
/// Spot: drop `u <= L`; the first diff must have `U <= L + 1 <= u`; then
/// ignore `u < id`, a gap is `U > id + 1`. USD-M: drop `u < L`; the first
/// diff must have `U <= L <= u`; then a gap is `pu != id`. Without a
/// snapshot the book starts empty and the first diff is taken as it is.
pub(crate) fn model_replay(
    venue: Venue,
    symbol: &str,
    snapshot: Option<&[u8]>,
    lines: &[Vec<u8>],
    scale: (u32, u32),
) -> ModelRun {
    let mut run = ModelRun {
        book: ModelBook::default(),
        last_id: 0,
        applied: 0,
        dropped: 0,
        gaps: Vec::new(),
    };
    // Where the chain stands: waiting for the diff that bridges the
    // snapshot, taking the first diff unchecked, or following the chain.
    enum Stage {
        Bridging,
        Unanchored,
        Chained,
    }
    let mut stage = Stage::Unanchored;
    if let Some(body) = snapshot {
        let snap: Value = serde_json::from_slice(body).expect("snapshot JSON");
        apply_json_levels(&mut run.book, Side::Bid, &snap["bids"], scale);
        apply_json_levels(&mut run.book, Side::Ask, &snap["asks"], scale);
        run.last_id = json_u64(&snap, "lastUpdateId");
        stage = Stage::Bridging;
    }
    let spot = venue == Venue::BinanceSpot;
    for (index, line) in lines.iter().enumerate() {
        let frame: Value = serde_json::from_slice(line).expect("frame JSON");
        let data = payload(&frame);
        if data.get("e").and_then(Value::as_str) != Some("depthUpdate")
            || data.get("s").and_then(Value::as_str) != Some(symbol)
        {
            continue;
        }
        let (first, last) = (json_u64(data, "U"), json_u64(data, "u"));
        let id = run.last_id;
        let broken = match stage {
            Stage::Unanchored => false,
            Stage::Bridging => {
                let stale = if spot { last <= id } else { last < id };
                if stale {
                    run.dropped += 1;
                    continue;
                }
                // The first applied diff must cover L + 1 (spot) or L (USD-M).
                let must_cover = if spot { id + 1 } else { id };
                !(first..=last).contains(&must_cover)
            }
            Stage::Chained if spot => {
                if last < id {
                    run.dropped += 1;
                    continue;
                }
                first > id + 1
            }
            Stage::Chained => json_u64(data, "pu") != id,
        };
        stage = Stage::Chained;
        if broken {
            run.gaps.push(index);
        }
        apply_json_levels(&mut run.book, Side::Bid, &data["b"], scale);
        apply_json_levels(&mut run.book, Side::Ask, &data["a"], scale);
        run.last_id = last;
        run.applied += 1;
    }
    run
}
pub(crate) mod hostile;
pub(crate) mod process;
