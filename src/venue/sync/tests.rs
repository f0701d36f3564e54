use super::*;
use crate::book::{BookSpec, Ladder};
use crate::types::{Price, Qty, Side};

fn level(price: i64, qty: i64) -> Level {
    Level {
        price: Price(price),
        qty: Qty(qty),
    }
}

fn core(policy: GapPolicy) -> (SyncCore, Ladder, EventBatch) {
    (
        SyncCore::new(Venue::Okx, InstrumentId(0), policy),
        Ladder::new(BookSpec::new(1).with_capacity(16)),
        EventBatch::with_capacity(256),
    )
}

fn ab(e: &Event) -> (i64, i64) {
    match e.body() {
        crate::types::Body::Status(s) => (s.a, s.b),
        other => panic!("not a status: {other:?}"),
    }
}

fn codes(batch: &EventBatch) -> Vec<StatusCode> {
    batch
        .events()
        .iter()
        .filter_map(|e| e.status_code())
        .collect()
}

#[test]
fn a_snapshot_replaces_the_book_and_is_staged_whole() {
    let (mut c, mut book, mut batch) = core(GapPolicy::Resync);
    c.request_snapshot();
    assert!(c.take_snapshot_request());
    let out = c.load_snapshot(
        7,
        &[level(100, 1)],
        &[level(101, 2)],
        &mut book,
        &mut batch,
        5,
    );
    assert_eq!(out, SnapshotOutcome::Synced);
    assert_eq!(c.last_id(), Some(7));
    assert!(!c.snapshot_in_flight());
    assert_eq!(
        codes(&batch),
        [StatusCode::SnapshotBegin, StatusCode::SnapshotEnd]
    );
    assert_eq!(batch.len(), 4);
    assert_eq!(c.stats().snapshots, 1);
}

#[test]
fn a_mismatched_checksum_publishes_none_of_the_update() {
    for policy in [GapPolicy::Resync, GapPolicy::Continue] {
        let (mut c, mut book, mut batch) = core(policy);
        c.load_snapshot(
            1,
            &[level(100, 1)],
            &[level(101, 2)],
            &mut book,
            &mut batch,
            0,
        );
        batch.clear();
        let stamp = c.stamp(2, 0, 9);
        let applied = c.apply_update(stamp, 2, &[level(99, 3)], &[], &mut book, &mut batch, false);
        assert_eq!(applied, DiffOutcome::Applied);
        assert_eq!(batch.len(), 1, "the level event is staged");
        let out = c.checksum_mismatch(-5, 12, stamp, &mut book, &mut batch);
        assert_eq!(
            out,
            DiffOutcome::ChecksumMismatch {
                venue: -5,
                book: 12
            }
        );
        let events = batch.events();
        assert_eq!(
            codes(&batch),
            [StatusCode::ChecksumMismatch, StatusCode::Resync]
        );
        assert_eq!(events.len(), 2, "{policy:?}: the level event is gone");
        assert_eq!(ab(&events[0]), (-5, 12));
        assert_eq!(ab(&events[1]).0, ResyncReason::ChecksumMismatch as i64);
        assert!(!c.is_synced());
        assert_eq!(book.depth(Side::Bid), 0);
        assert_eq!(c.stats().checksum_mismatches, 1);
        assert_eq!(c.stats().resyncs, 1);
        assert!(
            c.take_snapshot_request(),
            "{policy:?}: a snapshot is wanted"
        );
    }
}

#[test]
fn a_gap_starts_over_under_resync_and_is_only_reported_under_continue() {
    let (mut c, mut book, mut batch) = core(GapPolicy::Resync);
    c.load_snapshot(10, &[level(100, 1)], &[], &mut book, &mut batch, 0);
    batch.clear();
    let stamp = c.stamp(12, 0, 1);
    assert_eq!(
        c.gap(11, 12, stamp, &mut book, &mut batch),
        DiffOutcome::Gap {
            expected: 11,
            got: 12
        }
    );
    assert_eq!(codes(&batch), [StatusCode::Gap, StatusCode::Resync]);
    assert!(c.is_waiting());
    assert_eq!(book.depth(Side::Bid), 0);

    let (mut c, mut book, mut batch) = core(GapPolicy::Continue);
    c.load_snapshot(10, &[level(100, 1)], &[], &mut book, &mut batch, 0);
    batch.clear();
    c.gap(11, 12, stamp, &mut book, &mut batch);
    assert_eq!(codes(&batch), [StatusCode::Gap]);
    assert_eq!(c.last_id(), Some(10), "the caller applies on top");
    assert_eq!(book.depth(Side::Bid), 1);
}

#[test]
fn an_update_is_applied_all_or_nothing() {
    let (mut c, _, mut batch) = core(GapPolicy::Resync);
    let mut book = Ladder::new(BookSpec::new(5).with_capacity(16));
    c.load_snapshot(
        1,
        &[level(100, 1)],
        &[level(105, 1)],
        &mut book,
        &mut batch,
        0,
    );
    batch.clear();
    let stamp = c.stamp(2, 0, 1);
    let out = c.apply_update(
        stamp,
        2,
        &[level(95, 4)],
        &[level(107, 1)],
        &mut book,
        &mut batch,
        false,
    );
    assert!(matches!(
        out,
        DiffOutcome::BadUpdate(BookError::OffTick { .. })
    ));
    assert_eq!(codes(&batch), [StatusCode::Resync]);
    assert_eq!(batch.len(), 1, "no level of the refused update is staged");
    assert!(c.take_snapshot_request());
}

#[test]
fn a_crossed_snapshot_is_never_published() {
    let (mut c, mut book, mut batch) = core(GapPolicy::Resync);
    let out = c.load_snapshot(
        3,
        &[level(102, 1)],
        &[level(101, 1)],
        &mut book,
        &mut batch,
        0,
    );
    assert_eq!(out, SnapshotOutcome::BadSnapshot(BookError::Crossed));
    assert_eq!(codes(&batch), [StatusCode::Crossed, StatusCode::Resync]);
    assert_eq!(batch.len(), 2);
    assert_eq!(c.stats().crossed, 1);
    assert!(c.is_waiting());
}

#[test]
fn only_a_usable_book_counts_as_a_resync() {
    let (mut c, mut book, mut batch) = core(GapPolicy::Resync);
    c.resync(ResyncReason::Reconnect, &mut book, &mut batch, 0);
    assert_eq!(c.stats().resyncs, 0);
    assert!(!c.holds_anything());
    c.load_snapshot(1, &[level(100, 1)], &[], &mut book, &mut batch, 0);
    assert!(c.holds_anything());
    c.resync(ResyncReason::Reconnect, &mut book, &mut batch, 0);
    assert_eq!(c.stats().resyncs, 1);
}
