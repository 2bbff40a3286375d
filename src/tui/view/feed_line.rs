//! A Feed row's display line: one short, sanitised summary per delivery. A message
//! event's number is kept apart, as its raw id, so the pane shows the number's name
//! even when it became known after the line was built.

use chrono::Local;

use super::FeedLine;
use crate::model::Verdict;
use crate::model::summary::{Summary, What, Who};
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::Store;

pub(super) fn feed_line(r: &Record, store: &Store) -> FeedLine {
    let outbound = || {
        r.body.with(|b| {
            serde_json::from_slice::<crate::model::outbound::Outbound>(b)
                .ok()
                .map(|o| o.summary())
        })
    };
    let mut number_id = None;
    let summary = match r.verdict {
        _ if r.kind == crate::record::RecordKind::Outbound => outbound().unwrap_or_default(),
        Verdict::Known => match r.body.with(Summary::parse) {
            Some(mut s) => {
                // The Feed names the number of a message only.
                if matches!(s.who, Who::Contact { .. }) {
                    number_id = s.number_id.take();
                }
                summarize(s)
            }
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

/// One short, sanitised line about a typed event: who, then what (after a message's
/// number, which is shown by name at draw time).
fn summarize(s: Summary) -> String {
    let who = match s.who {
        Who::Contact { contact, .. } => clean(contact.as_deref().unwrap_or("?"), 20),
        Who::Number { name, phone } => format!("{} · {}", clean(&name, 20), clean(&phone, 20)),
        Who::Call { from, to } => format!(
            "{} → {}",
            clean(from.as_deref().unwrap_or("?"), 16),
            clean(to.as_deref().unwrap_or("?"), 16)
        ),
        Who::NativeCall { id, .. } => {
            format!("native · {}", clean(id.as_deref().unwrap_or("?"), 24))
        }
        Who::Lead { name, .. } => format!("lead · {}", clean(name.as_deref().unwrap_or("?"), 24)),
        Who::Line { number } => format!("line {}", clean(number.as_deref().unwrap_or("?"), 20)),
    };
    let what = match s.what {
        What::Message { text, failure, .. } => {
            let what = match failure {
                Some((code, error)) => code.unwrap_or(error),
                None => text.unwrap_or_default(),
            };
            clean(&what, 60)
        }
        What::Number { error, profile, .. } => {
            clean(error.or(profile).as_deref().unwrap_or(""), 40)
        }
        What::Call { status, duration } => format!(
            "{}{}",
            clean(&status, 16),
            duration.map(|d| format!(" · {d}s")).unwrap_or_default()
        ),
        What::NativeCall { event } => clean(event.as_deref().unwrap_or("?"), 16),
        What::Lead { reach, .. } => clean(reach.as_deref().unwrap_or(""), 24),
        What::Line { name } => clean(name.as_deref().unwrap_or(""), 24),
    };
    format!("{who} · {what}")
}
