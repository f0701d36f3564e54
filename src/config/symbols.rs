//! Which symbols a venue accepts. A symbol is spliced into stream names
//! (`btcusdt@depth@100ms`, joined with `/` in the connection URL) and into
//! the snapshot URL's query, so a character outside the venue's alphabet
//! would subscribe to something else (`BTCUSDT@trade/ethusdt`) or break the
//! request (`BTC/USDT`, `?`, `&`, `#`, `%`, spaces). Each venue has its own
//! rule, so a venue that writes `BTC-USD` can allow `-`.

use super::{ConfigError, invalid};
use crate::types::{SYMBOL_CAP, Venue};

/// What `venue` lists as symbols, in words (for errors and docs).
pub(super) fn alphabet(venue: Venue) -> &'static str {
    match venue {
        Venue::BinanceSpot => "ASCII letters and digits",
        Venue::BinanceUsdm => "ASCII letters, digits and `_` (delivery contracts: BTCUSDT_261225)",
    }
}

/// Whether `b` may appear in a symbol of `venue`. Binance lists spot symbols
/// as upper-case letters and digits (`BTCUSDT`, `1000SATSUSDT`); USD-M adds
/// quarterly contracts with their delivery date after an underscore. Lower
/// case is accepted and normalised (stream names are lower case).
fn allowed(venue: Venue, b: u8) -> bool {
    match venue {
        Venue::BinanceSpot => b.is_ascii_alphanumeric(),
        Venue::BinanceUsdm => b.is_ascii_alphanumeric() || b == b'_',
    }
}

/// Checks one configured symbol; the error names `key`.
pub(super) fn check_symbol(key: &str, venue: Venue, symbol: &str) -> Result<(), ConfigError> {
    if symbol.is_empty() || symbol.len() > SYMBOL_CAP {
        return Err(invalid(
            key,
            format!("symbol {symbol:?} must be 1..={SYMBOL_CAP} characters"),
        ));
    }
    let first_ok = symbol.as_bytes()[0].is_ascii_alphanumeric();
    if !first_ok || !symbol.bytes().all(|b| allowed(venue, b)) {
        return Err(invalid(
            key,
            format!(
                "symbol {symbol:?} is not a {venue} symbol: {} only \
                 (symbols go into stream names and URLs)",
                alphabet(venue)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_venue_has_its_alphabet() {
        assert!(check_symbol("k", Venue::BinanceSpot, "btcUSDT1").is_ok());
        assert!(check_symbol("k", Venue::BinanceSpot, "BTC_USDT").is_err());
        assert!(check_symbol("k", Venue::BinanceUsdm, "BTCUSDT_261225").is_ok());
        assert!(check_symbol("k", Venue::BinanceUsdm, "_BTC").is_err());
        assert!(check_symbol("k", Venue::BinanceUsdm, "BTC@X").is_err());
    }
}
