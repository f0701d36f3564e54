//! The spelling table: one side's held levels keyed by price, each with its
//! [`Spell`] and (once a checksum needed it) its rendered `px:sz` text.
//! Fixed capacity, open addressing with linear probing and backward-shift
//! deletion (no tombstones); allocated once.

use super::checksum::Spell;
use crate::book::Level;
use crate::venue::scan::render::{NUMBER_CAP, put_number};

/// Bytes of `px:sz` text kept per level (longer texts are rendered when
/// the checksum is computed).
pub(super) const SLOT_TEXT: usize = 45;

/// What the table keeps for one level: its spelling and, once a checksum
/// rendered it, its `px:sz` text (later checksums only copy it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    /// The level's spelling.
    pub(super) spell: Spell,
    /// Bytes of `text` in use; 0: not rendered (too long), render from `spell`.
    pub(super) len: u8,
    /// The text; `len` bytes count.
    pub(super) text: [u8; SLOT_TEXT],
}

impl Entry {
    /// Renders `level`'s `px:sz` text (left unrendered if it does not fit).
    #[cold]
    pub(super) fn render(&mut self, level: Level, price_scale: u8, qty_scale: u8) {
        let mut tmp = [0u8; 2 * NUMBER_CAP + 1];
        let end = put_number(&mut tmp, 0, level.price.0, price_scale, self.spell.px);
        tmp[end] = b':';
        let end = put_number(&mut tmp, end + 1, level.qty.0, qty_scale, self.spell.sz);
        if end <= SLOT_TEXT {
            self.text[..end].copy_from_slice(&tmp[..end]);
            self.len = end as u8;
        }
    }
}

pub(super) const NO_ENTRY: Entry = Entry {
    spell: Spell { px: 0, sz: 0 },
    len: 0,
    text: [0; SLOT_TEXT],
};

/// The spellings of one side's held levels, keyed by price.
#[derive(Debug)]
pub(super) struct SideTable {
    /// Price mantissas; [`EMPTY`] marks a free slot.
    keys: Box<[i64]>,
    spells: Box<[Entry]>,
    /// Occupied slots; at most half the slots.
    pub(super) len: usize,
    /// `64 - log2(slots)`: the hash's top bits index the table.
    shift: u32,
}

/// A free slot. No book holds this price (it is outside the book's range).
const EMPTY: i64 = i64::MIN;

impl SideTable {
    pub(super) fn new(capacity: usize) -> SideTable {
        let slots = (2 * capacity.max(8)).next_power_of_two();
        SideTable {
            keys: vec![EMPTY; slots].into_boxed_slice(),
            spells: vec![NO_ENTRY; slots].into_boxed_slice(),
            len: 0,
            shift: 64 - slots.trailing_zeros(),
        }
    }

    #[inline(always)]
    fn home(&self, price: i64) -> usize {
        ((price as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.keys.len() - 1
    }

    /// The slot holding `price`, or the free slot where it would go.
    #[inline(always)]
    fn find(&self, price: i64) -> (usize, bool) {
        let mut i = self.home(price);
        loop {
            match self.keys[i] {
                k if k == price => return (i, true),
                EMPTY => return (i, false),
                _ => i = (i + 1) & self.mask(),
            }
        }
    }

    /// The slot holding `price`, if held (stable until the next `set` or
    /// `remove`).
    #[inline]
    pub(super) fn slot_of(&self, price: i64) -> Option<usize> {
        match self.find(price) {
            (i, true) => Some(i),
            _ => None,
        }
    }

    /// The entry in `slot` (from [`slot_of`](Self::slot_of)).
    #[inline(always)]
    pub(super) fn entry(&self, slot: usize) -> &Entry {
        &self.spells[slot]
    }

    /// The entry in `slot`, to render its text.
    #[inline(always)]
    pub(super) fn entry_mut(&mut self, slot: usize) -> &mut Entry {
        &mut self.spells[slot]
    }

    #[inline]
    pub(super) fn get(&self, price: i64) -> Option<&Entry> {
        match self.find(price) {
            (i, true) => Some(&self.spells[i]),
            _ => None,
        }
    }

    /// Sets `price`'s spelling; false when the table is full or the price
    /// is the reserved one.
    #[inline]
    pub(super) fn set(&mut self, price: i64, spell: Entry) -> bool {
        if price == EMPTY {
            return false;
        }
        let (i, found) = self.find(price);
        if !found {
            if 2 * (self.len + 1) > self.keys.len() {
                return false;
            }
            self.keys[i] = price;
            self.len += 1;
        }
        self.spells[i] = spell;
        true
    }

    /// Forgets `price` (backward-shift deletion: no tombstones).
    #[inline]
    pub(super) fn remove(&mut self, price: i64) {
        if price == EMPTY {
            return;
        }
        let (mut hole, found) = self.find(price);
        if !found {
            return;
        }
        self.len -= 1;
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let k = self.keys[j];
            if k == EMPTY {
                break;
            }
            // Move `k` into the hole unless its home lies cyclically in (hole, j].
            let home = self.home(k);
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.keys[hole] = k;
                self.spells[hole] = self.spells[j];
                hole = j;
            }
        }
        self.keys[hole] = EMPTY;
    }

    /// Forgets every price `keep` refuses. Backward-shift deletion moves a
    /// later entry into the freed slot, so that slot is looked at again;
    /// entries only ever move to slots already looked at or to the one
    /// being looked at, so each is judged at least once.
    pub(super) fn prune(&mut self, keep: impl Fn(i64) -> bool) {
        let mut i = 0;
        while i < self.keys.len() {
            let k = self.keys[i];
            if k != EMPTY && !keep(k) {
                self.remove(k);
            } else {
                i += 1;
            }
        }
    }

    pub(super) fn clear(&mut self) {
        if self.len > 0 {
            self.keys.fill(EMPTY);
            self.len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Removal keeps every other key findable (the table against a map).
        #[test]
        fn table_matches_a_map(ops in proptest::collection::vec((0i64..32, proptest::bool::ANY), 0..200)) {
            let mut t = SideTable::new(32);
            let mut m = std::collections::BTreeMap::new();
            for (k, add) in ops {
                let spell = Spell { px: (k % 7) as u8, sz: (k % 5) as u8 };
                if add {
                    let entry = Entry { spell, ..NO_ENTRY };
                    proptest::prop_assert!(t.set(k * 1000, entry));
                    m.insert(k * 1000, spell);
                } else {
                    t.remove(k * 1000);
                    m.remove(&(k * 1000));
                }
                proptest::prop_assert_eq!(t.len, m.len());
            }
            for k in 0..32 {
                proptest::prop_assert_eq!(t.get(k * 1000).map(|e| e.spell), m.get(&(k * 1000)).copied());
            }
        }

    }
}
