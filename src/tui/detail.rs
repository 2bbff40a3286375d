//! The detail view of a row: built once when opened (sanitised, syntax-coloured), then
//! only scrolled. A message shows its whole lifecycle as a timeline, a reply what it
//! quotes, every view the raw deliveries behind it.

use bytes::Bytes;
use chrono::{DateTime, Local, Utc};
use ratatui::text::{Line, Span};

use super::theme::{Theme, Tone};
use crate::model::Verdict;
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::{Direction, MessageRow, Store};

#[derive(Debug, Clone)]
pub struct Detail {
    pub title: String,
    pub lines: Vec<Line<'static>>,
    pub scroll: usize,
    /// What `y` copies: the (first) delivery's raw body.
    pub payload: Option<Bytes>,
}

struct Builder {
    theme: Theme,
    lines: Vec<Line<'static>>,
}

impl Builder {
    fn new(theme: Theme) -> Self {
        Self {
            theme,
            lines: Vec::new(),
        }
    }

    fn push(&mut self, parts: Vec<(String, Tone)>) {
        self.lines.push(Line::from(
            parts
                .into_iter()
                .map(|(t, tone)| Span::styled(t, self.theme.style(tone)))
                .collect::<Vec<_>>(),
        ));
    }

    fn field(&mut self, label: &str, value: String, tone: Tone) {
        self.push(vec![(format!("{label:<12}"), Tone::Dim), (value, tone)]);
    }

    fn heading(&mut self, text: String) {
        self.lines.push(Line::default());
        self.push(vec![(text, Tone::Title)]);
    }

    fn record(&mut self, r: &Record, deliveries: u32) {
        let mut head = vec![
            (format!("── #{} ", r.seq), Tone::Title),
            (
                r.event
                    .as_ref()
                    .map_or("(no event)".into(), |e| clean(e.as_str(), 60)),
                Tone::Accent,
            ),
            (
                format!(
                    " · received {} · {} · signature ",
                    stamp(r.received_at),
                    clean(&r.path, 40)
                ),
                Tone::Dim,
            ),
            (
                r.signature.as_str().into(),
                if r.signature.as_str() == "valid" {
                    Tone::Good
                } else {
                    Tone::Warn
                },
            ),
            (" · ".into(), Tone::Dim),
            (r.verdict.as_str().into(), verdict_tone(r.verdict)),
        ];
        if let Some(first) = r.duplicate_of {
            head.push((format!(" · retry of #{first}"), Tone::Warn));
        }
        if deliveries > 1 {
            head.push((format!(" · delivered {deliveries}×"), Tone::Warn));
        }
        self.push(head);
        if let Some(remote) = r.remote {
            self.push(vec![(format!("   from {remote}"), Tone::Dim)]);
        }
        for p in &r.problems {
            self.push(vec![
                ("   ✗ ".into(), Tone::Bad),
                (clean(p, 200), Tone::Bad),
            ]);
        }
        if r.is_truncated() {
            self.push(vec![(
                format!(
                    "   body truncated: {} of {} bytes kept",
                    r.body.len(),
                    r.body_len
                ),
                Tone::Warn,
            )]);
        }
        json_lines(&r.body, self.theme, &mut self.lines);
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

fn verdict_tone(v: Verdict) -> Tone {
    match v {
        Verdict::Known => Tone::Good,
        Verdict::Unknown => Tone::Info,
        Verdict::Broken | Verdict::Rejected => Tone::Bad,
    }
}

/// A delay between two lifecycle steps: `+1.2s`, `+3m04s`.
pub fn delay(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let ms = (to - from).num_milliseconds();
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    if ms < 60_000 {
        format!("{sign}{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{sign}{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{sign}{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

pub fn message(store: &Store, ord: u64, theme: Theme) -> Option<Detail> {
    let m = store.messages().get(ord)?;
    let mut b = Builder::new(theme);
    let number = store.numbers().get(m.number_id());
    let number_name = number.and_then(|n| n.display_name.as_deref()).unwrap_or("");
    let dir = if m.direction == Direction::Out {
        "outbound"
    } else {
        "inbound"
    };
    b.field(
        "Message",
        format!("{} ({dir}, {})", clean(m.id(), 40), m.kind.name()),
        Tone::Plain,
    );
    b.field(
        "Number",
        format!("{} {}", clean(number_name, 30), clean(m.number_id(), 30)),
        Tone::Plain,
    );
    if let Some(from) = &m.from() {
        let name = m
            .participant_name()
            .map(|n| format!(" ({})", clean(n, 30)))
            .unwrap_or_default();
        b.field("From", format!("{}{name}", clean(from, 30)), Tone::Plain);
    }
    b.field("To", clean(m.to(), 30), Tone::Plain);
    if let Some(t) = m.msg_type {
        b.field("Type", t.as_str().into(), Tone::Plain);
    }
    if let Some(id) = &m.message_id() {
        b.field("WhatsApp id", clean(id, 60), Tone::Dim);
    }
    if let Some(c) = &m.correlation_id() {
        b.field("Correlation", clean(c, 60), Tone::Dim);
    }
    if let Some(c) = &m.content() {
        b.field("Content", clean(c, 2000), Tone::Plain);
    }
    if let Some(media) = &m.media {
        let parts: Vec<String> = [
            &media.media_type,
            &media.filename,
            &media.caption,
            &media.link,
        ]
        .iter()
        .filter_map(|v| v.as_deref().map(|s| clean(s, 120)))
        .collect();
        b.field("Media", parts.join(" · "), Tone::Plain);
    }
    timeline(&mut b, m);
    if let Some(orig) = store.messages().quoted(m) {
        b.heading("Quoting".into());
        b.push(vec![
            (format!("{} ", clean(orig.id(), 40)), Tone::Dim),
            (orig.status().as_str().into(), Tone::Info),
            (
                format!("  {}", clean(orig.content().unwrap_or(""), 200)),
                Tone::Plain,
            ),
        ]);
    } else if let Some(q) = m.quoted_message_id() {
        b.heading("Quoting".into());
        b.push(vec![(
            format!("{} (not seen by this pilotwatch)", clean(q, 60)),
            Tone::Dim,
        )]);
    }
    let sent: Vec<_> = store.replies().to_message(m.kind.name(), m.id()).collect();
    if !sent.is_empty() {
        b.heading(format!("Answered from here ({})", sent.len()));
        for r in sent {
            let (state, tone) = match r.phase {
                crate::model::outbound::Phase::Sending => ("sending…".to_owned(), Tone::Warn),
                crate::model::outbound::Phase::Accepted => (
                    format!(
                        "accepted as {}",
                        clean(r.accepted.as_ref().map_or("?", |a| a.id.as_str()), 40)
                    ),
                    Tone::Good,
                ),
                crate::model::outbound::Phase::Failed => (
                    format!(
                        "failed: {} (R retries)",
                        r.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
                    ),
                    Tone::Bad,
                ),
            };
            b.push(vec![
                (format!("  {}  ", stamp(r.at)), Tone::Dim),
                (clean(&r.request.body.text, 120), Tone::Plain),
                ("  ".into(), Tone::Plain),
                (state, tone),
            ]);
            b.push(vec![(
                format!(
                    "    idempotency key {} · attempts {}",
                    clean(&r.request.idempotency_key, 60),
                    r.attempts
                ),
                Tone::Dim,
            )]);
        }
    }
    let replies: Vec<&MessageRow> = store.messages().replies_to(m).collect();
    if !replies.is_empty() {
        b.heading(format!("Replies ({})", replies.len()));
        for r in replies {
            b.push(vec![
                (
                    format!(
                        "{} ",
                        r.created_at.map(super::view::clock).unwrap_or_default()
                    ),
                    Tone::Dim,
                ),
                (clean(r.content().unwrap_or(""), 200), Tone::Plain),
            ]);
        }
    }
    deliveries(&mut b, store, &m.seqs);
    Some(Detail {
        title: format!("Message {}", clean(m.id(), 40)),
        payload: first_payload(store, &m.seqs),
        lines: b.lines,
        scroll: 0,
    })
}

fn timeline(b: &mut Builder, m: &MessageRow) {
    let l = &m.lifecycle;
    let mut steps: Vec<(&str, DateTime<Utc>, u64)> = [
        ("sent", l.sent),
        ("delivered", l.delivered),
        ("read", l.read),
        ("failed", l.failed),
    ]
    .into_iter()
    .filter_map(|(name, step)| step.and_then(|s| Some((name, s.at?, s.seq))))
    .collect();
    if steps.is_empty() {
        b.field("Status", m.status().as_str().into(), Tone::Info);
        return;
    }
    steps.sort_by_key(|(_, at, _)| *at);
    b.heading(format!("Lifecycle: {}", m.status().as_str()));
    let mut prev: Option<DateTime<Utc>> = None;
    for (name, at, seq) in steps {
        let tone = if name == "failed" {
            Tone::Bad
        } else {
            Tone::Good
        };
        b.push(vec![
            (format!("  {}  ", stamp(at)), Tone::Dim),
            (format!("{name:<10}"), tone),
            (
                format!("{:>9}", prev.map(|p| delay(p, at)).unwrap_or_default()),
                Tone::Dim,
            ),
            (format!("  #{seq}"), Tone::Dim),
        ]);
        prev = Some(at);
    }
    if let Some((error, code)) = m.error() {
        b.push(vec![
            ("  error     ".into(), Tone::Dim),
            (
                code.map(|c| format!("{} ", clean(c, 40)))
                    .unwrap_or_default(),
                Tone::Bad,
            ),
            (clean(error, 200), Tone::Bad),
        ]);
    }
}

fn deliveries(b: &mut Builder, store: &Store, seqs: &[u64]) {
    b.heading(format!("Deliveries ({})", seqs.len()));
    for seq in seqs {
        match store.record(*seq) {
            Some(r) => {
                b.lines.push(Line::default());
                b.record(r, store.deliveries(*seq));
            }
            None => b.push(vec![(
                format!("── #{seq} (no longer in memory; see the journal)"),
                Tone::Dim,
            )]),
        }
    }
}

fn first_payload(store: &Store, seqs: &[u64]) -> Option<Bytes> {
    seqs.iter()
        .find_map(|s| store.record(*s))
        .map(|r| r.body.clone())
}

pub fn call(store: &Store, ord: u64, theme: Theme) -> Option<Detail> {
    let c = store.calls().row(ord)?;
    let mut b = Builder::new(theme);
    b.field(
        "Call",
        clean(c.call_id.as_deref().unwrap_or("?"), 60),
        Tone::Plain,
    );
    if let Some(ext) = &c.external_call_id {
        b.field("Meta id", clean(ext, 60), Tone::Dim);
    }
    b.field(
        "Direction",
        clean(c.direction.as_deref().unwrap_or("?"), 20),
        Tone::Plain,
    );
    b.field(
        "Parties",
        format!(
            "{} → {}",
            clean(c.from.as_deref().unwrap_or("?"), 24),
            clean(c.to.as_deref().unwrap_or("?"), 24)
        ),
        Tone::Plain,
    );
    b.field("Status", clean(&c.status, 30), Tone::Info);
    if let Some(d) = c.duration {
        b.field("Duration", format!("{d}s"), Tone::Plain);
    }
    b.heading("Timeline".into());
    let mut prev = None;
    for (name, at) in [
        ("ringing", c.ringing_at),
        ("connected", c.connected_at),
        ("ended", c.ended_at),
    ] {
        if let Some(at) = at {
            b.push(vec![
                (format!("  {}  ", stamp(at)), Tone::Dim),
                (format!("{name:<10}"), Tone::Good),
                (
                    format!("{:>9}", prev.map(|p| delay(p, at)).unwrap_or_default()),
                    Tone::Dim,
                ),
            ]);
            prev = Some(at);
        }
    }
    if !c.native_seqs.is_empty() {
        b.field(
            "Native",
            format!(
                "{} `calls` envelope(s): {:?}",
                c.native_seqs.len(),
                c.native_seqs
            ),
            Tone::Dim,
        );
    }
    let mut seqs = c.seqs.clone();
    seqs.extend(&c.native_seqs);
    deliveries(&mut b, store, &seqs);
    Some(Detail {
        title: format!("Call {}", clean(c.call_id.as_deref().unwrap_or("?"), 40)),
        payload: first_payload(store, &c.seqs),
        lines: b.lines,
        scroll: 0,
    })
}

pub fn record(store: &Store, seq: u64, theme: Theme) -> Option<Detail> {
    let r = store.record(seq)?;
    let mut b = Builder::new(theme);
    b.record(r, store.deliveries(seq));
    let forwards = store.forwards().of(seq);
    if !forwards.is_empty() {
        b.heading(format!("Forwarded to the app ({})", forwards.len()));
        for f in forwards {
            let outcome = match (f.status, &f.error) {
                (Some(s), _) => format!("HTTP {s} in {} ms", f.latency_ms),
                (None, Some(e)) => format!("{e} after {} ms", f.latency_ms),
                _ => "?".into(),
            };
            b.push(vec![
                (format!("  {}  ", stamp(f.at)), Tone::Dim),
                (
                    if f.replay {
                        "replay  ".into()
                    } else {
                        String::new()
                    },
                    Tone::Accent,
                ),
                (outcome, if f.ok() { Tone::Good } else { Tone::Bad }),
                (format!("  {}", f.body_head), Tone::Dim),
            ]);
        }
    }
    Some(Detail {
        title: format!("Delivery #{seq}"),
        payload: Some(r.body.clone()),
        lines: b.lines,
        scroll: 0,
    })
}

/// The body pretty-printed with colours, keys in their original order. Not JSON (a
/// rejected body): its text, sanitised, line by line.
pub fn json_lines(body: &[u8], theme: Theme, out: &mut Vec<Line<'static>>) {
    let text = String::from_utf8_lossy(body);
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        for l in text.lines().take(2000) {
            out.push(Line::styled(clean(l, 400), theme.style(Tone::Plain)));
        }
        return;
    }
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut indent = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let flush = |line: &mut Vec<Span<'static>>, out: &mut Vec<Line<'static>>| {
        out.push(Line::from(std::mem::take(line)))
    };
    let pad = |n: usize| Span::raw("  ".repeat(n));
    line.push(pad(0));
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if next == Some(&close) {
                    line.push(Span::raw(format!("{c}{close}")));
                    i += 1 + chars[i + 1..].iter().position(|x| *x == close).unwrap_or(0) + 1;
                    continue;
                }
                line.push(Span::raw(c.to_string()));
                indent += 1;
                flush(&mut line, out);
                line.push(pad(indent));
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                flush(&mut line, out);
                line.push(pad(indent));
                line.push(Span::raw(c.to_string()));
            }
            ',' => {
                line.push(Span::raw(","));
                flush(&mut line, out);
                line.push(pad(indent));
            }
            ':' => line.push(Span::raw(": ")),
            '"' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let s: String = chars[start..=i.min(chars.len() - 1)].iter().collect();
                let is_key = chars[i + 1..].iter().find(|c| !c.is_whitespace()) == Some(&':');
                let tone = if is_key {
                    Tone::JsonKey
                } else {
                    Tone::JsonString
                };
                line.push(Span::styled(clean(&s, 4000), theme.style(tone)));
            }
            c if c.is_whitespace() => {}
            _ => {
                let start = i;
                while i + 1 < chars.len()
                    && !matches!(chars[i + 1], ',' | '}' | ']' | ':')
                    && !chars[i + 1].is_whitespace()
                {
                    i += 1;
                }
                let s: String = chars[start..=i].iter().collect();
                let tone = if c == '-' || c.is_ascii_digit() {
                    Tone::JsonNumber
                } else {
                    Tone::JsonLiteral
                };
                line.push(Span::styled(clean(&s, 200), theme.style(tone)));
            }
        }
        i += 1;
    }
    if line.iter().any(|s| !s.content.trim().is_empty()) {
        flush(&mut line, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> Vec<String> {
        let mut out = Vec::new();
        json_lines(body.as_bytes(), Theme::new(false), &mut out);
        out.iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn pretty_prints_in_original_order() {
        assert_eq!(
            text(r#"{"z":1,"a":{"b":[true,null,"x\"y"],"e":{}},"c":[]}"#),
            vec![
                "{",
                "  \"z\": 1,",
                "  \"a\": {",
                "    \"b\": [",
                "      true,",
                "      null,",
                "      \"x\\\"y\"",
                "    ],",
                "    \"e\": {}",
                "  },",
                "  \"c\": []",
                "}"
            ]
        );
    }

    #[test]
    fn hostile_strings_are_escaped_and_non_json_shown_as_text() {
        let lines = text("{\"t\":\"a\u{9b}b\u{202e}c\"}");
        assert!(
            lines
                .iter()
                .all(|l| !l.contains('\u{9b}') && !l.contains('\u{202e}')),
            "{lines:?}"
        );
        assert_eq!(text("not\u{1b}[2J json"), vec!["not^[[2J json"]);
    }

    #[test]
    fn delays() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            delay(t("2026-01-01T00:00:00Z"), t("2026-01-01T00:00:01.5Z")),
            "+1.5s"
        );
        assert_eq!(
            delay(t("2026-01-01T00:00:00Z"), t("2026-01-01T00:03:04Z")),
            "+3m04s"
        );
    }
}
