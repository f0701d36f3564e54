//! A fixed-capacity FIFO (a ring over a boxed slice): the order core's
//! queues of requests to send and reports to deliver. Allocated once.

/// A bounded FIFO of `Copy` values.
#[derive(Debug)]
pub(crate) struct Fifo<T> {
    buf: Box<[Option<T>]>,
    head: usize,
    len: usize,
}

impl<T: Copy> Fifo<T> {
    /// A queue holding up to `capacity` values.
    pub(crate) fn new(capacity: usize) -> Fifo<T> {
        Fifo {
            buf: vec![None; capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    /// Appends `v`; `false` (and nothing stored) when full.
    pub(crate) fn push(&mut self, v: T) -> bool {
        if self.len == self.buf.len() {
            return false;
        }
        let i = (self.head + self.len) % self.buf.len();
        self.buf[i] = Some(v);
        self.len += 1;
        true
    }

    /// The oldest value.
    pub(crate) fn front(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        self.buf[self.head].as_ref()
    }

    /// Removes and returns the oldest value.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let v = self.buf[self.head].take();
        self.head = (self.head + 1) % self.buf.len();
        self.len -= 1;
        v
    }

    /// Removes and returns the newest value.
    pub(crate) fn pop_back(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let i = (self.head + self.len) % self.buf.len();
        self.buf[i].take()
    }

    /// Whether no more values fit.
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Free places.
    pub(crate) fn free(&self) -> usize {
        self.buf.len() - self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_wraparound_and_capacity() {
        let mut q = Fifo::new(3);
        assert!(q.push(1) && q.push(2) && q.push(3));
        assert!(!q.push(4));
        assert_eq!(q.pop_front(), Some(1));
        assert!(q.push(4));
        assert_eq!(q.pop_back(), Some(4));
        assert_eq!(q.front(), Some(&2));
        assert_eq!(
            (q.pop_front(), q.pop_front(), q.pop_front()),
            (Some(2), Some(3), None)
        );
        assert_eq!(q.free(), 3);
    }
}
