//! The recording hook of the feed loop: when a recorder is set, every text
//! frame, REST body, connection event, sent text and the loop's own
//! book-changing decisions are handed to it (a copy into its ring, no
//! allocation); when none is set, each hook is one branch.

use super::FeedLoop;
use crate::record::{Kind, NO_INSTRUMENT, RecordTap, TapHeader};
use crate::types::{InstrumentId, Nanos};

impl FeedLoop {
    /// Records from now on into `tap`.
    pub(in crate::engine) fn set_recorder(&mut self, tap: RecordTap) {
        self.rec = Some(tap);
    }

    /// The header of a record of connection `idx`.
    #[inline]
    pub(super) fn rec_header(&self, idx: usize, kind: Kind, now: Nanos) -> TapHeader {
        TapHeader {
            kind,
            venue: self.cfg.venues[self.conns[idx].venue].venue,
            conn: idx as u32,
            instrument: NO_INSTRUMENT,
            recv_ns: now,
        }
    }

    /// Records a connection event or a sent text of connection `idx`.
    #[inline]
    pub(super) fn rec_conn(&mut self, idx: usize, kind: Kind, data: &[u8], now: Nanos) {
        if self.rec.is_some() {
            let h = self.rec_header(idx, kind, now);
            if let Some(r) = self.rec.as_mut() {
                r.record(h, data);
            }
        }
    }

    /// Records a REST snapshot body for `inst`.
    #[inline]
    pub(super) fn rec_rest(&mut self, inst: InstrumentId, body: &[u8], now: Nanos) {
        if self.rec.is_some() {
            let idx = self.inst_conn[inst.index()];
            let h = TapHeader {
                instrument: inst.0,
                ..self.rec_header(idx, Kind::Rest, now)
            };
            if let Some(r) = self.rec.as_mut() {
                r.record(h, body);
            }
        }
    }

    /// Records a decision of the loop about `inst`'s book (see [`book_note`]).
    #[inline]
    pub(super) fn rec_book(&mut self, inst: InstrumentId, event: &str, now: Nanos) {
        if self.rec.is_some() {
            let idx = self.inst_conn[inst.index()];
            let venue = self.cfg.venues[self.conns[idx].venue].venue;
            book_note(
                &mut self.rec,
                venue,
                &self.inst_conn,
                &self.registry,
                inst,
                event,
                now,
            );
        }
    }
}

/// The header of a text frame of connection `idx` of `venue`.
#[inline]
pub(super) fn frame_header(venue: crate::types::Venue, idx: usize, now: Nanos) -> TapHeader {
    conn_header(venue, idx, Kind::Frame, now)
}

/// The header of a record of connection `idx` of `venue`.
#[inline]
pub(super) fn conn_header(
    venue: crate::types::Venue,
    idx: usize,
    kind: Kind,
    now: Nanos,
) -> TapHeader {
    TapHeader {
        kind,
        venue,
        conn: idx as u32,
        instrument: NO_INSTRUMENT,
        recv_ns: now,
    }
}

/// Records a decision of the loop about `inst`'s book (`event`: `fetch`,
/// `fetch_failed`, `stale`, `release`) as a status record
/// `{"event":…,"symbol":…}`. Formatted on the stack.
#[inline]
pub(super) fn book_note(
    rec: &mut Option<RecordTap>,
    venue: crate::types::Venue,
    inst_conn: &[usize],
    registry: &crate::types::Registry,
    inst: InstrumentId,
    event: &str,
    now: Nanos,
) {
    let Some(r) = rec.as_mut() else {
        return;
    };
    let h = TapHeader {
        instrument: inst.0,
        ..conn_header(venue, inst_conn[inst.index()], Kind::Status, now)
    };
    let mut note = [0u8; 96];
    let mut w = std::io::Cursor::new(&mut note[..]);
    let symbol = registry.get(inst).symbol;
    let _ = std::io::Write::write_fmt(
        &mut w,
        format_args!(
            "{{\"event\":\"{event}\",\"symbol\":\"{}\"}}",
            symbol.as_str()
        ),
    );
    let n = w.position() as usize;
    r.record(h, &note[..n]);
}
