//! Kraken's kept top-10 texts (`TopTexts`) against a from-scratch rendering
//! of the book's top 10 a side, through random snapshots and updates, each
//! followed by the cut to the subscribed depth (levels leave scope and come
//! back), small capacities that evict, and depths below 10. The texts are
//! kept the way the sync keeps them: each update's levels tracked as they
//! were applied, the ranks settled after the cut.

use proptest::prelude::*;
use tickwire::book::{BookApply, BookRead, BookSpec, Ladder, Level};
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

/// Applies `changes` to `book` in order and returns each side's levels as
/// the message carried them (bids, asks), as the sync hands them to
/// `TopTexts::track`.
fn apply(book: &mut Ladder, changes: &[Change]) -> (Vec<Level>, Vec<Level>) {
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
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
        let level = Level {
            price: Price(price),
            qty: Qty(qty),
        };
        if bid {
            bids.push(level);
        } else {
            asks.push(level);
        }
    }
    (bids, asks)
}

/// One message the way the sync handles it: a snapshot replaces the book
/// and ranks from scratch; an update's levels are tracked as applied. Then
/// the cut to `depth` and the ranks settled.
fn message(
    book: &mut Ladder,
    top: &mut TopTexts,
    core: &mut SyncCore,
    snapshot: bool,
    changes: &[Change],
    depth: usize,
) {
    if snapshot {
        book.clear();
        top.invalidate();
    }
    let (bids, asks) = apply(book, changes);
    if !snapshot {
        top.track(book, Side::Bid, &bids);
        top.track(book, Side::Ask, &asks);
    }
    for side in [Side::Bid, Side::Ask] {
        core.truncate_unstaged(side, depth, book);
    }
    top.settle(book, depth);
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
            // The first message is the snapshot a subscription brings.
            let snapshot = *snapshot || n == 0;
            message(&mut book, &mut top, &mut core, snapshot, changes, depth);
            for side in [Side::Bid, Side::Ask] {
                prop_assert!(book.depth(side) <= depth);
                prop_assert_eq!(top.side_text(side), scratch(&book, side), "message {}", n);
            }
            prop_assert_eq!(top.crc(), checksum(&book), "message {}", n);
        }
    }
}

#[test]
fn a_level_leaving_and_reentering_scope_keeps_its_text_right() {
    let mut core = SyncCore::new(Venue::Kraken, InstrumentId(0), GapPolicy::Resync);
    let mut book = Ladder::new(BookSpec::new(1).with_capacity(64));
    let mut top = TopTexts::new();
    let snapshot: Vec<Change> = (0..10).map(|i| (true, i, 5 + i)).collect();
    message(&mut book, &mut top, &mut core, true, &snapshot, 10);
    // A better bid pushes 991 out of depth 10 ...
    message(&mut book, &mut top, &mut core, false, &[(true, -1, 7)], 10);
    assert_eq!(top.side_text(Side::Bid), scratch(&book, Side::Bid));
    assert!(top.side_text(Side::Bid).starts_with(b"10017"));
    assert_eq!(book.qty_at(Side::Bid, Price(991)), Qty(0));
    // ... and, the better one gone, 991 comes back with a new quantity.
    let back = [(true, -1, 0), (true, 9, 123)];
    message(&mut book, &mut top, &mut core, false, &back, 10);
    let want: String = (0..9)
        .map(|i| format!("{}{}", 1_000 - i, 5 + i))
        .chain(["991123".to_owned()])
        .collect();
    assert_eq!(top.side_text(Side::Bid), want.as_bytes());
    assert_eq!(top.crc(), checksum(&book));
}

#[test]
fn a_level_that_leaves_the_top_comes_back_from_below_the_last_rank() {
    let mut core = SyncCore::new(Venue::Kraken, InstrumentId(0), GapPolicy::Resync);
    let mut book = Ladder::new(BookSpec::new(1).with_capacity(64));
    let mut top = TopTexts::new();
    // Depth 25: 20 asks, the top 10 ranked.
    let snapshot: Vec<Change> = (0..20).map(|i| (false, i, 1 + i)).collect();
    message(&mut book, &mut top, &mut core, true, &snapshot, 25);
    let asks = |from: i64| -> String {
        (from..from + 10)
            .map(|i| format!("{}{}", 1_001 + i, 1 + i))
            .collect()
    };
    assert_eq!(top.side_text(Side::Ask), asks(0).as_bytes());
    // Two of the top go: the 11th and 12th come in, rendered from the book.
    message(
        &mut book,
        &mut top,
        &mut core,
        false,
        &[(false, 0, 0), (false, 3, 0)],
        25,
    );
    let want: String = [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
        .iter()
        .map(|i| format!("{}{}", 1_001 + i, 1 + i))
        .collect();
    assert_eq!(top.side_text(Side::Ask), want.as_bytes());
    // A better ask pushes the 10th rank out; it is back when that one goes.
    message(&mut book, &mut top, &mut core, false, &[(false, -5, 9)], 25);
    assert!(top.side_text(Side::Ask).starts_with(b"9969"));
    assert!(!top.side_text(Side::Ask).ends_with(b"101212"));
    message(&mut book, &mut top, &mut core, false, &[(false, -5, 0)], 25);
    assert_eq!(top.side_text(Side::Ask), want.as_bytes());
    assert_eq!(top.crc(), checksum(&book));
}
