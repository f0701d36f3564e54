use super::*;

fn p(v: i64) -> Price {
    Price(v)
}
fn q(v: i64) -> Qty {
    Qty(v)
}

fn small(capacity: usize, window: usize) -> Ladder {
    Ladder::new(BookSpec::new(1).with_capacity(capacity).with_window(window))
}

#[test]
fn best_prices_track_inserts_and_deletes() {
    let mut b = small(100, 64);
    assert_eq!(b.best_bid(), None);
    b.apply(Side::Bid, p(100), q(5)).unwrap();
    b.apply(Side::Bid, p(99), q(7)).unwrap();
    b.apply(Side::Ask, p(101), q(2)).unwrap();
    b.apply(Side::Ask, p(103), q(4)).unwrap();
    assert_eq!(
        b.best_bid(),
        Some(Level {
            price: p(100),
            qty: q(5)
        })
    );
    assert_eq!(
        b.best_ask(),
        Some(Level {
            price: p(101),
            qty: q(2)
        })
    );
    assert_eq!(b.apply(Side::Bid, p(100), q(0)), Ok(Applied::Removed));
    assert_eq!(b.best_bid().unwrap().price, p(99));
    assert_eq!(b.apply(Side::Bid, p(50), q(0)), Ok(Applied::Absent));
    assert_eq!(b.apply(Side::Ask, p(101), q(0)), Ok(Applied::Removed));
    assert_eq!(b.best_ask().unwrap().price, p(103));
    b.check_invariants();
}

#[test]
fn window_moves_up_and_down_with_far_levels() {
    let mut b = small(1000, 64);
    // Levels far below the first best go to the far list.
    b.apply(Side::Bid, p(1000), q(1)).unwrap();
    for price in (700..1000).step_by(10) {
        b.apply(Side::Bid, p(price), q(price)).unwrap();
    }
    b.check_invariants();
    // A new best far above the window moves it up; old levels go far.
    b.apply(Side::Bid, p(5000), q(9)).unwrap();
    b.check_invariants();
    assert_eq!(b.best_bid().unwrap().price, p(5000));
    // Deleting the best pulls the far levels back into the window.
    b.apply(Side::Bid, p(5000), q(0)).unwrap();
    b.check_invariants();
    assert_eq!(
        b.best_bid(),
        Some(Level {
            price: p(1000),
            qty: q(1)
        })
    );
    let mut expected: Vec<i64> = (700..1000).step_by(10).collect();
    expected.reverse();
    for price in expected {
        b.apply(Side::Bid, p(1000), q(0)).unwrap();
        let best = b.best_bid().unwrap();
        b.check_invariants();
        assert_eq!(best.price, p(price));
        b.apply(Side::Bid, best.price, q(0)).unwrap();
        b.apply(Side::Bid, p(1000), q(1)).unwrap();
    }
    let prices: Vec<i64> = b.iter(Side::Bid).map(|l| l.price.0).collect();
    assert_eq!(prices, vec![1000]);
}

#[test]
fn asks_mirror_bids() {
    let mut b = small(1000, 64);
    for price in [500, 400, 900, 10_000, 450] {
        b.apply(Side::Ask, p(price), q(1)).unwrap();
    }
    b.check_invariants();
    let prices: Vec<i64> = b.iter(Side::Ask).map(|l| l.price.0).collect();
    assert_eq!(prices, vec![400, 450, 500, 900, 10_000]);
    b.apply(Side::Ask, p(400), q(0)).unwrap();
    b.apply(Side::Ask, p(450), q(0)).unwrap();
    b.apply(Side::Ask, p(500), q(0)).unwrap();
    b.check_invariants();
    assert_eq!(b.best_ask().unwrap().price, p(900));
}

#[test]
fn capacity_evicts_the_worst_or_drops_the_new_level() {
    let mut b = small(3, 64);
    for price in [10, 20, 30] {
        b.apply(Side::Bid, p(price), q(1)).unwrap();
    }
    assert_eq!(b.apply(Side::Bid, p(5), q(1)), Ok(Applied::Dropped));
    assert_eq!(b.apply(Side::Bid, p(25), q(1)), Ok(Applied::Evicted(p(10))));
    assert_eq!(b.apply(Side::Bid, p(20), q(4)), Ok(Applied::Set));
    let prices: Vec<i64> = b.iter(Side::Bid).map(|l| l.price.0).collect();
    assert_eq!(prices, vec![30, 25, 20]);
    assert_eq!(b.apply(Side::Ask, p(10), q(1)), Ok(Applied::Set));
    for price in [11, 12] {
        b.apply(Side::Ask, p(price), q(1)).unwrap();
    }
    assert_eq!(b.apply(Side::Ask, p(9), q(1)), Ok(Applied::Evicted(p(12))));
    b.check_invariants();

    let mut s = SortedBook::new(BookSpec::new(1).with_capacity(3));
    for price in [10, 20, 30] {
        s.apply(Side::Bid, p(price), q(1)).unwrap();
    }
    assert_eq!(s.apply(Side::Bid, p(5), q(1)), Ok(Applied::Dropped));
    assert_eq!(s.apply(Side::Bid, p(25), q(1)), Ok(Applied::Evicted(p(10))));
}

#[test]
fn off_tick_and_out_of_range_prices_are_refused() {
    let mut b = Ladder::new(BookSpec::new(5));
    assert_eq!(
        b.apply(Side::Bid, p(12), q(1)),
        Err(BookError::OffTick {
            price: 12,
            tick: 5,
            at: LevelAt::default()
        })
    );
    assert_eq!(b.apply(Side::Bid, p(15), q(1)), Ok(Applied::Set));
    assert_eq!(b.qty_at(Side::Bid, p(15)), q(1));
    let mut one = Ladder::new(BookSpec::new(1));
    assert_eq!(
        one.apply(Side::Bid, p(i64::MAX), q(1)),
        Err(BookError::OutOfRange {
            price: i64::MAX,
            at: LevelAt::default()
        })
    );
    assert_eq!(
        one.apply(Side::Bid, p(1), q(-1)),
        Err(BookError::NegativeQty {
            qty: -1,
            at: LevelAt::default()
        })
    );
    assert_eq!(one.depth(Side::Bid), 0);
}

#[test]
fn clear_empties_both_sides_and_keeps_working() {
    let mut b = small(10, 64);
    b.apply(Side::Bid, p(100), q(1)).unwrap();
    b.apply(Side::Ask, p(200), q(1)).unwrap();
    b.clear();
    assert_eq!(b.depth(Side::Bid) + b.depth(Side::Ask), 0);
    b.check_invariants();
    b.apply(Side::Bid, p(7), q(1)).unwrap();
    assert_eq!(b.best_bid().unwrap().price, p(7));
    assert!(!b.is_crossed());
    b.apply(Side::Ask, p(7), q(1)).unwrap();
    assert!(b.is_crossed());
}

#[test]
fn far_levels_insert_update_delete_and_evict_in_one_search() {
    // Window 64: the best bid 1,000 puts the window at [952, 1,016); every
    // other level here is far.
    let mut b = small(5, 64);
    b.apply(Side::Bid, p(1_000), q(1)).unwrap();
    for price in [500, 300, 700] {
        assert_eq!(b.apply(Side::Bid, p(price), q(price)), Ok(Applied::Set));
    }
    assert_eq!(b.apply(Side::Bid, p(300), q(4)), Ok(Applied::Set));
    assert_eq!(b.qty_at(Side::Bid, p(300)), q(4));
    assert_eq!(b.apply(Side::Bid, p(301), q(0)), Ok(Applied::Absent));
    assert_eq!(b.apply(Side::Bid, p(100), q(0)), Ok(Applied::Absent));
    assert_eq!(b.apply(Side::Bid, p(200), q(2)), Ok(Applied::Set));
    // Full (5 levels): a far level below the worst is dropped, one above
    // it evicts the worst.
    assert_eq!(b.apply(Side::Bid, p(100), q(1)), Ok(Applied::Dropped));
    assert_eq!(
        b.apply(Side::Bid, p(600), q(6)),
        Ok(Applied::Evicted(p(200)))
    );
    assert_eq!(b.apply(Side::Bid, p(250), q(1)), Ok(Applied::Dropped));
    assert_eq!(
        b.apply(Side::Bid, p(350), q(1)),
        Ok(Applied::Evicted(p(300)))
    );
    assert_eq!(b.apply(Side::Bid, p(700), q(0)), Ok(Applied::Removed));
    b.check_invariants();
    let levels: Vec<(i64, i64)> = b.iter(Side::Bid).map(|l| (l.price.0, l.qty.0)).collect();
    assert_eq!(levels, vec![(1_000, 1), (600, 6), (500, 500), (350, 1)]);
    // The best removed: the window recentres down onto the far levels.
    assert_eq!(b.apply(Side::Bid, p(1_000), q(0)), Ok(Applied::Removed));
    b.check_invariants();
    assert_eq!(b.best_bid().map(|l| l.price), Some(p(600)));
    assert_eq!(b.depth(Side::Bid), 3);
}

#[test]
fn a_dry_far_pool_is_a_typed_error_and_clears_only_that_side() {
    let mut b = Ladder::with_far_blocks(BookSpec::new(1).with_capacity(500).with_window(64), 1);
    b.apply(Side::Ask, p(2_000), q(1)).unwrap();
    b.apply(Side::Bid, p(1_000), q(1)).unwrap();
    // 64 far bids fill the only block; the 65th needs another.
    for i in 0..64 {
        assert_eq!(b.apply(Side::Bid, p(100 + i), q(1)), Ok(Applied::Set));
    }
    assert_eq!(
        b.apply(Side::Bid, p(900), q(1)),
        Err(BookError::PoolExhausted {
            at: LevelAt::default()
        })
    );
    assert!(
        BookError::PoolExhausted {
            at: LevelAt::default()
        }
        .changed_book()
    );
    assert!(!BookError::Crossed.changed_book());
    b.check_invariants();
    assert_eq!(b.depth(Side::Bid), 0);
    assert_eq!(b.best_bid(), None);
    assert_eq!(b.best_ask().map(|l| l.price), Some(p(2_000)));
    // The side works again, from empty.
    assert_eq!(b.apply(Side::Bid, p(900), q(2)), Ok(Applied::Set));
    assert_eq!(b.best_bid().map(|l| l.price), Some(p(900)));
    let e = BookError::PoolExhausted {
        at: LevelAt::default(),
    }
    .at(Side::Bid, 3);
    assert_eq!(
        e.show(
            crate::types::Scale::new(2).unwrap(),
            crate::types::Scale::new(8).unwrap()
        )
        .to_string(),
        "bid level 3: the book's far-level block pool is exhausted"
    );
}
