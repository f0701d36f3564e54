//! `tickwire record`: the engine's connections, with every received text
//! frame, REST snapshot body and connection event written to rotated zstd
//! files under `--out` (one folder per venue; see `tickwire::record`).
//! Stops at `--seconds`, SIGINT or SIGTERM, then ends every file and prints
//! a summary to stderr.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::engine::Engine;
use tickwire::engine::recording::{RecordOptions, attach};
use tickwire::record::Rotation;

use crate::Failure;

/// Arguments of `tickwire record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: crate::source::Source,
    /// The output folder (created; one sub-folder per venue).
    #[arg(long)]
    out: PathBuf,
    /// Stop after this many seconds, at most a year (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
    /// One file per venue per UTC hour or day.
    #[arg(long, default_value = "hourly", value_parser = ["hourly", "daily"])]
    rotate: String,
    /// Start a new file once one reaches this many MiB (compressed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    max_file_mb: Option<u64>,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let config = args.source.engine_config()?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("--out {}: {e}", args.out.display()))?;
    let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
    let mut opts = RecordOptions::new(&args.out);
    opts.rotation = Rotation::parse(&args.rotate).unwrap_or(Rotation::Hourly);
    opts.max_file_bytes = args.max_file_mb.unwrap_or(0) << 20;
    let writer = attach(&mut engine, &opts)
        .spawn()
        .map_err(|e| format!("starting the writer: {e}"))?;
    let handle = engine.spawn().map_err(|e| e.to_string())?;
    let limit = args.seconds.map(Duration::from_secs);
    let started = Instant::now();
    while !stop.requested() && limit.is_none_or(|l| started.elapsed() < l) {
        if writer.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = handle.stop();
    let written = writer
        .join()
        .map_err(|_| "the writer thread panicked".to_owned())?;
    let c = report.counters;
    eprintln!(
        "recorded: {} records, {} files, {} bytes of JSON lines, {} bytes compressed (ratio {}), {} messages, {} reconnects",
        written.records,
        written.files.len(),
        written.raw_bytes,
        written.compressed_bytes,
        ratio(written.raw_bytes, written.compressed_bytes),
        c.messages,
        c.reconnects
    );
    if written.tap.lost > 0 || written.tap.overflowed > 0 {
        eprintln!(
            "lost: {} records (the writer fell behind; each loss is recorded as a `lost` status record); {} oversized records took the overflow queue",
            written.tap.lost, written.tap.overflowed
        );
    }
    if let Some(e) = written.error {
        eprintln!("error: writing the recording: {e}");
        std::process::exit(1);
    }
    Ok(())
}

/// `raw / compressed` with one decimal, in integers.
fn ratio(raw: u64, compressed: u64) -> String {
    let tenths = (raw * 10).checked_div(compressed).unwrap_or(0);
    format!("{}.{}", tenths / 10, tenths % 10)
}
