//! The simulated venue's order entry: Binance spot's WebSocket API
//! (`/ws-api/v3`) and USD-M's (`/ws-fapi/v1`, with REST listen keys,
//! `/ws/<listenKey>` user data and REST cancel-all), served next to the
//! market data on the same port, written from the venue's documented
//! protocol (`shared/venues.md` §1, §7).
//!
//! The [`Desk`] lives on the market thread, which owns the true books: it
//! reads requests, checks signatures, timestamps and rate limits, matches
//! orders against the books, rests the rest, fills resting orders when the
//! market moves through them, writes replies and user-data events, and
//! applies the order faults. Nothing here is on tickwire's hot path.
//!
//! Files: `accounts.rs` (keys, the venue clock), `auth.rs` (signed payload,
//! HMAC / Ed25519, `recvWindow`), `limits.rs` (fixed windows, 429 / 418),
//! `book.rs` (orders, matching, decimals), `events.rs` (result and event
//! JSON), `wsapi.rs` (the request envelope and auth), `methods.rs` (the
//! order methods), `rest.rs` (USD-M REST), `conn.rs` (connections).

mod accounts;
mod auth;
mod book;
mod conn;
mod error;
mod events;
mod limits;
mod methods;
mod rest;
mod wsapi;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use self::accounts::VenueClock;
use self::book::{Order, Side as OrderSide};
use self::events::Exec;
use self::limits::Limits;
use crate::sim::market::MarketSim;
use crate::types::{ManualClock, Side};

pub use self::accounts::{SimAccount, SimKey, parse_ed25519_public};
pub(in crate::sim) use self::conn::{Conn, ConnKind, Stream};
pub(in crate::sim) use self::rest::{RestAnswer, RestCall, is_order_path};

/// Which Binance product an endpoint belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// Spot, `/ws-api/v3`.
    Spot,
    /// USD-M futures, `/ws-fapi/v1`.
    Usdm,
}

/// Order-entry faults (see [`Fault::Orders`](crate::sim::Fault::Orders)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFault {
    /// The reply to the next `order.place` is never sent; the order is
    /// placed and its user-data events are sent.
    DropReply,
    /// Like [`OrderFault::DropReply`], and that order's user-data events
    /// are withheld too (both channels lost them): only a status query
    /// finds the order.
    LoseReply,
    /// Every reply is written this much later (zero: no delay); user-data
    /// events are not delayed.
    DelayReplies(Duration),
    /// The next `order.place` is answered `-1007` (status 408, outcome
    /// unknown); the order is placed (with its events) or not.
    UnknownOutcome {
        /// Whether the order exists.
        placed: bool,
    },
    /// The next `order.place` is accepted (placed, events sent to the
    /// account's user-data connections) and then its connection is
    /// dropped before the reply.
    DisconnectMidOrder,
    /// The next cancel of an open order races a fill: half its remaining
    /// quantity (rounded down to the lot; nothing when under two lots)
    /// fills at its price just before the cancel, so the cancel reply carries that `executedQty` and the
    /// `TRADE` event arrives after the cancel reply, then `CANCELED`.
    LateFill,
}

/// Order-entry counters, readable by tests and printed by `tickwire sim`.
#[derive(Debug, Default)]
pub struct OrderStats {
    /// Requests received (WebSocket API and REST).
    pub requests: AtomicU64,
    /// Orders accepted.
    pub placed: AtomicU64,
    /// Fills.
    pub fills: AtomicU64,
    /// Error replies other than limit breaches.
    pub rejected: AtomicU64,
    /// Requests that arrived over a limit (answered 429 or 418).
    pub breaches: AtomicU64,
    /// New orders carrying the client id of an earlier accepted order that
    /// was still open (refused) or had filled (accepted again): a client
    /// re-sending an order.
    pub duplicates: AtomicU64,
    /// Replies withheld by a fault (dropped, or lost to a disconnect).
    pub dropped_replies: AtomicU64,
    /// User-data events withheld by [`OrderFault::LoseReply`] (one per
    /// request whose events were withheld).
    pub dropped_events: AtomicU64,
    /// USD-M listen keys kept alive (`PUT /fapi/v1/listenKey` on a live key).
    pub listen_key_keepalives: AtomicU64,
    /// USD-M dead-man switches armed (`countdownCancelAll` with a
    /// countdown above 0).
    pub countdowns_armed: AtomicU64,
    /// USD-M dead-man switches disarmed (`countdownCancelAll` with 0).
    pub countdowns_disarmed: AtomicU64,
    /// The countdown (ms) of the latest arm.
    pub countdown_ms: AtomicU64,
    /// Countdowns that ran out and canceled a symbol's open orders.
    pub countdowns_fired: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// One product's orders and limits.
#[derive(Debug)]
struct Exchange {
    limits: Limits,
    orders: HashMap<u64, Order>,
    /// Ids of open orders.
    open: BTreeSet<u64>,
    /// (account, client id) → the latest order with it.
    by_client: HashMap<(usize, String), u64>,
    /// Closed orders, oldest first; beyond [`KEEP_CLOSED`] the oldest are
    /// forgotten (a status query then answers -2013), so a long demo run
    /// does not grow without bound.
    closed: VecDeque<u64>,
}

/// Closed orders kept per product for `order.status`.
const KEEP_CLOSED: usize = 100_000;

impl Exchange {
    /// An order left the book (filled, canceled, expired).
    fn close(&mut self, id: u64) {
        if !self.open.remove(&id) {
            return;
        }
        self.closed.push_back(id);
        while self.closed.len() > KEEP_CLOSED {
            let Some(old) = self.closed.pop_front() else {
                break;
            };
            if let Some(o) = self.orders.remove(&old) {
                let key = (o.account, o.client_id);
                if self.by_client.get(&key) == Some(&old) {
                    self.by_client.remove(&key);
                }
            }
        }
    }
}

/// Faults waiting for their request.
#[derive(Debug, Default)]
struct Pending {
    drop_reply: bool,
    lose_reply: bool,
    /// Withhold the user-data events of the request being handled.
    mute: bool,
    delay: Duration,
    unknown: Option<bool>,
    disconnect: bool,
    late_fill: bool,
}

/// The order desk: every trading connection, order, limit and fault.
#[derive(Debug)]
pub(in crate::sim) struct Desk {
    accounts: Vec<SimAccount>,
    clock: VenueClock,
    stats: Arc<OrderStats>,
    symbols: Vec<String>,
    conns: Vec<Conn>,
    venues: [Exchange; 2],
    next_order_id: u64,
    next_trade_id: u64,
    next_sub: u64,
    /// USD-M listen keys and their accounts.
    listen_keys: Vec<(String, usize)>,
    /// USD-M dead-man switches: (account, symbol, deadline in venue ms).
    countdowns: Vec<(usize, usize, u64)>,
    faults: Pending,
    /// Best bid and ask per symbol when resting orders were last checked.
    last_top: Vec<Option<(i64, i64)>>,
    /// User-data events of the request being handled: (product, account, text).
    events: Vec<(Product, usize, String)>,
}

impl Desk {
    pub(in crate::sim) fn new(
        accounts: Vec<SimAccount>,
        clock: Option<ManualClock>,
        symbols: Vec<String>,
        stats: Arc<OrderStats>,
    ) -> Desk {
        let n = accounts.len();
        let exchange = |p| Exchange {
            limits: Limits::new(p, n),
            orders: HashMap::new(),
            open: BTreeSet::new(),
            by_client: HashMap::new(),
            closed: VecDeque::new(),
        };
        Desk {
            accounts,
            clock: VenueClock::new(clock),
            stats,
            last_top: vec![None; symbols.len()],
            symbols,
            conns: Vec::new(),
            venues: [exchange(Product::Spot), exchange(Product::Usdm)],
            next_order_id: 1_000_001,
            next_trade_id: 7_000_001,
            next_sub: 0,
            listen_keys: Vec::new(),
            countdowns: Vec::new(),
            faults: Pending::default(),
            events: Vec::new(),
        }
    }

    fn venue(&mut self, p: Product) -> &mut Exchange {
        &mut self.venues[p as usize]
    }

    /// A new trading connection; the connection itself costs weight 2.
    pub(in crate::sim) fn add(&mut self, mut conn: Conn) {
        let now_ms = self.clock.now_ms();
        conn.connected_ms = now_ms;
        match &conn.kind {
            ConnKind::Api(p) => {
                let _ = self.venue(*p).limits.charge_weight(2, now_ms);
            }
            ConnKind::UserStream(key) => match self.listen_keys.iter().find(|(k, _)| k == key) {
                Some(&(_, account)) => conn.user_data = Some((0, account)),
                None => {
                    conn.send(
                        Instant::now(),
                        r#"{"code":-1125,"msg":"This listenKey does not exist."}"#.into(),
                    );
                    conn.flush(Instant::now());
                    conn.kill();
                    return;
                }
            },
        }
        self.conns.push(conn);
    }

    /// Reads and answers every connection, writes what is due, and fills
    /// resting orders the market has moved through.
    pub(in crate::sim) fn poll(&mut self, books: &[MarketSim]) {
        let now = Instant::now();
        for i in 0..self.conns.len() {
            // Bounded: at most 64 requests per connection per pass.
            for _ in 0..64 {
                if self.conns[i].dead {
                    break;
                }
                match self.conns[i].read() {
                    Ok(Some(text)) => {
                        if matches!(self.conns[i].kind, ConnKind::Api(_)) {
                            self.request(i, &text, books);
                        }
                    }
                    Ok(None) => break,
                    Err(()) => {
                        self.conns[i].dead = true;
                    }
                }
            }
        }
        self.market_moved(books);
        self.countdowns_due();
        for c in &mut self.conns {
            c.flush(now);
        }
        self.conns.retain(|c| !c.dead);
    }

    /// Arms an order fault.
    pub(in crate::sim) fn fault(&mut self, f: OrderFault) {
        match f {
            OrderFault::DropReply => self.faults.drop_reply = true,
            OrderFault::LoseReply => self.faults.lose_reply = true,
            OrderFault::DelayReplies(d) => self.faults.delay = d,
            OrderFault::UnknownOutcome { placed } => self.faults.unknown = Some(placed),
            OrderFault::DisconnectMidOrder => self.faults.disconnect = true,
            OrderFault::LateFill => self.faults.late_fill = true,
        }
    }

    /// Drops every trading connection.
    pub(in crate::sim) fn disconnect_all(&mut self) {
        for c in &mut self.conns {
            c.kill();
        }
        self.conns.clear();
    }

    /// Another participant trades `symbol` at `price` through every resting
    /// order at or better than it: buys at or above, sells at or below fill
    /// completely at their own prices.
    pub(in crate::sim) fn trade_through(&mut self, symbol: &str, price: i64) {
        let Some(s) = self.symbols.iter().position(|x| x == symbol) else {
            return;
        };
        for p in [Product::Spot, Product::Usdm] {
            let hits: Vec<(u64, i64, i64)> = self.open_on(p, s, |o| match o.side {
                OrderSide::Buy => o.price >= price,
                OrderSide::Sell => o.price <= price,
            });
            for (id, px, left) in hits {
                self.fill(p, id, px, left, true);
            }
        }
        self.dispatch_events();
    }

    /// Open orders of `symbol` on `p` that `pred` selects: (id, price, remaining).
    fn open_on(
        &self,
        p: Product,
        symbol: usize,
        pred: impl Fn(&Order) -> bool,
    ) -> Vec<(u64, i64, i64)> {
        let v = &self.venues[p as usize];
        v.open
            .iter()
            .filter_map(|id| v.orders.get(id))
            .filter(|o| o.symbol == symbol && pred(o))
            .map(|o| (o.id, o.price, o.remaining()))
            .collect()
    }

    /// Resting orders the touch has moved through fill at their own price,
    /// up to the quantity the book shows at or better than it.
    fn market_moved(&mut self, books: &[MarketSim]) {
        for (s, book) in books.iter().enumerate().take(self.last_top.len()) {
            let top = book.top().map(|((b, _), (a, _))| (b.0, a.0));
            if top == self.last_top[s] {
                continue;
            }
            self.last_top[s] = top;
            let Some((bid, ask)) = top else { continue };
            for p in [Product::Spot, Product::Usdm] {
                let best = |o: &Order| match o.side {
                    OrderSide::Buy => ask,
                    OrderSide::Sell => bid,
                };
                let hits = self.open_on(p, s, |o| o.traded_through(best(o)));
                for (id, px, left) in hits {
                    let Some(o) = self.venues[p as usize].orders.get_mut(&id) else {
                        continue;
                    };
                    o.touch = Some(best(o));
                    let side = match o.side {
                        OrderSide::Buy => Side::Ask,
                        OrderSide::Sell => Side::Bid,
                    };
                    let shown: i64 = book
                        .levels(side)
                        .iter()
                        .take_while(|(lp, _)| match side {
                            Side::Ask => lp.0 <= px,
                            Side::Bid => lp.0 >= px,
                        })
                        .map(|(_, q)| q.0)
                        .sum();
                    let q = shown.min(left);
                    if q > 0 {
                        self.fill(p, id, px, q, true);
                    }
                }
            }
        }
        self.dispatch_events();
    }

    /// Applies one fill to an order and queues its TRADE event.
    fn fill(&mut self, p: Product, id: u64, price: i64, qty: i64, maker: bool) {
        let now_ms = self.clock.now_ms();
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        let v = &mut self.venues[p as usize];
        let Some(o) = v.orders.get_mut(&id) else {
            return;
        };
        if qty <= 0 || !o.status.is_open() {
            return;
        }
        let first = o.fill(price, qty, now_ms);
        let snapshot = o.clone();
        let (account, counted) = (o.account, o.counted);
        if !snapshot.status.is_open() {
            v.close(id);
        }
        if first {
            v.limits.on_first_fill(account, counted, now_ms);
        }
        bump(&self.stats.fills);
        self.event(&snapshot, &Exec::trade(price, qty, trade_id, maker, now_ms));
    }

    /// Queues the user-data event for `o`'s transition.
    fn event(&mut self, o: &Order, e: &Exec<'_>) {
        let symbol = &self.symbols[o.symbol];
        let text = match o.product {
            Product::Spot => events::execution_report(o, symbol, e),
            Product::Usdm => events::order_trade_update(o, symbol, e),
        };
        self.events.push((o.product, o.account, text.to_string()));
    }

    /// Sends the queued events to the connections receiving their
    /// account's user data (spot: subscribed API connections, wrapped with
    /// the subscription id; USD-M: listen-key streams).
    fn dispatch_events(&mut self) {
        if std::mem::take(&mut self.faults.mute) {
            bump(&self.stats.dropped_events);
            self.events.clear();
            return;
        }
        let now = Instant::now();
        for (p, account, text) in self.events.drain(..) {
            for c in &mut self.conns {
                let Some((sub, a)) = c.user_data else {
                    continue;
                };
                if a != account {
                    continue;
                }
                match (&c.kind, p) {
                    (ConnKind::Api(Product::Spot), Product::Spot) => {
                        c.send(
                            now,
                            format!("{{\"subscriptionId\":{sub},\"event\":{text}}}"),
                        );
                    }
                    (ConnKind::UserStream(_), Product::Usdm) => c.send(now, text.clone()),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::market::MarketConfig;
    use crate::types::Venue;

    fn resting(desk: &mut Desk, side: OrderSide, price: i64, qty: i64, touch: Option<i64>) -> u64 {
        let id = desk.next_order_id;
        desk.next_order_id += 1;
        let o = Order {
            product: Product::Spot,
            account: 0,
            symbol: 0,
            id,
            client_id: format!("t{id}"),
            side,
            kind: book::Kind::Limit,
            tif: book::Tif::Gtc,
            price,
            qty,
            filled: 0,
            quote: 0,
            status: book::Status::New,
            time_ms: 0,
            update_ms: 0,
            counted: limits::Counted::default(),
            touch,
        };
        let v = desk.venue(Product::Spot);
        v.open.insert(id);
        v.orders.insert(id, o);
        id
    }

    #[test]
    fn resting_orders_fill_when_the_touch_moves_through_them_not_on_the_level_they_took() {
        let book = MarketSim::new(MarketConfig::btcusdt(Venue::BinanceSpot, 3));
        let ((bid, _), (ask, ask_qty)) = book.top().unwrap();
        let stats = Arc::new(OrderStats::default());
        let mut desk = Desk::new(
            vec![SimAccount::hmac("k", "s")],
            None,
            vec!["BTCUSDT".into()],
            stats.clone(),
        );
        // A buy at the ask that already took that level (touch = ask): no fill.
        let took = resting(
            &mut desk,
            OrderSide::Buy,
            ask.0,
            10 * ask_qty.0,
            Some(ask.0),
        );
        // A buy that rested below an ask which is now at or under its price: fills
        // at its own price, up to the size shown at or under it.
        let through = resting(
            &mut desk,
            OrderSide::Buy,
            ask.0 + 1,
            ask_qty.0 + 1_000_000,
            Some(ask.0 + 5),
        );
        // A sell far above the bid: untouched.
        let far = resting(&mut desk, OrderSide::Sell, bid.0 + 1_000, 5, None);
        desk.market_moved(std::slice::from_ref(&book));
        let orders = &desk.venues[0].orders;
        assert_eq!(orders[&took].filled, 0);
        let shown: i64 = book
            .levels(Side::Ask)
            .iter()
            .take_while(|(p, _)| p.0 <= ask.0 + 1)
            .map(|(_, q)| q.0)
            .sum();
        assert_eq!(orders[&through].filled, shown);
        assert_eq!(
            orders[&through].quote,
            i128::from(ask.0 + 1) * i128::from(shown)
        );
        assert_eq!(orders[&through].touch, Some(ask.0));
        assert_eq!(orders[&far].filled, 0);
        assert_eq!(stats.fills.load(Ordering::Relaxed), 1);
        // The same book again: nothing more.
        desk.last_top[0] = None;
        desk.market_moved(std::slice::from_ref(&book));
        assert_eq!(desk.venues[0].orders[&through].filled, shown);
    }

    #[test]
    fn only_the_newest_closed_orders_are_kept() {
        let stats = Arc::new(OrderStats::default());
        let mut desk = Desk::new(vec![], None, vec!["BTCUSDT".into()], stats);
        let first = resting(&mut desk, OrderSide::Buy, 1, 1, None);
        desk.venue(Product::Spot)
            .by_client
            .insert((0, format!("t{first}")), first);
        for _ in 0..KEEP_CLOSED + 1 {
            resting(&mut desk, OrderSide::Buy, 1, 1, None);
        }
        let ids: Vec<u64> = desk.venues[0].open.iter().copied().collect();
        for id in ids {
            desk.venue(Product::Spot).close(id);
        }
        let v = &desk.venues[0];
        assert_eq!(
            (v.orders.len(), v.closed.len(), v.open.len()),
            (KEEP_CLOSED, KEEP_CLOSED, 0)
        );
        assert!(!v.orders.contains_key(&first) && !v.orders.contains_key(&(first + 1)));
        assert!(v.orders.contains_key(&(first + 2)));
        assert!(v.by_client.is_empty());
    }
}
