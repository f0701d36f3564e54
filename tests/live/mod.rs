//! Harness for the loopback end-to-end tests: a simulated venue, an engine
//! pointed at it, and a consumer that mirrors books — every wait bounded by
//! a deadline, every loop stopping by itself.
#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::time::{Duration, Instant};

use tickwire::book::{BookRead, BookSpec, same_levels};
use tickwire::config::{Config, EngineSection};
use tickwire::consumer::{BookMirror, Consumer};
use tickwire::engine::{Engine, EngineHandle};
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::{Body, Event, InstrumentId, Registry, StatusCode, Venue};

/// Symbols the tests trade.
pub(crate) const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

/// Two symbols of `venue`, as it writes them (`BTCUSDT`, `BTC-USDT`).
pub(crate) fn symbols(venue: Venue) -> [&'static str; 2] {
    let example = tickwire::venue::profile(venue).example_symbols;
    [example[0], example[1]]
}

/// A simulator with `rate` msgs/s for two of its symbols ([`SYMBOLS`] on Binance).
pub(crate) fn sim(venue: Venue, tls: bool, rate: u32) -> SimVenue {
    let mut cfg = SimConfig::new(venue, &symbols(venue));
    cfg.rate = rate;
    cfg.tls = tls;
    SimVenue::start(cfg).expect("simulator starts")
}

/// An engine configuration pointing at `sim`, with test-friendly timeouts.
/// (`venue` must be the simulator's own.)
pub(crate) fn config_for(sim: &SimVenue, venue: Venue) -> Config {
    let engine = EngineSection {
        ring_size: 1 << 16,
        book_capacity: 5_000,
        connect_timeout_ms: 3_000,
        stale_timeout_ms: 5_000,
        backoff_initial_ms: 20,
        backoff_max_ms: 200,
        restart_limit: 5,
        restart_window_ms: 10_000,
        down_cooldown_ms: 0,
        ..EngineSection::default()
    };
    let section = sim.venue_section().expect("simulator config");
    assert_eq!(section.name, venue.name());
    Config {
        engine,
        venues: vec![section],
        risk: Default::default(),
    }
}

/// The consumer side of a test: mirrors books and remembers status events.
pub(crate) struct Mirror {
    pub(crate) consumer: Consumer,
    pub(crate) mirror: BookMirror,
    pub(crate) registry: std::sync::Arc<Registry>,
    pub(crate) statuses: Vec<(InstrumentId, StatusCode, i64)>,
    pub(crate) events: u64,
    /// Per instrument: a level, a BBO and a trade arrived (its streams are live).
    pub(crate) seen: Vec<[bool; 3]>,
}

impl Mirror {
    pub(crate) fn new(
        consumer: Consumer,
        registry: std::sync::Arc<Registry>,
        capacity: usize,
    ) -> Mirror {
        let registry_len = registry.len();
        let specs = registry
            .iter()
            .map(|i| BookSpec::new(i.tick).with_capacity(capacity));
        Mirror {
            consumer,
            mirror: BookMirror::new(specs),
            registry,
            statuses: Vec::new(),
            events: 0,
            seen: vec![[false; 3]; registry_len],
        }
    }

    /// Applies everything waiting; returns how many events.
    pub(crate) fn drain(&mut self) -> usize {
        let (mirror, statuses, events, seen) = (
            &mut self.mirror,
            &mut self.statuses,
            &mut self.events,
            &mut self.seen,
        );
        self.consumer.drain(|e: &Event| {
            *events += 1;
            mirror.apply(e);
            let kind = match e.body() {
                Body::Level(l) if !l.snapshot => Some(0),
                Body::Bbo(_) => Some(1),
                Body::Trade(_) => Some(2),
                _ => None,
            };
            if let (Some(k), Some(s)) = (kind, seen.get_mut(e.instrument.index())) {
                s[k] = true;
            }
            if let Body::Status(s) = e.body() {
                if s.code != StatusCode::Probe {
                    statuses.push((e.instrument, s.code, s.a));
                }
            }
        })
    }

    /// Drains until `done` holds or `limit` passes; true if it held.
    pub(crate) fn until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Mirror) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.drain() == 0 {
                if done(self) {
                    return true;
                }
                // A polling interval, not a synchronisation: the condition is
                // what ends the wait. Spinning would starve a 2-core CI box.
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        self.drain();
        done(self)
    }

    /// True once every instrument has had a diff, a BBO and a trade: every
    /// stream the engine subscribes is flowing.
    pub(crate) fn all_streams_live(&self) -> bool {
        self.seen.iter().all(|s| s.iter().all(|&b| b))
    }

    /// True when every instrument's mirror is consistent.
    pub(crate) fn all_consistent(&self) -> bool {
        self.registry
            .iter()
            .all(|i| self.mirror.is_consistent(i.id))
    }

    /// True when every mirror equals the simulator's true book.
    pub(crate) fn matches(&self, sim: &SimVenue) -> bool {
        self.matches_top(sim, usize::MAX)
    }

    /// True when every mirror equals the best `depth` levels a side of the
    /// simulator's true book (a venue streams only the depth subscribed).
    pub(crate) fn matches_top(&self, sim: &SimVenue, depth: usize) -> bool {
        self.registry.iter().all(|i| {
            let Some(truth) = sim.true_book(i.symbol.as_str()) else {
                return false;
            };
            let Some(book) = self.mirror.book(i.id) else {
                return false;
            };
            let mut model = tickwire::book::RefBook::new(i.tick);
            for (side, levels) in [
                (tickwire::types::Side::Bid, &truth.bids),
                (tickwire::types::Side::Ask, &truth.asks),
            ] {
                for &(p, q) in levels.iter().take(depth) {
                    let _ = tickwire::book::BookApply::apply(&mut model, side, p, q);
                }
            }
            self.mirror.is_consistent(i.id) && same_levels(book, &model) && !book.is_crossed()
        })
    }

    /// Count of a status code seen so far.
    pub(crate) fn seen(&self, code: StatusCode) -> usize {
        self.statuses.iter().filter(|s| s.1 == code).count()
    }
}

/// Starts an engine on `config` with one consumer.
pub(crate) fn start(config: Config) -> (EngineHandle, Mirror) {
    let valid = config.validate().expect("valid config");
    let capacity = valid.engine.book_capacity;
    let mut engine = Engine::new(valid).expect("engine");
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let handle = engine.spawn().expect("spawn");
    (handle, Mirror::new(consumer, registry, capacity))
}

/// Pauses the market, then waits until every mirror equals the true book.
pub(crate) fn converges(sim: &SimVenue, m: &mut Mirror, limit: Duration) -> bool {
    converges_top(sim, m, usize::MAX, limit)
}

/// [`converges`] for a venue that streams the best `depth` levels a side.
pub(crate) fn converges_top(sim: &SimVenue, m: &mut Mirror, depth: usize, limit: Duration) -> bool {
    sim.set_rate(0);
    m.until(limit, |m| m.matches_top(sim, depth))
}
