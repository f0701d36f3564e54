//! Replay of a recording (see [`crate::record`]) through the engine's own
//! code, exactly as the feed loop ran it: every connection's venue
//! [`Session`] built from the plan the recording's `start` record
//! describes, the books under the engine's gap policy (a gap resyncs), and
//! the records applied in recorded order — a `connect` opens the session,
//! a `disconnect` resets what that connection fed, a `subscribe` advances
//! the session's sending state (and is checked to be the text it sends),
//! a `rest` body is the snapshot the engine received, and the loop's own
//! decisions (`fetch`, `fetch_failed`, `stale`, `release`) are taken again.
//! Time is each record's receive time on the engine's clock.

use serde::Deserialize;

use crate::book::{BookRead, Ladder, Level};
use crate::record::Kind;
use crate::record::read::Record;
use crate::ring::{EventBatch, Publish};
use crate::types::{InstrumentId, Nanos, Registry, ResyncReason, Venue};
use crate::venue::{
    Channel, DecodeError, FrameKind, GapPolicy, InstrumentBook, PlannedInstrument, Session,
    SessionPlan, SnapshotFailure, SnapshotOutcome, SyncStats, books_for, publish_resync,
};

#[derive(Deserialize)]
struct StartWire {
    event: String,
    venue: String,
    mono_offset_ns: u64,
    instruments: Vec<InstWire>,
    conns: Vec<ConnWire>,
    book_capacity: usize,
}

#[derive(Deserialize)]
struct InstWire {
    id: u32,
    venue: String,
    symbol: String,
    tick: String,
    lot: String,
}

#[derive(Deserialize)]
struct ConnWire {
    conn: u32,
    ws_url: String,
    rest_url: String,
    channels: Vec<String>,
    instruments: Vec<u32>,
    depth_interval_ms: u32,
    depth: u32,
    url_streams: Option<usize>,
    streams_per_subscribe: usize,
    control_per_sec: u32,
    book_capacity: usize,
    max_frame: usize,
}

#[derive(Deserialize)]
struct NoteWire {
    event: String,
    #[serde(default)]
    symbol: Option<String>,
    #[serde(default)]
    records: u64,
}

/// Why a recording cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The first record is not a `start` status record.
    #[error("the recording does not start with a `start` status record")]
    NoStart,
    /// The `start` record is not what the engine writes.
    #[error("bad `start` record: {0}")]
    BadStart(String),
}

/// What one record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A text frame went through its session.
    Frame(Result<FrameKind, DecodeError>),
    /// A REST body was handed to its instrument's session.
    Rest(InstrumentId, Result<SnapshotOutcome, SnapshotFailure>),
    /// A connection opened or closed.
    Connection,
    /// A sent text was replayed: true when the session sent the same text.
    Sent(bool),
    /// A decision of the engine's loop about a book was taken again.
    Note,
    /// The recorder lost this many records here (the writer fell behind).
    Lost(u64),
    /// A record of another venue, another `start`, or an unknown
    /// connection or symbol.
    Skipped,
}

/// Counts of a recording replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordingStats {
    /// Records handled.
    pub records: u64,
    /// Text frames.
    pub frames: u64,
    /// REST bodies.
    pub rest: u64,
    /// Connects and disconnects.
    pub connections: u64,
    /// Sent texts.
    pub sent: u64,
    /// Sent texts the session did not send again identically.
    pub sent_mismatches: u64,
    /// Records the recorder lost.
    pub lost: u64,
    /// Records skipped.
    pub skipped: u64,
}

/// Replay state of one venue's recording.
#[derive(Debug)]
pub struct RecordingReplay {
    venue: Venue,
    registry: Registry,
    sessions: Vec<(u32, Session)>,
    books: Vec<InstrumentBook>,
    batch: EventBatch,
    text: String,
    offset: Nanos,
    stats: RecordingStats,
}

impl RecordingReplay {
    /// Sets up from a file's `start` record.
    pub fn new(start: &Record) -> Result<RecordingReplay, RecordingError> {
        if start.kind != Kind::Status {
            return Err(RecordingError::NoStart);
        }
        let w: StartWire = serde_json::from_str(&start.data)
            .map_err(|e| RecordingError::BadStart(e.to_string()))?;
        if w.event != "start" {
            return Err(RecordingError::NoStart);
        }
        let bad = |m: String| RecordingError::BadStart(m);
        let venue = Venue::from_name(&w.venue).ok_or_else(|| bad(format!("venue {}", w.venue)))?;
        let mut registry = Registry::new();
        for (n, i) in w.instruments.iter().enumerate() {
            let v = Venue::from_name(&i.venue).ok_or_else(|| bad(format!("venue {}", i.venue)))?;
            let id = registry
                .add(v, &i.symbol, &i.tick, &i.lot)
                .map_err(|e| bad(format!("{}: {e}", i.symbol)))?;
            if id.0 != i.id || id.index() != n {
                return Err(bad(format!("{}: ids out of order", i.symbol)));
            }
        }
        let mut sessions = Vec::new();
        for c in &w.conns {
            let instruments = c
                .instruments
                .iter()
                .map(|&id| {
                    let inst = registry
                        .iter()
                        .find(|i| i.id.0 == id)
                        .ok_or_else(|| bad(format!("conn {}: no instrument {id}", c.conn)))?;
                    Ok(PlannedInstrument {
                        id: inst.id,
                        symbol: inst.symbol.as_str().to_owned(),
                    })
                })
                .collect::<Result<Vec<_>, RecordingError>>()?;
            let channels = c
                .channels
                .iter()
                .map(|n| Channel::parse(n).ok_or_else(|| bad(format!("channel {n}"))))
                .collect::<Result<Vec<_>, RecordingError>>()?;
            let plan = SessionPlan {
                venue,
                ws_url: c.ws_url.clone(),
                rest_url: c.rest_url.clone(),
                instruments,
                channels,
                depth_interval_ms: c.depth_interval_ms,
                depth: c.depth,
                url_streams: c.url_streams,
                streams_per_subscribe: c.streams_per_subscribe,
                control_per_sec: c.control_per_sec,
                book_capacity: c.book_capacity,
                max_frame: c.max_frame,
            };
            let session =
                Session::new(&plan).ok_or_else(|| bad(format!("no session for {venue}")))?;
            sessions.push((c.conn, session));
        }
        let books = books_for(&registry, w.book_capacity, GapPolicy::Resync);
        Ok(RecordingReplay {
            venue,
            registry,
            sessions,
            books,
            batch: EventBatch::with_capacity(16),
            text: String::with_capacity(4096),
            offset: w.mono_offset_ns,
            stats: RecordingStats::default(),
        })
    }

    /// The venue replayed.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// The instruments (the live engine's registry, ids included).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The engine-clock time of a record's wall-clock `recv_ns`.
    pub fn engine_time(&self, recv_ns: Nanos) -> Nanos {
        recv_ns.saturating_sub(self.offset)
    }

    /// The wall-clock time (ns since the epoch) of an engine-clock time.
    pub fn wall_time(&self, engine_ns: Nanos) -> Nanos {
        engine_ns.saturating_add(self.offset)
    }

    /// Applies one record, sending the events the engine published to `out`.
    pub fn handle<P: Publish>(&mut self, rec: &Record, out: &mut P) -> Step {
        self.stats.records += 1;
        if rec.venue != self.venue {
            self.stats.skipped += 1;
            return Step::Skipped;
        }
        let now = self.engine_time(rec.recv_ns);
        let step = self.apply(rec, now, out);
        if step == Step::Skipped {
            self.stats.skipped += 1;
        }
        step
    }

    fn apply<P: Publish>(&mut self, rec: &Record, now: Nanos, out: &mut P) -> Step {
        let RecordingReplay {
            registry,
            sessions,
            books,
            batch,
            text,
            stats,
            ..
        } = self;
        let session = sessions
            .iter_mut()
            .find(|(c, _)| *c == rec.conn)
            .map(|(_, s)| s);
        let data = rec.data.as_bytes();
        match (rec.kind, session) {
            (Kind::Frame, Some(s)) => {
                stats.frames += 1;
                let r = s.handle_text(data, now, registry, books, out);
                if r.is_err() {
                    s.handle_undecodable(data, now, registry, books, out);
                }
                Step::Frame(r)
            }
            (Kind::Rest, Some(s)) => {
                let Some(inst) = rec
                    .symbol
                    .as_deref()
                    .and_then(|sym| registry.lookup(rec.venue, sym.as_bytes()))
                    .map(|i| i.id)
                else {
                    return Step::Skipped;
                };
                stats.rest += 1;
                let r = s.handle_fetched(data, now, registry, &mut books[inst.index()], out);
                Step::Rest(inst, r)
            }
            (Kind::Connect, Some(s)) => {
                stats.connections += 1;
                s.handle_open(now, books);
                Step::Connection
            }
            (Kind::Disconnect, Some(s)) => {
                stats.connections += 1;
                s.handle_closed(now, books, batch, out);
                Step::Connection
            }
            (Kind::Subscribe, Some(s)) => {
                stats.sent += 1;
                let same = s.poll_transmit(now, books, text) && text.as_bytes() == data;
                if !same {
                    stats.sent_mismatches += 1;
                }
                Step::Sent(same)
            }
            (Kind::Status, s) => {
                let Ok(note) = serde_json::from_str::<NoteWire>(&rec.data) else {
                    return Step::Skipped;
                };
                if note.event == "start" {
                    // The head of the next file of the same recording.
                    return Step::Note;
                }
                if note.event == "lost" {
                    stats.lost += note.records;
                    return Step::Lost(note.records);
                }
                let (Some(s), Some(inst)) = (
                    s,
                    note.symbol
                        .as_deref()
                        .and_then(|sym| registry.lookup(rec.venue, sym.as_bytes()))
                        .map(|i| i.id),
                ) else {
                    return Step::Skipped;
                };
                let st = &mut books[inst.index()];
                match note.event.as_str() {
                    "fetch" => {
                        let _ = s.poll_fetch(books, |id| id == inst);
                    }
                    "fetch_failed" | "release" => st.sync.snapshot_failed(),
                    "stale" => {
                        publish_resync(st, ResyncReason::Stale, now, batch, out);
                        st.last_msg_ns = now;
                    }
                    _ => return Step::Skipped,
                }
                Step::Note
            }
            _ => Step::Skipped,
        }
    }

    /// The book of `inst` as the engine had it.
    pub fn book(&self, inst: InstrumentId) -> Option<&Ladder> {
        self.books.get(inst.index()).map(|b| &b.book)
    }

    /// Whether `inst`'s book is synced.
    pub fn is_synced(&self, inst: InstrumentId) -> bool {
        self.books
            .get(inst.index())
            .is_some_and(|b| b.sync.is_synced())
    }

    /// `inst`'s sync counters (gaps, resyncs, snapshots, …).
    pub fn sync_stats(&self, inst: InstrumentId) -> SyncStats {
        self.books
            .get(inst.index())
            .map(|b| b.sync.stats())
            .unwrap_or_default()
    }

    /// The best bid and best ask of `inst` when its book is crossed.
    pub fn crossed(&self, inst: InstrumentId) -> Option<(Level, Level)> {
        let book = self.book(inst)?;
        match (book.best_bid(), book.best_ask()) {
            (Some(bid), Some(ask)) if bid.price >= ask.price => Some((bid, ask)),
            _ => None,
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> RecordingStats {
        self.stats
    }
}

/// Replays every record of `records` (one venue's, in order) from its
/// first `start` record; returns the replay, or why it could not start.
/// Read errors end the replay where they occur.
pub fn replay_all<P: Publish>(
    records: impl IntoIterator<Item = Record>,
    out: &mut P,
) -> Result<RecordingReplay, RecordingError> {
    let mut it = records.into_iter();
    let first = it.next().ok_or(RecordingError::NoStart)?;
    let mut replay = RecordingReplay::new(&first)?;
    for rec in it {
        replay.handle(&rec, out);
    }
    Ok(replay)
}
