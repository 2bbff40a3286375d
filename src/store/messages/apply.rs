//! Applying what a record brings: a webhook's message event, or a reply this pilotwatch
//! sent and the API accepted. Each either merges into the row it belongs to or makes a
//! new one, keeping the indexes in step.

use std::hash::BuildHasher;

use super::row::{Direction, Lifecycle, MessageRow};
use super::strings::{FIELDS, Field, Strings};
use super::{MessageChange, Messages, Ordinal, key_kind};
use crate::model::event::{Message, MessageKind};

impl Messages {
    /// A reply this pilotwatch sent was accepted (202): its row, keyed by the returned id,
    /// so the provider's later webhooks for that id move it along. Created here, or
    /// merged into a row a fast webhook already made.
    pub(crate) fn apply_accepted(
        &mut self,
        accepted: &crate::model::send::Accepted,
        request: &crate::model::send::SendRequest,
        seq: u64,
        at: chrono::DateTime<chrono::Utc>,
        capacity: usize,
    ) -> (Ordinal, bool) {
        let text = request.body.text.as_str();
        let status = accepted.status.as_deref();
        if let Some(ord) = self.find_key(None, &accepted.id)
            && let Some(row) = self.get_mut(ord)
        {
            let before = row.status();
            row.strings.set(Field::ApiStatus, status);
            let mut content = [None; FIELDS];
            content[Field::Content as usize] = Some(text);
            row.strings.fill(content);
            row.seqs.push(seq);
            // Rarely a change (a fast webhook made the row): a copy of the number then.
            let after = row.status();
            if before != after {
                let number: Box<str> = row.number_id().into();
                self.by_status.change(&number, before, after);
            }
            return (ord, false);
        }
        let to = request
            .body
            .destination_number
            .as_deref()
            .or(request.body.group_id.as_deref())
            .unwrap_or("?");
        let mut strings = [None; FIELDS];
        strings[Field::Id as usize] = Some(accepted.id.as_str());
        strings[Field::NumberId as usize] = Some(request.number_id.as_deref().unwrap_or("?"));
        strings[Field::To as usize] = Some(to);
        strings[Field::CorrelationId as usize] = accepted.correlation_id.as_deref();
        strings[Field::Content as usize] = Some(text);
        strings[Field::ApiStatus as usize] = status;
        let row = MessageRow {
            strings: Strings::new(strings),
            direction: Direction::Out,
            kind: MessageKind::Sent,
            msg_type: Some(crate::model::event::MessageType::Text),
            media: None,
            extra: None,
            created_at: Some(at),
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: smallvec::smallvec![seq],
            api: None,
        };
        let ord = self.front + self.rows.len() as u64;
        self.by_status.add(row.number_id(), row.status());
        if let Some(c) = row.correlation_id() {
            self.by_correlation.insert(self.id_hash(c), ord);
        }
        self.by_key.insert(self.key_hash(None, &accepted.id), ord);
        self.rows.push_back(row);
        while self.rows.len() > capacity {
            self.evict_front();
        }
        (ord, true)
    }

    pub(crate) fn apply(&mut self, m: &Message, seq: u64, capacity: usize) -> MessageChange {
        let kind = key_kind(m.kind);
        // The row is borrowed from `rows` alone, so the hasher stays readable.
        if let Some(ord) = self.find_key(kind, &m.id)
            && let Some(row) = self.rows.get_mut((ord - self.front) as usize)
        {
            let steps =
                |l: &super::Lifecycle| [l.sent.is_some(), l.delivered.is_some(), l.read.is_some()];
            let had_steps = steps(&row.lifecycle);
            let before = row.status();
            let (mid_hash, corr_hash, first_failure) = {
                let had = (
                    row.lifecycle.failed.is_some(),
                    row.message_id().is_some(),
                    row.correlation_id().is_some(),
                );
                let was_missing = row.webhook_missing().is_some();
                row.merge(m, seq);
                self.by_status.change(row.number_id(), before, row.status());
                if was_missing && row.webhook_missing().is_none() {
                    self.missing -= 1;
                }
                let first_failure = !had.0 && row.lifecycle.failed.is_some();
                // Ids first learned from a later event (whatever the arrival order) are
                // indexed now, so replies still find this message.
                let mid = (!had.1).then(|| row.message_id()).flatten();
                let corr = (!had.2 && row.direction == Direction::Out)
                    .then(|| row.correlation_id())
                    .flatten();
                (
                    mid.map(|m| self.hasher.hash_one(m)),
                    corr.map(|c| self.hasher.hash_one(c)),
                    first_failure,
                )
            };
            if let Some(h) = mid_hash {
                self.by_message_id.insert(h, ord);
            }
            if let Some(h) = corr_hash {
                self.by_correlation.insert(h, ord);
            }
            return MessageChange {
                ord,
                new: None,
                first_failure,
                had: had_steps,
            };
        }
        let row = MessageRow::new(m, seq);
        let ord = self.front + self.rows.len() as u64;
        self.by_status.add(row.number_id(), row.status());
        if let Some(mid) = row.message_id() {
            self.by_message_id.insert(self.id_hash(mid), ord);
        }
        if row.direction == Direction::Out
            && let Some(c) = row.correlation_id()
        {
            self.by_correlation.insert(self.id_hash(c), ord);
        }
        if let Some(q) = row.quoted_message_id() {
            self.replies.entry(self.id_hash(q)).or_default().push(ord);
        }
        let change = MessageChange {
            ord,
            new: Some(row.direction),
            first_failure: row.lifecycle.failed.is_some(),
            had: [false; 3],
        };
        self.by_key.insert(self.key_hash(kind, &m.id), ord);
        self.rows.push_back(row);
        while self.rows.len() > capacity {
            self.evict_front();
        }
        change
    }
}
