//! Heap allocations on the live order-entry thread, counted by a global
//! allocator that attributes each allocation to the thread making it (as
//! `engine_alloc` does for the feed): the real thread against the simulator
//! on loopback (ws://), warmed up, then new orders acked and canceled one
//! after another, an order that fills, and a burst refused locally with
//! `rate_limit`. After warm-up the order-entry thread allocates nothing
//! (a buffer may grow once to a larger burst's size: bounded, asserted).
//!
//! Over wss:// rustls (0.23) copies each TLS record into a fresh buffer, one
//! allocation per record in each direction (see `socket`): that is rustls's,
//! not the order path's, and is why this test runs over ws://.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tickwire::orders::{Cancel, NewOrder, OrderType, ReportKind, Request, TimeInForce};
use tickwire::sim::{SimAccount, SimConfig, SimVenue};
use tickwire::trading::{KeyMaterial, OrderEntry, StrategyHandle, TradingConfig, WaitPolicy};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;

struct Counting;

/// New allocations made by the order-entry thread.
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Growths of existing buffers by the order-entry thread.
static GROWS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// 0 unknown, 1 order-entry thread, 2 other thread, 3 being classified.
    static ROLE: Cell<u8> = const { Cell::new(0) };
}

fn on_order_thread() -> bool {
    ROLE.with(|r| match r.get() {
        1 => true,
        2 | 3 => false,
        _ => {
            // Looking the name up may allocate: nested allocations while
            // classifying are not counted.
            r.set(3);
            let it = std::thread::current().name() == Some("tickwire-orders");
            r.set(if it { 1 } else { 2 });
            it
        }
    })
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches an atomic and a const-initialised thread local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if on_order_thread() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if on_order_thread() {
            GROWS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEY: &str = "allocKey0001";
const SECRET: &str = "allocSecret";

struct Strategy {
    s: StrategyHandle,
    seen: Vec<(ReportKind, tickwire::orders::ClientId)>,
}

impl Strategy {
    /// Reads reports until `n` match `want` for `id` (or any id when
    /// `None`): at most 20 s and 400,000 polls.
    fn until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&[(ReportKind, tickwire::orders::ClientId)]) -> bool,
    ) {
        let t0 = Instant::now();
        for _ in 0..400_000 {
            while let Ok(r) = self.s.reports.pop() {
                self.seen.push((r.kind, r.client_id));
            }
            if done(&self.seen) {
                return;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                break;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        panic!(
            "waiting for {what}: {:?}",
            &self.seen[self.seen.len().saturating_sub(8)..]
        );
    }

    fn new_order(&mut self, side: Side, price: i64, tif: TimeInForce) -> NewOrder {
        let o = NewOrder {
            client_id: self.s.ids.mint(),
            instrument: InstrumentId(0),
            side,
            kind: OrderType::Limit,
            tif,
            price: Price(price),
            qty: Qty(1_000),
        };
        assert!(self.s.requests.push(Request::New(o)).is_ok());
        o
    }

    /// A resting order acked, canceled, and the cancel confirmed.
    fn round_trip(&mut self, price: i64) {
        let o = self.new_order(Side::Bid, price, TimeInForce::Gtc);
        let id = o.client_id;
        self.until("ack", |s| s.contains(&(ReportKind::Ack, id)));
        let c = Cancel {
            client_id: id,
            instrument: o.instrument,
        };
        assert!(self.s.requests.push(Request::Cancel(c)).is_ok());
        self.until("canceled", |s| s.contains(&(ReportKind::Canceled, id)));
    }

    /// An IOC buy at the best ask: it fills.
    fn cross(&mut self, ask: i64) {
        let o = self.new_order(Side::Bid, ask, TimeInForce::Ioc);
        let id = o.client_id;
        self.until("fill", |s| {
            s.contains(&(ReportKind::Fill, id))
                || s.contains(&(ReportKind::PartialFill, id))
                || s.contains(&(ReportKind::Expired, id))
        });
    }
}

/// One process-wide counter: one order-entry thread at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_order_entry_thread_allocates_nothing_per_order_when_it_sleeps() {
    // The default: sleep in the poller, woken by each push.
    allocations_per_order(None);
}

#[test]
fn the_order_entry_thread_allocates_nothing_per_order_when_it_spins() {
    allocations_per_order(Some(WaitPolicy::Spin));
}

fn allocations_per_order(wait: Option<WaitPolicy>) {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut sim_cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    sim_cfg.rate = 0;
    sim_cfg.accounts = vec![SimAccount::hmac(KEY, SECRET)];
    let sim = SimVenue::start(sim_cfg).expect("sim starts");
    let book = sim.true_book("BTCUSDT").expect("a book");
    let (low, ask) = (book.bids[0].0.0 / 2, book.asks[0].0.0);

    let mut reg = Registry::new();
    reg.add(
        Venue::BinanceSpot,
        "BTCUSDT",
        SimConfig::TICK,
        SimConfig::LOT,
    )
    .unwrap();
    let mut cfg = TradingConfig::new(
        Market::Spot,
        &sim.ws_api_url(),
        KEY,
        KeyMaterial::Hmac(SECRET.as_bytes().to_vec()),
        reg,
    );
    if let Some(w) = wait {
        cfg.wait = w;
    }
    let mut oe = OrderEntry::new(cfg);
    let s = oe.add_strategy().unwrap();
    let handle = oe.spawn().unwrap();
    let mut t = Strategy {
        s,
        seen: Vec::with_capacity(4_096),
    };
    t.until("ready", |_| {
        handle.stats().ready.load(Ordering::Relaxed) == 1
    });

    // Warm-up: every path once or more (ack, cancel, fill), so buffers reach
    // their working sizes. Spot allows 50 orders per 10 s: 16 here.
    for _ in 0..15 {
        t.round_trip(low);
    }
    t.cross(ask);

    let (a0, g0) = (
        ALLOCS.load(Ordering::Relaxed),
        GROWS.load(Ordering::Relaxed),
    );
    let w0 = handle.stats().written.load(Ordering::Relaxed);
    for _ in 0..25 {
        t.round_trip(low);
    }
    t.cross(ask);
    // A burst past the 10-s order limit: the rest is refused locally.
    let first = t.seen.len();
    for _ in 0..60 {
        t.new_order(Side::Bid, low, TimeInForce::Gtc);
    }
    t.until("60 outcomes", |s| {
        s[first..]
            .iter()
            .filter(|(k, _)| matches!(k, ReportKind::Ack | ReportKind::Reject))
            .count()
            >= 60
    });
    let (a1, g1) = (
        ALLOCS.load(Ordering::Relaxed),
        GROWS.load(Ordering::Relaxed),
    );
    let written = handle.stats().written.load(Ordering::Relaxed) - w0;
    let rejected = t.seen[first..]
        .iter()
        .filter(|(k, _)| *k == ReportKind::Reject)
        .count();
    let o = &sim.stats().orders;
    let (breaches, dups) = (
        o.breaches.load(Ordering::Relaxed),
        o.duplicates.load(Ordering::Relaxed),
    );
    let report = handle.stop();
    println!(
        "written {written}, refused locally {rejected}, allocs {}, grows {}",
        a1 - a0,
        g1 - g0
    );
    // 25 news + 25 cancels + 1 cross at least went out; part of the burst was refused.
    assert!(written >= 51, "written {written}");
    assert!(rejected > 0, "the burst never reached the limit");
    assert_eq!((breaches, dups), (0, 0));
    assert_eq!(a1 - a0, 0, "new allocations on the order-entry thread");
    // A burst larger than any in the warm-up (when the 10-s window rolls
    // over mid-test, more of it goes out) may grow tungstenite's write or
    // read buffer once to the new working size: bounded, never per order.
    assert!(
        g1 - g0 <= 2,
        "buffer growths on the order-entry thread: {}",
        g1 - g0
    );
    // The latency it recorded meanwhile: every pushed request written, every new order acked.
    let l = &report.latency;
    assert!(
        l.push_to_wire.len() >= 2 * 40 + 2,
        "{}",
        l.push_to_wire.len()
    );
    assert!(l.wire_to_ack.len() >= 40, "{}", l.wire_to_ack.len());
    assert!(l.push_to_send.max() <= l.push_to_wire.max());
}
