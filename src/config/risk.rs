//! `[risk]`: pre-trade limits for order entry, read by `tickwire trade
//! --config FILE` (other sections of the file are ignored there). Every
//! error names its key (`risk.max_qty`, `risk.instrument[1].tick_size`).
//!
//! ```toml
//! [risk]
//! max_qty = "5"                # per order, in the instrument's units (default: no cap)
//! max_notional = "250000"      # price × qty per order, quote units (default: no cap)
//! price_band_bps = 500         # ± around the reference price (default 5000 = ±50%)
//! max_open_orders = 200        # per instrument (default 100000)
//! max_open_total = 1000        # all instruments (default 100000)
//! max_orders_per_sec = 20      # per strategy, 1-s windows on UTC (default 0 = off)
//! [[risk.instrument]]          # the venue's grid, and per-instrument caps
//! symbol = "BTCUSDT"
//! tick_size = "0.10"
//! lot_size = "0.001"
//! max_qty = "2"                # overrides risk.max_qty for this symbol
//! max_notional = "100000"
//! ```
//!
//! The defaults are wide on purpose: a burst of a few hundred orders is
//! limited by the venue's rate limits, not by risk.

use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::types::{Decimal, NumError};

/// Default `max_open_orders` and `max_open_total`.
pub const DEFAULT_MAX_OPEN: u32 = 100_000;
/// Default `price_band_bps` (±50%).
pub const DEFAULT_BAND_BPS: u32 = 5_000;

/// `[risk]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskSection {
    /// Largest quantity per order (decimal text).
    pub max_qty: Option<String>,
    /// Largest notional (price × quantity) per order (decimal text).
    pub max_notional: Option<String>,
    /// Price band around the reference price, basis points (1..=10000).
    pub price_band_bps: Option<u32>,
    /// Most open orders per instrument (1..=1000000).
    pub max_open_orders: Option<u32>,
    /// Most open orders in total (1..=1000000).
    pub max_open_total: Option<u32>,
    /// Most new orders per second per strategy (0 = no cap, at most 100000).
    pub max_orders_per_sec: Option<u32>,
    /// Per-instrument grid and caps.
    #[serde(rename = "instrument")]
    pub instruments: Vec<RiskInstrumentSection>,
}

/// `[[risk.instrument]]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskInstrumentSection {
    /// The venue's symbol.
    pub symbol: String,
    /// Price increment (decimal text).
    pub tick_size: String,
    /// Quantity increment (decimal text).
    pub lot_size: String,
    /// Overrides `risk.max_qty`.
    #[serde(default)]
    pub max_qty: Option<String>,
    /// Overrides `risk.max_notional`.
    #[serde(default)]
    pub max_notional: Option<String>,
}

/// A file read only for its `[risk]` (the rest is not looked at).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RiskFile {
    /// The section (defaults when absent).
    #[serde(default)]
    pub risk: RiskSection,
}

/// `[risk]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskConfig {
    /// Largest quantity per order (`None`: no cap).
    pub max_qty: Option<Decimal>,
    /// Largest notional per order (`None`: no cap).
    pub max_notional: Option<Decimal>,
    /// Price band, basis points.
    pub price_band_bps: u32,
    /// Most open orders per instrument.
    pub max_open_orders: u32,
    /// Most open orders in total.
    pub max_open_total: u32,
    /// Most new orders per second per strategy (0 = no cap).
    pub max_orders_per_sec: u32,
    /// Per-instrument grid and caps.
    pub instruments: Vec<RiskInstrument>,
}

/// One `[[risk.instrument]]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskInstrument {
    /// The symbol, upper case.
    pub symbol: String,
    /// Price increment (as given, checked).
    pub tick_size: String,
    /// Quantity increment (as given, checked).
    pub lot_size: String,
    /// Largest quantity per order (`None`: `risk.max_qty`).
    pub max_qty: Option<Decimal>,
    /// Largest notional per order (`None`: `risk.max_notional`).
    pub max_notional: Option<Decimal>,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            max_qty: None,
            max_notional: None,
            price_band_bps: DEFAULT_BAND_BPS,
            max_open_orders: DEFAULT_MAX_OPEN,
            max_open_total: DEFAULT_MAX_OPEN,
            max_orders_per_sec: 0,
            instruments: Vec::new(),
        }
    }
}

/// A positive decimal limit.
fn positive(key: &str, text: &str) -> Result<Decimal, ConfigError> {
    let d = Decimal::parse_exact(text.trim())
        .map_err(|e: NumError| invalid(key, format!("{text:?} is not a decimal number: {e}")))?;
    if d.mantissa <= 0 {
        return Err(invalid(key, format!("{text:?} must be above zero")));
    }
    Ok(d)
}

fn within(key: &str, v: Option<u32>, lo: u32, hi: u32, default: u32) -> Result<u32, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if (lo..=hi).contains(&n) => Ok(n),
        Some(n) => Err(invalid(key, format!("{n} is outside {lo}..={hi}"))),
    }
}

impl RiskSection {
    /// Checks every value; the error names the first bad key.
    pub fn validate(&self) -> Result<RiskConfig, ConfigError> {
        let opt =
            |key: &str, v: &Option<String>| v.as_deref().map(|t| positive(key, t)).transpose();
        let mut instruments: Vec<RiskInstrument> = Vec::new();
        for (i, s) in self.instruments.iter().enumerate() {
            let key = |k: &str| format!("risk.instrument[{i}].{k}");
            let symbol = s.symbol.trim().to_ascii_uppercase();
            if symbol.is_empty()
                || symbol.len() > 32
                || !symbol
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
            {
                return Err(invalid(
                    key("symbol"),
                    format!("{:?} is not a symbol", s.symbol),
                ));
            }
            if let Some(j) = instruments.iter().position(|x| x.symbol == symbol) {
                return Err(invalid(
                    key("symbol"),
                    format!("{symbol} is already risk.instrument[{j}]"),
                ));
            }
            positive(&key("tick_size"), &s.tick_size)?;
            positive(&key("lot_size"), &s.lot_size)?;
            instruments.push(RiskInstrument {
                symbol,
                tick_size: s.tick_size.trim().to_owned(),
                lot_size: s.lot_size.trim().to_owned(),
                max_qty: opt(&key("max_qty"), &s.max_qty)?,
                max_notional: opt(&key("max_notional"), &s.max_notional)?,
            });
        }
        Ok(RiskConfig {
            max_qty: opt("risk.max_qty", &self.max_qty)?,
            max_notional: opt("risk.max_notional", &self.max_notional)?,
            price_band_bps: within(
                "risk.price_band_bps",
                self.price_band_bps,
                1,
                10_000,
                DEFAULT_BAND_BPS,
            )?,
            max_open_orders: within(
                "risk.max_open_orders",
                self.max_open_orders,
                1,
                1_000_000,
                DEFAULT_MAX_OPEN,
            )?,
            max_open_total: within(
                "risk.max_open_total",
                self.max_open_total,
                1,
                1_000_000,
                DEFAULT_MAX_OPEN,
            )?,
            max_orders_per_sec: within(
                "risk.max_orders_per_sec",
                self.max_orders_per_sec,
                0,
                100_000,
                0,
            )?,
            instruments,
        })
    }
}

impl RiskFile {
    /// Parses TOML text (only `[risk]` is read; its unknown keys are errors).
    #[cfg(feature = "toml-config")]
    pub fn from_toml_str(text: &str) -> Result<RiskFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))
    }
}

/// `d` as a mantissa at `decimals` places: exact when `d` is as coarse,
/// truncated toward zero when finer (a cap never grows), saturating.
pub fn limit_at(d: Decimal, decimals: u32) -> i128 {
    let have = u32::from(d.scale.decimals());
    let m = i128::from(d.mantissa);
    if decimals >= have {
        10i128
            .checked_pow(decimals - have)
            .and_then(|p| m.checked_mul(p))
            .unwrap_or(i128::MAX)
    } else {
        m / 10i128.pow(have - decimals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_rescale_exactly_or_truncate() {
        let d = Decimal::parse_exact("2.5").unwrap();
        assert_eq!(limit_at(d, 3), 2_500);
        assert_eq!(limit_at(d, 0), 2);
        let big = Decimal::parse_exact("1000000000").unwrap();
        assert_eq!(limit_at(big, 40), i128::MAX);
    }
}
