//! A fixed-capacity map from [`ClientId`] to a slot, allocated once:
//! open addressing with linear probing and backward-shift deletion, so no
//! tombstones accumulate however many orders come and go.

use super::ClientId;

/// Why an insert failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The id is present (or empty).
    Duplicate,
    /// No free slot.
    Full,
}

/// Slot storage plus an index keyed by client id.
#[derive(Debug)]
pub(crate) struct Table<T> {
    /// `slots[i]` is live when `keys[i]` is not empty.
    slots: Box<[T]>,
    keys: Box<[ClientId]>,
    /// Free slot numbers (a stack; capacity reserved up front).
    free: Vec<u32>,
    /// Open-addressing index: 0 = empty, else slot + 1. Twice the capacity
    /// (rounded to a power of two), so probes stay short.
    index: Box<[u32]>,
    mask: usize,
}

impl<T: Copy> Table<T> {
    /// A table of `capacity` slots, each initialised to `blank`.
    pub(crate) fn new(capacity: usize, blank: T) -> Table<T> {
        let capacity = capacity.max(1);
        let index_len = (capacity * 2).next_power_of_two();
        Table {
            slots: vec![blank; capacity].into_boxed_slice(),
            keys: vec![ClientId::EMPTY; capacity].into_boxed_slice(),
            free: (0..capacity as u32).rev().collect(),
            index: vec![0; index_len].into_boxed_slice(),
            mask: index_len - 1,
        }
    }

    /// Number of live entries.
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn home(&self, id: &ClientId) -> usize {
        id.hash64() as usize & self.mask
    }

    /// The slot holding `id`.
    #[inline]
    pub(crate) fn find(&self, id: &ClientId) -> Option<usize> {
        let mut i = self.home(id);
        loop {
            let e = self.index[i];
            if e == 0 {
                return None;
            }
            let slot = e as usize - 1;
            if self.keys[slot] == *id {
                return Some(slot);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `value` under `id` (one probe: a present id is met before
    /// the first empty index entry).
    pub(crate) fn insert(&mut self, id: ClientId, value: T) -> Result<usize, InsertError> {
        if id.is_empty() {
            return Err(InsertError::Duplicate);
        }
        let mut i = self.home(&id);
        while self.index[i] != 0 {
            if self.keys[self.index[i] as usize - 1] == id {
                return Err(InsertError::Duplicate);
            }
            i = (i + 1) & self.mask;
        }
        let slot = self.free.pop().ok_or(InsertError::Full)? as usize;
        self.slots[slot] = value;
        self.keys[slot] = id;
        self.index[i] = slot as u32 + 1;
        Ok(slot)
    }

    /// The key in `slot` (empty if the slot is free).
    #[inline]
    pub(crate) fn key(&self, slot: usize) -> &ClientId {
        &self.keys[slot]
    }

    /// Removes the entry in `slot` (if live).
    pub(crate) fn remove(&mut self, slot: usize) {
        let id = self.keys[slot];
        if id.is_empty() {
            return;
        }
        let mut i = self.home(&id);
        while self.index[i] as usize != slot + 1 {
            i = (i + 1) & self.mask;
        }
        // Backward-shift: pull later members of the probe run into the hole.
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        while self.index[j] != 0 {
            let k = self.keys[self.index[j] as usize - 1];
            let home = self.home(&k);
            // Move j into the hole if its home is not in (hole, j] cyclically.
            let between = if hole <= j {
                home > hole && home <= j
            } else {
                home > hole || home <= j
            };
            if !between {
                self.index[hole] = self.index[j];
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.index[hole] = 0;
        self.keys[slot] = ClientId::EMPTY;
        self.free.push(slot as u32);
    }

    /// The value in `slot`.
    #[inline]
    pub(crate) fn get(&self, slot: usize) -> &T {
        &self.slots[slot]
    }

    /// The value in `slot`, mutable.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: usize) -> &mut T {
        &mut self.slots[slot]
    }

    /// Whether `slot` is live.
    pub(crate) fn live(&self, slot: usize) -> bool {
        !self.keys[slot].is_empty()
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn id(n: u32) -> ClientId {
        ClientId::new(format!("t-{n}").as_bytes()).unwrap()
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u32..40, any::<bool>()), 1..400)) {
            let mut t = Table::new(16, 0u32);
            let mut model: HashMap<u32, usize> = HashMap::new();
            for (k, ins) in ops {
                if ins {
                    let got = t.insert(id(k), k);
                    if model.contains_key(&k) {
                        prop_assert_eq!(got, Err(InsertError::Duplicate));
                    } else if model.len() == 16 {
                        prop_assert_eq!(got, Err(InsertError::Full));
                    } else {
                        model.insert(k, got.unwrap());
                    }
                } else if let Some(slot) = model.remove(&k) {
                    t.remove(slot);
                }
                prop_assert_eq!(t.len(), model.len());
                for n in 0..40 {
                    let found = t.find(&id(n));
                    prop_assert_eq!(found, model.get(&n).copied());
                    if let Some(s) = found {
                        prop_assert_eq!(*t.get(s), n);
                    }
                }
            }
        }
    }
}
