//! Derived book values in binary fixed point (the `fixed` crate).
//!
//! Exchange prices are exact decimals and stay integer mantissas. Values
//! *computed* from them — mid, microprice, imbalance — are not decimals in
//! general (a mid can fall on half a tick), so they are returned as binary
//! fixed point: exact where possible, deterministic, and float-free. The
//! results are in mantissa units of the instrument's price scale.

use fixed::types::I64F64;

use super::BookRead;
use crate::types::Ratio;

/// `(best_bid + best_ask) / 2` in price-mantissa units. `None` when a side is empty.
pub fn mid(book: &impl BookRead) -> Option<I64F64> {
    let (b, a) = (book.best_bid()?, book.best_ask()?);
    let sum = I64F64::from_num(b.price.0).checked_add(I64F64::from_num(a.price.0))?;
    Some(sum / 2)
}

/// Size-weighted mid: `(bid·ask_qty + ask·bid_qty) / (bid_qty + ask_qty)`,
/// in price-mantissa units. Leans toward the side with less quantity.
pub fn microprice(book: &impl BookRead) -> Option<I64F64> {
    let (b, a) = (book.best_bid()?, book.best_ask()?);
    let total = i128::from(b.qty.0) + i128::from(a.qty.0);
    if total == 0 {
        return None;
    }
    let num =
        i128::from(b.price.0) * i128::from(a.qty.0) + i128::from(a.price.0) * i128::from(b.qty.0);
    let whole = num / total;
    let rem = num % total;
    let int = I64F64::checked_from_num(whole)?;
    // rem / total < 1 in magnitude; shift before dividing to keep 64 fraction bits.
    let frac_bits = (rem << 64) / total;
    int.checked_add(I64F64::from_bits(frac_bits))
}

/// Top-of-book imbalance `(bid_qty - ask_qty) / (bid_qty + ask_qty)` in `[-1, 1]`.
pub fn imbalance(book: &impl BookRead) -> Option<Ratio> {
    let (b, a) = (book.best_bid()?, book.best_ask()?);
    let total = i128::from(b.qty.0) + i128::from(a.qty.0);
    if total == 0 {
        return None;
    }
    let diff = i128::from(b.qty.0) - i128::from(a.qty.0);
    Some(Ratio::from_bits(((diff << 32) / total) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookApply, RefBook};
    use crate::types::{Price, Qty, Side};

    #[test]
    fn derived_values_are_exact() {
        let mut book = RefBook::new(1);
        assert_eq!(mid(&book), None);
        book.apply(Side::Bid, Price(100), Qty(3)).unwrap();
        book.apply(Side::Ask, Price(101), Qty(1)).unwrap();
        assert_eq!(
            mid(&book),
            Some(I64F64::from_num(100) + I64F64::from_num(1) / 2)
        );
        // (100*1 + 101*3) / 4 = 100.75
        assert_eq!(
            microprice(&book),
            Some(I64F64::from_num(100) + I64F64::from_num(3) / 4)
        );
        assert_eq!(imbalance(&book), Some(Ratio::from_num(1) / 2));
    }
}
