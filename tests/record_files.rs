//! The recording writer's files: rotation by time (on a manual clock) and
//! by size, names that sort in time order, and a file cut off mid-way (the
//! writer killed before it could end its last frame, and the last bytes
//! lost) that still yields every record up to the last ended frame.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tickwire::record::read::{Record, Records};
use tickwire::record::writer::{Writer, WriterConfig, recording_files};
use tickwire::record::{Kind, NO_INSTRUMENT, RecordTap, Rotation, TapHeader, record_channel};
use tickwire::types::{Clock, ManualClock, Nanos, Venue};

const SEC: Nanos = 1_000_000_000;
/// 2026-12-01T05:59:00Z.
const WALL: Nanos = 1_796_104_740 * SEC;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn writer(dir: &Path, rotation: Rotation, max: u64) -> (RecordTap, Writer) {
    let (tap, drain) = record_channel(1 << 20);
    let cfg = WriterConfig {
        dir: dir.to_owned(),
        rotation,
        max_file_bytes: max,
        // Frames are ended by hand in these tests.
        flush_every: Duration::from_secs(3_600),
        level: 3,
        mono_offset_ns: WALL,
        headers: vec![(Venue::Okx, "{\"event\":\"start\",\"test\":true}".to_owned())],
        symbols: vec!["BTC-USDT".to_owned()],
    };
    (tap, Writer::new(cfg, drain))
}

fn frame(ns: Nanos) -> TapHeader {
    TapHeader {
        kind: Kind::Frame,
        venue: Venue::Okx,
        conn: 0,
        instrument: NO_INSTRUMENT,
        recv_ns: ns,
    }
}

/// Text that compresses badly (so sizes grow), numbered `n`.
fn text(n: u64, len: usize) -> String {
    let mut s = format!("{{\"n\":{n},\"x\":\"");
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(char::from(b'a' + (x % 26) as u8));
    }
    s.push_str("\"}");
    s
}

fn read_all(files: Vec<PathBuf>) -> (Vec<Record>, Vec<PathBuf>) {
    let mut r = Records::new(files);
    let out: Vec<Record> = r.by_ref().map(|x| x.expect("record")).collect();
    (out, r.truncated().to_vec())
}

#[test]
fn files_rotate_at_the_utc_hour_on_a_manual_clock() {
    let dir = scratch("rotate-time");
    let (mut tap, mut w) = writer(&dir, Rotation::Hourly, 0);
    let clock = ManualClock::new(0);
    for n in 0..120u64 {
        // One record a second, across 06:00:00Z.
        assert!(tap.record(frame(clock.now()), text(n, 100).as_bytes()));
        clock.advance(SEC);
        w.pump();
    }
    drop(tap);
    let report = w.finish();
    assert_eq!(report.error, None);
    let names: Vec<String> = report
        .files
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["20261201T05Z-0000.jsonl.zst", "20261201T06Z-0000.jsonl.zst"]
    );
    let files = recording_files(&dir, Some(Venue::Okx)).expect("list");
    assert_eq!(files, report.files);
    let (first, _) = read_all(vec![files[0].clone()]);
    let (second, _) = read_all(vec![files[1].clone()]);
    // Each file starts with the venue's `start` record; 60 frames each.
    for f in [&first, &second] {
        assert_eq!(f[0].kind, Kind::Status);
        assert_eq!(f[0].data, "{\"event\":\"start\",\"test\":true}");
        assert_eq!(f.len(), 61);
    }
    assert_eq!(first[1].recv_ns, WALL);
    assert_eq!(first[1].data, text(0, 100));
    assert_eq!(second[1].recv_ns, WALL + 60 * SEC);
    assert_eq!(second[60].data, text(119, 100));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_file_is_cut_and_the_files_read_back_in_order() {
    let dir = scratch("rotate-size");
    let (mut tap, mut w) = writer(&dir, Rotation::Daily, 8 << 10);
    for n in 0..200u64 {
        assert!(tap.record(frame(n * 1_000), text(n, 300).as_bytes()));
        w.pump();
        if n % 10 == 9 {
            w.end_frames().expect("flush");
        }
    }
    drop(tap);
    let report = w.finish();
    assert_eq!(report.error, None);
    assert!(report.files.len() >= 3, "{:?}", report.files);
    let files = recording_files(&dir, None).expect("list");
    assert_eq!(
        files, report.files,
        "names sort in the order they were written"
    );
    for f in &files {
        // The limit is checked before each record: a file passes it by at
        // most what was buffered since the last ended frame.
        let len = std::fs::metadata(f).expect("file").len();
        assert!(len < 16 << 10, "{f:?}: {len}");
    }
    let (records, truncated) = read_all(files);
    assert!(truncated.is_empty());
    let frames: Vec<&Record> = records.iter().filter(|r| r.kind == Kind::Frame).collect();
    assert_eq!(frames.len(), 200);
    for (n, r) in frames.iter().enumerate() {
        assert_eq!(r.data, text(n as u64, 300));
    }
    assert_eq!(
        records.iter().filter(|r| r.kind == Kind::Status).count(),
        report.files.len(),
        "one start record a file"
    );
    assert!(report.compressed_bytes < report.raw_bytes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_cut_off_mid_way_replays_up_to_the_last_ended_frame() {
    let dir = scratch("cut");
    let (mut tap, mut w) = writer(&dir, Rotation::Daily, 0);
    for n in 0..50u64 {
        assert!(tap.record(frame(n), text(n, 200).as_bytes()));
        w.pump();
        if n % 10 == 9 {
            w.end_frames().expect("flush");
        }
    }
    // Ten more records go into a frame that is never ended…
    for n in 50..60u64 {
        assert!(tap.record(frame(n), text(n, 200).as_bytes()));
        w.pump();
    }
    let path = recording_files(&dir, None).expect("list").remove(0);
    let ended = std::fs::metadata(&path).expect("file").len();
    // …and the writer dies: nothing more reaches the file.
    std::mem::forget(w);
    // A few bytes of the last ended frame are lost too, as a torn write would.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(ended - 5).expect("truncate");
    let (records, truncated) = read_all(vec![path.clone()]);
    assert_eq!(truncated, [path]);
    let frames: Vec<&Record> = records.iter().filter(|r| r.kind == Kind::Frame).collect();
    // Frames 0..40 were in ended frames that survived whole; the last
    // ended frame (40..50) lost its end, and whatever of it decoded is
    // whole lines only.
    assert!(frames.len() >= 40 && frames.len() <= 50, "{}", frames.len());
    for (n, r) in frames.iter().enumerate() {
        assert_eq!(r.data, text(n as u64, 200), "record {n}");
    }
    drop(tap);
    let _ = std::fs::remove_dir_all(&dir);
}
