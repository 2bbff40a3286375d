//! Which deliveries are duplicates: the identities seen recently, bounded.

use std::collections::VecDeque;

use crate::model::Identity;
use crate::store::HashMap;

/// The identities seen recently, bounded: oldest forgotten first.
#[derive(Debug)]
pub struct Dedupe {
    first: HashMap<Identity, u64>,
    order: VecDeque<Identity>,
    window: usize,
}

impl Dedupe {
    pub fn new(window: usize) -> Self {
        Self {
            first: HashMap::default(),
            order: VecDeque::new(),
            window: window.max(1),
        }
    }

    /// The seq of the first delivery with this identity, or record this one as first.
    pub fn check(&mut self, id: Identity, seq: u64) -> Option<u64> {
        if let Some(first) = self.first.get(&id) {
            return Some(*first);
        }
        self.insert(id, seq);
        None
    }

    pub(super) fn insert(&mut self, id: Identity, seq: u64) {
        if self.first.insert(id, seq).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.window {
            if let Some(old) = self.order.pop_front() {
                self.first.remove(&old);
            }
        }
    }

    /// Its entries, oldest first: what a snapshot keeps.
    pub fn entries(&self) -> Vec<(Identity, u64)> {
        let seq = |id: &Identity| self.first.get(id).copied().unwrap_or_default();
        self.order.iter().map(|id| (*id, seq(id))).collect()
    }

    /// The index a snapshot kept, in a window of `window`.
    pub fn from_entries(window: usize, entries: Vec<(Identity, u64)>) -> Self {
        let mut d = Self::new(window);
        d.first.reserve(entries.len());
        for (id, seq) in entries {
            d.insert(id, seq);
        }
        d
    }

    pub(super) fn window(&self) -> usize {
        self.window
    }

    pub(super) fn forget(&mut self, id: &Identity, seq: u64) {
        if self.first.get(id) == Some(&seq) {
            self.first.remove(id);
        }
    }
}
