//! The bridge's extra hop, against a baseline in the same run.
//!
//! One producer thread pushes events into an engine fan-out ring, stamping
//! each with the time of the push; the ring is popped and the events sent,
//! and a receiver thread gets each event and records `now - stamp` (one
//! process, one clock):
//! * `aeron ipc` / `aeron udp`: `tickwire::bridge::InlinePublisher` →
//!   Aeron (embedded driver; IPC, or UDP on 127.0.0.1) → `Subscriber::poll`;
//! * `aeron ipc, publisher thread`: the same through `Publisher::spawn`'s
//!   own thread;
//! * `json tcp`: the same events as serde_json lines (decimal strings) over
//!   a plain loopback TCP socket, parsed back into exact integers.
//!
//! The ring is popped by the producer's thread right after each push (the
//! inline publisher, and the baseline's writer the same way), so the hop is
//! the "publisher ring pop → subscriber poll" with one busy thread
//! per side. This machine class has two cores: a third spinning thread
//! (a publisher thread beside the producer and the receiver) takes a core
//! from one of them, and the hop then measures the scheduler's time slice;
//! the `publisher thread` row shows that. Over UDP the media driver's
//! thread is on the hop too, so there it and the receiver yield the core
//! when idle instead of spinning.
//!
//! Two phases per transport: latency (single events, at least 20 µs apart:
//! the producer sleeps between them) and throughput (batches of 10 at 1 M
//! events/s for 2 s: events received and events lost). `--quick` runs a
//! tenth of it. Then the engine's feed thread with and without a bridge
//! publisher beside its consumer (`feed.rs`); the name filter `feed` runs
//! only that.
#![allow(clippy::float_arithmetic, reason = "rates and ratios for the report")]

#[path = "bridge/feed.rs"]
mod feed;
#[path = "common/measure.rs"]
mod measure;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickwire::book::Ladder;
use tickwire::bridge::{
    Idle, InlinePublisher, MediaDriver, Publisher, PublisherConfig, Subscriber,
};
use tickwire::consumer::Consumer;
use tickwire::ring::{BookState, EventBatch, FanOut};
use tickwire::types::{
    Body, Clock, Event, InstrumentId, MonotonicClock, Price, Qty, Registry, Scale, Side, Stamp,
    StatusCode, Venue,
};

const CAPACITY: usize = 1000;

/// Pops the ring and sends, in the producer's thread (inline transports).
type Step = Box<dyn FnMut() -> usize>;

/// A started transport: the receiver thread, the inline sender if the
/// producer is to drive it, and what closes the sender.
struct Started {
    rx: JoinHandle<Seen>,
    step: Option<Step>,
    close: Box<dyn FnOnce()>,
}

/// Latency histogram, events/s in the throughput phase, events lost.
type Outcome = (Histogram<u64>, f64, u64);
/// One transport's run.
type Bench = Box<dyn FnOnce() -> Outcome>;

/// What a receiver saw.
struct Seen {
    hist: Histogram<u64>,
    events: u64,
    /// `Resync` statuses (a repair or a gap on the way).
    resyncs: u64,
}

/// Waits one empty turn as `idle` says (the bench's receiver and pacing).
fn wait(idle: Idle) {
    match idle {
        Idle::Yield => std::thread::yield_now(),
        Idle::Spin | Idle::Backoff => std::hint::spin_loop(),
    }
}

/// A receiver thread: calls `recv` until `stop`, recording latency of every
/// level event the producer stamped (zero-stamped ones are filler, and a
/// repair's snapshot levels carry the publisher's time, not a push's).
fn receiver(
    mut recv: impl FnMut(&mut dyn FnMut(Event)) -> usize + 'static,
    clock: MonotonicClock,
    idle: Idle,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> impl FnOnce() -> Seen {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("histogram");
    // `count` is the pushed level events received as themselves: one
    // dropped and repaired by a snapshot counts as lost.
    let (mut events, mut levels, mut resyncs) = (0u64, 0u64, 0u64);
    move || {
        while !stop.load(Ordering::Relaxed) {
            let n = recv(&mut |e: Event| {
                match e.body() {
                    Body::Level(l) if !l.snapshot => {
                        if e.recv_ns != 0 {
                            let now = clock.now();
                            let _ = hist.record(now.saturating_sub(e.recv_ns).max(1));
                        }
                        levels += 1;
                    }
                    Body::Status(s) if s.code == StatusCode::Resync => resyncs += 1,
                    _ => {}
                }
                events += 1;
            });
            if n > 0 {
                count.store(levels, Ordering::Relaxed);
            } else {
                wait(idle);
            }
        }
        Seen {
            hist,
            events,
            resyncs,
        }
    }
}

fn registry() -> Arc<Registry> {
    let mut r = Registry::new();
    r.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    Arc::new(r)
}

fn level(i: u64, recv_ns: u64, eob: bool) -> Event {
    let stamp = Stamp {
        venue: Venue::BinanceSpot,
        instrument: InstrumentId(0),
        seq: i,
        exch_ns: 0,
        recv_ns,
    };
    let side = if i % 2 == 0 { Side::Bid } else { Side::Ask };
    let price = if side == Side::Bid {
        4_300_000 - (i % 50) as i64
    } else {
        4_300_001 + (i % 50) as i64
    };
    let e = Event::level(stamp, side, Price(price), Qty(1 + (i % 1000) as i64), 0);
    e.with_end_of_batch(eob)
}

/// What a transport's start function is given.
struct Rig {
    consumer: Consumer,
    clock: MonotonicClock,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
}

/// Drives one transport: `start` gets the ring's consumer and returns the
/// receiver, the inline sender and a closer; returns (latency histogram,
/// throughput events/s, events lost).
fn run(name: &str, quick: bool, idle: Idle, start: impl FnOnce(Rig) -> Started) -> Outcome {
    let clock = MonotonicClock::new();
    let mut fanout = FanOut::new(1, 2 * CAPACITY);
    let consumer = fanout.add_consumer(1 << 16);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let Started {
        rx,
        mut step,
        close,
    } = start(Rig {
        consumer,
        clock: clock.clone(),
        stop: stop.clone(),
        count: count.clone(),
    });
    let mut step = move || step.as_mut().map_or(0, |s| s());
    let mut batch = EventBatch::with_capacity(64);
    let blank = level(0, 0, false).stamp().expect("stamp");
    let mut i = 0u64;
    let mut push = |n: usize, stamped: bool| {
        batch.clear();
        let now = if stamped { clock.now() } else { 0 };
        for k in 0..n {
            i += 1;
            batch.push(level(i, now, k + 1 == n));
        }
        fanout.publish(&batch, BookState::<Ladder>::Resyncing(blank), 0);
        step();
    };
    // Wait (bounded) for the receiver to see events at all: the subscriber
    // must connect and sync first.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        push(1, false);
        std::thread::sleep(Duration::from_millis(2));
    }
    let scale = if quick { 10 } else { 1 };
    // The producer sleeps between single events; the inline sender steps
    // right after each push (and so also runs its periodic work then).
    let spaced = |n: u64, stamped: bool, push: &mut dyn FnMut(usize, bool)| {
        for _ in 0..n {
            std::thread::sleep(Duration::from_micros(20));
            push(1, stamped);
        }
    };
    // Warm-up (not recorded), then latency.
    spaced(20_000 / scale, false, &mut push);
    let before = count.load(Ordering::Relaxed);
    spaced(100_000 / scale, true, &mut push);
    std::thread::sleep(Duration::from_millis(200));
    let latency_seen = count.load(Ordering::Relaxed) - before;
    // Throughput: batches of 10 every 10 µs = 1 M events/s.
    let tp_events = 2_000_000 / scale;
    let before = count.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let mut next = Instant::now();
    for _ in 0..tp_events / 10 {
        while Instant::now() < next {
            wait(idle);
        }
        push(10, false);
        next += Duration::from_micros(10);
    }
    let sent_for = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::Relaxed) - before < tp_events && Instant::now() < deadline {
        push(0, false);
        std::thread::sleep(Duration::from_millis(1));
    }
    let got = count.load(Ordering::Relaxed) - before;
    let took = t0.elapsed().max(sent_for);
    stop.store(true, Ordering::Relaxed);
    let seen = rx.join().expect("receiver");
    // The inline sender goes before its transport (the driver) closes.
    drop(step);
    close();
    let rate = got as f64 / took.as_secs_f64();
    let lost = tp_events.saturating_sub(got);
    eprintln!(
        "{name}: latency phase {latency_seen} events received; throughput {got} of {tp_events} in {:.2} s; {} events, {} resyncs in all",
        took.as_secs_f64(),
        seen.events,
        seen.resyncs
    );
    (seen.hist, rate, lost)
}

/// An inline publisher that reports its counters when it is dropped.
struct Stepped(InlinePublisher);

impl Drop for Stepped {
    fn drop(&mut self) {
        let stats = self.0.stats();
        eprintln!(
            "  inline publisher: {} events, {} dropped, {} repairs",
            stats.events, stats.dropped, stats.repairs
        );
    }
}

/// How an Aeron row runs: the embedded driver's and the receiver's waits,
/// and where the publisher runs.
#[derive(Clone, Copy)]
struct Setup {
    driver: Idle,
    receiver: Idle,
    /// The publisher stepped by the producer's thread, or on its own.
    inline: bool,
}

/// An Aeron transport on `channel`, set up as `setup` says.
fn aeron(channel: &'static str, stream: i32, setup: Setup) -> impl FnOnce(Rig) -> Started {
    move |rig| {
        let driver = MediaDriver::start_with(None, setup.driver).expect("driver");
        let dir = driver.dir().to_owned();
        let mut cfg = PublisherConfig::new(channel);
        cfg.stream_id = stream;
        let (step, stop_thread): (Option<Step>, Option<Publisher>) = if setup.inline {
            let p = InlinePublisher::connect(&dir, rig.consumer, registry(), CAPACITY, &cfg)
                .expect("publisher");
            let mut p = Stepped(p);
            (Some(Box::new(move || p.0.step())), None)
        } else {
            let p = Publisher::spawn(&dir, rig.consumer, registry(), CAPACITY, &cfg)
                .expect("publisher");
            (None, Some(p))
        };
        let (clock, stop, count) = (rig.clock, rig.stop, rig.count);
        let rx = std::thread::spawn(move || {
            let mut sub = Subscriber::connect(&dir, channel, stream).expect("subscriber");
            let body = receiver(
                move |f| {
                    let mut n = 0;
                    while let Some(e) = sub.poll() {
                        f(e);
                        n += 1;
                    }
                    n
                },
                clock,
                setup.receiver,
                stop,
                count,
            );
            body()
        });
        let close: Box<dyn FnOnce()> = Box::new(move || {
            if let Some(p) = stop_thread {
                let stats = p.stop();
                eprintln!(
                    "  publisher thread: {} events, {} dropped, {} repairs",
                    stats.events, stats.dropped, stats.repairs
                );
            }
            drop(driver);
        });
        Started { rx, step, close }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct JsonLevel<'a> {
    symbol: &'a str,
    side: &'a str,
    price: &'a str,
    qty: &'a str,
    end_of_batch: bool,
    seq: u64,
    recv_ns: u64,
}

/// The baseline's sender: pops the ring, writes each level as a JSON line,
/// flushes once per turn.
fn json_sender(mut consumer: Consumer, sock: TcpStream) -> Step {
    sock.set_nodelay(true).expect("nodelay");
    let mut out = std::io::BufWriter::new(sock);
    let scale = Scale::new(2).expect("scale");
    let qscale = Scale::new(5).expect("scale");
    let mut line = Vec::with_capacity(256);
    Box::new(move || {
        let n = consumer.drain(|e| {
            if let Body::Level(l) = e.body() {
                let price = l.price.at(scale).to_string();
                let qty = l.qty.at(qscale).to_string();
                let j = JsonLevel {
                    symbol: "BTCUSDT",
                    side: if l.side == Side::Bid { "bid" } else { "ask" },
                    price: &price,
                    qty: &qty,
                    end_of_batch: l.end_of_batch,
                    seq: e.seq,
                    recv_ns: e.recv_ns,
                };
                line.clear();
                serde_json::to_writer(&mut line, &j).expect("json");
                line.push(b'\n');
                let _ = out.write_all(&line);
            }
        });
        if n > 0 {
            let _ = out.flush();
        }
        n
    })
}

fn json_tcp(rig: Rig) -> Started {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let rx = std::thread::spawn(move || {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let mut input = BufReader::new(sock);
        let mut line = String::with_capacity(256);
        let scale = Scale::new(2).expect("scale");
        let qscale = Scale::new(5).expect("scale");
        let body = receiver(
            move |f| {
                line.clear();
                match input.read_line(&mut line) {
                    Ok(n) if n > 0 => {
                        let j: JsonLevel = serde_json::from_str(&line).expect("json line");
                        let side = if j.side == "bid" {
                            Side::Bid
                        } else {
                            Side::Ask
                        };
                        let stamp = Stamp {
                            venue: Venue::BinanceSpot,
                            instrument: InstrumentId(0),
                            seq: j.seq,
                            exch_ns: 0,
                            recv_ns: j.recv_ns,
                        };
                        let price = Price::parse(j.price.as_bytes(), scale).expect("price");
                        let qty = Qty::parse(j.qty.as_bytes(), qscale).expect("qty");
                        f(Event::level(stamp, side, price, qty, 0));
                        1
                    }
                    _ => 0,
                }
            },
            rig.clock,
            Idle::Spin,
            rig.stop,
            rig.count,
        );
        body()
    });
    let (sock, _) = listener.accept().expect("accept");
    Started {
        rx,
        step: Some(json_sender(rig.consumer, sock)),
        close: Box::new(|| {}),
    }
}

fn ns(h: &Histogram<u64>, q: f64) -> u64 {
    h.value_at_quantile(q)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut rows = Vec::new();
    let ipc = "aeron:ipc";
    let udp = "aeron:udp?endpoint=127.0.0.1:40461";
    // IPC: the driver is not on the hop (it only moves the publication's
    // limit), so it backs off and the receiver spins. UDP: the driver sends
    // and receives every message, so it and the receiver yield.
    let ipc_setup = Setup {
        driver: Idle::Backoff,
        receiver: Idle::Spin,
        inline: true,
    };
    let udp_setup = Setup {
        driver: Idle::Yield,
        receiver: Idle::Yield,
        inline: true,
    };
    let thread_setup = Setup {
        inline: false,
        ..ipc_setup
    };
    let runs: Vec<(&str, Bench)> = vec![
        (
            "aeron ipc",
            Box::new(move || run("aeron ipc", quick, Idle::Spin, aeron(ipc, 4101, ipc_setup))),
        ),
        (
            "aeron udp",
            Box::new(move || run("aeron udp", quick, Idle::Yield, aeron(udp, 4201, udp_setup))),
        ),
        (
            "json tcp",
            Box::new(move || run("json tcp", quick, Idle::Spin, json_tcp)),
        ),
        (
            "aeron ipc, publisher thread",
            Box::new(move || {
                run(
                    "aeron ipc, publisher thread",
                    quick,
                    Idle::Spin,
                    aeron(ipc, 4301, thread_setup),
                )
            }),
        ),
    ];
    for (name, f) in runs {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let (h, rate, lost) = f();
        rows.push((name, ns(&h, 0.5), ns(&h, 0.99), ns(&h, 0.999), rate, lost));
    }
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>14} {:>8}",
        "hop", "p50 ns", "p99 ns", "p99.9 ns", "events/s", "lost"
    );
    for (name, p50, p99, p999, rate, lost) in &rows {
        println!("{name:<28} {p50:>10} {p99:>10} {p999:>10} {rate:>14.0} {lost:>8}");
    }
    if let Some(base) = rows.iter().find(|r| r.0 == "json tcp") {
        for r in rows.iter().filter(|r| r.0 != "json tcp") {
            println!(
                "{}: p50 {:.1}x, p99 {:.1}x faster than json tcp",
                r.0,
                base.1 as f64 / r.1.max(1) as f64,
                base.2 as f64 / r.2.max(1) as f64
            );
        }
    }
    if filter.as_deref().is_none_or(|f| "feed thread".contains(f)) {
        feed::feed_thread(if quick { 2 } else { 5 });
    }
}
