//! What a service does when a dashboard asks (over its socket, or over NATS): send a
//! reply, forward a delivery again, read a history page. The outcomes are journaled by
//! whoever does the work, so they come back to every dashboard as records.

use crate::forward::Forwarder;
use crate::ingest::Ingest;
use crate::record::Record;
use crate::reply::Replier;

use super::protocol::Request;

/// A reply is sent at most this many times under one key.
pub const MAX_ATTEMPT: u32 = 1000;

/// The service's parts that act on requests.
#[derive(Debug)]
pub struct Doers<'a> {
    pub replier: &'a std::sync::Arc<Replier>,
    pub forwarder: Option<&'a std::sync::Arc<Forwarder>>,
    pub history: Option<&'a crate::reconcile::HistoryRequests>,
    pub ingest: &'a Ingest,
}

impl Doers<'_> {
    /// Act on `request`; what to tell the asker when it cannot be done. `record` finds
    /// a delivery to forward again by its seq in this service's journal.
    pub fn handle(
        &self,
        request: Request,
        record: impl FnOnce(u64) -> Option<std::sync::Arc<Record>>,
    ) -> Option<String> {
        match request {
            Request::Send {
                request,
                in_reply_to,
                attempt,
            } => {
                let attempt = attempt.clamp(1, MAX_ATTEMPT);
                let on_record = self
                    .ingest
                    .store()
                    .read()
                    .replies()
                    .get(&request.idempotency_key)
                    .is_some_and(|r| r.attempts >= attempt);
                if on_record {
                    // Asked twice (a client unsure whether its first request arrived).
                    return Some("that reply was already sent (same key and attempt)".into());
                }
                tracing::info!(key = %request.idempotency_key, attempt, "reply asked for by a dashboard");
                self.replier.send(request, in_reply_to, attempt);
                None
            }
            Request::Replay { seq } => match (self.forwarder, record(seq)) {
                (Some(f), Some(r)) => {
                    f.replay(r);
                    None
                }
                (None, _) => Some("the service forwards nowhere (no --forward-to)".into()),
                (_, None) => Some(format!("#{seq} is no longer in the service's memory")),
            },
            Request::History { page } => match self.history {
                Some(h) => {
                    h.page(page);
                    None
                }
                None => Some("the service reads no history (no API key, or --no-reconcile)".into()),
            },
        }
    }
}
