//! The order methods: spot `order.place`, `order.cancel`,
//! `order.cancelReplace`, `openOrders.cancelAll`, `order.status`; USD-M
//! `order.place`, `order.modify`, `order.cancel`, `order.status` (and the
//! cancel-all its REST endpoint uses).

use serde_json::{Map, Value, json};

use super::book::{self, Kind, Order, PRICE_DECIMALS, QTY_DECIMALS, Side, Status, Tif, take};
use super::error::ApiError;
use super::events::{self, Exec};
use super::wsapi::ReplyCtl;
use super::{Desk, Product, bump};
use crate::sim::market::MarketSim;
use crate::types::Side as BookSide;

/// A new order's parameters, validated.
#[derive(Clone, Debug)]
pub(super) struct NewOrder {
    symbol: usize,
    side: Side,
    kind: Kind,
    tif: Tif,
    price: i64,
    qty: i64,
    client_id: Option<String>,
}

fn text<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing(name))
}

/// A decimal parameter (string or number) at `decimals`.
fn decimal(
    params: &Map<String, Value>,
    name: &str,
    decimals: u32,
    filter: &str,
) -> Result<i64, ApiError> {
    let t = match params.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ApiError::missing(name)),
    };
    book::parse_fixed(&t, decimals).map_err(|off_grid| {
        if off_grid {
            ApiError::bad(-1013, format!("Filter failure: {filter}"))
        } else {
            ApiError::illegal(name)
        }
    })
}

fn client_id_ok(id: &str, product: Product) -> bool {
    (1..=36).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || b == b'-'
                || b == b'_'
                || (product == Product::Usdm && matches!(b, b'.' | b':' | b'/'))
        })
}

fn unknown_order() -> ApiError {
    ApiError::bad(-2011, "Unknown order sent.")
}

fn no_such_order() -> ApiError {
    ApiError::bad(-2013, "Order does not exist.")
}

impl Desk {
    fn symbol(&self, params: &Map<String, Value>) -> Result<usize, ApiError> {
        let s = text(params, "symbol")?;
        self.symbols
            .iter()
            .position(|x| x == s)
            .ok_or_else(ApiError::symbol)
    }

    /// Parses a new order's parameters (`client_key`: `newClientOrderId`).
    fn new_order(&self, p: Product, params: &Map<String, Value>) -> Result<NewOrder, ApiError> {
        let symbol = self.symbol(params)?;
        let side = Side::parse(text(params, "side")?).ok_or_else(|| ApiError::illegal("side"))?;
        let kind = match (text(params, "type")?, p) {
            ("LIMIT", _) => Kind::Limit,
            ("MARKET", _) => Kind::Market,
            ("LIMIT_MAKER", Product::Spot) => Kind::LimitMaker,
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        let tif = match kind {
            Kind::Limit => Tif::parse(text(params, "timeInForce")?, p)
                .ok_or_else(|| ApiError::bad(-1115, "Invalid timeInForce."))?,
            _ => Tif::Gtc,
        };
        let price = match kind {
            Kind::Market => 0,
            _ => decimal(params, "price", PRICE_DECIMALS, "PRICE_FILTER")?,
        };
        let qty = decimal(params, "quantity", QTY_DECIMALS, "LOT_SIZE")?;
        let client_id = match params.get("newClientOrderId") {
            None => None,
            Some(v) => {
                let id = v.as_str().filter(|id| client_id_ok(id, p));
                Some(
                    id.ok_or_else(|| ApiError::illegal("newClientOrderId"))?
                        .to_owned(),
                )
            }
        };
        Ok(NewOrder {
            symbol,
            side,
            kind,
            tif,
            price,
            qty,
            client_id,
        })
    }

    /// Dispatches an authenticated order method.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the request's parts"
    )]
    pub(super) fn order_method(
        &mut self,
        p: Product,
        method: &str,
        account: usize,
        params: &Map<String, Value>,
        books: &[MarketSim],
        ctl: &mut ReplyCtl,
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        match (p, method) {
            (_, "order.place") => {
                let n = self.new_order(p, params)?;
                self.place(p, account, n, books, Some(ctl), now_ms)
            }
            (_, "order.cancel") => {
                let symbol = self.symbol(params)?;
                let id = self.find(
                    p,
                    account,
                    symbol,
                    params,
                    "orderId",
                    "origClientOrderId",
                    true,
                )?;
                let cancel_id = params
                    .get("newClientOrderId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let o = self.cancel(p, id, cancel_id.as_deref(), now_ms)?;
                Ok(self.cancel_result(&o, cancel_id.as_deref()))
            }
            (_, "order.status") => {
                let symbol = self.symbol(params)?;
                let id = self
                    .find(
                        p,
                        account,
                        symbol,
                        params,
                        "orderId",
                        "origClientOrderId",
                        false,
                    )
                    .map_err(|_| no_such_order())?;
                let o = &self.venues[p as usize].orders[&id];
                let s = &self.symbols[o.symbol];
                Ok(match p {
                    Product::Spot => events::spot_status_result(o, s),
                    Product::Usdm => events::usdm_order(o, s),
                })
            }
            (Product::Spot, "openOrders.cancelAll") => {
                let symbol = self.symbol(params)?;
                Ok(Value::Array(self.cancel_all(p, account, symbol, now_ms)))
            }
            (Product::Spot, "order.cancelReplace") => {
                self.cancel_replace(account, params, books, now_ms)
            }
            (Product::Usdm, "order.modify") => self.modify(account, params, books, now_ms),
            _ => Err(ApiError::bad(-1020, "This operation is not supported.")),
        }
    }

    fn cancel_result(&self, o: &Order, cancel_id: Option<&str>) -> Value {
        let s = &self.symbols[o.symbol];
        match o.product {
            Product::Spot => {
                let generated = format!("cancel{}", o.id);
                events::spot_cancel_result(o, s, cancel_id.unwrap_or(&generated))
            }
            Product::Usdm => events::usdm_order(o, s),
        }
    }

    /// The order a request names by `id_key` or `client_key`; only open
    /// ones when `open_only` (else -2011).
    #[allow(
        clippy::too_many_arguments,
        reason = "the two parameter names differ per method"
    )]
    fn find(
        &self,
        p: Product,
        account: usize,
        symbol: usize,
        params: &Map<String, Value>,
        id_key: &str,
        client_key: &str,
        open_only: bool,
    ) -> Result<u64, ApiError> {
        let v = &self.venues[p as usize];
        let id = match (params.get(id_key), params.get(client_key)) {
            (Some(id), _) => id
                .as_u64()
                .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| ApiError::illegal(id_key))?,
            (None, Some(Value::String(c))) => *v
                .by_client
                .get(&(account, c.clone()))
                .ok_or_else(unknown_order)?,
            _ => return Err(ApiError::missing(id_key)),
        };
        match v.orders.get(&id) {
            Some(o)
                if o.account == account
                    && o.symbol == symbol
                    && (!open_only || o.status.is_open()) =>
            {
                Ok(id)
            }
            _ => Err(unknown_order()),
        }
    }

    /// Places a new order: counts it, refuses a duplicate client id,
    /// applies the order faults (`ctl`: only for `order.place`), rejects a
    /// crossing post-only, matches, rests or expires the rest.
    pub(super) fn place(
        &mut self,
        p: Product,
        account: usize,
        n: NewOrder,
        books: &[MarketSim],
        ctl: Option<&mut ReplyCtl>,
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        let counted = self.venue(p).limits.count_order(account, now_ms)?;
        if let Some(cid) = &n.client_id {
            let v = &self.venues[p as usize];
            if let Some(prev) = v
                .by_client
                .get(&(account, cid.clone()))
                .and_then(|id| v.orders.get(id))
            {
                if prev.status.is_open() {
                    bump(&self.stats.duplicates);
                    return Err(match p {
                        Product::Spot => ApiError::bad(-2010, "Duplicate order sent."),
                        Product::Usdm => ApiError::bad(-4116, "ClientOrderId is duplicated."),
                    });
                }
                if prev.filled > 0 {
                    bump(&self.stats.duplicates);
                }
            }
        }
        let mut unknown = None;
        if let Some(ctl) = ctl {
            if let Some(placed) = self.faults.unknown.take() {
                if !placed {
                    return Err(ApiError::unknown_outcome());
                }
                unknown = Some(ApiError::unknown_outcome());
            } else if std::mem::take(&mut self.faults.disconnect) {
                ctl.kill = true;
            } else if std::mem::take(&mut self.faults.drop_reply) {
                ctl.drop = true;
            } else if std::mem::take(&mut self.faults.lose_reply) {
                ctl.drop = true;
                self.faults.mute = true;
            }
        }
        let book = &books[n.symbol];
        let opposite = match n.side {
            Side::Buy => BookSide::Ask,
            Side::Sell => BookSide::Bid,
        };
        let levels = book.levels(opposite);
        let best = levels.first().map(|l| l.0.0);
        let id = self.next_order_id;
        self.next_order_id += 1;
        let mut o = Order {
            product: p,
            account,
            symbol: n.symbol,
            id,
            client_id: n.client_id.clone().unwrap_or_else(|| format!("sim{id}")),
            side: n.side,
            kind: n.kind,
            tif: n.tif,
            price: n.price,
            qty: n.qty,
            filled: 0,
            quote: 0,
            status: Status::New,
            time_ms: now_ms,
            update_ms: now_ms,
            counted,
            touch: best,
        };
        if n.kind == Kind::LimitMaker && o.crosses(best) {
            return Err(ApiError::bad(
                -2010,
                "Order would immediately match and take.",
            ));
        }
        bump(&self.stats.placed);
        let crosses = o.crosses(best);
        {
            let v = self.venue(p);
            v.by_client.insert((account, o.client_id.clone()), id);
            v.open.insert(id);
            v.orders.insert(id, o.clone());
        }
        self.event(&o, &Exec::plain("NEW", now_ms));
        let mut fills = Vec::new();
        if crosses && n.tif != Tif::Gtx {
            let limit = (n.kind != Kind::Market).then_some(n.price);
            let takes = take(&levels, n.side, limit, n.qty);
            let total: i64 = takes.iter().map(|t| t.qty).sum();
            if n.tif != Tif::Fok || total == n.qty {
                for t in takes {
                    fills.push(events::spot_fill(t.price, t.qty, self.next_trade_id));
                    self.fill(p, id, t.price, t.qty, false);
                }
            }
        }
        let immediate = n.kind == Kind::Market
            || matches!(n.tif, Tif::Ioc | Tif::Fok)
            || (n.tif == Tif::Gtx && crosses);
        if immediate {
            self.expire(p, id, now_ms);
        }
        o = self.venues[p as usize].orders[&id].clone();
        if let Some(e) = unknown {
            return Err(e);
        }
        let s = &self.symbols[o.symbol];
        Ok(match p {
            Product::Spot => events::spot_place_result(&o, s, fills),
            Product::Usdm => events::usdm_order(&o, s),
        })
    }

    /// Expires what is left of an open order.
    fn expire(&mut self, p: Product, id: u64, now_ms: u64) {
        let v = self.venue(p);
        let Some(o) = v.orders.get_mut(&id).filter(|o| o.status.is_open()) else {
            return;
        };
        o.status = Status::Expired;
        o.update_ms = now_ms;
        let o = o.clone();
        v.close(id);
        self.event(&o, &Exec::plain("EXPIRED", now_ms));
    }

    /// Cancels an open order (the late-fill fault fills half of what is
    /// left first); returns it as canceled.
    fn cancel(
        &mut self,
        p: Product,
        id: u64,
        cancel_id: Option<&str>,
        now_ms: u64,
    ) -> Result<Order, ApiError> {
        if std::mem::take(&mut self.faults.late_fill) {
            if let Some(o) = self.venues[p as usize].orders.get(&id) {
                let (price, half) = (o.price, o.remaining() / 2);
                if half > 0 {
                    self.fill(p, id, price, half, true);
                }
            }
        }
        let v = self.venue(p);
        let o = v
            .orders
            .get_mut(&id)
            .filter(|o| o.status.is_open())
            .ok_or_else(unknown_order)?;
        o.status = Status::Canceled;
        o.update_ms = now_ms;
        let o = o.clone();
        v.close(id);
        let mut e = Exec::plain("CANCELED", now_ms);
        e.cancel_client_id = cancel_id;
        let generated = format!("cancel{id}");
        if p == Product::Spot && cancel_id.is_none() {
            e.cancel_client_id = Some(&generated);
        }
        self.event(&o, &e);
        Ok(o)
    }

    /// Cancels every open order of `account` in `symbol`; their results.
    pub(super) fn cancel_all(
        &mut self,
        p: Product,
        account: usize,
        symbol: usize,
        now_ms: u64,
    ) -> Vec<Value> {
        let ids = self.open_on(p, symbol, |o| o.account == account);
        let mut out = Vec::new();
        for (id, _, _) in ids {
            if let Ok(o) = self.cancel(p, id, None, now_ms) {
                out.push(self.cancel_result(&o, None));
            }
        }
        out
    }

    fn cancel_replace(
        &mut self,
        account: usize,
        params: &Map<String, Value>,
        books: &[MarketSim],
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        let p = Product::Spot;
        let allow = match text(params, "cancelReplaceMode")? {
            "STOP_ON_FAILURE" => false,
            "ALLOW_FAILURE" => true,
            _ => return Err(ApiError::illegal("cancelReplaceMode")),
        };
        let n = self.new_order(p, params)?;
        let cancel_id = params
            .get("cancelNewClientOrderId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let cancel = self
            .find(
                p,
                account,
                n.symbol,
                params,
                "cancelOrderId",
                "cancelOrigClientOrderId",
                true,
            )
            .and_then(|id| self.cancel(p, id, cancel_id.as_deref(), now_ms))
            .map(|o| self.cancel_result(&o, cancel_id.as_deref()));
        let err_json = |e: &ApiError| json!({"code": e.code, "msg": e.msg});
        let cancel = match cancel {
            Err(e) if !allow => {
                let mut out = ApiError::bad(-2022, "Order cancel-replace failed.");
                out.data = Some(
                    json!({"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                    "cancelResponse": err_json(&e), "newOrderResponse": null}),
                );
                return Err(out);
            }
            other => other,
        };
        let placed = self.place(p, account, n, books, None, now_ms);
        let ok = |r: &Result<Value, ApiError>| if r.is_ok() { "SUCCESS" } else { "FAILURE" };
        let body = |r: &Result<Value, ApiError>| match r {
            Ok(v) => v.clone(),
            Err(e) => err_json(e),
        };
        let data = json!({"cancelResult": ok(&cancel), "newOrderResult": ok(&placed),
            "cancelResponse": body(&cancel), "newOrderResponse": body(&placed)});
        if cancel.is_ok() && placed.is_ok() {
            return Ok(data);
        }
        let mut out = if cancel.is_err() && placed.is_err() {
            ApiError::bad(-2022, "Order cancel-replace failed.")
        } else {
            ApiError::new(409, -2021, "Order cancel-replace partially failed.")
        };
        out.data = Some(data);
        Err(out)
    }

    fn modify(
        &mut self,
        account: usize,
        params: &Map<String, Value>,
        books: &[MarketSim],
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        let p = Product::Usdm;
        let symbol = self.symbol(params)?;
        let id = self
            .find(
                p,
                account,
                symbol,
                params,
                "orderId",
                "origClientOrderId",
                true,
            )
            .map_err(|_| no_such_order())?;
        let side = Side::parse(text(params, "side")?).ok_or_else(|| ApiError::illegal("side"))?;
        let price = decimal(params, "price", PRICE_DECIMALS, "PRICE_FILTER")?;
        let qty = decimal(params, "quantity", QTY_DECIMALS, "LOT_SIZE")?;
        let o = &self.venues[p as usize].orders[&id];
        if o.kind != Kind::Limit || o.side != side {
            return Err(ApiError::bad(
                -4028,
                "Price or quantity or side cannot be modified for this order.",
            ));
        }
        if qty <= o.filled {
            return Err(ApiError::bad(
                -1013,
                "Filter failure: quantity less than executed quantity",
            ));
        }
        self.venue(p).limits.count_order(account, now_ms)?;
        let v = self.venue(p);
        let Some(o) = v.orders.get_mut(&id) else {
            return Err(no_such_order());
        };
        o.price = price;
        o.qty = qty;
        o.update_ms = now_ms;
        let snapshot = o.clone();
        self.event(&snapshot, &Exec::plain("AMENDMENT", now_ms));
        let opposite = match side {
            Side::Buy => BookSide::Ask,
            Side::Sell => BookSide::Bid,
        };
        let levels = books[symbol].levels(opposite);
        if snapshot.crosses(levels.first().map(|l| l.0.0)) {
            if snapshot.tif == Tif::Gtx {
                self.expire(p, id, now_ms);
            } else {
                for t in take(&levels, side, Some(price), snapshot.remaining()) {
                    self.fill(p, id, t.price, t.qty, false);
                }
            }
        }
        let o = &self.venues[p as usize].orders[&id];
        Ok(events::usdm_order(o, &self.symbols[o.symbol]))
    }
}
