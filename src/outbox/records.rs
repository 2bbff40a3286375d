//! A journal line as the stream gets it: its subject, its deduplication id, and a
//! body cut to fit when the line is larger than the server takes.

use bytes::Bytes;

use crate::bus::{self, Outgoing};

/// A record too large for the server, its body cut to fit (as a refused delivery's
/// is), saying so: a record that never goes would hold up every one after it.
fn shortened(mut record: crate::record::Record, room: usize) -> Vec<u8> {
    // Escaping can double a body (or more, for controls): keep well within.
    let keep = room / 8;
    let mut cut = keep.min(record.body.len());
    // A UTF-8 body is cut between characters (a binary one anywhere).
    let body = record.body.bytes();
    if std::str::from_utf8(&body).is_ok() {
        while std::str::from_utf8(&body[..cut]).is_err() {
            cut -= 1;
        }
    }
    record.body = body.slice(..cut).into();
    record.typed = None;
    record.problems.push(format!(
        "body cut to {cut} of {} bytes for NATS (the receiver's journal has it whole)",
        record.body_len
    ));
    let mut out = Vec::new();
    crate::journal::line::encode(&record, &mut out);
    out.pop();
    out
}

/// A journal line as the record the stream gets: subject and id from what it holds.
/// A line that does not read back (damaged) still goes, under `other`, so a dashboard
/// says so instead of the record silently missing.
pub(super) fn outgoing(
    prefix: &str,
    receiver: &str,
    seq: u64,
    mut line: Vec<u8>,
    room: usize,
) -> (Outgoing, Option<chrono::DateTime<chrono::Utc>>) {
    // Most lines say all it takes; an older one (or a cut one) is read whole.
    let peeked = crate::journal::peek::Peek::of(&line).and_then(|p| {
        let identity = p.identity()?;
        let kind = p.kind.as_deref().unwrap_or("delivery");
        let subject = bus::subject_of(prefix, receiver, kind, p.event.as_deref());
        (line.len() <= room).then_some((subject, identity, Some(p.received_at)))
    });
    let (subject, identity, time) = match peeked {
        Some(p) => p,
        None => match crate::journal::line::decode(&line) {
            Ok(mut record) => {
                // A retry has its first's identity: the stream keeps one of them.
                let identity = crate::ingest::rederive(&mut record);
                let subject = bus::subject(prefix, receiver, &record);
                if line.len() > room {
                    line = shortened(record.clone(), room);
                }
                (subject, identity, Some(record.received_at))
            }
            Err(_) => (format!("{prefix}.{receiver}.other.other"), None, None),
        },
    };
    let out = Outgoing {
        subject,
        msg_id: bus::msg_id(receiver, seq, identity),
        seq,
        line: Bytes::from(line),
    };
    (out, time)
}
