//! Coinbase bench bodies for `decode_apply`: tickwire's per-message path
//! on the real capture's BTC-USD `l2_data` frames against the typical
//! connector; and the 5 MB whole-book snapshot alone, both ways.
//!
//! Both sides get each frame copied into a receive buffer first, and do the
//! same job with it:
//!
//! | step | tickwire (`CoinbaseSession::handle_text`) | baseline (`Baseline::on_frame`) |
//! |---|---|---|
//! | parse | fast-path scanner over the bytes, simd-json tape on any deviation; nothing allocated | `serde_json` into owned structs, a `String` per field |
//! | `sequence_num` | checked against the last (a jump resyncs) | the same |
//! | `timestamp` | parsed to ns (the events' exchange time) | parsed to `f64` seconds (the book's time) |
//! | `event_time` | each distinct one validated | kept as a `String`, unread |
//! | price, size | exact integers at the instrument's scales | `f64` |
//! | book | `Ladder`: tick window + far list, 5,000 levels a side | `BTreeMap<f64, f64>` per side, 5,000 levels a side |
//! | at capacity | evict the worst level, or drop a worse new one | the same |
//! | checks | whole message validated first (tick grid, sign), crossed book resyncs | a level that does not parse is skipped |
//! | output | one event per changed level, published to a ring (`Discard`) | best bid and ask read |
//!
//! Both books keep the best `DEFAULT_CAPACITY` levels a side of a book that
//! has 18,764 bids and 27,236 offers: a baseline holding the whole book
//! would be a bigger, slower map than the job needs.
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
use tickwire::book::{BookRead, DEFAULT_CAPACITY};
use tickwire::ring::Discard;
use tickwire::types::{Registry, Side, Venue};
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
    timestamp: String,
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

/// RFC 3339 (`2026-08-09T21:05:48.228568804Z`) to `f64` seconds since the
/// epoch, as a connector without a date crate writes it; `None` when it
/// does not parse.
fn rfc3339_secs(t: &str) -> Option<f64> {
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let frac = match t.get(19..)?.strip_suffix('Z')? {
        "" => 0.0,
        f => {
            let digits = f.strip_prefix('.')?;
            digits.parse::<u64>().ok()? as f64 / 10f64.powi(digits.len() as i32)
        }
    };
    Some((days * 86_400 + h * 3_600 + mi * 60 + sec) as f64 + frac)
}

/// The typical connector's book: a `BTreeMap` a side, keyed by `f64`.
struct Baseline {
    bids: BTreeMap<Px, f64>,
    asks: BTreeMap<Px, f64>,
    /// Levels a side kept (the best ones), as tickwire's book.
    capacity: usize,
    /// The `sequence_num` the next frame must carry.
    next_seq: Option<u64>,
    /// The last frame's `timestamp`, in seconds.
    time: f64,
    /// Sequence gaps seen (each one clears the books, as a resync would).
    gaps: u64,
}

impl Baseline {
    fn new() -> Baseline {
        Baseline {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            capacity: DEFAULT_CAPACITY,
            next_seq: None,
            time: 0.0,
            gaps: 0,
        }
    }

    /// A new connection: the count of `sequence_num` starts again.
    fn reconnect(&mut self) {
        self.next_seq = None;
    }

    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(f) = serde_json::from_slice::<BaseFrame>(frame) else {
            return;
        };
        if self.next_seq.is_some_and(|n| n != f.sequence_num) {
            self.gaps += 1;
            self.bids.clear();
            self.asks.clear();
        }
        self.next_seq = Some(f.sequence_num + 1);
        if let Some(t) = rfc3339_secs(&f.timestamp) {
            self.time = t;
        }
        for e in &f.events {
            if e.kind == "snapshot" {
                self.bids.clear();
                self.asks.clear();
            }
            for u in &e.updates {
                let (Ok(p), Ok(q)) = (u.price_level.parse::<f64>(), u.new_quantity.parse::<f64>())
                else {
                    continue;
                };
                self.set(u.side == "bid", p, q);
            }
        }
        black_box((
            self.time,
            self.bids.last_key_value(),
            self.asks.first_key_value(),
        ));
    }

    /// Sets a level (0 removes); at capacity a new level evicts the worst
    /// one, or is dropped when it is worse than all of them.
    fn set(&mut self, bid: bool, p: f64, q: f64) {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        if q == 0.0 {
            side.remove(&Px(p));
            return;
        }
        if side.len() >= self.capacity && !side.contains_key(&Px(p)) {
            let worst = if bid {
                side.first_key_value()
            } else {
                side.last_key_value()
            };
            let Some((&Px(w), _)) = worst else {
                return;
            };
            if (bid && p < w) || (!bid && p > w) {
                return;
            }
            side.remove(&Px(w));
        }
        side.insert(Px(p), q);
    }
}

/// Both sides over the whole capture end with the same book: as many
/// levels a side, the same best prices and quantities.
fn same_job(frames: &[Vec<u8>]) {
    let (mut ours, mut base) = (Ours::new(), Baseline::new());
    for f in frames {
        ours.on_frame(f);
        base.on_frame(f);
    }
    assert_eq!(base.gaps, 0);
    assert!(base.time > 1.7e9, "timestamps parsed");
    let book = &ours.books[0].book;
    let mantissa = |x: f64| (x * 1e2).round() as i64;
    let qty = |x: f64| (x * 1e8).round() as i64;
    assert_eq!(book.depth(Side::Bid), base.bids.len());
    assert_eq!(book.depth(Side::Ask), base.asks.len());
    let (bid, ask) = (book.best_bid().expect("bid"), book.best_ask().expect("ask"));
    let (bp, bq) = base.bids.last_key_value().expect("bid");
    let (ap, aq) = base.asks.first_key_value().expect("ask");
    assert_eq!((bid.price.0, bid.qty.0), (mantissa(bp.0), qty(*bq)));
    assert_eq!((ask.price.0, ask.qty.0), (mantissa(ap.0), qty(*aq)));
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
    same_job(&frames);
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
    let base = RefCell::new(Baseline::new());
    let mut buf = Vec::with_capacity(8 << 20);
    let mut pos = 0;
    g.bench_function("baseline/coinbase_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| {
                    buf.clear();
                    buf.extend_from_slice(f);
                    base.borrow_mut().on_frame(black_box(&buf));
                },
                || {
                    let mut b = base.borrow_mut();
                    b.reconnect();
                    b.on_frame(&frames[0]);
                },
            )
        })
    });
    assert_eq!(base.borrow().gaps, 0, "the baseline replays cleanly too");
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
                let mut base = Baseline::new();
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
