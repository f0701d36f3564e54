//! The JSON the venue writes about an order: request results (spot and
//! USD-M shapes) and user-data events (spot `executionReport`, USD-M
//! `ORDER_TRADE_UPDATE`), with the documented field names.

use serde_json::{Value, json};

use super::book::{Order, px, qty, quote};

/// What happened to an order, for its user-data event.
#[derive(Clone, Copy, Debug)]
pub(super) struct Exec<'a> {
    /// Execution type (`NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `AMENDMENT`, ...).
    pub(super) x: &'static str,
    /// The fill's price and quantity (0 when not a trade).
    pub(super) last_price: i64,
    pub(super) last_qty: i64,
    /// The fill's trade id (-1 when not a trade).
    pub(super) trade_id: i64,
    /// The order was the maker of the fill.
    pub(super) maker: bool,
    /// A cancel's own client id (the order's id goes to `C`).
    pub(super) cancel_client_id: Option<&'a str>,
    pub(super) time_ms: u64,
}

impl Exec<'_> {
    /// A non-trade execution.
    pub(super) fn plain(x: &'static str, time_ms: u64) -> Exec<'static> {
        Exec {
            x,
            last_price: 0,
            last_qty: 0,
            trade_id: -1,
            maker: false,
            cancel_client_id: None,
            time_ms,
        }
    }

    /// A trade.
    pub(super) fn trade(
        price: i64,
        q: i64,
        trade_id: u64,
        maker: bool,
        time_ms: u64,
    ) -> Exec<'static> {
        Exec {
            x: "TRADE",
            last_price: price,
            last_qty: q,
            trade_id: trade_id as i64,
            maker,
            cancel_client_id: None,
            time_ms,
        }
    }
}

/// The average fill price, or 0.
fn avg_price(o: &Order) -> i64 {
    if o.filled == 0 {
        0
    } else {
        (o.quote / i128::from(o.filled)) as i64
    }
}

/// Spot `executionReport` (the event itself, before wrapping).
pub(super) fn execution_report(o: &Order, symbol: &str, e: &Exec<'_>) -> Value {
    let (c, cc) = match e.cancel_client_id {
        Some(cancel) => (cancel, o.client_id.as_str()),
        None => (o.client_id.as_str(), ""),
    };
    json!({
        "e": "executionReport", "E": e.time_ms, "s": symbol, "c": c,
        "S": o.side.as_str(), "o": o.kind.as_str(), "f": o.tif.as_str(),
        "q": qty(o.qty), "p": px(o.price), "P": "0.00", "F": "0.00000", "g": -1, "C": cc,
        "x": e.x, "X": o.status.as_str(), "r": "NONE", "i": o.id,
        "l": qty(e.last_qty), "z": qty(o.filled), "L": px(e.last_price),
        "n": "0", "N": if e.x == "TRADE" { Value::from("USDT") } else { Value::Null }, "T": e.time_ms, "t": e.trade_id, "I": e.time_ms,
        "w": o.status.is_open(),
        "m": e.maker, "M": false, "O": o.time_ms, "Z": quote(o.quote),
        "Y": quote(i128::from(e.last_price) * i128::from(e.last_qty)),
        "Q": "0.0000000", "W": o.time_ms, "V": "EXPIRE_MAKER"
    })
}

/// USD-M `ORDER_TRADE_UPDATE`.
pub(super) fn order_trade_update(o: &Order, symbol: &str, e: &Exec<'_>) -> Value {
    json!({
        "e": "ORDER_TRADE_UPDATE", "E": e.time_ms, "T": e.time_ms,
        "o": {
            "s": symbol, "c": o.client_id, "S": o.side.as_str(), "o": o.kind.as_str(),
            "f": o.tif.as_str(), "q": qty(o.qty), "p": px(o.price), "ap": px(avg_price(o)),
            "sp": "0", "x": e.x, "X": o.status.as_str(), "i": o.id,
            "l": qty(e.last_qty), "z": qty(o.filled), "L": px(e.last_price),
            "N": "USDT", "n": "0", "T": e.time_ms, "t": e.trade_id.max(0),
            "b": "0", "a": "0", "m": e.maker, "R": false, "wt": "CONTRACT_PRICE",
            "ot": o.kind.as_str(), "ps": "BOTH", "cp": false, "rp": "0", "pP": false,
            "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0, "AP": "0", "cr": "0"
        }
    })
}

/// One spot fill in a FULL `order.place` result.
pub(super) fn spot_fill(price: i64, q: i64, trade_id: u64) -> Value {
    json!({"price": px(price), "qty": qty(q), "commission": "0", "commissionAsset": "USDT",
           "tradeId": trade_id})
}

/// Spot order fields shared by place, cancel and status results.
pub(super) fn spot_order(o: &Order, symbol: &str) -> serde_json::Map<String, Value> {
    let v = json!({
        "symbol": symbol, "orderId": o.id, "orderListId": -1, "clientOrderId": o.client_id,
        "price": px(o.price), "origQty": qty(o.qty), "executedQty": qty(o.filled),
        "origQuoteOrderQty": "0.0000000", "cummulativeQuoteQty": quote(o.quote),
        "status": o.status.as_str(), "timeInForce": o.tif.as_str(), "type": o.kind.as_str(),
        "side": o.side.as_str(), "workingTime": o.time_ms, "selfTradePreventionMode": "EXPIRE_MAKER"
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Spot `order.place` result (FULL: with the fills).
pub(super) fn spot_place_result(o: &Order, symbol: &str, fills: Vec<Value>) -> Value {
    let mut m = spot_order(o, symbol);
    m.insert("transactTime".into(), o.update_ms.into());
    m.insert("fills".into(), Value::Array(fills));
    Value::Object(m)
}

/// Spot `order.cancel` result.
pub(super) fn spot_cancel_result(o: &Order, symbol: &str, cancel_id: &str) -> Value {
    let mut m = spot_order(o, symbol);
    m.insert("origClientOrderId".into(), o.client_id.clone().into());
    m.insert("clientOrderId".into(), cancel_id.into());
    m.insert("transactTime".into(), o.update_ms.into());
    Value::Object(m)
}

/// Spot `order.status` result.
pub(super) fn spot_status_result(o: &Order, symbol: &str) -> Value {
    let mut m = spot_order(o, symbol);
    m.insert("stopPrice".into(), "0.00".into());
    m.insert("icebergQty".into(), "0.00000".into());
    m.insert("time".into(), o.time_ms.into());
    m.insert("updateTime".into(), o.update_ms.into());
    m.insert("isWorking".into(), o.status.is_open().into());
    Value::Object(m)
}

/// USD-M order result (place, modify, cancel, status).
pub(super) fn usdm_order(o: &Order, symbol: &str) -> Value {
    json!({
        "orderId": o.id, "symbol": symbol, "status": o.status.as_str(),
        "clientOrderId": o.client_id, "price": px(o.price), "avgPrice": px(avg_price(o)),
        "origQty": qty(o.qty), "executedQty": qty(o.filled), "cumQty": qty(o.filled),
        "cumQuote": quote(o.quote), "timeInForce": o.tif.as_str(), "type": o.kind.as_str(),
        "reduceOnly": false, "closePosition": false, "side": o.side.as_str(),
        "positionSide": "BOTH", "stopPrice": "0", "workingType": "CONTRACT_PRICE",
        "priceProtect": false, "origType": o.kind.as_str(), "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
        "time": o.time_ms, "updateTime": o.update_ms
    })
}
