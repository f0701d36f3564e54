//! The kept top-25 texts of OKX's checksum against a rendering from
//! scratch: random snapshots and updates (inside and outside the top 25,
//! deletes, levels evicted or dropped at capacity, re-spelled levels)
//! through [`OkxBookSync::handle_book`], and after every message the kept
//! texts' CRC must equal both the CRC of the book's top 25 rendered now
//! from the table and one built here from the texts as sent.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickwire::book::{BookRead, BookSpec, Level};
use tickwire::ring::EventBatch;
use tickwire::types::{InstrumentId, Price, Qty, Scale, Scaling, Side, Venue, parse_decimal};
use tickwire::venue::okx::{Action, BookMsg, OkxBookSync, Spell, spelling};
use tickwire::venue::{DiffOutcome, GapPolicy, InstrumentBook};

/// Price scale 1 (tick 0.1), size scale 8.
fn scales() -> (Scale, Scale) {
    (Scale::new(1).unwrap(), Scale::new(8).unwrap())
}

/// `v` tenths spelled one of four ways: "12.3", "12.30", "12" when whole,
/// or with 24 more zeros (too long for a kept slot: rendered at checksum
/// time).
fn spelled(v: u32, how: u8) -> String {
    let s = format!("{}.{}", v / 10, v % 10);
    match how {
        0 if v % 10 == 0 => (v / 10).to_string(),
        0 | 1 => s,
        2 => format!("{s}0"),
        _ => format!("{s}{}", "0".repeat(24)),
    }
}

/// One generated level: side, price in ticks, size in tenths (0 deletes),
/// the two spellings.
type Gen = (bool, u32, u32, u8, u8);

fn gen_level() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        // Half the levels near the 25th of a dense side.
        prop_oneof![18u32..34, 0u32..90],
        0u32..40,
        0u8..4,
        0u8..4,
    )
}

/// The test's CRC: `book`'s top 25 a side, interleaved, each level's text
/// as last sent for its price.
fn expected(book: &impl BookRead, sent: &[BTreeMap<i64, String>; 2]) -> i32 {
    let mut parts = Vec::new();
    let mut bids = book.levels(Side::Bid).take(25);
    let mut asks = book.levels(Side::Ask).take(25);
    for _ in 0..25 {
        for (s, l) in [(0, bids.next()), (1, asks.next())] {
            if let Some(l) = l {
                parts.push(sent[s][&l.price.0].clone());
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

fn run(capacity: usize, msgs: &[(bool, Vec<Gen>)]) -> Result<(), TestCaseError> {
    let (ps, qs) = scales();
    let scaling = Scaling {
        instrument: InstrumentId(0),
        price: ps,
        qty: qs,
        negative_prices: false,
    };
    let spec = BookSpec::new(1).with_capacity(capacity);
    let mut st = InstrumentBook::new(Venue::Okx, InstrumentId(0), spec, GapPolicy::Resync);
    let mut sync = OkxBookSync::new(capacity);
    let mut batch = EventBatch::with_capacity(4096);
    // Per side, price mantissa -> the `px:sz` text last sent.
    let mut sent: [BTreeMap<i64, String>; 2] = Default::default();
    for (i, (snapshot, levels)) in msgs.iter().enumerate() {
        let snapshot = *snapshot || i == 0;
        if snapshot {
            sent.iter_mut().for_each(BTreeMap::clear);
        }
        let mut sides: [(Vec<Level>, Vec<Spell>); 2] = Default::default();
        for &(ask, tick, size, hp, hs) in levels {
            // Bids below 100.0, asks from 100.0: the book never crosses.
            let price = if ask { 1000 + tick } else { 999 - tick };
            if snapshot && size == 0 {
                continue;
            }
            let (pt, qt) = (spelled(price, hp), spelled(size, hs));
            let level = Level {
                price: Price(parse_decimal(pt.as_bytes(), ps, false).unwrap()),
                qty: Qty(parse_decimal(qt.as_bytes(), qs, false).unwrap()),
            };
            let spell = Spell {
                px: spelling(pt.as_bytes()).unwrap(),
                sz: spelling(qt.as_bytes()).unwrap(),
            };
            let s = usize::from(ask);
            sides[s].0.push(level);
            sides[s].1.push(spell);
            sent[s].insert(level.price.0, format!("{pt}:{qt}"));
        }
        let m = BookMsg {
            scaling,
            action: if snapshot {
                Action::Snapshot
            } else {
                Action::Update
            },
            ts_ms: i as u64,
            checksum: None,
            seq_id: None,
            prev_seq_id: None,
            bids: &sides[0].0,
            asks: &sides[1].0,
            bid_spells: &sides[0].1,
            ask_spells: &sides[1].1,
        };
        batch.clear();
        let outcome = sync.handle_book(&mut st, &m, i as u64, &mut batch);
        prop_assert_eq!(outcome, DiffOutcome::Applied, "message {}", i);
        let spelling = sync.spelling();
        for side in [Side::Bid, Side::Ask] {
            prop_assert_eq!(spelling.ranked(side), st.book.depth(side).min(25));
        }
        let kept = spelling.kept_checksum(ps, qs);
        prop_assert_eq!(
            kept,
            spelling.peek_checksum(&st.book, ps, qs),
            "message {}",
            i
        );
        prop_assert_eq!(kept, Ok(expected(&st.book, &sent)), "message {}", i);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Capacities from below 25 (evictions inside the top) to above the
    /// grid (none).
    #[test]
    fn kept_top_texts_equal_a_rendering_from_scratch(
        capacity in prop_oneof![4usize..30, 30usize..100, Just(200usize)],
        msgs in proptest::collection::vec(
            (proptest::bool::weighted(0.1), proptest::collection::vec(gen_level(), 0..40)),
            1..30,
        ),
    ) {
        run(capacity, &msgs)?;
    }
}

#[test]
fn a_top_refilled_from_the_book_after_deletes() {
    // 30 bids; deleting the best 5 brings levels 26..30 into the top.
    let bids: Vec<Gen> = (0..30).map(|t| (false, t, 10, 1, 1)).collect();
    let deletes: Vec<Gen> = (0..5).map(|t| (false, t, 0, 1, 1)).collect();
    run(100, &[(true, bids), (false, deletes)]).unwrap();
}

#[test]
fn a_level_below_a_full_top_moves_its_end() {
    // 30 bids three ticks apart: the 25th is tick 72, the 24th tick 69.
    let bids: Vec<Gen> = (0..30).map(|t| (false, 3 * t, 10, 1, 1)).collect();
    let update = vec![
        // The 25th goes: 24 ranked, the top still holds all down to tick 72.
        (false, 72, 0, 1, 1),
        // Tick 70 is the 25th; tick 71 comes in below it: out of the top,
        // whose end is now tick 70.
        (false, 70, 10, 1, 1),
        (false, 71, 10, 1, 1),
        // The best goes (24 ranked) and tick 72 returns: below the end,
        // so not ranked; the refill must then bring in tick 71, not 72.
        (false, 0, 0, 1, 1),
        (false, 72, 10, 1, 1),
    ];
    run(100, &[(true, bids), (false, update)]).unwrap();
}

proptest! {
    /// `Ladder::iter_below` (how the top refills without walking the
    /// ranked levels) yields exactly the levels after `price` in `levels`.
    #[test]
    fn iter_below_is_the_tail_of_the_side(
        ops in proptest::collection::vec((any::<bool>(), 0i64..300, 0i64..4), 0..120),
        capacity in 4usize..80,
        from in 0i64..300,
    ) {
        use tickwire::book::{BookApply, Ladder};
        // A narrow window (64 ticks) so that levels also go far.
        let mut spec = BookSpec::new(1).with_capacity(capacity);
        spec.window = 64;
        let mut book = Ladder::new(spec);
        for (ask, tick, qty) in ops {
            let (side, price) = if ask { (Side::Ask, 1000 + tick) } else { (Side::Bid, 999 - tick) };
            book.apply(side, Price(price), Qty(qty)).unwrap();
        }
        for (side, price) in [(Side::Bid, 999 - from), (Side::Ask, 1000 + from)] {
            let worse = |p: i64| if side == Side::Bid { p < price } else { p > price };
            let want: Vec<Level> = book.levels(side).filter(|l| worse(l.price.0)).collect();
            let got: Vec<Level> = book.iter_below(side, Price(price)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
