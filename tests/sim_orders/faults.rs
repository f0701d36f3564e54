//! Order faults (dropped reply, -1007, late fill, delay, disconnect
//! mid-order), USD-M over TLS, documented shapes, and `tickwire sim`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tickwire::sim::{Fault, OrderFault};
use tickwire::types::Venue;
use tungstenite::Message;

use crate::client::*;

use std::io::Write;

#[test]
fn order_faults_drop_unknown_outcome_late_fill_and_delay() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    // Dropped reply: no reply, but the order exists and its NEW event comes.
    s.sim.inject(Fault::Orders(OrderFault::DropReply));
    s.sync();
    let mut p = limit("BUY", "GTC", "100.00", "0.01000");
    p["newClientOrderId"] = "drop-1".into();
    c.send("order.place", sig(p, &s));
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["c"].as_str()),
        (Some("NEW"), Some("drop-1"))
    );
    let r = c.call(
        "order.status",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "drop-1"}),
            &s,
        ),
    );
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert!(
        c.events.iter().all(|v| v.get("id").is_none()),
        "no reply to the dropped request"
    );
    // -1007 with and without the order.
    for placed in [true, false] {
        s.sim
            .inject(Fault::Orders(OrderFault::UnknownOutcome { placed }));
        s.sync();
        let cid = format!("unk-{placed}");
        let mut p = limit("BUY", "GTC", "100.00", "0.01000");
        p["newClientOrderId"] = cid.as_str().into();
        let r = c.call("order.place", sig(p, &s));
        assert_eq!(
            (r["status"].as_u64(), err_code(&r)),
            (Some(408), -1007),
            "{r}"
        );
        let r = c.call(
            "order.status",
            sig(json!({"symbol": "BTCUSDT", "origClientOrderId": cid}), &s),
        );
        assert_eq!(r["status"], if placed { 200 } else { 400 }, "{r}");
    }
    // Late fill: the cancel reply carries the fill; TRADE then CANCELED come after it.
    c.events.clear();
    s.sim.inject(Fault::Orders(OrderFault::LateFill));
    s.sync();
    let r = c.call(
        "order.cancel",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "drop-1"}),
            &s,
        ),
    );
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("CANCELED"), Some("0.00500")),
        "{r}"
    );
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["l"].as_str(), e["L"].as_str()),
        (Some("TRADE"), Some("0.00500"), Some("100.00"))
    );
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["z"].as_str()),
        (Some("CANCELED"), Some("0.00500"))
    );
    // Delayed replies: the event arrives before the reply.
    s.sim.inject(Fault::Orders(OrderFault::DelayReplies(
        Duration::from_millis(300),
    )));
    s.sync();
    let id = c.send(
        "order.place",
        sig(limit("BUY", "GTC", "100.00", "0.01000"), &s),
    );
    let first = c.frame();
    assert_eq!(first["event"]["x"], "NEW", "event first: {first}");
    assert_eq!(c.reply(id)["status"], 200);
}

#[test]
fn usdm_over_tls_listen_key_gtx_modify_disconnect_mid_order_and_rest_cancel_all() {
    let s = Sim::start(Venue::BinanceUsdm, true);
    let book = s.book();
    let (a1, _) = book.asks[0];
    let (status, body) = s.rest("POST", "/fapi/v1/listenKey", HMAC_KEY);
    assert_eq!(status, 200, "{body}");
    let key = body["listenKey"].as_str().unwrap().to_owned();
    assert_eq!(s.rest("POST", "/fapi/v1/listenKey", "unknownKey").0, 401);
    let mut user = s.connect(&format!("/ws/{key}"));
    let mut c = s.connect("/ws-fapi/v1");
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    // GTX that would take: expired.
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTX", &px(a1), "0.01000"), &s),
    );
    assert_eq!(r["result"]["status"], "EXPIRED", "{r}");
    let e = user.event();
    assert_eq!(
        (e["e"].as_str(), e["o"]["x"].as_str()),
        (Some("ORDER_TRADE_UPDATE"), Some("NEW"))
    );
    assert_eq!(user.event()["o"]["X"], "EXPIRED");
    // A resting order, modified, then a duplicate client id.
    let mut p = limit("BUY", "GTC", "100.00", "0.01000");
    p["newClientOrderId"] = "fut.1".into();
    let r = c.call("order.place", sig(p.clone(), &s));
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert_eq!(r["rateLimits"][1]["limit"], 300);
    let r = c.call("order.place", sig(p, &s));
    assert_eq!(err_code(&r), -4116);
    let r = c.call("order.modify", sig(json!({"symbol": "BTCUSDT", "origClientOrderId": "fut.1", "side": "BUY", "price": "101.00", "quantity": "0.02000"}), &s));
    assert_eq!(
        (
            r["result"]["price"].as_str(),
            r["result"]["origQty"].as_str()
        ),
        (Some("101.00"), Some("0.02000")),
        "{r}"
    );
    assert_eq!(user.event()["o"]["x"], "NEW");
    assert_eq!(user.event()["o"]["x"], "AMENDMENT");
    // Disconnect mid-order: the order exists, its event reaches the user stream, the API connection drops.
    s.sim.inject(Fault::Orders(OrderFault::DisconnectMidOrder));
    s.sync();
    let mut p = limit("BUY", "GTC", "99.00", "0.01000");
    p["newClientOrderId"] = "fut.2".into();
    c.send("order.place", sig(p, &s));
    let e = user.event();
    assert_eq!(
        (e["o"]["x"].as_str(), e["o"]["c"].as_str()),
        (Some("NEW"), Some("fut.2"))
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut closed = false;
    while Instant::now() < deadline {
        match c.ws.read() {
            Ok(Message::Text(t)) => panic!("no reply expected: {t}"),
            Ok(_) => continue,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed);
    let mut c = s.connect("/ws-fapi/v1");
    let r = c.call(
        "order.status",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "fut.2"}),
            &s,
        ),
    );
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    // REST cancel-all, signed over the query string as sent.
    let q = format!("symbol=BTCUSDT&timestamp={}", s.now_ms());
    let target = format!(
        "/fapi/v1/allOpenOrders?{q}&signature={}",
        hmac_hex("wrong", &q)
    );
    assert_eq!(s.rest("DELETE", &target, HMAC_KEY).1["code"], -1022);
    let target = format!(
        "/fapi/v1/allOpenOrders?{q}&signature={}",
        hmac_hex(SECRET, &q)
    );
    let (status, body) = s.rest("DELETE", &target, HMAC_KEY);
    assert_eq!((status, body["code"].as_i64()), (200, Some(200)), "{body}");
    let mut canceled = Vec::new();
    for _ in 0..2 {
        let e = user.event();
        canceled.push(e["o"]["c"].as_str().unwrap().to_owned());
        assert_eq!(e["o"]["X"], "CANCELED");
    }
    canceled.sort();
    assert_eq!(canceled, ["fut.1", "fut.2"]);
}

#[test]
fn replies_and_events_carry_every_documented_field() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let (a1, q1) = s.book().asks[0];
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", &px(a1), &qty(q1.0 + 1)), &s),
    );
    assert_shape(
        &fixture("binance/new_order_full_response.json"),
        &r["result"],
        "place",
    );
    assert!(!r["result"]["fills"].as_array().unwrap().is_empty());
    assert_shape(
        &fixture("binance/execution_report_new.json"),
        &c.event(),
        "NEW",
    );
    assert_shape(
        &fixture("binance/execution_report_trade.json"),
        &c.event(),
        "TRADE",
    );
    let id = r["result"]["orderId"].clone();
    let r = c.call(
        "order.cancel",
        sig(json!({"symbol": "BTCUSDT", "orderId": id}), &s),
    );
    assert_shape(
        &fixture("binance/cancel_order_response.json"),
        &r["result"],
        "cancel",
    );

    let s = Sim::start(Venue::BinanceUsdm, false);
    let (a1, q1) = s.book().asks[0];
    let key = s.rest("POST", "/fapi/v1/listenKey", HMAC_KEY).1["listenKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut user = s.connect(&format!("/ws/{key}"));
    let mut c = s.connect("/ws-fapi/v1");
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", &px(a1), &qty(q1.0 + 1)), &s),
    );
    assert_shape(
        &fixture("binance_futures/order_response.json"),
        &r["result"],
        "usdm place",
    );
    assert_eq!(user.event()["o"]["x"], "NEW");
    assert_shape(
        &fixture("binance_futures/order_update_trade.json"),
        &user.event(),
        "usdm TRADE",
    );
}

/// `tickwire sim` prints the order URLs, takes accounts from files, applies
/// an order fault typed on stdin, and prints the `orders` counters.
#[test]
fn tickwire_sim_serves_orders_with_stdin_faults_and_an_orders_line() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let secret_file = dir.join("sim_orders_secret.txt");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args([
            "sim",
            "--venue",
            "binance-spot",
            "--symbols",
            "BTCUSDT",
            "--rate",
            "1",
        ])
        .arg("--hmac-account")
        .arg(format!("{HMAC_KEY}={}", secret_file.display()))
        .args(["--seconds", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sim");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |prefix: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                if l.starts_with(prefix) {
                    return l;
                }
            }
        }
        panic!("no line starting with {prefix:?}");
    };
    let url = wait_for("ws_api_url ")["ws_api_url ".len()..].to_owned();
    assert!(url.ends_with("/ws-api/v3"), "{url}");
    let mut stdin = child.stdin.take().unwrap();
    // The `orders` line proves `dropreply` was handed to the simulator; the
    // connection made after it reaches the market thread after the fault.
    writeln!(stdin, "dropreply").unwrap();
    writeln!(stdin, "orders").unwrap();
    stdin.flush().unwrap();
    assert!(wait_for("orders: ").contains("0 requests"));
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Dropped: no reply; the next one is answered.
    for id in 1..=2 {
        let p = signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            now_ms,
            HMAC_KEY,
            SECRET,
        );
        let req = json!({"id": id, "method": "order.place", "params": p});
        ws.send(Message::text(req.to_string())).unwrap();
    }
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    let reply: Value = match ws.read().expect("reply") {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (reply["id"].as_u64(), reply["status"].as_u64()),
        (Some(2), Some(200)),
        "{reply}"
    );
    writeln!(stdin, "orders").unwrap();
    stdin.flush().unwrap();
    let line = wait_for("orders: ");
    assert!(line.contains("2 requests, 2 placed"), "{line}");
    assert!(
        line.contains("0 breaches, 0 duplicates, 1 dropped replies"),
        "{line}"
    );
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        panic!("sim did not quit");
    }
}
