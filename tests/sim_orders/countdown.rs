//! USD-M's dead-man switch, `POST /fapi/v1/countdownCancelAll`: signed like
//! every REST call, armed with `countdownTime` ms, disarmed with 0; when the
//! countdown runs out on the venue's clock the symbol's open orders are
//! canceled and the user-data stream says so.

use std::sync::atomic::Ordering;

use serde_json::json;
use tickwire::types::Venue;

use crate::client::*;

fn countdown(s: &Sim, ms: &str, secret: &str) -> (u16, serde_json::Value) {
    let q = format!("symbol=BTCUSDT&countdownTime={ms}&timestamp={}", s.now_ms());
    let target = format!(
        "/fapi/v1/countdownCancelAll?{q}&signature={}",
        hmac_hex(secret, &q)
    );
    s.rest("POST", &target, HMAC_KEY)
}

#[test]
fn a_countdown_runs_out_and_cancels_a_disarmed_one_does_not() {
    let s = Sim::start(Venue::BinanceUsdm, false);
    let (_, body) = s.rest("POST", "/fapi/v1/listenKey", HMAC_KEY);
    let key = body["listenKey"].as_str().unwrap().to_owned();
    let mut user = s.connect(&format!("/ws/{key}"));
    let mut c = s.connect("/ws-fapi/v1");
    let mut p = limit("BUY", "GTC", "100.00", "0.01000");
    p["newClientOrderId"] = "dm.1".into();
    let r = c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET));
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert_eq!(user.event()["o"]["x"], "NEW");
    let orders = &s.sim.stats().orders;
    // A wrong signature and a missing countdown are refused.
    assert_eq!(countdown(&s, "5000", "wrong").1["code"], -1022);
    let q = format!("symbol=BTCUSDT&timestamp={}", s.now_ms());
    let target = format!(
        "/fapi/v1/countdownCancelAll?{q}&signature={}",
        hmac_hex(SECRET, &q)
    );
    assert_eq!(s.rest("POST", &target, HMAC_KEY).0, 400);
    assert_eq!(orders.countdowns_armed.load(Ordering::Relaxed), 0);
    // Armed, then disarmed: time passes, nothing is canceled.
    let (status, body) = countdown(&s, "5000", SECRET);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"symbol": "BTCUSDT", "countdownTime": "5000"}));
    assert_eq!(countdown(&s, "0", SECRET).0, 200);
    s.clock.advance(6_000_000_000);
    s.sync();
    s.sync();
    assert_eq!(orders.countdowns_fired.load(Ordering::Relaxed), 0);
    // Armed again: not yet due, then due.
    assert_eq!(countdown(&s, "5000", SECRET).0, 200);
    s.clock.advance(4_000_000_000);
    s.sync();
    s.sync();
    assert_eq!(orders.countdowns_fired.load(Ordering::Relaxed), 0);
    s.clock.advance(1_000_000_000);
    let e = user.event();
    assert_eq!(
        (e["o"]["c"].as_str(), e["o"]["X"].as_str()),
        (Some("dm.1"), Some("CANCELED")),
        "{e}"
    );
    assert_eq!(orders.countdowns_fired.load(Ordering::Relaxed), 1);
    assert_eq!(orders.countdowns_armed.load(Ordering::Relaxed), 2);
    assert_eq!(orders.countdowns_disarmed.load(Ordering::Relaxed), 1);
    assert_eq!(orders.countdown_ms.load(Ordering::Relaxed), 5_000);
}
