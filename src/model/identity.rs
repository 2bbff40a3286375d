//! The dedupe identity of a delivery.
//!
//! A retry brings the same event again, but `data.id` alone is no identity: it is the
//! same on `message.sent`, `.delivered`, `.read` and `.failed` of one message. The key is
//! the event name plus the family's own identity (PROTOCOL.md); payloads without one
//! (unknown, broken) are identified by their exact bytes.

use xxhash_rust::xxh3::Xxh3;

/// 128 bits of XXH3: a collision among a million keys is ~1e-27 likely, so keeping the
/// hash instead of the key costs nothing in correctness and saves ~50 bytes an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity(pub u128);

impl Identity {
    pub fn keyed(event: &str) -> IdentityBuilder {
        let mut h = Xxh3::new();
        h.update(b"e");
        h.update(&(event.len() as u64).to_le_bytes());
        h.update(event.as_bytes());
        IdentityBuilder(h)
    }

    pub fn of_bytes(raw: &[u8]) -> Identity {
        // Domain-separated from the keyed identities by the prefix byte.
        let mut h = Xxh3::new();
        h.update(b"b");
        h.update(raw);
        Identity(h.digest128())
    }
}

#[derive(Clone)]
pub struct IdentityBuilder(Xxh3);

impl std::fmt::Debug for IdentityBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityBuilder")
    }
}

impl IdentityBuilder {
    /// Add one field; a missing field and an empty string are kept distinct.
    pub fn part(mut self, field: Option<&str>) -> Self {
        match field {
            None => self.0.update(b"n"),
            Some(s) => {
                self.0.update(b"s");
                self.0.update(&(s.len() as u64).to_le_bytes());
                self.0.update(s.as_bytes());
            }
        }
        self
    }

    pub fn finish(self) -> Identity {
        Identity(self.0.digest128())
    }
}
