use std::collections::BTreeMap;

use super::{BLOCK, FarList, Find, MIN_FILL, PoolExhausted};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

fn same(far: &FarList, model: &BTreeMap<i64, i64>) {
    far.check();
    let held: Vec<(i64, i64)> = far.iter().collect();
    let want: Vec<(i64, i64)> = model.iter().map(|(&k, &q)| (k, q)).collect();
    assert_eq!(held, want);
    assert_eq!(far.first(), model.keys().next().copied());
    assert_eq!(far.last(), model.iter().next_back().map(|(&k, &q)| (k, q)));
}

/// Sets `key` the way the ladder does: one `find`, then act on the spot.
fn upsert(far: &mut FarList, key: i64, qty: i64) -> Result<bool, PoolExhausted> {
    match far.find(key) {
        Find::Held(at) => {
            far.set_at(at, qty);
            Ok(false)
        }
        Find::Vacant(at) => far.insert_at(at, key, qty).map(|()| true),
    }
}

#[test]
fn random_inserts_and_removes_match_a_btreemap() {
    let capacity = 3_000;
    let mut far = FarList::new(capacity);
    let mut model = BTreeMap::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Fill to capacity, drain to almost nothing, refill: splits, then
    // merges and borrows, then splits again, at every depth.
    for round in 0..3 {
        for step in 0..20_000 {
            let key = rng.below(50_000);
            let fill = if round == 1 { 2 } else { 8 };
            if rng.below(10) < fill && model.len() < capacity {
                let qty = 1 + rng.below(1_000);
                let inserted = upsert(&mut far, key, qty).expect("pool");
                assert_eq!(inserted, model.insert(key, qty).is_none());
            } else {
                assert_eq!(far.remove(key), model.remove(&key).is_some());
            }
            assert_eq!(far.get(key), model.get(&key).copied());
            assert_eq!(far.len(), model.len());
            if step % 997 == 0 {
                same(&far, &model);
            }
        }
        same(&far, &model);
    }
}

#[test]
fn find_answers_held_and_vacant_spots_at_the_edges() {
    let mut far = FarList::new(200);
    assert!(matches!(far.find(7), Find::Vacant(_)));
    for k in 0..200 {
        far.push_last(10 * k, k + 1).expect("pool");
    }
    far.check();
    // Below every key, between keys, on a block's first key, above all.
    for (key, held) in [
        (-5, false),
        (0, true),
        (5, false),
        (640, true),
        (1_995, false),
    ] {
        assert_eq!(matches!(far.find(key), Find::Held(_)), held, "key {key}");
        assert_eq!(far.get(key), held.then_some(key / 10 + 1), "key {key}");
    }
    // An insert below the lowest key goes in front without a search.
    let Find::Vacant(at) = far.find(-5) else {
        panic!("-5 is not held")
    };
    far.insert_at(at, -5, 9).expect("pool");
    assert_eq!(far.first(), Some(-5));
    assert_eq!(far.pop_first(), Some((-5, 9)));
    assert_eq!(far.pop_first(), Some((0, 1)));
    assert_eq!(far.first(), Some(10));
    far.check();
}

#[test]
fn push_and_pop_at_both_ends_keep_blocks_filled() {
    let mut far = FarList::new(1_000);
    for k in 0..1_000 {
        far.push_last(k * 3, k + 1).expect("pool");
    }
    far.check();
    assert_eq!(far.len(), 1_000);
    // Appending splits the last block each time it fills: no block under half full.
    for k in (500..1_000).rev() {
        assert_eq!(far.pop_last(), Some((k * 3, k + 1)));
    }
    far.check();
    for k in 0..250 {
        assert!(far.remove(k * 3));
    }
    far.check();
    assert_eq!(far.first(), Some(750));
    assert_eq!(far.last(), Some((1_497, 500)));
    for k in 250..400 {
        assert_eq!(far.pop_first(), Some((k * 3, k + 1)));
    }
    far.check();
    assert_eq!(far.len(), 100);
    far.clear();
    far.check();
    assert!(far.is_empty());
    assert_eq!(far.pop_last(), None);
    assert_eq!(far.pop_first(), None);
    far.insert(5, 1).expect("pool");
    assert_eq!(far.iter().collect::<Vec<_>>(), vec![(5, 1)]);
}

#[test]
fn the_pool_is_enough_at_every_capacity() {
    // Worst case for the pool: every block at the minimum fill, and one
    // entry over the capacity (the ladder's insert before its eviction).
    for capacity in [1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
        let mut far = FarList::new(capacity);
        let mut rng = Rng(capacity as u64 + 1);
        for _ in 0..20 * capacity {
            let key = rng.below(4 * capacity as u64 + 4);
            if far.len() <= capacity && far.get(key).is_none() {
                far.insert(key, 1).expect("the pool holds capacity + 1");
            } else {
                far.remove(key);
            }
        }
        far.check();
    }
    // Appending one entry over the capacity fits too.
    let capacity = 4 * MIN_FILL;
    let mut far = FarList::new(capacity);
    for k in 0..=capacity as i64 {
        far.push_last(k, 1).expect("pool");
    }
    far.check();
}

#[test]
fn an_exhausted_pool_refuses_the_insert_and_changes_nothing() {
    // Two blocks: 2 * BLOCK entries at most, splits included.
    let mut far = FarList::with_blocks(2);
    for k in 0..BLOCK as i64 {
        far.push_last(2 * k, k + 1).expect("first block");
    }
    // The first block is full: this split takes the second block.
    far.insert(1, 7).expect("second block");
    far.check();
    // Fill both blocks to the brim: odd keys into the first (it ends
    // below 64, the second block's first key), then append to the second.
    for k in (3..64).step_by(2) {
        far.insert(k, 1).expect("room in the first block");
    }
    let mut k = 2 * BLOCK as i64;
    while far.len() < 2 * BLOCK {
        far.push_last(k, 1).expect("room in the second block");
        k += 2;
    }
    far.check();
    let before: Vec<(i64, i64)> = far.iter().collect();
    // Every further insert needs a split, and there is no block for it.
    assert_eq!(far.insert(65, 1), Err(PoolExhausted));
    assert_eq!(far.push_last(k, 1), Err(PoolExhausted));
    let Find::Vacant(at) = far.find(-1) else {
        panic!("-1 is not held")
    };
    assert_eq!(far.insert_at(at, -1, 1), Err(PoolExhausted));
    far.check();
    assert_eq!(far.iter().collect::<Vec<_>>(), before);
    // Freeing an entry makes room again without a new block.
    assert!(far.remove(1));
    far.insert(-1, 4).expect("room in the first block");
    assert_eq!(far.get(-1), Some(4));
    assert_eq!(far.first(), Some(-1));
    far.check();
}
