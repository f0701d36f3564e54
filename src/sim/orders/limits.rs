//! Rate limits in fixed windows aligned to the clock (10 s windows start
//! at :00, :10, …; minutes on the minute; the day at 00:00 UTC), as the
//! venue enforces them: REQUEST_WEIGHT per IP, ORDERS per account counting
//! *unfilled* orders on spot (an order that fills, even partly, is taken
//! off the count of the window that counted it), 429 with `retryAfter`
//! when a request would go over, and a 418 ban for a client that does not
//! back off until then.

use serde_json::{Value, json};

use super::Product;
use super::error::ApiError;

/// How long a 418 ban lasts (the venue's shortest: 2 minutes).
pub(super) const BAN_MS: u64 = 120_000;

/// One fixed window.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    /// `interval` as the venue names it (`SECOND`, `MINUTE`, `DAY`).
    interval: &'static str,
    /// `intervalNum`.
    num: u64,
    /// Length in ms.
    len_ms: u64,
    /// The limit.
    limit: u64,
    /// Index of the current window (`now_ms / len_ms`).
    idx: u64,
    /// Count in the current window.
    count: u64,
}

impl Window {
    const fn new(interval: &'static str, num: u64, limit: u64) -> Window {
        let unit = match interval.as_bytes()[0] {
            b'S' => 1_000,
            b'M' => 60_000,
            _ => 86_400_000,
        };
        Window {
            interval,
            num,
            len_ms: unit * num,
            limit,
            idx: 0,
            count: 0,
        }
    }

    fn roll(&mut self, now_ms: u64) {
        let idx = now_ms / self.len_ms;
        if idx != self.idx {
            self.idx = idx;
            self.count = 0;
        }
    }

    /// When the current window ends (ms since the epoch).
    fn end_ms(&self) -> u64 {
        (self.idx + 1) * self.len_ms
    }

    fn json(&self, kind: &str) -> Value {
        json!({"rateLimitType": kind, "interval": self.interval, "intervalNum": self.num,
               "limit": self.limit, "count": self.count})
    }
}

/// Which windows an order was counted in, so that its first fill can take
/// it off again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counted {
    idx: [u64; 2],
}

/// One product's limits (spot or USD-M): the IP's weight and ban, and each
/// account's ORDERS windows.
#[derive(Debug)]
pub(super) struct Limits {
    product: Product,
    weight: Window,
    orders_proto: [Window; 2],
    orders: Vec<[Window; 2]>,
    /// A 429 told the client to wait until then; a request before it is
    /// answered 418.
    backoff_until_ms: u64,
    /// Banned (418) until then.
    banned_until_ms: u64,
}

impl Limits {
    pub(super) fn new(product: Product, accounts: usize) -> Limits {
        let (weight, orders_proto) = match product {
            Product::Spot => (
                Window::new("MINUTE", 1, 6_000),
                [
                    Window::new("SECOND", 10, 50),
                    Window::new("DAY", 1, 160_000),
                ],
            ),
            Product::Usdm => (
                Window::new("MINUTE", 1, 2_400),
                [
                    Window::new("SECOND", 10, 300),
                    Window::new("MINUTE", 1, 1_200),
                ],
            ),
        };
        Limits {
            product,
            weight,
            orders_proto,
            orders: vec![orders_proto; accounts],
            backoff_until_ms: 0,
            banned_until_ms: 0,
        }
    }

    fn roll(&mut self, now_ms: u64) {
        self.weight.roll(now_ms);
        for w in self.orders.iter_mut().flatten() {
            w.roll(now_ms);
        }
    }

    /// The 418 check, made before anything else: a banned IP, or one that
    /// did not wait for the `retryAfter` of a 429.
    pub(super) fn check_ban(&mut self, now_ms: u64) -> Result<(), ApiError> {
        if now_ms < self.banned_until_ms || now_ms < self.backoff_until_ms {
            if self.banned_until_ms <= now_ms {
                self.banned_until_ms = now_ms + BAN_MS;
            }
            let until = self.banned_until_ms;
            return Err(ApiError::new(
                418,
                -1003,
                format!("Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."),
            )
            .retry_after(until));
        }
        Ok(())
    }

    /// Charges `weight` to the IP, or refuses with 429.
    pub(super) fn charge_weight(&mut self, weight: u64, now_ms: u64) -> Result<(), ApiError> {
        self.roll(now_ms);
        if self.weight.count + weight > self.weight.limit {
            let until = self.weight.end_ms();
            self.backoff_until_ms = until;
            return Err(ApiError::new(
                429,
                -1003,
                format!(
                    "Too much request weight used; current limit is {} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                    self.weight.limit
                ),
            )
            .retry_after(until));
        }
        self.weight.count += weight;
        Ok(())
    }

    /// Counts one new order for `account`, or refuses with 429 (-1015).
    pub(super) fn count_order(&mut self, account: usize, now_ms: u64) -> Result<Counted, ApiError> {
        self.roll(now_ms);
        let Some(ws) = self.orders.get_mut(account) else {
            return Ok(Counted::default());
        };
        if let Some(w) = ws.iter().find(|w| w.count + 1 > w.limit) {
            let until = w.end_ms();
            self.backoff_until_ms = until;
            let unit = match w.interval {
                "SECOND" => "SECOND",
                "MINUTE" => "MINUTE",
                _ => "DAY",
            };
            return Err(ApiError::new(
                429,
                -1015,
                format!(
                    "Too many new orders; current limit is {} orders per {} {unit}.",
                    w.limit, w.num
                ),
            )
            .retry_after(until));
        }
        for w in ws.iter_mut() {
            w.count += 1;
        }
        Ok(Counted {
            idx: [ws[0].idx, ws[1].idx],
        })
    }

    /// An order's first fill: on spot, ORDERS counts unfilled orders, so
    /// the order leaves the count of each window that counted it and is
    /// still current.
    pub(super) fn on_first_fill(&mut self, account: usize, counted: Counted, now_ms: u64) {
        if self.product != Product::Spot {
            return;
        }
        self.roll(now_ms);
        if let Some(ws) = self.orders.get_mut(account) {
            for (w, idx) in ws.iter_mut().zip(counted.idx) {
                if w.idx == idx {
                    w.count = w.count.saturating_sub(1);
                }
            }
        }
    }

    /// The `rateLimits` array: the IP's weight, and the account's ORDERS
    /// windows when the request names one.
    pub(super) fn json(&mut self, account: Option<usize>, now_ms: u64) -> Value {
        self.roll(now_ms);
        let mut out = vec![self.weight.json("REQUEST_WEIGHT")];
        let orders = account
            .and_then(|a| self.orders.get(a))
            .unwrap_or(&self.orders_proto);
        out.extend(orders.iter().map(|w| w.json("ORDERS")));
        Value::Array(out)
    }

    /// ORDERS counts of `account` in its current windows (10 s, then day or minute).
    #[cfg(test)]
    pub(super) fn order_counts(&mut self, account: usize, now_ms: u64) -> [u64; 2] {
        self.roll(now_ms);
        self.orders
            .get(account)
            .map_or([0, 0], |w| [w[0].count, w[1].count])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_second_windows_are_aligned_to_the_clock() {
        let mut l = Limits::new(Product::Spot, 1);
        let t0 = 1_700_000_009_000; // one second before a :x0 boundary
        for _ in 0..50 {
            l.count_order(0, t0).unwrap();
        }
        let e = l.count_order(0, t0 + 999).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.retry_after_ms),
            (429, -1015, Some(t0 + 1_000))
        );
        // Still inside the back-off: 418.
        assert_eq!(l.check_ban(t0 + 999).unwrap_err().status, 418);
        // The ban holds for two minutes from its start.
        let later = t0 + 999 + BAN_MS;
        assert!(l.check_ban(later - 1).is_err());
        assert!(l.check_ban(later).is_ok());
        assert_eq!(l.order_counts(0, later), [0, 50]);
    }

    #[test]
    fn a_fill_takes_a_spot_order_off_the_count_of_its_own_window() {
        let mut l = Limits::new(Product::Spot, 1);
        let t = 1_700_000_000_000;
        let c = l.count_order(0, t).unwrap();
        l.count_order(0, t).unwrap();
        l.on_first_fill(0, c, t + 5);
        assert_eq!(l.order_counts(0, t + 5), [1, 1]);
        // In a later 10-s window only the day count drops.
        let c2 = l.count_order(0, t + 6).unwrap();
        l.on_first_fill(0, c2, t + 10_000);
        assert_eq!(l.order_counts(0, t + 10_000), [0, 1]);
    }

    #[test]
    fn request_weight_is_per_minute_on_the_minute() {
        let mut l = Limits::new(Product::Usdm, 0);
        let t = 1_700_000_070_000; // 30 s into a minute
        l.charge_weight(2_399, t).unwrap();
        let e = l.charge_weight(2, t).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.retry_after_ms),
            (429, -1003, Some(1_700_000_100_000))
        );
        // Waiting for retryAfter: a fresh minute, no ban.
        assert!(l.check_ban(1_700_000_100_000).is_ok());
        l.charge_weight(2_400, 1_700_000_100_000).unwrap();
        let json = l.json(None, 1_700_000_100_000);
        assert_eq!(json[0]["count"], 2_400);
        assert_eq!(json[1]["limit"], 300);
        assert_eq!(json[2]["interval"], "MINUTE");
    }
}
