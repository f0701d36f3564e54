//! Binance replies and user-data events decode to exact values in any key
//! order; malformed input is a typed error naming the field, never a panic.
//! Shapes come from `tests/fixtures/shape_only/` (docs-derived,
//! see SOURCES.md), wrapped in the WS API envelope where needed.

use tickwire::orders::ratelimit::LimitKind;
use tickwire::orders::{ClientId, Reply, VenueOrder, VenueStatus};
use tickwire::types::{NumError, Price, Qty, Registry, Venue};
use tickwire::venue::binance::orders::{Decoder, Inbound, Market};
use tickwire::venue::{DecodeError, JsonType, Location, What};

const S: u64 = 1_000_000_000;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn spot() -> Decoder {
    let mut r = Registry::new();
    r.add(Venue::BinanceSpot, "ETHUSDT", "0.01", "0.0001")
        .unwrap();
    r.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    r.add(Venue::BinanceSpot, "LTCBTC", "0.000001", "0.001")
        .unwrap();
    Decoder::new(Market::Spot, &r)
}

fn usdm() -> Decoder {
    let mut r = Registry::new();
    r.add(Venue::BinanceUsdm, "BTCUSDT", "0.10", "0.001")
        .unwrap();
    Decoder::new(Market::Usdm, &r)
}

fn update(d: &Decoder, frame: &str) -> VenueOrder {
    match d.decode(frame.as_bytes()) {
        Ok(Inbound::Update(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn id(s: &str) -> ClientId {
    ClientId::new(s.as_bytes()).unwrap()
}

#[test]
fn execution_report_new_and_trade() {
    let d = spot();
    let v = update(&d, &fixture("shape_only/binance/execution_report_new.json"));
    assert_eq!(v.client_id, id("x-TD67BGP9-T0000000000000"));
    assert_eq!(
        (v.venue_order_id, v.status, v.cum_qty, v.fill),
        (12345678, VenueStatus::New, Qty(0), None)
    );
    let t = update(
        &d,
        &fixture("shape_only/binance/execution_report_trade.json"),
    );
    assert_eq!(t.status, VenueStatus::Filled);
    assert_eq!(t.cum_qty, Qty(10_000), "1.00000000 at lot scale 4");
    let f = t.fill.unwrap();
    assert_eq!(
        (f.trade_id, f.price, f.qty),
        (98765432, Price(250_000), Qty(10_000))
    );
}

#[test]
fn the_ws_api_wrapper_and_key_order_do_not_matter() {
    let d = spot();
    let raw = fixture("shape_only/binance/execution_report_trade.json");
    let direct = update(&d, &raw);
    let wrapped = format!(r#"{{"subscriptionId":0,"event":{raw}}}"#);
    assert_eq!(update(&d, &wrapped), direct);
    // The same members in reverse order.
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&raw).unwrap();
    let mut members: Vec<String> = v.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
    members.reverse();
    let reversed = format!("{{{}}}", members.join(","));
    assert_eq!(update(&d, &reversed), direct);
}

#[test]
fn a_cancel_event_names_the_original_order() {
    let d = spot();
    let raw = fixture("shape_only/binance/execution_report_new.json")
        .replace(r#""x": "NEW""#, r#""x": "CANCELED""#)
        .replace(r#""X": "NEW""#, r#""X": "CANCELED""#)
        .replace(r#""c": "x-TD67BGP9-T0000000000000""#, r#""c": "cancel-1""#)
        .replace(r#""C": """#, r#""C": "x-TD67BGP9-T0000000000000""#);
    let v = update(&d, &raw);
    assert_eq!(
        (v.client_id, v.status),
        (id("x-TD67BGP9-T0000000000000"), VenueStatus::Canceled)
    );
}

#[test]
fn order_trade_update_usdm() {
    let v = update(
        &usdm(),
        &fixture("shape_only/binance_futures/order_update_trade.json"),
    );
    assert_eq!(v.client_id, id("TEST"));
    assert_eq!(
        (v.venue_order_id, v.status, v.cum_qty),
        (8886774, VenueStatus::PartiallyFilled, Qty(1))
    );
    let f = v.fill.unwrap();
    assert_eq!(
        (f.trade_id, f.price, f.qty),
        (12345678, Price(71_005), Qty(1))
    );
}

fn reply(
    d: &Decoder,
    frame: &str,
) -> (u64, Reply, tickwire::orders::ReplyMeta, Option<VenueOrder>) {
    match d.decode(frame.as_bytes()) {
        Ok(Inbound::Reply {
            req,
            reply,
            meta,
            also,
            ..
        }) => (req, reply, meta, also),
        other => panic!("{other:?}"),
    }
}

#[test]
fn order_results_with_fills_and_cancel_results() {
    let d = spot();
    let limits = r#"[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":3},{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000,"count":9},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":12}]"#;
    let full = fixture("shape_only/binance/new_order_full_response.json");
    let frame = format!(r#"{{"id":42,"status":200,"result":{full},"rateLimits":{limits}}}"#);
    let (req, r, meta, also) = reply(&d, &frame);
    assert_eq!((req, meta.status, also), (42, 200, None));
    let Reply::Order(v) = r else { panic!("{r:?}") };
    assert_eq!(v.client_id, id("6gCrw2kRUAF9CvJDGP16IP"));
    assert_eq!((v.status, v.cum_qty), (VenueStatus::Filled, Qty(1_000_000)));
    let f = v.fill.unwrap();
    assert_eq!(
        (f.trade_id, f.price, f.qty),
        (60, Price(399_500), Qty(100_000)),
        "the last fill"
    );
    let l: Vec<_> = meta
        .limits
        .iter()
        .flatten()
        .map(|l| (l.kind, l.interval, l.limit, l.count))
        .collect();
    assert_eq!(
        l,
        [
            (LimitKind::Orders, 10 * S, 50, 3),
            (LimitKind::Orders, 86_400 * S, 160_000, 9),
            (LimitKind::Weight, 60 * S, 6000, 12)
        ]
    );
    let cancel = fixture("shape_only/binance/cancel_order_response.json");
    let (_, r, _, _) = reply(
        &d,
        &format!(r#"{{"id":"43","status":200,"result":{cancel}}}"#),
    );
    let Reply::Order(v) = r else { panic!("{r:?}") };
    assert_eq!(
        (v.client_id, v.status, v.venue_order_id),
        (id("myOrder1"), VenueStatus::Canceled, 4)
    );
}

#[test]
fn cancel_replace_reports_both_orders() {
    let d = spot();
    let new = fixture("shape_only/binance/new_order_full_response.json");
    let cancel = fixture("shape_only/binance/cancel_order_response.json")
        .replace("LTCBTC", "BTCUSDT")
        .replace(r#""2.00000000""#, r#""2.00""#);
    let frame = format!(
        r#"{{"id":5,"status":200,"result":{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{cancel},"newOrderResponse":{new}}}}}"#
    );
    let (_, r, _, also) = reply(&d, &frame);
    assert!(matches!(r, Reply::Order(v) if v.client_id == id("6gCrw2kRUAF9CvJDGP16IP")));
    assert_eq!(also.unwrap().client_id, id("myOrder1"));
}

#[test]
fn errors_are_classified() {
    let d = spot();
    let (req, r, meta, _) = reply(
        &d,
        r#"{"id":3,"status":400,"error":{"code":-2010,"msg":"Account has insufficient balance for requested action."}}"#,
    );
    assert_eq!((req, meta.status), (3, 400));
    let Reply::Refused { code, text } = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (code, text.as_str()),
        (
            -2010,
            "Account has insufficient balance for requested action."
        )
    );
    let (_, r, _, _) = reply(
        &d,
        r#"{"id":4,"status":400,"error":{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}}"#,
    );
    assert!(matches!(r, Reply::Unknown { code: -1007, .. }), "{r:?}");
    let (_, r, _, _) = reply(
        &d,
        r#"{"id":5,"status":400,"error":{"code":-2013,"msg":"Order does not exist."}}"#,
    );
    assert!(matches!(r, Reply::NotFound { code: -2013, .. }));
    let (_, r, _, _) = reply(
        &d,
        r#"{"id":6,"status":503,"error":{"code":-1008,"msg":"busy"}}"#,
    );
    assert!(matches!(r, Reply::Unknown { .. }));
    let (_, r, meta, _) = reply(
        &d,
        r#"{"id":7,"status":429,"error":{"code":-1003,"msg":"Too much request weight used.","data":{"serverTime":1659127601000,"retryAfter":1659127620000}}}"#,
    );
    assert!(matches!(r, Reply::Refused { code: -1003, .. }));
    assert_eq!(
        (meta.status, meta.retry_after),
        (429, 1_659_127_620_000 * 1_000_000)
    );
    let logon = r#"{"id":1,"status":200,"result":{"apiKey":"k","authorizedSince":1649729878532,"connectedSince":1649729873021,"returnRateLimits":false,"serverTime":1649729878630}}"#;
    match d.decode(logon.as_bytes()).unwrap() {
        Inbound::Reply {
            reply,
            server_time_ms,
            ..
        } => {
            assert_eq!(
                (reply, server_time_ms),
                (Reply::Done, Some(1_649_729_878_630))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        d.decode(br#"{"e":"outboundAccountPosition","E":1}"#)
            .unwrap(),
        Inbound::Other
    );
}

fn err(d: &Decoder, frame: &str) -> DecodeError {
    match d.decode(frame.as_bytes()) {
        Err(e) => e,
        Ok(v) => panic!("accepted {frame}: {v:?}"),
    }
}

#[test]
fn malformed_input_table() {
    let d = spot();
    let ok_event = fixture("shape_only/binance/execution_report_trade.json");
    let field = Location::field;
    let cases: Vec<(String, What, Location)> = vec![
        (String::new(), What::Empty, Location::Root),
        (r#"{"id":1,"status":200"#.into(), What::InvalidJson, Location::Byte(20)),
        ("[1,2]".into(), What::InvalidJson, Location::Byte(5)),
        (r#"{"id":1}"#.into(), What::UnknownMessage, field("status")),
        (r#"{"id":1,"status":"200"}"#.into(), What::Expected(JsonType::Integer), field("status")),
        (r#"{"id":1,"status":70000,"result":{}}"#.into(), What::Expected(JsonType::UnsignedInteger), field("status")),
        (r#"{"id":-1,"status":200,"result":{}}"#.into(), What::Expected(JsonType::UnsignedInteger), field("id")),
        (r#"{"id":1,"status":400}"#.into(), What::Missing, field("error")),
        (r#"{"id":1,"status":400,"error":{"code":"x"}}"#.into(), What::Expected(JsonType::Integer), field("code")),
        (r#"{"id":1,"status":200,"result":{},"rateLimits":{}}"#.into(), What::Expected(JsonType::Array), field("rateLimits")),
        (
            r#"{"id":1,"status":200,"result":{},"rateLimits":[{"rateLimitType":"ORDERS","interval":"WEEK","intervalNum":1}]}"#.into(),
            What::UnknownMessage,
            field("interval"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"DOGEUSDT","clientOrderId":"a","orderId":1,"status":"NEW","executedQty":"0"}}"#.into(),
            What::UnknownMessage,
            field("symbol"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a b","orderId":1,"status":"NEW","executedQty":"0"}}"#.into(),
            What::UnknownMessage,
            field("clientOrderId"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a","orderId":-5,"status":"NEW","executedQty":"0"}}"#.into(),
            What::Expected(JsonType::UnsignedInteger),
            field("orderId"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a","orderId":1,"status":"WEIRD","executedQty":"0"}}"#.into(),
            What::UnknownMessage,
            field("status"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a","orderId":1,"status":"NEW"}}"#.into(),
            What::Missing,
            field("executedQty"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a","orderId":1,"status":"NEW","executedQty":"0.000001"}}"#.into(),
            What::Number(NumError::TooManyDecimals { scale: 5 }),
            field("executedQty"),
        ),
        (
            r#"{"id":1,"status":200,"result":{"symbol":"BTCUSDT","clientOrderId":"a","orderId":1,"status":"NEW","executedQty":1.5}}"#.into(),
            What::Expected(JsonType::String),
            field("executedQty"),
        ),
        (ok_event.replace(r#""X": "FILLED","#, ""), What::Missing, field("X")),
        (ok_event.replace(r#""L": "2500.00000000""#, r#""L": "2500.001""#), What::Number(NumError::TooManyDecimals { scale: 2 }), field("L")),
        (ok_event.replace(r#""i": 12345678"#, r#""i": "12345678""#), What::Expected(JsonType::Integer), field("i")),
        (r#"{"e":"ORDER_TRADE_UPDATE","E":1}"#.into(), What::Missing, field("o")),
        (r#"{"subscriptionId":0,"event":[]}"#.into(), What::Expected(JsonType::Object), field("event")),
        (r#"{"subscriptionId":0,"event":{"E":1}}"#.into(), What::Missing, field("e")),
    ];
    for (frame, what, at) in cases {
        let e = err(&d, &frame);
        assert_eq!(
            (e.venue, e.what, e.at),
            (Venue::BinanceSpot, what, at),
            "{frame}"
        );
    }
}

#[test]
fn truncations_and_byte_flips_never_panic() {
    let d = spot();
    let frames = [
        fixture("shape_only/binance/execution_report_trade.json"),
        format!(
            r#"{{"id":1,"status":200,"result":{}}}"#,
            fixture("shape_only/binance/new_order_full_response.json")
        ),
    ];
    for f in &frames {
        let b = f.as_bytes();
        for cut in 0..b.len() {
            let _ = d.decode(&b[..cut]);
        }
        let mut m = b.to_vec();
        for i in 0..m.len() {
            for x in [b'"', b'{', b'}', b'[', b'\\', b'0', 0xff] {
                let keep = m[i];
                m[i] = x;
                let _ = d.decode(&m);
                m[i] = keep;
            }
        }
    }
}
