//! A status-line message about something on its way (a reply being sent, a delivery
//! being replayed), replaced by its outcome once the store has it, so "sending…" never
//! outlives the row that already shows how it went.

use crate::model::outbound::ReplyPhase;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// A reply, by its idempotency key, at this attempt.
    Reply { key: String, attempt: u32 },
    /// A replay of this delivery to the app; `seen` results were on record before it.
    Replay { seq: u64, seen: usize },
}

impl Pending {
    /// The outcome to show, once there is one.
    pub fn settled(&self, store: &Store) -> Option<String> {
        match self {
            Self::Reply { key, attempt } => {
                let r = store.replies().get(key)?;
                if r.attempts < *attempt {
                    return None;
                }
                match r.phase {
                    ReplyPhase::Sending => None,
                    ReplyPhase::Accepted => Some("reply accepted by the API ✓".into()),
                    ReplyPhase::Failed if outside_window(r) => Some(
                        "reply refused: the 24-hour window is closed (META_OUTSIDE_24H_WINDOW): \
                         WhatsApp takes only templates until the contact writes again"
                            .into(),
                    ),
                    ReplyPhase::Failed => Some(format!(
                        "reply failed: {} (R retries)",
                        r.error
                            .as_ref()
                            .map_or_else(|| "no answer".into(), |e| e.short())
                    )),
                }
            }
            Self::Replay { seq, seen } => {
                let results = store.forwards().of(*seq);
                let last = results.get(*seen..)?.last()?;
                Some(match (last.status, &last.error) {
                    (Some(s), _) if last.ok() => {
                        format!("replayed #{seq}: {s} in {} ms", last.latency_ms)
                    }
                    (Some(s), _) => format!("replay of #{seq}: the app answered {s}"),
                    (None, e) => format!(
                        "replay of #{seq} failed: {}",
                        e.as_deref().unwrap_or("no answer")
                    ),
                })
            }
        }
    }
}

/// The API refused the reply for being outside WhatsApp's 24-hour window.
fn outside_window(r: &crate::store::ReplyState) -> bool {
    use crate::store::conversations::window::outside_window as code;
    match &r.error {
        Some(crate::api::ApiError::Status {
            code: Some(c),
            error,
            ..
        }) => code(c) || error.as_deref().is_some_and(code),
        _ => false,
    }
}
