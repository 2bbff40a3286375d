//! Messages in memory by number and status, kept as rows are made, change status and
//! are evicted, so `/metrics` reads a few counts instead of walking 100 000 rows.

use crate::store::HashMap;

use super::Status;

/// Every status, in `Status as usize` order.
pub const STATUSES: [Status; 6] = [
    Status::Received,
    Status::Queued,
    Status::Sent,
    Status::Failed,
    Status::Delivered,
    Status::Read,
];

/// Numbers counted apart; rows of numbers past it count under [`OTHER`]. Accounts have
/// a handful: the cap only bounds a sender inventing `numberId`s (each one a label set).
pub const MAX_NUMBERS: usize = 1_000;
pub const OTHER: &str = "_other";

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ByStatus {
    /// Never shrinks: a number counted apart stays so, so a row is always taken out of
    /// the count it was added to.
    counts: HashMap<Box<str>, [u64; STATUSES.len()]>,
}

impl ByStatus {
    /// Each number (or [`OTHER`]) with its rows per status of [`STATUSES`].
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u64; STATUSES.len()])> {
        self.counts.iter().map(|(k, v)| (&**k, v))
    }

    pub(super) fn add(&mut self, number: &str, status: Status) {
        self.slot(number)[status as usize] += 1;
    }

    pub(super) fn remove(&mut self, number: &str, status: Status) {
        let n = &mut self.slot(number)[status as usize];
        *n = n.saturating_sub(1);
    }

    pub(super) fn change(&mut self, number: &str, from: Status, to: Status) {
        if from != to {
            self.remove(number, from);
            self.add(number, to);
        }
    }

    fn slot(&mut self, number: &str) -> &mut [u64; STATUSES.len()] {
        let key = if self.counts.contains_key(number) || self.counts.len() < MAX_NUMBERS {
            number
        } else {
            OTHER
        };
        if !self.counts.contains_key(key) {
            self.counts.insert(key.into(), Default::default());
        }
        self.counts.get_mut(key).expect("inserted above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::store::Store;

    fn event(kind: &str, id: u32, number: u32) -> Record {
        let body = format!(
            r#"{{"event":"message.{kind}","data":{{"to":"+5511999999999","numberId":"n{number}","messageId":"wa{id}","id":"m{id}","type":"text","fromMe":true,"content":"hi","createdAt":"2026-02-24T15:00:05Z"}}}}"#
        );
        Record::delivery(u64::from(id), body.as_bytes())
    }

    /// The kept counts are what a scan of the table finds, through new rows, status
    /// changes (in any order) and evictions.
    #[test]
    fn counts_match_a_scan_of_the_rows() {
        let mut store = Store::new(50);
        let kinds = ["sent", "delivered", "read", "received", "failed"];
        // Each of 70 ids gets every kind in turn, on one of three numbers.
        for i in 0..400u32 {
            let (id, round) = (i % 70, i / 70);
            let mut r = event(kinds[((id + round) % 5) as usize], id, id % 3);
            r.seq = u64::from(i) + 1;
            store.apply(r);
        }
        assert!(store.messages().range().start > 0, "rows were evicted");
        let mut scanned: std::collections::BTreeMap<String, [u64; 6]> = Default::default();
        for (_, row) in store.messages().newest() {
            scanned.entry(row.number_id().to_owned()).or_default()[row.status() as usize] += 1;
        }
        let kept: std::collections::BTreeMap<String, [u64; 6]> = store
            .messages()
            .by_status()
            .iter()
            .filter(|(_, c)| c.iter().any(|n| *n > 0))
            .map(|(k, v)| (k.to_owned(), *v))
            .collect();
        assert_eq!(kept, scanned);
        assert_eq!(
            kept.values().flatten().sum::<u64>(),
            store.messages().len() as u64
        );
    }

    #[test]
    fn numbers_past_the_cap_count_together() {
        let mut b = ByStatus::default();
        for n in 0..MAX_NUMBERS + 5 {
            b.add(&format!("n{n}"), Status::Sent);
        }
        b.remove(&format!("n{}", MAX_NUMBERS + 1), Status::Sent);
        let other = b.iter().find(|(k, _)| *k == OTHER).unwrap().1;
        assert_eq!(other[Status::Sent as usize], 4);
        assert_eq!(b.iter().count(), MAX_NUMBERS + 1);
    }
}
