//! The Feed's records, held inline (no allocation of their own) in seq order, their
//! bodies packed into compressed blocks once a few hundred newer ones have arrived
//! ([`crate::record::Body::pack`]): the bulk of a store's memory is bodies, and bodies
//! of one deployment share most of their bytes.

use std::collections::VecDeque;
use std::ops::Deref;

use crate::record::{Blocks, Record};

/// Bodies packed together; the newest `BLOCK` to `2 × BLOCK` stay plain (the ones the
/// dashboard reads most, while they arrive).
const BLOCK: usize = 256;
/// Larger bodies stay plain: reading one would mean decompressing all its neighbours.
const PACK_MAX: usize = 16 * 1024;
/// A block holds at most this many bytes unpacked, so reading a body decompresses (and
/// each thread's cache holds) little, whatever the bodies' sizes.
const BLOCK_BYTES: usize = 128 * 1024;

#[derive(Debug, Default)]
pub struct Feed {
    records: VecDeque<Record>,
    /// How many of the newest records have not been packed yet.
    unpacked: usize,
}

impl Feed {
    pub fn push(&mut self, record: Record) {
        // One read back from a snapshot may come packed already.
        self.unpacked = if record.body.is_packed() {
            0
        } else {
            self.unpacked + 1
        };
        self.records.push_back(record);
        if self.unpacked >= 2 * BLOCK {
            let from = self.records.len() - self.unpacked;
            let mut group: Vec<&mut crate::record::Body> = Vec::with_capacity(BLOCK);
            let mut bytes = 0;
            for body in self
                .records
                .range_mut(from..from + BLOCK)
                .map(|r| &mut r.body)
            {
                if body.len() > PACK_MAX {
                    continue;
                }
                if bytes + body.len() > BLOCK_BYTES {
                    crate::record::Body::pack(group.drain(..));
                    bytes = 0;
                }
                bytes += body.len();
                group.push(body);
            }
            crate::record::Body::pack(group);
            self.unpacked -= BLOCK;
        }
    }

    pub fn pop_front(&mut self) -> Option<Record> {
        let old = self.records.pop_front()?;
        self.unpacked = self.unpacked.min(self.records.len());
        Some(old)
    }
}

impl Deref for Feed {
    type Target = VecDeque<Record>;

    fn deref(&self) -> &Self::Target {
        &self.records
    }
}

impl PartialEq for Feed {
    /// The same records (bodies compared by content, packed or not).
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
    }
}

impl serde::Serialize for Feed {
    /// The blocks once, compressed as they are, then the records, their packed bodies
    /// as references into that table.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let blocks = Blocks::of(self.records.iter().map(|r| &r.body));
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&blocks)?;
        blocks.writing(|| t.serialize_element(&self.records))?;
        t.end()
    }
}

impl<'de> serde::Deserialize<'de> for Feed {
    /// Record by record: bodies come back packed as they were.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
        use std::fmt;

        struct Records<'a>(&'a mut Feed);
        impl<'de> DeserializeSeed<'de> for Records<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Records<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence of records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                // A hint from the file, so bounded: the rest grows as records are read.
                self.0
                    .records
                    .reserve(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(r) = seq.next_element::<Record>()? {
                    self.0.push(r);
                }
                Ok(())
            }
        }

        struct Whole;
        impl<'de> Visitor<'de> for Whole {
            type Value = Feed;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of blocks and the records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Feed, A::Error> {
                let blocks: Blocks = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let mut feed = Feed::default();
                blocks
                    .reading(|| seq.next_element_seed(Records(&mut feed)))?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                Ok(feed)
            }
        }
        d.deserialize_tuple(2, Whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_bodies_are_packed_and_read_back_the_same() {
        let mut feed = Feed::default();
        // Every 37th body is too large to pack: the others around it are numbered apart.
        let body = |i: u64| match i % 37 {
            0 => format!("{i}:{}", "x".repeat(PACK_MAX + 1)),
            _ => format!(r#"{{"event":"message.sent","data":{{"id":"m{i}"}}}}"#),
        };
        for i in 1..=1000 {
            let mut r = Record::delivery(i, body(i).as_bytes());
            let header = if i % 2 == 0 {
                format!("{i:064x}")
            } else {
                format!("v1={i}")
            };
            r.signature_header = Some(header.as_str().into());
            feed.push(r);
        }
        let packed = feed.iter().filter(|r| r.body.is_packed()).count();
        let large = (1..=2 * BLOCK as u64).filter(|i| i % 37 == 0).count();
        assert_eq!(
            packed,
            2 * BLOCK - large,
            "all but the newest BLOCK..2×BLOCK"
        );
        assert!(!feed.back().unwrap().body.is_packed());
        let check = |feed: &Feed| {
            for r in feed.iter() {
                assert_eq!(r.body, *body(r.seq).as_bytes(), "#{}", r.seq);
                assert_eq!(r.body.len(), body(r.seq).len());
            }
        };
        check(&feed);
        // Evicted part-way through a block: what is left still reads back.
        while feed.len() > 1000 - BLOCK - 100 {
            feed.pop_front();
        }
        check(&feed);
        let bytes = postcard::to_allocvec(&feed).unwrap();
        let back: Feed = postcard::from_bytes(&bytes).unwrap();
        assert!(
            back == feed,
            "a snapshot of it reads back the same, headers too"
        );
        check(&back);
        let packed = |f: &Feed| f.iter().filter(|r| r.body.is_packed()).count();
        assert_eq!(packed(&back), packed(&feed), "packed bodies stay packed");
        assert_eq!(back.unpacked, feed.unpacked);
        while feed.len() > 10 {
            feed.pop_front();
        }
        assert_eq!(feed.unpacked, 10);
    }

    #[test]
    fn large_bodies_are_packed_in_several_small_blocks() {
        let mut feed = Feed::default();
        let body = |i: u64| format!("{i:08}{}", "y".repeat(8 * 1024));
        for i in 1..=2 * BLOCK as u64 {
            feed.push(Record::delivery(i, body(i).as_bytes()));
        }
        assert_eq!(feed.iter().filter(|r| r.body.is_packed()).count(), BLOCK);
        for r in feed.iter() {
            assert_eq!(r.body, *body(r.seq).as_bytes());
        }
    }
}
