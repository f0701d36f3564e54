//! The simulated venue's order endpoints (Binance spot `/ws-api/v3`, USD-M
//! `/ws-fapi/v1`) over real loopback sockets, ws:// and wss://, with a small
//! client written here that builds and signs its own requests (HMAC-SHA256
//! and Ed25519). The market is paused (rate 0) so the true book is fixed and
//! fills can be checked against it exactly; the venue's clock is a manual
//! clock, so timestamps and rate-limit windows are exact.

#[path = "sim_orders/client.rs"]
mod client;
#[path = "sim_orders/countdown.rs"]
mod countdown;
#[path = "sim_orders/faults.rs"]
mod faults;

use std::sync::atomic::Ordering;

use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use tickwire::types::{Price, Venue};

use crate::client::*;

#[test]
fn hmac_limit_order_fills_against_the_true_book_then_rests_and_cancels() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let book = s.book();
    let (a1, q1) = book.asks[0];
    let mut c = hmac_session(&s);
    // Buy at the best ask, 3 lots more than it shows: fills q1 at a1, rests 3 lots.
    let want = q1.0 + 3;
    let r = c.call(
        "v3/order.place",
        signed_hmac(
            limit("BUY", "GTC", &px(a1), &qty(want)),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 200, "{r}");
    let res = &r["result"];
    assert_eq!(res["status"], "PARTIALLY_FILLED");
    assert_eq!(res["executedQty"], qty(q1.0));
    assert_eq!(res["origQty"], qty(want));
    assert_eq!(res["fills"][0]["price"], px(a1));
    assert_eq!(res["fills"][0]["qty"], qty(q1.0));
    assert_eq!(res["fills"].as_array().unwrap().len(), 1);
    let limits = r["rateLimits"].as_array().unwrap();
    assert_eq!(limits[0]["rateLimitType"], "REQUEST_WEIGHT");
    // A partly filled order is off the unfilled-order count.
    assert_eq!(limits[1]["count"], 0, "{r}");
    let order_id = res["orderId"].as_u64().unwrap();
    let cid = res["clientOrderId"].as_str().unwrap().to_owned();
    let e = c.event();
    assert_eq!(
        (e["e"].as_str(), e["x"].as_str(), e["X"].as_str()),
        (Some("executionReport"), Some("NEW"), Some("NEW"))
    );
    assert_eq!(e["i"], order_id);
    assert_eq!(e["c"], cid.as_str());
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["X"].as_str()),
        (Some("TRADE"), Some("PARTIALLY_FILLED"))
    );
    assert_eq!(
        (e["L"].as_str(), e["l"].as_str(), e["z"].as_str()),
        (
            Some(px(a1).as_str()),
            Some(qty(q1.0).as_str()),
            Some(qty(q1.0).as_str())
        )
    );
    assert_eq!(e["m"], false);
    assert!(e["t"].as_i64().unwrap() > 0);
    // Status, then cancel by client id.
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": order_id}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["result"]["status"], "PARTIALLY_FILLED", "{r}");
    assert_eq!(
        r["rateLimits"][0]["count"],
        2 + 2 + 1 + 4,
        "connect 2, subscribe 2, place 1, status 4"
    );
    let r = c.call(
        "order.cancel",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "origClientOrderId": cid}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["result"]["status"], "CANCELED", "{r}");
    assert_eq!(r["result"]["executedQty"], qty(q1.0));
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["X"].as_str(), e["C"].as_str()),
        (Some("CANCELED"), Some("CANCELED"), Some(cid.as_str()))
    );
    // Cancelling again: unknown order.
    let r = c.call(
        "order.cancel",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": order_id}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(400), -2011));
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": 1}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(err_code(&r), -2013);
}

#[test]
fn ed25519_logon_then_ioc_fok_post_only_and_market_semantics() {
    let s = Sim::start(Venue::BinanceSpot, true);
    let book = s.book();
    let (a1, q1) = book.asks[0];
    let (a2, q2) = book.asks[1];
    let (b1, _) = book.bids[0];
    let mut c = s.connect("/ws-api/v3");
    let r = c.call("session.logon", signed_ed(json!({}), s.now_ms()));
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["result"]["apiKey"], ED_KEY);
    let r = c.call("userDataStream.subscribe", json!({}));
    assert_eq!(r["status"], 200, "{r}");
    let ts = |s: &Sim| json!(s.now_ms());
    // IOC through two levels for more than both: fills both at their prices, expires the rest.
    let mut p = limit("BUY", "IOC", &px(a2), &qty(q1.0 + q2.0 + 5));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "EXPIRED", "{r}");
    assert_eq!(r["result"]["executedQty"], qty(q1.0 + q2.0));
    let fills = r["result"]["fills"].as_array().unwrap();
    assert_eq!(
        (fills[0]["price"].as_str(), fills[1]["price"].as_str()),
        (Some(px(a1).as_str()), Some(px(a2).as_str()))
    );
    let quote = i128::from(a1.0) * i128::from(q1.0) + i128::from(a2.0) * i128::from(q2.0);
    assert_eq!(
        r["result"]["cummulativeQuoteQty"],
        format!("{}.{:07}", quote / 10_000_000, quote % 10_000_000)
    );
    let kinds: Vec<String> = (0..4)
        .map(|_| c.event()["x"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "TRADE", "TRADE", "EXPIRED"]);
    // FOK that the book cannot fill: expires untouched.
    let mut p = limit("BUY", "FOK", &px(a1), &qty(q1.0 + 1));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("EXPIRED"), Some("0.00000"))
    );
    let kinds: Vec<String> = (0..2)
        .map(|_| c.event()["x"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "EXPIRED"]);
    // FOK that it can: fills fully.
    let mut p = limit("BUY", "FOK", &px(a1), &qty(q1.0));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("FILLED"), Some(qty(q1.0).as_str()))
    );
    let kinds: Vec<String> = (0..2)
        .map(|_| c.event()["X"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "FILLED"]);
    // Post-only that would take: -2010, no event; one that would not: rests.
    let mut p = json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "price": px(a1), "quantity": "0.00100"});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(400), -2010),
        "{r}"
    );
    let mut p = json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "price": px(b1), "quantity": "0.00100"});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert_eq!(c.event()["w"], true);
    // Market sell of exactly the best bid's size: fills at the best bid.
    let (b1, bq1) = book.bids[0];
    let mut p =
        json!({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": qty(bq1.0)});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "FILLED", "{r}");
    assert_eq!(r["result"]["fills"][0]["price"], px(b1));
}

#[test]
fn every_authentication_error_is_the_venues_reply() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = s.connect("/ws-api/v3");
    let order = || limit("BUY", "GTC", "1.00", "0.00100");
    let now = s.now_ms();
    let r = c.call(
        "order.place",
        signed_hmac(order(), now, "noSuchKey", SECRET),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(401), -2015));
    let r = c.call("order.place", signed_hmac(order(), now, "bad key!", SECRET));
    assert_eq!(err_code(&r), -2014);
    let r = c.call(
        "order.place",
        signed_hmac(order(), now, HMAC_KEY, "wrongSecret"),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(400), -1022));
    let r = c.call(
        "order.place",
        signed_hmac(order(), now - 5_001, HMAC_KEY, SECRET),
    );
    assert_eq!(err_code(&r), -1021);
    assert!(r["error"]["msg"].as_str().unwrap().contains("recvWindow"));
    let r = c.call(
        "order.place",
        signed_hmac(order(), now + 1_000, HMAC_KEY, SECRET),
    );
    assert_eq!(err_code(&r), -1021);
    let mut p = order();
    p["recvWindow"] = 10_000.into();
    let r = c.call("order.place", signed_hmac(p, now - 9_000, HMAC_KEY, SECRET));
    assert_eq!(r["status"], 200, "a wider recvWindow admits it: {r}");
    let mut p = order();
    p["recvWindow"] = 60_001.into();
    let r = c.call("order.place", signed_hmac(p, now, HMAC_KEY, SECRET));
    assert_eq!(err_code(&r), -1131);
    // A tampered parameter after signing.
    let mut p = signed_hmac(order(), now, HMAC_KEY, SECRET);
    p["quantity"] = "0.00200".into();
    assert_eq!(err_code(&c.call("order.place", p)), -1022);
    // Ed25519 with a signature of another key.
    let mut p = signed_ed(order(), now);
    let other = SigningKey::from_bytes(&[9u8; 32]).sign(payload(p.as_object().unwrap()).as_bytes());
    p["signature"] = base64::engine::general_purpose::STANDARD
        .encode(other.to_bytes())
        .into();
    assert_eq!(err_code(&c.call("order.place", p)), -1022);
    // No key and no logon; logon with an HMAC key; user data before logon.
    let mut p = order();
    p["timestamp"] = now.into();
    assert_eq!(err_code(&c.call("order.place", p)), -1102);
    let r = c.call(
        "session.logon",
        signed_hmac(json!({}), now, HMAC_KEY, SECRET),
    );
    assert_eq!(r["status"], 400, "{r}");
    assert_eq!(c.call("userDataStream.subscribe", json!({}))["status"], 401);
    assert_eq!(s.sim.stats().orders.placed.load(Ordering::Relaxed), 1);
}

#[test]
fn a_burst_over_fifty_orders_in_one_window_is_429_then_418_and_counted() {
    let s = Sim::start(Venue::BinanceSpot, false);
    // 00:00:09.000: the 10-s window ends at 00:00:10.000.
    s.clock.advance(4_000 * 1_000_000);
    let window_end = (s.now_ms() / 10_000 + 1) * 10_000;
    let mut c = s.connect("/ws-api/v3");
    for i in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("BUY", "GTC", "1.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "order {i}: {r}");
        assert_eq!(r["rateLimits"][1]["count"], i + 1);
    }
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(429), -1015),
        "{r}"
    );
    assert_eq!(r["error"]["data"]["retryAfter"], window_end);
    assert_eq!(s.stats().0, 1);
    // Continuing before retryAfter: 418, banned for two minutes.
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": 1}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(418), -1003),
        "{r}"
    );
    let banned_until = r["error"]["data"]["retryAfter"].as_u64().unwrap();
    assert_eq!(banned_until, s.now_ms() + 120_000);
    assert_eq!(s.stats().0, 2);
    // Still banned after the window turns.
    s.clock.advance(2_000 * 1_000_000);
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 418);
    assert_eq!(s.stats().0, 3);
    // After the ban: accepted, in a fresh 10-s window; the day still counts 50.
    s.clock.set(banned_until * 1_000_000);
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(
        (
            r["rateLimits"][1]["count"].as_u64(),
            r["rateLimits"][2]["count"].as_u64()
        ),
        (Some(1), Some(51))
    );
    assert_eq!(s.stats(), (3, 0));
}

#[test]
fn ten_second_windows_start_on_the_clock_not_on_the_first_order() {
    let s = Sim::start(Venue::BinanceSpot, false);
    // 00:00:09.990: 50 orders, then 10 ms later a new window admits 50 more.
    s.clock.advance(4_990 * 1_000_000);
    let mut c = s.connect("/ws-api/v3");
    for _ in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("SELL", "GTC", "99999.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "{r}");
    }
    s.clock.advance(10 * 1_000_000);
    for i in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("SELL", "GTC", "99999.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["rateLimits"][1]["count"], i + 1);
    }
    assert_eq!(s.stats(), (0, 0));
}

#[test]
fn a_client_id_is_refused_while_open_and_reaccepted_after_a_fill_both_counted() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let (a1, q1) = s.book().asks[0];
    let mut c = s.connect("/ws-api/v3");
    let mut p = limit("BUY", "GTC", "1.00", "0.00100");
    p["newClientOrderId"] = "dup-1".into();
    assert_eq!(
        c.call(
            "order.place",
            signed_hmac(p.clone(), s.now_ms(), HMAC_KEY, SECRET)
        )["status"],
        200
    );
    let r = c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET));
    assert_eq!(
        (err_code(&r), r["error"]["msg"].as_str()),
        (-2010, Some("Duplicate order sent."))
    );
    assert_eq!(s.stats(), (0, 1));
    // An IOC that fills, then the same id again: accepted, and the sim counts the re-send.
    let mut p = limit("BUY", "IOC", &px(a1), &qty(q1.0));
    p["newClientOrderId"] = "dup-2".into();
    assert_eq!(
        c.call(
            "order.place",
            signed_hmac(p.clone(), s.now_ms(), HMAC_KEY, SECRET)
        )["result"]["status"],
        "FILLED"
    );
    assert_eq!(
        c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET))["result"]["status"],
        "FILLED"
    );
    assert_eq!(s.stats(), (0, 2));
}

#[test]
fn cancel_replace_cancel_all_and_a_trade_through_resting_orders() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", "100.00", "0.01000"), &s),
    );
    let id = r["result"]["orderId"].as_u64().unwrap();
    let mut p = limit("BUY", "GTC", "101.00", "0.02000");
    p["cancelReplaceMode"] = "STOP_ON_FAILURE".into();
    p["cancelOrderId"] = id.into();
    let r = c.call("order.cancelReplace", sig(p.clone(), &s));
    assert_eq!(r["result"]["cancelResult"], "SUCCESS", "{r}");
    assert_eq!(r["result"]["cancelResponse"]["status"], "CANCELED");
    assert_eq!(r["result"]["newOrderResponse"]["price"], "101.00");
    // The same again: the cancel fails, the new order is not attempted.
    let r = c.call("order.cancelReplace", sig(p, &s));
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(400), -2022),
        "{r}"
    );
    assert_eq!(r["error"]["data"]["newOrderResult"], "NOT_ATTEMPTED");
    // Another order at 102; a trade at 101.50 fills only the one at 102, at 102.
    c.call(
        "order.place",
        sig(limit("BUY", "GTC", "102.00", "0.03000"), &s),
    );
    c.events.clear();
    s.sim.trade_through("BTCUSDT", Price(10_150));
    let mut fills = Vec::new();
    for _ in 0..20 {
        let e = c.event();
        if e["x"] == "TRADE" {
            fills.push((
                e["L"].as_str().unwrap().to_owned(),
                e["l"].as_str().unwrap().to_owned(),
                e["m"].clone(),
            ));
            break;
        }
    }
    assert_eq!(
        fills,
        vec![("102.00".to_owned(), "0.03000".to_owned(), json!(true))]
    );
    let r = c.call(
        "openOrders.cancelAll",
        sig(json!({"symbol": "BTCUSDT"}), &s),
    );
    let all = r["result"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{r}");
    assert_eq!(all[0]["price"], "101.00");
}

#[test]
fn rate_limits_can_be_left_out_per_connection_or_per_request() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = s.connect("/ws-api/v3?returnRateLimits=false");
    let r = c.call("time", json!({}));
    assert_eq!(r["result"]["serverTime"], s.now_ms());
    assert!(r.get("rateLimits").is_none(), "{r}");
    let mut c = s.connect("/ws-api/v3");
    assert!(c.call("ping", json!({}))["rateLimits"].is_array());
    let mut p = limit("BUY", "GTC", "1.00", "0.00100");
    p["returnRateLimits"] = false.into();
    let r = c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET));
    assert_eq!(r["status"], 200, "{r}");
    assert!(r.get("rateLimits").is_none(), "{r}");
    // An unknown method is refused, not ignored.
    assert_eq!(err_code(&c.call("account.teleport", json!({}))), -1020);
}
