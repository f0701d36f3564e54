//! `tickwire export --recording … --symbol S --format tardis-incremental-l2`:
//! a recording replayed as the engine ran it, with every level change of
//! the symbol's book written to standard output as tardis.dev
//! `incremental_book_L2` CSV (see `tickwire::replay::tardis`).
//!
//! Exit status: 2 usage errors (as `replay --recording`), 1 writing the
//! output failed (a closed pipe is not a failure), 0 otherwise; read
//! errors and cut-off files are reported on stderr.

use std::path::PathBuf;

use tickwire::record::read::Records;
use tickwire::replay::recording::RecordingReplay;
use tickwire::replay::tardis::TardisRows;
use tickwire::types::Venue;

use crate::Failure;

/// Arguments of `tickwire export`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A recording of `tickwire record` (a file, a venue's folder or the `--out` folder).
    #[arg(long)]
    recording: PathBuf,
    /// The venue, when the recording holds several.
    #[arg(long, value_parser = crate::venues::venue())]
    venue: Option<Venue>,
    /// The symbol whose book changes are written.
    #[arg(long)]
    symbol: String,
    /// The output format.
    #[arg(long, value_parser = ["tardis-incremental-l2"])]
    format: String,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let (venue, files) = crate::recording::open_recording(&args.recording, args.venue)?;
    let mut records = Records::new(files);
    let first = records
        .find_map(Result::ok)
        .ok_or_else(|| format!("--recording {}: no records", args.recording.display()))?;
    let mut replay = RecordingReplay::new(&first)
        .map_err(|e| format!("--recording {}: {e}", args.recording.display()))?;
    let inst = *replay
        .registry()
        .lookup(venue, args.symbol.as_bytes())
        .ok_or_else(|| format!("--symbol {}: not in the recording of {venue}", args.symbol))?;
    let offset = replay.wall_time(0);
    let stdout = std::io::stdout();
    let mut rows = TardisRows::new(std::io::BufWriter::new(stdout.lock()), inst, offset);
    rows.header();
    let mut n = 1u64;
    for rec in records.by_ref() {
        n += 1;
        match rec {
            Ok(r) => {
                replay.handle(&r, &mut rows);
            }
            Err(e) => eprintln!("error: record {n}: {e}"),
        }
        if rows.error.is_some() {
            break;
        }
    }
    for f in records.truncated() {
        eprintln!(
            "truncated: {} ends mid-way (the recorder was cut off); every complete record before the cut was exported",
            f.display()
        );
    }
    match rows.finish() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Output(e)),
    }
}
