//! Packed bodies in a snapshot: each block once, compressed as it is, then each body as
//! (block number, index) into that table. Writing a snapshot neither unpacks the Feed
//! nor does reading one pack it again; outside a Feed a body is written as its bytes.

use std::cell::RefCell;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Block, Body, Repr};

use std::collections::HashMap;

thread_local! {
    /// While records are written after their [`Blocks`]: block id → its number.
    static WRITING: RefCell<Option<HashMap<u64, u32>>> = const { RefCell::new(None) };
    /// While records are read after their [`Blocks`]: the table.
    static READING: RefCell<Option<Vec<Arc<Block>>>> = const { RefCell::new(None) };
}

/// The distinct blocks of a run of bodies, in order of first use.
pub struct Blocks(Vec<Arc<Block>>);

impl std::fmt::Debug for Blocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blocks({})", self.0.len())
    }
}

impl Blocks {
    pub fn of<'a>(bodies: impl Iterator<Item = &'a Body>) -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut blocks = Vec::new();
        for body in bodies {
            if let Repr::Packed { block, .. } = &body.0
                && seen.insert(block.id)
            {
                blocks.push(block.clone());
            }
        }
        Self(blocks)
    }

    /// `f`, with bodies in these blocks serialised as references into them.
    pub fn writing<R>(&self, f: impl FnOnce() -> R) -> R {
        let ids = (self.0.iter().enumerate())
            .map(|(n, b)| (b.id, n as u32))
            .collect();
        let before = WRITING.replace(Some(ids));
        let _restore = Restore(Some(|| WRITING.set(before)));
        f()
    }

    /// `f`, with references into these blocks deserialised as bodies.
    pub fn reading<R>(self, f: impl FnOnce() -> R) -> R {
        let before = READING.replace(Some(self.0));
        let _restore = Restore(Some(|| READING.set(before)));
        f()
    }
}

/// Runs its closure when dropped (a panic or an error mid-way included).
struct Restore<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Restore<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f()
        }
    }
}

/// Raw bytes, written as bytes (not as a sequence of numbers).
struct Raw<'a>(&'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for Blocks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|b| (Raw(&b.compressed), &*b.ends)))
    }
}

impl<'de> Deserialize<'de> for Blocks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Table;
        impl<'de> Visitor<'de> for Table {
            type Value = Blocks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of packed blocks")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blocks, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some((compressed, ends)) = seq.next_element::<(Bytes, Vec<u32>)>()? {
                    // Ranges are sliced without checks later: refuse any that would not be.
                    if ends.is_empty() || ends.windows(2).any(|w| w[0] > w[1]) {
                        return Err(A::Error::custom("a packed block's ends are out of order"));
                    }
                    blocks.push(Arc::new(Block::new(compressed.to_vec(), ends)));
                }
                Ok(Blocks(blocks))
            }
        }
        d.deserialize_seq(Table)
    }
}

#[derive(Serialize)]
enum Wire<'a> {
    Plain(Raw<'a>),
    Packed(u32, u32),
}

/// [`Wire`] read back (the same variants, in the same order).
#[derive(Deserialize)]
enum WireOwned {
    Plain(Bytes),
    Packed(u32, u32),
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Repr::Packed { block, index } = &self.0 {
            let n = WRITING.with_borrow(|w| w.as_ref()?.get(&block.id).copied());
            if let Some(n) = n {
                return Wire::Packed(n, *index).serialize(s);
            }
        }
        self.with(|b| Wire::Plain(Raw(b)).serialize(s))
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match WireOwned::deserialize(d)? {
            WireOwned::Plain(b) => Ok(Body::from(b)),
            WireOwned::Packed(n, index) => READING
                .with_borrow(|r| {
                    let block = r.as_ref()?.get(n as usize)?;
                    ((index as usize) < block.ends.len()).then(|| {
                        Body(Repr::Packed {
                            block: block.clone(),
                            index,
                        })
                    })
                })
                .ok_or_else(|| D::Error::custom("a packed body outside its block table")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(n: usize) -> Vec<Body> {
        let mut bodies: Vec<Body> = (0..n).map(|i| Body::from(format!("body {i}"))).collect();
        Body::pack(bodies.iter_mut());
        bodies
    }

    #[test]
    fn outside_a_table_a_packed_body_is_written_as_its_bytes() {
        let bodies = packed(3);
        let bytes = postcard::to_allocvec(&bodies[1]).unwrap();
        let back: Body = postcard::from_bytes(&bytes).unwrap();
        assert!(!back.is_packed());
        assert_eq!(back, bodies[1]);
    }

    #[test]
    fn references_are_refused_without_their_table_or_beyond_it() {
        let bodies = packed(3);
        let blocks = Blocks::of(bodies.iter());
        let table = postcard::to_allocvec(&blocks).unwrap();
        let refs = blocks.writing(|| postcard::to_allocvec(&bodies).unwrap());
        // Without the table: refused, not guessed.
        assert!(postcard::from_bytes::<Vec<Body>>(&refs).is_err());
        let back: Vec<Body> = postcard::from_bytes::<Blocks>(&table)
            .unwrap()
            .reading(|| postcard::from_bytes(&refs).unwrap());
        assert_eq!(back, bodies);
        assert!(back.iter().all(Body::is_packed));
        // An index past the block's bodies.
        let beyond = postcard::to_allocvec(&Wire::Packed(0, 3)).unwrap();
        let table_again: Blocks = postcard::from_bytes(&table).unwrap();
        assert!(
            table_again
                .reading(|| postcard::from_bytes::<Body>(&beyond))
                .is_err()
        );
        // A block whose ends go backwards.
        let bad = postcard::to_allocvec(&vec![(Raw(b"x"), vec![5u32, 2])]).unwrap();
        assert!(postcard::from_bytes::<Blocks>(&bad).is_err());
    }
}
