//! Kraken's kept top-10 texts (`TopTexts`) against a from-scratch rendering
//! of the book's top 10 a side, through random snapshots and updates, each
//! followed by the cut to the subscribed depth (levels leave scope and come
//! back), small capacities that evict, and depths below 10.

use proptest::prelude::*;
use tickwire::book::{BookApply, BookRead, BookSpec, Ladder};
use tickwire::types::{InstrumentId, Price, Qty, Side, Venue};
use tickwire::venue::kraken::{TopTexts, checksum};
use tickwire::venue::{GapPolicy, SyncCore};

/// The side's top 10 as Kraken's checksum text, rendered from scratch.
fn scratch(book: &Ladder, side: Side) -> Vec<u8> {
    book.levels(side)
        .take(10)
        .map(|l| format!("{}{}", l.price.0, l.qty.0))
        .collect::<String>()
        .into_bytes()
}

/// One level change: (bid side?, price offset, qty; 0 removes).
type Change = (bool, i64, i64);

fn apply(book: &mut Ladder, changes: &[Change]) {
    for &(bid, off, qty) in changes {
        // Bids at 1000 and below, asks above: never crossed.
        let (side, price) = if bid {
            (Side::Bid, 1_000 - off)
        } else {
            (Side::Ask, 1_001 + off)
        };
        // At capacity a worse level may be refused or another evicted:
        // whatever the book holds is what the texts must follow.
        let _ = book.apply(side, Price(price), Qty(qty));
    }
}

fn change() -> impl Strategy<Value = Change> {
    (
        any::<bool>(),
        0i64..40,
        prop_oneof![Just(0i64), 1i64..10, 1i64..4_000_000_000_000_000_000],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    /// After every message (snapshot or update, then the cut to depth) the
    /// kept texts are the book's top 10 a side, and the CRC over them is
    /// the reference checksum.
    #[test]
    fn kept_texts_equal_a_fresh_rendering(
        depth in prop::sample::select(vec![3usize, 10, 12, 25]),
        capacity in prop::sample::select(vec![16usize, 64, 1_000]),
        messages in prop::collection::vec(
            (prop::bool::weighted(0.1), prop::collection::vec(change(), 0..14)),
            1..40,
        ),
    ) {
        let mut core = SyncCore::new(Venue::Kraken, InstrumentId(0), GapPolicy::Resync);
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(capacity));
        let mut top = TopTexts::new();
        for (n, (snapshot, changes)) in messages.iter().enumerate() {
            if *snapshot {
                book.clear();
            }
            apply(&mut book, changes);
            for side in [Side::Bid, Side::Ask] {
                core.truncate_unstaged(side, depth, &mut book);
                prop_assert!(book.depth(side) <= depth);
            }
            let crc = top.checksum(&book);
            for side in [Side::Bid, Side::Ask] {
                prop_assert_eq!(top.side_text(side), scratch(&book, side), "message {}", n);
            }
            prop_assert_eq!(crc, checksum(&book), "message {}", n);
        }
    }
}

#[test]
fn a_level_leaving_and_reentering_scope_keeps_its_text_right() {
    let mut core = SyncCore::new(Venue::Kraken, InstrumentId(0), GapPolicy::Resync);
    let mut book = Ladder::new(BookSpec::new(1).with_capacity(64));
    let mut top = TopTexts::new();
    apply(
        &mut book,
        &(0..10).map(|i| (true, i, 5 + i)).collect::<Vec<_>>(),
    );
    top.update(&book);
    // A better bid pushes 991 out of depth 10 ...
    apply(&mut book, &[(true, -1, 7)]);
    core.truncate_unstaged(Side::Bid, 10, &mut book);
    top.update(&book);
    assert_eq!(top.side_text(Side::Bid), scratch(&book, Side::Bid));
    assert!(top.side_text(Side::Bid).starts_with(b"10017"));
    // ... and, the better one gone, 991 comes back with a new quantity.
    apply(&mut book, &[(true, -1, 0), (true, 9, 123)]);
    top.update(&book);
    let want: String = (0..9)
        .map(|i| format!("{}{}", 1_000 - i, 5 + i))
        .chain(["991123".to_owned()])
        .collect();
    assert_eq!(top.side_text(Side::Bid), want.as_bytes());
    assert_eq!(top.crc(), checksum(&book));
}
