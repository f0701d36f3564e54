//! The engine against a hostile venue on loopback (`util::hostile`): one
//! test per engine item of issue 9, asserting the status events, the bounded
//! retry rate, the stop time and the book. Every wait has a deadline.

mod util;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection, SymbolSection, VenueSection};
use tickwire::consumer::Consumer;
use tickwire::engine::{Engine, EngineHandle};
use tickwire::types::{
    Body, Event, InstrumentId, Price, Registry, ResyncReason, SnapshotFailReason, Status,
    StatusCode, Venue,
};
use util::hostile::{Frame, HostileVenue, Rest, good_snapshot};

const BTC: &str = "BTCUSDT";
const ETH: &str = "ETHUSDT";
/// Longest any single wait in these tests may take.
const LIMIT: Duration = Duration::from_secs(8);

/// An engine configuration against `venue`, small timers (tick 0.01, lot 0.001).
fn config(venue: &HostileVenue, symbols: &[&str]) -> Config {
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
    }
}

/// A running engine and everything its consumer received.
struct Run {
    handle: EngineHandle,
    consumer: Consumer,
    registry: Arc<Registry>,
    events: Vec<Event>,
}

impl Run {
    fn start(config: Config) -> Run {
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

    fn id(&self, symbol: &str) -> InstrumentId {
        self.registry
            .lookup(Venue::BinanceSpot, symbol.as_bytes())
            .expect("configured symbol")
            .id
    }

    fn price(&self, symbol: &str, text: &str) -> Price {
        let scale = self
            .registry
            .lookup(Venue::BinanceSpot, symbol.as_bytes())
            .expect("configured symbol")
            .price_scale;
        Price::parse(text.as_bytes(), scale).expect("price")
    }

    fn drain(&mut self) -> usize {
        let events = &mut self.events;
        self.consumer.drain(|e| events.push(*e))
    }

    /// Drains until `done` holds or `limit` passes; true if it held.
    fn until(&mut self, limit: Duration, mut done: impl FnMut(&Run) -> bool) -> bool {
        self.pumping(None, limit, |_| None, &mut done)
    }

    /// As [`Run::until`], sending `next(n)` (n = 0, 1, ...) from `venue` on
    /// the connections of the symbol it names, every 20 ms while it returns
    /// frames.
    fn pumping(
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
    fn watch(&mut self, d: Duration) {
        self.until(d, |_| false);
    }

    /// Status events of `inst` with `code`, in order, from `from` on.
    fn statuses_from(&self, from: usize, inst: InstrumentId, code: StatusCode) -> Vec<Status> {
        self.events[from.min(self.events.len())..]
            .iter()
            .filter(|e| e.instrument == inst)
            .filter_map(|e| match e.body() {
                Body::Status(s) if s.code == code => Some(s),
                _ => None,
            })
            .collect()
    }

    fn statuses(&self, inst: InstrumentId, code: StatusCode) -> Vec<Status> {
        self.statuses_from(0, inst, code)
    }

    fn synced(&self, symbol: &str) -> bool {
        !self
            .statuses(self.id(symbol), StatusCode::SnapshotEnd)
            .is_empty()
    }

    fn codes(&self) -> Vec<(u32, StatusCode, i64, i64)> {
        self.events
            .iter()
            .filter_map(|e| match e.body() {
                Body::Status(s) => Some((e.instrument.index() as u32, s.code, s.a, s.b)),
                _ => None,
            })
            .collect()
    }
}

fn text(s: String) -> Frame {
    Frame::Text(s)
}

/// A combined-stream spot diff for `symbol`.
fn diff(symbol: &str, first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = util::depth_json(Venue::BinanceSpot, symbol, first, last, None, bids, asks);
    text(util::wrap(&format!("{lower}@depth@100ms"), &data))
}

/// A combined-stream spot trade.
fn trade(symbol: &str, id: u64, price: &str) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = format!(
        "{{\"e\":\"trade\",\"E\":1700000000000,\"s\":\"{symbol}\",\"t\":{id},\"p\":\"{price}\",\"q\":\"0.010\",\"T\":1700000000000,\"m\":true,\"M\":true}}"
    );
    text(util::wrap(&format!("{lower}@trade"), &data))
}

/// A combined-stream spot bookTicker.
fn book_ticker(symbol: &str, id: u64, bid: &str, ask: &str) -> Frame {
    let lower = symbol.to_ascii_lowercase();
    let data = format!(
        "{{\"u\":{id},\"s\":\"{symbol}\",\"b\":\"{bid}\",\"B\":\"1.000\",\"a\":\"{ask}\",\"A\":\"1.000\"}}"
    );
    text(util::wrap(&format!("{lower}@bookTicker"), &data))
}

// ---------------------------------------------------------------------------
// Item 4: stopping while a snapshot is dribbled in.
// ---------------------------------------------------------------------------

/// Issue 9, item 4.
#[test]
fn stop_is_prompt_while_a_snapshot_is_dribbled_in() {
    let venue = HostileVenue::start();
    venue.set_rest(
        BTC,
        vec![Rest::Dribble {
            body: good_snapshot(100),
            every: Duration::from_millis(100),
        }],
    );
    let mut run = Run::start(config(&venue, &[BTC]));
    assert!(
        run.until(LIMIT, |_| !venue.requests(BTC).is_empty()),
        "no snapshot request: {:?}",
        run.codes()
    );
    let Run { handle, .. } = run;
    let started = Instant::now();
    let _report = handle.stop();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "stop took {took:?} with a snapshot in flight"
    );
}
