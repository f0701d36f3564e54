//! Venues, symbols and the instrument registry.
//!
//! Every instrument an engine handles gets a dense [`InstrumentId`] (an index
//! into the [`Registry`]), so per-instrument state lives in plain vectors and
//! events carry a 4-byte id instead of a symbol string.

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
    /// Bybit v5 spot (`stream.bybit.com/v5/public/spot`).
    BybitSpot = 3,
    /// Bybit v5 linear contracts: USDT/USDC perpetuals and futures
    /// (`stream.bybit.com/v5/public/linear`).
    BybitLinear = 4,
    /// OKX v5 public channels, every instrument type on one endpoint
    /// (`BTC-USDT` spot, `BTC-USDT-SWAP` perpetuals; `ws.okx.com/ws/v5/public`).
    Okx = 5,
    /// Coinbase Advanced Trade market data (`BTC-USD`;
    /// `advanced-trade-ws.coinbase.com`): one `sequence_num` per connection.
    Coinbase = 6,
    /// Kraken WebSocket v2 spot (`ws.kraken.com/v2`; symbols `BTC/USD`).
    Kraken = 7,
}

impl Venue {
    /// The name used on the command line and in config files.
    pub const fn name(self) -> &'static str {
        match self {
            Venue::BinanceSpot => "binance-spot",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::BybitSpot => "bybit-spot",
            Venue::BybitLinear => "bybit-linear",
            Venue::Okx => "okx",
            Venue::Coinbase => "coinbase",
            Venue::Kraken => "kraken",
        }
    }

    /// Parses [`Venue::name`].
    pub fn from_name(name: &str) -> Option<Venue> {
        match name {
            "binance-spot" => Some(Venue::BinanceSpot),
            "binance-usdm" => Some(Venue::BinanceUsdm),
            "bybit-spot" => Some(Venue::BybitSpot),
            "bybit-linear" => Some(Venue::BybitLinear),
            "okx" => Some(Venue::Okx),
            "coinbase" => Some(Venue::Coinbase),
            "kraken" => Some(Venue::Kraken),
            _ => None,
        }
    }

    /// Decodes the `repr(u8)` value stored in events.
    pub const fn from_u8(v: u8) -> Option<Venue> {
        match v {
            1 => Some(Venue::BinanceSpot),
            2 => Some(Venue::BinanceUsdm),
            3 => Some(Venue::BybitSpot),
            4 => Some(Venue::BybitLinear),
            5 => Some(Venue::Okx),
            6 => Some(Venue::Coinbase),
            7 => Some(Venue::Kraken),
            _ => None,
        }
    }

    /// All venues, for help texts.
    pub const ALL: [Venue; 7] = [
        Venue::BinanceSpot,
        Venue::BinanceUsdm,
        Venue::BybitSpot,
        Venue::BybitLinear,
        Venue::Okx,
        Venue::Coinbase,
        Venue::Kraken,
    ];
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
        Some(Symbol {
            len: text.len() as u8,
            bytes,
        })
    }

    /// The normalised bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
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
    /// Zero and negative prices are valid for this instrument (an opt-in:
    /// no supported venue quotes them, so by default such a price is a
    /// decode error).
    pub negative_prices: bool,
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
    /// Zero and negative prices are valid (see [`Scaling::negative_prices`]).
    pub negative_prices: bool,
}

impl Instrument {
    /// The scaling a decoder uses for this instrument.
    #[inline]
    pub const fn scaling(&self) -> Scaling {
        Scaling {
            instrument: self.id,
            price: self.price_scale,
            qty: self.qty_scale,
            negative_prices: self.negative_prices,
        }
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
    let bad = |reason| RegistryError::BadIncrement {
        what,
        text: text.to_owned(),
        reason,
    };
    let d = Decimal::parse_exact(text).map_err(|e| bad(IncrementError::Number(e)))?;
    if d.mantissa <= 0 {
        return Err(bad(IncrementError::NotPositive));
    }
    Ok((d.scale, d.mantissa))
}

/// The set of instruments one engine (or one replay) knows, by dense id.
///
/// Symbol lookup is on the per-message path, so it uses its own open-
/// addressing table: a multiplicative hash over the symbol's bytes with the
/// ASCII case bit masked (no copy, no normalisation), then a case-insensitive
/// compare. Keys are the engine's own registrations, so a DoS-resistant hash
/// would buy nothing.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    instruments: Vec<Instrument>,
    /// Open-addressing table of `instrument index + 1` (0 = empty); its
    /// length is a power of two at least twice the number of instruments.
    table: Vec<u32>,
}

#[inline]
fn symbol_hash(venue: Venue, symbol: &[u8]) -> u64 {
    let mut h = (venue as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ symbol.len() as u64;
    let mut rest = symbol;
    while !rest.is_empty() {
        let take = rest.len().min(8);
        let mut w = 0u64;
        for (i, &b) in rest[..take].iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        rest = &rest[take..];
        // Clearing 0x20 folds ASCII case (it also folds some punctuation,
        // harmlessly: the compare that follows is exact up to case).
        h = (h.rotate_left(5) ^ (w & 0xDFDF_DFDF_DFDF_DFDF)).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
    h ^ (h >> 29)
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
        let sym = Symbol::new(symbol.as_bytes())
            .ok_or_else(|| RegistryError::BadSymbol(symbol.to_owned()))?;
        if self.lookup(venue, sym.as_str().as_bytes()).is_some() {
            return Err(RegistryError::Duplicate {
                venue,
                symbol: sym.as_str().to_owned(),
            });
        }
        let (price_scale, tick) = parse_increment("tick", tick_size)?;
        let (qty_scale, lot) = parse_increment("lot", lot_size)?;
        let id = InstrumentId(self.instruments.len() as u32);
        self.instruments.push(Instrument {
            id,
            venue,
            symbol: sym,
            price_scale,
            tick,
            qty_scale,
            lot,
            negative_prices: false,
        });
        if self.table.len() < 2 * self.instruments.len() {
            self.rebuild_table((4 * self.instruments.len()).next_power_of_two());
        } else {
            self.insert_slot(self.instruments.len() - 1);
        }
        Ok(id)
    }

    /// Lets an instrument quote zero and negative prices (some commodity
    /// and spread markets do; none of the supported crypto venues). Off by
    /// default: such a price is then a decode error, never a book level.
    /// Returns `false` for an id this registry does not hold.
    pub fn set_negative_prices(&mut self, id: InstrumentId, allowed: bool) -> bool {
        match self.instruments.get_mut(id.index()) {
            Some(inst) => {
                inst.negative_prices = allowed;
                true
            }
            None => false,
        }
    }

    /// The instrument with this id. Panics on an id from another registry.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> &Instrument {
        &self.instruments[id.index()]
    }

    fn rebuild_table(&mut self, size: usize) {
        self.table = vec![0; size];
        for i in 0..self.instruments.len() {
            self.insert_slot(i);
        }
    }

    fn insert_slot(&mut self, index: usize) {
        let inst = &self.instruments[index];
        let mask = self.table.len() - 1;
        let mut slot = symbol_hash(inst.venue, inst.symbol.as_bytes()) as usize & mask;
        while self.table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        self.table[slot] = index as u32 + 1;
    }

    /// Looks up a venue symbol (any ASCII case). No allocation.
    #[inline]
    pub fn lookup(&self, venue: Venue, symbol: &[u8]) -> Option<&Instrument> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut slot = symbol_hash(venue, symbol) as usize & mask;
        loop {
            let entry = self.table[slot];
            if entry == 0 {
                return None;
            }
            let inst = &self.instruments[entry as usize - 1];
            let stored = inst.symbol.as_bytes();
            // Payload symbols arrive in the stored (upper) case: try the exact compare first.
            if inst.venue == venue && (stored == symbol || stored.eq_ignore_ascii_case(symbol)) {
                return Some(inst);
            }
            slot = (slot + 1) & mask;
        }
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
        VenueSymbols {
            registry: self,
            venue,
        }
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
        self.registry
            .lookup(self.venue, symbol)
            .map(Instrument::scaling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_maps_symbols_case_insensitively() {
        let mut reg = Registry::new();
        let id = reg
            .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
            .unwrap();
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
        assert!(matches!(
            reg.add(Venue::BinanceSpot, "", "1", "1"),
            Err(RegistryError::BadSymbol(_))
        ));
    }
}
