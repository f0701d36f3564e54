//! `tickwire record` end to end: the engine records against the simulator
//! over wss:// for every venue while faults are injected (a gap, a bad
//! checksum, a malformed frame, a dropped connection, a refused snapshot),
//! and the recording, replayed through the same sessions, rebuilds exactly
//! the books the engine published live (a consumer's mirror) with the same
//! gaps, resyncs and snapshots.

mod live;

use std::path::PathBuf;
use std::time::Duration;

use live::{Mirror, config_for, sim, symbols};
use tickwire::book::same_levels;
use tickwire::engine::Engine;
use tickwire::engine::recording::{RecordOptions, attach};
use tickwire::record::read::Records;
use tickwire::record::writer::recording_files;
use tickwire::replay::recording::{RecordingReplay, replay_all};
use tickwire::replay::tardis::TardisRows;
use tickwire::ring::Discard;
use tickwire::sim::Fault;
use tickwire::types::{StatusCode, Venue};

const LIMIT: Duration = Duration::from_secs(20);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Records `venue` through faults; replays; compares with the live mirror.
fn record_and_replay(venue: Venue) {
    let dir = scratch(&format!("rec-{venue}"));
    let sim = sim(venue, true, 3_000);
    let config = config_for(&sim, venue).validate().expect("valid");
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config).expect("engine");
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let mut opts = RecordOptions::new(&dir);
    // Small files: size rotation happens within the test too.
    opts.max_file_bytes = 256 << 10;
    let writer = attach(&mut engine, &opts).spawn().expect("writer");
    let handle = engine.spawn().expect("spawn");
    let mut m = Mirror::new(consumer, registry.clone(), capacity);
    assert!(
        m.until(LIMIT, |m| m.all_consistent() && m.events > 500),
        "{venue}: never synced: {:?}",
        m.statuses
    );
    let [first, _] = symbols(venue);
    if matches!(venue, Venue::BinanceSpot | Venue::BinanceUsdm) {
        sim.inject(Fault::RefuseSnapshots(1));
    }
    let mark = m.statuses.len();
    sim.inject(Fault::Gap(Some(first.to_owned())));
    let detected = |m: &Mirror| {
        m.statuses[mark..]
            .iter()
            .any(|s| matches!(s.1, StatusCode::Gap | StatusCode::ChecksumMismatch))
    };
    // Coinbase and Kraken may not number what a gap skips: any later fault
    // still exercises the recovery paths.
    let _ = m.until(Duration::from_secs(3), |m| {
        detected(m) && m.all_consistent()
    });
    if matches!(venue, Venue::Okx | Venue::Kraken) {
        sim.inject(Fault::BadChecksum(Some(first.to_owned())));
        let mark = m.statuses.len();
        assert!(
            m.until(LIMIT, |m| m.statuses[mark..]
                .iter()
                .any(|s| s.1 == StatusCode::ChecksumMismatch)
                && m.all_consistent()),
            "{venue}: no checksum recovery: {:?}",
            m.statuses
        );
    }
    sim.inject(Fault::Malformed);
    assert!(
        m.until(LIMIT, |_| handle.counters().decode_errors >= 1),
        "{venue}: malformed frame not counted"
    );
    sim.inject(Fault::Disconnect);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::Reconnected) >= 1
            && m.all_consistent()
            && m.events > 1_500),
        "{venue}: no reconnect: {:?}",
        m.statuses
    );
    let report = handle.stop();
    m.drain();
    let written = writer.join().expect("writer thread");
    assert_eq!(written.error, None, "{venue}");
    assert_eq!(
        (written.tap.lost, m.consumer.dropped()),
        (0, 0),
        "{venue}: nothing lost"
    );
    assert!(
        report.counters.reconnects >= 1,
        "{venue}: {:?}",
        report.counters
    );

    let files = recording_files(&dir, Some(venue)).expect("listing");
    assert!(!files.is_empty(), "{venue}: no files");
    let mut records = Records::new(files.clone());
    let replay = replay_all(
        records.by_ref().map(|r| r.expect("record")),
        &mut Discard::default(),
    )
    .expect("replay starts");
    assert!(
        records.truncated().is_empty(),
        "{venue}: {:?}",
        records.truncated()
    );
    let stats = replay.stats();
    assert_eq!(
        (stats.sent_mismatches, stats.lost, stats.skipped),
        (0, 0, 0),
        "{venue}: {stats:?}"
    );
    assert!(stats.connections >= 3, "{venue}: {stats:?}");
    for inst in registry.iter() {
        let live = m.mirror.book(inst.id).expect("mirror");
        let replayed = replay.book(inst.id).expect("replayed");
        assert!(
            live.depth(tickwire::types::Side::Bid) > 0,
            "{venue}: empty live book"
        );
        assert!(
            same_levels(live, replayed),
            "{venue} {}: replayed book differs from the live one",
            inst.symbol.as_str()
        );
        let live_sync = report.instruments[inst.id.index()].sync;
        assert_eq!(
            replay.sync_stats(inst.id),
            live_sync,
            "{venue} {}: sync counters differ",
            inst.symbol.as_str()
        );
        assert_eq!(
            replay.is_synced(inst.id),
            report.instruments[inst.id.index()].synced,
            "{venue}"
        );
    }
    // The same recording as tardis.dev CSV rebuilds the same books.
    for inst in registry.iter() {
        let rows = export(&files, *inst);
        let replayed = replay.book(inst.id).expect("replayed");
        let mut want = std::collections::BTreeSet::new();
        for side in [Side::Bid, Side::Ask] {
            for l in replayed.levels(side) {
                want.insert(format!(
                    "{side:?} {} {}",
                    l.price.at(inst.price_scale),
                    l.qty.at(inst.qty_scale)
                ));
            }
        }
        assert_eq!(
            rebuild(&rows),
            want,
            "{venue} {}: CSV book",
            inst.symbol.as_str()
        );
    }
    let total_resyncs: u64 = report.instruments.iter().map(|i| i.sync.resyncs).sum();
    assert!(total_resyncs >= 1, "{venue}: the faults resynced something");
    let _ = std::fs::remove_dir_all(&dir);
}

use tickwire::book::BookRead;
use tickwire::types::{Instrument, Side};

/// The recording's book changes of `inst` as tardis CSV.
fn export(files: &[PathBuf], inst: Instrument) -> String {
    let mut records = Records::new(files.to_vec()).map(|r| r.expect("record"));
    let first = records.next().expect("start");
    let mut replay = RecordingReplay::new(&first).expect("replay");
    let mut rows = TardisRows::new(Vec::new(), inst, replay.wall_time(0));
    rows.header();
    for rec in records {
        replay.handle(&rec, &mut rows);
    }
    String::from_utf8(rows.finish().expect("csv")).expect("utf-8")
}

/// A tardis.dev reader's book from the CSV: a snapshot row after a
/// non-snapshot row starts a new book; amount 0 deletes.
fn rebuild(csv: &str) -> std::collections::BTreeSet<String> {
    let mut book = std::collections::BTreeMap::new();
    let mut last_snapshot = false;
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let snapshot = f[4] == "true";
        if snapshot && !last_snapshot {
            book.clear();
        }
        last_snapshot = snapshot;
        let side = if f[5] == "bid" { Side::Bid } else { Side::Ask };
        let key = (format!("{side:?}"), f[6].to_owned());
        if f[7] == "0" {
            book.remove(&key);
        } else {
            book.insert(key, f[7].to_owned());
        }
    }
    book.into_iter()
        .map(|((s, p), q)| format!("{s} {p} {q}"))
        .collect()
}

#[test]
fn binance_spot_recording_replays_to_the_live_book() {
    record_and_replay(Venue::BinanceSpot);
}

#[test]
fn binance_usdm_recording_replays_to_the_live_book() {
    record_and_replay(Venue::BinanceUsdm);
}

#[test]
fn bybit_spot_recording_replays_to_the_live_book() {
    record_and_replay(Venue::BybitSpot);
}

#[test]
fn bybit_linear_recording_replays_to_the_live_book() {
    record_and_replay(Venue::BybitLinear);
}

#[test]
fn okx_recording_replays_to_the_live_book() {
    record_and_replay(Venue::Okx);
}

#[test]
fn coinbase_recording_replays_to_the_live_book() {
    record_and_replay(Venue::Coinbase);
}

#[test]
fn kraken_recording_replays_to_the_live_book() {
    record_and_replay(Venue::Kraken);
}

#[test]
fn every_venue_is_covered() {
    assert_eq!(Venue::ALL.len(), 7, "a new venue needs its recording test");
}
