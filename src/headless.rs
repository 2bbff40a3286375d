//! `--headless`: one line per delivery on stdout, for pipes, logs and systemd; `--json`
//! prints the journal's NDJSON instead. All untrusted text is sanitised.

use std::io::{self, Write};
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use crate::journal::line;
use crate::model::Verdict;
use crate::model::event::{Event, MessageExtra, NumberKind};
use crate::record::{Record, RecordKind};
use crate::sanitize;
use crate::store::{SharedStore, Store};

/// Print every record from `rx` until the channel closes or `out` fails (a closed pipe).
/// Blocking: run it on its own thread so a slow reader never stalls the receiver.
pub fn print(
    mut rx: broadcast::Receiver<Arc<Record>>,
    store: SharedStore,
    json: bool,
    mut out: impl Write,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let record = match rx.blocking_recv() {
            Ok(r) => r,
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
            line::encode(&record, &mut buf);
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
            serde_json::from_slice::<crate::model::outbound::Outbound>(&r.body)
                .map(|o| o.summary()),
        ),
        RecordKind::Forward => Some(
            serde_json::from_slice::<crate::model::forward::Forward>(&r.body).map(|f| f.summary()),
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
    let clean = |s: &str, n: usize| sanitize::line(s, n);
    let number_name = |id: &str| {
        let name = store
            .numbers()
            .get(id)
            .and_then(|n| n.display_name.as_deref().or(n.phone.as_deref()));
        clean(name.unwrap_or(id), 20)
    };
    // Records in the store no longer carry their typed event; this output thread parses
    // the body again rather than the store keeping every field twice.
    let typed = (r.verdict == Verdict::Known)
        .then(|| crate::model::parse(&r.body).ok()?.event)
        .flatten();
    let Some(event) = &typed else {
        let who = r.remote.map(|a| a.ip().to_string()).unwrap_or_default();
        return (
            "-".into(),
            format!("{} {who}", clean(&r.path, 24)),
            String::new(),
        );
    };
    match event {
        Event::Message(m) => {
            let contact = if m.kind.is_outbound() {
                Some(&m.to)
            } else {
                m.from.as_ref()
            };
            let mut who = clean(contact.map_or("-", |c| c), 20);
            if let Some(name) = &m.participant_name {
                who = format!("{who} ({})", clean(name, 16));
            }
            let mut content = m
                .content
                .as_deref()
                .map(|c| clean(c, 40))
                .unwrap_or_default();
            match &m.extra {
                MessageExtra::Failed { error, error_code } => {
                    content = clean(
                        &format!("{} {error}", error_code.as_deref().unwrap_or("")),
                        40,
                    );
                }
                MessageExtra::Group {
                    group_name: Some(g),
                    ..
                } => who = format!("{who} in {}", clean(g, 16)),
                MessageExtra::Newsletter {
                    newsletter_name: Some(n),
                    ..
                } => who = format!("{who} in {}", clean(n, 16)),
                _ => {}
            }
            if content.is_empty()
                && let Some(media) = &m.media
            {
                content = clean(
                    media
                        .filename
                        .as_deref()
                        .or(media.media_type.as_deref())
                        .unwrap_or("media"),
                    40,
                );
            }
            (number_name(&m.number_id), who, content)
        }
        Event::Number(n) => {
            let what = match &n.kind {
                NumberKind::Health(_) => {
                    n.error_code.as_deref().or(n.error.as_deref()).unwrap_or("")
                }
                _ => n.profile_name.as_deref().unwrap_or(""),
            };
            (
                clean(&n.display_name, 20),
                clean(&n.phone, 20),
                clean(what, 40),
            )
        }
        Event::Call(c) => {
            let who = format!(
                "{} → {}",
                clean(c.from.as_deref().unwrap_or("?"), 15),
                clean(c.to.as_deref().unwrap_or("?"), 15)
            );
            let mut what = clean(&c.status, 20);
            if let Some(d) = c.duration {
                what = format!("{what} {d}s");
            }
            ("-".into(), who, what)
        }
        Event::Calls(n) => {
            let first = n.calls.first();
            let who = first
                .and_then(|c| c.from.as_deref())
                .map(|f| clean(f, 20))
                .unwrap_or_default();
            let what = first
                .and_then(|c| c.event.as_deref())
                .map(|e| clean(e, 20))
                .unwrap_or_default();
            ("-".into(), who, what)
        }
        Event::Lead(l) => {
            let who = l.full_name.as_deref().or(l.phone.as_deref()).unwrap_or("-");
            (
                number_name(&l.whatsapp_number_id),
                clean(who, 32),
                format!("form {}", clean(&l.form_id, 30)),
            )
        }
        Event::PhoneLine(p) => (
            "-".into(),
            clean(p.number.as_deref().unwrap_or("-"), 20),
            clean(p.name.as_deref().unwrap_or(""), 40),
        ),
    }
}
