//! The fast path: templates for the usual `orderbook.{depth}.{symbol}`
//! snapshot and delta frames.
//!
//! Bybit writes a book message's keys in one of two orders (see the
//! fixtures): linear (and the history dumps) `topic, type, ts, data, cts`,
//! spot `topic, ts, type, data, cts`; `data` is `s, b, a, u, seq` in both.
//! Each is matched as a template, values parsed in the same pass with the
//! venue-neutral readers of [`crate::venue::scan`]. On any other order,
//! whitespace, escape, unknown symbol or value out of range the template
//! answers `None` and the caller runs the simd-json tape path, the
//! reference: the fast path never reports an error of its own, so for every
//! frame it takes it gives exactly what the tape path gives (tested on every
//! fixture frame and on generated ones).

use super::msg::{Kind, Topic, topic};
use super::tape::BookHead;
use crate::types::ResolveSymbol;
use crate::venue::scan::{Cursor, LevelBuf, PriceShape, id};

/// Recognises a whole book frame. `None` means "use the tape path"; the
/// level buffers may then hold partial output and must be cleared.
#[inline]
pub(crate) fn scan<R: ResolveSymbol>(
    frame: &[u8],
    symbols: &R,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    shape: &mut PriceShape,
) -> Option<BookHead> {
    let mut c = Cursor::new(frame);
    c.lit(b"{\"topic\":")?;
    let Topic::Book { depth, symbol } = topic(c.string()?) else {
        return None;
    };
    // `orderbook.1` is a top of book, built by the tape path.
    if depth == 1 {
        return None;
    }
    let scaling = symbols.resolve(symbol)?;
    let (kind, ts_ms);
    if c.peek_lit(b",\"type\":\"") {
        c.skip(9);
        kind = book_kind(&mut c)?;
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
    } else {
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
        c.lit(b",\"type\":\"")?;
        kind = book_kind(&mut c)?;
    }
    c.lit(b",\"data\":{\"s\":")?;
    c.string()?;
    c.lit(b",\"b\":")?;
    c.levels(scaling, bids, shape)?;
    c.lit(b",\"a\":")?;
    c.levels(scaling, asks, shape)?;
    let update_id = id(c.keyed_uint(b",\"u\":")?)?;
    c.lit(b",\"seq\":")?;
    let seq = id(c.uint()?)?;
    c.lit(b"},\"cts\":")?;
    let cts_ms = c.uint()?;
    c.eat(b'}')?;
    c.at_end().then_some(BookHead {
        scaling,
        depth,
        kind,
        update_id,
        seq: Some(seq),
        ts_ms,
        cts_ms: Some(cts_ms),
    })
}

/// `snapshot"` or `delta"` (the opening quote already read).
#[inline(always)]
fn book_kind(c: &mut Cursor<'_>) -> Option<Kind> {
    if c.peek_lit(b"delta\"") {
        c.skip(6);
        Some(Kind::Delta)
    } else if c.peek_lit(b"snapshot\"") {
        c.skip(9);
        Some(Kind::Snapshot)
    } else {
        None
    }
}
