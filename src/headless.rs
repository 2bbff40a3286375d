//! `--headless`: one line per delivery on stdout, for pipes, logs and systemd; `--json`
//! prints the journal's NDJSON instead. All untrusted text is sanitised.

use std::io::{self, Write};

use tokio::sync::broadcast::{self, error::RecvError};

use crate::ingest::Applied;
use crate::model::Verdict;
use crate::model::summary::{Summary, What, Who};
use crate::record::{Record, RecordKind};
use crate::sanitize::{self, line as clean};
use crate::store::{SharedStore, Store};

/// Print every record from `rx` until the channel closes or `out` fails (a closed pipe).
/// Blocking: run it on its own thread so a slow reader never stalls the receiver.
pub fn print(
    mut rx: broadcast::Receiver<Applied>,
    store: SharedStore,
    json: bool,
    mut out: impl Write,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let Applied { record, line } = match rx.blocking_recv() {
            Ok(a) => a,
            Err(RecvError::Closed) => return Ok(()),
            Err(RecvError::Lagged(n)) => {
                eprintln!(
                    "pilotwatch: {n} deliveries not printed (output too slow); they are in the journal"
                );
                continue;
            }
        };
        buf.clear();
        if json {
            // The journal's own line, as written.
            buf.extend_from_slice(&line);
        } else {
            buf.extend_from_slice(format_line(&record, &store.read()).as_bytes());
            buf.push(b'\n');
        }
        out.write_all(&buf)?;
        // Flush per line only when nothing else is waiting: a burst goes out in one write.
        if rx.is_empty() {
            out.flush()?;
        }
    }
}

/// `14:03:05.123 #12 message.received  Main store  +5511999999999 (Ana)  "Hi"  known  sig:valid`
pub fn format_line(r: &Record, store: &Store) -> String {
    let time = r.received_at.format("%H:%M:%S%.3f");
    // What pilotwatch journals itself: a line of its own, never a delivery line.
    let own = match r.kind {
        RecordKind::Delivery => None,
        RecordKind::Outbound => Some(
            serde_json::from_slice::<crate::model::outbound::Outbound>(&r.body.get())
                .map(|o| o.summary()),
        ),
        RecordKind::Forward => Some(
            serde_json::from_slice::<crate::model::forward::Forward>(&r.body.get())
                .map(|f| f.summary()),
        ),
        RecordKind::Alert => Some(
            serde_json::from_slice::<crate::model::alert::AlertRecord>(&r.body.get())
                .map(|a| a.summary()),
        ),
        RecordKind::Api => Some(
            serde_json::from_slice::<crate::model::provider::ApiRecord>(&r.body.get())
                .map(|a| a.summary()),
        ),
    };
    if let Some(what) = own {
        let event = r.event.as_ref().map_or(r.kind.as_str(), |e| e.as_str());
        return format!(
            "{time} #{seq:<5} {event:<24} {}",
            what.unwrap_or_default(),
            event = sanitize::line(event, 40),
            seq = r.seq
        );
    }
    let event = r.event.as_ref().map_or("-", |e| e.as_str());
    let (number, who, content) = describe(r, store);
    let mut verdict = r.verdict.as_str().to_owned();
    if let Some(first) = r.duplicate_of {
        verdict = format!("duplicate of #{first}");
    } else if r.verdict != Verdict::Known
        && let Some(p) = r.problems.first()
    {
        let more = if r.problems.len() > 1 {
            format!(" (+{} more)", r.problems.len() - 1)
        } else {
            String::new()
        };
        verdict = format!("{verdict}: {p}{more}");
    }
    let content = if content.is_empty() {
        String::new()
    } else {
        format!("\"{content}\"")
    };
    format!(
        "{time} #{seq:<5} {event:<24} {number:<20} {who:<32} {content:<40} {verdict}  sig:{sig}",
        seq = r.seq,
        event = sanitize::line(event, 40),
        verdict = sanitize::line(&verdict, 120),
        sig = r.signature.as_str(),
    )
}

/// (number, who, short content), sanitised.
fn describe(r: &Record, store: &Store) -> (String, String, String) {
    // Records in the store no longer carry their typed event; this output thread parses
    // the body again rather than the store keeping every field twice.
    let summary = (r.verdict == Verdict::Known)
        .then(|| Summary::parse(&r.body.get()))
        .flatten();
    let Some(Summary {
        number_id,
        who,
        what,
    }) = summary
    else {
        let who = r.remote.map(|a| a.ip().to_string()).unwrap_or_default();
        return (
            "-".into(),
            format!("{} {who}", clean(&r.path, 24)),
            String::new(),
        );
    };
    let number = match (&number_id, &who) {
        (Some(id), _) => {
            let name = store
                .numbers()
                .get(id)
                .and_then(|n| n.display_name.as_deref().or(n.phone.as_deref()));
            clean(name.unwrap_or(id), 20)
        }
        (None, Who::Number { name, .. }) => clean(name, 20),
        (None, _) => "-".into(),
    };
    (number, who_column(who), what_column(what))
}

/// The who column: the contact (with the participant and the group), the number's phone,
/// the caller and callee, the lead, the line.
fn who_column(who: Who) -> String {
    match who {
        Who::Contact {
            contact,
            participant,
            within,
        } => {
            let mut who = clean(contact.as_deref().unwrap_or("-"), 20);
            if let Some(name) = participant {
                who = format!("{who} ({})", clean(&name, 16));
            }
            if let Some(within) = within {
                who = format!("{who} in {}", clean(&within, 16));
            }
            who
        }
        Who::Number { phone, .. } => clean(&phone, 20),
        Who::Call { from, to } => format!(
            "{} → {}",
            clean(from.as_deref().unwrap_or("?"), 15),
            clean(to.as_deref().unwrap_or("?"), 15)
        ),
        Who::NativeCall { from, .. } => from.map(|f| clean(&f, 20)).unwrap_or_default(),
        Who::Lead { name, phone } => clean(name.or(phone).as_deref().unwrap_or("-"), 32),
        Who::Line { number } => clean(number.as_deref().unwrap_or("-"), 20),
    }
}

/// The content column: the text (or the error, or the attachment), the number's news, the
/// call's status, the lead form, the line's name.
fn what_column(what: What) -> String {
    match what {
        What::Message {
            text,
            failure,
            media,
        } => {
            let content = match failure {
                Some((code, error)) => {
                    clean(&format!("{} {error}", code.as_deref().unwrap_or("")), 40)
                }
                None => text.map(|t| clean(&t, 40)).unwrap_or_default(),
            };
            match media {
                Some(media) if content.is_empty() => clean(&media, 40),
                _ => content,
            }
        }
        What::Number {
            error,
            profile,
            health,
        } => {
            // A health event's news is its error; any other's, the profile name.
            let news = if health { error } else { profile };
            clean(news.as_deref().unwrap_or(""), 40)
        }
        What::Call { status, duration } => {
            let status = clean(&status, 20);
            match duration {
                Some(d) => format!("{status} {d}s"),
                None => status,
            }
        }
        What::NativeCall { event } => event.map(|e| clean(&e, 20)).unwrap_or_default(),
        What::Lead { form, .. } => format!("form {}", clean(&form, 30)),
        What::Line { name } => clean(name.as_deref().unwrap_or(""), 40),
    }
}
