//! Event hand-off between two pinned threads: the `rtrb` SPSC ring the
//! engine fans out through, against `std::sync::mpsc::sync_channel`, in the
//! same run and through the same bench body.
//!
//! * Criterion group `ring`: a round trip (ping-pong) per iteration. The
//!   main thread pushes one 64-byte [`Event`] to an echo thread on the other
//!   core, which sends it back; both sides spin (`try_*`), so the baseline
//!   measures the channel, not the scheduler's wake-up.
//! * After criterion: one-way latency, each event stamped with a shared
//!   [`MonotonicClock`] just before the push and read just after the pop
//!   into an hdrhistogram. Sends are paced so the queue is normally empty:
//!   this is the hop latency, not queueing delay.
//!
//! Pinning: the core list is read once at start (`get_core_ids` reports the
//! calling thread's affinity, so a pinned thread would see only its own
//! core); the main thread runs on the first core, the other side on the
//! second. With fewer than two cores the threads run unpinned, with a note.

use std::hint::{black_box, spin_loop};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Barrier, OnceLock};
use std::time::Instant;

use core_affinity::CoreId;
use criterion::{Criterion, criterion_group};
use hdrhistogram::Histogram;
use tickwire::types::{Clock, Event, InstrumentId, MonotonicClock, Price, Qty, Side, Stamp, Venue};

/// Events a ring holds (the hand-off never fills it: one event is in flight).
const CAPACITY: usize = 1024;
/// Events timed one way per channel, after `WARMUP` untimed ones.
const ONE_WAY: u64 = 200_000;
const WARMUP: u64 = 20_000;
/// Gap between one-way sends, so each finds an empty queue.
const GAP_NS: u64 = 1_500;
/// `seq` of the event that stops an echo thread.
const STOP: u64 = u64::MAX;

/// The two channels, behind one interface so one bench body runs both.
trait Channel {
    const NAME: &'static str;
    type Tx: Send;
    type Rx: Send;
    fn pair() -> (Self::Tx, Self::Rx);
    /// Sends, spinning while the channel is full.
    fn send(tx: &mut Self::Tx, e: Event);
    /// Takes an event if one is there; never blocks.
    fn try_recv(rx: &mut Self::Rx) -> Option<Event>;

    /// Spins until an event arrives.
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Event {
        loop {
            if let Some(e) = Self::try_recv(rx) {
                return e;
            }
            spin_loop();
        }
    }
}

struct Rtrb;

impl Channel for Rtrb {
    const NAME: &'static str = "tickwire/rtrb";
    type Tx = rtrb::Producer<Event>;
    type Rx = rtrb::Consumer<Event>;

    fn pair() -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(CAPACITY)
    }

    #[inline]
    fn send(tx: &mut Self::Tx, mut e: Event) {
        while let Err(rtrb::PushError::Full(back)) = tx.push(e) {
            e = back;
            spin_loop();
        }
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<Event> {
        rx.pop().ok()
    }
}

struct Mpsc;

impl Channel for Mpsc {
    const NAME: &'static str = "baseline/mpsc";
    type Tx = SyncSender<Event>;
    type Rx = Receiver<Event>;

    fn pair() -> (Self::Tx, Self::Rx) {
        sync_channel(CAPACITY)
    }

    #[inline]
    fn send(tx: &mut Self::Tx, mut e: Event) {
        loop {
            match tx.try_send(e) {
                Ok(()) => return,
                Err(TrySendError::Full(back)) => e = back,
                Err(TrySendError::Disconnected(_)) => panic!("receiver gone"),
            }
            spin_loop();
        }
    }

    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<Event> {
        match rx.try_recv() {
            Ok(e) => Some(e),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => panic!("sender gone"),
        }
    }
}

/// The two cores to use, read once at start-up (see the module docs).
static CORES: OnceLock<Cores> = OnceLock::new();

/// The main thread's core and the other side's.
#[derive(Clone, Copy, Debug)]
struct Cores {
    main: Option<CoreId>,
    other: Option<CoreId>,
}

impl Cores {
    fn detect() -> Cores {
        let ids = core_affinity::get_core_ids().unwrap_or_default();
        if ids.len() < 2 {
            eprintln!("ring bench: fewer than two cores available, running unpinned");
            return Cores {
                main: None,
                other: None,
            };
        }
        Cores {
            main: Some(ids[0]),
            other: Some(ids[1]),
        }
    }

    fn pin(core: Option<CoreId>) {
        if let Some(c) = core {
            if !core_affinity::set_for_current(c) {
                eprintln!("ring bench: could not pin to core {}", c.id);
            }
        }
    }
}

fn event(seq: u64) -> Event {
    let stamp = Stamp {
        venue: Venue::BinanceSpot,
        instrument: InstrumentId(0),
        seq,
        exch_ns: 0,
        recv_ns: 0,
    };
    Event::level(stamp, Side::Bid, Price(4_300_001), Qty(12_345), 0)
}

/// Round trips through `C`: the echo thread lives for the whole benchmark
/// function; each criterion sample times `iters` ping-pongs.
fn round_trip<C: Channel>(c: &mut Criterion, cores: Cores) {
    let (mut ping_tx, mut ping_rx) = C::pair();
    let (mut pong_tx, mut pong_rx) = C::pair();
    let ready = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            Cores::pin(cores.other);
            ready.wait();
            loop {
                let e = C::recv(&mut ping_rx);
                if e.seq == STOP {
                    break;
                }
                C::send(&mut pong_tx, e);
            }
        });
        ready.wait();
        let mut g = c.benchmark_group("ring");
        g.bench_function(C::NAME, |b| {
            b.iter_custom(|iters| {
                let e = event(1);
                let start = Instant::now();
                for _ in 0..iters {
                    C::send(&mut ping_tx, e);
                    black_box(C::recv(&mut pong_rx));
                }
                start.elapsed()
            })
        });
        g.finish();
        C::send(&mut ping_tx, event(STOP));
    });
}

/// One-way latency through `C`, paced sends, pop time minus push time.
fn one_way<C: Channel>(cores: Cores, clock: &MonotonicClock) -> Histogram<u64> {
    let (mut tx, mut rx) = C::pair();
    let ready = Barrier::new(2);
    std::thread::scope(|s| {
        let consumer = s.spawn(|| {
            Cores::pin(cores.other);
            let clock = clock.clone();
            let mut hist = Histogram::<u64>::new(3).expect("histogram");
            ready.wait();
            for i in 0..WARMUP + ONE_WAY {
                let e = C::recv(&mut rx);
                let now = clock.now();
                if i >= WARMUP {
                    hist.record(now.saturating_sub(e.recv_ns)).expect("record");
                }
            }
            hist
        });
        ready.wait();
        let template = event(1);
        for i in 0..WARMUP + ONE_WAY {
            let sent = clock.now();
            let mut e = template;
            e.seq = i;
            e.recv_ns = sent;
            C::send(&mut tx, e);
            while clock.now() < sent + GAP_NS {
                spin_loop();
            }
        }
        consumer.join().expect("consumer thread")
    })
}

/// Average cost of one clock read (ns), to put the one-way figures in context.
fn clock_cost(clock: &MonotonicClock) -> u128 {
    const N: u32 = 1_000_000;
    let start = Instant::now();
    for _ in 0..N {
        black_box(clock.now());
    }
    start.elapsed().as_nanos() / u128::from(N)
}

/// `num / den` with two decimals, without floats (the crate lints them).
fn ratio(num: u64, den: u64) -> String {
    let hundredths = u128::from(num) * 100 / u128::from(den.max(1));
    format!("{}.{:02}x", hundredths / 100, hundredths % 100)
}

fn print_one_way(results: &[(&str, Histogram<u64>)]) {
    println!(
        "\nring one-way latency, ns ({ONE_WAY} events each, sent every {GAP_NS} ns, \
         pinned threads, spinning consumer)"
    );
    println!(
        "  {:<16} {:>8} {:>8} {:>8} {:>10}",
        "", "p50", "p99", "p99.9", "max"
    );
    let row = |h: &Histogram<u64>| {
        [
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
        ]
    };
    for (name, h) in results {
        let [p50, p99, p999, max] = row(h);
        println!("  {name:<16} {p50:>8} {p99:>8} {p999:>8} {max:>10}");
    }
    if let [(_, ours), (_, base)] = results {
        let (o, b) = (row(ours), row(base));
        let r = |i: usize| ratio(b[i], o[i]);
        println!(
            "  {:<16} {:>8} {:>8} {:>8} {:>10}",
            "mpsc / rtrb",
            r(0),
            r(1),
            r(2),
            r(3)
        );
    }
}

fn ring(c: &mut Criterion) {
    let cores = *CORES.get_or_init(Cores::detect);
    round_trip::<Rtrb>(c, cores);
    round_trip::<Mpsc>(c, cores);
}

criterion_group!(benches, ring);

fn main() {
    let cores = *CORES.get_or_init(Cores::detect);
    Cores::pin(cores.main);
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::report_ratio_pairs("ring", &[("round trip", "tickwire/rtrb", "baseline/mpsc")]);
    // The one-way pass is not a criterion measurement: skip it when
    // criterion only lists the benchmarks or runs them once as tests.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let clock = MonotonicClock::new();
    let results = [
        (Rtrb::NAME, one_way::<Rtrb>(cores, &clock)),
        (Mpsc::NAME, one_way::<Mpsc>(cores, &clock)),
    ];
    print_one_way(&results);
    println!(
        "  (each figure includes one clock read, about {} ns)",
        clock_cost(&clock)
    );
}

mod common;
