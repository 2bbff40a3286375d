//! After a session that ended in an error, put the stream right before publishing
//! again. Records go out several at a time; when a connection breaks mid-batch, a later
//! record can be stored while an earlier one was lost (the client resends what it had
//! not written yet on its new connection). The stream is read back from the last
//! record known in place: what follows in order is kept, what came out of order is
//! taken out and published again (under a new id: the stream remembers the old one).

use std::collections::HashMap;

use crate::bus::{Bus, BusError};

/// The newest record known in place: its seq, and its position in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub seq: u64,
    pub position: u64,
}

/// What the stream holds after `mark` says: the seq to publish after, and the
/// records (seq, position) to take out.
pub fn plan(mark: Mark, held: &[(u64, u64)]) -> (Mark, Vec<(u64, u64)>) {
    let mut at = mark;
    let mut out = Vec::new();
    for &(seq, position) in held {
        if seq <= mark.seq {
            // Already accounted for (a duplicate answered with an older position).
            continue;
        }
        if seq == at.seq + 1 && out.is_empty() {
            at = Mark { seq, position };
        } else {
            out.push((seq, position));
        }
    }
    (at, out)
}

/// Read back, take out what is out of order, and say where to publish from. The seqs
/// taken out are counted in `again` (their ids get a suffix when published anew).
pub async fn repair(
    bus: &impl Bus,
    receiver: &str,
    mark: Mark,
    again: &mut HashMap<u64, u32>,
) -> Result<Mark, BusError> {
    let held = bus.held_after(receiver, mark.position).await?;
    let (at, out) = plan(mark, &held);
    for (seq, position) in out {
        tracing::warn!(
            seq,
            position,
            "nats: a record stored out of order is taken out and published again"
        );
        bus.remove(position).await?;
        *again.entry(seq).or_default() += 1;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: u64, position: u64) -> Mark {
        Mark { seq, position }
    }

    #[test]
    fn in_order_is_kept_and_what_follows_a_gap_is_taken_out() {
        // 6 was lost when the connection broke, 7 went on the new one.
        let (at, out) = plan(m(5, 50), &[(7, 53), (8, 54)]);
        assert_eq!((at, out), (m(5, 50), vec![(7, 53), (8, 54)]));
        // All there, in order: publish after the last.
        let (at, out) = plan(m(5, 50), &[(6, 51), (7, 52)]);
        assert_eq!((at, out), (m(7, 52), vec![]));
        // In order up to a gap.
        let (at, out) = plan(m(5, 50), &[(6, 51), (8, 53)]);
        assert_eq!((at, out), (m(6, 51), vec![(8, 53)]));
        // Nothing after the mark; what precedes it is not looked at again.
        assert_eq!(plan(m(5, 50), &[]), (m(5, 50), vec![]));
        assert_eq!(plan(m(5, 50), &[(4, 51), (6, 52)]), (m(6, 52), vec![]));
    }
}
