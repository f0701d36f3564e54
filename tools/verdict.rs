//! What `tickwire replay` concludes from a capture: the per-line reports on
//! standard error (`gap:`, `checksum:`, `error:`, `crossed:`, `note:`), the end-of-run
//! reports (`partial:`, `stale:`, `truncated:`), and the exit status.
//!
//! Exit status, first match wins: 3 when the book cannot be trusted (a
//! sequence gap, a checksum mismatch, a snapshot the book refused, a crossed
//! book at any point,
//! a book that stopped advancing because every diff after some point was
//! stale, or a book built without a snapshot and without
//! `--allow-partial`); 4 when the only trouble was lines that could not be
//! decoded or applied; 0 otherwise. (Usage errors, 2, and a failed
//! `--dump-book`, 1, are decided before.)

use std::process::ExitCode;

use tickwire::book::{BookError, Level};
use tickwire::replay::{LineOutcome, Replay};
use tickwire::types::Instrument;

/// The running verdict of one replay.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// A snapshot was loaded (refused or not).
    has_snapshot: bool,
    /// A book without a snapshot is accepted.
    allow_partial: bool,
    /// The snapshot was refused by the book.
    refused: bool,
    gaps: u64,
    malformed: u64,
    /// Diffs that moved the chain on (applied, applied over a gap, or refused).
    advanced: u64,
    /// Line of the last diff that moved the chain on.
    last_advance: Option<u64>,
    /// Stale diffs since the chain last moved on, and the first of them.
    stale_run: u64,
    first_stale: u64,
    /// Times the book became crossed, and whether it is now.
    crossings: u64,
    crossed_now: bool,
    /// Books discarded because their checksum was not the venue's.
    checksum_mismatches: u64,
    /// Updates dropped before the first snapshot on the stream.
    waiting: u64,
}

/// `book` refused a level: which, and why, in the instrument's units
/// (`bid level 1: price 100.02 is not on the tick grid (tick 0.05)`).
pub(crate) fn describe(e: BookError, inst: &Instrument) -> String {
    e.show(inst.price_scale, inst.qty_scale).to_string()
}

impl Verdict {
    /// A verdict for a replay with or without a snapshot.
    pub(crate) fn new(has_snapshot: bool, allow_partial: bool) -> Verdict {
        Verdict {
            has_snapshot,
            allow_partial,
            ..Verdict::default()
        }
    }

    /// The snapshot was refused by the book (the error is reported by the caller).
    pub(crate) fn refused_snapshot(&mut self) {
        self.refused = true;
    }

    /// After the snapshot: a crossed one is reported.
    pub(crate) fn after_snapshot(&mut self, replay: &Replay) {
        self.check_crossed(replay, "snapshot");
    }

    /// A line that could not be read whole or decoded.
    pub(crate) fn malformed(&mut self, line_no: u64, message: impl std::fmt::Display) {
        self.malformed += 1;
        eprintln!("error: line {line_no}: {message}");
    }

    /// Reports what line `line_no` did.
    pub(crate) fn on_line(&mut self, line_no: u64, outcome: LineOutcome, replay: &Replay) {
        match outcome {
            LineOutcome::Gap { expected, got } => {
                self.gaps += 1;
                eprintln!("gap: line {line_no}: expected update id {expected}, got {got}");
                self.advance(line_no);
                self.check_crossed(replay, &format!("line {line_no}"));
            }
            LineOutcome::Snapshot => {
                self.has_snapshot = true;
                self.advance(line_no);
                self.check_crossed(replay, &format!("snapshot at line {line_no}"));
            }
            LineOutcome::Applied => {
                self.advance(line_no);
                self.check_crossed(replay, &format!("line {line_no}"));
            }
            LineOutcome::BadUpdate(e) => {
                self.advance(line_no);
                self.malformed(line_no, describe(e, replay.instrument()));
            }
            LineOutcome::Malformed(e) => self.malformed(line_no, e),
            LineOutcome::Stale => {
                if self.stale_run == 0 {
                    self.first_stale = line_no;
                }
                self.stale_run += 1;
            }
            LineOutcome::VenueError { code } => {
                eprintln!("note: line {line_no}: venue error reply, code {code}")
            }
            LineOutcome::ChecksumMismatch { venue, book } => {
                self.checksum_mismatches += 1;
                eprintln!(
                    "checksum: line {line_no}: the venue's checksum is {venue}, the book's {book}; \
                     the book is discarded until the next snapshot"
                );
            }
            LineOutcome::Waiting => self.waiting += 1,
            LineOutcome::Market | LineOutcome::Skipped => {}
        }
    }

    fn advance(&mut self, line_no: u64) {
        self.advanced += 1;
        self.last_advance = Some(line_no);
        self.stale_run = 0;
    }

    fn check_crossed(&mut self, replay: &Replay, at: &str) {
        let crossed = replay.crossed();
        if let (Some((bid, ask)), false) = (crossed, self.crossed_now) {
            self.crossings += 1;
            let inst = replay.instrument();
            let price = |l: Level| l.price.at(inst.price_scale);
            eprintln!(
                "crossed: {at}: best bid {} >= best ask {}",
                price(bid),
                price(ask)
            );
        }
        self.crossed_now = crossed.is_some();
    }

    /// Prints the end-of-run reports and returns the exit status.
    pub(crate) fn finish(&self, replay: &Replay, capacity: usize) -> ExitCode {
        let partial = !self.has_snapshot && self.advanced > 0 && !self.allow_partial;
        if partial {
            eprintln!(
                "partial: no --snapshot: the book holds only the levels {} diffs touched (--allow-partial accepts that)",
                self.advanced
            );
        }
        // A refused snapshot leaves nothing to advance from; it is reported already.
        let stale = self.stale_run > 0 && !self.refused;
        if stale {
            let id = replay.last_id().map_or("-".to_owned(), |id| id.to_string());
            let source = self.last_advance.map_or_else(
                || "the snapshot's lastUpdateId".to_owned(),
                |l| format!("set by line {l}"),
            );
            eprintln!(
                "stale: {} diffs from line {} on are older than the book's update id {id} ({source}); the book stopped advancing",
                self.stale_run, self.first_stale
            );
        }
        let truncated = replay.sync_stats().truncated;
        if truncated > 0 {
            eprintln!(
                "truncated: {truncated} levels did not fit the book's capacity of {capacity} a side (the deepest were dropped)"
            );
        }
        let no_snapshot = self.waiting > 0 && !self.has_snapshot && !self.allow_partial;
        if no_snapshot {
            eprintln!(
                "partial: no snapshot in the input: its {} updates have no book to apply to",
                self.waiting
            );
        } else if self.waiting > 0 {
            eprintln!(
                "note: {} updates without a book (before a snapshot in the input) were skipped",
                self.waiting
            );
        }
        if self.gaps > 0
            || self.refused
            || self.crossings > 0
            || self.checksum_mismatches > 0
            || stale
            || partial
            || no_snapshot
        {
            ExitCode::from(3)
        } else if self.malformed > 0 {
            ExitCode::from(4)
        } else {
            ExitCode::SUCCESS
        }
    }
}
