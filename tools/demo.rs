//! `tickwire demo`: the simulated venue in-process on loopback, the engine on
//! its pinned thread, one consumer thread; a live view every second and a
//! per-stage latency report at the end. With `--orders RATE`, an
//! order-entry thread and a strategy trade against the simulator too
//! ([`orders`]).

mod orders;
mod record;

use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection, VenueSection};
use tickwire::engine::Engine;
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;

use crate::Failure;
use crate::live::{self, ConsumerThread};
use crate::out::Out;
use crate::venues::Venues;

/// Arguments of `tickwire demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long to run (at most a year; SIGINT or SIGTERM stop it earlier).
    #[arg(long, default_value_t = 10, value_parser = crate::limits::seconds())]
    seconds: u64,
    /// Messages per second the simulated venue sends (depth diffs, bookTickers, trades), 1..=2000000.
    #[arg(long, default_value_t = 100_000, value_parser = crate::limits::rate())]
    rate: u32,
    /// Print the final report as one JSON object (the live view goes to stderr).
    #[arg(long)]
    json: bool,
    /// Use wss:// and https:// with the simulator's generated certificate.
    #[arg(long)]
    tls: bool,
    /// Symbols to simulate (default: three of each venue's, e.g. BTCUSDT or BTC-USDT).
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// The venue dialect to simulate, or `all` of them at once in one engine
    /// (the message rate is then shared between them).
    #[arg(long, value_parser = crate::venues::venues(), default_value = "binance-spot")]
    venue: Venues,
    /// Also run an order-entry thread (Binance spot, HMAC) and a strategy
    /// sending new orders and cancels at this many per second against the
    /// simulator, 1..=100000 (the venue's limits still apply: what would
    /// exceed them is refused locally with `rate_limit`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    orders: Option<u32>,
    /// Also record everything the engine receives under this folder (as
    /// `tickwire record` does); at the end the recording is replayed and
    /// every book compared with the one the consumer built live.
    #[arg(long)]
    record: Option<std::path::PathBuf>,
    /// Consume through the Aeron bridge (IPC, embedded driver): the hop
    /// engine → Aeron → subscriber thread is then part of `pushed_to_popped`.
    #[cfg(feature = "aeron")]
    #[arg(long)]
    bridge: bool,
}

/// The symbols `demo` simulates on `venue`.
fn symbols_of(args: &Args, venue: Venue) -> Vec<String> {
    if args.symbols.is_empty() {
        let example = tickwire::venue::profile(venue).example_symbols;
        example.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.symbols.clone()
    }
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let venues = args.venue.list();
    if args.orders.is_some() && !venues.contains(&Venue::BinanceSpot) {
        return Err(Failure::from(
            "--orders trades on the simulated Binance spot venue: use --venue binance-spot (or all)"
                .to_owned(),
        ));
    }
    // The simulator would take any symbols: check them as the engine will,
    // before anything starts, and name the flag.
    for &venue in &venues {
        Config {
            engine: EngineSection::default(),
            venues: vec![VenueSection {
                symbols: symbols_of(args, venue),
                ..VenueSection::new(venue)
            }],
            risk: Default::default(),
        }
        .validate()
        .map_err(crate::source::flag_error)?;
    }
    let out = Out::new();
    let cores = tickwire::sys::init_core_list().to_vec();
    // Feed and simulator share the first core (the feed sleeps in epoll
    // between bursts); the consumer spins alone on the second.
    let (feed_core, consumer_core) = match cores.as_slice() {
        [a, b, ..] => (Some(*a), Some(*b)),
        [a] => (Some(*a), None),
        [] => (None, None),
    };
    // Every thread spawned from here on inherits this affinity, so the
    // simulator and the helpers stay off the consumer's core.
    tickwire::sys::pin_current_thread(feed_core, "demo main");
    // One simulated venue per dialect, sharing the message rate.
    let rate = (args.rate / venues.len() as u32).max(1);
    let mut sims = Vec::new();
    let mut sections = Vec::new();
    for &venue in &venues {
        let symbols = symbols_of(args, venue);
        let symbols: Vec<&str> = symbols.iter().map(String::as_str).collect();
        let mut sim_cfg = SimConfig::new(venue, &symbols);
        sim_cfg.rate = rate;
        sim_cfg.tls = args.tls;
        sim_cfg.core = feed_core;
        if args.orders.is_some() && venue == Venue::BinanceSpot {
            orders::add_account(&mut sim_cfg);
        }
        let sim = SimVenue::start(sim_cfg).map_err(|e| e.to_string())?;
        sections.push(sim.venue_section().map_err(|e| e.to_string())?);
        sims.push(sim);
    }
    let config = Config {
        engine: EngineSection {
            feed_core,
            consumer_cores: consumer_core.into_iter().collect(),
            ..EngineSection::default()
        },
        venues: sections,
        risk: Default::default(),
    }
    .validate()
    .map_err(|e| e.to_string())?;
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
    engine.set_latency_probe(true);
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let clock = engine.clock();
    #[cfg(feature = "aeron")]
    let (consumer, relay) = if args.bridge {
        let ring = engine.config().engine.ring_size;
        let (c, r) = crate::bridge::Relay::start(consumer, registry.clone(), capacity, ring, None)?;
        (c, Some(r))
    } else {
        (consumer, None)
    };
    // The order thread's own view of the feed (its price band).
    let orders_feed = args.orders.map(|_| engine.add_consumer());
    let recorder = match &args.record {
        Some(dir) => Some(record::DemoRecorder::start(&mut engine, dir)?),
        None => None,
    };
    let handle = engine.spawn().map_err(|e| e.to_string())?;
    let consumer = ConsumerThread::spawn(
        consumer,
        registry.clone(),
        capacity,
        clock,
        consumer_core,
        Duration::from_millis(500),
    )
    .map_err(|e| e.to_string())?;
    let trading = match (args.orders, orders_feed) {
        (Some(rate), Some(feed)) => {
            let i = venues
                .iter()
                .position(|v| *v == Venue::BinanceSpot)
                .unwrap_or(0);
            let symbol = symbols_of(args, Venue::BinanceSpot)
                .into_iter()
                .next()
                .unwrap_or_default();
            Some((
                i,
                orders::OrdersDemo::start(&sims[i], &symbol, rate, (feed, &registry, capacity))?,
            ))
        }
        _ => None,
    };
    let say = |line: &str| {
        if args.json {
            eprintln!("{line}");
        } else {
            out.line(format_args!("{line}"));
        }
    };
    let at: Vec<String> = sims
        .iter()
        .zip(&venues)
        .map(|(sim, v)| format!("{v} at {}", sim.ws_url()))
        .collect();
    say(&format!(
        "tickwire demo: {} msg/s from the simulated venue ({}) for {} s (feed core {}, consumer core {})",
        live::group(u64::from(rate) * venues.len() as u64),
        at.join(", "),
        args.seconds,
        feed_core.map_or("-".into(), |c| c.to_string()),
        consumer_core.map_or("-".into(), |c| c.to_string()),
    ));
    let started = Instant::now();
    let limit = Duration::from_secs(args.seconds);
    let elapsed = live::watch(
        started,
        &registry,
        || handle.counters(),
        &consumer,
        |t| {
            if let Some((i, o)) = &trading {
                o.tick(&sims[*i]);
            }
            t >= limit || stop.requested() || out.failed()
        },
        |line: &str| match &trading {
            Some((_, o)) => say(&format!("{line} | {}", o.live())),
            None => say(line),
        },
    );
    let orders = trading.map(|(i, o)| o.stop(&sims[i]));
    let report = handle.stop();
    let (latency, _, mirror) = consumer.finish();
    #[cfg(feature = "aeron")]
    let bridge = relay.map(crate::bridge::Relay::finish);
    #[cfg(not(feature = "aeron"))]
    let bridge = None;
    drop(sims);
    let mut extras: Vec<live::ReportExtra> = orders
        .map(|o| live::ReportExtra {
            json: o.json(),
            text: o.text(),
        })
        .into_iter()
        .chain(bridge)
        .collect();
    if let (Some(r), Some(m)) = (recorder, &mirror) {
        extras.push(r.finish(&registry, m));
    }
    live::print_report_with(
        &out,
        args.json,
        elapsed.as_secs_f64(),
        &report,
        &latency,
        &extras,
    );
    out.finish()
}
