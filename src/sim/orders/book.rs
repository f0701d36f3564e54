//! The simulator's orders and how they match against the market's true
//! book: level by level at the book's prices for a taker, at the order's
//! own price for a resting order the market trades through. Prices are
//! mantissas at the tick (`SimConfig::TICK`, 2 decimals), quantities at the
//! lot (`SimConfig::LOT`, 5 decimals), parsed from the request's text.
//!
//! The true book is the market model's and is not consumed by the
//! simulator's fills (two orders can take the same level); the model keeps
//! walking on its own.

use super::Product;
use super::limits::Counted;
use crate::types::{Price, Qty};

/// Decimals of a price (the tick 0.01).
pub(super) const PRICE_DECIMALS: u32 = 2;
/// Decimals of a quantity (the lot 0.00001).
pub(super) const QTY_DECIMALS: u32 = 5;

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub(super) fn parse(s: &str) -> Option<Side> {
        match s {
            "BUY" => Some(Side::Buy),
            "SELL" => Some(Side::Sell),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// Order type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Limit,
    Market,
    /// Spot's post-only.
    LimitMaker,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Limit => "LIMIT",
            Kind::Market => "MARKET",
            Kind::LimitMaker => "LIMIT_MAKER",
        }
    }
}

/// Time in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tif {
    Gtc,
    Ioc,
    Fok,
    /// USD-M's post-only.
    Gtx,
}

impl Tif {
    pub(super) fn parse(s: &str, product: Product) -> Option<Tif> {
        match (s, product) {
            ("GTC", _) => Some(Tif::Gtc),
            ("IOC", _) => Some(Tif::Ioc),
            ("FOK", _) => Some(Tif::Fok),
            ("GTX", Product::Usdm) => Some(Tif::Gtx),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Fok => "FOK",
            Tif::Gtx => "GTX",
        }
    }
}

/// Order status, as the venue spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::PartiallyFilled => "PARTIALLY_FILLED",
            Status::Filled => "FILLED",
            Status::Canceled => "CANCELED",
            Status::Expired => "EXPIRED",
        }
    }

    pub(super) fn is_open(self) -> bool {
        matches!(self, Status::New | Status::PartiallyFilled)
    }
}

/// One order on the simulated venue.
#[derive(Clone, Debug)]
pub(super) struct Order {
    pub(super) product: Product,
    /// Index into the configured accounts.
    pub(super) account: usize,
    /// Index into the configured symbols.
    pub(super) symbol: usize,
    pub(super) id: u64,
    pub(super) client_id: String,
    pub(super) side: Side,
    pub(super) kind: Kind,
    pub(super) tif: Tif,
    /// Limit price mantissa (0 for a market order).
    pub(super) price: i64,
    pub(super) qty: i64,
    /// Filled so far; never above `qty`.
    pub(super) filled: i64,
    /// Sum of price × qty of the fills (mantissa at 2 + 5 decimals).
    pub(super) quote: i128,
    pub(super) status: Status,
    pub(super) time_ms: u64,
    pub(super) update_ms: u64,
    /// Which ORDERS windows counted it.
    pub(super) counted: Counted,
    /// The best opposite price when the order last matched (placement,
    /// or a fill while resting). The true book is not consumed by the
    /// simulator's fills, so a resting order fills again only when the
    /// market moves *through* this price, not on the level it already took.
    pub(super) touch: Option<i64>,
}

impl Order {
    pub(super) fn remaining(&self) -> i64 {
        self.qty - self.filled
    }

    /// Applies one fill; returns whether it was the order's first.
    pub(super) fn fill(&mut self, price: i64, qty: i64, now_ms: u64) -> bool {
        let first = self.filled == 0;
        let qty = qty.min(self.remaining());
        self.filled += qty;
        self.quote += i128::from(price) * i128::from(qty);
        self.status = if self.filled == self.qty {
            Status::Filled
        } else {
            Status::PartiallyFilled
        };
        self.update_ms = now_ms;
        first
    }

    /// Whether a resting order fills now that the best opposite price is
    /// `best`: it is at or through the order's price and has moved past
    /// [`Order::touch`].
    pub(super) fn traded_through(&self, best: i64) -> bool {
        match self.side {
            Side::Buy => best <= self.price && self.touch.is_none_or(|t| best < t),
            Side::Sell => best >= self.price && self.touch.is_none_or(|t| best > t),
        }
    }

    /// Whether a limit at this order's price would take from the book
    /// whose best opposite price is `best`.
    pub(super) fn crosses(&self, best: Option<i64>) -> bool {
        match (best, self.side) {
            (None, _) => false,
            (Some(_), _) if self.kind == Kind::Market => true,
            (Some(b), Side::Buy) => b <= self.price,
            (Some(b), Side::Sell) => b >= self.price,
        }
    }
}

/// One fill a taker gets from the book: price and quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Take {
    pub(super) price: i64,
    pub(super) qty: i64,
}

/// What a taker of `want` at `limit` (None: market) gets from `levels`
/// (the opposite side, best first), level by level.
pub(super) fn take(
    levels: &[(Price, Qty)],
    side: Side,
    limit: Option<i64>,
    want: i64,
) -> Vec<Take> {
    let mut out = Vec::new();
    let mut left = want;
    for &(Price(p), Qty(q)) in levels {
        if left == 0 {
            break;
        }
        let inside = match (limit, side) {
            (None, _) => true,
            (Some(l), Side::Buy) => p <= l,
            (Some(l), Side::Sell) => p >= l,
        };
        if !inside {
            break;
        }
        let qty = q.min(left);
        if qty > 0 {
            out.push(Take { price: p, qty });
            left -= qty;
        }
    }
    out
}

/// Parses a decimal at `decimals` exactly ("43000.01", "0.01000000": extra
/// trailing zeros are fine); `Err(true)` when well formed but off the grid
/// or not positive, `Err(false)` when malformed.
pub(super) fn parse_fixed(text: &str, decimals: u32) -> Result<i64, bool> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 12 || !digits(int) || !digits(frac) || frac.len() > 18 {
        return Err(false);
    }
    let (keep, rest) = frac.split_at(frac.len().min(decimals as usize));
    if rest.bytes().any(|b| b != b'0') {
        return Err(true);
    }
    let mut m: i64 = int.parse().map_err(|_| false)?;
    for i in 0..decimals as usize {
        let d = keep.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        m = m * 10 + d;
    }
    if m <= 0 {
        return Err(true);
    }
    Ok(m)
}

/// A mantissa as decimal text with `decimals` places.
pub(super) fn format_fixed(m: i128, decimals: u32) -> String {
    let one = 10i128.pow(decimals);
    let sign = if m < 0 { "-" } else { "" };
    let a = m.abs();
    if decimals == 0 {
        return format!("{sign}{a}");
    }
    format!(
        "{sign}{}.{:0width$}",
        a / one,
        a % one,
        width = decimals as usize
    )
}

/// A price mantissa as text.
pub(super) fn px(m: i64) -> String {
    format_fixed(i128::from(m), PRICE_DECIMALS)
}

/// A quantity mantissa as text.
pub(super) fn qty(m: i64) -> String {
    format_fixed(i128::from(m), QTY_DECIMALS)
}

/// A quote amount (price × qty mantissa) as text.
pub(super) fn quote(m: i128) -> String {
    format_fixed(m, PRICE_DECIMALS + QTY_DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_text_round_trips_and_refuses_off_grid() {
        assert_eq!(parse_fixed("43000.01", 2), Ok(4_300_001));
        assert_eq!(parse_fixed("0.01000000", 5), Ok(1_000));
        assert_eq!(parse_fixed("3", 5), Ok(300_000));
        assert_eq!(parse_fixed("43000.015", 2), Err(true));
        assert_eq!(parse_fixed("0", 2), Err(true));
        assert_eq!(parse_fixed("1e3", 2), Err(false));
        assert_eq!(parse_fixed("-1", 2), Err(false));
        assert_eq!(px(4_300_001), "43000.01");
        assert_eq!(qty(1_000), "0.01000");
        assert_eq!(quote(4_300_001 * 1_000), "430.0001000");
    }

    #[test]
    fn a_taker_walks_the_levels_up_to_its_limit() {
        let asks = [
            (Price(100), Qty(5)),
            (Price(101), Qty(7)),
            (Price(103), Qty(9)),
        ];
        let t = take(&asks, Side::Buy, Some(101), 10);
        assert_eq!(
            t,
            vec![Take { price: 100, qty: 5 }, Take { price: 101, qty: 5 }]
        );
        let t = take(&asks, Side::Buy, Some(101), 40);
        assert_eq!(t.iter().map(|t| t.qty).sum::<i64>(), 12);
        let t = take(&asks, Side::Buy, None, 40);
        assert_eq!(t.iter().map(|t| t.qty).sum::<i64>(), 21);
        let bids = [(Price(99), Qty(3)), (Price(98), Qty(3))];
        assert_eq!(
            take(&bids, Side::Sell, Some(99), 10),
            vec![Take { price: 99, qty: 3 }]
        );
    }
}
