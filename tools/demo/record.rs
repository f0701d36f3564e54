//! `demo --record DIR`: the demo's engine also records everything it
//! receives, as `tickwire record` does. When the demo stops, the recording
//! is replayed through the engine's own sessions, and each replayed book is
//! compared with the book the demo's consumer built live from the engine's
//! events. The report says how many books are identical, and names any
//! that are not.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use tickwire::book::same_levels;
use tickwire::consumer::BookMirror;
use tickwire::engine::Engine;
use tickwire::engine::recording::{RecordOptions, attach};
use tickwire::record::read::Records;
use tickwire::record::writer::{WriterReport, recording_files};
use tickwire::replay::recording::replay_all;
use tickwire::ring::Discard;
use tickwire::types::{Registry, Venue};

use crate::live::ReportExtra;

/// The recording in progress.
pub(crate) struct DemoRecorder {
    dir: PathBuf,
    writer: JoinHandle<WriterReport>,
}

/// What the replay of the recording showed.
#[derive(Debug, Default)]
struct Verdict {
    records: u64,
    files: usize,
    lost: u64,
    /// Books compared (the live book was consistent at the end).
    compared: usize,
    identical: usize,
    /// Books not compared: the consumer's book was not consistent when the
    /// demo stopped (a resync in progress).
    skipped: usize,
    /// Symbols whose replayed book differs from the live one.
    differ: Vec<String>,
    /// Files cut off mid-way.
    truncated: usize,
    error: Option<String>,
}

impl DemoRecorder {
    /// Attaches a recorder writing under `dir` to `engine` (before it is
    /// spawned) and starts the writer thread.
    pub(crate) fn start(engine: &mut Engine, dir: &Path) -> Result<DemoRecorder, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--record {}: {e}", dir.display()))?;
        let writer = attach(engine, &RecordOptions::new(dir))
            .spawn()
            .map_err(|e| format!("starting the recording writer: {e}"))?;
        Ok(DemoRecorder {
            dir: dir.to_owned(),
            writer,
        })
    }

    /// After the engine has stopped: ends the files, replays them and
    /// compares every book with `live`.
    pub(crate) fn finish(self, registry: &Registry, live: &BookMirror) -> ReportExtra {
        let mut v = Verdict::default();
        match self.writer.join() {
            Ok(w) => {
                v.records = w.records;
                v.files = w.files.len();
                v.lost = w.tap.lost;
                v.error = w.error;
            }
            Err(_) => v.error = Some("the writer thread panicked".to_owned()),
        }
        if v.error.is_none() {
            compare(&self.dir, registry, live, &mut v);
        }
        report(&self.dir, &v)
    }
}

/// Replays each venue's files and compares its books with `live`.
fn compare(dir: &Path, registry: &Registry, live: &BookMirror, v: &mut Verdict) {
    let mut venues: Vec<Venue> = registry.iter().map(|i| i.venue).collect();
    venues.dedup();
    for venue in venues {
        let files = match recording_files(dir, Some(venue)) {
            Ok(f) => f,
            Err(e) => {
                v.error = Some(format!("listing the recording of {venue}: {e}"));
                return;
            }
        };
        let mut records = Records::new(files);
        let replay = match replay_all(
            records.by_ref().map_while(Result::ok),
            &mut Discard::default(),
        ) {
            Ok(r) => r,
            Err(e) => {
                v.error = Some(format!("replaying the recording of {venue}: {e}"));
                return;
            }
        };
        v.truncated += records.truncated().len();
        for inst in registry.iter().filter(|i| i.venue == venue) {
            if !live.is_consistent(inst.id) {
                v.skipped += 1;
                continue;
            }
            v.compared += 1;
            let same = match (live.book(inst.id), replay.book(inst.id)) {
                (Some(a), Some(b)) => same_levels(a, b),
                _ => false,
            };
            if same {
                v.identical += 1;
            } else {
                v.differ.push(format!("{venue} {}", inst.symbol.as_str()));
            }
        }
    }
}

/// The `"recording"` JSON member and its text lines.
fn report(dir: &Path, v: &Verdict) -> ReportExtra {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let differ: Vec<String> = v.differ.iter().map(|s| quote(s)).collect();
    let error = v
        .error
        .as_ref()
        .map(|e| format!(",\"error\":{}", quote(e)))
        .unwrap_or_default();
    let json = format!(
        "\"recording\":{{\"dir\":{},\"records\":{},\"files\":{},\"lost\":{},\"truncated_files\":{},\"books_compared\":{},\"books_identical\":{},\"books_skipped\":{},\"differ\":[{}]{error}}}",
        quote(&dir.display().to_string()),
        v.records,
        v.files,
        v.lost,
        v.truncated,
        v.compared,
        v.identical,
        v.skipped,
        differ.join(",")
    );
    let mut text = format!(
        "recording: {} records in {} files under {} ({} lost); replayed books identical to the live ones: {} of {}",
        v.records,
        v.files,
        dir.display(),
        v.lost,
        v.identical,
        v.compared
    );
    if v.skipped > 0 {
        text.push_str(&format!(
            " ({} not compared: resyncing when the demo stopped)",
            v.skipped
        ));
    }
    text.push('\n');
    if !v.differ.is_empty() {
        text.push_str(&format!(
            "recording: books that differ: {}\n",
            v.differ.join(", ")
        ));
    }
    if let Some(e) = &v.error {
        text.push_str(&format!("recording: error: {e}\n"));
    }
    ReportExtra { json, text }
}
