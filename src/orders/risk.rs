//! Pre-trade risk: checked before anything leaves the process, each refusal
//! with its own [`RejectReason`].
//!
//! Rules, in the order they are checked:
//! 1. kill switch on → `kill_switch` (new orders only; cancels always pass);
//! 2. quantity ≤ 0, or a limit price ≤ 0 → `invalid_order`;
//! 3. price off the tick grid or quantity off the lot grid → `off_grid`;
//! 4. quantity above the instrument's maximum → `max_qty`;
//! 5. notional (price × quantity) above the maximum → `max_notional`
//!    (limit orders, and market orders that carry a price bound);
//! 6. price outside ± `band_bps` of the reference price, when one is known
//!    (the IO layer feeds the feed engine's best bid/offer mid) → `price_band`;
//! 7. open orders on the instrument ≥ maximum → `max_open_instrument`;
//! 8. open orders in total ≥ maximum → `max_open_total`.
//!
//! Defaults are wide on purpose, so that a session works without a risk
//! section and a burst of a few hundred orders is limited by the venue's
//! rate limits, not by risk: no quantity or notional cap, a ±50% band,
//! 1,000 open orders per instrument and 4,000 in total. Narrow them per
//! instrument with [`Risk::set_instrument`].

use crate::types::{InstrumentId, Price, Qty, Registry};

use super::{NewOrder, OrderType, RejectReason};

/// One instrument's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest quantity per order.
    pub max_qty: Qty,
    /// Largest notional per order: price mantissa × quantity mantissa (so at
    /// price scale + quantity scale).
    pub max_notional: i128,
    /// Price band around the reference price, in basis points.
    pub band_bps: u32,
    /// Most open orders on this instrument.
    pub max_open: u32,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_qty: Qty(i64::MAX),
            max_notional: i128::MAX,
            band_bps: 5_000,
            max_open: 1_000,
        }
    }
}

/// Per-instrument state: limits, grid, reference price.
#[derive(Clone, Copy, Debug)]
struct Entry {
    limits: RiskLimits,
    /// Tick and lot as mantissas (0 = unknown: no grid check).
    tick: i64,
    lot: i64,
    /// Reference price (0 = unknown: no band check).
    reference: Price,
}

/// The risk checker of one order-entry session.
#[derive(Debug)]
pub struct Risk {
    entries: Box<[Entry]>,
    max_open_total: u32,
    kill: bool,
}

impl Risk {
    /// Default limits for instrument indexes `0..instruments`, with tick and
    /// lot grids taken from `registry`.
    pub fn new(instruments: usize, registry: &Registry) -> Risk {
        let mut entries = vec![
            Entry {
                limits: RiskLimits::default(),
                tick: 0,
                lot: 0,
                reference: Price::ZERO,
            };
            instruments.max(1)
        ];
        for inst in registry.iter() {
            if let Some(e) = entries.get_mut(inst.id.index()) {
                e.tick = inst.tick;
                e.lot = inst.lot;
            }
        }
        Risk {
            entries: entries.into_boxed_slice(),
            max_open_total: 4_000,
            kill: false,
        }
    }

    /// Replaces one instrument's limits.
    pub fn set_instrument(&mut self, id: InstrumentId, limits: RiskLimits) {
        if let Some(e) = self.entries.get_mut(id.index()) {
            e.limits = limits;
        }
    }

    /// Sets the most open orders in total.
    pub fn set_max_open_total(&mut self, n: u32) {
        self.max_open_total = n;
    }

    /// Sets (or with `Price::ZERO` clears) the reference price.
    #[inline]
    pub fn set_reference(&mut self, id: InstrumentId, price: Price) {
        if let Some(e) = self.entries.get_mut(id.index()) {
            e.reference = price;
        }
    }

    /// Turns the kill switch on or off.
    pub fn set_kill(&mut self, on: bool) {
        self.kill = on;
    }

    /// Whether the kill switch is on.
    pub fn killed(&self) -> bool {
        self.kill
    }

    /// Checks a new order given the current open counts.
    #[inline]
    pub fn check(&self, o: &NewOrder, open_on: u32, open_total: u32) -> Result<(), RejectReason> {
        if self.kill {
            return Err(RejectReason::KillSwitch);
        }
        let e = self
            .entries
            .get(o.instrument.index())
            .ok_or(RejectReason::UnknownInstrument)?;
        let limit = o.kind == OrderType::Limit;
        if o.qty.0 <= 0 || (limit && o.price.0 <= 0) || o.price.0 < 0 {
            return Err(RejectReason::InvalidOrder);
        }
        if (e.lot > 0 && o.qty.0 % e.lot != 0) || (limit && e.tick > 0 && o.price.0 % e.tick != 0) {
            return Err(RejectReason::OffGrid);
        }
        let l = &e.limits;
        if o.qty > l.max_qty {
            return Err(RejectReason::MaxQty);
        }
        if o.price.0 > 0 && i128::from(o.price.0) * i128::from(o.qty.0) > l.max_notional {
            return Err(RejectReason::MaxNotional);
        }
        if o.price.0 > 0 && e.reference.0 > 0 {
            let r = i128::from(e.reference.0);
            let dev = (i128::from(o.price.0) - r).abs();
            if dev * 10_000 > r * i128::from(l.band_bps) {
                return Err(RejectReason::PriceBand);
            }
        }
        if open_on >= l.max_open {
            return Err(RejectReason::MaxOpenInstrument);
        }
        if open_total >= self.max_open_total {
            return Err(RejectReason::MaxOpenTotal);
        }
        Ok(())
    }
}
