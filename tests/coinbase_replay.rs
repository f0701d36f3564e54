//! `tickwire replay --venue coinbase` on the real capture: one whole
//! connection (BTC-USD and ETH-USD, every channel, `sequence_num` 0..1029)
//! rebuilds each product's book exactly as a model built here from the same
//! frames (serde_json, decimals as strings, no tickwire code involved); the
//! same connection with one frame removed prints `gap:` and exits 3.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The received frames of the raw v3 capture, in order.
fn received_frames() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/coinbase/raw/cryptofeed_v3_COINBASE.jsonl.zst");
    let file = std::fs::File::open(path).expect("the capture");
    let mut text = String::new();
    zstd::Decoder::new(file)
        .expect("zstd")
        .read_to_string(&mut text)
        .expect("decompresses");
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON record");
            (v["t"] == "recv").then(|| v["data"].as_str().expect("frame text").to_owned())
        })
        .collect()
}

/// A file of `frames`, one a line, under a name unique to this test.
fn write_input(name: &str, frames: &[String]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "tickwire-coinbase-{}-{name}.jsonl",
        std::process::id()
    ));
    std::fs::write(&path, frames.join("\n") + "\n").expect("temp file");
    path
}

fn replay(input: &Path, symbol: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(["replay", "--venue", "coinbase", "--symbol", symbol])
        .args([
            "--tick-size",
            "0.01",
            "--lot-size",
            "0.00000001",
            "--dump-book",
        ])
        .arg("--input")
        .arg(input)
        .output()
        .expect("the tickwire binary runs")
}

/// A decimal as (integer part, 8-decimal fraction): "1919.4" == "1919.40".
type Dec = (u64, u64);

fn decimal(s: &str) -> Dec {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<8}");
    (
        int.parse().expect("integer part"),
        frac[..8].parse().expect("fraction"),
    )
}

/// The book `symbol` ends with by Coinbase's rules as read here: a
/// snapshot event replaces it, an update sets levels, quantity 0 removes.
fn model(frames: &[String], symbol: &str) -> (BTreeMap<Dec, Dec>, BTreeMap<Dec, Dec>) {
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    for f in frames {
        let v: Value = serde_json::from_str(f).expect("JSON frame");
        if v["channel"] != "l2_data" {
            continue;
        }
        for e in v["events"].as_array().expect("events") {
            if e["product_id"] != symbol {
                continue;
            }
            if e["type"] == "snapshot" {
                bids.clear();
                asks.clear();
            }
            for u in e["updates"].as_array().expect("updates") {
                let side = if u["side"] == "bid" {
                    &mut bids
                } else {
                    &mut asks
                };
                let price = decimal(u["price_level"].as_str().expect("price"));
                let qty = decimal(u["new_quantity"].as_str().expect("qty"));
                if qty == (0, 0) {
                    side.remove(&price);
                } else {
                    side.insert(price, qty);
                }
            }
        }
    }
    (bids, asks)
}

/// One side's levels, best first.
type Levels = Vec<(Dec, Dec)>;

/// The dumped book: bids best first, then asks best first.
fn dumped(out: &Output) -> (Levels, Levels) {
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut parts = line.split(' ');
        let tag = parts.next().expect("tag");
        let price = decimal(parts.next().expect("price"));
        let qty = decimal(parts.next().expect("qty"));
        match tag {
            "B" => bids.push((price, qty)),
            "A" => asks.push((price, qty)),
            other => panic!("unexpected dump line tag {other:?}"),
        }
    }
    (bids, asks)
}

#[test]
fn the_capture_runs_sequence_0_to_1029_without_a_gap() {
    let frames = received_frames();
    assert_eq!(frames.len(), 1030);
    for (i, f) in frames.iter().enumerate() {
        let v: Value = serde_json::from_str(f).expect("JSON frame");
        assert_eq!(v["sequence_num"].as_u64(), Some(i as u64), "frame {i}");
    }
}

#[test]
fn the_whole_connection_replays_each_product_to_its_exact_book() {
    let frames = received_frames();
    let input = write_input("whole", &frames);
    for symbol in ["BTC-USD", "ETH-USD"] {
        let out = replay(&input, symbol);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{symbol}: {stderr}");
        assert!(!stderr.contains("gap:"), "{symbol}: {stderr}");
        let (bids, asks) = dumped(&out);
        let (mbids, masks) = model(&frames, symbol);
        // The whole book is deeper than the default 5,000 levels a side:
        // the book keeps the best and says so.
        assert!(mbids.len() > 5_000, "{symbol}: {} bids", mbids.len());
        assert!(stderr.contains("truncated:"), "{symbol}: {stderr}");
        assert!(!bids.is_empty() && bids.len() <= 5_000, "{symbol}");
        assert!(!asks.is_empty() && asks.len() <= 5_000, "{symbol}");
        // Near the top it is exact, level for level.
        let top_bids: Levels = mbids
            .iter()
            .rev()
            .take(1_000)
            .map(|(p, q)| (*p, *q))
            .collect();
        let top_asks: Levels = masks.iter().take(1_000).map(|(p, q)| (*p, *q)).collect();
        assert_eq!(bids[..1_000], top_bids[..], "{symbol} bids");
        assert_eq!(asks[..1_000], top_asks[..], "{symbol} asks");
        // Deeper, every level it holds is the venue's, at the venue's quantity.
        for (p, q) in &bids {
            assert_eq!(mbids.get(p), Some(q), "{symbol} bid {p:?}");
        }
        for (p, q) in &asks {
            assert_eq!(masks.get(p), Some(q), "{symbol} ask {p:?}");
        }
    }
    let _ = std::fs::remove_file(input);
}

#[test]
fn a_frame_removed_from_the_connection_is_a_gap_and_exit_3() {
    let mut frames = received_frames();
    // A heartbeat well after both snapshots: not a book frame, and still a
    // lost message, since the count is one for the whole connection.
    let at = frames
        .iter()
        .enumerate()
        .position(|(i, f)| i > 100 && f.starts_with(r#"{"channel":"heartbeats""#))
        .expect("a heartbeat after the snapshots");
    frames.remove(at);
    let input = write_input("gap", &frames);
    let out = replay(&input, "ETH-USD");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let expected = format!("expected update id {at}, got {}", at + 1);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("gap:") && l.contains(&expected)),
        "{stderr}"
    );
    // No snapshot follows in the capture: the book was discarded.
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_file(input);
}
