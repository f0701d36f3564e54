//! `tickwire record`: the engine's connections, with every received text
//! frame, REST snapshot body and connection event written to rotated zstd
//! files under `--out` (one folder per venue; see `tickwire::record`).
//! Stops at `--seconds`, SIGINT or SIGTERM, then ends every file and prints
//! a summary to stderr.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection, VenueSection};
use tickwire::engine::Engine;
use tickwire::engine::recording::{RecordOptions, attach};
use tickwire::record::Rotation;

use crate::Failure;

/// Arguments of `tickwire record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A TOML configuration (instead of --venue/--symbols).
    #[arg(long, conflicts_with_all = ["venue", "symbols", "ws_url", "rest_url"])]
    config: Option<PathBuf>,
    /// The venue.
    #[arg(long, value_parser = crate::venues::venue(), required_unless_present = "config")]
    venue: Option<tickwire::types::Venue>,
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', required_unless_present = "config")]
    symbols: Vec<String>,
    /// WebSocket base URL (default: the venue's production endpoint).
    #[arg(long)]
    ws_url: Option<String>,
    /// REST base URL (default: the venue's production endpoint).
    #[arg(long)]
    rest_url: Option<String>,
    /// Extra CA certificate (PEM) to trust, e.g. the simulator's.
    #[arg(long)]
    ca_file: Option<PathBuf>,
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

fn config(args: &Args) -> Result<tickwire::config::EngineConfig, String> {
    if let Some(path) = &args.config {
        return Config::load(path)
            .and_then(|c| c.validate())
            .map_err(|e| e.to_string());
    }
    let venue = args.venue.ok_or("--venue is required")?;
    Config {
        engine: EngineSection::default(),
        venues: vec![VenueSection {
            ws_url: args.ws_url.clone(),
            rest_url: args.rest_url.clone(),
            ca_file: args.ca_file.clone(),
            symbols: args.symbols.clone(),
            ..VenueSection::new(venue)
        }],
        risk: Default::default(),
    }
    .validate()
    .map_err(crate::tap::flag_error)
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let config = config(args)?;
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
