//! End-to-end latency against the simulated venue on loopback: the
//! `tickwire demo` pipeline, then the same frames handled the typical way.
//!
//! Both runs use the same simulator (same seed, rate and mix), the same
//! transport (mio + tungstenite over a loopback socket), the same cores, the
//! same SPSC ring to a spinning consumer thread and the same per-stage
//! histograms (latency probes after each message):
//! * `tickwire`: the engine (fast-path decode, sync, ladder, fan-out);
//! * `baseline`: a minimal loop over the same socket that decodes each frame
//!   with serde_json into owned structs (`String` prices), parses them to
//!   `f64`, applies them to a `BTreeMap` book and pushes one event.
//!
//! Output: the demo's report for each, and the ratios. `--seconds N`,
//! `--rate R` (default 5 s at 100,000 msgs/s).
#![allow(clippy::float_arithmetic, reason = "rates and ratios for the report")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use tickwire::frame::WsClient;
use tickwire::metrics::LatencyReport;
use tickwire::socket::Transport;
use tickwire::types::{Clock, Event, InstrumentId, MonotonicClock, Stamp, StatusCode, Venue};

mod common;
#[path = "common/measure.rs"]
mod measure;

use measure::{SYMBOLS, arg, bench_cores, consumer, latency_consumer, probed_engine, sim};

struct Run {
    messages: u64,
    seconds: f64,
    latency: LatencyReport,
}

fn tickwire_run(rate: u32, seconds: u64, cores: (Option<usize>, Option<usize>)) -> Run {
    let sim = sim(rate, cores.0);
    let mut engine = probed_engine(&sim, cores.0);
    let c = engine.add_consumer();
    let clock = engine.clock();
    let handle = engine.spawn().expect("spawn");
    let stop = Arc::new(AtomicBool::new(false));
    let t = latency_consumer(c, clock, cores.1, stop.clone());
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let report = handle.stop();
    stop.store(true, Ordering::Relaxed);
    let latency = t.join().expect("consumer");
    Run {
        messages: report.counters.messages,
        seconds: start.elapsed().as_secs_f64(),
        latency,
    }
}

fn baseline_run(rate: u32, seconds: u64, cores: (Option<usize>, Option<usize>)) -> Run {
    let sim = sim(rate, cores.0);
    let clock = MonotonicClock::new();
    let (mut tx, mut rx) = rtrb::RingBuffer::<Event>::new(1 << 16);
    let stop = Arc::new(AtomicBool::new(false));
    let t = consumer(
        move |f| {
            let n = rx.slots();
            if n == 0 {
                return 0;
            }
            let Ok(chunk) = rx.read_chunk(n) else {
                return 0;
            };
            let (a, b) = chunk.as_slices();
            a.iter().chain(b).for_each(&mut *f);
            chunk.commit_all();
            n
        },
        clock.clone(),
        cores.1,
        stop.clone(),
        Duration::from_secs(1),
    );
    tickwire::sys::pin_current_thread(cores.0, "baseline loop");
    // The typical connector: snapshots over blocking REST first.
    let mut books: Vec<common::BaselineBook> = SYMBOLS
        .iter()
        .map(|s| {
            let url = format!("{}/api/v3/depth?symbol={s}&limit=1000", sim.rest_url());
            let body = ureq::get(&url)
                .call()
                .expect("snapshot")
                .body_mut()
                .read_to_vec()
                .expect("body");
            common::BaselineBook::with_snapshot(&body)
        })
        .collect();
    let streams: Vec<String> = SYMBOLS
        .iter()
        .flat_map(|s| {
            let l = s.to_lowercase();
            [
                format!("{l}@depth@100ms"),
                format!("{l}@bookTicker"),
                format!("{l}@trade"),
            ]
        })
        .collect();
    let url = format!("{}/stream?streams={}", sim.ws_url(), streams.join("/"));
    let transport = Transport::connect(sim.addr(), None).expect("connect");
    let mut ws = WsClient::new(&url, transport, 16 << 20);
    let mut poll = Poll::new().expect("poll");
    let tcp = ws.transport_mut().expect("transport").tcp_mut();
    poll.registry()
        .register(tcp, Token(0), Interest::READABLE | Interest::WRITABLE)
        .expect("register");
    let mut events = Events::with_capacity(64);
    let start = Instant::now();
    let mut messages = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        poll.poll(&mut events, Some(Duration::from_millis(5)))
            .expect("poll");
        if !ws.is_open() && !ws.drive_handshake().expect("handshake") {
            continue;
        }
        ws.read_available(|frame| {
            let recv = clock.now();
            messages += 1;
            // Dispatch on the symbol in the stream name, then the typical decode + apply.
            let which = SYMBOLS.iter().position(|s| {
                frame
                    .get(11..11 + s.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(s.as_bytes()))
            });
            let i = which.unwrap_or(0);
            books[i].on_frame(frame);
            let decoded = clock.now();
            let stamp = Stamp {
                venue: Venue::BinanceSpot,
                instrument: InstrumentId(i as u32),
                seq: messages,
                exch_ns: 0,
                recv_ns: recv,
            };
            let _ = tx.push(Event::status(stamp, StatusCode::Session, 0, 0, true));
            let pushed = clock.now();
            let _ = tx.push(Event::status(
                stamp,
                StatusCode::Probe,
                decoded as i64,
                pushed as i64,
                false,
            ));
            true
        })
        .expect("read");
    }
    stop.store(true, Ordering::Relaxed);
    let latency = t.join().expect("consumer");
    Run {
        messages,
        seconds: start.elapsed().as_secs_f64(),
        latency,
    }
}

fn print(name: &str, r: &Run) {
    println!(
        "\n== {name}: {} messages in {:.1} s ({:.0} msg/s)",
        r.messages,
        r.seconds,
        r.messages as f64 / r.seconds
    );
    print!("{}", r.latency);
}

fn main() {
    // `cargo bench` also runs benches in test mode (`--bench` absent): keep that quick.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let (seconds, rate) = (arg("--seconds", 5), arg("--rate", 100_000) as u32);
    let cores = bench_cores();
    // Confine this thread (and everything it spawns) to the feed core.
    tickwire::sys::pin_current_thread(cores.0, "bench main");
    let ours = tickwire_run(rate, seconds, cores);
    let base = baseline_run(rate, seconds, cores);
    print("tickwire", &ours);
    print("baseline (serde_json + String + f64 + BTreeMap)", &base);
    let (o, b) = (ours.latency.total(), base.latency.total());
    println!(
        "\nreceive -> consumer, baseline / tickwire: p50 {:.2}x  p90 {:.2}x  p99 {:.2}x",
        b.p50 as f64 / o.p50.max(1) as f64,
        b.p90 as f64 / o.p90.max(1) as f64,
        b.p99 as f64 / o.p99.max(1) as f64
    );
    let (o, b) = (ours.latency.stages[0], base.latency.stages[0]);
    println!(
        "readable -> decoded,  baseline / tickwire: p50 {:.2}x  p99 {:.2}x",
        b.p50 as f64 / o.p50.max(1) as f64,
        b.p99 as f64 / o.p99.max(1) as f64
    );
}
