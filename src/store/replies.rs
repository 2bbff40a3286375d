//! Replies sent from pilotwatch, by idempotency key: whether each is in flight, accepted
//! (and as which message id) or failed (and why), and which inbound message it answers.

use std::collections::VecDeque;

use crate::store::HashMap;

use chrono::{DateTime, Utc};

use crate::model::outbound::{InReplyTo, Outbound, ReplyPhase};
use crate::model::send::{Accepted, ApiError, SendRequest};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplyState {
    pub request: SendRequest,
    #[serde(with = "crate::serial::as_json")]
    pub in_reply_to: Option<InReplyTo>,
    pub phase: ReplyPhase,
    pub attempts: u32,
    #[serde(with = "crate::serial::as_json")]
    pub accepted: Option<Accepted>,
    #[serde(with = "crate::serial::as_json")]
    pub error: Option<ApiError>,
    pub at: DateTime<Utc>,
    pub seqs: Vec<u64>,
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Replies {
    by_key: HashMap<String, ReplyState>,
    order: VecDeque<String>,
    /// Keys of the replies to an inbound message (event, id), oldest first.
    by_message: HashMap<(String, String), Vec<String>>,
    /// Keys by the message id the API gave them (the 202 `id`).
    by_accepted: HashMap<String, String>,
}

impl Replies {
    pub fn get(&self, key: &str) -> Option<&ReplyState> {
        self.by_key.get(key)
    }

    /// Replies sent to this inbound message, oldest first.
    pub fn to_message(&self, event: &str, id: &str) -> impl Iterator<Item = &ReplyState> {
        self.by_message
            .get(&(event.to_owned(), id.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|k| self.by_key.get(k))
    }

    /// The reply the API accepted under this message id.
    pub fn by_accepted_id(&self, id: &str) -> Option<&ReplyState> {
        self.by_accepted.get(id).and_then(|k| self.by_key.get(k))
    }

    /// The newest reply to this inbound message.
    pub fn latest_to(&self, event: &str, id: &str) -> Option<&ReplyState> {
        self.to_message(event, id).last()
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub(crate) fn apply(&mut self, o: &Outbound, seq: u64, at: DateTime<Utc>, capacity: usize) {
        let key = o.request.idempotency_key.clone();
        let state = self
            .by_key
            .entry(key.clone())
            .or_insert_with(|| ReplyState {
                request: o.request.clone(),
                in_reply_to: o.in_reply_to.clone(),
                phase: o.phase,
                attempts: 0,
                accepted: None,
                error: None,
                at,
                seqs: Vec::new(),
            });
        state.seqs.push(seq);
        state.attempts = state.attempts.max(o.attempt);
        // An accepted send stays accepted: a late `failed` of an earlier attempt (or a
        // replayed `sending`) cannot undo it.
        if state.phase != ReplyPhase::Accepted {
            state.phase = o.phase;
            state.at = at;
        }
        match o.phase {
            ReplyPhase::Accepted => {
                state.accepted.clone_from(&o.accepted);
                state.error = None;
                if let Some(a) = o.accepted.as_ref().filter(|a| !a.id.is_empty()) {
                    self.by_accepted.insert(a.id.clone(), key.clone());
                }
            }
            ReplyPhase::Failed if state.phase != ReplyPhase::Accepted => {
                state.error.clone_from(&o.error)
            }
            _ => {}
        }
        if state.seqs.len() == 1 {
            self.order.push_back(key.clone());
            if let Some(r) = &o.in_reply_to {
                self.by_message
                    .entry((r.event.clone(), r.id.clone()))
                    .or_default()
                    .push(key);
            }
            while self.order.len() > capacity {
                self.forget_oldest();
            }
        }
    }

    fn forget_oldest(&mut self) {
        let Some(key) = self.order.pop_front() else {
            return;
        };
        if let Some(id) = self
            .by_key
            .get(&key)
            .and_then(|s| s.accepted.as_ref())
            .map(|a| a.id.clone())
        {
            self.by_accepted.remove(&id);
        }
        if let Some(state) = self.by_key.remove(&key)
            && let Some(r) = state.in_reply_to
        {
            let k = (r.event, r.id);
            if let Some(list) = self.by_message.get_mut(&k) {
                list.retain(|x| *x != key);
                if list.is_empty() {
                    self.by_message.remove(&k);
                }
            }
        }
    }
}
