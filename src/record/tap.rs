//! The hand-over from the feed thread to the recording writer: a byte ring
//! of length-prefixed records, copied into preallocated memory (no
//! allocation per record). A record larger than a quarter of the ring goes
//! through an overflow queue instead (one allocation for that rare record,
//! e.g. a multi-megabyte snapshot), with a marker in the ring keeping its
//! place in the order. When the writer falls behind and the ring is full,
//! the record is lost, counted, and the count itself is recorded as soon as
//! there is room again: never a silent drop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::format::Kind;
use crate::types::{Nanos, Venue};

/// Bytes of a record's header in the ring.
const HEADER: usize = 24;
/// Header flag: the data is the next entry of the overflow queue.
const OVERFLOW: u8 = 1;
/// Oversized records waiting at most.
const OVERFLOW_SLOTS: usize = 64;
/// No instrument (records that are not REST bodies).
pub const NO_INSTRUMENT: u32 = u32::MAX;

/// One record's fixed fields, as the writer receives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapHeader {
    /// What it is.
    pub kind: Kind,
    /// The venue.
    pub venue: Venue,
    /// The engine's connection index.
    pub conn: u32,
    /// The instrument's registry index ([`NO_INSTRUMENT`]: none).
    pub instrument: u32,
    /// The engine clock's time (not the wall clock).
    pub recv_ns: Nanos,
}

/// Records lost, shared by both ends.
#[derive(Debug, Default)]
struct Shared {
    /// Records lost in total (written by the feed thread only).
    lost: AtomicU64,
    /// Records that went through the overflow queue.
    overflowed: AtomicU64,
    /// Records handed over.
    recorded: AtomicU64,
}

/// Counters of a recording hand-over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Records handed to the writer.
    pub recorded: u64,
    /// Records lost because the writer was behind (each also recorded as a
    /// `lost` status record when room came back).
    pub lost: u64,
    /// Records that were too large for the ring and took the overflow queue.
    pub overflowed: u64,
}

/// The feed thread's end.
#[derive(Debug)]
pub struct RecordTap {
    ring: rtrb::Producer<u8>,
    big: rtrb::Producer<Vec<u8>>,
    shared: Arc<Shared>,
    /// Lost records not yet reported in the stream.
    unreported: u64,
}

/// The writer's end.
#[derive(Debug)]
pub struct RecordDrain {
    ring: rtrb::Consumer<u8>,
    big: rtrb::Consumer<Vec<u8>>,
    shared: Arc<Shared>,
}

/// A tap and its drain over a ring of `bytes` bytes.
pub fn record_channel(bytes: usize) -> (RecordTap, RecordDrain) {
    let (ring, ring_rx) = rtrb::RingBuffer::new(bytes.max(4 * HEADER + 1024));
    let (big, big_rx) = rtrb::RingBuffer::new(OVERFLOW_SLOTS);
    let shared = Arc::new(Shared::default());
    (
        RecordTap {
            ring,
            big,
            shared: shared.clone(),
            unreported: 0,
        },
        RecordDrain {
            ring: ring_rx,
            big: big_rx,
            shared,
        },
    )
}

fn header_bytes(h: &TapHeader, len: usize, flags: u8) -> [u8; HEADER] {
    let mut b = [0u8; HEADER];
    b[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    b[4] = h.kind as u8;
    b[5] = h.venue as u8;
    b[6] = flags;
    b[8..12].copy_from_slice(&h.conn.to_le_bytes());
    b[12..16].copy_from_slice(&h.instrument.to_le_bytes());
    b[16..24].copy_from_slice(&h.recv_ns.to_le_bytes());
    b
}

impl RecordTap {
    /// Hands one record over. Returns false if it was lost (counted).
    #[inline]
    pub fn record(&mut self, h: TapHeader, data: &[u8]) -> bool {
        let oversized = data.len() > self.ring.buffer().capacity() / 4;
        if self.unreported > 0 && !self.report_lost(h, if oversized { 0 } else { data.len() }) {
            return self.lose();
        }
        let ok = if oversized {
            self.oversized(h, data)
        } else {
            self.push(h, data, 0)
        };
        if ok {
            let r = &self.shared.recorded;
            r.store(r.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            true
        } else {
            self.lose()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TapStats {
        self.shared.stats()
    }

    #[inline]
    fn push(&mut self, h: TapHeader, data: &[u8], flags: u8) -> bool {
        let Ok(mut chunk) = self.ring.write_chunk(HEADER + data.len()) else {
            return false;
        };
        let header = header_bytes(&h, data.len(), flags);
        let (a, b) = chunk.as_mut_slices();
        let mut put = |src: &[u8], at: usize| {
            // Copy `src` to logical offset `at` of the two slices.
            let first = a.len().saturating_sub(at).min(src.len());
            if first > 0 {
                a[at..at + first].copy_from_slice(&src[..first]);
            }
            let rest = &src[first..];
            if !rest.is_empty() {
                let off = (at + first) - a.len();
                b[off..off + rest.len()].copy_from_slice(rest);
            }
        };
        put(&header, 0);
        put(data, HEADER);
        chunk.commit_all();
        true
    }

    /// A record too large for the ring: its bytes through the overflow
    /// queue (allocated here: rare and large), a marker in the ring.
    #[cold]
    fn oversized(&mut self, h: TapHeader, data: &[u8]) -> bool {
        if self.big.is_full() || self.ring.slots() < HEADER {
            return false;
        }
        let pushed = self.big.push(data.to_vec()).is_ok();
        pushed && {
            let o = &self.shared.overflowed;
            o.store(o.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            self.push(h, &[], OVERFLOW)
        }
    }

    #[cold]
    fn lose(&mut self) -> bool {
        self.unreported += 1;
        let l = &self.shared.lost;
        l.store(l.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        false
    }

    /// Writes the `lost` status record for the records lost since the last
    /// one, if there is room for it and a record of `next` bytes after it;
    /// false if not.
    #[cold]
    fn report_lost(&mut self, h: TapHeader, next: usize) -> bool {
        let mut note = [0u8; 48];
        let mut w = std::io::Cursor::new(&mut note[..]);
        let _ = std::io::Write::write_fmt(
            &mut w,
            format_args!("{{\"event\":\"lost\",\"records\":{}}}", self.unreported),
        );
        let n = w.position() as usize;
        if self.ring.slots() < 2 * HEADER + n + next {
            return false;
        }
        let status = TapHeader {
            kind: Kind::Status,
            instrument: NO_INSTRUMENT,
            ..h
        };
        if self.push(status, &note[..n], 0) {
            self.unreported = 0;
            true
        } else {
            false
        }
    }
}

impl Shared {
    fn stats(&self) -> TapStats {
        TapStats {
            recorded: self.recorded.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            overflowed: self.overflowed.load(Ordering::Relaxed),
        }
    }
}

impl RecordDrain {
    /// The next record, its data copied into `buf` (cleared first); `None`
    /// when the ring is empty.
    pub fn pop(&mut self, buf: &mut Vec<u8>) -> Option<TapHeader> {
        let mut header = [0u8; HEADER];
        {
            let chunk = self.ring.read_chunk(HEADER).ok()?;
            let (a, b) = chunk.as_slices();
            header[..a.len()].copy_from_slice(a);
            header[a.len()..].copy_from_slice(b);
            // Not committed: the whole record is read below.
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let chunk = self.ring.read_chunk(HEADER + len).ok()?;
        buf.clear();
        let (a, b) = chunk.as_slices();
        let (a_data, b_data) = if a.len() >= HEADER {
            (&a[HEADER..], b)
        } else {
            (&[][..], &b[HEADER - a.len()..])
        };
        buf.extend_from_slice(a_data);
        buf.extend_from_slice(b_data);
        chunk.commit_all();
        let flags = header[6];
        if flags & OVERFLOW != 0 {
            match self.big.pop() {
                Ok(data) => *buf = data,
                Err(_) => buf.clear(),
            }
        }
        let word = |at: usize| {
            u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let mut ns = [0u8; 8];
        ns.copy_from_slice(&header[16..24]);
        Some(TapHeader {
            kind: Kind::from_u8(header[4]).unwrap_or(Kind::Status),
            venue: Venue::from_u8(header[5]).unwrap_or(Venue::BinanceSpot),
            conn: word(8),
            instrument: word(12),
            recv_ns: u64::from_le_bytes(ns),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> TapStats {
        self.shared.stats()
    }

    /// True once the feed thread's end is gone and everything was read.
    pub fn is_finished(&self) -> bool {
        self.ring.is_abandoned() && self.ring.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(kind: Kind, ns: Nanos) -> TapHeader {
        TapHeader {
            kind,
            venue: Venue::Kraken,
            conn: 2,
            instrument: NO_INSTRUMENT,
            recv_ns: ns,
        }
    }

    #[test]
    fn records_come_out_in_order_across_the_wrap() {
        let (mut tap, mut drain) = record_channel(4096);
        let mut buf = Vec::new();
        for round in 0..50u64 {
            let text = format!(
                "{{\"n\":{round},\"pad\":\"{}\"}}",
                "x".repeat(round as usize * 7 % 300)
            );
            assert!(tap.record(h(Kind::Frame, round), text.as_bytes()));
            let got = drain.pop(&mut buf).expect("a record");
            assert_eq!(got, h(Kind::Frame, round));
            assert_eq!(buf, text.as_bytes());
        }
        assert!(drain.pop(&mut buf).is_none());
        assert_eq!(tap.stats().recorded, 50);
    }

    #[test]
    fn an_oversized_record_keeps_its_place() {
        let (mut tap, mut drain) = record_channel(4096);
        let big = vec![b'b'; 10_000];
        assert!(tap.record(h(Kind::Frame, 1), b"small"));
        assert!(tap.record(h(Kind::Rest, 2), &big));
        assert!(tap.record(h(Kind::Frame, 3), b"after"));
        let mut buf = Vec::new();
        let order: Vec<(Nanos, usize)> = (0..3)
            .map(|_| {
                let hd = drain.pop(&mut buf).expect("record");
                (hd.recv_ns, buf.len())
            })
            .collect();
        assert_eq!(order, [(1, 5), (2, 10_000), (3, 5)]);
        assert_eq!(drain.stats().overflowed, 1);
    }

    #[test]
    fn a_full_ring_loses_records_counts_them_and_records_the_count() {
        let (mut tap, mut drain) = record_channel(4096);
        let frame = [b'f'; 500];
        let mut ok = 0;
        for i in 0..20 {
            if tap.record(h(Kind::Frame, i), &frame) {
                ok += 1;
            }
        }
        let lost = 20 - ok;
        assert!(lost > 0 && ok > 0, "{ok}");
        assert_eq!(tap.stats().lost, lost);
        let mut buf = Vec::new();
        for _ in 0..ok {
            assert_eq!(drain.pop(&mut buf).map(|x| x.kind), Some(Kind::Frame));
        }
        assert!(tap.record(h(Kind::Frame, 99), b"next"));
        let note = drain.pop(&mut buf).expect("the loss is recorded first");
        assert_eq!(note.kind, Kind::Status);
        assert_eq!(
            std::str::from_utf8(&buf).expect("utf-8"),
            format!("{{\"event\":\"lost\",\"records\":{lost}}}")
        );
        assert_eq!(drain.pop(&mut buf).map(|x| x.recv_ns), Some(99));
        assert_eq!(buf, b"next");
    }
}
