//! After a session that ended in an error, put the stream right before publishing
//! again. Records go out several at a time; when a connection breaks mid-batch, a later
//! record can be stored while an earlier one was lost (the client resends what it had
//! not written yet on its new connection). The stream is read back from the last
//! record known in place: what follows in order is kept, what came out of order is
//! taken out and published again (under a new id: the stream remembers the old one).

use std::collections::HashMap;

use crate::bus::{Bus, BusError, Outgoing};

/// The newest record known in place: its seq, and its position in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub seq: u64,
    pub position: u64,
}

/// What the stream holds after `mark` says: the seq to publish after, the first seq
/// missing before records that follow it (`None`: none missing), and those records
/// (seq, position), which may have to be taken out.
pub fn plan(mark: Mark, held: &[(u64, u64)]) -> (Mark, Option<u64>, Vec<(u64, u64)>) {
    let mut at = mark;
    let mut after_gap = Vec::new();
    for &(seq, position) in held {
        if seq <= at.seq {
            // Already accounted for (a duplicate answered with an older position).
            continue;
        }
        if seq == at.seq + 1 && after_gap.is_empty() {
            at = Mark { seq, position };
        } else {
            after_gap.push((seq, position));
        }
    }
    let missing = (!after_gap.is_empty()).then_some(at.seq + 1);
    (at, missing, after_gap)
}

/// How [`repair`] gets at what it needs besides the stream.
pub trait Journal {
    /// The record of `seq` as it is published (its original id unless taken out before).
    fn record(&mut self, seq: u64) -> Option<Outgoing>;
    /// Keep `again` where a restart finds it, before anything is taken out.
    fn persist(&mut self, again: &HashMap<u64, u32>) -> std::io::Result<()>;
}

/// Read back and put right; say where to publish from. A seq missing before later
/// records is either one the stream refused as a duplicate (it has it under another
/// receiver, or had it before) or one lost on a broken connection: it is published
/// again under its own id to tell which. Refused, it was never missing; stored, what
/// follows it is out of order: taken out, counted in `again` (published anew under a
/// suffixed id, since the stream remembers the old one).
pub async fn repair(
    bus: &impl Bus,
    receiver: &str,
    mark: Mark,
    again: &mut HashMap<u64, u32>,
    journal: &mut impl Journal,
) -> Result<Mark, BusError> {
    let held = bus.held_after(receiver, mark.position).await?;
    let mut at = mark;
    loop {
        let (kept, missing, after) = plan(at, &held);
        at = kept;
        let Some(seq) = missing else { return Ok(at) };
        let Some(record) = journal.record(seq) else {
            // No longer in the journal: nothing can be put back; go on after it.
            at.seq = seq;
            continue;
        };
        let (answers, failed) = bus.publish(vec![record]).await;
        if let Some(e) = failed {
            return Err(e);
        }
        let answer = answers[0];
        at.seq = seq;
        if answer.duplicate {
            // It was there all along (under its identity): not missing.
            continue;
        }
        at.position = answer.position;
        for (s, _) in &after {
            *again.entry(*s).or_default() += 1;
        }
        journal
            .persist(again)
            .map_err(|e| BusError(format!("cannot keep the outbox cursor: {e}")))?;
        for (s, position) in after {
            tracing::warn!(
                seq = s,
                position,
                "nats: a record stored out of order is taken out and published again"
            );
            bus.remove(position).await?;
        }
        return Ok(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: u64, position: u64) -> Mark {
        Mark { seq, position }
    }

    #[test]
    fn in_order_is_kept_and_what_follows_a_gap_is_looked_at() {
        // 6 missing (lost, or refused as a duplicate), 7 and 8 after it.
        let (at, missing, after) = plan(m(5, 50), &[(7, 53), (8, 54)]);
        assert_eq!(
            (at, missing, after),
            (m(5, 50), Some(6), vec![(7, 53), (8, 54)])
        );
        // All there, in order: publish after the last.
        assert_eq!(
            plan(m(5, 50), &[(6, 51), (7, 52)]),
            (m(7, 52), None, vec![])
        );
        // In order up to a gap.
        let (at, missing, after) = plan(m(5, 50), &[(6, 51), (8, 53)]);
        assert_eq!((at, missing, after), (m(6, 51), Some(7), vec![(8, 53)]));
        // Nothing after the mark; what precedes it is not looked at again.
        assert_eq!(plan(m(5, 50), &[]), (m(5, 50), None, vec![]));
        assert_eq!(
            plan(m(5, 50), &[(4, 51), (6, 52)]),
            (m(6, 52), None, vec![])
        );
    }
}
