//! Past one box: journal records on a distributed engine (NATS JetStream today), behind
//! a small trait so another engine could be added without touching the rest.
//!
//! - Receivers (`serve --nats`) publish their own journal through an [`crate::outbox`],
//!   after the ack: the local journal stays the source of truth.
//! - Dashboards (`attach nats://…`) read the newest records, then follow, merging every
//!   receiver ([`crate::attach::merge`]).
//! - Requests (a reply, a history page, a forward replay) travel as requests that the
//!   services answer ([`crate::attach::answer`]); their outcomes come back as records like any other.
//! - One service evaluates alerts: the holder of a [`Bus::lease`].
//!
//! Subjects: `<prefix>.<receiver>.<kind>.<family>` for records (the stream takes
//! `<prefix>.*.*.*`), and three-token subjects (never stored) for requests and
//! heartbeats. The prefix is the stream's name in lower case (`pilotwatch`).

pub mod nats;
mod target;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

pub use target::{BusTarget, valid_token};

use crate::model::identity::Identity;
use crate::record::{Record, RecordKind};
use crate::store::tally::EventFamily;

/// How long a lease lasts without renewal: one lease store, one lifetime for all.
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(15);

/// Something the engine said no to, or could not be reached for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusError(pub String);

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BusError {}

/// One journal record on its way out. On the wire it is the journal line alone: the
/// receiver is in its subject, its seq the line's first field, and the only header is
/// the engine's deduplication id (headers cost the server per message).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub subject: String,
    /// The engine's deduplication key (JetStream's `Nats-Msg-Id`).
    pub msg_id: String,
    pub seq: u64,
    /// The journal line, unchanged (checksum included).
    pub line: Bytes,
}

/// What the engine answered a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Its position in the stream.
    pub position: u64,
    /// Already there (the same delivery from another receiver, or a retry).
    pub duplicate: bool,
}

/// One record read from the stream.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Its position in the stream: rises, one per stored record.
    pub position: u64,
    pub receiver: String,
    /// Its seq in that receiver's journal.
    pub seq: u64,
    pub line: Bytes,
}

/// A service's outbox, as a header shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NatsStatus {
    pub receiver: String,
    pub connected: bool,
    /// Records journaled and not yet in the stream.
    pub backlog: u64,
    pub problem: Option<String>,
}

/// Where [`Bus::follow`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The newest `n` records (then live).
    Newest(u64),
    /// Everything after this position.
    After(u64),
}

/// A request a service answers, and how to answer it.
pub struct Asked {
    pub payload: Bytes,
    pub respond: Option<Box<dyn FnOnce(Bytes) -> BoxFuture<()> + Send>>,
}

impl std::fmt::Debug for Asked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asked")
            .field("payload", &self.payload.len())
            .finish()
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// The engine: publish, read from, follow, request (and answer, and lease).
pub trait Bus: Send + Sync + 'static {
    /// Publish records in order (several in flight on one connection). Returns the
    /// answers for the records confirmed, in order; an error stops at the first
    /// unconfirmed. After an error, later records of the batch may be stored ahead of
    /// it: [`Bus::held_after`] and [`Bus::remove`] let the publisher put that right.
    fn publish(
        &self,
        records: Vec<Outgoing>,
    ) -> impl Future<Output = (Vec<Published>, Option<BusError>)> + Send;

    /// The seq of the newest record of `receiver` the engine holds (0: none).
    fn last_of(&self, receiver: &str) -> impl Future<Output = Result<u64, BusError>> + Send;

    /// `receiver`'s records after `position`, as (seq, position), in stream order.
    fn held_after(
        &self,
        receiver: &str,
        position: u64,
    ) -> impl Future<Output = Result<Vec<(u64, u64)>, BusError>> + Send;

    /// Take the record at `position` out of the stream.
    fn remove(&self, position: u64) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Records from `start`, then live, in the stream's order. The stream ends (or
    /// yields an error) when the engine is lost; follow again from the last position.
    fn follow(
        &self,
        start: Start,
    ) -> impl Future<Output = Result<BoxStream<Result<Incoming, BusError>>, BusError>> + Send;

    /// Ask whichever service answers `topic`; its answer.
    fn request(
        &self,
        topic: &str,
        payload: Bytes,
    ) -> impl Future<Output = Result<Bytes, BusError>> + Send;

    /// Answer requests on `topic`: with a `group`, each goes to one member only.
    fn answer(
        &self,
        topic: &str,
        group: Option<&str>,
    ) -> impl Future<Output = Result<BoxStream<Asked>, BusError>> + Send;

    /// Announce something nobody needs to keep (a heartbeat).
    fn announce(
        &self,
        topic: &str,
        payload: Bytes,
    ) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Hold (or renew) the lease `name` as `holder` for `ttl`: true while it is ours.
    fn lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<bool, BusError>> + Send;

    /// Give the lease `name` up, if `holder` has it.
    fn release(
        &self,
        name: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), BusError>> + Send;
}

/// The subject a record of `receiver` is published on.
pub fn subject(prefix: &str, receiver: &str, record: &Record) -> String {
    let event = record.event.as_ref().map(|e| e.as_str());
    subject_of(prefix, receiver, record.kind.as_str(), event)
}

/// [`subject`] from a record's kind and event: a delivery's event family; for
/// pilotwatch's own records, the first word of their event (`sent`, `firing`), if it is
/// a plain word.
pub fn subject_of(prefix: &str, receiver: &str, kind: &str, event: Option<&str>) -> String {
    let family = if kind == RecordKind::Delivery.as_str() {
        EventFamily::of(event).as_str()
    } else {
        match event.map(|e| e.split('.').next().unwrap_or(e)) {
            Some(w) if !w.is_empty() && w.len() <= 32 && valid_token(w) => w,
            _ => "other",
        }
    };
    let kind = if valid_token(kind) { kind } else { "other" };
    format!("{prefix}.{receiver}.{kind}.{family}")
}

/// The deduplication key: a delivery by its identity (the event and its family's own
/// key, as the store dedupes), so the provider's retry that reached two receivers is
/// kept once; anything else by where it was journaled.
pub fn msg_id(receiver: &str, seq: u64, identity: Option<Identity>) -> String {
    match identity {
        Some(Identity(id)) => format!("d-{id:032x}"),
        None => format!("r-{receiver}-{seq}"),
    }
}
