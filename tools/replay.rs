//! `tickwire replay`: frames from a file through the engine's own decoder,
//! sync state machine and book.
//!
//! Exit status: 2 usage errors (bad flags, unreadable files, a snapshot
//! file that is not a depth snapshot or is larger than
//! [`MAX_SNAPSHOT_BYTES`]); 1 the `--dump-book` output failed (a closed
//! pipe is not a failure); otherwise as [`crate::verdict`] decides: 3 the
//! book cannot be trusted, 4 only malformed lines, 0 consistent.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tickwire::book::{BookError, BookRead, Ladder};
use tickwire::replay::{MAX_LINE_BYTES, MAX_SNAPSHOT_BYTES, Replay, ReplayError, ReplaySpec};
use tickwire::types::{Clock, Instrument, MonotonicClock, RegistryError, Side, Venue};
use tickwire::venue::SnapshotOutcome;

use crate::lines::{Line, Lines};
use crate::verdict::{Verdict, describe};

/// An overlong line is skipped up to its end of line, but reading stops
/// when none comes within this many bytes (16 times the line limit).
const GIVE_UP_BYTES: u64 = 16 * MAX_LINE_BYTES as u64;

/// Arguments of `tickwire replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Venue dialect of the capture (with --recording: which venue's files,
    /// when the recording holds several).
    #[arg(long, value_parser = crate::venues::venue(), required_unless_present = "recording")]
    venue: Option<Venue>,
    /// Symbol to rebuild (other symbols' frames are skipped).
    #[arg(long)]
    symbol: String,
    /// Captured frames: one raw WebSocket text frame per line.
    #[arg(long, required_unless_present = "recording")]
    input: Option<PathBuf>,
    /// A recording of `tickwire record` (a file, a venue's folder or the
    /// whole `--out` folder) instead of --input: replayed with its REST
    /// snapshots and connection events, as the engine ran it.
    #[arg(long, conflicts_with_all = ["input", "snapshot", "tick_size", "lot_size", "depth", "allow_partial"])]
    recording: Option<PathBuf>,
    /// The REST depth snapshot body to sync against (venues that take
    /// snapshots by REST; the others send them in the capture itself).
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Price tick size: the pair's price precision (default: the venue's,
    /// 8 decimals; Kraken 0.1, BTC/USD's).
    #[arg(long, allow_hyphen_values = true)]
    tick_size: Option<String>,
    /// Quantity lot size (default: the venue's, 8 decimals).
    #[arg(long, allow_hyphen_values = true)]
    lot_size: Option<String>,
    /// The subscribed book depth, for venues that cut the book there
    /// (Kraken: 10, 25, 100, 500 or 1000; default 10). Ignored by venues
    /// whose books are not cut.
    #[arg(long)]
    depth: Option<u32>,
    /// Print the final book to stdout: `B <price> <qty>` best first, then `A <price> <qty>`.
    #[arg(long)]
    dump_book: bool,
    /// Print frame counts, throughput and decode+apply latency percentiles to stderr.
    #[arg(long)]
    stats: bool,
    /// Accept a book built without --snapshot (exit 0 rather than 3): it
    /// holds only the levels the diffs touched.
    #[arg(long)]
    allow_partial: bool,
}

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// A bad `--symbol`, `--tick-size` or `--lot-size`, naming the flag.
fn spec_error(e: &ReplayError) -> String {
    let ReplayError::Registry(e) = e else {
        return e.to_string();
    };
    match e {
        RegistryError::BadIncrement { what, text, reason } => {
            let flag = if *what == "tick" {
                "--tick-size"
            } else {
                "--lot-size"
            };
            format!("{flag} {text}: not a positive decimal: {reason}")
        }
        RegistryError::BadSymbol(_) => format!("--symbol: {e}"),
        other => other.to_string(),
    }
}

/// The snapshot body, at most [`MAX_SNAPSHOT_BYTES`].
fn read_snapshot(path: &Path) -> Result<Vec<u8>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut body = Vec::new();
    file.take(MAX_SNAPSHOT_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if body.len() > MAX_SNAPSHOT_BYTES {
        return Err(format!(
            "{}: larger than {MAX_SNAPSHOT_BYTES} bytes, not a depth snapshot",
            path.display()
        ));
    }
    Ok(body)
}

pub(crate) fn run(args: &Args) -> ExitCode {
    if let Some(recording) = &args.recording {
        return crate::recording::replay_recording(&crate::recording::RecordingArgs {
            recording,
            venue: args.venue,
            symbol: &args.symbol,
            dump_book: args.dump_book,
            stats: args.stats,
        });
    }
    let (Some(venue), Some(input)) = (args.venue, args.input.as_ref()) else {
        return usage_error("--venue and --input are required (or --recording)");
    };
    let mut spec = ReplaySpec::new(venue, &args.symbol);
    if let Some(t) = &args.tick_size {
        spec.tick_size.clone_from(t);
    }
    if let Some(l) = &args.lot_size {
        spec.lot_size.clone_from(l);
    }
    if let Some(d) = args.depth {
        let limits = tickwire::venue::profile(venue).snapshot_limits;
        if !limits.allows(d) {
            return usage_error(format_args!("--depth {d}: must be {limits} for {}", venue));
        }
        spec.depth = d;
    }
    let mut replay = match Replay::new(&spec) {
        Ok(r) => r,
        Err(e) => return usage_error(spec_error(&e)),
    };
    let mut verdict = Verdict::new(args.snapshot.is_some(), args.allow_partial);
    if let Some(path) = &args.snapshot {
        if !replay.takes_rest_snapshots() {
            return usage_error(format_args!(
                "--snapshot: {} sends its snapshots in the stream (the capture holds them)",
                venue
            ));
        }
        let body = match read_snapshot(path) {
            Ok(b) => b,
            Err(e) => return usage_error(e),
        };
        match replay.load_snapshot(&body) {
            Err(e) => {
                return usage_error(format_args!(
                    "{}: not a usable depth snapshot: {e}",
                    path.display()
                ));
            }
            Ok(SnapshotOutcome::BadSnapshot(BookError::Crossed)) => {
                // Should the sync refuse a crossed snapshot itself.
                eprintln!(
                    "crossed: snapshot {}: refused by the book as crossed; the book stays empty",
                    path.display()
                );
                verdict.refused_snapshot();
            }
            Ok(SnapshotOutcome::BadSnapshot(e)) => {
                eprintln!(
                    "error: {}: snapshot refused by the book: {}; the book stays empty",
                    path.display(),
                    describe(e, replay.instrument())
                );
                verdict.refused_snapshot();
            }
            Ok(_) => verdict.after_snapshot(&replay),
        }
    }
    let file = match std::fs::File::open(input) {
        Ok(f) => f,
        Err(e) => return usage_error(format_args!("cannot read {}: {e}", input.display())),
    };
    let clock = MonotonicClock::new();
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .expect("valid bounds");
    let mut frames = 0u64;
    let started = clock.now();
    let mut lines = Lines::new(BufReader::new(file), MAX_LINE_BYTES, GIVE_UP_BYTES);
    let mut line_no = 0u64;
    loop {
        let line = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => return usage_error(format_args!("reading {}: {e}", input.display())),
        };
        line_no += 1;
        let line = match line {
            Line::Text(t) => t,
            Line::TooLong {
                abandoned: false, ..
            } => {
                verdict.malformed(
                    line_no,
                    format_args!("longer than {MAX_LINE_BYTES} bytes (no venue frame is); skipped"),
                );
                continue;
            }
            Line::TooLong {
                bytes,
                abandoned: true,
            } => {
                verdict.malformed(
                    line_no,
                    format_args!(
                        "no end of line within {bytes} bytes; the rest of the input is not read"
                    ),
                );
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        frames += 1;
        let t0 = clock.now();
        let outcome = replay.handle_line(line, t0);
        let _ = hist.record(clock.now().saturating_sub(t0).max(1));
        verdict.on_line(line_no, outcome, &replay);
    }
    let elapsed_ns = clock.now().saturating_sub(started).max(1);
    if args.dump_book {
        if let Err(e) = dump_book(&replay) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: writing the book to standard output: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if args.stats {
        print_stats(frames, elapsed_ns, &hist, &replay);
    }
    verdict.finish(&replay, spec.capacity)
}

fn dump_book(replay: &Replay) -> std::io::Result<()> {
    write_book(replay.book(), replay.instrument())
}

/// `--dump-book`: a `B price qty` line per bid, then an `A` line per ask,
/// best first, at the instrument's scales.
pub(crate) fn write_book(book: &Ladder, inst: &Instrument) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (side, tag) in [(Side::Bid, 'B'), (Side::Ask, 'A')] {
        for l in book.levels(side) {
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

/// `--stats`' throughput lines: frames, seconds, frames per second and the
/// decode + apply time per frame.
#[allow(
    clippy::float_arithmetic,
    reason = "throughput figures for people, not prices"
)]
pub(crate) fn print_timing(frames: u64, elapsed_ns: u64, hist: &hdrhistogram::Histogram<u64>) {
    let seconds = elapsed_ns as f64 / 1e9;
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
}

fn print_stats(frames: u64, elapsed_ns: u64, hist: &hdrhistogram::Histogram<u64>, replay: &Replay) {
    print_timing(frames, elapsed_ns, hist);
    let s = replay.sync_stats();
    eprintln!(
        "sync: applied={} stale={} gaps={} snapshots={} truncated={}",
        s.applied, s.stale, s.gaps, s.snapshots, s.truncated
    );
}
