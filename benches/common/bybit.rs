//! Bybit decode + apply: tickwire's per-message path (`BybitSession::
//! handle_text`: decode, sync, book, staged events) against the typical
//! connector approach (serde_json into owned structs with `String` prices,
//! parsed to `f64`, applied to a `BTreeMap`) on the venue's own frames.
//!
//! The frames: every delta of the linear BTCUSDT `orderbook.200` capture
//! (16 levels on average) and of the XRPUSDT `orderbook.500` history dump
//! (60), about 21 levels a frame overall; each book starts from its
//! captured snapshot, fed again (outside the timed region) whenever the
//! cycle wraps. One iteration = one frame, copied into the receive buffer
//! first, then decoded and applied.
//!
//! `bybit_trade`: the linear BTCUSDT and ETHUSDT `publicTrade` captures
//! (28 frames, 1 to 9 trades each), through the same session (decode and
//! staged trade events) against serde_json into owned trades with `f64`
//! price and size.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use criterion::Criterion;
use serde::Deserialize;
use tickwire::ring::Discard;
use tickwire::types::{Registry, Venue};
use tickwire::venue::bybit::BybitSession;
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

use crate::common::{Px, timed_cycle};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bybit");
const FILES: [&str; 2] = [
    "ws_linear_orderbook_200_BTCUSDT.jsonl",
    "linear_orderbook500_XRPUSDT_2024-12-01_bybit_history.jsonl",
];

/// The captured snapshots (one per book) and the deltas after them.
struct Workload {
    snapshots: Vec<Vec<u8>>,
    deltas: Vec<Vec<u8>>,
}

fn workload() -> Workload {
    let mut w = Workload {
        snapshots: Vec::new(),
        deltas: Vec::new(),
    };
    for file in FILES {
        let text = std::fs::read_to_string(format!("{DIR}/{file}")).expect("fixture");
        for line in text.lines() {
            let bytes = line.as_bytes().to_vec();
            if line.contains("\"type\":\"snapshot\"") {
                w.snapshots.push(bytes);
            } else {
                w.deltas.push(bytes);
            }
        }
    }
    w
}

/// The engine's per-message path for one linear connection.
struct Ours {
    registry: Registry,
    session: BybitSession,
    books: Vec<InstrumentBook>,
    out: Discard,
    buf: Vec<u8>,
}

impl Ours {
    fn new() -> Ours {
        Ours::with(&[("BTCUSDT", "0.10", "0.001"), ("XRPUSDT", "0.0001", "1")])
    }

    /// A linear session for `instruments` (symbol, tick, lot).
    fn with(instruments: &[(&str, &str, &str)]) -> Ours {
        let mut registry = Registry::new();
        for &(s, tick, lot) in instruments {
            registry
                .add(Venue::BybitLinear, s, tick, lot)
                .expect("registry");
        }
        let instruments = registry
            .iter()
            .map(|i| PlannedInstrument {
                id: i.id,
                symbol: i.symbol.to_string(),
            })
            .collect();
        let session = BybitSession::new(&SessionPlan {
            venue: Venue::BybitLinear,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments,
            channels: vec![Channel::Depth, Channel::Trade],
            depth_interval_ms: 100,
            depth: 200,
            url_streams: None,
            streams_per_subscribe: 10,
            control_per_sec: 5,
            book_capacity: 1_000,
            max_frame: tickwire::venue::bybit::DEFAULT_MAX_FRAME,
        });
        let books = books_for(&registry, 1_000, GapPolicy::Resync);
        Ours {
            registry,
            session,
            books,
            out: Discard::default(),
            buf: Vec::with_capacity(1 << 16),
        }
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

/// `orderbook.*` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct BookMessage {
    topic: String,
    #[serde(rename = "type")]
    kind: String,
    ts: u64,
    data: BookData,
    #[serde(default)]
    cts: Option<u64>,
}

#[derive(Deserialize)]
struct BookData {
    s: String,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
    u: u64,
    #[serde(default)]
    seq: Option<u64>,
}

/// One symbol's baseline book: a `BTreeMap` of `f64` per side.
#[derive(Default)]
struct BaseBook {
    bids: BTreeMap<Px, f64>,
    asks: BTreeMap<Px, f64>,
    last_u: u64,
}

/// The baseline: a book per symbol.
#[derive(Default)]
struct Baseline {
    books: HashMap<String, BaseBook>,
}

impl Baseline {
    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(m) = serde_json::from_slice::<BookMessage>(frame) else {
            return;
        };
        black_box((&m.topic, m.ts, m.cts, m.data.seq));
        let book = self.books.entry(m.data.s.clone()).or_default();
        if m.kind == "snapshot" || m.data.u == 1 {
            book.bids.clear();
            book.asks.clear();
        } else if m.data.u != book.last_u + 1 {
            // A gap: a connector would resubscribe; the frames have none.
            return;
        }
        book.last_u = m.data.u;
        for (side, levels) in [(&mut book.bids, &m.data.b), (&mut book.asks, &m.data.a)] {
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
    }
}

/// Registers `tickwire/bybit_book` and `baseline/bybit_book` in `decode_apply`.
pub(crate) fn bench(c: &mut Criterion) {
    let w = workload();
    let mut g = c.benchmark_group("decode_apply");
    let mut ours = Ours::new();
    for s in &w.snapshots {
        ours.on_frame(s);
    }
    let mut pos = 0;
    g.bench_function("tickwire/bybit_book", |b| {
        b.iter_custom(|iters| {
            let ours = std::cell::RefCell::new(&mut ours);
            timed_cycle(
                iters,
                &w.deltas,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || {
                    for s in &w.snapshots {
                        ours.borrow_mut().on_frame(s);
                    }
                },
            )
        })
    });
    for b in &ours.books {
        let s = b.sync.stats();
        println!(
            "  bybit_book: {} applied={} stale={} gaps={} snapshots={}",
            ours.registry.get(b.id).symbol,
            s.applied,
            s.stale,
            s.gaps,
            s.snapshots
        );
    }
    let base = std::cell::RefCell::new(Baseline::default());
    for s in &w.snapshots {
        base.borrow_mut().on_frame(s);
    }
    let mut buf = Vec::with_capacity(1 << 16);
    let mut pos = 0;
    g.bench_function("baseline/bybit_book", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &w.deltas,
                &mut pos,
                |f| {
                    buf.clear();
                    buf.extend_from_slice(f);
                    base.borrow_mut().on_frame(black_box(&buf));
                },
                || {
                    for s in &w.snapshots {
                        base.borrow_mut().on_frame(s);
                    }
                },
            )
        })
    });
    g.finish();
}

/// `publicTrade` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct TradeMessage {
    topic: String,
    ts: u64,
    data: Vec<TradeItem>,
}

#[derive(Deserialize)]
#[allow(non_snake_case, reason = "Bybit's field names")]
struct TradeItem {
    T: u64,
    s: String,
    S: String,
    v: String,
    p: String,
    i: String,
    #[serde(default)]
    seq: Option<u64>,
}

/// The baseline's view of the trades: the last price and size per symbol.
#[derive(Default)]
struct BaseTrades {
    last: HashMap<String, (f64, f64)>,
}

impl BaseTrades {
    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(m) = serde_json::from_slice::<TradeMessage>(frame) else {
            return;
        };
        black_box((&m.topic, m.ts));
        for t in &m.data {
            let p: f64 = t.p.parse().unwrap_or(0.0);
            let v: f64 = t.v.parse().unwrap_or(0.0);
            black_box((t.T, &t.S, &t.i, t.seq));
            self.last.insert(t.s.clone(), (p, v));
        }
    }
}

/// Registers `tickwire/bybit_trade` and `baseline/bybit_trade`.
pub(crate) fn trades(c: &mut Criterion) {
    let mut frames = Vec::new();
    for file in [
        "ws_linear_publicTrade_BTCUSDT.jsonl",
        "ws_linear_publicTrade_ETHUSDT.jsonl",
    ] {
        let text = std::fs::read_to_string(format!("{DIR}/{file}")).expect("fixture");
        frames.extend(text.lines().map(|l| l.as_bytes().to_vec()));
    }
    let mut g = c.benchmark_group("decode_apply");
    let mut ours = Ours::with(&[("BTCUSDT", "0.10", "0.001"), ("ETHUSDT", "0.01", "0.01")]);
    let mut pos = 0;
    g.bench_function("tickwire/bybit_trade", |b| {
        b.iter_custom(|iters| timed_cycle(iters, &frames, &mut pos, |f| ours.on_frame(f), || {}))
    });
    // Every frame decoded, and by the template.
    let d = ours.session.decode_stats();
    assert_eq!(d.fallback, 0, "bybit_trade: {d:?}");
    // (A `cargo bench` filter may have skipped the bench: nothing decoded.)
    assert!(d.fast > 0 || ours.session.stats().frames == 0, "{d:?}");
    let mut base = BaseTrades::default();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut pos = 0;
    g.bench_function("baseline/bybit_trade", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &frames,
                &mut pos,
                |f| {
                    buf.clear();
                    buf.extend_from_slice(f);
                    base.on_frame(black_box(&buf));
                },
                || {},
            )
        })
    });
    g.finish();
}
