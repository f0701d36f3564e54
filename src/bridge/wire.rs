//! The bridge's wire format: every Aeron message is a 16-byte header and
//! then 64-byte records, all integers little-endian.
//!
//! ```text
//! header   magic u16 = "TW" | version u8 = 1 | kind u8 | count u32 | seq u64
//! Events   count events (Event::to_bytes); seq = stream sequence of the first,
//!          the k-th carries seq + k (sequence numbers start at 1)
//! Snapshot one instrument's SnapshotBegin, levels, SnapshotEnd; seq = the
//!          main stream's last sequence published before it ("as of")
//! Catalog  count instrument entries (see CatalogEntry); seq = book capacity
//! ```

use crate::types::{Event, Instrument, InstrumentId, Registry, RegistryError, Scale, Venue};

/// Bytes of the message header.
pub const HEADER_LEN: usize = 16;
/// Bytes of one record (an event or a catalog entry).
pub const RECORD_LEN: usize = 64;
const MAGIC: u16 = u16::from_le_bytes(*b"TW");
const VERSION: u8 = 1;

/// What a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Live events on the main stream.
    Events = 1,
    /// A full book of one instrument on the snapshot stream.
    Snapshot = 2,
    /// The instruments (ids, symbols, scales) on the snapshot stream.
    Catalog = 3,
}

/// A decoded message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What follows.
    pub kind: Kind,
    /// Records that follow.
    pub count: u32,
    /// Per kind: first sequence, as-of sequence, or book capacity.
    pub seq: u64,
}

/// Why a message was refused (it is then dropped and counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than a header.
    #[error("message shorter than its header")]
    Short,
    /// Not a tickwire bridge message of this version.
    #[error("bad magic or version")]
    Magic,
    /// Unknown kind byte.
    #[error("unknown message kind {0}")]
    Kind(u8),
    /// The length is not the header plus `count` records.
    #[error("length does not match the record count")]
    Length,
}

/// Writes a header into `out[..HEADER_LEN]`.
#[inline]
pub fn write_header(out: &mut [u8], h: Header) {
    out[0..2].copy_from_slice(&MAGIC.to_le_bytes());
    out[2] = VERSION;
    out[3] = h.kind as u8;
    out[4..8].copy_from_slice(&h.count.to_le_bytes());
    out[8..16].copy_from_slice(&h.seq.to_le_bytes());
}

/// Checks a whole message and returns its header and its records.
#[inline]
pub fn read_message(msg: &[u8]) -> Result<(Header, &[u8]), WireError> {
    if msg.len() < HEADER_LEN {
        return Err(WireError::Short);
    }
    if msg[0..2] != MAGIC.to_le_bytes() || msg[2] != VERSION {
        return Err(WireError::Magic);
    }
    let kind = match msg[3] {
        1 => Kind::Events,
        2 => Kind::Snapshot,
        3 => Kind::Catalog,
        k => return Err(WireError::Kind(k)),
    };
    let mut c = [0u8; 4];
    c.copy_from_slice(&msg[4..8]);
    let count = u32::from_le_bytes(c);
    let mut s = [0u8; 8];
    s.copy_from_slice(&msg[8..16]);
    let body = &msg[HEADER_LEN..];
    if body.len() != count as usize * RECORD_LEN {
        return Err(WireError::Length);
    }
    Ok((
        Header {
            kind,
            count,
            seq: u64::from_le_bytes(s),
        },
        body,
    ))
}

/// The `i`-th event of a message body (caller checks `i < count`).
#[inline]
pub fn event_at(body: &[u8], i: usize) -> Event {
    let mut rec = [0u8; RECORD_LEN];
    rec.copy_from_slice(&body[i * RECORD_LEN..(i + 1) * RECORD_LEN]);
    Event::from_bytes(&rec)
}

/// Appends `e` at record slot `i` of `out` (after the header).
#[inline]
pub fn put_event(out: &mut [u8], i: usize, e: &Event) {
    let at = HEADER_LEN + i * RECORD_LEN;
    out[at..at + RECORD_LEN].copy_from_slice(&e.to_bytes());
}

/// One instrument of the catalog record:
/// `id u32 | venue u8 | price scale u8 | qty scale u8 | negative prices u8 |
/// tick i64 | lot i64 | symbol length u8 | symbol bytes (up to 39)`.
pub fn put_catalog_entry(out: &mut [u8], i: usize, inst: &Instrument) {
    let at = HEADER_LEN + i * RECORD_LEN;
    let rec = &mut out[at..at + RECORD_LEN];
    rec.fill(0);
    rec[0..4].copy_from_slice(&inst.id.0.to_le_bytes());
    rec[4] = inst.venue as u8;
    rec[5] = inst.price_scale.decimals();
    rec[6] = inst.qty_scale.decimals();
    rec[7] = u8::from(inst.negative_prices);
    rec[8..16].copy_from_slice(&inst.tick.to_le_bytes());
    rec[16..24].copy_from_slice(&inst.lot.to_le_bytes());
    let sym = inst.symbol.as_bytes();
    rec[24] = sym.len() as u8;
    rec[25..25 + sym.len()].copy_from_slice(sym);
}

/// Why a catalog could not be turned into a registry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Entries are not ids `0..count` in order.
    #[error("catalog entry {0} is out of order")]
    Order(usize),
    /// An unknown venue, a bad scale or symbol.
    #[error("catalog entry {0} is malformed")]
    Malformed(usize),
    /// The registry refused the instrument.
    #[error("catalog entry {0}: {1}")]
    Registry(usize, RegistryError),
}

/// Rebuilds the publisher's registry (same ids, symbols, scales) from a
/// catalog body. Setup-time: allocates.
pub fn read_catalog(body: &[u8], count: usize) -> Result<Registry, CatalogError> {
    let mut reg = Registry::new();
    for i in 0..count {
        let rec = &body[i * RECORD_LEN..(i + 1) * RECORD_LEN];
        let mut id = [0u8; 4];
        id.copy_from_slice(&rec[0..4]);
        if u32::from_le_bytes(id) as usize != i {
            return Err(CatalogError::Order(i));
        }
        let venue = Venue::from_u8(rec[4]).ok_or(CatalogError::Malformed(i))?;
        let ps = Scale::new(rec[5]).ok_or(CatalogError::Malformed(i))?;
        let qs = Scale::new(rec[6]).ok_or(CatalogError::Malformed(i))?;
        let mut w = [0u8; 8];
        w.copy_from_slice(&rec[8..16]);
        let tick = i64::from_le_bytes(w);
        w.copy_from_slice(&rec[16..24]);
        let lot = i64::from_le_bytes(w);
        let len = usize::from(rec[24]);
        let sym = rec
            .get(25..25 + len)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or(CatalogError::Malformed(i))?;
        let tick_text = crate::types::Price(tick).at(ps).to_string();
        let lot_text = crate::types::Qty(lot).at(qs).to_string();
        let id = reg
            .add(venue, sym, &tick_text, &lot_text)
            .map_err(|e| CatalogError::Registry(i, e))?;
        reg.set_negative_prices(id, rec[7] != 0);
        let got = reg.get(InstrumentId(i as u32));
        if got.price_scale != ps || got.qty_scale != qs || got.tick != tick || got.lot != lot {
            return Err(CatalogError::Malformed(i));
        }
    }
    Ok(reg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, Qty, Side, Stamp, StatusCode};

    #[test]
    fn events_round_trip_through_a_message() {
        let stamp = Stamp {
            venue: Venue::BinanceSpot,
            instrument: InstrumentId(3),
            seq: 77,
            exch_ns: 5,
            recv_ns: 9,
        };
        let evs = [
            Event::level(stamp, Side::Ask, Price(-12345), Qty(678), 1),
            Event::status(stamp, StatusCode::Resync, 4, -2, true),
        ];
        let mut buf = vec![0u8; HEADER_LEN + 2 * RECORD_LEN];
        write_header(
            &mut buf,
            Header {
                kind: Kind::Events,
                count: 2,
                seq: 41,
            },
        );
        for (i, e) in evs.iter().enumerate() {
            put_event(&mut buf, i, e);
        }
        let (h, body) = read_message(&buf).unwrap();
        assert_eq!((h.kind, h.count, h.seq), (Kind::Events, 2, 41));
        assert_eq!(event_at(body, 0), evs[0]);
        assert_eq!(event_at(body, 1), evs[1]);
        assert_eq!(
            read_message(&buf[..HEADER_LEN + 10]),
            Err(WireError::Length)
        );
        assert_eq!(read_message(&buf[..4]), Err(WireError::Short));
        buf[3] = 9;
        assert_eq!(read_message(&buf), Err(WireError::Kind(9)));
        buf[0] = b'X';
        assert_eq!(read_message(&buf), Err(WireError::Magic));
    }

    #[test]
    fn a_catalog_rebuilds_the_same_registry() {
        let mut reg = Registry::new();
        reg.add(Venue::BinanceSpot, "BTCUSDT", "0.01000000", "0.00001")
            .unwrap();
        reg.add(Venue::Okx, "ETH-USDT", "0.1", "1").unwrap();
        let mut buf = vec![0u8; HEADER_LEN + 2 * RECORD_LEN];
        for inst in reg.iter() {
            put_catalog_entry(&mut buf, inst.id.index(), inst);
        }
        let back = read_catalog(&buf[HEADER_LEN..], 2).unwrap();
        assert_eq!(back.len(), 2);
        for (a, b) in reg.iter().zip(back.iter()) {
            assert_eq!(a, b);
        }
        buf[HEADER_LEN] = 1;
        assert!(matches!(
            read_catalog(&buf[HEADER_LEN..], 2),
            Err(CatalogError::Order(0))
        ));
    }
}
