//! The book layouts against each other and against models (proptest).
//!
//! Random operation sequences — inserts, updates, deletes of held and of
//! absent levels — at prices clustered around a drifting mid, sometimes far
//! away and sometimes after a jump of the mid, so the ladder's window moves
//! both ways and its far list fills and drains. After every step `Ladder`
//! (small windows), `SortedBook` and `RefBook` must hold the same levels and
//! the ladder's invariants must hold. With a small capacity, both bounded
//! layouts are compared with a model of the documented capacity policy.

mod util;

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickwire::book::{
    Applied, BookApply, BookError, BookRead, BookSpec, Ladder, Level, RefBook, SortedBook,
    same_levels,
};
use tickwire::types::{Price, Qty, Side};

/// One step of a generated sequence.
#[derive(Clone, Debug)]
enum Op {
    /// Set a level `dist` ticks from the mid on its own side (0 qty deletes).
    Near { side: Side, dist: i64, qty: i64 },
    /// Set a level far from the mid (beyond any window), either side of it.
    Far { side: Side, dist: i64, qty: i64 },
    /// Delete the `nth` held level of a side (mod depth): a real delete.
    DeleteHeld { side: Side, nth: usize },
    /// Move the mid by `ticks`.
    Drift { ticks: i64 },
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Bid), Just(Side::Ask)]
}

/// Zero (delete) about a third of the time.
fn qty() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 2 => 1i64..1_000_000]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (side(), 0i64..80, qty()).prop_map(|(side, dist, qty)| Op::Near { side, dist, qty }),
        2 => (side(), -3_000i64..3_000, qty()).prop_map(|(side, dist, qty)| Op::Far { side, dist, qty }),
        3 => (side(), any::<usize>()).prop_map(|(side, nth)| Op::DeleteHeld { side, nth }),
        3 => prop_oneof![4 => -6i64..=6, 1 => -400i64..=400].prop_map(|ticks| Op::Drift { ticks }),
    ]
}

/// Turns an op into `(side, price in ticks, qty)` given the mid and a book
/// to pick held levels from; `None` for a drift or an empty side.
fn resolve(op: &Op, mid: &mut i64, held: &impl BookRead) -> Option<(Side, i64, i64)> {
    match *op {
        Op::Near { side, dist, qty } => {
            let price = match side {
                Side::Bid => *mid - dist,
                Side::Ask => *mid + 1 + dist,
            };
            Some((side, price, qty))
        }
        Op::Far { side, dist, qty } => {
            // 200..3200 ticks away, above or below the mid.
            let away = dist.signum() * 200 + dist;
            Some((side, *mid + away, qty))
        }
        Op::DeleteHeld { side, nth } => {
            let depth = held.depth(side);
            let level = held.levels(side).nth(nth % depth.max(1))?;
            Some((side, level.price.0, 0))
        }
        Op::Drift { ticks } => {
            *mid += ticks;
            None
        }
    }
}

/// Mid prices start here (in ticks), far from zero so prices stay positive.
const START_MID: i64 = 1_000_000;

fn check_same(ladder: &Ladder, sorted: &SortedBook, reference: &RefBook, step: usize) {
    ladder.check_invariants();
    assert!(
        same_levels(ladder, reference),
        "step {step}: ladder vs reference"
    );
    assert!(
        same_levels(sorted, reference),
        "step {step}: sorted vs reference"
    );
    assert_eq!(ladder.best_bid(), reference.best_bid(), "step {step}");
    assert_eq!(ladder.best_ask(), reference.best_ask(), "step {step}");
    assert_eq!(sorted.best_bid(), reference.best_bid(), "step {step}");
    assert_eq!(sorted.best_ask(), reference.best_ask(), "step {step}");
}

fn run_unbounded(ops: &[Op], window: usize, tick: i64) {
    let spec = BookSpec::new(tick)
        .with_window(window)
        .with_capacity(100_000);
    let mut ladder = Ladder::new(spec);
    let mut sorted = SortedBook::new(spec);
    let mut reference = RefBook::new(tick);
    let mut mid = START_MID;
    for (step, op) in ops.iter().enumerate() {
        let Some((side, ticks, q)) = resolve(op, &mut mid, &reference) else {
            continue;
        };
        // `DeleteHeld` already yields a price; the others yield ticks.
        let price = match op {
            Op::DeleteHeld { .. } => Price(ticks),
            _ => Price(ticks * tick),
        };
        let expected = reference.apply(side, price, Qty(q)).expect("on tick");
        assert_eq!(
            ladder.apply(side, price, Qty(q)),
            Ok(expected),
            "step {step}"
        );
        assert_eq!(
            sorted.apply(side, price, Qty(q)),
            Ok(expected),
            "step {step}"
        );
        assert_eq!(ladder.qty_at(side, price), Qty(q), "step {step}");
        check_same(&ladder, &sorted, &reference, step);
    }
    // Empty every level, best first, through the same path.
    for side in [Side::Bid, Side::Ask] {
        while let Some(Level { price, .. }) = reference.best(side) {
            reference.apply(side, price, Qty(0)).unwrap();
            assert_eq!(ladder.apply(side, price, Qty(0)), Ok(Applied::Removed));
            assert_eq!(sorted.apply(side, price, Qty(0)), Ok(Applied::Removed));
            check_same(&ladder, &sorted, &reference, usize::MAX);
        }
    }
}

proptest! {
    #![proptest_config(util::proptest_config(96))]

    /// A 64-tick window: the far list and re-centring are exercised constantly.
    #[test]
    fn ladder_window_64_matches_the_reference(ops in prop::collection::vec(op(), 1..400)) {
        run_unbounded(&ops, 64, 1);
    }

    /// A 128-tick window and a tick of 5 mantissa units.
    #[test]
    fn ladder_window_128_matches_the_reference(ops in prop::collection::vec(op(), 1..400)) {
        run_unbounded(&ops, 128, 5);
    }
}

/// The documented capacity policy, written plainly: at capacity a new level
/// evicts the worst held one, unless it is worse than all of them, in which
/// case it is not stored.
#[derive(Debug, Default)]
struct CapacityModel {
    capacity: usize,
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl CapacityModel {
    fn apply(&mut self, side: Side, price: i64, qty: i64) -> Applied {
        let map = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if qty == 0 {
            return match map.remove(&price) {
                Some(_) => Applied::Removed,
                None => Applied::Absent,
            };
        }
        if map.contains_key(&price) || map.len() < self.capacity {
            map.insert(price, qty);
            return Applied::Set;
        }
        // Bids: the worst is the lowest price; asks: the highest.
        let worst = match side {
            Side::Bid => *map.keys().next().unwrap(),
            Side::Ask => *map.keys().next_back().unwrap(),
        };
        let worse_than_all = match side {
            Side::Bid => price < worst,
            Side::Ask => price > worst,
        };
        if worse_than_all {
            return Applied::Dropped;
        }
        map.remove(&worst);
        map.insert(price, qty);
        Applied::Evicted(Price(worst))
    }

    fn levels(&self, side: Side) -> Vec<(i64, i64)> {
        match side {
            Side::Bid => self.bids.iter().rev().map(|(&p, &q)| (p, q)).collect(),
            Side::Ask => self.asks.iter().map(|(&p, &q)| (p, q)).collect(),
        }
    }
}

fn run_bounded(ops: &[Op], capacity: usize, window: usize) {
    let spec = BookSpec::new(1).with_window(window).with_capacity(capacity);
    let mut ladder = Ladder::new(spec);
    let mut sorted = SortedBook::new(spec);
    let mut model = CapacityModel {
        capacity,
        ..CapacityModel::default()
    };
    assert_eq!(ladder.capacity(), capacity);
    let mut mid = START_MID;
    for (step, op) in ops.iter().enumerate() {
        let Some((side, price, q)) = resolve(op, &mut mid, &ladder) else {
            continue;
        };
        let expected = model.apply(side, price, q);
        let price = Price(price);
        assert_eq!(
            ladder.apply(side, price, Qty(q)),
            Ok(expected),
            "step {step}: {op:?}"
        );
        assert_eq!(
            sorted.apply(side, price, Qty(q)),
            Ok(expected),
            "step {step}: {op:?}"
        );
        ladder.check_invariants();
        for s in [Side::Bid, Side::Ask] {
            let want = model.levels(s);
            assert!(want.len() <= capacity);
            assert_eq!(
                util::side_levels(&ladder, s),
                want,
                "step {step}: ladder {s:?}"
            );
            assert_eq!(
                util::side_levels(&sorted, s),
                want,
                "step {step}: sorted {s:?}"
            );
            assert_eq!(ladder.depth(s), want.len());
        }
    }
}

proptest! {
    #![proptest_config(util::proptest_config(128))]

    /// Small capacities: eviction of the worst level, or the new level dropped.
    #[test]
    fn capacity_policy_matches_the_model(
        ops in prop::collection::vec(op(), 1..300),
        capacity in 1usize..12,
        wide in any::<bool>(),
    ) {
        run_bounded(&ops, capacity, if wide { 128 } else { 64 });
    }
}

#[test]
fn far_levels_move_into_and_out_of_the_window() {
    // A deterministic walk: levels 10 ticks apart over 2,000 ticks, then the
    // best removed one at a time, so every level passes through the far list.
    let mut ladder = Ladder::new(BookSpec::new(1).with_window(64));
    let mut reference = RefBook::new(1);
    for i in 0..200 {
        for (side, price) in [(Side::Bid, 10_000 - 10 * i), (Side::Ask, 20_000 + 10 * i)] {
            let q = Qty(i + 1);
            assert_eq!(
                ladder.apply(side, Price(price), q),
                reference.apply(side, Price(price), q)
            );
        }
    }
    ladder.check_invariants();
    assert!(same_levels(&ladder, &reference));
    for _ in 0..200 {
        for side in [Side::Bid, Side::Ask] {
            let best = reference.best(side).unwrap();
            assert_eq!(ladder.best(side), Some(best));
            reference.apply(side, best.price, Qty(0)).unwrap();
            assert_eq!(ladder.apply(side, best.price, Qty(0)), Ok(Applied::Removed));
            ladder.check_invariants();
        }
        assert!(same_levels(&ladder, &reference));
    }
    assert_eq!(ladder.depth(Side::Bid) + ladder.depth(Side::Ask), 0);
}

/// One step on a deep book (thousands of levels a side).
#[derive(Clone, Debug)]
enum DeepOp {
    /// Change the `nth` held level of a side (qty 0 deletes it).
    Held { side: Side, nth: usize, qty: i64 },
    /// Set a level `dist` ticks behind the side's best: mostly deep in the
    /// far list, new or held.
    Behind { side: Side, dist: i64, qty: i64 },
    /// A new best `ticks` better than the current one: the window moves up
    /// and its levels go to the far list.
    Jump { side: Side, ticks: i64 },
    /// Delete the best `n` levels one by one: the window runs dry and far
    /// levels are pulled back in.
    Sweep { side: Side, n: usize },
}

fn deep_op() -> impl Strategy<Value = DeepOp> {
    prop_oneof![
        6 => (side(), any::<usize>(), qty()).prop_map(|(side, nth, qty)| DeepOp::Held { side, nth, qty }),
        6 => (side(), 0i64..30_000, qty()).prop_map(|(side, dist, qty)| DeepOp::Behind { side, dist, qty }),
        1 => (side(), 1i64..6_000).prop_map(|(side, ticks)| DeepOp::Jump { side, ticks }),
        1 => (side(), 1usize..300).prop_map(|(side, n)| DeepOp::Sweep { side, n }),
    ]
}

/// The side's best price in the model, or the starting one when empty.
fn model_best(model: &CapacityModel, side: Side) -> i64 {
    match side {
        Side::Bid => model.bids.keys().next_back().copied().unwrap_or(START_MID),
        Side::Ask => model.asks.keys().next().copied().unwrap_or(START_MID + 1),
    }
}

/// A price `dist` ticks behind (`dist > 0`) or ahead of the side's best.
fn behind(side: Side, best: i64, dist: i64) -> i64 {
    match side {
        Side::Bid => best - dist,
        Side::Ask => best + dist,
    }
}

/// Applies one level to the three books and checks the outcome and the
/// level's quantity.
fn deep_step(
    books: (&mut Ladder, &mut SortedBook, &mut CapacityModel),
    side: Side,
    price: i64,
    q: i64,
    step: usize,
) {
    let (ladder, sorted, model) = books;
    let expected = model.apply(side, price, q);
    let at = Price(price);
    assert_eq!(ladder.apply(side, at, Qty(q)), Ok(expected), "step {step}");
    assert_eq!(sorted.apply(side, at, Qty(q)), Ok(expected), "step {step}");
    let held = match side {
        Side::Bid => model.bids.get(&price),
        Side::Ask => model.asks.get(&price),
    };
    assert_eq!(
        ladder.qty_at(side, at),
        Qty(held.copied().unwrap_or(0)),
        "step {step}"
    );
}

fn deep_compare(ladder: &Ladder, sorted: &SortedBook, model: &CapacityModel, step: usize) {
    ladder.check_invariants();
    for s in [Side::Bid, Side::Ask] {
        let want = model.levels(s);
        assert_eq!(
            util::side_levels(ladder, s),
            want,
            "step {step}: ladder {s:?}"
        );
        assert_eq!(
            util::side_levels(sorted, s),
            want,
            "step {step}: sorted {s:?}"
        );
        assert_eq!(ladder.depth(s), want.len(), "step {step}");
    }
}

/// Loads ~4,000 levels a side spread over 40,000 ticks into books capped at
/// `capacity`, then runs `ops`; compares everything every 40 steps.
fn run_deep(ops: &[DeepOp], capacity: usize, window: usize, seed: u64) {
    let spec = BookSpec::new(1).with_window(window).with_capacity(capacity);
    let (mut ladder, mut sorted) = (Ladder::new(spec), SortedBook::new(spec));
    let mut model = CapacityModel {
        capacity,
        ..CapacityModel::default()
    };
    let mut rng = seed | 1;
    let mut draw = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n) as i64
    };
    let mut step = 0;
    for _ in 0..4_000 {
        for side in [Side::Bid, Side::Ask] {
            let price = behind(side, model_best(&model, side), draw(40_000) - 50);
            let q = 1 + draw(1_000);
            deep_step((&mut ladder, &mut sorted, &mut model), side, price, q, step);
        }
        step += 1;
    }
    deep_compare(&ladder, &sorted, &model, step);
    for op in ops {
        let levels: Vec<(Side, i64, i64)> = match *op {
            DeepOp::Held { side, nth, qty } => {
                let held = match side {
                    Side::Bid => &model.bids,
                    Side::Ask => &model.asks,
                };
                let Some(&price) = held.keys().nth(nth % held.len().max(1)) else {
                    continue;
                };
                vec![(side, price, qty)]
            }
            DeepOp::Behind { side, dist, qty } => {
                vec![(side, behind(side, model_best(&model, side), dist), qty)]
            }
            DeepOp::Jump { side, ticks } => {
                vec![(side, behind(side, model_best(&model, side), -ticks), 7)]
            }
            DeepOp::Sweep { side, n } => model
                .levels(side)
                .iter()
                .take(n)
                .map(|&(price, _)| (side, price, 0))
                .collect(),
        };
        for (side, price, q) in levels {
            deep_step((&mut ladder, &mut sorted, &mut model), side, price, q, step);
            step += 1;
        }
        if step % 40 == 0 {
            deep_compare(&ladder, &sorted, &model, step);
        }
    }
    deep_compare(&ladder, &sorted, &model, step);
}

proptest! {
    #![proptest_config(util::proptest_config(24))]

    /// Thousands of levels, most of them in the ladder's far list: random
    /// changes deep in the book, evictions at capacity, and window moves
    /// across the far region, against the capacity model.
    #[test]
    fn deep_books_match_the_model(
        ops in prop::collection::vec(deep_op(), 1..250),
        capacity in prop_oneof![Just(3_000usize), 500usize..5_000],
        wide in any::<bool>(),
        seed in any::<u64>(),
    ) {
        run_deep(&ops, capacity, if wide { 1_024 } else { 64 }, seed);
    }
}

/// A ladder whose far lists have `blocks` blocks of 64 levels (far fewer
/// than its capacity needs) against the capacity model: every change
/// either matches the model or fails with `PoolExhausted`, and then that
/// side is empty (never a wrong book) and the other side untouched.
/// Returns how many changes ran the pool dry.
fn run_dry_pool(levels: &[(Side, i64, i64)], blocks: usize) -> usize {
    let capacity = 1_000;
    let spec = BookSpec::new(1).with_window(64).with_capacity(capacity);
    let mut ladder = Ladder::with_far_blocks(spec, blocks);
    let mut model = CapacityModel {
        capacity,
        ..CapacityModel::default()
    };
    let mut dry = 0;
    for (step, &(side, dist, q)) in levels.iter().enumerate() {
        let price = behind(side, model_best(&model, side), dist);
        match ladder.apply(side, Price(price), Qty(q)) {
            Ok(got) => assert_eq!(got, model.apply(side, price, q), "step {step}"),
            Err(e) => {
                assert!(
                    matches!(e, BookError::PoolExhausted { .. }) && e.changed_book(),
                    "step {step}: {e:?}"
                );
                dry += 1;
                assert_eq!(ladder.depth(side), 0, "step {step}: side cleared");
                match side {
                    Side::Bid => model.bids.clear(),
                    Side::Ask => model.asks.clear(),
                }
            }
        }
        ladder.check_invariants();
        for s in [Side::Bid, Side::Ask] {
            assert_eq!(
                util::side_levels(&ladder, s),
                model.levels(s),
                "step {step}: {s:?}"
            );
        }
    }
    dry
}

proptest! {
    #![proptest_config(util::proptest_config(64))]

    /// Far inserts (and some deletes and new bests) into a pool of one to
    /// three blocks.
    #[test]
    fn a_dry_far_pool_never_leaves_a_wrong_book(
        levels in prop::collection::vec(
            (side(), prop_oneof![6 => 1i64..3_000, 1 => -200i64..=0], qty()),
            1..500,
        ),
        blocks in 1usize..=3,
    ) {
        run_dry_pool(&levels, blocks);
    }
}

#[test]
fn a_dry_far_pool_is_reached_and_recovered_from() {
    // 200 far bids, 10 ticks apart, into one block of 64: the 65th needs a
    // split and fails; the side is then empty and fills again.
    let levels: Vec<(Side, i64, i64)> = (0..200)
        .map(|i| (Side::Bid, if i == 0 { 0 } else { 100 + 10 * i }, 5))
        .collect();
    assert!(run_dry_pool(&levels, 1) >= 2);
    // A new best far above the window pushes its levels to the far list:
    // 70 asks, 49 in the window (64 ticks, the best 48 from its low end)
    // and 21 far; the jump pushes the 49 after them into one block of 64,
    // which runs dry too.
    let mut jump: Vec<(Side, i64, i64)> = (0..70).map(|i| (Side::Ask, i, 1)).collect();
    jump.push((Side::Ask, -5_000, 1));
    assert_eq!(run_dry_pool(&jump, 1), 1);
}
