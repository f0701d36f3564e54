//! Which symbols a venue accepts. A symbol is spliced into stream names
//! (`btcusdt@depth@100ms`, joined with `/` in the connection URL) and into
//! the snapshot URL's query, so a character outside the venue's alphabet
//! would subscribe to something else (`BTCUSDT@trade/ethusdt`) or break the
//! request (`BTC/USDT`, `?`, `&`, `#`, `%`, spaces). Each venue has its own
//! rule (its [`Profile`](crate::venue::Profile)), so a venue that writes
//! `BTC-USD` can allow `-`.

use super::{ConfigError, invalid};
use crate::types::{SYMBOL_CAP, Venue};
use crate::venue::profile;

/// Checks one configured symbol; the error names `key`.
pub(super) fn check_symbol(key: &str, venue: Venue, symbol: &str) -> Result<(), ConfigError> {
    if symbol.is_empty() || symbol.len() > SYMBOL_CAP {
        return Err(invalid(
            key,
            format!("symbol {symbol:?} must be 1..={SYMBOL_CAP} characters"),
        ));
    }
    let p = profile(venue);
    let first_ok = symbol.as_bytes()[0].is_ascii_alphanumeric();
    if !first_ok || !symbol.bytes().all(|b| p.symbol_byte(b)) {
        return Err(invalid(
            key,
            format!(
                "symbol {symbol:?} is not a {venue} symbol: {} only \
                 (symbols go into stream names and URLs)",
                p.symbol_alphabet
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
        assert!(check_symbol("k", Venue::Okx, "BTC-USDT-SWAP").is_ok());
        assert!(check_symbol("k", Venue::Okx, "-BTC").is_err());
        assert!(check_symbol("k", Venue::BybitSpot, "BTC-USDT").is_err());
    }
}
