//! Bytes → [`BinanceMsg`]: the fast path first, the simd-json tape walk as
//! fallback and reference. All buffers are owned by the decoder and sized at
//! construction; decoding allocates nothing after the first frames (simd-json's
//! internal buffers size themselves to the largest frame seen, once).

use simd_json::{Node, StaticNode};

use super::fast::{self, Fast};
use super::msg::{
    BinanceMsg, DepthSnapshot, Fields, Key, KnownKey, Raw, SnapshotReply, classify,
    classify_snapshot, key_of,
};
use crate::book::Level;
use crate::types::{Price, Qty, ResolveSymbol, Scaling, Venue};
use crate::venue::scan::{self, LevelBuf, PriceShape, TapeScratch};
use crate::venue::{DecodeError, DecodeStats, JsonType, Location, What};

/// Default largest frame or REST body: 4 MiB (a 5,000-level snapshot is ~300 kB).
pub const DEFAULT_MAX_FRAME: usize = 4 << 20;
/// Default maximum levels per side in one message (REST snapshots go to 5,000).
pub const DEFAULT_MAX_LEVELS: usize = 8_192;

/// Decodes Binance frames and REST depth bodies. One per feed thread.
#[derive(Debug)]
pub struct BinanceDecoder {
    venue: Venue,
    max_levels: usize,
    fast_path: bool,
    /// The tape path's parse state.
    scratch: TapeScratch,
    bids: LevelBuf,
    asks: LevelBuf,
    /// The fast path's guess at the next price's length (a hint only).
    shape: PriceShape,
    stats: DecodeStats,
}

impl BinanceDecoder {
    /// A decoder for `venue` with the default limits.
    pub fn new(venue: Venue) -> BinanceDecoder {
        BinanceDecoder::with_limits(venue, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS)
    }

    /// A decoder accepting frames up to `max_frame` bytes and `max_levels`
    /// levels per side. Allocates all its buffers now.
    pub fn with_limits(venue: Venue, max_frame: usize, max_levels: usize) -> BinanceDecoder {
        BinanceDecoder {
            venue,
            max_levels,
            fast_path: true,
            scratch: TapeScratch::new(venue, max_frame),
            bids: LevelBuf::new(max_levels),
            asks: LevelBuf::new(max_levels),
            shape: PriceShape::default(),
            stats: DecodeStats::default(),
        }
    }

    /// Turns the fast path off (every frame takes the simd-json path). For
    /// tests and benchmarks that compare the two.
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
    }

    /// The venue this decoder speaks.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Fast-path vs tape-path counts.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Decodes one WebSocket text frame (bare or combined-stream wrapped).
    /// Symbols are resolved through `symbols`; frames for other symbols come
    /// back as [`BinanceMsg::UnknownSymbol`] without their levels parsed.
    #[inline]
    pub fn decode<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<BinanceMsg<'a>, DecodeError> {
        self.decode_bounded(frame, symbols).map(|(msg, _)| msg)
    }

    /// [`decode`](Self::decode), also saying whether every level of a
    /// depth message was read in Binance's eight-decimal form by the fast
    /// path, which puts every price and quantity in `0..10^15`.
    #[inline(always)]
    pub(crate) fn decode_bounded<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<(BinanceMsg<'a>, bool), DecodeError> {
        // Inlined into the caller down to here, so the usual message is
        // built in place; the tape path stays out of line.
        self.scratch.check_size(frame)?;
        self.bids.clear();
        self.asks.clear();
        if self.fast_path {
            let (bids, asks, shape) = (&mut self.bids, &mut self.asks, &mut self.shape);
            match fast::scan(frame, self.venue, symbols, bids, asks, shape) {
                Some(Fast::Depth(h)) => {
                    self.stats.fast += 1;
                    let (bids, asks) = (self.bids.as_slice(), self.asks.as_slice());
                    return Ok((BinanceMsg::Depth(h.with_levels(bids, asks)), h.bounded));
                }
                Some(Fast::Other(msg)) => {
                    self.stats.fast += 1;
                    return Ok((msg, false));
                }
                None => {}
            }
        }
        self.decode_tape(frame, symbols).map(|msg| (msg, false))
    }

    /// The simd-json tape path: every frame the fast path does not take.
    #[inline(never)]
    fn decode_tape<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<BinanceMsg<'a>, DecodeError> {
        let venue = self.venue;
        let BinanceDecoder {
            scratch,
            bids,
            asks,
            stats,
            max_levels,
            ..
        } = self;
        // The fast path may have left partial output.
        bids.clear();
        asks.clear();
        stats.fallback += 1;
        let mut fields = Fields::default();
        let target = Target::Stream(symbols);
        let scaling = tape_fields(
            venue,
            frame,
            scratch,
            target,
            &mut fields,
            bids,
            asks,
            *max_levels,
        )?;
        let (bids, asks): (&'a LevelBuf, &'a LevelBuf) = (bids, asks);
        classify(venue, &fields, scaling, bids.as_slice(), asks.as_slice())
    }

    /// Decodes a REST depth snapshot body for the instrument `scaling`.
    pub fn decode_snapshot<'a>(
        &'a mut self,
        body: &'a [u8],
        scaling: Scaling,
    ) -> Result<SnapshotReply<'a>, DecodeError> {
        self.scratch.check_size(body)?;
        let venue = self.venue;
        let BinanceDecoder {
            scratch,
            bids,
            asks,
            stats,
            max_levels,
            fast_path,
            ..
        } = self;
        bids.clear();
        asks.clear();
        if *fast_path {
            if let Some(h) = fast::scan_snapshot(body, scaling, bids, asks) {
                stats.fast += 1;
                let (bids, asks): (&'a LevelBuf, &'a LevelBuf) = (bids, asks);
                return Ok(SnapshotReply::Book(DepthSnapshot {
                    last_update_id: h.last_update_id,
                    event_ms: h.event_ms,
                    transact_ms: h.transact_ms,
                    bids: bids.as_slice(),
                    asks: asks.as_slice(),
                }));
            }
            bids.clear();
            asks.clear();
        }
        stats.fallback += 1;
        let mut fields = Fields::default();
        let target: Target<'_, NoSymbols> = Target::Snapshot(scaling);
        tape_fields(
            venue,
            body,
            scratch,
            target,
            &mut fields,
            bids,
            asks,
            *max_levels,
        )?;
        let (bids, asks): (&'a LevelBuf, &'a LevelBuf) = (bids, asks);
        classify_snapshot(venue, &fields, bids.as_slice(), asks.as_slice())
    }
}

/// What the object being walked is.
#[derive(Debug)]
enum Target<'r, R> {
    /// A stream frame: the symbol comes from `s`.
    Stream(&'r R),
    /// A REST snapshot body for a known instrument.
    Snapshot(Scaling),
}

// Manual impls: a derive would demand `R: Copy`, but only `&R` is held.
impl<R> Clone for Target<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Target<'_, R> {}

/// A resolver that knows no symbols (REST snapshots carry none).
#[derive(Debug, Clone, Copy)]
struct NoSymbols;

impl ResolveSymbol for NoSymbols {
    fn resolve(&self, _: &[u8]) -> Option<Scaling> {
        None
    }
}

/// The tape path: simd-json parses into the reused tape, then the tape is
/// walked into [`Fields`], parsing level lists into `bids` / `asks`.
#[allow(
    clippy::too_many_arguments,
    reason = "split borrows of the decoder's fields"
)]
fn tape_fields<'a, R: ResolveSymbol>(
    venue: Venue,
    frame: &[u8],
    scratch: &'a mut TapeScratch,
    target: Target<'_, R>,
    fields: &mut Fields<'a>,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    max_levels: usize,
) -> Result<Option<Scaling>, DecodeError> {
    scratch
        .parse(frame, |nodes| {
            walk(venue, nodes, target, fields, bids, asks, max_levels)
        })
        .map_err(|e| tape_error(venue, frame, e.error(), e.index()))?
}

/// What simd-json refused, said as precisely as the frame allows (error
/// path only): invalid UTF-8 at the first bad byte (simd-json validates in
/// blocks and reports the block), and an integer too large for any integer
/// type at the field it belongs to, rather than "invalid JSON" at a byte.
#[cold]
fn tape_error(
    venue: Venue,
    frame: &[u8],
    kind: &simd_json::ErrorType,
    index: usize,
) -> DecodeError {
    let utf8 = matches!(kind, simd_json::ErrorType::InvalidUtf8);
    match oversized_integer(frame, index).filter(|_| !utf8) {
        Some(key) => DecodeError {
            venue,
            what: if key.is_id() {
                What::IdOutOfRange
            } else {
                What::Expected(JsonType::UnsignedInteger)
            },
            at: Location::field(key.name()),
        },
        None => scan::tape_error(venue, frame, kind, index),
    }
}

/// The known key whose value is the run of digits at or right after
/// `index`, when that run is too long for a `u64` (20 digits or more).
fn oversized_integer(frame: &[u8], index: usize) -> Option<KnownKey> {
    let digit = |i: usize| frame.get(i).is_some_and(u8::is_ascii_digit);
    let mut start = index.min(frame.len());
    // simd-json points at the number or at the separator before it.
    while start < frame.len() && !digit(start) && matches!(frame[start], b':' | b' ' | b'-') {
        start += 1;
    }
    while start > 0 && digit(start - 1) {
        start -= 1;
    }
    let end = (start..frame.len())
        .find(|&i| !digit(i))
        .unwrap_or(frame.len());
    if end - start < 20 {
        return None;
    }
    // Back over `"key":` (whitespace allowed around the colon).
    let before = frame[..start].trim_ascii_end().strip_suffix(b":")?;
    let before = before.trim_ascii_end().strip_suffix(b"\"")?;
    let open = before.iter().rposition(|&b| b == b'"')?;
    match key_of(&before[open + 1..]) {
        Key::Known(k) => Some(k),
        _ => None,
    }
}

/// Nodes a value spans on the tape, itself included.
#[inline]
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

fn raw_of<'a>(node: &Node<'a>) -> Raw<'a> {
    match *node {
        Node::String(s) => Raw::Str(s.as_bytes()),
        Node::Static(StaticNode::I64(v)) if v >= 0 => Raw::UInt(v as u64),
        Node::Static(StaticNode::I64(v)) => Raw::Neg(v),
        Node::Static(StaticNode::U64(v)) => Raw::UInt(v),
        Node::Static(StaticNode::Bool(b)) => Raw::Bool(b),
        Node::Static(StaticNode::Null) => Raw::Null,
        Node::Static(StaticNode::F64(_)) => Raw::Other(JsonType::Integer),
        Node::Array { .. } => Raw::Other(JsonType::Array),
        Node::Object { .. } => Raw::Other(JsonType::Object),
    }
}

/// Calls `f(key, value_index)` for each member of the object at `at`.
fn members<'a>(nodes: &[Node<'a>], at: usize, mut f: impl FnMut(&'a str, usize)) {
    let Some(&Node::Object { len, .. }) = nodes.get(at) else {
        return;
    };
    let mut i = at + 1;
    for _ in 0..len {
        let (Some(&Node::String(key)), Some(value)) = (nodes.get(i), nodes.get(i + 1)) else {
            return;
        };
        f(key, i + 1);
        i += 1 + span(value);
    }
}

fn walk<'a, R: ResolveSymbol>(
    venue: Venue,
    nodes: &[Node<'a>],
    target: Target<'_, R>,
    fields: &mut Fields<'a>,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    max_levels: usize,
) -> Result<Option<Scaling>, DecodeError> {
    if !matches!(nodes.first(), Some(Node::Object { .. })) {
        return Err(DecodeError {
            venue,
            what: What::UnknownMessage,
            at: Location::Root,
        });
    }
    // The combined-stream envelope: {"stream":"<name>","data":{...}}.
    let mut root = 0;
    if let Target::Stream(_) = target {
        let (mut stream, mut data) = (false, None);
        members(nodes, 0, |key, v| match key_of(key.as_bytes()) {
            Key::Stream => stream = matches!(nodes[v], Node::String(_)),
            Key::Data => data = matches!(nodes[v], Node::Object { .. }).then_some(v),
            _ => {}
        });
        if let (true, Some(d)) = (stream, data) {
            root = d;
        }
    }
    let (mut scaling, level_keys) = match target {
        Target::Stream(_) => (None, [KnownKey::b, KnownKey::a]),
        Target::Snapshot(s) => (Some(s), [KnownKey::bids, KnownKey::asks]),
    };
    let mut level_at: [Option<usize>; 2] = [None, None];
    members(nodes, root, |key, v| match key_of(key.as_bytes()) {
        Key::Known(k) => {
            let mut raw = raw_of(&nodes[v]);
            if let Some(side) = level_keys.iter().position(|&lk| lk == k) {
                if matches!(nodes[v], Node::Array { .. }) {
                    raw = Raw::Levels;
                    level_at[side] = Some(v);
                }
            }
            *fields.slot(k) = Some(raw);
        }
        Key::Error => members(nodes, v, |inner, w| {
            if let Key::Known(k @ (KnownKey::code | KnownKey::msg)) = key_of(inner.as_bytes()) {
                *fields.slot(k) = Some(raw_of(&nodes[w]));
            }
        }),
        _ => {}
    });
    if let (Target::Stream(symbols), Some(Raw::Str(sym))) = (target, fields.get(KnownKey::s)) {
        scaling = symbols.resolve(sym);
    }
    if let Some(scaling) = scaling {
        if let Some(at) = level_at[0] {
            parse_levels(venue, nodes, at, level_keys[0], scaling, bids, max_levels)?;
        }
        if let Some(at) = level_at[1] {
            parse_levels(venue, nodes, at, level_keys[1], scaling, asks, max_levels)?;
        }
    }
    Ok(scaling)
}

fn parse_levels(
    venue: Venue,
    nodes: &[Node<'_>],
    at: usize,
    key: KnownKey,
    scaling: Scaling,
    out: &mut LevelBuf,
    max_levels: usize,
) -> Result<(), DecodeError> {
    let Some(&Node::Array { len, .. }) = nodes.get(at) else {
        return Ok(());
    };
    let name = key.name();
    if len > max_levels {
        let max = u32::try_from(max_levels).unwrap_or(u32::MAX);
        return Err(DecodeError {
            venue,
            what: What::TooManyLevels { max },
            at: Location::field(name),
        });
    }
    let mut i = at + 1;
    for level in 0..len {
        let here = |part: Option<u8>| Location::Field {
            key: name,
            level: Some(level as u32),
            part,
        };
        let (Some(Node::Array { len: 2, count: 2 }), Some(Node::String(p)), Some(Node::String(q))) =
            (nodes.get(i), nodes.get(i + 1), nodes.get(i + 2))
        else {
            return Err(DecodeError {
                venue,
                what: What::Expected(JsonType::Level),
                at: here(None),
            });
        };
        let price = Price::parse(p.as_bytes(), scaling.price).map_err(|e| DecodeError {
            venue,
            what: What::Number(e),
            at: here(Some(0)),
        })?;
        if price.0 <= 0 && !scaling.negative_prices {
            return Err(DecodeError {
                venue,
                what: What::NotPositive,
                at: here(Some(0)),
            });
        }
        let qty = Qty::parse(q.as_bytes(), scaling.qty).map_err(|e| DecodeError {
            venue,
            what: What::Number(e),
            at: here(Some(1)),
        })?;
        // `len <= max_levels` was checked above, so there is room.
        out.push(Level { price, qty }).ok_or(DecodeError {
            venue,
            what: What::TooManyLevels {
                max: u32::try_from(max_levels).unwrap_or(u32::MAX),
            },
            at: here(None),
        })?;
        i += 3;
    }
    Ok(())
}
