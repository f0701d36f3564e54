//! `tickwire record`'s cost: the writer's throughput on ~850-byte frames
//! (one core: the writer thread encodes, compresses and writes) and the
//! compression ratio; the feed thread's cost of handing a frame over; and
//! the engine's receive → consumer latency against the simulator with and
//! without recording, in the same run.
//!
//! `cargo bench --bench record -- [--seconds N] [--rate R]` (default 5 s
//! at 100,000 msgs/s for the e2e part).
#![allow(clippy::float_arithmetic, reason = "rates and ratios for the report")]

#[path = "common/measure.rs"]
mod measure;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use measure::{arg, bench_cores, latency_consumer, probed_engine, sim};
use std::time::Duration;

use tickwire::engine::recording::{RecordOptions, attach};
use tickwire::metrics::LatencyReport;
use tickwire::record::writer::{Writer, WriterConfig};
use tickwire::record::{Kind, NO_INSTRUMENT, Rotation, TapHeader, record_channel};
use tickwire::types::{Clock, MonotonicClock, Rng, Venue};

/// Binance-like depth diffs of about 850 bytes, with moving prices and
/// quantities (as compressible as real ones, not a repeated string).
fn frames(n: usize) -> Vec<String> {
    let mut rng = Rng::new(7);
    let mut id = 70_000_000_000u64;
    let mut mid = 9_500_000i64;
    (0..n)
        .map(|_| {
            id += 1 + rng.below(5);
            mid += rng.below(21) as i64 - 10;
            let mut s = format!(
                "{{\"stream\":\"btcusdt@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":{},\"s\":\"BTCUSDT\",\"U\":{id},\"u\":{},\"b\":[",
                1_764_567_000_000 + id % 1_000_000,
                id + 3
            );
            let level = |s: &mut String, p: i64, rng: &mut Rng| {
                s.push_str(&format!(
                    "[\"{}.{:02}\",\"{}.{:08}\"]",
                    p / 100,
                    p % 100,
                    rng.below(3),
                    rng.below(100_000_000)
                ));
            };
            for k in 0..11 {
                if k > 0 {
                    s.push(',');
                }
                level(&mut s, mid - 1 - rng.below(200) as i64, &mut rng);
            }
            s.push_str("],\"a\":[");
            for k in 0..11 {
                if k > 0 {
                    s.push(',');
                }
                level(&mut s, mid + 1 + rng.below(200) as i64, &mut rng);
            }
            s.push_str("]}}");
            s
        })
        .collect()
}

/// CPU time of this thread in ns (Linux `schedstat`; 0 elsewhere): on a
/// shared machine the wall time also counts other processes' turns.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// The writer alone, on this one thread: the ring is filled with frames
/// (the hand-over timed separately), then drained by the writer (encode,
/// compress, write to a scratch folder), timed: the writer's throughput on
/// one core, without a producer competing for the CPU.
fn writer_throughput(count: usize) {
    let frames = frames(4_096);
    let avg = frames.iter().map(String::len).sum::<usize>() / frames.len();
    let dir = std::env::temp_dir().join(format!("tickwire-bench-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut tap, drain) = record_channel(64 << 20);
    let mut writer = Writer::new(
        WriterConfig {
            dir: dir.clone(),
            rotation: Rotation::Hourly,
            max_file_bytes: 0,
            flush_every: Duration::from_secs(1),
            level: 1,
            mono_offset_ns: 1_796_104_740_000_000_000,
            headers: Vec::new(),
            symbols: Vec::new(),
        },
        drain,
    );
    let clock = MonotonicClock::new();
    let (mut handed, mut tap_ns, mut write_ns, mut write_cpu) = (0usize, 0u64, 0u64, 0u64);
    while handed < count {
        // A batch that fits the ring.
        let t0 = clock.now();
        let batch = (count - handed).min(16_384);
        for k in 0..batch {
            let f = &frames[(handed + k) % frames.len()];
            let h = TapHeader {
                kind: Kind::Frame,
                venue: Venue::BinanceSpot,
                conn: 0,
                instrument: NO_INSTRUMENT,
                recv_ns: 1_000 * (handed + k) as u64,
            };
            assert!(tap.record(h, f.as_bytes()), "the batch fits the ring");
        }
        let (t1, c1) = (clock.now(), thread_cpu_ns());
        while writer.pump() > 0 {}
        let (t2, c2) = (clock.now(), thread_cpu_ns());
        write_cpu += c2 - c1;
        tap_ns += t1 - t0;
        write_ns += t2 - t1;
        handed += batch;
    }
    drop(tap);
    let (t0, c0) = (clock.now(), thread_cpu_ns());
    let report = writer.finish();
    write_ns += clock.now() - t0;
    write_cpu += thread_cpu_ns() - c0;
    let _ = std::fs::remove_dir_all(&dir);
    let secs = write_ns as f64 / 1e9;
    println!("== writer: {count} frames of ~{avg} bytes, on one core");
    println!(
        "   {:.0} records/s ({:.1} MB/s of JSON lines): {:.1}x the 100,000 msgs/s target",
        count as f64 / secs,
        report.raw_bytes as f64 / secs / 1e6,
        count as f64 / secs / 100_000.0
    );
    if write_cpu > 0 {
        let cpu = write_cpu as f64 / 1e9;
        println!(
            "   by CPU time ({cpu:.2} s on the CPU of {secs:.2} s): {:.0} records/s ({:.1} MB/s): {:.1}x the target",
            count as f64 / cpu,
            report.raw_bytes as f64 / cpu / 1e6,
            count as f64 / cpu / 100_000.0
        );
    }
    println!(
        "   compression: {} bytes of JSON lines -> {} bytes zstd (level 1), ratio {:.1}",
        report.raw_bytes,
        report.compressed_bytes,
        report.raw_bytes as f64 / report.compressed_bytes.max(1) as f64
    );
    println!(
        "   hand-over on the feed thread: {:.0} ns a frame (mean; lost {})",
        tap_ns as f64 / count as f64,
        report.tap.lost
    );
}

/// The engine against the simulator with a spinning consumer; optionally recording.
fn e2e(
    rate: u32,
    seconds: u64,
    record: bool,
    cores: (Option<usize>, Option<usize>),
) -> (u64, LatencyReport, Option<String>) {
    let sim = sim(rate, cores.0);
    let mut engine = probed_engine(&sim, cores.0);
    let dir = std::env::temp_dir().join(format!("tickwire-bench-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let writer = record.then(|| {
        attach(&mut engine, &RecordOptions::new(&dir))
            .spawn()
            .expect("writer")
    });
    let c = engine.add_consumer();
    let clock = engine.clock();
    let handle = engine.spawn().expect("spawn");
    let stop = Arc::new(AtomicBool::new(false));
    let t = latency_consumer(c, clock, cores.1, stop.clone());
    std::thread::sleep(Duration::from_secs(seconds));
    let report = handle.stop();
    stop.store(true, Ordering::Relaxed);
    let latency = t.join().expect("consumer");
    let written = writer.map(|w| {
        let r = w.join().expect("writer");
        format!(
            "{} records, {} bytes -> {} bytes (ratio {:.1}), lost {}",
            r.records,
            r.raw_bytes,
            r.compressed_bytes,
            r.raw_bytes as f64 / r.compressed_bytes.max(1) as f64,
            r.tap.lost
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    (report.counters.messages, latency, written)
}

fn main() {
    // `cargo bench` also runs benches in test mode: keep that quick.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let (seconds, rate) = (arg("--seconds", 5), arg("--rate", 100_000) as u32);
    writer_throughput(arg("--frames", 1_000_000) as usize);
    let cores = bench_cores();
    tickwire::sys::pin_current_thread(cores.0, "bench main");
    for (name, record) in [
        ("without recording", false),
        ("with recording", true),
        ("without recording (again)", false),
    ] {
        let (messages, latency, written) = e2e(rate, seconds, record, cores);
        let t = latency.total();
        println!(
            "== e2e {name}: {messages} messages in {seconds} s at {rate} msgs/s; receive -> consumer p50 {} ns, p99 {} ns, p99.9 {} ns",
            t.p50, t.p99, t.p999
        );
        if let Some(w) = written {
            println!("   recorded: {w}");
        }
    }
}
