//! Binance's reply codes and what they mean for an order, and the
//! published limits and request weights (venues.md §1, §7).

use crate::orders::ratelimit::{Costs, LimitKind, RateLimits, WindowLimit};
use crate::orders::{Reply, VenueText};

use super::encode::Market;

/// `-1007`: "Timeout waiting for response from backend server. Send status
/// unknown; execution status unknown." The order may exist.
pub const TIMEOUT_UNKNOWN: i32 = -1007;
/// `-2013`: order does not exist (status query, spot).
pub const NO_SUCH_ORDER: i32 = -2013;
/// `-2011`: cancel rejected (typically "Unknown order sent.").
pub const CANCEL_REJECTED: i32 = -2011;

/// Classifies a non-200 reply: 5xx, 409 (cancel-replace partly done) and
/// `-1007` leave the outcome unknown; "no such order" codes say the order
/// does not exist; every other status/code definitively did nothing.
pub fn classify(status: u16, code: i32, text: VenueText) -> Reply {
    if status >= 500 || status == 409 || code == TIMEOUT_UNKNOWN {
        Reply::Unknown { code, text }
    } else if code == NO_SUCH_ORDER || code == CANCEL_REJECTED {
        Reply::NotFound { code, text }
    } else {
        Reply::Refused { code, text }
    }
}

const S: u64 = 1_000_000_000;

/// The published limits of `market` (spot: REQUEST_WEIGHT 6000/min,
/// ORDERS 50/10 s and 160,000/day; USD-M: 2400 weight/min, 300 orders/10 s,
/// 1200 orders/min), with their request weights (spot `order.status` 4,
/// USD-M 1 [unverified]). Replies re-sync them with the account's live values.
pub fn limits(market: Market) -> RateLimits {
    match market {
        Market::Spot => RateLimits::new(
            &[
                WindowLimit::new(LimitKind::Orders, 10 * S, 50),
                WindowLimit::new(LimitKind::Orders, 86_400 * S, 160_000),
                WindowLimit::new(LimitKind::Weight, 60 * S, 6_000),
            ],
            Costs {
                new: 1,
                cancel: 1,
                cancel_replace: 1,
                cancel_all: 1,
                query: 4,
            },
        ),
        Market::Usdm => RateLimits::new(
            &[
                WindowLimit::new(LimitKind::Orders, 10 * S, 300),
                WindowLimit::new(LimitKind::Orders, 60 * S, 1_200),
                WindowLimit::new(LimitKind::Weight, 60 * S, 2_400),
            ],
            Costs {
                new: 1,
                cancel: 1,
                cancel_replace: 1,
                cancel_all: 1,
                query: 1,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let t = VenueText::EMPTY;
        assert!(matches!(
            classify(400, -2010, t),
            Reply::Refused { code: -2010, .. }
        ));
        assert!(matches!(classify(400, -1007, t), Reply::Unknown { .. }));
        assert!(matches!(classify(503, 0, t), Reply::Unknown { .. }));
        assert!(matches!(classify(409, -2021, t), Reply::Unknown { .. }));
        assert!(matches!(classify(400, -2013, t), Reply::NotFound { .. }));
        assert!(matches!(classify(429, -1003, t), Reply::Refused { .. }));
        assert!(matches!(classify(418, -1003, t), Reply::Refused { .. }));
    }
}
