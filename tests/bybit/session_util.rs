//! A Bybit session on a test registry, and a reference book built from the
//! frames independently of tickwire's decoder (serde_json and a decimal
//! reader of its own).

use std::collections::BTreeMap;

use tickwire::book::BookRead;
use tickwire::types::{Event, Registry, Side, Venue};
use tickwire::venue::bybit::BybitSession;
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

/// A plan for `symbols` of `venue` in `reg`.
pub(crate) fn plan(
    venue: Venue,
    reg: &Registry,
    symbols: &[&str],
    channels: &[Channel],
    per_subscribe: usize,
    per_sec: u32,
    capacity: usize,
) -> SessionPlan {
    SessionPlan {
        venue,
        ws_url: "wss://stream.bybit.com/v5/public/linear".into(),
        rest_url: String::new(),
        instruments: symbols
            .iter()
            .map(|s| PlannedInstrument {
                id: reg.lookup(venue, s.as_bytes()).expect("symbol").id,
                symbol: (*s).to_owned(),
            })
            .collect(),
        channels: channels.to_vec(),
        depth_interval_ms: 20,
        depth: 50,
        url_streams: None,
        streams_per_subscribe: per_subscribe,
        control_per_sec: per_sec,
        book_capacity: capacity,
        max_frame: tickwire::venue::bybit::DEFAULT_MAX_FRAME,
    }
}

/// A session, its books and a collecting publisher.
pub(crate) struct Rig {
    pub(crate) reg: Registry,
    pub(crate) session: BybitSession,
    pub(crate) books: Vec<InstrumentBook>,
    pub(crate) events: Vec<Event>,
}

impl Rig {
    /// Depth only, for `symbols` of `venue`, books of `capacity` levels.
    pub(crate) fn new(
        reg: Registry,
        venue: Venue,
        symbols: &[&str],
        capacity: usize,
        policy: GapPolicy,
    ) -> Rig {
        let all = [Channel::Depth, Channel::BookTicker, Channel::Trade];
        let session = BybitSession::new(&plan(venue, &reg, symbols, &all, 10, 5, capacity));
        let books = books_for(&reg, capacity, policy);
        Rig {
            reg,
            session,
            books,
            events: Vec::new(),
        }
    }

    /// Handles one frame at `now`; the frame must decode.
    pub(crate) fn feed(&mut self, frame: &str, now: u64) -> tickwire::venue::FrameKind {
        self.session
            .handle_text(
                frame.as_bytes(),
                now,
                &self.reg,
                &mut self.books,
                &mut self.events,
            )
            .unwrap_or_else(|e| panic!("{e}: {frame}"))
    }
}

/// The mantissa of decimal text at `scale` decimals (test-side reader).
pub(crate) fn mantissa(text: &str, scale: u32) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = frac.trim_end_matches('0');
    assert!(frac.len() <= scale as usize, "{text} at scale {scale}");
    let padded = format!("{int}{frac:0<w$}", w = scale as usize);
    padded.parse().expect("digits")
}

/// One side of a reference book: price → quantity.
pub(crate) type RefSide = BTreeMap<i64, i64>;

/// A reference book fed the same frames, with Bybit's rules written plainly.
#[derive(Default)]
pub(crate) struct Reference {
    pub(crate) bids: RefSide,
    pub(crate) asks: RefSide,
    pub(crate) last_u: Option<u64>,
}

impl Reference {
    /// Applies one frame (a book message of any key order).
    pub(crate) fn apply(&mut self, frame: &str, price_scale: u32, qty_scale: u32) {
        let v: serde_json::Value = serde_json::from_str(frame).expect("json");
        let u = v["data"]["u"].as_u64().expect("u");
        if v["type"] == "snapshot" || u == 1 {
            self.bids.clear();
            self.asks.clear();
        } else if self.last_u.is_none_or(|last| u != last + 1) {
            panic!("the capture breaks at u = {u}");
        }
        self.last_u = Some(u);
        for (key, side) in [("b", &mut self.bids), ("a", &mut self.asks)] {
            for l in v["data"][key].as_array().expect("levels") {
                let p = mantissa(l[0].as_str().expect("price"), price_scale);
                let q = mantissa(l[1].as_str().expect("qty"), qty_scale);
                if q == 0 {
                    side.remove(&p);
                } else {
                    side.insert(p, q);
                }
            }
        }
    }

    /// Whether `book` holds exactly these levels.
    pub(crate) fn same_as(&self, book: &impl BookRead) -> bool {
        let bids: Vec<(i64, i64)> = self.bids.iter().rev().map(|(p, q)| (*p, *q)).collect();
        let asks: Vec<(i64, i64)> = self.asks.iter().map(|(p, q)| (*p, *q)).collect();
        let of =
            |side| -> Vec<(i64, i64)> { book.levels(side).map(|l| (l.price.0, l.qty.0)).collect() };
        of(Side::Bid) == bids && of(Side::Ask) == asks
    }
}
