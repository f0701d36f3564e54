//! Shared by the benches: the typical-connector baseline and the ratio report.
#![allow(dead_code, reason = "each bench uses part of this module")]
#![allow(
    clippy::float_arithmetic,
    reason = "the baseline is the float approach tickwire replaces"
)]

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Combined-stream envelope, owned.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) stream: String,
    pub(crate) data: T,
}

/// `depthUpdate` the way typical connectors read it: owned strings.
#[allow(non_snake_case, reason = "Binance's keys")]
#[derive(Deserialize)]
pub(crate) struct DepthEvent {
    pub(crate) e: String,
    pub E: u64,
    pub(crate) s: String,
    pub U: u64,
    pub(crate) u: u64,
    #[serde(default)]
    pub(crate) pu: Option<u64>,
    pub(crate) b: Vec<[String; 2]>,
    pub(crate) a: Vec<[String; 2]>,
}

#[allow(non_snake_case, reason = "Binance's keys")]
#[derive(Deserialize)]
pub(crate) struct BookTickerEvent {
    pub(crate) u: u64,
    pub(crate) s: String,
    pub(crate) b: String,
    pub B: String,
    pub(crate) a: String,
    pub A: String,
}

#[allow(non_snake_case, reason = "Binance's keys")]
#[derive(Deserialize)]
pub(crate) struct TradeEvent {
    pub(crate) e: String,
    pub E: u64,
    pub(crate) s: String,
    #[serde(default)]
    pub(crate) t: Option<u64>,
    #[serde(default)]
    pub(crate) a: Option<u64>,
    pub(crate) p: String,
    pub(crate) q: String,
    pub T: u64,
    pub(crate) m: bool,
}

/// f64 with a total order, as connectors key their BTreeMaps.
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Px(pub f64);
impl Eq for Px {}
impl PartialOrd for Px {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Px {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The baseline book: BTreeMap of f64.
#[derive(Default)]
pub(crate) struct BaselineBook {
    pub(crate) bids: BTreeMap<Px, f64>,
    pub(crate) asks: BTreeMap<Px, f64>,
    pub(crate) last_u: u64,
    pub(crate) best_bid: f64,
    pub(crate) best_ask: f64,
    pub(crate) last_trade: (f64, f64),
}

/// The REST snapshot, the typical way.
#[allow(non_snake_case, reason = "Binance's keys")]
#[derive(Deserialize)]
pub(crate) struct SnapshotBody {
    pub lastUpdateId: u64,
    pub(crate) bids: Vec<[String; 2]>,
    pub(crate) asks: Vec<[String; 2]>,
}

impl BaselineBook {
    pub(crate) fn with_snapshot(body: &[u8]) -> BaselineBook {
        let mut book = BaselineBook::default();
        if let Ok(s) = serde_json::from_slice::<SnapshotBody>(body) {
            for (side, levels) in [(&mut book.bids, &s.bids), (&mut book.asks, &s.asks)] {
                for [p, q] in levels {
                    side.insert(Px(p.parse().unwrap_or(0.0)), q.parse().unwrap_or(0.0));
                }
            }
            book.last_u = s.lastUpdateId;
        }
        book
    }

    pub(crate) fn apply_depth(&mut self, d: &DepthEvent) {
        if d.u < self.last_u {
            return;
        }
        for (side, levels) in [(&mut self.bids, &d.b), (&mut self.asks, &d.a)] {
            for [p, q] in levels {
                let p: f64 = p.parse().unwrap_or(0.0);
                let q: f64 = q.parse().unwrap_or(0.0);
                if q == 0.0 {
                    side.remove(&Px(p));
                } else {
                    side.insert(Px(p), q);
                }
            }
        }
        self.last_u = d.u;
    }

    /// Decodes and applies one frame, dispatching on the stream name.
    pub(crate) fn on_frame(&mut self, frame: &[u8]) {
        let stream_end = frame
            .iter()
            .skip(11)
            .position(|&c| c == b'"')
            .map_or(0, |p| p + 11);
        let stream = &frame[..stream_end];
        if contains(stream, b"@depth") {
            if let Ok(env) = serde_json::from_slice::<Envelope<DepthEvent>>(frame) {
                self.apply_depth(&env.data);
            }
        } else if contains(stream, b"@bookTicker") {
            if let Ok(env) = serde_json::from_slice::<Envelope<BookTickerEvent>>(frame) {
                self.best_bid = env.data.b.parse().unwrap_or(0.0);
                self.best_ask = env.data.a.parse().unwrap_or(0.0);
                let _: f64 = env.data.B.parse().unwrap_or(0.0);
                let _: f64 = env.data.A.parse().unwrap_or(0.0);
            }
        } else if contains(stream, b"rade") {
            if let Ok(env) = serde_json::from_slice::<Envelope<TradeEvent>>(frame) {
                self.last_trade = (
                    env.data.p.parse().unwrap_or(0.0),
                    env.data.q.parse().unwrap_or(0.0),
                );
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Median time per iteration (ns) criterion recorded for `group/function`.
pub(crate) fn median_ns(group: &str, function: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(function.replace('/', "_"))
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Prints `baseline / tickwire` for each pair measured in this run.
pub(crate) fn report_ratios(group: &str, names: &[&str]) {
    println!("\n{group}: median ns per iteration (same run)");
    for name in names {
        let ours = median_ns(group, &format!("tickwire/{name}"));
        let base = median_ns(group, &format!("baseline/{name}"));
        match (ours, base) {
            (Some(o), Some(b)) => println!(
                "  {name:<22} tickwire {o:>9.1}  baseline {b:>9.1}  ratio {:>5.2}x",
                b / o
            ),
            (Some(o), None) => println!("  {name:<22} tickwire {o:>9.1}"),
            _ => {}
        }
    }
}

/// Prints, for each `(label, ours, other)` function pair, both medians
/// recorded in this run and `other / ours` (above 1: ours is faster).
pub(crate) fn report_ratio_pairs(group: &str, pairs: &[(&str, &str, &str)]) {
    println!("\n{group}: median ns per iteration (same run)");
    let width = |f: fn(&(&str, &str, &str)) -> usize| pairs.iter().map(f).max().unwrap_or(0);
    let (wl, wo, wb) = (
        width(|p| p.0.len()),
        width(|p| p.1.len()),
        width(|p| p.2.len()),
    );
    for (label, ours, other) in pairs {
        match (median_ns(group, ours), median_ns(group, other)) {
            (Some(o), Some(b)) => println!(
                "  {label:<wl$}  {ours:<wo$} {o:>9.1}  {other:<wb$} {b:>9.1}  ratio {:>5.2}x",
                b / o
            ),
            (Some(o), None) => println!("  {label:<wl$}  {ours:<wo$} {o:>9.1}"),
            _ => {}
        }
    }
}

/// Times `iters` frames, cycling through `frames`; the reset at each wrap
/// happens outside the timed region.
pub(crate) fn timed_cycle(
    iters: u64,
    frames: &[Vec<u8>],
    pos: &mut usize,
    mut on_frame: impl FnMut(&[u8]),
    mut rewind: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let run = left.min((frames.len() - *pos) as u64) as usize;
        let start = Instant::now();
        for f in &frames[*pos..*pos + run] {
            on_frame(f);
        }
        total += start.elapsed();
        left -= run as u64;
        *pos += run;
        if *pos == frames.len() {
            *pos = 0;
            rewind();
        }
    }
    total
}
