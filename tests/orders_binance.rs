//! Binance WS API requests: exact JSON, parameters sorted and signed as the
//! docs describe, checked against the documented HMAC example and against
//! signatures recomputed independently (`openssl dgst -sha256 -hmac`).

use tickwire::orders::{Cancel, ClientId, NewOrder, OrderType, Send, TimeInForce};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::{EncodeError, Encoder, Market, SIGNATURE_CAP, Signer};

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &[u8] = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
/// The docs example's timestamp, 1645423376532 ms, in ns.
const TS: Nanos = 1_645_423_376_532_000_000;

fn registry() -> (Registry, InstrumentId, InstrumentId) {
    let mut r = Registry::new();
    let spot = r
        .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00000001")
        .unwrap();
    let usdm = r
        .add(Venue::BinanceUsdm, "BTCUSDT", "0.10", "0.001")
        .unwrap();
    (r, spot, usdm)
}

fn sell(inst: InstrumentId, price: i64, qty: i64, tif: TimeInForce) -> NewOrder {
    NewOrder {
        client_id: ClientId::new(b"tw-1").unwrap(),
        instrument: inst,
        side: Side::Ask,
        kind: OrderType::Limit,
        tif,
        price: Price(price),
        qty: Qty(qty),
    }
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn the_documented_hmac_example() {
    let s = Signer::hmac(SECRET).unwrap();
    let payload = format!(
        "apiKey={KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    );
    let mut out = [0; SIGNATURE_CAP];
    let n = s.sign(payload.as_bytes(), &mut out);
    assert_eq!(
        text(&out[..n]),
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    );
}

#[test]
fn order_place_is_the_documented_request_plus_our_client_id() {
    let (reg, spot, _) = registry();
    let mut e = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 100).unwrap();
    // 52000.00 at scale 2, 0.01 at scale 8.
    let o = sell(spot, 5_200_000, 1_000_000, TimeInForce::Gtc);
    let req = e
        .write(&Send::New { req: 7, order: o }, TS)
        .unwrap()
        .to_vec();
    let payload = format!(
        "apiKey={KEY}&newClientOrderId=tw-1&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    );
    assert_eq!(text(e.last_payload()), payload);
    // Recomputed with: echo -n "$payload" | openssl dgst -sha256 -hmac "$SECRET"
    let sig = "b0bdc9a6db1677b5385c7f486804c075ac3c572485dd0b9f36c28a9c8775d65e";
    let expected = format!(
        r#"{{"id":7,"method":"order.place","params":{{"apiKey":"{KEY}","newClientOrderId":"tw-1","price":"52000.00","quantity":"0.01000000","recvWindow":100,"side":"SELL","symbol":"BTCUSDT","timeInForce":"GTC","timestamp":1645423376532,"type":"LIMIT","signature":"{sig}"}}}}"#
    );
    assert_eq!(text(&req), expected);
    let parsed: serde_json::Value = serde_json::from_slice(&req).unwrap();
    assert_eq!(parsed["params"]["price"], "52000.00");
}

#[test]
fn post_only_is_limit_maker_on_spot_and_gtx_on_usdm() {
    let (reg, spot, usdm) = registry();
    let mut s = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    let o = sell(spot, 4_300_001, 50_000_000, TimeInForce::PostOnly);
    s.write(&Send::New { req: 1, order: o }, TS).unwrap();
    let p = text(s.last_payload()).to_owned();
    assert!(p.contains("&type=LIMIT_MAKER"), "{p}");
    assert!(
        !p.contains("timeInForce") && !p.contains("recvWindow"),
        "{p}"
    );
    assert!(p.contains("price=43000.01&quantity=0.50000000"), "{p}");
    let mut f = Encoder::new(Market::Usdm, &reg, KEY, Signer::hmac(SECRET).unwrap(), 5000).unwrap();
    // The USD-M tick "0.10" is scale 1: 43000.0.
    let o = sell(usdm, 430_000, 500, TimeInForce::PostOnly);
    let req = text(f.write(&Send::New { req: 2, order: o }, TS).unwrap()).to_owned();
    assert!(
        req.contains(r#""timeInForce":"GTX""#) && req.contains(r#""type":"LIMIT""#),
        "{req}"
    );
    assert!(
        req.contains(r#""price":"43000.0""#) && req.contains(r#""quantity":"0.500""#),
        "{req}"
    );
}

#[test]
fn market_orders_carry_no_price_and_cannot_be_post_only() {
    let (reg, spot, _) = registry();
    let mut e = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    let mut o = sell(spot, 0, 1, TimeInForce::Ioc);
    o.kind = OrderType::Market;
    o.side = Side::Bid;
    e.write(&Send::New { req: 1, order: o }, TS).unwrap();
    assert_eq!(
        text(e.last_payload()),
        format!(
            "apiKey={KEY}&newClientOrderId=tw-1&quantity=0.00000001&side=BUY&symbol=BTCUSDT&timestamp=1645423376532&type=MARKET"
        )
    );
    o.tif = TimeInForce::PostOnly;
    assert_eq!(
        e.write(&Send::New { req: 2, order: o }, TS).unwrap_err(),
        EncodeError::Unsupported
    );
}

#[test]
fn cancel_status_cancel_all_and_cancel_replace() {
    let (reg, spot, usdm) = registry();
    let mut e = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    let id = ClientId::new(b"tw-9").unwrap();
    let cancel = Cancel {
        client_id: id,
        instrument: spot,
    };
    let r = text(
        e.write(
            &Send::Cancel {
                req: 3,
                cancel,
                venue_order_id: 0,
            },
            TS,
        )
        .unwrap(),
    )
    .to_owned();
    assert!(
        r.starts_with(r#"{"id":3,"method":"order.cancel","params":{"apiKey":"#),
        "{r}"
    );
    assert!(
        e.last_payload()
            .ends_with(b"&origClientOrderId=tw-9&symbol=BTCUSDT&timestamp=1645423376532")
    );
    let q = Send::Query {
        req: 4,
        client_id: id,
        instrument: spot,
    };
    assert!(text(e.write(&q, TS).unwrap()).contains(r#""method":"order.status""#));
    let all = Send::CancelAll {
        req: 5,
        instrument: spot,
    };
    assert!(text(e.write(&all, TS).unwrap()).contains(r#""method":"openOrders.cancelAll""#));
    let new = sell(spot, 100, 1, TimeInForce::Gtc);
    let cr = Send::CancelReplace {
        req: 6,
        cancel: id,
        new,
    };
    e.write(&cr, TS).unwrap();
    assert_eq!(
        text(e.last_payload()),
        format!(
            "apiKey={KEY}&cancelOrigClientOrderId=tw-9&cancelReplaceMode=STOP_ON_FAILURE&newClientOrderId=tw-1&price=1.00&quantity=0.00000001&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        )
    );
    // USD-M: no cancel-all and no cancel-replace on the WS API; order.modify instead.
    let mut f = Encoder::new(Market::Usdm, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    let all = Send::CancelAll {
        req: 7,
        instrument: usdm,
    };
    assert_eq!(f.write(&all, TS).unwrap_err(), EncodeError::Unsupported);
    let m = sell(usdm, 430_000, 2, TimeInForce::Gtc);
    let r = text(f.write_modify(8, &m, TS).unwrap()).to_owned();
    assert!(
        r.contains(r#""method":"order.modify""#) && r.contains(r#""quantity":"0.002""#),
        "{r}"
    );
    // A spot instrument is not a USD-M symbol.
    let o = sell(spot, 100, 1, TimeInForce::Gtc);
    assert_eq!(
        f.write(&Send::New { req: 9, order: o }, TS).unwrap_err(),
        EncodeError::UnknownInstrument
    );
}

#[test]
fn ed25519_logon_then_unsigned_requests() {
    use base64::Engine as _;
    use ed25519_dalek::Verifier as _;
    let (reg, spot, _) = registry();
    let secret = [42u8; 32];
    let mut e = Encoder::new(
        Market::Spot,
        &reg,
        KEY,
        Signer::ed25519_bytes(&secret),
        5000,
    )
    .unwrap();
    let logon = text(e.write_logon(1, TS).unwrap()).to_owned();
    let v: serde_json::Value = serde_json::from_str(&logon).unwrap();
    assert_eq!(v["method"], "session.logon");
    assert_eq!(v["params"]["apiKey"], KEY);
    assert_eq!(v["params"]["timestamp"], 1_645_423_376_532u64);
    let sig = v["params"]["signature"].as_str().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    let vk = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
    let payload = format!("apiKey={KEY}&recvWindow=5000&timestamp=1645423376532");
    assert_eq!(text(e.last_payload()), payload);
    let sig = ed25519_dalek::Signature::from_slice(&raw).unwrap();
    assert!(vk.verify(payload.as_bytes(), &sig).is_ok());
    e.set_logged_on(true);
    let o = sell(spot, 100, 1, TimeInForce::Gtc);
    let r = text(e.write(&Send::New { req: 2, order: o }, TS).unwrap()).to_owned();
    assert!(!r.contains("apiKey") && !r.contains("signature"), "{r}");
    // HMAC keys cannot log on.
    let mut h = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    assert_eq!(h.write_logon(1, TS).unwrap_err(), EncodeError::Unsupported);
    h.set_logged_on(true);
    assert!(text(h.write(&Send::New { req: 2, order: o }, TS).unwrap()).contains("signature"));
}

#[test]
fn ed25519_pem_keys_load() {
    // An RFC 8410 example private key (PKCS#8 PEM).
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    let s = Signer::ed25519_pem(pem).unwrap();
    assert!(s.is_ed25519());
    let mut out = [0; SIGNATURE_CAP];
    assert_eq!(s.sign(b"x", &mut out), 88);
}

#[test]
fn api_keys_are_checked() {
    let (reg, _, _) = registry();
    assert!(Encoder::new(Market::Spot, &reg, "", Signer::hmac(SECRET).unwrap(), 0).is_err());
    assert!(Encoder::new(Market::Spot, &reg, "a\"b", Signer::hmac(SECRET).unwrap(), 0).is_err());
    let e = Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(SECRET).unwrap(), 0).unwrap();
    let dbg = format!("{e:?}");
    assert!(
        !dbg.contains("NhqPtmdS"),
        "the secret must never be printed"
    );
}
