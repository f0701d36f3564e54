//! Coinbase bench bodies for `decode_apply`: tickwire's per-message path
//! (`CoinbaseSession::handle_text`: `sequence_num`, decode, sync, book,
//! staged events) on the real capture's BTC-USD `l2_data` frames against
//! the typical connector (serde_json into `String`s, `f64`, a `BTreeMap`
//! book); and the 5 MB whole-book snapshot alone, both ways.
//!
//! The capture's BTC-USD frames are interleaved with every other channel
//! of the connection; here they are played alone, so their
//! `sequence_num`s are renumbered 0, 1, 2, … (the text is otherwise the
//! venue's) and each cycle starts on a fresh connection with the snapshot,
//! outside the timed region.
#![allow(
    clippy::float_arithmetic,
    reason = "the baseline is the float approach tickwire replaces"
)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

use criterion::Criterion;
use serde::Deserialize;
use tickwire::book::DEFAULT_CAPACITY;
use tickwire::ring::Discard;
use tickwire::types::{Registry, Venue};
use tickwire::venue::coinbase::CoinbaseSession;
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

use crate::common::Px;

/// BTC-USD's `l2_data` frames of the capture (the snapshot first), numbered
/// 0, 1, 2, ….
fn frames() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/coinbase/raw/cryptofeed_v3_COINBASE.jsonl.zst"
    );
    let mut text = String::new();
    zstd::Decoder::new(std::fs::File::open(path).expect("fixture"))
        .expect("zstd")
        .read_to_string(&mut text)
        .expect("decompresses");
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("record");
        let Some(frame) = v["data"].as_str() else {
            continue;
        };
        if v["t"] != "recv"
            || !frame.starts_with(r#"{"channel":"l2_data""#)
            || !frame.contains(r#""product_id":"BTC-USD""#)
        {
            continue;
        }
        let at = frame.find(r#""sequence_num":"#).expect("numbered") + 15;
        let end = at + frame[at..].find(',').expect("comma");
        out.push(format!("{}{}{}", &frame[..at], out.len(), &frame[end..]).into_bytes());
    }
    assert_eq!(out.len(), 400, "BTC-USD: a snapshot and 399 updates");
    out
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(Venue::Coinbase, "BTC-USD", "0.01", "0.00000001")
        .expect("registry");
    r
}

/// The engine's per-message path into a `Discard`.
struct Ours {
    registry: Registry,
    session: CoinbaseSession,
    books: Vec<InstrumentBook>,
    out: Discard,
    buf: Vec<u8>,
}

impl Ours {
    fn new() -> Ours {
        let registry = registry();
        let plan = SessionPlan {
            venue: Venue::Coinbase,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments: registry
                .iter()
                .map(|i| PlannedInstrument {
                    id: i.id,
                    symbol: i.symbol.as_str().to_owned(),
                })
                .collect(),
            channels: vec![Channel::Depth],
            depth_interval_ms: 0,
            depth: DEFAULT_CAPACITY as u32,
            url_streams: None,
            streams_per_subscribe: 100,
            control_per_sec: 7,
            book_capacity: DEFAULT_CAPACITY,
            max_frame: tickwire::venue::profile(Venue::Coinbase).max_frame_bytes,
        };
        let mut session = CoinbaseSession::new(&plan);
        let mut books = books_for(&registry, DEFAULT_CAPACITY, GapPolicy::Resync);
        session.handle_open(0, &mut books);
        Ours {
            books,
            session,
            registry,
            out: Discard::default(),
            buf: Vec::with_capacity(8 << 20),
        }
    }

    /// A new connection: the count of `sequence_num` starts again.
    fn reconnect(&mut self) {
        self.session.handle_closed(0);
        self.session.handle_open(0, &mut self.books);
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        let r =
            self.session
                .handle_text(&self.buf, 1, &self.registry, &mut self.books, &mut self.out);
        black_box(r.ok());
    }
}

/// `l2_data` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct BaseFrame {
    #[allow(dead_code, reason = "read as connectors do")]
    channel: String,
    #[allow(dead_code, reason = "read as connectors do")]
    timestamp: String,
    #[allow(dead_code, reason = "read as connectors do")]
    sequence_num: u64,
    events: Vec<BaseEvent>,
}

#[derive(Deserialize)]
struct BaseEvent {
    #[serde(rename = "type")]
    kind: String,
    #[allow(dead_code, reason = "read as connectors do")]
    product_id: String,
    updates: Vec<BaseUpdate>,
}

#[derive(Deserialize)]
struct BaseUpdate {
    side: String,
    #[allow(dead_code, reason = "read as connectors do")]
    event_time: String,
    price_level: String,
    new_quantity: String,
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
        for e in &f.events {
            if e.kind == "snapshot" {
                self.bids.clear();
                self.asks.clear();
            }
            for u in &e.updates {
                let side = if u.side == "bid" {
                    &mut self.bids
                } else {
                    &mut self.asks
                };
                let (Ok(p), Ok(q)) = (u.price_level.parse::<f64>(), u.new_quantity.parse::<f64>())
                else {
                    continue;
                };
                if q == 0.0 {
                    side.remove(&Px(p));
                } else {
                    side.insert(Px(p), q);
                }
            }
        }
        black_box((self.bids.last_key_value(), self.asks.first_key_value()));
    }
}

/// Times `iters` updates, cycling; each cycle starts with `start` (a new
/// connection and the snapshot), outside the timed region.
fn cycle(
    iters: u64,
    frames: &[Vec<u8>],
    pos: &mut usize,
    mut f: impl FnMut(&[u8]),
    mut start: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        if *pos == 0 {
            start();
            *pos = 1;
        }
        let run = left.min((frames.len() - *pos) as u64) as usize;
        let t0 = Instant::now();
        for frame in &frames[*pos..*pos + run] {
            f(frame);
        }
        total += t0.elapsed();
        left -= run as u64;
        *pos = (*pos + run) % frames.len();
    }
    total
}

/// `tickwire/coinbase_book`, `baseline/coinbase_book`,
/// `tickwire/coinbase_decode_only`, `tickwire/coinbase_snapshot_5mb` and
/// `baseline/coinbase_snapshot_5mb`.
pub(crate) fn run(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("decode_apply");
    let ours = RefCell::new(Ours::new());
    let mut pos = 0;
    g.bench_function("tickwire/coinbase_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || {
                    let mut o = ours.borrow_mut();
                    o.reconnect();
                    o.on_frame(&frames[0]);
                },
            )
        })
    });
    {
        let o = ours.borrow();
        let s = o.books[0].sync.stats();
        assert_eq!((s.gaps, s.resyncs), (0, 0), "the capture replays cleanly");
        assert_eq!(o.session.stats().decode_errors, 0);
    }
    let base = RefCell::new(Baseline::default());
    let mut pos = 0;
    g.bench_function("baseline/coinbase_book", |b| {
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
    // Decoding alone (no sequence check, sync or book), on the same
    // update frames: how the per-frame time splits.
    let registry = registry();
    let mut decoder = tickwire::venue::coinbase::CoinbaseDecoder::new(8 << 20);
    let mut pos = 1;
    g.bench_function("tickwire/coinbase_decode_only", |b| {
        b.iter(|| {
            let symbols = registry.venue(Venue::Coinbase);
            let r = decoder.decode(black_box(&frames[pos]), &symbols);
            black_box(r.is_ok());
            pos = if pos + 1 == frames.len() { 1 } else { pos + 1 };
        })
    });
    // The whole-book snapshot alone: ~5 MB, 18,764 bids and 27,236
    // offers, into a book of the default capacity (the best 5,000 a side
    // kept; the rest counted as truncated).
    let snapshot = &frames[0];
    g.sample_size(20);
    g.bench_function("tickwire/coinbase_snapshot_5mb", |b| {
        b.iter_custom(|iters| {
            let mut o = ours.borrow_mut();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                o.reconnect();
                let t0 = Instant::now();
                o.on_frame(snapshot);
                total += t0.elapsed();
            }
            total
        })
    });
    g.bench_function("baseline/coinbase_snapshot_5mb", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut base = Baseline::default();
                let t0 = Instant::now();
                base.on_frame(black_box(snapshot));
                total += t0.elapsed();
                drop(base);
            }
            total
        })
    });
    g.finish();
}
