//! A ring of time slots (a second, ten seconds…), each holding counts: adding goes to
//! the slot of the record's time, reading walks back from `now`. A slot remembers which
//! time it holds, so a stale one reads as zero without anything ever clearing it.

/// `N` slots; slot numbers are times divided by the slot length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ring<T, const N: usize> {
    slots: Box<[(i64, T)]>,
    /// The newest slot added to: anything `N` or more before it is out of the window.
    newest: Option<i64>,
}

impl<T: Copy + Default, const N: usize> Default for Ring<T, N> {
    fn default() -> Self {
        Self {
            slots: vec![(i64::MIN, T::default()); N].into_boxed_slice(),
            newest: None,
        }
    }
}

impl<T: Copy + Default, const N: usize> Ring<T, N> {
    /// Update the slot `slot`; a slot already out of the window is dropped (`false`).
    pub fn add(&mut self, slot: i64, f: impl FnOnce(&mut T)) -> bool {
        if self.newest.is_some_and(|n| slot <= n - N as i64) {
            return false;
        }
        let cell = &mut self.slots[slot.rem_euclid(N as i64) as usize];
        if cell.0 != slot {
            *cell = (slot, T::default());
        }
        f(&mut cell.1);
        self.newest = Some(self.newest.map_or(slot, |n| n.max(slot)));
        true
    }

    /// What slot `slot` holds, if it is still in the ring.
    pub fn get(&self, slot: i64) -> Option<&T> {
        let cell = &self.slots[slot.rem_euclid(N as i64) as usize];
        (cell.0 == slot).then_some(&cell.1)
    }

    /// The `n` slots up to and including `last` (at most `N`), oldest first; empty ones
    /// as `T::default()`.
    pub fn series(&self, last: i64, n: usize) -> impl Iterator<Item = T> + '_ {
        let n = n.min(N) as i64;
        (last - n + 1..=last).map(|s| self.get(s).copied().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_expire_by_time_not_by_clearing() {
        let mut r: Ring<u32, 4> = Ring::default();
        assert!(r.add(10, |c| *c += 1));
        assert!(r.add(10, |c| *c += 1));
        assert!(r.add(12, |c| *c += 5));
        assert_eq!(r.series(12, 4).collect::<Vec<_>>(), [0, 2, 0, 5]);
        // Slot 14 reuses 10's cell: 10 reads as gone, not as 14's count.
        assert!(r.add(14, |c| *c += 1));
        assert_eq!(r.get(10), None);
        assert_eq!(r.series(14, 9).collect::<Vec<_>>(), [0, 5, 0, 1]);
        // Too old for the window now.
        assert!(!r.add(10, |c| *c += 1));
        assert!(r.add(11, |c| *c += 1));
        // Far later, nothing old reads as current.
        assert_eq!(r.series(100, 4).collect::<Vec<_>>(), [0, 0, 0, 0]);
    }
}
