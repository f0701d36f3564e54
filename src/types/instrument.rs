//! Venues, symbols and the instrument registry.
//!
//! Every instrument an engine handles gets a dense [`InstrumentId`] (an index
//! into the [`Registry`]), so per-instrument state lives in plain vectors and
//! events carry a 4-byte id instead of a symbol string.

use std::collections::HashMap;
use std::fmt;

use super::num::{Decimal, NumError, Scale};

/// A venue (exchange + market) that tickwire speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Venue {
    /// Binance spot (`stream.binance.com`, `/api/v3/depth`).
    BinanceSpot = 1,
    /// Binance USD-M futures (`fstream.binance.com`, `/fapi/v1/depth`).
    BinanceUsdm = 2,
}

impl Venue {
    /// The name used on the command line and in config files.
    pub const fn name(self) -> &'static str {
        match self {
            Venue::BinanceSpot => "binance-spot",
            Venue::BinanceUsdm => "binance-usdm",
        }
    }

    /// Parses [`Venue::name`].
    pub fn from_name(name: &str) -> Option<Venue> {
        match name {
            "binance-spot" => Some(Venue::BinanceSpot),
            "binance-usdm" => Some(Venue::BinanceUsdm),
            _ => None,
        }
    }

    /// Decodes the `repr(u8)` value stored in events.
    pub const fn from_u8(v: u8) -> Option<Venue> {
        match v {
            1 => Some(Venue::BinanceSpot),
            2 => Some(Venue::BinanceUsdm),
            _ => None,
        }
    }

    /// All venues, for help texts.
    pub const ALL: [Venue; 2] = [Venue::BinanceSpot, Venue::BinanceUsdm];
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Dense instrument index, valid within one [`Registry`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    /// The id as a vector index.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Maximum symbol length in bytes.
pub const SYMBOL_CAP: usize = 23;

/// A venue symbol stored inline (no heap), normalised to ASCII upper case so
/// that `btcusdt` (Binance stream names) and `BTCUSDT` (payloads) are one key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Symbol {
    len: u8,
    bytes: [u8; SYMBOL_CAP],
}

impl Symbol {
    /// Normalises `text`; `None` if it is empty, too long or not printable ASCII.
    #[inline]
    pub fn new(text: &[u8]) -> Option<Symbol> {
        if text.is_empty() || text.len() > SYMBOL_CAP {
            return None;
        }
        let mut bytes = [0u8; SYMBOL_CAP];
        for (dst, &b) in bytes.iter_mut().zip(text) {
            if !b.is_ascii_graphic() {
                return None;
            }
            *dst = b.to_ascii_uppercase();
        }
        Some(Symbol { len: text.len() as u8, bytes })
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        // Only ASCII graphic bytes are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a decoder needs to turn wire text into mantissas for one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scaling {
    /// The instrument the text belongs to.
    pub instrument: InstrumentId,
    /// Decimal places of prices.
    pub price: Scale,
    /// Decimal places of quantities.
    pub qty: Scale,
}

/// Static description of one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// Dense id (index in the registry).
    pub id: InstrumentId,
    /// Where it trades.
    pub venue: Venue,
    /// The venue's symbol, upper case.
    pub symbol: Symbol,
    /// Price scale and tick (`tick` is a mantissa at `price_scale`, ≥ 1).
    pub price_scale: Scale,
    /// Minimum price increment as a mantissa at `price_scale`.
    pub tick: i64,
    /// Quantity scale.
    pub qty_scale: Scale,
    /// Minimum quantity increment as a mantissa at `qty_scale`.
    pub lot: i64,
}

impl Instrument {
    /// The scaling a decoder uses for this instrument.
    #[inline]
    pub const fn scaling(&self) -> Scaling {
        Scaling { instrument: self.id, price: self.price_scale, qty: self.qty_scale }
    }
}

/// Errors when registering an instrument (setup time).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// The symbol is empty, longer than 23 bytes, or not printable ASCII.
    #[error("invalid symbol {0:?}: must be 1..=23 printable ASCII bytes")]
    BadSymbol(String),
    /// The same venue + symbol was registered twice.
    #[error("{venue} {symbol} is already registered")]
    Duplicate {
        /// Venue of the duplicate.
        venue: Venue,
        /// Its symbol.
        symbol: String,
    },
    /// A tick or lot size that is not a positive decimal.
    #[error("{what} size {text:?} is not a positive decimal: {reason}")]
    BadIncrement {
        /// `"tick"` or `"lot"`.
        what: &'static str,
        /// The text given.
        text: String,
        /// Why it failed.
        reason: IncrementError,
    },
}

/// Why a tick or lot size was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum IncrementError {
    /// Not a decimal number.
    #[error("{0}")]
    Number(#[from] NumError),
    /// Zero or negative.
    #[error("must be greater than zero")]
    NotPositive,
}

/// Parses a tick or lot size such as `"0.01"` into (scale, mantissa).
pub fn parse_increment(what: &'static str, text: &str) -> Result<(Scale, i64), RegistryError> {
    let bad = |reason| RegistryError::BadIncrement { what, text: text.to_owned(), reason };
    let d = Decimal::parse_exact(text).map_err(|e| bad(IncrementError::Number(e)))?;
    if d.mantissa <= 0 {
        return Err(bad(IncrementError::NotPositive));
    }
    Ok((d.scale, d.mantissa))
}

/// The set of instruments one engine (or one replay) knows, by dense id.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    instruments: Vec<Instrument>,
    index: HashMap<(Venue, Symbol), InstrumentId>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `symbol` on `venue` with the given tick and lot sizes
    /// (decimal text, e.g. `"0.01"`), returning its id.
    pub fn add(
        &mut self,
        venue: Venue,
        symbol: &str,
        tick_size: &str,
        lot_size: &str,
    ) -> Result<InstrumentId, RegistryError> {
        let sym = Symbol::new(symbol.as_bytes()).ok_or_else(|| RegistryError::BadSymbol(symbol.to_owned()))?;
        if self.index.contains_key(&(venue, sym)) {
            return Err(RegistryError::Duplicate { venue, symbol: sym.as_str().to_owned() });
        }
        let (price_scale, tick) = parse_increment("tick", tick_size)?;
        let (qty_scale, lot) = parse_increment("lot", lot_size)?;
        let id = InstrumentId(self.instruments.len() as u32);
        self.instruments.push(Instrument { id, venue, symbol: sym, price_scale, tick, qty_scale, lot });
        self.index.insert((venue, sym), id);
        Ok(id)
    }

    /// The instrument with this id. Panics on an id from another registry.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> &Instrument {
        &self.instruments[id.index()]
    }

    /// Looks up a venue symbol (any ASCII case). No allocation.
    #[inline]
    pub fn lookup(&self, venue: Venue, symbol: &[u8]) -> Option<&Instrument> {
        let sym = Symbol::new(symbol)?;
        self.index.get(&(venue, sym)).map(|id| &self.instruments[id.index()])
    }

    /// All instruments, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// A resolver for one venue's symbols, for the decoders.
    pub fn venue(&self, venue: Venue) -> VenueSymbols<'_> {
        VenueSymbols { registry: self, venue }
    }
}

/// Maps one venue's wire symbols to [`Scaling`]s.
pub trait ResolveSymbol {
    /// The scaling for `symbol`, or `None` when it is not subscribed.
    fn resolve(&self, symbol: &[u8]) -> Option<Scaling>;
}

/// A [`Registry`] restricted to one venue.
#[derive(Clone, Copy, Debug)]
pub struct VenueSymbols<'a> {
    registry: &'a Registry,
    venue: Venue,
}

impl ResolveSymbol for VenueSymbols<'_> {
    #[inline]
    fn resolve(&self, symbol: &[u8]) -> Option<Scaling> {
        self.registry.lookup(self.venue, symbol).map(Instrument::scaling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_maps_symbols_case_insensitively() {
        let mut reg = Registry::new();
        let id = reg.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001").unwrap();
        assert_eq!(id, InstrumentId(0));
        let inst = reg.lookup(Venue::BinanceSpot, b"btcusdt").unwrap();
        assert_eq!(inst.tick, 1);
        assert_eq!(inst.price_scale.decimals(), 2);
        assert_eq!(inst.qty_scale.decimals(), 5);
        assert!(reg.lookup(Venue::BinanceUsdm, b"BTCUSDT").is_none());
        assert!(matches!(
            reg.add(Venue::BinanceSpot, "btcusdt", "0.01", "1"),
            Err(RegistryError::Duplicate { .. })
        ));
        assert!(matches!(
            reg.add(Venue::BinanceSpot, "ETHUSDT", "0", "1"),
            Err(RegistryError::BadIncrement { what: "tick", .. })
        ));
        assert!(matches!(reg.add(Venue::BinanceSpot, "", "1", "1"), Err(RegistryError::BadSymbol(_))));
    }
}
