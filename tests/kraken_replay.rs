//! Both real Kraken captures (BTC/USD depth 10, MINA/GBP depth 25) through
//! `KrakenSession` and through `Replay`: after every book frame the book is
//! exactly the reference model's (texts in BTreeMaps, truncated to the
//! subscribed depth), every one of the 84 checksums is valid, and the
//! published events rebuild the same book in a consumer's mirror.

mod kraken_util;

use kraken_util::{BTC, MINA, Model, Rig, book_side, frames, levels_of, list};
use tickwire::book::{BookApply, BookRead, BookSpec};
use tickwire::consumer::BookMirror;
use tickwire::replay::{LineOutcome, Replay, ReplaySpec};
use tickwire::types::{Side, Venue};
use tickwire::venue::{DiffOutcome, FrameKind, GapPolicy};

/// (file, symbol, tick, lot, depth, price decimals, book frames)
const CAPTURES: [(&str, &str, &str, &str, u32, u32, usize); 2] = [
    (BTC, "BTC/USD", "0.1", "0.00000001", 10, 1, 54),
    (MINA, "MINA/GBP", "0.0001", "0.00000001", 25, 4, 30),
];

fn checksum_of(frame: &str) -> u32 {
    let at = frame.find("\"checksum\":").unwrap() + 11;
    let end = frame[at..].find(|c: char| !c.is_ascii_digit()).unwrap();
    frame[at..at + end].parse().unwrap()
}

#[test]
fn captures_rebuild_the_models_books_with_all_84_checksums_valid() {
    let mut verified = 0;
    for (file, symbol, tick, lot, depth, ps, book_frames) in CAPTURES {
        let mut rig = Rig::new(&[(symbol, tick, lot)], depth, GapPolicy::Resync);
        let mut model = Model::new(depth as usize, ps, 8);
        let mut mirror =
            BookMirror::new([BookSpec::new(rig.books[0].book.tick()).with_capacity(2_000)]);
        let mut seen = 0;
        for (n, frame) in frames(file).iter().enumerate() {
            let kind = rig.text(frame, n as u64 + 1).expect(frame);
            for e in rig.out.drain(..) {
                mirror.apply(&e);
            }
            if !frame.starts_with("{\"channel\":\"book\"") {
                assert!(!matches!(kind, FrameKind::Depth(..)), "{frame}");
                continue;
            }
            seen += 1;
            let snapshot = frame.contains("\"type\":\"snapshot\"");
            model.apply(
                snapshot,
                &levels_of(list(frame, "bids")),
                &levels_of(list(frame, "asks")),
            );
            // The model agrees with the venue: the capture is read right.
            assert_eq!(model.checksum(), checksum_of(frame), "{symbol} frame {n}");
            assert_eq!(
                kind,
                FrameKind::Depth(rig.books[0].id, DiffOutcome::Applied),
                "{symbol} frame {n}"
            );
            let book = &rig.books[0].book;
            for side in [Side::Bid, Side::Ask] {
                assert_eq!(
                    book_side(book, side),
                    model.side(side),
                    "{symbol} frame {n} {side:?}"
                );
                let mirrored = mirror.book(rig.books[0].id).unwrap();
                assert_eq!(
                    book_side(mirrored, side),
                    model.side(side),
                    "mirror, {symbol} frame {n}"
                );
            }
            assert!(mirror.is_consistent(rig.books[0].id));
            assert_eq!(tickwire::venue::kraken::checksum(book), checksum_of(frame));
            verified += 1;
        }
        assert_eq!(seen, book_frames, "{symbol}");
        let stats = rig.books[0].sync.stats();
        assert_eq!(stats.checksum_mismatches, 0);
        assert_eq!(stats.snapshots, 1);
        assert_eq!(stats.applied as usize, book_frames - 1);
        assert_eq!(rig.books[0].book.depth(Side::Bid), depth as usize);
        assert_eq!(rig.books[0].book.depth(Side::Ask), depth as usize);
        assert_eq!(rig.session.connection_id().map(|c| c > 1 << 53), Some(true));
    }
    assert_eq!(verified, 84);
}

#[test]
fn the_status_frames_connection_ids_are_exact_u64s() {
    let mut rig = Rig::new(
        &[("MINA/GBP", "0.0001", "0.00000001")],
        25,
        GapPolicy::Resync,
    );
    rig.text(&frames(MINA)[0], 1).unwrap();
    assert_eq!(rig.session.connection_id(), Some(3_007_355_780_899_554_854));
    let mut rig = Rig::new(&[("BTC/USD", "0.1", "0.00000001")], 10, GapPolicy::Resync);
    rig.text(&frames(BTC)[0], 1).unwrap();
    assert_eq!(rig.session.connection_id(), Some(769_405_522_530_892_351));
}

#[test]
fn replay_rebuilds_the_same_books() {
    for (file, symbol, tick, lot, depth, ps, book_frames) in CAPTURES {
        let mut spec = ReplaySpec::new(Venue::Kraken, symbol);
        spec.tick_size = tick.to_owned();
        spec.lot_size = lot.to_owned();
        spec.depth = depth;
        let mut replay = Replay::new(&spec).unwrap();
        let mut model = Model::new(depth as usize, ps, 8);
        let mut counted = 0;
        for (n, frame) in frames(file).iter().enumerate() {
            let outcome = replay.handle_line(frame.as_bytes(), n as u64);
            if frame.starts_with("{\"channel\":\"book\"") {
                let snapshot = frame.contains("\"type\":\"snapshot\"");
                model.apply(
                    snapshot,
                    &levels_of(list(frame, "bids")),
                    &levels_of(list(frame, "asks")),
                );
                let want = if snapshot {
                    LineOutcome::Snapshot
                } else {
                    LineOutcome::Applied
                };
                assert_eq!(outcome, want, "{symbol} line {n}");
                counted += 1;
            } else {
                assert_eq!(outcome, LineOutcome::Skipped, "{frame}");
            }
        }
        assert_eq!(counted, book_frames);
        for side in [Side::Bid, Side::Ask] {
            assert_eq!(book_side(replay.book(), side), model.side(side));
        }
        assert_eq!(replay.sync_stats().checksum_mismatches, 0);
    }
}

#[test]
fn replay_at_the_wrong_depth_reports_checksum_mismatches() {
    // MINA/GBP subscribed at 25, replayed as if at 10: the truncation cuts
    // levels the venue still counts, so the first update's checksum fails.
    let mut spec = ReplaySpec::new(Venue::Kraken, "MINA/GBP");
    spec.tick_size = "0.0001".to_owned();
    spec.depth = 10;
    let mut replay = Replay::new(&spec).unwrap();
    let mut mismatches = 0;
    for (n, frame) in frames(MINA).iter().enumerate() {
        if let LineOutcome::ChecksumMismatch { venue, book } =
            replay.handle_line(frame.as_bytes(), n as u64)
        {
            assert_ne!(venue, book);
            mismatches += 1;
        }
    }
    // The first update that deletes a top-10 level: the 11th the venue
    // moves up was cut. The book then waits for a snapshot (none comes).
    assert_eq!(mismatches, 1);
    assert_eq!(replay.book().depth(Side::Bid), 0);
}

#[test]
fn the_default_precision_is_btc_usds_and_refuses_mina_gbps_prices() {
    let spec = ReplaySpec::new(Venue::Kraken, "MINA/GBP");
    assert_eq!(
        (spec.tick_size.as_str(), spec.lot_size.as_str(), spec.depth),
        ("0.1", "0.00000001", 10)
    );
    let mut replay = Replay::new(&spec).unwrap();
    let f = frames(MINA);
    // The snapshot: 0.0286 has more decimals than 0.1 allows.
    let snapshot = f
        .iter()
        .find(|l| l.contains("\"type\":\"snapshot\""))
        .unwrap();
    match replay.handle_line(snapshot.as_bytes(), 0) {
        LineOutcome::Malformed(e) => {
            assert_eq!(e.venue, Venue::Kraken);
            assert_eq!(
                e.what,
                tickwire::venue::What::Number(tickwire::types::NumError::TooManyDecimals {
                    scale: 1
                })
            );
            assert_eq!(
                e.to_string(),
                "kraken: bad number (more than 1 significant decimal places) at `bids[0][0]`"
            );
        }
        other => panic!("{other:?}"),
    }
}
