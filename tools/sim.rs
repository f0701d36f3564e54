//! `tickwire sim`: the simulated venue on its own, with fault injection
//! typed on standard input.

use std::io::BufRead;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickwire::sim::{Fault, OrderFault, SimAccount, SimConfig, SimVenue};
use tickwire::types::Venue;

use crate::Failure;
use crate::limits::{MAX_FAULT_COUNT, MAX_FAULT_MS, MAX_RATE, MAX_SLOW_FACTOR};
use crate::out::Out;

/// Arguments of `tickwire sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Dialect to speak: any venue name (binance-spot, bybit-linear, okx, ...).
    #[arg(long, value_parser = crate::venues::venue(), default_value = "binance-spot")]
    venue: Venue,
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', default_value = "BTCUSDT,ETHUSDT")]
    symbols: Vec<String>,
    /// Messages per second, 1..=2000000.
    #[arg(long, default_value_t = 1_000, value_parser = crate::limits::rate())]
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
    /// An account the order endpoints accept, `API_KEY=SECRET_FILE` (HMAC;
    /// the file's trailing newline is not part of the secret). Repeatable.
    #[arg(long, value_name = "API_KEY=SECRET_FILE")]
    hmac_account: Vec<String>,
    /// An Ed25519 account, `API_KEY=PUBLIC_KEY_FILE` (PEM `PUBLIC KEY`, or
    /// the 32 bytes in base64). Repeatable.
    #[arg(long, value_name = "API_KEY=PUBLIC_KEY_FILE")]
    ed25519_account: Vec<String>,
    /// Stop after this many seconds, at most a year (default: on `quit`,
    /// end of input, SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
}

const HELP: &str = "commands: drop | gap [SYMBOL] | badchecksum [SYMBOL] | malformed | oversized BYTES [SYMBOL] | stall MS | refuse N | ratelimit N | slow FACTOR MS | rate N | book SYMBOL | quit
  orders (Binance): dropreply | delayreplies MS | unknown placed|absent | killmidorder | latefill | tradethrough SYMBOL PRICE | orders
  (MS at most 3600000; N at most 1000000; BYTES at most 64 MiB; FACTOR 1..=2000000; rate 0..=2000000, 0 pauses)";

/// Reads `API_KEY=FILE` accounts.
fn accounts(args: &Args) -> Result<Vec<SimAccount>, String> {
    let split = |flag: &str, spec: &str| -> Result<(String, String), String> {
        let (key, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--{flag} {spec:?}: expected API_KEY=FILE"))?;
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("--{flag}: reading {path}: {e}"))?;
        Ok((key.to_owned(), text))
    };
    let mut out = Vec::new();
    for spec in &args.hmac_account {
        let (key, text) = split("hmac-account", spec)?;
        let secret = text.strip_suffix('\n').unwrap_or(&text);
        let secret = secret.strip_suffix('\r').unwrap_or(secret);
        out.push(SimAccount::hmac(&key, secret));
    }
    for spec in &args.ed25519_account {
        let (key, text) = split("ed25519-account", spec)?;
        let public = tickwire::sim::parse_ed25519_public(&text)
            .ok_or_else(|| format!("--ed25519-account {key}: not an Ed25519 public key"))?;
        out.push(SimAccount::ed25519(&key, public));
    }
    Ok(out)
}

/// The `orders` counters as one line.
fn orders_line(sim: &SimVenue) -> String {
    let o = &sim.stats().orders;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    format!(
        "orders: {} requests, {} placed, {} fills, {} rejected, {} breaches, {} duplicates, {} dropped replies",
        n(&o.requests),
        n(&o.placed),
        n(&o.fills),
        n(&o.rejected),
        n(&o.breaches),
        n(&o.duplicates),
        n(&o.dropped_replies)
    )
}

/// Argument `i` of a command as a number in `range`.
fn num(words: &[&str], i: usize, what: &str, range: RangeInclusive<u64>) -> Result<u64, String> {
    let cmd = words.first().copied().unwrap_or("");
    let text = words
        .get(i)
        .ok_or_else(|| format!("{cmd}: missing {what}"))?;
    let n = text
        .parse::<u64>()
        .map_err(|e| format!("{cmd}: {what} {text:?}: {e}"))?;
    if !range.contains(&n) {
        return Err(format!(
            "{cmd}: {what} {n} is out of range {}..={}",
            range.start(),
            range.end()
        ));
    }
    Ok(n)
}

/// `u64` to `u32` for a number already bounded below `u32::MAX`.
fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn command(sim: &SimVenue, out: &Out, line: &str) -> Result<bool, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let w = words.as_slice();
    match words.first().copied() {
        None => {}
        Some("quit" | "exit") => return Ok(false),
        Some("drop") => sim.inject(Fault::Disconnect),
        Some("gap") => sim.inject(Fault::Gap(words.get(1).map(|s| s.to_ascii_uppercase()))),
        Some("badchecksum") => {
            if !sim.sends_checksums() {
                return Err(format!(
                    "badchecksum: {} sends no checksum",
                    sim.venue().name()
                ));
            }
            sim.inject(Fault::BadChecksum(
                words.get(1).map(|s| s.to_ascii_uppercase()),
            ))
        }
        Some("malformed") => sim.inject(Fault::Malformed),
        Some("oversized") => {
            let bytes = num(w, 1, "BYTES", 1..=64 << 20)?;
            sim.inject(Fault::Oversized {
                symbol: words.get(2).map(|s| s.to_ascii_uppercase()),
                bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
            })
        }
        Some("stall") => {
            let ms = num(w, 1, "MS", 0..=MAX_FAULT_MS)?;
            sim.inject(Fault::Stall(Duration::from_millis(ms)))
        }
        Some("refuse") => {
            let n = num(w, 1, "N", 0..=MAX_FAULT_COUNT)?;
            sim.inject(Fault::RefuseSnapshots(small(n)))
        }
        Some("ratelimit") => {
            let n = num(w, 1, "N", 0..=MAX_FAULT_COUNT)?;
            sim.inject(Fault::RateLimit(small(n)))
        }
        Some("slow") => {
            let factor = num(w, 1, "FACTOR", 1..=MAX_SLOW_FACTOR)?;
            let ms = num(w, 2, "MS", 0..=MAX_FAULT_MS)?;
            sim.inject(Fault::SlowDown {
                factor: small(factor),
                duration: Duration::from_millis(ms),
            })
        }
        Some("dropreply") => sim.inject(Fault::Orders(OrderFault::DropReply)),
        Some("delayreplies") => {
            let ms = num(w, 1, "MS", 0..=MAX_FAULT_MS)?;
            sim.inject(Fault::Orders(OrderFault::DelayReplies(
                Duration::from_millis(ms),
            )))
        }
        Some("unknown") => {
            let placed = match words.get(1).copied() {
                Some("placed") => true,
                Some("absent") => false,
                _ => return Err("unknown: expected placed or absent".to_owned()),
            };
            sim.inject(Fault::Orders(OrderFault::UnknownOutcome { placed }))
        }
        Some("killmidorder") => sim.inject(Fault::Orders(OrderFault::DisconnectMidOrder)),
        Some("latefill") => sim.inject(Fault::Orders(OrderFault::LateFill)),
        Some("tradethrough") => {
            let sym = words.get(1).ok_or("tradethrough: missing SYMBOL")?;
            let text = words.get(2).ok_or("tradethrough: missing PRICE")?;
            let price = tickwire::types::Price::parse(text.as_bytes(), scale())
                .map_err(|e| format!("tradethrough: PRICE {text:?}: {e}"))?;
            sim.trade_through(sym, price);
        }
        Some("orders") => out.line(format_args!("{}", orders_line(sim))),
        Some("rate") => sim.set_rate(small(num(w, 1, "N", 0..=u64::from(MAX_RATE))?)),
        Some("book") => {
            let sym = words.get(1).ok_or("book: missing SYMBOL")?;
            let book = sim
                .true_book(sym)
                .ok_or_else(|| format!("unknown symbol {sym}"))?;
            let top = |l: Option<&(tickwire::types::Price, tickwire::types::Qty)>| {
                l.map_or("-".to_owned(), |(p, q)| {
                    format!("{} x {}", p.at(scale()), q.at(qty_scale()))
                })
            };
            out.line(format_args!(
                "{sym}: {} levels bid, {} ask, best {} / {}, last update id {}",
                book.bids.len(),
                book.asks.len(),
                top(book.bids.first()),
                top(book.asks.first()),
                book.last_update_id
            ));
        }
        Some(other) => return Err(format!("unknown command {other:?}")),
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

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("info");
    let stop = crate::signals::install()?;
    let out = Out::new();
    let symbols: Vec<&str> = args.symbols.iter().map(String::as_str).collect();
    let mut cfg = SimConfig::new(args.venue, &symbols);
    cfg.rate = args.rate;
    cfg.tls = args.tls;
    cfg.port = args.port;
    cfg.accounts = accounts(args)?;
    let sim = SimVenue::start(cfg).map_err(|e| e.to_string())?;
    out.line(format_args!("ws_url {}{}", sim.ws_url(), sim.ws_path()));
    out.line(format_args!("rest_url {}", sim.rest_url()));
    if matches!(args.venue, Venue::BinanceSpot | Venue::BinanceUsdm) {
        out.line(format_args!("ws_api_url {}", sim.ws_api_url()));
        out.line(format_args!("ws_fapi_url {}", sim.ws_fapi_url()));
    }
    out.line(format_args!(
        "tick_size {} lot_size {}",
        SimConfig::TICK,
        SimConfig::LOT
    ));
    if let (Some(pem), Some(path)) = (sim.ca_pem(), &args.ca_out) {
        std::fs::write(path, pem).map_err(|e| format!("writing {}: {e}", path.display()))?;
        out.line(format_args!("ca_file {}", path.display()));
    }
    out.line(format_args!("{HELP}"));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // Standard input is read on its own thread so signals and --seconds still work.
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
    while !stop.requested() && limit.is_none_or(|l| started.elapsed() < l) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => match command(&sim, &out, &line) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!("{HELP}");
                }
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
    eprintln!("sim: {}", orders_line(&sim));
    // The sim keeps serving when its reader goes away (`sim | head -4`
    // picks up the URLs); a write error other than that is reported here.
    out.finish()
}
