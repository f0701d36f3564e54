//! Symbol resolution on the per-message path: a frame names its instrument
//! by the venue's symbol, and a small direct-mapped cache in front of the
//! [`Registry`] turns the common case into two word compares.

use std::cell::Cell;

use crate::types::{InstrumentId, Registry, ResolveSymbol, Scaling, Venue};

/// A symbol's bytes as two words and a length: equal keys mean equal
/// symbols (for up to 16 bytes the two words cover every byte, overlapping
/// when shorter), and a key costs two loads instead of a byte loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SymbolKey {
    head: u64,
    tail: u64,
    len: u8,
}

impl SymbolKey {
    /// The key of `symbol`; `None` above 16 bytes (those are looked up every time).
    #[inline]
    fn of(symbol: &[u8]) -> Option<SymbolKey> {
        let (head, tail) = if let (Some(h), Some(t)) = (symbol.first_chunk(), symbol.last_chunk()) {
            if symbol.len() > 16 {
                return None;
            }
            (u64::from_le_bytes(*h), u64::from_le_bytes(*t))
        } else if let (Some(h), Some(t)) = (symbol.first_chunk(), symbol.last_chunk()) {
            let word = |w: &[u8; 4]| u64::from(u32::from_le_bytes(*w));
            (word(h), word(t))
        } else {
            let packed = symbol
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i));
            (packed, 0)
        };
        Some(SymbolKey {
            head,
            tail,
            len: symbol.len() as u8,
        })
    }

    /// A slot of [`SymbolCache`].
    #[inline]
    fn slot(self) -> usize {
        let h = (self.head ^ self.tail.rotate_left(29) ^ u64::from(self.len))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 60) as usize
    }
}

/// Instrument ids of recently seen symbols, direct-mapped by [`SymbolKey`].
///
/// Only a hint: a hit is confirmed against the registry passed with the
/// frame (same venue, exactly the same symbol bytes) before it is used, so
/// a stale entry, or a different registry, can only cost a full lookup,
/// never a wrong instrument. Confirmed hits give what `Registry::lookup`
/// gives: symbols are unique per venue up to ASCII case, and an exact match
/// is such a match.
#[derive(Debug, Default)]
pub(crate) struct SymbolCache {
    slots: [Cell<Option<(SymbolKey, InstrumentId)>>; 16],
}

/// A [`Registry`]'s symbols for one venue, through a [`SymbolCache`].
pub(crate) struct CachedSymbols<'a> {
    registry: &'a Registry,
    venue: Venue,
    cache: &'a SymbolCache,
}

impl<'a> CachedSymbols<'a> {
    /// `registry`'s symbols of `venue`, through `cache`.
    #[inline]
    pub(crate) fn new(registry: &'a Registry, venue: Venue, cache: &'a SymbolCache) -> Self {
        CachedSymbols {
            registry,
            venue,
            cache,
        }
    }
}

impl ResolveSymbol for CachedSymbols<'_> {
    #[inline]
    fn resolve(&self, symbol: &[u8]) -> Option<Scaling> {
        let Some(key) = SymbolKey::of(symbol) else {
            return self.registry.venue(self.venue).resolve(symbol);
        };
        let slot = &self.cache.slots[key.slot()];
        if let Some((k, id)) = slot.get() {
            if k == key && id.index() < self.registry.len() {
                let inst = self.registry.get(id);
                if inst.venue == self.venue && SymbolKey::of(inst.symbol.as_bytes()) == Some(key) {
                    return Some(inst.scaling());
                }
            }
        }
        let inst = self.registry.lookup(self.venue, symbol)?;
        slot.set(Some((key, inst.id)));
        Some(inst.scaling())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Equal keys exactly when the symbols are equal, at every length a key covers.
        #[test]
        fn symbol_keys_identify_symbols(a in "[AB]{0,16}", b in "[AB]{0,16}") {
            let (ka, kb) = (SymbolKey::of(a.as_bytes()), SymbolKey::of(b.as_bytes()));
            proptest::prop_assert!(ka.is_some() && kb.is_some());
            proptest::prop_assert_eq!(ka == kb, a == b);
        }
    }

    #[test]
    fn long_symbols_have_no_key() {
        assert_eq!(SymbolKey::of(b"ABCDEFGHIJKLMNOPQ"), None);
    }

    #[test]
    fn cached_symbols_agree_with_the_registry_they_are_given() {
        let (spot, usdm) = (Venue::BinanceSpot, Venue::BinanceUsdm);
        let mut a = Registry::new();
        a.add(spot, "BTCUSDT", "0.01", "0.00001").unwrap();
        a.add(spot, "ETHUSDT", "0.01", "0.0001").unwrap();
        a.add(spot, "ABCDEFGHIJKLMNOPQRS", "1", "1").unwrap();
        let mut b = Registry::new();
        b.add(spot, "ETHUSDT", "0.1", "0.001").unwrap();
        b.add(usdm, "BTCUSDT", "0.1", "0.001").unwrap();
        b.add(spot, "BTCUSDT", "0.1", "0.001").unwrap();
        let cache = SymbolCache::default();
        let through = |registry: &Registry, venue: Venue, symbol: &[u8]| {
            let cached = CachedSymbols {
                registry,
                venue,
                cache: &cache,
            };
            let got = cached.resolve(symbol);
            assert_eq!(got, registry.venue(venue).resolve(symbol), "{symbol:?}");
            got
        };
        for _ in 0..2 {
            for registry in [&a, &b] {
                for venue in [spot, usdm] {
                    for symbol in [
                        &b"BTCUSDT"[..],
                        b"btcusdt",
                        b"ETHUSDT",
                        b"XRPUSDT",
                        b"ABCDEFGHIJKLMNOPQRS",
                        b"",
                    ] {
                        through(registry, venue, symbol);
                    }
                }
            }
        }
        // A hit from registry `a` is not trusted for registry `b`.
        assert_eq!(through(&a, spot, b"BTCUSDT").unwrap().instrument.0, 0);
        assert_eq!(through(&b, spot, b"BTCUSDT").unwrap().instrument.0, 2);
    }
}
