//! The detail view of a row: built once when opened (sanitised, syntax-coloured), then
//! only scrolled. A message shows its whole lifecycle as a timeline, a reply what it
//! quotes, every view the raw deliveries behind it.

mod json_lines;

use bytes::Bytes;
use chrono::{DateTime, Local, Utc};
use ratatui::text::{Line, Span};

use super::theme::{Theme, Tone};
use crate::model::Verdict;
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::{Direction, MessageRow, Store};
use json_lines::json_lines;

/// Lines of one body a detail view builds; the rest are counted and the marker says
/// how to get the whole (`y`, `e`).
pub const BODY_LINES: usize = 2_000;
/// Lines of bodies in one view, all its deliveries together (a call lists dozens).
pub const VIEW_BODY_LINES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Detail {
    pub title: String,
    pub lines: Vec<Line<'static>>,
    pub scroll: usize,
    /// What `y` can copy: each delivery shown, by the line its section starts on.
    pub bodies: Vec<Section>,
    /// The message it shows (its ordinal): `r` answers it, `c` opens its thread.
    pub message: Option<u64>,
}

/// One delivery in a detail view.
#[derive(Debug, Clone)]
pub struct Section {
    pub line: usize,
    pub seq: u64,
    pub event: String,
    pub body: Bytes,
}

impl Detail {
    /// The delivery `y` copies on a screen of `page` lines from `scroll`: the first
    /// whose heading is on screen, else the one the screen is inside (the title says
    /// which, so what is copied is never a guess).
    pub fn body_at(&self, scroll: usize, page: usize) -> Option<&Section> {
        let on_screen = self
            .bodies
            .iter()
            .find(|s| (scroll..scroll + page.max(1)).contains(&s.line));
        on_screen
            .or_else(|| self.bodies.iter().take_while(|s| s.line <= scroll).last())
            .or(self.bodies.first())
    }

    /// How far it scrolls: to its last screenful, or further if that is what brings the
    /// last delivery's heading to the top (so `y` can reach every delivery).
    pub fn max_scroll(&self, page: usize) -> usize {
        let last = self.bodies.last().map_or(0, |s| s.line);
        self.lines.len().saturating_sub(page).max(last)
    }
}

struct Builder {
    theme: Theme,
    lines: Vec<Line<'static>>,
    /// Body lines this view may still build.
    budget: usize,
    bodies: Vec<Section>,
}

impl Builder {
    fn new(theme: Theme) -> Self {
        Self {
            theme,
            lines: Vec::new(),
            budget: VIEW_BODY_LINES,
            bodies: Vec::new(),
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
        self.bodies.push(Section {
            line: self.lines.len(),
            seq: r.seq,
            event: r
                .event
                .as_ref()
                .map_or_else(|| "delivery".into(), |e| clean(e.as_str(), 40)),
            body: r.body.bytes(),
        });
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
        let before = self.lines.len();
        let max = BODY_LINES.min(self.budget);
        let hidden = r
            .body
            .with(|b| json_lines(b, self.theme, max, &mut self.lines));
        self.budget -= self.lines.len() - before;
        if hidden > 0 {
            self.push(vec![(
                format!(
                    "   … {hidden} more lines of this {}-byte body not shown (a view shows {BODY_LINES} a body, {VIEW_BODY_LINES} in all): y copies it whole from here; e exports it",
                    r.body.len()
                ),
                Tone::Warn,
            )]);
        }
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
    timeline(&mut b, m, store);
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
                crate::model::outbound::ReplyPhase::Sending => ("sending…".to_owned(), Tone::Warn),
                crate::model::outbound::ReplyPhase::Accepted => (
                    format!(
                        "accepted as {}",
                        clean(r.accepted.as_ref().map_or("?", |a| a.id.as_str()), 40)
                    ),
                    Tone::Good,
                ),
                crate::model::outbound::ReplyPhase::Failed => (
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
    deliveries(&mut b, store, m.seqs.iter().copied(), m.seqs.len() as u64);
    Some(Detail {
        title: format!("Message {}", clean(m.id(), 40)),
        bodies: b.bodies,
        lines: b.lines,
        scroll: 0,
        message: Some(ord),
    })
}

fn timeline(b: &mut Builder, m: &MessageRow, store: &Store) {
    let l = &m.lifecycle;
    let from_api = m.api().map_or([false; 4], |a| a.from_api);
    // A step only the API knows, with no time of its own: when the API said so.
    let asked = |seq: u64| {
        let p = store.provider();
        p.since(seq.saturating_sub(1))
            .next()
            .filter(|r| r.seq == seq)
            .map(|r| r.received_at)
    };
    let mut steps: Vec<(&str, DateTime<Utc>, u64, bool)> = [
        ("sent", l.sent),
        ("delivered", l.delivered),
        ("read", l.read),
        ("failed", l.failed),
    ]
    .into_iter()
    .zip(from_api)
    .filter_map(|((name, step), api)| {
        let s = step?;
        let at = s.at.or_else(|| api.then(|| asked(s.seq)).flatten())?;
        Some((name, at, s.seq, api))
    })
    .collect();
    if steps.is_empty() {
        b.field("Status", m.status().as_str().into(), Tone::Info);
        return;
    }
    steps.sort_by_key(|(_, at, _, _)| *at);
    b.heading(format!("Lifecycle: {}", m.status().as_str()));
    let mut prev: Option<DateTime<Utc>> = None;
    for (name, at, seq, api) in &steps {
        let tone = if *name == "failed" {
            Tone::Bad
        } else {
            Tone::Good
        };
        let mut line = vec![
            (format!("  {}  ", stamp(*at)), Tone::Dim),
            (format!("{name:<10}"), tone),
            (
                format!("{:>9}", prev.map(|p| delay(p, *at)).unwrap_or_default()),
                Tone::Dim,
            ),
            (format!("  #{seq}"), Tone::Dim),
        ];
        if *api {
            line.push(("  (api)".into(), Tone::Warn));
        }
        b.push(line);
        prev = Some(*at);
    }
    // Which steps came from the provider's API, their webhook never having arrived.
    for (name, at, _, _) in steps.iter().filter(|s| s.3) {
        b.push(vec![(
            format!(
                "  ⚠ {name}: from the API at {} — webhook missing",
                super::view::clock(*at)
            ),
            Tone::Warn,
        )]);
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

/// `seqs`: the ones the row still lists, of `total` it ever had (a call or a number
/// keeps only its newest).
fn deliveries(
    b: &mut Builder,
    store: &Store,
    seqs: impl ExactSizeIterator<Item = u64>,
    total: u64,
) {
    let listed = seqs.len() as u64;
    if listed < total {
        b.heading(format!(
            "Deliveries ({total}; the newest {listed} listed, {} older ones dropped from this row: the Feed and the journal have them)",
            total - listed
        ));
    } else {
        b.heading(format!("Deliveries ({total})"));
    }
    for seq in seqs {
        match store.record(seq) {
            Some(r) => {
                b.lines.push(Line::default());
                b.record(r, store.deliveries(seq));
            }
            None => b.push(vec![(
                format!("── #{seq} (no longer in memory; see the journal)"),
                Tone::Dim,
            )]),
        }
    }
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
    let native = &c.native_seqs;
    if !native.is_empty() {
        let newest = if native.dropped() > 0 {
            format!(", the newest {}", native.len())
        } else {
            String::new()
        };
        b.field(
            "Native",
            format!(
                "{} `calls` envelope(s){newest}: {:?}",
                native.total(),
                native.iter().collect::<Vec<_>>()
            ),
            Tone::Dim,
        );
    }
    let seqs: Vec<u64> = c.seqs.iter().chain(native.iter()).collect();
    let total = c.seqs.total() + native.total();
    deliveries(&mut b, store, seqs.into_iter(), total);
    Some(Detail {
        title: format!("Call {}", clean(c.call_id.as_deref().unwrap_or("?"), 40)),
        bodies: b.bodies,
        lines: b.lines,
        scroll: 0,
        message: None,
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
        bodies: b.bodies,
        lines: b.lines,
        scroll: 0,
        message: None,
    })
}

#[cfg(test)]
mod tests;
