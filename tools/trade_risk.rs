//! `tickwire trade`'s risk limits: `[risk]` from `--config`, each `--max-*`
//! flag narrowing (never widening) what the file set.

use tickwire::config::{RiskConfig, RiskFile};

use super::Args;
use crate::Failure;

/// `[risk]` from `--config`, narrowed by the flags.
pub(super) fn risk_config(args: &Args) -> Result<RiskConfig, Failure> {
    let mut section = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("--config {}: {e}", p.display()))?;
            RiskFile::from_toml_str(&text)
                .map_err(|e| format!("--config {}: {e}", p.display()))?
                .risk
        }
        None => Default::default(),
    };
    // Each flag narrows: the smaller of the file's value and the flag's.
    let file = section.validate().map_err(|e| format!("--config: {e}"))?;
    let flag = |name: &str,
                v: &Option<String>|
     -> Result<Option<tickwire::types::Decimal>, Failure> {
        v.as_deref()
            .map(|t| {
                tickwire::types::Decimal::parse_exact(t)
                    .ok()
                    .filter(|d| d.mantissa > 0)
                    .ok_or_else(|| Failure::from(format!("--{name} {t:?}: not a positive decimal")))
            })
            .transpose()
    };
    let smaller =
        |a: Option<tickwire::types::Decimal>, b: Option<tickwire::types::Decimal>| match (a, b) {
            (Some(a), Some(b)) => {
                let s = a.scale.decimals().max(b.scale.decimals()).into();
                if tickwire::config::limit_at(a, s) <= tickwire::config::limit_at(b, s) {
                    Some(a)
                } else {
                    Some(b)
                }
            }
            (a, b) => a.or(b),
        };
    let max_qty = smaller(file.max_qty, flag("max-qty", &args.max_qty)?);
    let max_notional = smaller(file.max_notional, flag("max-notional", &args.max_notional)?);
    section.max_qty = max_qty.map(|d| d.to_string());
    section.max_notional = max_notional.map(|d| d.to_string());
    let min = |file: u32, flag: Option<u32>| Some(flag.map_or(file, |f| f.min(file)));
    section.price_band_bps = min(file.price_band_bps, args.price_band_bps);
    section.max_open_orders = min(file.max_open_orders, args.max_open_orders);
    section.max_orders_per_sec = match (file.max_orders_per_sec, args.max_orders_per_sec) {
        (0, f) => f,
        (v, Some(f)) if f > 0 => Some(v.min(f)),
        (v, _) => Some(v),
    };
    let out = section.validate().map_err(|e| {
        // A flag out of range is named by its flag.
        let text = e.to_string();
        let flag = [
            ("risk.price_band_bps", "--price-band-bps"),
            ("risk.max_open_orders", "--max-open-orders"),
            ("risk.max_orders_per_sec", "--max-orders-per-sec"),
        ]
        .iter()
        .find(|(k, _)| text.contains(k))
        .map_or("--config", |(_, f)| f);
        format!("{flag}: {text}")
    })?;
    Ok(out)
}
