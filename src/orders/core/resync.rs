//! Changing an order in place and re-asking the venue about open orders:
//! USD-M's amend (`order.modify`) and the re-query after the user-data
//! stream was down.

use crate::types::{Nanos, Price, Qty};

use super::super::{ClientId, RejectReason};
use super::{Orders, Pending};

impl Orders {
    /// Queues an amend in place of a tracked, unfinished order: new price
    /// and quantity, same client id (USD-M `order.modify`). The order keeps
    /// its figures until the venue confirms the amend.
    pub fn amend(&mut self, id: ClientId, price: Price, qty: Qty) -> Result<(), RejectReason> {
        let slot = self.table.find(&id).ok_or(RejectReason::UnknownOrder)?;
        let o = self.table.get(slot);
        if o.state.is_terminal() {
            return Err(RejectReason::UnknownOrder);
        }
        if qty <= o.filled || qty.0 <= 0 || price.0 <= 0 {
            return Err(RejectReason::InvalidOrder);
        }
        if self.sends.is_full() {
            return Err(RejectReason::Capacity);
        }
        self.table.get_mut(slot).amend = Some((price, qty));
        self.sends.push(Pending::Amend {
            slot: slot as u32,
            id,
        });
        Ok(())
    }

    /// Schedules a status query of every open order (after the user-data
    /// stream was down: events may have been missed).
    pub fn requery_open(&mut self, now: Nanos) {
        for s in 0..self.table.capacity() {
            if self.table.live(s) {
                let o = self.table.get_mut(s);
                if !o.state.is_terminal() && !o.query_inflight && o.sent_at != 0 {
                    o.query_due = if o.query_due == 0 {
                        now.max(1)
                    } else {
                        o.query_due.min(now.max(1))
                    };
                }
            }
        }
        self.arm(now.max(1));
    }
}
