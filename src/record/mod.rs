//! One delivery as it is journaled, stored and shown: the single hand-off type between
//! the receiver, the journal, the store and the views. Its `seq` is assigned by the
//! ingest sequencer, so every consumer (and, later, an attached client) can say
//! "everything after N".

mod body;
mod signature_header;

pub use body::{Blocks, Body};
pub use signature_header::SignatureHeader;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::model::{Event, EventName, Verdict};

/// What the signature check said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureCheck {
    Valid,
    Invalid,
    Missing,
    /// No webhook secret is configured: every delivery is accepted unverified.
    Unchecked,
}

impl SignatureCheck {
    pub const ALL: [SignatureCheck; 4] =
        [Self::Valid, Self::Invalid, Self::Missing, Self::Unchecked];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Missing => "missing",
            Self::Unchecked => "unchecked",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a journal record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum RecordKind {
    /// A webhook delivery the receiver took in (or refused).
    #[default]
    Delivery,
    /// A reply this pilotwatch sent through the REST API (its attempt and outcome);
    /// `body` holds a [`crate::model::outbound::Outbound`] as JSON, never the API key.
    Outbound,
    /// What the user's app answered to a forwarded delivery (or how many were never
    /// sent): `body` holds a [`crate::model::forward::Forward`] as JSON, never the URL.
    Forward,
    /// An alert's transition or notification outcome, by the service's evaluator:
    /// `body` holds a [`crate::model::alert::AlertRecord`] as JSON.
    Alert,
    /// What the provider's REST API answered the reconciler: `body` holds a
    /// [`crate::model::provider::ApiRecord`] as JSON, never the key.
    Api,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivery => "delivery",
            Self::Outbound => "outbound",
            Self::Forward => "forward",
            Self::Alert => "alert",
            Self::Api => "api",
        }
    }
}

/// The row a delivery changed in the store, so a view can refresh just that row.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Subject {
    #[default]
    None,
    /// A message row, by its ordinal in the message table.
    Message(u64),
    /// A number's state (the numbers table is small: views rebuild it).
    Number,
    /// A call row, by its ordinal.
    Call(u64),
    /// A call permission update.
    Permission,
    /// A reply sent from here: the message it answers, and (once accepted) its own row
    /// (boxed: every record holds a `Subject`, few hold this one).
    Reply(Box<ReplyRows>),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplyRows {
    pub answered: Option<u64>,
    pub sent: Option<u64>,
}

impl Subject {
    pub fn reply(answered: Option<u64>, sent: Option<u64>) -> Self {
        Self::Reply(Box::new(ReplyRows { answered, sent }))
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub seq: u64,
    pub kind: RecordKind,
    #[serde(with = "crate::serial::time")]
    pub received_at: DateTime<Utc>,
    /// The request path it was POSTed to ([`intern`]ed: it is nearly always the same).
    #[serde(with = "crate::serial::interned")]
    pub path: Arc<str>,
    pub remote: Option<SocketAddr>,
    pub signature: SignatureCheck,
    pub verdict: Verdict,
    pub event: Option<EventName>,
    /// The seq of the first delivery of the same event, when this is a retry.
    pub duplicate_of: Option<u64>,
    /// What was wrong with it (most records: nothing, so one pointer, not three words).
    pub problems: thin_vec::ThinVec<String>,
    /// The body as received (for rejected deliveries, its first few KiB).
    pub body: Body,
    /// The full body length; larger than `body.len()` when it was truncated.
    pub body_len: u64,
    /// The request's `content-type` and `x-pilot-status-signature`, as sent: forwarding
    /// and replays pass them on byte for byte (a signature is not a secret).
    #[serde(with = "crate::serial::interned_opt")]
    pub content_type: Option<Arc<str>>,
    pub signature_header: Option<SignatureHeader>,
    /// The typed event of a `known` delivery, on its way to the store. The store takes
    /// it for correlation and keeps only the merged rows, so records in the feed (and
    /// what subscribers see) hold `None`. Not journaled: re-derived from `body` on replay.
    #[serde(skip)]
    pub typed: Option<Event>,
    /// Set by the store when it applies the record; for a retry, the first's row.
    pub subject: Subject,
}

/// The same few strings (a path, a content type) arrive with nearly every delivery:
/// each thread keeps the last few it saw, so a million records share them instead of
/// holding a copy each. Bounded, so a sender varying them costs copies, not a leak.
pub fn intern(s: &str) -> Arc<str> {
    const KEEP: usize = 8;
    thread_local! {
        static RECENT: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
    }
    RECENT.with_borrow_mut(|recent| {
        if let Some(i) = recent.iter().position(|r| &**r == s) {
            let hit = recent[i].clone();
            recent[..=i].rotate_right(1);
            return hit;
        }
        let new: Arc<str> = s.into();
        if recent.len() == KEEP {
            recent.pop();
        }
        recent.insert(0, new.clone());
        new
    })
}

impl Record {
    /// A delivery of `body` POSTed to `/`, unsigned, parsed as the receiver would: for
    /// tests and benchmarks that feed a store directly.
    pub fn delivery(seq: u64, body: &[u8]) -> Self {
        let (verdict, event, problems, typed) = match crate::model::parse(body) {
            Ok(p) => (p.verdict, p.name, p.problems, p.event),
            Err(e) => (Verdict::Rejected, None, vec![e.0], None),
        };
        Record {
            seq,
            kind: RecordKind::Delivery,
            received_at: Utc::now(),
            path: intern("/"),
            remote: None,
            signature: SignatureCheck::Unchecked,
            verdict,
            event,
            duplicate_of: None,
            problems: problems.into(),
            body_len: body.len() as u64,
            content_type: None,
            signature_header: None,
            body: Bytes::copy_from_slice(body).into(),
            typed,
            subject: Subject::None,
        }
    }

    /// A forward outcome on its way to the journal (the sequencer gives it its seq):
    /// nothing in it comes from the app but what `f` holds, sanitised.
    pub fn forward(f: &crate::model::forward::Forward) -> Self {
        Self::local(RecordKind::Forward, "forward", f.event(), f)
    }

    /// An answer of the provider's API, on its way to the journal.
    pub fn api(a: &crate::model::provider::ApiRecord) -> Self {
        Self::local(RecordKind::Api, "api", a.event(), a)
    }

    /// An alert's transition or notification outcome, on its way to the journal.
    pub fn alert(a: &crate::model::alert::AlertRecord) -> Self {
        Self::local(RecordKind::Alert, "alert", a.event(), a)
    }

    /// A record this pilotwatch makes itself (a reply's attempt, a forward's outcome):
    /// `what` as its JSON body, never a delivery, its seq given by the sequencer.
    pub fn local(kind: RecordKind, path: &str, event: &str, what: &impl serde::Serialize) -> Self {
        let body = Bytes::from(serde_json::to_vec(what).expect("serialisable"));
        Record {
            seq: 0,
            kind,
            received_at: Utc::now(),
            path: intern(path),
            remote: None,
            signature: SignatureCheck::Unchecked,
            verdict: Verdict::Known,
            event: Some(EventName::new(event)),
            duplicate_of: None,
            problems: Default::default(),
            body_len: body.len() as u64,
            content_type: None,
            signature_header: None,
            body: body.into(),
            typed: None,
            subject: Subject::None,
        }
    }

    pub fn is_truncated(&self) -> bool {
        self.body_len > self.body.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_strings_are_shared_and_the_cache_stays_bounded() {
        let a = intern("/hooks");
        assert!(Arc::ptr_eq(&a, &intern("/hooks")));
        for i in 0..100 {
            assert_eq!(&*intern(&format!("/p{i}")), format!("/p{i}"));
        }
        // Pushed out of the eight kept: a fresh copy, still equal.
        let b = intern("/hooks");
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&b, &intern("/hooks")));
    }
}
