//! `tickwire sim`: the simulated venue on its own, with fault injection
//! typed on standard input.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickwire::sim::{Fault, SimConfig, SimVenue};

use crate::replay::ReplayVenue;

/// Arguments of `tickwire sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Dialect to speak.
    #[arg(long, value_enum, default_value = "binance-spot")]
    venue: ReplayVenue,
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', default_value = "BTCUSDT,ETHUSDT")]
    symbols: Vec<String>,
    /// Messages per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u32,
    /// Serve wss:// and https:// with a generated certificate.
    #[arg(long)]
    tls: bool,
    /// Port on 127.0.0.1 (default: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write the CA certificate (PEM) here (with --tls).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Stop after this many seconds (default: on `quit`, end of input or Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
}

const HELP: &str = "commands: drop | gap [SYMBOL] | malformed | stall MS | refuse N | ratelimit N | slow FACTOR MS | rate N | book SYMBOL | quit";

fn command(sim: &SimVenue, line: &str) -> Result<bool, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| -> Result<u64, String> {
        words
            .get(i)
            .ok_or_else(|| format!("missing argument\n{HELP}"))?
            .parse::<u64>()
            .map_err(|e| format!("{e}\n{HELP}"))
    };
    match words.first().copied() {
        None => {}
        Some("quit" | "exit") => return Ok(false),
        Some("drop") => sim.inject(Fault::Disconnect),
        Some("gap") => sim.inject(Fault::Gap(words.get(1).map(|s| s.to_ascii_uppercase()))),
        Some("malformed") => sim.inject(Fault::Malformed),
        Some("stall") => sim.inject(Fault::Stall(Duration::from_millis(num(1)?))),
        Some("refuse") => sim.inject(Fault::RefuseSnapshots(num(1)? as u32)),
        Some("ratelimit") => sim.inject(Fault::RateLimit(num(1)? as u32)),
        Some("slow") => sim.inject(Fault::SlowDown {
            factor: num(1)? as u32,
            duration: Duration::from_millis(num(2)?),
        }),
        Some("rate") => sim.set_rate(num(1)? as u32),
        Some("book") => {
            let sym = words.get(1).ok_or(HELP)?;
            let book = sim
                .true_book(sym)
                .ok_or_else(|| format!("unknown symbol {sym}"))?;
            let top = |l: Option<&(tickwire::types::Price, tickwire::types::Qty)>| {
                l.map_or("-".to_owned(), |(p, q)| {
                    format!("{} x {}", p.at(scale()), q.at(qty_scale()))
                })
            };
            println!(
                "{sym}: {} levels bid, {} ask, best {} / {}, last update id {}",
                book.bids.len(),
                book.asks.len(),
                top(book.bids.first()),
                top(book.asks.first()),
                book.last_update_id
            );
        }
        Some(other) => return Err(format!("unknown command {other:?}\n{HELP}")),
    }
    Ok(true)
}

fn scale() -> tickwire::types::Scale {
    tickwire::types::parse_increment("tick", SimConfig::TICK)
        .map(|(s, _)| s)
        .unwrap_or(tickwire::types::Scale::BINANCE_WIRE)
}

fn qty_scale() -> tickwire::types::Scale {
    tickwire::types::parse_increment("lot", SimConfig::LOT)
        .map(|(s, _)| s)
        .unwrap_or(tickwire::types::Scale::BINANCE_WIRE)
}

pub(crate) fn run(args: &Args) -> Result<(), String> {
    crate::live::init_tracing("info");
    let symbols: Vec<&str> = args.symbols.iter().map(String::as_str).collect();
    let mut cfg = SimConfig::new(args.venue.into(), &symbols);
    cfg.rate = args.rate;
    cfg.tls = args.tls;
    cfg.port = args.port;
    let sim = SimVenue::start(cfg).map_err(|e| e.to_string())?;
    println!("ws_url {}", sim.ws_url());
    println!("rest_url {}", sim.rest_url());
    println!("tick_size {} lot_size {}", SimConfig::TICK, SimConfig::LOT);
    if let (Some(pem), Some(path)) = (sim.ca_pem(), &args.ca_out) {
        std::fs::write(path, pem).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("ca_file {}", path.display());
    }
    println!("{HELP}");
    let interrupted = crate::run::interrupt_flag()?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // Standard input is read on its own thread so Ctrl-C and --seconds still work.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let limit = args.seconds.map(Duration::from_secs);
    let mut stdin_open = true;
    while !interrupted.load(Ordering::Relaxed) && limit.is_none_or(|l| started.elapsed() < l) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => match command(&sim, &line) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => eprintln!("{e}"),
            },
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // End of input: keep serving only if a duration was given.
                if stdin_open && limit.is_none() {
                    break;
                }
                stdin_open = false;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let s = sim.stats();
    eprintln!(
        "sim: {} messages, {} connections, {} snapshots, {} refused",
        s.messages.load(Ordering::Relaxed),
        s.connections.load(Ordering::Relaxed),
        s.snapshots.load(Ordering::Relaxed),
        s.refused.load(Ordering::Relaxed)
    );
    Ok(())
}
