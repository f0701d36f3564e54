//! `demo --orders RATE`: an order-entry thread (Binance spot, HMAC) against
//! the in-process simulator's `/ws-api/v3` (wss:// with `--tls`), and a
//! strategy thread that pushes new orders and cancels at RATE per second:
//! limit buys a few ticks under the best bid (they rest, are acked, then
//! canceled) and, one in eight, an IOC buy through the best ask (it
//! fills). It starts once the session reports `Ready`.
//!
//! The strategy does not pace itself below the venue's limits: the core
//! refuses what would exceed them at once, locally, with `rate_limit`
//! (counted as rejected), so nothing over a limit ever reaches the venue.
//! Binance spot allows 50 new orders per 10 s, so at RATE 1,000 most new
//! orders are refused that way; the simulator counts breaches and
//! duplicate client ids independently, and both must stay 0.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire::consumer::Consumer;
use tickwire::metrics::Percentiles;
use tickwire::orders::{
    Cancel, ClientId, NewOrder, OrderType, RejectReason, ReportKind, Request, SessionStatus,
    TimeInForce,
};
use tickwire::sim::{SimAccount, SimConfig, SimVenue};
use tickwire::trading::{KeyMaterial, OrderEntry, StrategyHandle, TradingConfig, TradingHandle};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;

/// The simulator account the demo trades with (in-process, loopback only).
const KEY: &str = "demoKey0001";
const SECRET: &str = "demoSecret";
/// One order's quantity, in lots (0.01 at the simulator's lot).
const QTY: i64 = 1_000;
/// One new order in this many crosses the spread (IOC at the best ask).
const CROSS_EVERY: u64 = 8;

/// Lets the simulator accept the demo's key.
pub(crate) fn add_account(cfg: &mut SimConfig) {
    cfg.accounts.push(SimAccount::hmac(KEY, SECRET));
}

/// Report counts, written by the strategy thread, read by the live view.
#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    acked: AtomicU64,
    rejected: AtomicU64,
    rate_limited: AtomicU64,
    filled: AtomicU64,
    partial: AtomicU64,
    canceled: AtomicU64,
    expired: AtomicU64,
    in_doubt: AtomicU64,
    ring_full: AtomicU64,
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What the main thread and the strategy share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// The simulator's best bid and ask (raw, the instrument's scale); 0 = unknown.
    bid: AtomicI64,
    ask: AtomicI64,
    counts: Counts,
}

/// The running order side of the demo.
pub(crate) struct OrdersDemo {
    handle: TradingHandle,
    strategy: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    symbol: String,
    last_refresh: std::cell::Cell<Instant>,
}

/// The final figures (the `orders` block of the report).
#[derive(Debug)]
pub(crate) struct OrdersReport {
    sent: u64,
    acked: u64,
    rejected: u64,
    rate_limited: u64,
    filled: u64,
    canceled: u64,
    in_doubt: u64,
    limit_breaches: u64,
    duplicates: u64,
    push_to_wire: Percentiles,
    wire_to_ack: Percentiles,
}

impl OrdersDemo {
    /// Starts the order-entry thread against `sim` (Binance spot) and the
    /// strategy sending `rate` requests a second on `symbol`.
    /// `feed`: the engine's consumer for the order thread's price band
    /// (with the engine's registry and book capacity).
    pub(crate) fn start(
        sim: &SimVenue,
        symbol: &str,
        rate: u32,
        feed: (Consumer, &Registry, usize),
    ) -> Result<OrdersDemo, String> {
        let mut reg = Registry::new();
        reg.add(Venue::BinanceSpot, symbol, SimConfig::TICK, SimConfig::LOT)
            .map_err(|e| e.to_string())?;
        let tick = reg.iter().next().map_or(1, |i| i.tick);
        let mut cfg = TradingConfig::new(
            Market::Spot,
            &sim.ws_api_url(),
            KEY,
            KeyMaterial::Hmac(SECRET.as_bytes().to_vec()),
            reg,
        );
        cfg.ca_file = sim.ca_file().map_err(|e| e.to_string())?;
        let mut oe = OrderEntry::new(cfg);
        // The price band (default ±50%) is checked against the engine's
        // live book of the symbol.
        oe.set_market_data(feed.0, feed.1, feed.2);
        let strategy = oe.add_strategy().map_err(|e| e.to_string())?;
        let handle = oe.spawn().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared::default());
        let mut demo = OrdersDemo {
            handle,
            strategy: None,
            shared: shared.clone(),
            symbol: symbol.to_owned(),
            last_refresh: std::cell::Cell::new(Instant::now()),
        };
        demo.refresh(sim);
        let thread = std::thread::Builder::new()
            .name("demo-strategy".into())
            .spawn(move || Strategy::new(strategy, shared, rate, tick).run())
            .map_err(|e| e.to_string())?;
        demo.strategy = Some(thread);
        Ok(demo)
    }

    /// Refreshes the best bid and ask from the simulator (at most every 100 ms).
    pub(crate) fn tick(&self, sim: &SimVenue) {
        if self.last_refresh.get().elapsed() >= Duration::from_millis(100) {
            self.refresh(sim);
        }
    }

    fn refresh(&self, sim: &SimVenue) {
        self.last_refresh.set(Instant::now());
        if let Some(b) = sim.true_book(&self.symbol)
            && let (Some(bid), Some(ask)) = (b.bids.first(), b.asks.first())
        {
            self.shared.bid.store(bid.0.0, Ordering::Relaxed);
            self.shared.ask.store(ask.0.0, Ordering::Relaxed);
        }
    }

    /// The live view's order part.
    pub(crate) fn live(&self) -> String {
        let c = &self.shared.counts;
        format!(
            "orders sent {} acked {} rejected {} (rate_limit {}) filled {} canceled {} in doubt {}",
            get(&c.sent),
            get(&c.acked),
            get(&c.rejected),
            get(&c.rate_limited),
            get(&c.filled),
            get(&c.canceled),
            get(&c.in_doubt)
        )
    }

    /// Stops the strategy (it drains its reports a moment), then the
    /// order-entry thread; reads the simulator's counters.
    pub(crate) fn stop(mut self, sim: &SimVenue) -> OrdersReport {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.strategy.take() {
            let _ = t.join();
        }
        let latency = self.handle.stop().latency;
        let c = &self.shared.counts;
        let o = &sim.stats().orders;
        OrdersReport {
            sent: get(&c.sent),
            acked: get(&c.acked),
            rejected: get(&c.rejected),
            rate_limited: get(&c.rate_limited),
            filled: get(&c.filled),
            canceled: get(&c.canceled),
            in_doubt: get(&c.in_doubt),
            limit_breaches: get(&o.breaches),
            duplicates: get(&o.duplicates),
            push_to_wire: Percentiles::of(&latency.push_to_wire),
            wire_to_ack: Percentiles::of(&latency.wire_to_ack),
        }
    }
}

fn pct_text(name: &str, p: &Percentiles) -> String {
    format!(
        "  {name:<13} n {:>7}  p50 {:>9}  p90 {:>9}  p99 {:>9}  p99.9 {:>9}  max {:>9}",
        p.count, p.p50, p.p90, p.p99, p.p999, p.max
    )
}

impl OrdersReport {
    /// `"orders":{…}` for the JSON report (exactly the documented keys).
    pub(crate) fn json(&self) -> String {
        format!(
            "\"orders\":{{\"sent\":{},\"acked\":{},\"rejected\":{},\"filled\":{},\"canceled\":{},\"in_doubt\":{},\"limit_breaches\":{},\"duplicates\":{},\"latency_ns\":{{\"push_to_wire\":{},\"wire_to_ack\":{}}}}}",
            self.sent,
            self.acked,
            self.rejected,
            self.filled,
            self.canceled,
            self.in_doubt,
            self.limit_breaches,
            self.duplicates,
            self.push_to_wire.to_json(),
            self.wire_to_ack.to_json()
        )
    }

    /// The text report's order lines.
    pub(crate) fn text(&self) -> String {
        format!(
            "orders: sent {} | acked {} | rejected {} (rate_limit, refused locally: {}) | filled {} | canceled {} | in doubt {} | simulator: limit breaches {}, duplicates {}\norder latency (ns):\n{}\n{}\n",
            self.sent,
            self.acked,
            self.rejected,
            self.rate_limited,
            self.filled,
            self.canceled,
            self.in_doubt,
            self.limit_breaches,
            self.duplicates,
            pct_text("push_to_wire", &self.push_to_wire),
            pct_text("wire_to_ack", &self.wire_to_ack)
        )
    }
}

/// The demo strategy, on its own thread.
struct Strategy {
    s: StrategyHandle,
    shared: Arc<Shared>,
    interval: Duration,
    /// The instrument's tick (raw price units).
    tick: i64,
    /// Resting (GTC) orders not yet acked.
    resting: HashSet<ClientId>,
    /// Acked resting orders, to cancel next.
    to_cancel: VecDeque<ClientId>,
    news: u64,
    /// The session said it is ready (orders before that are refused).
    ready: bool,
}

impl Strategy {
    fn new(s: StrategyHandle, shared: Arc<Shared>, rate: u32, tick: i64) -> Strategy {
        Strategy {
            s,
            shared,
            tick,
            interval: Duration::from_nanos(1_000_000_000 / u64::from(rate.max(1))),
            resting: HashSet::with_capacity(4_096),
            to_cancel: VecDeque::with_capacity(4_096),
            news: 0,
            ready: false,
        }
    }

    fn run(mut self) {
        let mut next = Instant::now();
        while !self.shared.stop.load(Ordering::Relaxed) {
            self.drain();
            let now = Instant::now();
            if now >= next {
                self.act();
                next += self.interval;
                // Behind by more than a second (a stall): no catch-up burst.
                if now.saturating_duration_since(next) > Duration::from_secs(1) {
                    next = now;
                }
            } else if next - now > Duration::from_micros(200) {
                std::thread::sleep((next - now).min(Duration::from_millis(1)));
            } else {
                std::hint::spin_loop();
            }
        }
        // Replies still on their way: at most 300 ms.
        let end = Instant::now() + Duration::from_millis(300);
        while Instant::now() < end {
            self.drain();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn drain(&mut self) {
        let c = &self.shared.counts;
        while let Ok(r) = self.s.reports.pop() {
            match r.kind {
                ReportKind::Ack => {
                    bump(&c.acked);
                    if self.resting.remove(&r.client_id) {
                        self.to_cancel.push_back(r.client_id);
                    }
                }
                ReportKind::Reject => {
                    bump(&c.rejected);
                    if r.reason == Some(RejectReason::RateLimit) {
                        bump(&c.rate_limited);
                    }
                    self.resting.remove(&r.client_id);
                }
                ReportKind::Fill => bump(&c.filled),
                ReportKind::PartialFill => bump(&c.partial),
                ReportKind::Canceled => bump(&c.canceled),
                ReportKind::Expired => bump(&c.expired),
                ReportKind::InDoubt => bump(&c.in_doubt),
                ReportKind::Status => self.ready = r.status == Some(SessionStatus::Ready),
                ReportKind::CancelReject => {}
            }
        }
    }

    /// One request: a cancel if an acked resting order waits, else a new order.
    fn act(&mut self) {
        let (bid, ask) = (
            self.shared.bid.load(Ordering::Relaxed),
            self.shared.ask.load(Ordering::Relaxed),
        );
        if !self.ready || bid <= 0 || ask <= 0 {
            return;
        }
        let req = if let Some(id) = self.to_cancel.pop_front() {
            Request::Cancel(Cancel {
                client_id: id,
                instrument: InstrumentId(0),
            })
        } else {
            self.news += 1;
            let cross = self.news % CROSS_EVERY == 0;
            let o = NewOrder {
                client_id: self.s.ids.mint(),
                instrument: InstrumentId(0),
                side: Side::Bid,
                kind: OrderType::Limit,
                tif: if cross {
                    TimeInForce::Ioc
                } else {
                    TimeInForce::Gtc
                },
                // Crossing: 10 ticks through the ask seen (it moves); resting:
                // 2..=11 ticks under the best bid.
                price: Price(if cross {
                    ask + 10 * self.tick
                } else {
                    bid - (2 + (self.news % 10) as i64) * self.tick
                }),
                qty: Qty(QTY),
            };
            if !cross {
                self.resting.insert(o.client_id);
            }
            Request::New(o)
        };
        let c = &self.shared.counts;
        match self.s.requests.push(req) {
            Ok(()) => bump(&c.sent),
            Err(_) => bump(&c.ring_full),
        }
    }
}
