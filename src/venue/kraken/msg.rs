//! Kraken WebSocket v2 wire messages, borrowed from the decoder's buffers,
//! and the converters both decoders turn every value through (so they
//! cannot disagree about what a value means).

use crate::book::Level;
use crate::types::{Aggressor, NumError, Price, Qty, Scale, Scaling, Venue, parse_decimal};
use crate::venue::{DecodeError, JsonType, Location, What};

/// A decoded Kraken v2 frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KrakenMsg<'a> {
    /// `book`: a snapshot or an update, one entry per symbol in `data`.
    Book(BookMsg<'a>),
    /// `ticker` (subscribed with `event_trigger: "bbo"`): best bid and offer.
    Bbo(&'a [BboMsg]),
    /// `trade`: one or more trades, in the frame's order.
    Trades(&'a [TradeMsg]),
    /// `status`: the venue's state, first on every connection.
    Status {
        /// `connection_id` (a u64 beyond 2^53, read from its text).
        connection_id: u64,
        /// `system`: `online`, `maintenance`, `cancel_only`, `post_only`.
        online: bool,
    },
    /// `{"method":"subscribe"|"unsubscribe","success":true,..}`.
    Ack {
        /// `unsubscribe` (else `subscribe`).
        unsubscribe: bool,
        /// `result.channel`.
        channel: &'a str,
    },
    /// `{"method":..,"success":false,"error":".."}`: a request was refused.
    Refused {
        /// `error` (empty when absent).
        error: &'a str,
        /// `symbol`, when the refusal names one.
        symbol: Option<&'a str>,
    },
    /// `{"channel":"heartbeat"}`: the connection is alive (about 1 Hz).
    Heartbeat,
    /// `{"method":"pong",..}`: the answer to our `ping`.
    Pong,
    /// A valid frame of a channel or method tickwire does not consume.
    Unhandled,
    /// Market data only for symbols that are not subscribed (ignored).
    UnknownSymbol,
}

/// `book` `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookKind {
    /// The whole book (to the subscribed depth): replaces what is held.
    Snapshot,
    /// Changed levels; `qty` 0 deletes.
    Update,
}

/// One `book` frame: its entries (one per symbol of `data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookMsg<'a> {
    /// Snapshot or update.
    pub kind: BookKind,
    pub(crate) entries: &'a [BookEntry],
    pub(crate) bids: &'a [Level],
    pub(crate) asks: &'a [Level],
}

impl<'a> BookMsg<'a> {
    /// The entries of subscribed symbols, in the frame's order.
    pub fn entries(&self) -> impl Iterator<Item = BookView<'a>> + '_ {
        self.entries.iter().map(|e| BookView {
            scaling: e.scaling,
            kind: self.kind,
            checksum: e.checksum,
            exch_ns: e.exch_ns,
            bids: &self.bids[e.bids.0 as usize..e.bids.1 as usize],
            asks: &self.asks[e.asks.0 as usize..e.asks.1 as usize],
        })
    }
}

/// Where one entry's levels are in the decoder's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BookEntry {
    pub(crate) scaling: Scaling,
    pub(crate) checksum: u32,
    pub(crate) exch_ns: u64,
    /// `start..end` in the bid buffer.
    pub(crate) bids: (u32, u32),
    /// `start..end` in the ask buffer.
    pub(crate) asks: (u32, u32),
}

/// One symbol's part of a `book` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookView<'a> {
    /// Instrument and scales (from `symbol`).
    pub scaling: Scaling,
    /// Snapshot or update.
    pub kind: BookKind,
    /// `checksum`: CRC32 of the top 10 asks and bids after the message.
    pub checksum: u32,
    /// `timestamp`, ns since the epoch (0 when absent).
    pub exch_ns: u64,
    /// `bids`, in the frame's order (updates are not sorted).
    pub bids: &'a [Level],
    /// `asks`, in the frame's order.
    pub asks: &'a [Level],
}

/// `ticker`: the top of the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BboMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `bid`, `bid_qty`.
    pub bid: Level,
    /// `ask`, `ask_qty`.
    pub ask: Level,
    /// `timestamp` when sent, ns (0 when absent).
    pub exch_ns: u64,
}

/// One trade of a `trade` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `trade_id`.
    pub trade_id: u64,
    /// `price`.
    pub price: Price,
    /// `qty` (above zero).
    pub qty: Qty,
    /// `side`: the taker's side.
    pub aggressor: Aggressor,
    /// `timestamp`, ns.
    pub exch_ns: u64,
}

/// An error at a plain field.
#[cold]
pub(crate) fn err(what: What, key: &'static str) -> DecodeError {
    DecodeError {
        venue: Venue::Kraken,
        what,
        at: Location::field(key),
    }
}

/// An error at element `part` of level `index` of `key`.
#[cold]
pub(crate) fn level_err(what: What, key: &'static str, index: usize, part: u8) -> DecodeError {
    DecodeError {
        venue: Venue::Kraken,
        what,
        at: Location::Field {
            key,
            level: Some(u32::try_from(index).unwrap_or(u32::MAX)),
            part: Some(part),
        },
    }
}

/// A bare JSON number read exactly at `scale`: a plain decimal with at most
/// `scale` decimals (the pair's precision; more is refused, never rounded,
/// even when they are zeros), no exponent (refused: Kraken never sends one,
/// and its checksum is over plain text), unsigned unless `signed`.
#[inline]
pub(crate) fn exact(text: &[u8], scale: Scale, signed: bool) -> Result<i64, NumError> {
    if let Some(at) = text.iter().position(|&b| b == b'e' || b == b'E') {
        return Err(NumError::InvalidChar {
            at: u8::try_from(at).unwrap_or(u8::MAX),
            byte: text[at],
        });
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if let Some(dot) = digits.iter().position(|&b| b == b'.') {
        let frac = &digits[dot + 1..];
        let len = frac
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(frac.len());
        if len > usize::from(scale.decimals()) {
            return Err(NumError::TooManyDecimals {
                scale: scale.decimals(),
            });
        }
    }
    parse_decimal(text, scale, signed)
}

/// A level's price and quantity texts of side `key`, level `index`:
/// the price above zero (unless the instrument allows otherwise), the
/// quantity unsigned (0 deletes).
#[inline]
pub(crate) fn level(
    px: &[u8],
    qty: &[u8],
    scaling: Scaling,
    key: &'static str,
    index: usize,
) -> Result<Level, DecodeError> {
    let price = exact(px, scaling.price, scaling.negative_prices)
        .map_err(|e| level_err(What::Number(e), key, index, 0))?;
    if price <= 0 && !scaling.negative_prices {
        return Err(level_err(What::NotPositive, key, index, 0));
    }
    let qty =
        exact(qty, scaling.qty, false).map_err(|e| level_err(What::Number(e), key, index, 1))?;
    Ok(Level {
        price: Price(price),
        qty: Qty(qty),
    })
}

/// A non-negative integer's text as `u64` (`connection_id`, `trade_id`,
/// `checksum`), exactly: never through a float.
#[inline]
pub(crate) fn uint(text: &[u8], key: &'static str) -> Result<u64, DecodeError> {
    if text.is_empty() || text.len() > 20 || !text.iter().all(u8::is_ascii_digit) {
        return Err(err(What::Expected(JsonType::UnsignedInteger), key));
    }
    if text.len() > 1 && text[0] == b'0' {
        return Err(err(What::Expected(JsonType::UnsignedInteger), key));
    }
    let mut v: u64 = 0;
    for &b in text {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(err(What::IdOutOfRange, key))?;
    }
    Ok(v)
}

/// `checksum`: an unsigned 32-bit integer.
#[inline]
pub(crate) fn checksum(text: &[u8]) -> Result<u32, DecodeError> {
    let v = uint(text, "checksum")?;
    u32::try_from(v).map_err(|_| err(What::Expected(JsonType::UnsignedInteger), "checksum"))
}

/// A trade's `side`.
pub(crate) fn aggressor(side: &[u8]) -> Result<Aggressor, DecodeError> {
    match side {
        b"buy" => Ok(Aggressor::Buy),
        b"sell" => Ok(Aggressor::Sell),
        _ => Err(err(What::UnknownMessage, "side")),
    }
}

/// A trade's price and quantity (quantity above zero).
pub(crate) fn trade_values(
    px: &[u8],
    qty: &[u8],
    scaling: Scaling,
) -> Result<(Price, Qty), DecodeError> {
    let l = level(px, qty, scaling, "price", 0).map_err(|e| match e.what {
        What::Number(n) => err(
            What::Number(n),
            if matches!(e.at, Location::Field { part: Some(1), .. }) {
                "qty"
            } else {
                "price"
            },
        ),
        w => err(w, "price"),
    })?;
    if l.qty.0 == 0 {
        return Err(err(What::NotPositive, "qty"));
    }
    Ok((l.price, l.qty))
}

/// RFC 3339 UTC `YYYY-MM-DDTHH:MM:SS[.fraction]Z` → ns since the epoch.
#[inline]
pub(crate) fn timestamp(s: &[u8]) -> Result<u64, DecodeError> {
    let bad = || err(What::Number(NumError::Empty), "timestamp");
    if s.len() < 20
        || s[4] != b'-'
        || s[7] != b'-'
        || s[10] != b'T'
        || s[13] != b':'
        || s[16] != b':'
    {
        return Err(bad());
    }
    let num = |a: usize, b: usize| -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for &c in &s[a..b] {
            if !c.is_ascii_digit() {
                return Err(bad());
            }
            v = v * 10 + u64::from(c - b'0');
        }
        Ok(v)
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
        || y < 1970
    {
        return Err(bad());
    }
    let mut nanos = 0u64;
    let mut i = 19;
    if s[i] == b'.' {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u64::from(s[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(bad());
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    if i + 1 != s.len() || s[i] != b'Z' {
        return Err(bad());
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    let secs = days as u64 * 86_400 + h * 3_600 + mi * 60 + sec;
    Ok(secs * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u8) -> Scale {
        Scale::new(n).unwrap()
    }

    #[test]
    fn numbers_are_read_exactly_at_the_pairs_precision() {
        assert_eq!(exact(b"62807.0", s(1), false), Ok(628_070));
        assert_eq!(exact(b"0.00005100", s(8), false), Ok(5_100));
        assert_eq!(exact(b"0.0286", s(4), false), Ok(286));
        assert_eq!(exact(b"12", s(1), false), Ok(120));
        assert_eq!(
            exact(b"62807.05", s(1), false),
            Err(NumError::TooManyDecimals { scale: 1 })
        );
        // Even a zero beyond the precision: the wire writes at the precision.
        assert_eq!(
            exact(b"0.02860", s(4), false),
            Err(NumError::TooManyDecimals { scale: 4 })
        );
        assert!(matches!(
            exact(b"1e-5", s(8), false),
            Err(NumError::InvalidChar { byte: b'e', .. })
        ));
        assert!(exact(b"-1.5", s(1), false).is_err());
    }

    #[test]
    fn ids_are_u64_from_text() {
        assert_eq!(
            uint(b"3007355780899554854", "connection_id"),
            Ok(3_007_355_780_899_554_854)
        );
        assert_eq!(uint(b"18446744073709551615", "x"), Ok(u64::MAX));
        assert_eq!(
            uint(b"18446744073709551616", "x").unwrap_err().what,
            What::IdOutOfRange
        );
        assert!(uint(b"1.5", "x").is_err());
        assert!(uint(b"01", "x").is_err());
        assert!(checksum(b"4294967296").is_err());
        assert_eq!(checksum(b"4294967295"), Ok(u32::MAX));
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(b"1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            timestamp(b"2026-08-16T23:37:04.190019Z"),
            Ok(1_786_923_424_190_019_000)
        );
        assert!(timestamp(b"2026-08-16 23:37:04Z").is_err());
        assert!(timestamp(b"2026-08-16T23:37:04.Z").is_err());
        assert!(timestamp(b"2026-13-16T23:37:04Z").is_err());
        assert!(timestamp(b"2026-1a-16T23:37:04Z").is_err());
        assert!(timestamp(b"2026-08-16T23:37:0/Z").is_err());
        assert!(timestamp(b"1969-12-31T23:59:59Z").is_err());
        assert_eq!(
            timestamp(b"2000-02-29T12:00:00.5Z"),
            Ok(951_825_600_500_000_000)
        );
    }
}
