//! The seed of the message indexes' id hashes. Random per store (ids come from webhook
//! bodies), and kept in the snapshot: the indexes hold the hashes, so a store read back
//! must hash with the seed that wrote them.

use std::hash::BuildHasher;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Seed(u64);

impl Seed {
    /// A given seed: the same hashes from one run to the next (for a fingerprint).
    pub(super) fn fixed(seed: u64) -> Self {
        Self(seed)
    }
}

impl Default for Seed {
    fn default() -> Self {
        // std's RandomState is seeded from the OS: foldhash's fixed state is not.
        Self(std::collections::hash_map::RandomState::new().hash_one(0u64))
    }
}

impl BuildHasher for Seed {
    type Hasher = foldhash::fast::FoldHasher;

    fn build_hasher(&self) -> Self::Hasher {
        foldhash::fast::FixedState::with_seed(self.0).build_hasher()
    }
}
