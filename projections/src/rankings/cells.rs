//! The cell deltas of one period held in memory until they are written: sorted, compact,
//! merged from a buffer, with values beyond `i32` kept apart.

use crate::common::{map_bytes, FxMap};

/// Cell deltas of one period, keyed by `scope << 32 | volunteer`: kept sorted and
/// unique, with the latest deltas in a buffer merged in when it grows. Compact (16 bytes
/// a cell, no hash table) and already in key order when written. A cell whose value
/// leaves the range of `i32` (21 million points, 35 million hours) moves to `wide`.
#[derive(Debug, Default)]
pub(super) struct PeriodCells {
    sorted: Vec<(u64, i32, i32)>,
    buffer: Vec<(u64, i64, i64)>,
    wide: FxMap<u64, (i64, i64)>,
}

impl PeriodCells {
    pub(super) fn add(&mut self, key: u64, points: i64, minutes: i64) {
        self.buffer.push((key, points, minutes));
        if self.buffer.len() >= (self.sorted.len() / 4).max(4096) {
            self.merge();
        }
    }

    fn merge(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        self.buffer.sort_unstable_by_key(|c| c.0);
        let mut merged: Vec<(u64, i32, i32)> =
            Vec::with_capacity(self.sorted.len() + self.buffer.len());
        let mut old = self.sorted.iter().peekable();
        let mut new = self.buffer.iter().peekable();
        while let Some(&&(k, p, m)) = new.peek() {
            // Cells without news first, as they are.
            while let Some(&&c) = old.peek() {
                if c.0 >= k {
                    break;
                }
                merged.push(c);
                old.next();
            }
            // Every delta of this cell, added to its value.
            let (mut points, mut minutes) = (p, m);
            new.next();
            while let Some(&&(k2, p2, m2)) = new.peek() {
                if k2 != k {
                    break;
                }
                points += p2;
                minutes += m2;
                new.next();
            }
            if let Some(&&(k0, p0, m0)) = old.peek() {
                if k0 == k {
                    points += i64::from(p0);
                    minutes += i64::from(m0);
                    old.next();
                }
            }
            if let Some(w) = self.wide.get_mut(&k) {
                w.0 += points;
                w.1 += minutes;
                continue;
            }
            match (i32::try_from(points), i32::try_from(minutes)) {
                (Ok(p), Ok(m)) => merged.push((k, p, m)),
                _ => {
                    self.wide.insert(k, (points, minutes));
                }
            }
        }
        merged.extend(old.copied());
        self.sorted = merged;
        self.buffer.clear();
    }

    pub(super) fn bytes(&self) -> usize {
        self.sorted.capacity() * std::mem::size_of::<(u64, i32, i32)>()
            + self.buffer.capacity() * std::mem::size_of::<(u64, i64, i64)>()
            + map_bytes(&self.wide, 0)
    }

    /// Every cell, in key order.
    pub(super) fn take(mut self) -> Vec<(u64, i64, i64)> {
        self.merge();
        let mut out: Vec<(u64, i64, i64)> = self
            .sorted
            .iter()
            .map(|&(k, p, m)| (k, i64::from(p), i64::from(m)))
            .collect();
        if !self.wide.is_empty() {
            out.extend(self.wide.iter().map(|(k, (p, m))| (*k, *p, *m)));
            out.sort_unstable_by_key(|c| c.0);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_cells_add_up_in_key_order() {
        let mut c = PeriodCells::default();
        let mut expected: std::collections::BTreeMap<u64, (i64, i64)> = Default::default();
        let mut x = 7u64;
        for i in 0..20_000i64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = (x >> 33) % 3000;
            let (p, m) = (i % 97 - 40, i % 13);
            c.add(key, p, m);
            let e = expected.entry(key).or_default();
            e.0 += p;
            e.1 += m;
        }
        // Values beyond i32 go wide, and come back exact.
        c.add(5, i64::from(i32::MAX), 0);
        c.add(5, 10, 0);
        c.add(u64::MAX, -3_000_000_000, 1);
        let e = expected.entry(5).or_default();
        e.0 += i64::from(i32::MAX) + 10;
        expected.insert(u64::MAX, (-3_000_000_000, 1));
        let got: Vec<(u64, i64, i64)> = c.take();
        let want: Vec<(u64, i64, i64)> =
            expected.into_iter().map(|(k, (p, m))| (k, p, m)).collect();
        assert_eq!(got, want);
    }
}
