//! Recordings on the command line: finding a recording's files for one
//! venue, and `tickwire replay --recording`.
//!
//! Exit status of `replay --recording`: 2 usage errors (no such recording,
//! several venues and no `--venue`, a symbol the recording does not hold, a
//! first record that is not a `start` record); 1 the `--dump-book` output
//! failed; 3 the final book cannot be trusted (records the recorder lost,
//! a book not synced at the end, a crossed book at the end, or a replay
//! that diverged from what the engine sent); 4 only records that could not
//! be read; 0 otherwise. A gap or checksum mismatch the engine repaired
//! (the recording holds the resync and the new snapshot) is reported but
//! does not make the final book untrusted; a file cut off mid-way (the
//! recorder was killed) is reported and replayed up to its last complete
//! record.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tickwire::record::read::Records;
use tickwire::record::writer::recording_files;
use tickwire::replay::recording::{RecordingReplay, Step};
use tickwire::ring::Discard;
use tickwire::types::{Clock, InstrumentId, MonotonicClock, Venue};
use tickwire::venue::{DiffOutcome, FrameKind};

/// The venue and files of a recording (`path`: one file, a venue's
/// folder, or the folder `tickwire record --out` wrote).
pub(crate) fn open_recording(
    path: &Path,
    venue: Option<Venue>,
) -> Result<(Venue, Vec<PathBuf>), String> {
    if !path.exists() {
        return Err(format!(
            "--recording {}: no such file or folder",
            path.display()
        ));
    }
    let all =
        recording_files(path, None).map_err(|e| format!("--recording {}: {e}", path.display()))?;
    let venue_of = |p: &PathBuf| -> Option<Venue> {
        let from_dir = p
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|n| Venue::from_name(&n.to_string_lossy()));
        from_dir.or_else(|| {
            Records::of_file(p)
                .next()
                .and_then(Result::ok)
                .map(|r| r.venue)
        })
    };
    let mut venues: Vec<Venue> = all.iter().filter_map(venue_of).collect();
    venues.sort_by_key(|v| *v as u8);
    venues.dedup();
    let venue = match (venue, venues.as_slice()) {
        (Some(v), _) if venues.contains(&v) => v,
        (Some(v), _) => {
            return Err(format!(
                "--recording {}: nothing recorded for {v}",
                path.display()
            ));
        }
        (None, [one]) => *one,
        (None, []) => {
            return Err(format!(
                "--recording {}: no recording files (*.jsonl.zst)",
                path.display()
            ));
        }
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|v| v.name()).collect();
            return Err(format!(
                "--recording {}: several venues ({}): pass --venue",
                path.display(),
                names.join(", ")
            ));
        }
    };
    let files = all
        .into_iter()
        .filter(|p| venue_of(p) == Some(venue))
        .collect();
    Ok((venue, files))
}

/// What `replay --recording` was asked.
#[derive(Debug)]
pub(crate) struct RecordingArgs<'a> {
    pub(crate) recording: &'a Path,
    pub(crate) venue: Option<Venue>,
    pub(crate) symbol: &'a str,
    pub(crate) dump_book: bool,
    pub(crate) stats: bool,
}

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// The first record of `records` that is not a read error.
fn start(records: &mut Records) -> Option<tickwire::record::read::Record> {
    records.find_map(Result::ok)
}

pub(crate) fn replay_recording(args: &RecordingArgs<'_>) -> ExitCode {
    let (venue, files) = match open_recording(args.recording, args.venue) {
        Ok(x) => x,
        Err(e) => return usage_error(e),
    };
    let mut records = Records::new(files);
    let Some(first) = start(&mut records) else {
        return usage_error(format_args!(
            "--recording {}: no records",
            args.recording.display()
        ));
    };
    let mut replay = match RecordingReplay::new(&first) {
        Ok(r) => r,
        Err(e) => {
            return usage_error(format_args!(
                "--recording {}: {e}",
                args.recording.display()
            ));
        }
    };
    let Some(inst) = replay
        .registry()
        .lookup(venue, args.symbol.as_bytes())
        .map(|i| i.id)
    else {
        return usage_error(format_args!(
            "--symbol {}: not in the recording of {venue}",
            args.symbol
        ));
    };
    let clock = MonotonicClock::new();
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .expect("valid bounds");
    let started = clock.now();
    let (mut n, mut malformed, mut crossed_now) = (1u64, 0u64, false);
    for rec in records.by_ref() {
        n += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                malformed += 1;
                eprintln!("error: record {n}: {e}");
                continue;
            }
        };
        let t0 = clock.now();
        let step = replay.handle(&rec, &mut Discard::default());
        let _ = hist.record(clock.now().saturating_sub(t0).max(1));
        report_step(n, &step, inst, &replay);
        if matches!(step, Step::Frame(Ok(FrameKind::Depth(i, _))) | Step::Rest(i, _) if i == inst) {
            let crossed = replay.crossed(inst);
            if let (Some((bid, ask)), false) = (crossed, crossed_now) {
                let i = replay.registry().get(inst);
                eprintln!(
                    "crossed: record {n}: best bid {} >= best ask {}",
                    bid.price.at(i.price_scale),
                    ask.price.at(i.price_scale)
                );
            }
            crossed_now = crossed.is_some();
        }
    }
    for f in records.truncated() {
        eprintln!(
            "truncated: {} ends mid-way (the recorder was cut off); every complete record before the cut was replayed",
            f.display()
        );
    }
    let elapsed_ns = clock.now().saturating_sub(started).max(1);
    if args.dump_book {
        if let Err(e) = dump_book(&replay, inst) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: writing the book to standard output: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let stats = replay.stats();
    if args.stats {
        print_stats(&replay, inst, elapsed_ns, &hist);
    }
    let mut untrusted = false;
    if stats.lost > 0 {
        eprintln!(
            "lost: the recorder lost {} records: the book may differ from the engine's",
            stats.lost
        );
        untrusted = true;
    }
    if stats.sent_mismatches > 0 {
        eprintln!(
            "diverged: {} sent texts were not what the session sends on replay",
            stats.sent_mismatches
        );
        untrusted = true;
    }
    if !replay.is_synced(inst) {
        eprintln!(
            "partial: the book of {} was not synced at the end of the recording",
            args.symbol
        );
        untrusted = true;
    }
    if crossed_now {
        untrusted = true;
    }
    if untrusted {
        ExitCode::from(3)
    } else if malformed > 0 {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    }
}

/// The per-record reports about `inst` (and the recorder's losses).
fn report_step(n: u64, step: &Step, inst: InstrumentId, replay: &RecordingReplay) {
    match step {
        Step::Frame(Ok(FrameKind::Depth(i, outcome))) if *i == inst => match outcome {
            DiffOutcome::Gap { expected, got } => eprintln!(
                "gap: record {n}: expected update id {expected}, got {got}; the engine resynced"
            ),
            DiffOutcome::ChecksumMismatch { venue, book } => eprintln!(
                "checksum: record {n}: the venue's checksum is {venue}, the book's {book}; the engine resynced"
            ),
            DiffOutcome::BadUpdate(e) => {
                let i = replay.registry().get(inst);
                eprintln!("error: record {n}: {}", e.show(i.price_scale, i.qty_scale));
            }
            _ => {}
        },
        Step::Frame(Ok(FrameKind::VenueError(code))) => {
            eprintln!("note: record {n}: venue error reply, code {code}")
        }
        Step::Frame(Err(e)) => {
            eprintln!("note: record {n}: frame refused by the decoder (as live): {e}")
        }
        Step::Rest(i, Err(e)) if *i == inst => {
            eprintln!("note: record {n}: snapshot body refused (as live): {e}")
        }
        Step::Lost(k) => eprintln!("lost: record {n}: the recorder lost {k} records here"),
        _ => {}
    }
}

fn dump_book(replay: &RecordingReplay, inst: InstrumentId) -> std::io::Result<()> {
    match replay.book(inst) {
        Some(book) => crate::replay::write_book(book, replay.registry().get(inst)),
        None => Ok(()),
    }
}

fn print_stats(
    replay: &RecordingReplay,
    inst: InstrumentId,
    elapsed_ns: u64,
    hist: &hdrhistogram::Histogram<u64>,
) {
    let r = replay.stats();
    let s = replay.sync_stats(inst);
    eprintln!("records: {}", r.records);
    crate::replay::print_timing(r.frames, elapsed_ns, hist);
    eprintln!(
        "sync: applied={} stale={} gaps={} snapshots={} truncated={} resyncs={}",
        s.applied, s.stale, s.gaps, s.snapshots, s.truncated, s.resyncs
    );
    eprintln!(
        "recording: rest={} connections={} sent={} lost={} skipped={}",
        r.rest, r.connections, r.sent, r.lost, r.skipped
    );
}
