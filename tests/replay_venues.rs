//! `tickwire replay` on the real Bybit, OKX and Kraken captures: the book
//! `--dump-book` prints equals a model built here from the same frames
//! (strings compared as decimals, no tickwire code involved), and a
//! checksum that does not match prints `checksum:` and exits 3, replay
//! carrying on from the next snapshot in the input.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

mod kraken_util;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .arg("replay")
        .args(args)
        .output()
        .expect("the tickwire binary runs")
}

/// A decimal string as (integer, 8-decimal fraction): "65140.40" and
/// "65140.4" are the same number.
fn decimal(s: &str) -> Dec {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<8}");
    (
        int.parse().expect("integer part"),
        frac[..8].parse().expect("fraction"),
    )
}

/// A decimal as (integer part, 8-decimal fraction).
type Dec = (u64, u64);
type Side = BTreeMap<Dec, Dec>;
/// One `--dump-book` line: `B` or `A`, price, quantity.
type DumpLine = (char, Dec, Dec);

/// Applies `[price, size, ...]` levels; size 0 deletes.
fn apply(side: &mut Side, levels: &Value) {
    for l in levels.as_array().expect("levels") {
        let price = decimal(l[0].as_str().expect("price string"));
        let size = decimal(l[1].as_str().expect("size string"));
        if size == (0, 0) {
            side.remove(&price);
        } else {
            side.insert(price, size);
        }
    }
}

/// The book a capture leaves, by the venue's rules as this test reads them
/// (snapshot replaces, updates apply in order).
fn model(path: &PathBuf, okx: bool) -> (Side, Side) {
    let (mut bids, mut asks) = (Side::new(), Side::new());
    for line in std::fs::read_to_string(path).expect("fixture").lines() {
        let v: Value = serde_json::from_str(line).expect("JSON");
        let (kind, data) = if okx {
            (v["action"].as_str(), &v["data"][0])
        } else {
            (v["type"].as_str(), &v["data"])
        };
        if kind == Some("snapshot") {
            bids.clear();
            asks.clear();
        }
        let (b, a) = if okx { ("bids", "asks") } else { ("b", "a") };
        apply(&mut bids, &data[b]);
        apply(&mut asks, &data[a]);
    }
    (bids, asks)
}

/// The `--dump-book` lines of a model: `B price qty` best first, then asks.
fn dump_of(bids: &Side, asks: &Side) -> Vec<DumpLine> {
    let b = bids.iter().rev().map(|(p, q)| ('B', *p, *q));
    let a = asks.iter().map(|(p, q)| ('A', *p, *q));
    b.chain(a).collect()
}

fn parse_dump(out: &Output) -> Vec<DumpLine> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let mut w = l.split(' ');
            let tag = w.next().and_then(|t| t.chars().next()).expect("tag");
            let p = decimal(w.next().expect("price"));
            let q = decimal(w.next().expect("qty"));
            (tag, p, q)
        })
        .collect()
}

#[test]
fn the_captures_replay_to_the_models_book() {
    for (venue, symbol, rel, okx) in [
        ("okx", "BTC-USDT", "okx/ws_books_BTC-USDT.jsonl", true),
        (
            "bybit-spot",
            "BTCUSDT",
            "bybit/ws_spot_orderbook_200_BTCUSDT.jsonl",
            false,
        ),
        (
            "bybit-linear",
            "BTCUSDT",
            "bybit/ws_linear_orderbook_200_BTCUSDT.jsonl",
            false,
        ),
    ] {
        let path = fixture(rel);
        let out = replay(&[
            "--venue",
            venue,
            "--symbol",
            symbol,
            "--input",
            path.to_str().expect("path"),
            "--dump-book",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{venue}: {err}");
        let (bids, asks) = model(&path, okx);
        assert!(bids.len() > 20 && asks.len() > 20, "{venue}: a real book");
        assert_eq!(parse_dump(&out), dump_of(&bids, &asks), "{venue}");
    }
}

#[test]
fn a_bad_checksum_is_reported_and_replay_goes_on_from_the_next_snapshot() {
    let path = fixture("okx/ws_books_BTC-USDT.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Spoil the checksum of the fifth frame (an update), then append the
    // capture's own snapshot again followed by its first updates.
    let mut v: Value = serde_json::from_str(&lines[4]).expect("JSON");
    assert_eq!(v["action"], "update");
    let sum = v["data"][0]["checksum"].as_i64().expect("checksum");
    v["data"][0]["checksum"] = Value::from(sum ^ 0x5555);
    lines[4] = v.to_string();
    let tail: Vec<String> = lines[..3].to_vec();
    lines.extend(tail);
    let input = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("replay_venues_badsum.jsonl");
    std::fs::write(&input, lines.join("\n")).expect("scratch file");
    let out = replay(&[
        "--venue",
        "okx",
        "--symbol",
        "BTC-USDT",
        "--input",
        input.to_str().expect("path"),
        "--dump-book",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let reports: Vec<&str> = err.lines().filter(|l| l.starts_with("checksum:")).collect();
    assert_eq!(reports.len(), 1, "{err}");
    assert!(reports[0].contains("line 5"), "{err}");
    assert!(reports[0].contains(&(sum ^ 0x5555).to_string()), "{err}");
    // The book is the re-sent snapshot plus its two updates.
    let replayed = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("replay_venues_tail.jsonl");
    std::fs::write(
        &replayed,
        text.lines().take(3).collect::<Vec<_>>().join("\n"),
    )
    .expect("scratch file");
    let (bids, asks) = model(&replayed, true);
    assert_eq!(parse_dump(&out), dump_of(&bids, &asks));
}

#[test]
fn a_rest_snapshot_is_refused_for_a_venue_that_snapshots_on_the_stream() {
    let path = fixture("okx/ws_books_BTC-USDT.jsonl");
    let p = path.to_str().expect("path");
    let out = replay(&[
        "--venue",
        "okx",
        "--symbol",
        "BTC-USDT",
        "--input",
        p,
        "--snapshot",
        p,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: --snapshot: okx"), "{err}");
}

#[test]
fn updates_without_any_snapshot_are_not_a_book() {
    let path = fixture("bybit/ws_spot_orderbook_200_BTCUSDT.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let input = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("replay_venues_nosnap.jsonl");
    std::fs::write(&input, text.lines().skip(1).collect::<Vec<_>>().join("\n"))
        .expect("scratch file");
    let out = replay(&[
        "--venue",
        "bybit-spot",
        "--symbol",
        "BTCUSDT",
        "--input",
        input.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("partial: no snapshot")),
        "{err}"
    );
}

/// A Kraken capture's received frames, one per line, in a scratch file;
/// with `spoil`, the checksum of the frame at that index is changed.
fn kraken_input(name: &str, file: &str, spoil: Option<usize>) -> (PathBuf, Vec<String>) {
    let mut frames = kraken_util::frames(name);
    if let Some(i) = spoil {
        let f = &frames[i];
        let at = f.find("\"checksum\":").expect("checksum") + 11;
        let end = at + f[at..].find(',').expect("end");
        let sum: u64 = f[at..end].parse().expect("digits");
        frames[i] = format!("{}{}{}", &f[..at], sum ^ 0x5555, &f[end..]);
    }
    let input = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&input, frames.join("\n")).expect("scratch file");
    (input, frames)
}

/// The text model of a Kraken capture's frames, as `--dump-book` lines.
fn kraken_dump(frames: &[String], depth: usize, ps: u32) -> Vec<(char, i128, i128)> {
    let mut model = kraken_util::Model::new(depth, ps, 8);
    for f in frames
        .iter()
        .filter(|f| f.starts_with("{\"channel\":\"book\""))
    {
        let snapshot = f.contains("\"type\":\"snapshot\"");
        let bids = kraken_util::levels_of(kraken_util::list(f, "bids"));
        let asks = kraken_util::levels_of(kraken_util::list(f, "asks"));
        model.apply(snapshot, &bids, &asks);
    }
    let mut out = Vec::new();
    for (tag, side) in [('B', &model.bids), ('A', &model.asks)] {
        let levels: Vec<_> = if tag == 'B' {
            side.iter().rev().collect()
        } else {
            side.iter().collect()
        };
        for (p, (_, q)) in levels {
            out.push((tag, *p, kraken_util::units(q, 8)));
        }
    }
    out
}

fn kraken_parse_dump(out: &Output, ps: u32) -> Vec<(char, i128, i128)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut it = l.split(' ');
            let tag = it.next().and_then(|t| t.chars().next()).expect("tag");
            let p = kraken_util::units(it.next().expect("price"), ps);
            let q = kraken_util::units(it.next().expect("qty"), 8);
            (tag, p, q)
        })
        .collect()
}

#[test]
fn the_kraken_captures_replay_to_the_models_book() {
    // BTC/USD: the defaults are its precision and depth 10.
    let (input, frames) = kraken_input(kraken_util::BTC, "replay_kraken_btc.jsonl", None);
    let out = replay(&[
        "--venue",
        "kraken",
        "--symbol",
        "BTC/USD",
        "--input",
        input.to_str().expect("path"),
        "--dump-book",
        "--stats",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("checksum:"), "{err}");
    let want = kraken_dump(&frames, 10, 1);
    assert_eq!(want.len(), 20);
    assert_eq!(kraken_parse_dump(&out, 1), want);
    // MINA/GBP: depth 25, tick 0.0001.
    let (input, frames) = kraken_input(kraken_util::MINA, "replay_kraken_mina.jsonl", None);
    let out = replay(&[
        "--venue",
        "kraken",
        "--symbol",
        "MINA/GBP",
        "--input",
        input.to_str().expect("path"),
        "--tick-size",
        "0.0001",
        "--depth",
        "25",
        "--dump-book",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let want = kraken_dump(&frames, 25, 4);
    assert_eq!(want.len(), 50);
    assert_eq!(kraken_parse_dump(&out, 4), want);
}

#[test]
fn a_kraken_checksum_mismatch_exits_3_and_replay_goes_on_from_the_next_snapshot() {
    let frames = kraken_util::frames(kraken_util::MINA);
    let snapshot = frames
        .iter()
        .position(|f| f.contains("\"type\":\"snapshot\""))
        .expect("snapshot");
    // Spoil the 6th book update, then append the snapshot and the first 3
    // updates again.
    let books: Vec<usize> = (0..frames.len())
        .filter(|&i| frames[i].starts_with("{\"channel\":\"book\""))
        .collect();
    let spoiled = books[6];
    let (input, mut lines) =
        kraken_input(kraken_util::MINA, "replay_kraken_bad.jsonl", Some(spoiled));
    let tail: Vec<String> = frames[snapshot..=books[3]].to_vec();
    lines.extend(tail.iter().cloned());
    std::fs::write(&input, lines.join("\n")).expect("scratch file");
    let out = replay(&[
        "--venue",
        "kraken",
        "--symbol",
        "MINA/GBP",
        "--input",
        input.to_str().expect("path"),
        "--tick-size",
        "0.0001",
        "--depth",
        "25",
        "--dump-book",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let reports: Vec<&str> = err.lines().filter(|l| l.starts_with("checksum:")).collect();
    assert_eq!(reports.len(), 1, "{err}");
    assert!(
        reports[0].contains(&format!("line {}", spoiled + 1)),
        "{err}"
    );
    assert_eq!(kraken_parse_dump(&out, 4), kraken_dump(&tail, 25, 4));
}

#[test]
fn kraken_depths_and_precisions_are_checked() {
    let (input, _) = kraken_input(kraken_util::MINA, "replay_kraken_flags.jsonl", None);
    let p = input.to_str().expect("path");
    let out = replay(&[
        "--venue", "kraken", "--symbol", "MINA/GBP", "--input", p, "--depth", "15",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--depth 15"));
    // Without --tick-size, BTC/USD's 0.1: MINA/GBP's prices are refused,
    // never rounded, and no book is built.
    let out = replay(&[
        "--venue", "kraken", "--symbol", "MINA/GBP", "--input", p, "--depth", "25",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("more than 1 significant decimal places"),
        "{err}"
    );
}
