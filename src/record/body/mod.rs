//! A record's body: the bytes as received while the record is on its way (receiver,
//! journal, subscribers), and, once the store has held it a while, a slice of a
//! compressed block of its neighbours' bodies ([`Block`]). Webhook bodies of one
//! deployment share most of their bytes (keys, numbers, event names), so a block of a
//! few hundred of them compresses several-fold: it is what keeps a store of a million
//! deliveries within twice their raw size.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

mod wire;

pub use wire::Blocks;

#[derive(Clone)]
pub struct Body(Repr);

#[derive(Clone)]
enum Repr {
    Plain(Bytes),
    Packed { block: Arc<Block>, index: u32 },
}

impl Body {
    pub const fn new() -> Self {
        Self(Repr::Plain(Bytes::new()))
    }

    /// The bytes, owned: a cheap clone of a plain body; a packed one is copied out of
    /// its block (a slice would keep the whole decompressed block alive with it).
    pub fn bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Plain(b) => b.clone(),
            Repr::Packed { .. } => self.with(Bytes::copy_from_slice),
        }
    }

    /// `f` over the bytes in place, nothing copied: for passes over many records (a
    /// filter, a summary, the journal line of an attach catch-up).
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match &self.0 {
            Repr::Plain(b) => f(b),
            Repr::Packed { block, index } => {
                let (start, end) = block.range(*index);
                f(&block.unpacked()[start..end])
            }
        }
    }

    /// The bytes, borrowed when plain.
    pub fn get(&self) -> Cow<'_, [u8]> {
        match &self.0 {
            Repr::Plain(b) => Cow::Borrowed(b),
            Repr::Packed { .. } => Cow::Owned(self.with(<[u8]>::to_vec)),
        }
    }

    /// The plain bytes, when the body is not (yet) packed.
    fn plain(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Plain(b) => Some(b),
            Repr::Packed { .. } => None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Plain(b) => b.len(),
            Repr::Packed { block, index } => {
                let (start, end) = block.range(*index);
                end - start
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packs `bodies` (plain ones: packed ones are left as they are) into one block.
    /// Returns false when there was nothing to pack.
    pub fn pack<'a>(bodies: impl IntoIterator<Item = &'a mut Body>) -> bool {
        let mut plain: Vec<&mut Body> =
            bodies.into_iter().filter(|b| b.plain().is_some()).collect();
        let total: usize = plain.iter().map(|b| b.len()).sum();
        if plain.is_empty() || total > u32::MAX as usize {
            return false;
        }
        let mut raw = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(plain.len());
        for b in &plain {
            b.with(|b| raw.extend_from_slice(b));
            ends.push(raw.len() as u32);
        }
        let block = Arc::new(Block::new(lz4_flex::block::compress(&raw), ends));
        for (index, b) in plain.iter_mut().enumerate() {
            b.0 = Repr::Packed {
                block: block.clone(),
                index: index as u32,
            };
        }
        true
    }

    /// Whether this body is a slice of a packed block.
    pub fn is_packed(&self) -> bool {
        matches!(self.0, Repr::Packed { .. })
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Self(Repr::Plain(b))
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Self(Repr::Plain(b.into()))
    }
}

impl From<String> for Body {
    fn from(b: String) -> Self {
        Self(Repr::Plain(b.into()))
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.with(|a| other.with(|b| a == b))
    }
}

impl PartialEq<[u8]> for Body {
    fn eq(&self, other: &[u8]) -> bool {
        self.with(|a| a == other)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|b| fmt::Debug::fmt(&Bytes::copy_from_slice(b), f))
    }
}

static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

/// Bodies of consecutive records, concatenated and LZ4-compressed.
struct Block {
    /// Unique for the process: the cache's key (an address could be reused).
    id: u64,
    compressed: Box<[u8]>,
    /// Where each body ends in the decompressed bytes.
    ends: Box<[u32]>,
}

impl Block {
    fn new(compressed: Vec<u8>, ends: Vec<u32>) -> Self {
        Self {
            id: NEXT_BLOCK.fetch_add(1, Ordering::Relaxed),
            compressed: compressed.into_boxed_slice(),
            ends: ends.into_boxed_slice(),
        }
    }

    fn range(&self, index: u32) -> (usize, usize) {
        let i = index as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (start, self.ends[i] as usize)
    }

    /// The decompressed bytes, from this thread's cache of the last few blocks read
    /// (views and passes read neighbouring records, so one decompression serves many).
    fn unpacked(&self) -> Bytes {
        const KEEP: usize = 4;
        thread_local! {
            static RECENT: RefCell<Vec<(u64, Bytes)>> = const { RefCell::new(Vec::new()) };
        }
        RECENT.with_borrow_mut(|recent| {
            if let Some(i) = recent.iter().position(|(id, _)| *id == self.id) {
                recent[..=i].rotate_right(1);
                return recent[0].1.clone();
            }
            let len = self.ends.last().copied().unwrap_or(0) as usize;
            // Our own output, so it decompresses; were it damaged, zeroed bodies of the
            // right lengths beat a panic.
            let raw: Bytes = lz4_flex::block::decompress(&self.compressed, len)
                .ok()
                .filter(|raw| raw.len() == len)
                .unwrap_or_else(|| vec![0; len])
                .into();
            if recent.len() == KEEP {
                recent.pop();
            }
            recent.insert(0, (self.id, raw.clone()));
            raw
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_bodies_read_back_as_they_were() {
        let texts: Vec<String> = (0..300)
            .map(|i| format!(r#"{{"event":"message.sent","data":{{"id":"m{i}"}}}}"#))
            .collect();
        let mut bodies: Vec<Body> = texts
            .iter()
            .map(|t| Body::from(t.clone().into_bytes()))
            .collect();
        bodies[7] = Body::new();
        let before = bodies.clone();
        assert!(Body::pack(bodies.iter_mut()));
        assert!(bodies.iter().all(Body::is_packed));
        for (b, t) in bodies.iter().zip(&before) {
            assert_eq!(b, t);
            assert_eq!(b.len(), t.len());
            assert_eq!(b.bytes(), t.bytes());
            assert_eq!(&*b.get(), &*t.get());
        }
        // Already packed: nothing more to do.
        assert!(!Body::pack(bodies.iter_mut()));
        // More blocks than the cache keeps, read in turns.
        let mut others: Vec<Vec<Body>> = (0..6)
            .map(|k| {
                (0..3)
                    .map(|i| Body::from(format!("{k}-{i}").into_bytes()))
                    .collect()
            })
            .collect();
        for o in &mut others {
            Body::pack(o.iter_mut());
        }
        for _ in 0..2 {
            for (k, o) in others.iter().enumerate() {
                assert_eq!(o[2], *format!("{k}-2").as_bytes());
            }
        }
    }
}
