//! The reply ledger: what was written here and what became of it, until the store has
//! the outcome on record.
//!
//! - At most one draft per conversation (number + contact or group), kept when the
//!   composer closes and offered again by the next `r` there.
//! - A reply handed over to be sent is in flight, by idempotency key and attempt, until
//!   an outcome of that attempt (or a later one) is on record: a second `R` meanwhile
//!   waits instead of sending again.
//! - Its text is kept, by key, until the store has the reply at all. A send that never
//!   reached the service (not attached, the client gone) becomes the conversation's
//!   draft again, and the key goes with it: the draft goes out again with that key, so
//!   had the first attempt reached the provider after all, it cannot be sent twice.

use std::collections::HashMap;

use crate::model::outbound::ReplyPhase;
use crate::store::Store;

#[derive(Debug, Default)]
pub struct Drafts {
    /// Unsent replies, by conversation.
    texts: HashMap<String, String>,
    /// A lost send's key, by conversation: its draft goes out again with it.
    keys: HashMap<String, String>,
    /// Idempotency keys of replies asked for but not yet answered, with the attempt
    /// asked for (an older outcome on record does not count).
    in_flight: HashMap<String, u32>,
    /// Replies handed over but not yet on record, by key: their conversation and text.
    unsent: HashMap<String, (String, String)>,
}

impl Drafts {
    /// The draft kept for this conversation.
    pub fn draft(&self, conversation: &str) -> Option<&str> {
        self.texts.get(conversation).map(String::as_str)
    }

    /// The key this conversation's draft goes out with: a lost send's, if it had one.
    pub fn key(&self, conversation: &str) -> Option<&str> {
        self.keys.get(conversation).map(String::as_str)
    }

    /// The composer closed on `text`: kept as the conversation's draft, or the draft
    /// dropped when it is blank. Whether it was kept.
    pub fn keep(&mut self, conversation: &str, text: String) -> bool {
        if text.trim().is_empty() {
            self.texts.remove(conversation);
            false
        } else {
            self.texts.insert(conversation.to_owned(), text);
            true
        }
    }

    /// A draft handed over to be sent with `key` (its first attempt): no longer a
    /// draft, in flight, and its text kept until the reply is on record.
    pub fn send(&mut self, conversation: String, text: String, key: &str) {
        self.texts.remove(&conversation);
        self.keys.remove(&conversation);
        self.in_flight.insert(key.to_owned(), 1);
        self.unsent.insert(key.to_owned(), (conversation, text));
    }

    /// A reply on record sent again with its key (`R`), at this attempt.
    pub fn resend(&mut self, key: String, attempt: u32) {
        self.in_flight.insert(key, attempt);
    }

    /// Whether a reply with this key was asked for and has no answer yet.
    pub fn in_flight(&self, key: &str) -> bool {
        self.in_flight.contains_key(key)
    }

    /// Forget what the store now has on record: a reply is no longer in flight once
    /// the outcome of its attempt is there, nor unsent once the reply is.
    pub fn settle(&mut self, store: &Store) {
        self.in_flight.retain(|k, attempt| {
            store
                .replies()
                .get(k)
                .is_none_or(|r| r.attempts < *attempt || r.phase == ReplyPhase::Sending)
        });
        self.unsent.retain(|k, _| store.replies().get(k).is_none());
    }

    /// A send that never reached the service: no longer in flight; if its text was
    /// composed here, it is its conversation's draft again, with the key. Whether it
    /// was (else it can only be sent again from its record, with `R`).
    pub fn lost(&mut self, key: &str) -> bool {
        self.in_flight.remove(key);
        match self.unsent.remove(key) {
            Some((conversation, text)) => {
                self.keys.insert(conversation.clone(), key.to_owned());
                self.texts.insert(conversation, text);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_send_is_the_draft_again_with_its_key_and_a_blank_one_is_dropped() {
        let mut d = Drafts::default();
        assert!(d.keep("n1/+55", "half written".into()));
        assert_eq!(d.draft("n1/+55"), Some("half written"));
        d.send("n1/+55".into(), "half written".into(), "pw-1");
        assert_eq!((d.draft("n1/+55"), d.in_flight("pw-1")), (None, true));
        assert!(d.lost("pw-1"));
        assert!(!d.in_flight("pw-1"));
        assert_eq!(d.draft("n1/+55"), Some("half written"));
        assert_eq!(d.key("n1/+55"), Some("pw-1"));
        // Sent again: the key is used up; a retry of a recorded reply has no text here.
        d.send("n1/+55".into(), "half written".into(), "pw-1");
        assert_eq!(d.key("n1/+55"), None);
        d.resend("pw-2".into(), 2);
        assert!(!d.lost("pw-2"));
        assert!(!d.keep("n1/+55", " \n".into()));
        assert_eq!(d.draft("n1/+55"), None);
    }
}
