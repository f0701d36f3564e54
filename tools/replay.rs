//! `tickwire replay`: frames from a file through the engine's own decoder,
//! sync state machine and book.
//!
//! Exit status: 0 consistent, 3 a gap (or checksum mismatch) was seen,
//! 4 only malformed frames were seen, 2 usage errors (including unreadable
//! files and a bad snapshot file).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use tickwire::book::BookRead;
use tickwire::replay::{LineOutcome, Replay, ReplaySpec};
use tickwire::types::{Clock, MonotonicClock, Side, Venue};

/// Venues `replay` understands.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ReplayVenue {
    /// Binance spot (`U == previous u + 1`).
    BinanceSpot,
    /// Binance USD-M futures (`pu == previous u`).
    BinanceUsdm,
}

impl From<ReplayVenue> for Venue {
    fn from(v: ReplayVenue) -> Venue {
        match v {
            ReplayVenue::BinanceSpot => Venue::BinanceSpot,
            ReplayVenue::BinanceUsdm => Venue::BinanceUsdm,
        }
    }
}

/// Arguments of `tickwire replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Venue dialect of the capture.
    #[arg(long, value_enum)]
    venue: ReplayVenue,
    /// Symbol to rebuild (other symbols' frames are skipped).
    #[arg(long)]
    symbol: String,
    /// Captured frames: one raw WebSocket text frame per line (bare or combined-stream wrapped).
    #[arg(long)]
    input: PathBuf,
    /// The REST depth snapshot body to sync against.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Price tick size (default: Binance's wire precision).
    #[arg(long, default_value = "0.00000001")]
    tick_size: String,
    /// Quantity lot size (default: Binance's wire precision).
    #[arg(long, default_value = "0.00000001")]
    lot_size: String,
    /// Print the final book to stdout: `B <price> <qty>` best first, then `A <price> <qty>`.
    #[arg(long)]
    dump_book: bool,
    /// Print frame counts, throughput and decode+apply latency percentiles to stderr.
    #[arg(long)]
    stats: bool,
}

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut spec = ReplaySpec::new(args.venue.into(), &args.symbol);
    spec.tick_size.clone_from(&args.tick_size);
    spec.lot_size.clone_from(&args.lot_size);
    let mut replay = match Replay::new(&spec) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    if let Some(path) = &args.snapshot {
        let body = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return usage_error(format_args!("cannot read {}: {e}", path.display())),
        };
        if let Err(e) = replay.load_snapshot(&body) {
            return usage_error(format_args!(
                "{}: not a usable depth snapshot: {e}",
                path.display()
            ));
        }
    }
    let file = match std::fs::File::open(&args.input) {
        Ok(f) => f,
        Err(e) => return usage_error(format_args!("cannot read {}: {e}", args.input.display())),
    };
    let clock = MonotonicClock::new();
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .expect("valid bounds");
    let (mut gaps, mut malformed, mut frames) = (0u64, 0u64, 0u64);
    let started = clock.now();
    let mut reader = BufReader::new(file);
    let mut line = Vec::with_capacity(1 << 16);
    let mut line_no = 0u64;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return usage_error(format_args!("reading {}: {e}", args.input.display())),
        }
        line_no += 1;
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        frames += 1;
        let t0 = clock.now();
        let outcome = replay.feed(&line, t0);
        let _ = hist.record(clock.now().saturating_sub(t0).max(1));
        match outcome {
            LineOutcome::Gap { expected, got } => {
                gaps += 1;
                eprintln!("gap: line {line_no}: expected update id {expected}, got {got}");
            }
            LineOutcome::Malformed(e) => {
                malformed += 1;
                eprintln!("error: line {line_no}: {e}");
            }
            LineOutcome::BadUpdate(e) => {
                malformed += 1;
                eprintln!("error: line {line_no}: {e}");
            }
            LineOutcome::VenueError { code } => {
                eprintln!("note: line {line_no}: venue error reply, code {code}")
            }
            LineOutcome::Applied
            | LineOutcome::Stale
            | LineOutcome::Market
            | LineOutcome::Skipped => {}
        }
    }
    let elapsed_ns = clock.now().saturating_sub(started).max(1);
    if args.dump_book {
        if let Err(e) = dump_book(&replay) {
            eprintln!("error: writing the book: {e}");
            return ExitCode::from(1);
        }
    }
    if args.stats {
        print_stats(frames, elapsed_ns, &hist, &replay);
    }
    if gaps > 0 {
        ExitCode::from(3)
    } else if malformed > 0 {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    }
}

fn dump_book(replay: &Replay) -> std::io::Result<()> {
    let inst = replay.instrument();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (side, tag) in [(Side::Bid, 'B'), (Side::Ask, 'A')] {
        for l in replay.book().levels(side) {
            writeln!(
                out,
                "{tag} {} {}",
                l.price.at(inst.price_scale),
                l.qty.at(inst.qty_scale)
            )?;
        }
    }
    out.flush()
}

#[allow(
    clippy::float_arithmetic,
    reason = "throughput figures for people, not prices"
)]
fn print_stats(frames: u64, elapsed_ns: u64, hist: &hdrhistogram::Histogram<u64>, replay: &Replay) {
    let seconds = elapsed_ns as f64 / 1e9;
    let s = replay.sync_stats();
    eprintln!("frames: {frames}");
    eprintln!("seconds: {seconds:.6}");
    eprintln!("frames_per_sec: {:.0}", frames as f64 / seconds);
    eprintln!(
        "decode_apply_ns: p50={} p99={} p99.9={} max={}",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.max()
    );
    eprintln!(
        "sync: applied={} stale={} gaps={} snapshots={} truncated={}",
        s.applied, s.stale, s.gaps, s.snapshots, s.truncated
    );
}
