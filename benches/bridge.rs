//! The bridge's extra hop, against a baseline in the same run.
//!
//! One producer (this thread) pushes events into an engine fan-out ring,
//! stamping each with the time of the push; a publisher thread pops the
//! ring and sends; a receiver thread gets each event and records
//! `now - stamp` (one process, one clock):
//! * `aeron ipc` / `aeron udp`: `tickwire::bridge::Publisher` →
//!   Aeron (embedded driver; IPC, or UDP on 127.0.0.1) → `Subscriber::poll`;
//! * `json tcp`: the same events as serde_json lines (decimal strings) over
//!   a plain loopback TCP socket, parsed back into exact integers.
//!
//! Two phases per transport: latency (single events, at least 20 µs apart:
//! the producer sleeps between them, so that only the publisher and the
//! receiver spin) and
//! throughput (batches of 10 at 1 M events/s for 2 s: events received and
//! events lost). `--quick` runs a tenth of it.
#![allow(clippy::float_arithmetic, reason = "rates and ratios for the report")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickwire::book::Ladder;
use tickwire::bridge::{MediaDriver, Publisher, PublisherConfig, Subscriber};
use tickwire::consumer::Consumer;
use tickwire::ring::{BookState, EventBatch, FanOut};
use tickwire::types::{
    Body, Clock, Event, InstrumentId, MonotonicClock, Price, Qty, Registry, Scale, Side, Stamp,
    Venue,
};

const CAPACITY: usize = 1000;

/// A started transport: the receiver thread and what closes the sender.
type Started = (JoinHandle<Seen>, Box<dyn FnOnce()>);
/// Latency histogram, events/s in the throughput phase, events lost.
type Outcome = (Histogram<u64>, f64, u64);
/// One transport's run.
type Bench = Box<dyn FnOnce() -> Outcome>;

/// What a receiver saw.
struct Seen {
    hist: Histogram<u64>,
    events: u64,
}

/// A receiver thread: calls `recv` until `stop`, recording latency of every
/// level event whose stamp is non-zero (zero-stamped ones are filler).
fn receiver(
    mut recv: impl FnMut(&mut dyn FnMut(Event)) -> usize + 'static,
    clock: MonotonicClock,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> impl FnOnce() -> Seen {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("histogram");
    let mut events = 0u64;
    move || {
        while !stop.load(Ordering::Relaxed) {
            let n = recv(&mut |e: Event| {
                if let Body::Level(_) = e.body()
                    && e.recv_ns != 0
                {
                    let now = clock.now();
                    let _ = hist.record(now.saturating_sub(e.recv_ns).max(1));
                }
                events += 1;
            });
            if n > 0 {
                count.store(events, Ordering::Relaxed);
            } else {
                std::hint::spin_loop();
            }
        }
        Seen { hist, events }
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

/// Drives one transport: `start` gets the ring's consumer and returns the
/// receiver's body and a closer; returns (latency histogram, throughput
/// events/s, events lost).
fn run(
    name: &str,
    quick: bool,
    start: impl FnOnce(Consumer, MonotonicClock, Arc<AtomicBool>, Arc<AtomicU64>) -> Started,
) -> Outcome {
    let clock = MonotonicClock::new();
    let mut fanout = FanOut::new(1, 2 * CAPACITY);
    let consumer = fanout.add_consumer(1 << 16);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (rx, close) = start(consumer, clock.clone(), stop.clone(), count.clone());
    let mut batch = EventBatch::with_capacity(64);
    let blank = level(0, 0, false).stamp().expect("stamp");
    let mut i = 0u64;
    let mut push = |batch: &mut EventBatch, n: usize, stamped: bool| {
        batch.clear();
        let now = if stamped { clock.now() } else { 0 };
        for k in 0..n {
            i += 1;
            batch.push(level(i, now, k + 1 == n));
        }
        fanout.publish(batch, BookState::<Ladder>::Resyncing(blank), 0);
    };
    // Wait (bounded) for the receiver to see events at all: the subscriber
    // must connect and sync first.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        push(&mut batch, 1, false);
        std::thread::sleep(Duration::from_millis(2));
    }
    let scale = if quick { 10 } else { 1 };
    let spaced = |n: u64,
                  gap: Duration,
                  push: &mut dyn FnMut(&mut EventBatch, usize, bool),
                  b: &mut EventBatch| {
        // The producer sleeps between single events: on a 2-core machine a
        // third spinning thread (beside the publisher's and the receiver's)
        // would take a core from one of them, and the hop would then
        // measure the scheduler's time slice, not the transport.
        for _ in 0..n {
            std::thread::sleep(gap);
            push(b, 1, true);
        }
    };
    // Warm-up, then latency.
    spaced(
        20_000 / scale,
        Duration::from_micros(20),
        &mut push,
        &mut batch,
    );
    let before = count.load(Ordering::Relaxed);
    spaced(
        100_000 / scale,
        Duration::from_micros(20),
        &mut push,
        &mut batch,
    );
    std::thread::sleep(Duration::from_millis(200));
    let latency_seen = count.load(Ordering::Relaxed) - before;
    // Throughput: batches of 10 every 10 µs = 1 M events/s.
    let tp_events = 2_000_000 / scale;
    let before = count.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let mut next = Instant::now();
    for _ in 0..tp_events / 10 {
        while Instant::now() < next {
            std::hint::spin_loop();
        }
        push(&mut batch, 10, false);
        next += Duration::from_micros(10);
    }
    let sent_for = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::Relaxed) - before < tp_events && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let got = count.load(Ordering::Relaxed) - before;
    let took = t0.elapsed().max(sent_for);
    stop.store(true, Ordering::Relaxed);
    let seen = rx.join().expect("receiver");
    close();
    let rate = got as f64 / took.as_secs_f64();
    let lost = tp_events.saturating_sub(got);
    eprintln!(
        "{name}: latency phase {} events received; throughput {} of {} in {:.2} s",
        latency_seen,
        got,
        tp_events,
        took.as_secs_f64()
    );
    let _ = seen.events;
    (seen.hist, rate, lost)
}

fn aeron(
    channel: &'static str,
    stream: i32,
) -> impl FnOnce(Consumer, MonotonicClock, Arc<AtomicBool>, Arc<AtomicU64>) -> Started {
    move |consumer, clock, stop, count| {
        let driver = MediaDriver::start(None).expect("driver");
        let dir = driver.dir().to_owned();
        let mut cfg = PublisherConfig::new(channel);
        cfg.stream_id = stream;
        let publisher =
            Publisher::spawn(&dir, consumer, registry(), CAPACITY, &cfg).expect("publisher");
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
                stop,
                count,
            );
            body()
        });
        let close: Box<dyn FnOnce()> = Box::new(move || {
            let stats = publisher.stop();
            eprintln!(
                "  publisher: {} events, {} dropped",
                stats.events, stats.dropped
            );
            drop(driver);
        });
        (rx, close)
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

fn json_tcp(
    consumer: Consumer,
    clock: MonotonicClock,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> Started {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let pub_stop = Arc::new(AtomicBool::new(false));
    let ps = pub_stop.clone();
    let tx = std::thread::spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        sock.set_nodelay(true).expect("nodelay");
        let mut out = std::io::BufWriter::new(sock);
        let mut consumer = consumer;
        let scale = Scale::new(2).expect("scale");
        let qscale = Scale::new(5).expect("scale");
        let mut line = Vec::with_capacity(256);
        while !ps.load(Ordering::Relaxed) {
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
            } else {
                std::hint::spin_loop();
            }
        }
    });
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
            clock,
            stop,
            count,
        );
        body()
    });
    let close: Box<dyn FnOnce()> = Box::new(move || {
        pub_stop.store(true, Ordering::Relaxed);
        let _ = tx.join();
    });
    (rx, close)
}

fn ns(h: &Histogram<u64>, q: f64) -> u64 {
    h.value_at_quantile(q)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut rows = Vec::new();
    let runs: Vec<(&str, Bench)> = vec![
        (
            "aeron ipc",
            Box::new(move || run("aeron ipc", quick, aeron("aeron:ipc", 4101))),
        ),
        (
            "aeron udp",
            Box::new(move || {
                run(
                    "aeron udp",
                    quick,
                    aeron("aeron:udp?endpoint=127.0.0.1:40461", 4201),
                )
            }),
        ),
        (
            "json tcp",
            Box::new(move || run("json tcp", quick, json_tcp)),
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
        "{:<10} {:>10} {:>10} {:>10} {:>14} {:>8}",
        "hop", "p50 ns", "p99 ns", "p99.9 ns", "events/s", "lost"
    );
    for (name, p50, p99, p999, rate, lost) in &rows {
        println!("{name:<10} {p50:>10} {p99:>10} {p999:>10} {rate:>14.0} {lost:>8}");
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
}
