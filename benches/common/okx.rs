//! OKX bench bodies for `decode_apply`: tickwire's per-message path on the
//! real `books` capture against the typical connector (serde_json into
//! `String`s, `f64`, a `BTreeMap` book), and the checksum alone.
//!
//! Ours does more than the baseline: after each frame it verifies the
//! venue's checksum over the top 25 levels a side (the baseline does not).
#![allow(
    clippy::float_arithmetic,
    reason = "the baseline is the float approach tickwire replaces"
)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use serde::Deserialize;
use tickwire::book::{BookApply, BookSpec, Ladder};
use tickwire::types::{Registry, Side, Venue};
use tickwire::venue::okx::{Action, BookSpelling, OkxDecoder, OkxMsg};

use crate::common::Px;

/// The capture's BTC-USDT `books` stream: a 400-level snapshot, then 97
/// updates of ~25 levels.
fn frames() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/okx/ws_books_BTC-USDT.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .expect("registry");
    r
}

/// Decoder, book and spellings: the per-message path without the sync.
struct Ours {
    registry: Registry,
    decoder: OkxDecoder,
    book: Ladder,
    spelling: BookSpelling,
    buf: Vec<u8>,
    mismatches: u64,
}

impl Ours {
    fn new() -> Ours {
        let capacity = 1_000;
        Ours {
            registry: registry(),
            decoder: OkxDecoder::new(),
            book: Ladder::new(BookSpec::new(1).with_capacity(capacity)),
            spelling: BookSpelling::new(capacity),
            buf: Vec::with_capacity(1 << 16),
            mismatches: 0,
        }
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        let symbols = self.registry.venue(Venue::Okx);
        let Ok(OkxMsg::Book(m)) = self.decoder.decode(&self.buf, &symbols) else {
            return;
        };
        if m.action == Action::Snapshot {
            self.book.clear();
            self.spelling.clear();
        }
        for (side, levels, spells) in [
            (Side::Bid, m.bids, m.bid_spells),
            (Side::Ask, m.asks, m.ask_spells),
        ] {
            for (l, s) in levels.iter().zip(spells) {
                if let Ok(applied) = self.book.apply(side, l.price, l.qty) {
                    let _ = self.spelling.track(side, l.price, *s, applied);
                }
            }
        }
        let sum = self
            .spelling
            .checksum(&self.book, m.scaling.price, m.scaling.qty);
        if sum.ok() != m.checksum {
            self.mismatches += 1;
        }
    }
}

/// `books` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct BaseFrame {
    action: String,
    data: Vec<BaseBook>,
}

#[derive(Deserialize)]
struct BaseBook {
    asks: Vec<Vec<String>>,
    bids: Vec<Vec<String>>,
    #[allow(dead_code, reason = "read as connectors do")]
    ts: String,
    #[allow(dead_code, reason = "read as connectors do")]
    checksum: i64,
}

#[derive(Default)]
struct Baseline {
    bids: BTreeMap<Px, f64>,
    asks: BTreeMap<Px, f64>,
}

impl Baseline {
    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(f) = serde_json::from_slice::<BaseFrame>(frame) else {
            return;
        };
        if f.action == "snapshot" {
            self.bids.clear();
            self.asks.clear();
        }
        for book in &f.data {
            for (side, levels) in [(&mut self.bids, &book.bids), (&mut self.asks, &book.asks)] {
                for l in levels {
                    let (Ok(p), Ok(q)) = (l[0].parse::<f64>(), l[1].parse::<f64>()) else {
                        continue;
                    };
                    if q == 0.0 {
                        side.remove(&Px(p));
                    } else {
                        side.insert(Px(p), q);
                    }
                }
            }
        }
        black_box((self.bids.last_key_value(), self.asks.first_key_value()));
    }
}

/// Times `iters` updates, cycling; the snapshot is re-applied at each wrap,
/// outside the timed region.
fn cycle(
    iters: u64,
    frames: &[Vec<u8>],
    pos: &mut usize,
    mut f: impl FnMut(&[u8]),
    mut snapshot: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        if *pos == 0 {
            snapshot();
            *pos = 1;
        }
        let run = left.min((frames.len() - *pos) as u64) as usize;
        let start = Instant::now();
        for frame in &frames[*pos..*pos + run] {
            f(frame);
        }
        total += start.elapsed();
        left -= run as u64;
        *pos = (*pos + run) % frames.len();
    }
    total
}

/// `tickwire/okx_book`, `baseline/okx_book` and `tickwire/okx_checksum`.
pub(crate) fn run(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("decode_apply");
    let ours = RefCell::new(Ours::new());
    let mut pos = 0;
    g.bench_function("tickwire/okx_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || ours.borrow_mut().on_frame(&frames[0]),
            )
        })
    });
    assert_eq!(
        ours.borrow().mismatches,
        0,
        "every checksum of the capture matches"
    );
    let base = RefCell::new(Baseline::default());
    let mut pos = 0;
    g.bench_function("baseline/okx_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| base.borrow_mut().on_frame(black_box(f)),
                || base.borrow_mut().on_frame(&frames[0]),
            )
        })
    });
    // The checksum alone, on the snapshot's book: 25 + 25 levels.
    let mut ours = Ours::new();
    ours.on_frame(&frames[0]);
    let (price, qty) = {
        let i = ours.registry.iter().next().expect("instrument");
        (i.price_scale, i.qty_scale)
    };
    g.bench_function("tickwire/okx_checksum", |b| {
        b.iter(|| black_box(ours.spelling.checksum(black_box(&ours.book), price, qty)))
    });
    g.finish();
}
