//! A Feed row's display line: one short, sanitised summary per delivery. A message
//! event's number is kept apart, as its raw id, so the pane shows the number's name
//! even when it became known after the line was built.

use chrono::Local;

use super::FeedLine;
use crate::model::event::{Event, MessageExtra};
use crate::model::{Verdict, parse};
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::Store;

pub(super) fn feed_line(r: &Record, store: &Store) -> FeedLine {
    let outbound = || {
        serde_json::from_slice::<crate::model::outbound::Outbound>(&r.body)
            .ok()
            .map(|o| o.summary())
    };
    let mut number_id = None;
    let summary = match r.verdict {
        _ if r.kind == crate::record::RecordKind::Outbound => outbound().unwrap_or_default(),
        Verdict::Known => match parse(&r.body).ok().and_then(|p| p.event) {
            Some(Event::Message(m)) => {
                number_id = Some(m.number_id.clone());
                summarize_message(&m)
            }
            Some(e) => summarize(&e),
            None => String::new(),
        },
        _ => {
            let mut s = r.problems.first().map(|p| clean(p, 80)).unwrap_or_default();
            if r.verdict == Verdict::Rejected {
                let from = r.remote.map(|a| a.ip().to_string()).unwrap_or_default();
                s = format!("{s} ({} from {from})", clean(&r.path, 30));
            }
            s
        }
    };
    FeedLine {
        time: r
            .received_at
            .with_timezone(&Local)
            .format("%H:%M:%S%.3f")
            .to_string(),
        seq: r.seq,
        event: r
            .event
            .as_ref()
            .map_or_else(|| "-".into(), |e| clean(e.as_str(), 32)),
        verdict: r.verdict,
        duplicate_of: r.duplicate_of,
        signature: r.signature.as_str(),
        number_shown: number_id
            .as_deref()
            .map(|n| clean(n, 24))
            .unwrap_or_default(),
        number_id,
        summary,
        forward: store.forwards().of(r.seq).last().map(|f| {
            let text = match (f.status, &f.error) {
                (Some(s), _) => format!("{s} {}ms", f.latency_ms),
                (None, Some(e)) => clean(e, 20),
                _ => "?".into(),
            };
            (
                if f.replay {
                    format!("↻ {text}")
                } else {
                    text
                },
                f.ok(),
            )
        }),
    }
}

/// A message event's summary after its number (which is shown by name at draw time).
fn summarize_message(m: &crate::model::event::Message) -> String {
    let who = if m.kind.is_outbound() {
        Some(&*m.to)
    } else {
        m.from.as_deref()
    };
    let what = match &m.extra {
        MessageExtra::Failed { error, error_code } => error_code.as_deref().unwrap_or(error),
        _ => m.content.as_deref().unwrap_or(""),
    };
    format!("{} · {}", clean(who.unwrap_or("?"), 20), clean(what, 60))
}

/// One short, sanitised line about a typed event (messages: [`summarize_message`]).
fn summarize(e: &Event) -> String {
    match e {
        Event::Message(m) => summarize_message(m),
        Event::Number(n) => {
            let what = n
                .error_code
                .as_deref()
                .or(n.error.as_deref())
                .or(n.profile_name.as_deref())
                .unwrap_or("");
            format!(
                "{} · {} · {}",
                clean(&n.display_name, 20),
                clean(&n.phone, 20),
                clean(what, 40)
            )
        }
        Event::Call(c) => format!(
            "{} → {} · {}{}",
            clean(c.from.as_deref().unwrap_or("?"), 16),
            clean(c.to.as_deref().unwrap_or("?"), 16),
            clean(&c.status, 16),
            c.duration.map(|d| format!(" · {d}s")).unwrap_or_default()
        ),
        Event::Calls(n) => {
            let c = n.calls.first();
            format!(
                "native · {} · {}",
                clean(c.and_then(|c| c.id.as_deref()).unwrap_or("?"), 24),
                clean(c.and_then(|c| c.event.as_deref()).unwrap_or("?"), 16)
            )
        }
        Event::Lead(l) => format!(
            "lead · {} · {}",
            clean(l.full_name.as_deref().unwrap_or("?"), 24),
            clean(l.phone.as_deref().or(l.email.as_deref()).unwrap_or(""), 24)
        ),
        Event::PhoneLine(p) => format!(
            "line {} · {}",
            clean(p.number.as_deref().unwrap_or("?"), 20),
            clean(p.name.as_deref().unwrap_or(""), 24)
        ),
    }
}
