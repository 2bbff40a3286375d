//! The dedupe identity of a delivery.
//!
//! A retry brings the same event again, but `data.id` alone is no identity: it is the
//! same on `message.sent`, `.delivered`, `.read` and `.failed` of one message. The key is
//! the event name plus the family's own identity (PROTOCOL.md); payloads without one
//! (unknown, broken) are identified by their exact bytes.

use xxhash_rust::xxh3::Xxh3;

/// 128 bits of XXH3: a collision among a million keys is ~1e-27 likely, so keeping the
/// hash instead of the key costs nothing in correctness and saves ~50 bytes an event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
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

#[cfg(test)]
mod tests {
    use crate::model::parse;

    fn id(body: &str) -> super::Identity {
        parse(body.as_bytes()).expect("JSON").identity
    }

    fn msg(event: &str, id: &str, content: &str) -> String {
        format!(
            r#"{{"event":"{event}","data":{{"to":"+1","numberId":"n","messageId":"w","id":"{id}","fromMe":true,"content":"{content}","createdAt":"t"}}}}"#
        )
    }

    #[test]
    fn message_identity_is_event_plus_data_id() {
        // The same data.id on each status: distinct events, not duplicates.
        let ids: Vec<_> = ["message.sent", "message.delivered", "message.read"]
            .iter()
            .map(|e| id(&msg(e, "m1", "x")))
            .collect();
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
        // A retry (even re-serialised with other content) is the same event.
        assert_eq!(
            id(&msg("message.sent", "m1", "x")),
            id(&msg("message.sent", "m1", "y"))
        );
        assert_ne!(
            id(&msg("message.sent", "m1", "x")),
            id(&msg("message.sent", "m2", "x"))
        );
    }

    #[test]
    fn number_identity_includes_created_at() {
        let n = |at: &str| {
            format!(
                r#"{{"event":"number.connected","data":{{"numberId":"n","phone":"+1","displayName":"d","createdAt":"{at}"}}}}"#
            )
        };
        assert_eq!(
            id(&n("2026-01-01T00:00:00Z")),
            id(&n("2026-01-01T00:00:00Z"))
        );
        // A number reconnecting later is a new event.
        assert_ne!(
            id(&n("2026-01-01T00:00:00Z")),
            id(&n("2026-01-02T00:00:00Z"))
        );
    }

    #[test]
    fn call_identity_includes_status_and_timestamp() {
        let c = |status: &str, ts: &str| {
            format!(
                r#"{{"event":"call.ended","callId":"c","direction":"INBOUND","status":"{status}","from":"1","to":"2","timestamp":"{ts}"}}"#
            )
        };
        assert_eq!(id(&c("COMPLETED", "t1")), id(&c("COMPLETED", "t1")));
        assert_ne!(id(&c("COMPLETED", "t1")), id(&c("FAILED", "t1")));
        assert_ne!(id(&c("COMPLETED", "t1")), id(&c("COMPLETED", "t2")));
    }

    #[test]
    fn payloads_without_an_identity_are_identified_by_their_bytes() {
        let a = r#"{"event":"conversation.assigned","data":{"id":"1"}}"#;
        assert_eq!(id(a), id(a));
        assert_ne!(
            id(a),
            id(r#"{"event":"conversation.assigned","data":{"id":"2"}}"#)
        );
        assert_ne!(id(r#"{"data":1}"#), id(r#"{"data":2}"#));
    }
}
