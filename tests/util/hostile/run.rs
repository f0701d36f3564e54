//! The engine side of the hostile-venue tests: a configuration with small
//! timers against a [`HostileVenue`], a running engine whose consumer keeps
//! every event, deadline-bounded waits, and Binance spot frames as text.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection, SymbolSection, VenueSection};
use tickwire::consumer::Consumer;
use tickwire::engine::{Engine, EngineHandle};
use tickwire::types::{Body, Event, InstrumentId, Price, Registry, Status, StatusCode, Venue};

use super::{Frame, HostileVenue};

pub(crate) const BTC: &str = "BTCUSDT";
pub(crate) const ETH: &str = "ETHUSDT";
/// Longest any single wait in these tests may take.
pub(crate) const LIMIT: Duration = Duration::from_secs(8);

/// An engine configuration against `venue`, small timers (tick 0.01, lot 0.001).
pub(crate) fn config(venue: &HostileVenue, symbols: &[&str]) -> Config {
    let engine = EngineSection {
        ring_size: 1 << 16,
        book_capacity: 1_000,
        connect_timeout_ms: 2_000,
        stale_timeout_ms: 2_000,
        instrument_stale_ms: 0,
        backoff_initial_ms: 50,
        backoff_max_ms: 400,
        restart_limit: 5,
        restart_window_ms: 10_000,
        down_cooldown_ms: 60_000,
        ..EngineSection::default()
    };
    let mut section = VenueSection::new(Venue::BinanceSpot);
    section.ws_url = Some(venue.ws_url());
    section.rest_url = Some(venue.rest_url());
    section.symbol_specs = symbols
        .iter()
        .map(|s| SymbolSection {
            symbol: (*s).to_owned(),
            tick_size: "0.01".to_owned(),
            lot_size: "0.001".to_owned(),
        })
        .collect();
    Config {
        engine,
        venues: vec![section],
        risk: Default::default(),
    }
}

/// A running engine and everything its consumer received.
pub(crate) struct Run {
    /// The engine.
    pub(crate) handle: EngineHandle,
    /// Its one consumer.
    pub(crate) consumer: Consumer,
    /// Its instruments.
    pub(crate) registry: Arc<Registry>,
    /// Every event received so far, in order.
    pub(crate) events: Vec<Event>,
}

impl Run {
    /// Validates `config` and starts an engine with one consumer.
    pub(crate) fn start(config: Config) -> Run {
        let mut engine = Engine::new(config.validate().expect("valid config")).expect("engine");
        let consumer = engine.add_consumer();
        let registry = engine.registry();
        let handle = engine.spawn().expect("spawn");
        Run {
            handle,
            consumer,
            registry,
            events: Vec::new(),
        }
    }

    /// The instrument id of a configured spot symbol.
    pub(crate) fn id(&self, symbol: &str) -> InstrumentId {
        self.registry
            .lookup(Venue::BinanceSpot, symbol.as_bytes())
            .expect("configured symbol")
            .id
    }

    /// `text` as a price mantissa at `symbol`'s scale.
    pub(crate) fn price(&self, symbol: &str, text: &str) -> Price {
        let scale = self
            .registry
            .lookup(Venue::BinanceSpot, symbol.as_bytes())
            .expect("configured symbol")
            .price_scale;
        Price::parse(text.as_bytes(), scale).expect("price")
    }

    /// Keeps every event waiting in the ring; returns how many.
    pub(crate) fn drain(&mut self) -> usize {
        let events = &mut self.events;
        self.consumer.drain(|e| events.push(*e))
    }

    /// Drains until `done` holds or `limit` passes; true if it held.
    pub(crate) fn until(&mut self, limit: Duration, mut done: impl FnMut(&Run) -> bool) -> bool {
        self.pumping(None, limit, |_| None, &mut done)
    }

    /// As [`Run::until`], sending `next(n)` (n = 0, 1, ...) from `venue` on
    /// the connections of the symbol it names, every 20 ms while it returns
    /// frames.
    pub(crate) fn pumping(
        &mut self,
        venue: Option<&HostileVenue>,
        limit: Duration,
        mut next: impl FnMut(u64) -> Option<(&'static str, Frame)>,
        done: &mut impl FnMut(&Run) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        let mut sent = 0;
        let mut next_send = Instant::now();
        while Instant::now() < deadline {
            if Instant::now() >= next_send {
                next_send = Instant::now() + Duration::from_millis(20);
                if let (Some(venue), Some((symbol, frame))) = (venue, next(sent)) {
                    venue.send(symbol, frame);
                    sent += 1;
                }
            }
            if self.drain() == 0 {
                if done(self) {
                    return true;
                }
                // A polling interval; the condition ends the wait.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.drain();
        done(self)
    }

    /// Drains for `d` (the condition is the passing of time itself).
    pub(crate) fn watch(&mut self, d: Duration) {
        self.until(d, |_| false);
    }

    /// Status events of `inst` with `code`, in order, from `from` on.
    pub(crate) fn statuses_from(
        &self,
        from: usize,
        inst: InstrumentId,
        code: StatusCode,
    ) -> Vec<Status> {
        self.events[from.min(self.events.len())..]
            .iter()
            .filter(|e| e.instrument == inst)
            .filter_map(|e| match e.body() {
                Body::Status(s) if s.code == code => Some(s),
                _ => None,
            })
            .collect()
    }

    /// Status events of `inst` with `code`, in order.
    pub(crate) fn statuses(&self, inst: InstrumentId, code: StatusCode) -> Vec<Status> {
        self.statuses_from(0, inst, code)
    }

    /// True once `symbol` has published a full snapshot.
    pub(crate) fn synced(&self, symbol: &str) -> bool {
        !self
            .statuses(self.id(symbol), StatusCode::SnapshotEnd)
            .is_empty()
    }

    /// What a failure message shows: the counters, then every status as
    /// (instrument, code, a, b), and how many other events arrived.
    pub(crate) fn codes(&self) -> Shown {
        let statuses: Vec<(u32, StatusCode, i64, i64)> = self
            .events
            .iter()
            .filter_map(|e| match e.body() {
                Body::Status(s) => Some((e.instrument.index() as u32, s.code, s.a, s.b)),
                _ => None,
            })
            .collect();
        Shown(format!(
            "{:?}\nstatuses {statuses:?}\n{} other events",
            self.handle.counters(),
            self.events.len() - statuses.len()
        ))
    }
}

/// Text shown as it is in a `{:?}` of a failure message.
pub(crate) struct Shown(String);

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A text frame.
pub(crate) fn text(s: String) -> Frame {
    Frame::Text(s)
}

/// A combined-stream spot diff for `symbol`.
pub(crate) fn diff(
    symbol: &str,
    first: u64,
    last: u64,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = crate::util::depth_json(Venue::BinanceSpot, symbol, first, last, None, bids, asks);
    text(crate::util::wrap(&format!("{lower}@depth@100ms"), &data))
}

/// A combined-stream spot trade.
pub(crate) fn trade(symbol: &str, id: u64, price: &str) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = format!(
        "{{\"e\":\"trade\",\"E\":1700000000000,\"s\":\"{symbol}\",\"t\":{id},\"p\":\"{price}\",\"q\":\"0.010\",\"T\":1700000000000,\"m\":true,\"M\":true}}"
    );
    text(crate::util::wrap(&format!("{lower}@trade"), &data))
}

/// A combined-stream spot bookTicker.
pub(crate) fn book_ticker(symbol: &str, id: u64, bid: &str, ask: &str) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = format!(
        "{{\"u\":{id},\"s\":\"{symbol}\",\"b\":\"{bid}\",\"B\":\"1.000\",\"a\":\"{ask}\",\"A\":\"1.000\"}}"
    );
    text(crate::util::wrap(&format!("{lower}@bookTicker"), &data))
}
