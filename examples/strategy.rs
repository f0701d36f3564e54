//! A minimal strategy: link tickwire, start the engine, poll a ring in a
//! hot loop, keep books with a `BookMirror`, and read derived values in
//! binary fixed point.
//!
//! It runs against the built-in simulated venue so it works offline:
//! `cargo run --release --example strategy`. Against Binance, build the
//! configuration from a TOML file instead (see the README).

use std::time::{Duration, Instant};

use tickwire::book::{BookSpec, derived};
use tickwire::config::Config;
use tickwire::consumer::BookMirror;
use tickwire::engine::Engine;
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::{Body, StatusCode, Venue};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = SimVenue::start(SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]))?;
    let config = Config::from_toml_str(&format!(
        r#"
        [[venue]]
        name = "binance-spot"
        ws_url = "{}"
        rest_url = "{}"
        [[venue.symbol]]
        symbol = "BTCUSDT"
        tick_size = "0.01"
        lot_size = "0.00001"
        "#,
        sim.ws_url(),
        sim.rest_url()
    ))?
    .validate()?;
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config)?;
    let mut ring = engine.add_consumer();
    let registry = engine.registry();
    let engine = engine.spawn()?;

    let mut books = BookMirror::new(
        registry
            .iter()
            .map(|i| BookSpec::new(i.tick).with_capacity(capacity)),
    );
    let (mut trades, mut last_print) = (0u64, Instant::now());
    let stop = Instant::now() + Duration::from_secs(3);
    // The hot loop: poll, apply, decide. No allocation, no lock.
    while Instant::now() < stop {
        while let Some(event) = ring.poll() {
            books.apply(&event);
            match event.body() {
                Body::Trade(_) => trades += 1,
                Body::Status(s) if s.code == StatusCode::Gap => {
                    eprintln!("gap on {:?}", event.instrument)
                }
                _ => {}
            }
        }
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = Instant::now();
            for inst in registry.iter() {
                let (Some(book), true) = (books.book(inst.id), books.is_consistent(inst.id)) else {
                    continue;
                };
                let (Some(mid), Some(imbalance)) = (derived::mid(book), derived::imbalance(book))
                else {
                    continue;
                };
                // `mid` is in price-mantissa units (cents here), as binary fixed point.
                println!(
                    "{} mid {} cents, top imbalance {imbalance:.3}, {trades} trades",
                    inst.symbol, mid
                );
            }
        }
        std::hint::spin_loop();
    }
    let report = engine.stop();
    println!(
        "{} messages, {} gaps, {} drops",
        report.counters.messages,
        report.counters.gaps,
        ring.dropped()
    );
    Ok(())
}
