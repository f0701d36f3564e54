//! The OKX template fast path against the simd-json tape path (proptest):
//! generated `books` and `bbo-tbt` frames with numbers of varied spellings
//! (integers, short and padded decimals, zeros, and forms that must be
//! refused: leading zeros, exponents, signs, too many decimals), the keys of
//! `data[0]` in any order, optional `checksum`/`seqId`/`prevSeqId`, and
//! variations the fast path must decline (whitespace, escapes, extra keys).
//! A decoder with the fast path and one without must agree on every frame,
//! errors included.

use proptest::prelude::*;
use tickwire::types::{Registry, Venue};
use tickwire::venue::okx::OkxDecoder;

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Okx, "BTC-USDT", "0.001", "0.00000001")
        .unwrap();
    reg.add(Venue::Okx, "UNI-USD-SWAP", "0.001", "0.001")
        .unwrap();
    reg
}

/// A decimal string: mostly valid at the instrument's scales, sometimes not.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => (1u64..100_000, 0usize..4, 0u64..1000).prop_map(|(i, d, f)| match d {
            0 => i.to_string(),
            d => {
                let frac = format!("{f:03}");
                format!("{i}.{}", &frac[..d.min(3)])
            }
        }),
        8 => (0u64..10, 1usize..9).prop_map(|(f, d)| format!("0.{}{f}", "0".repeat(d - 1))),
        3 => Just("0".to_owned()),
        1 => prop_oneof![
            Just("01.5".to_owned()),
            Just("1e3".to_owned()),
            Just("-1".to_owned()),
            Just("1.123456789".to_owned()),
            Just(".5".to_owned()),
            Just("1.".to_owned()),
            Just("".to_owned()),
            Just("99999999999999999999".to_owned()),
        ],
    ]
}

/// A price: like [`number`] but at most three decimals when valid.
fn price() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (1u64..100_000, 0usize..4, 0u64..1000).prop_map(|(i, d, f)| {
            let frac = format!("{f:03}");
            if d == 0 { i.to_string() } else { format!("{i}.{}", &frac[..d]) }
        }),
        1 => number(),
    ]
}

fn level() -> impl Strategy<Value = String> {
    (price(), number(), 0u8..3).prop_map(|(p, s, extra)| match extra {
        0 => format!(r#"["{p}","{s}","0","1"]"#),
        1 => format!(r#"["{p}","{s}"]"#),
        _ => format!(r#"["{p}","{s}","0"]"#),
    })
}

fn side(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(level(), 0..=max).prop_map(|v| format!("[{}]", v.join(",")))
}

/// `[a,b,..]` → `[a]`.
fn first_level(side: &str) -> String {
    match side.find("],[") {
        Some(end) => format!("{}]]", &side[..end]),
        None => side.to_owned(),
    }
}

/// Optional members of `data[0]`.
fn int_member(key: &'static str) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        20 => any::<i32>().prop_map(|v| v.to_string()),
        2 => Just("-1".to_owned()),
        1 => Just("-0".to_owned()),
        1 => Just("9223372036854775808".to_owned()),
        1 => Just("1.5".to_owned()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
    ])
    .prop_map(move |v| v.map(|v| format!(r#""{key}":{v}"#)))
}

/// A frame and how it is dressed.
#[derive(Clone, Debug)]
struct Gen {
    bbo: bool,
    symbol: &'static str,
    action: &'static str,
    members: Vec<String>,
    order: Vec<usize>,
    /// 0 plain, 1 whitespace after a comma, 2 an escaped character, 3 an
    /// extra key, 4 the envelope reordered.
    dress: u8,
}

fn frame() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        prop_oneof![3 => Just("BTC-USDT"), 3 => Just("UNI-USD-SWAP"), 1 => Just("ETH-USDT")],
        prop_oneof![8 => Just("update"), 4 => Just("snapshot"), 1 => Just("partial")],
        side(4),
        side(4),
        (1u64..2_000_000_000_000).prop_map(|v| format!(r#""ts":"{v}""#)),
        int_member("checksum"),
        int_member("seqId"),
        int_member("prevSeqId"),
        proptest::collection::vec(any::<usize>(), 6),
        prop_oneof![16 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)],
    )
        .prop_map(|(bbo, symbol, action, asks, bids, ts, ck, seq, prev, keys, dress)| {
            // bbo-tbt: at most one level a side (more is refused).
            let (asks, bids) = if bbo {
                (first_level(&asks), first_level(&bids))
            } else {
                (asks, bids)
            };
            let mut members = vec![format!(r#""asks":{asks}"#), format!(r#""bids":{bids}"#), ts];
            members.extend([ck, seq, prev].into_iter().flatten());
            Gen {
                bbo,
                symbol,
                action,
                order: keys,
                members,
                dress,
            }
        })
}

fn render(g: &Gen) -> String {
    let mut members = g.members.clone();
    // Shuffle by the generated keys (a permutation, bounded).
    for i in (1..members.len()).rev() {
        let j = g.order[i % g.order.len()] % (i + 1);
        members.swap(i, j);
    }
    if g.dress == 3 {
        members.push(r#""extra":1"#.to_owned());
    }
    let sep = if g.dress == 1 { ", " } else { "," };
    let data = members.join(sep);
    let channel = if g.bbo { "bbo-tbt" } else { "books" };
    let symbol = if g.dress == 2 {
        g.symbol.replacen('-', "\\u002d", 1)
    } else {
        g.symbol.to_owned()
    };
    let arg = format!(r#""arg":{{"channel":"{channel}","instId":"{symbol}"}}"#);
    let action = format!(r#""action":"{}""#, g.action);
    let data = format!(r#""data":[{{{data}}}]"#);
    match (g.bbo, g.dress) {
        (true, 4) => format!("{{{data},{arg}}}"),
        (true, _) => format!("{{{arg},{data}}}"),
        (false, 4) => format!("{{{action},{arg},{data}}}"),
        (false, _) => format!("{{{arg},{action},{data}}}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn fast_path_agrees_with_tape_path(g in frame()) {
        let reg = registry();
        let symbols = reg.venue(Venue::Okx);
        let text = render(&g);
        let mut fast = OkxDecoder::new();
        let mut tape = OkxDecoder::new();
        tape.set_fast_path(false);
        let a = format!("{:?}", fast.decode(text.as_bytes(), &symbols));
        let b = format!("{:?}", tape.decode(text.as_bytes(), &symbols));
        prop_assert_eq!(a, b, "{}", text);
        // Dressed frames never take the fast path.
        if g.dress != 0 {
            prop_assert_eq!(fast.stats().fast, 0);
        }
    }
}

#[test]
fn plain_valid_frames_take_the_fast_path() {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut dec = OkxDecoder::new();
    let frames = [
        r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1.5","0.10","0","1"]],"bids":[],"ts":"9","checksum":-5,"prevSeqId":3,"seqId":4}]}"#,
        r#"{"arg":{"channel":"books","instId":"UNI-USD-SWAP"},"action":"snapshot","data":[{"ts":"9","seqId":4,"checksum":0,"bids":[["5.16","7"]],"asks":[],"prevSeqId":-1}]}"#,
        r#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[["1","1","0","1"]],"ts":"9"}]}"#,
    ];
    for f in frames {
        dec.decode(f.as_bytes(), &symbols).unwrap();
    }
    assert_eq!(dec.stats().fast, 3);
    assert_eq!(dec.stats().fallback, 0);
}

#[test]
fn most_generated_frames_are_valid_and_fast() {
    // The generator is useful only if many frames decode and take the fast
    // path: count over a fixed-seed sample.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let mut dec = OkxDecoder::new();
    let mut ok = 0;
    for _ in 0..400 {
        let g = frame().new_tree(&mut runner).unwrap().current();
        if dec.decode(render(&g).as_bytes(), &symbols).is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 100, "only {ok} of 400 decoded");
    assert!(dec.stats().fast > 50, "{:?}", dec.stats());
}

/// A `trades` frame and how it is dressed.
#[derive(Clone, Debug)]
struct TradesGen {
    symbol: &'static str,
    /// Each trade's members, in the order written.
    trades: Vec<Vec<String>>,
    /// 0 plain, 1 whitespace after a comma, 2 an escaped character, 3 a
    /// member that is not a string, 4 the envelope reordered, 5 `ts`
    /// repeated.
    dress: u8,
}

/// One trade's members (sometimes one missing or wrong), in a shuffled
/// order.
fn trade_members() -> impl Strategy<Value = Vec<String>> {
    (
        prop_oneof![
            8 => (0u64..10_000_000_000).prop_map(|v| v.to_string()),
            1 => Just("".to_owned()),
            1 => Just("12a".to_owned()),
            1 => Just("99999999999999999999".to_owned()),
        ],
        price(),
        number(),
        prop_oneof![8 => Just("buy"), 8 => Just("sell"), 1 => Just("Buy")],
        (1u64..2_000_000_000_000).prop_map(|v| v.to_string()),
        0usize..12,
        proptest::collection::vec(any::<usize>(), 7),
    )
        .prop_map(|(id, px, sz, side, ts, drop, order)| {
            let mut m = vec![
                format!(r#""instId":"BTC-USDT""#),
                format!(r#""tradeId":"{id}""#),
                format!(r#""px":"{px}""#),
                format!(r#""sz":"{sz}""#),
                format!(r#""side":"{side}""#),
                format!(r#""ts":"{ts}""#),
                format!(r#""count":"1""#),
            ];
            // Now and then a required member is missing (never `ts`).
            if (1..5).contains(&drop) && order[0] % 4 == 0 {
                m.remove(drop);
            }
            for i in (1..m.len()).rev() {
                let j = order[i % order.len()] % (i + 1);
                m.swap(i, j);
            }
            m
        })
}

fn trades_frame() -> impl Strategy<Value = TradesGen> {
    (
        prop_oneof![3 => Just("BTC-USDT"), 3 => Just("UNI-USD-SWAP"), 1 => Just("ETH-USDT")],
        proptest::collection::vec(trade_members(), 0..4),
        prop_oneof![20 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8), 1 => Just(5u8)],
    )
        .prop_map(|(symbol, trades, dress)| TradesGen {
            symbol,
            trades,
            dress,
        })
}

fn render_trades(g: &TradesGen) -> String {
    let sep = if g.dress == 1 { ", " } else { "," };
    let trades: Vec<String> = g
        .trades
        .iter()
        .map(|m| {
            let mut m = m.clone();
            match g.dress {
                3 => m.push(r#""source":0"#.to_owned()),
                5 => m.push(r#""ts":"5""#.to_owned()),
                _ => {}
            }
            format!("{{{}}}", m.join(sep))
        })
        .collect();
    let symbol = if g.dress == 2 {
        g.symbol.replacen('-', "\\u002d", 1)
    } else {
        g.symbol.to_owned()
    };
    let arg = format!(r#""arg":{{"channel":"trades","instId":"{symbol}"}}"#);
    let data = format!(r#""data":[{}]"#, trades.join(","));
    if g.dress == 4 {
        format!("{{{data},{arg}}}")
    } else {
        format!("{{{arg},{data}}}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Generated `trades` frames: the same answer both ways, errors
    /// included; a plain frame that decodes takes the fast path.
    #[test]
    fn trades_fast_path_agrees_with_tape_path(g in trades_frame()) {
        let reg = registry();
        let symbols = reg.venue(Venue::Okx);
        let text = render_trades(&g);
        let mut fast = OkxDecoder::new();
        let mut tape = OkxDecoder::new();
        tape.set_fast_path(false);
        let a = fast.decode(text.as_bytes(), &symbols).map(|m| format!("{m:?}"));
        let b = tape.decode(text.as_bytes(), &symbols).map(|m| format!("{m:?}"));
        prop_assert_eq!(&a, &b, "{}", text);
        // Dressed frames (with at least one trade to dress) never take it.
        let dressed = g.dress != 0 && (!g.trades.is_empty() || matches!(g.dress, 1 | 2 | 4));
        if dressed && g.dress != 1 {
            prop_assert_eq!(fast.stats().fast, 0, "{}", text);
        }
        if g.dress == 0 && a.is_ok() && g.symbol != "ETH-USDT" {
            prop_assert_eq!(fast.stats().fast, 1, "{}", text);
        }
    }
}
