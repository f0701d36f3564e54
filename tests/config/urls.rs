//! Endpoint URLs: no port 0, no credentials (never echoed back), nothing
//! after the path that the stream and snapshot URLs would be appended to;
//! and one `[[venue]]` per venue.

use super::{accepted, base, refused};

#[test]
fn port_zero_is_refused() {
    let mut c = base();
    c.venues[0].ws_url = Some("ws://127.0.0.1:0".to_owned());
    refused(&c, "venue[0].ws_url");
    let mut c = base();
    c.venues[0].rest_url = Some("http://127.0.0.1:0/".to_owned());
    refused(&c, "venue[0].rest_url");
}

#[test]
fn credentials_are_refused_without_echoing_the_password() {
    for (ws, rest) in [
        ("wss://user:hunter2@stream.binance.com:9443", None),
        ("wss://user:hunter2@stream.binance.com", None),
        ("wss://user@stream.binance.com:9443", None),
        (
            "ws://127.0.0.1:9000",
            Some("https://user:hunter2@api.binance.com:443"),
        ),
        (
            "ws://127.0.0.1:9000",
            Some("https://:hunter2@api.binance.com"),
        ),
    ] {
        let mut c = base();
        c.venues[0].ws_url = Some(ws.to_owned());
        let key = match rest {
            Some(r) => {
                c.venues[0].rest_url = Some(r.to_owned());
                "venue[0].rest_url"
            }
            None => "venue[0].ws_url",
        };
        let msg = refused(&c, key);
        let shown = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            !msg.contains("hunter2") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(msg.contains("credentials"), "{msg}");
    }
}

#[test]
fn a_query_or_fragment_in_a_base_url_is_refused() {
    for url in ["ws://127.0.0.1:9000/?streams=x", "ws://127.0.0.1:9000#x"] {
        let mut c = base();
        c.venues[0].ws_url = Some(url.to_owned());
        refused(&c, "venue[0].ws_url");
    }
}

#[test]
fn a_url_without_a_host_is_refused() {
    let mut c = base();
    c.venues[0].ws_url = Some("ws://:9000".to_owned());
    refused(&c, "venue[0].ws_url");
}

#[test]
fn ipv6_literals_and_paths_still_work() {
    let mut c = base();
    c.venues[0].ws_url = Some("ws://[::1]:9000".to_owned());
    c.venues[0].rest_url = Some("http://127.0.0.1:9000/proxy/".to_owned());
    accepted(&c);
}

#[test]
fn a_venue_listed_twice_is_refused() {
    // Two sections of one venue would each spend the REST weight budget that
    // the venue counts per IP.
    let mut c = base();
    let mut second = c.venues[0].clone();
    second.symbols = vec!["ETHUSDT".to_owned()];
    c.venues.push(second);
    let msg = refused(&c, "venue[1].name");
    assert!(msg.contains("venue[0]"), "{msg}");
}
