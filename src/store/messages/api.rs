//! What the provider's API said of an outbound message that looked stuck, merged into
//! its row: each step the API knows and no webhook brought is filled in, marked as from
//! the API, and makes the row "webhook missing" until (if ever) the webhook comes.

use super::row::ApiMark;
use super::{Messages, Ordinal};
use crate::model::provider::ApiMessage;
use crate::store::messages::Step;

impl Messages {
    /// Rows in memory whose API lookup found a step no webhook brought.
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Merge an API answer into the row of that outbound id; its ordinal, if the row is
    /// still in memory.
    pub(crate) fn apply_api(&mut self, m: &ApiMessage, seq: u64) -> Option<Ordinal> {
        let ord = self.find_key(None, &m.id)?;
        let row = self.get_mut(ord)?;
        let before = row.status();
        let was_missing = row.webhook_missing().is_some();
        let status = m.status.to_ascii_uppercase();
        let reached = |s: &[&str]| s.contains(&status.as_str());
        let known = [
            m.sent_at.is_some() || reached(&["SENT", "DELIVERED", "READ"]),
            m.delivered_at.is_some() || reached(&["DELIVERED", "READ"]),
            m.read_at.is_some() || reached(&["READ"]),
            m.error_code.is_some() || reached(&["FAILED"]),
        ];
        let times = [m.sent_at, m.delivered_at, m.read_at, None];
        let mark = row.api.get_or_insert_with(|| {
            Box::new(ApiMark {
                status: status.as_str().into(),
                seq,
                from_api: [false; 4],
            })
        });
        mark.status = status.as_str().into();
        mark.seq = seq;
        let l = &mut row.lifecycle;
        let slots = [&mut l.sent, &mut l.delivered, &mut l.read, &mut l.failed];
        for (i, slot) in slots.into_iter().enumerate() {
            if known[i] && slot.is_none() {
                *slot = Some(Step { at: times[i], seq });
                mark.from_api[i] = true;
            }
        }
        if known[3] && row.error.is_none() {
            let error = m
                .error_message
                .as_deref()
                .unwrap_or("failed (said the API)");
            row.error = Some(Box::new((
                crate::sanitize::line(error, 200).into(),
                m.error_code
                    .as_deref()
                    .map(|c| crate::sanitize::line(c, 64).into()),
            )));
        }
        let after = row.status();
        let missing = row.webhook_missing().is_some();
        if before != after {
            let number: Box<str> = row.number_id().into();
            self.by_status.change(&number, before, after);
        }
        if missing && !was_missing {
            self.missing += 1;
        }
        self.track(ord);
        Some(ord)
    }
}
