use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::ago;
use crate::tui::app::{App, AttachLink};
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let c = &app.totals;
    let uptime = ago((app.now - app.info.started).num_seconds());
    let mut top = vec![Span::styled(" pilotwatch ", t.style(Tone::Title))];
    // First, so no width cuts it off.
    let firing = app.views.alerts.firing;
    if firing > 0 {
        top.push(Span::styled(
            format!("⚠ {firing} firing "),
            t.style(Tone::Bad),
        ));
    }
    if app.info.read_only {
        top.push(Span::styled(
            format!("{} ", app.info.listen),
            t.style(Tone::Plain),
        ));
        if let Some((read, total)) = app.loading {
            top.push(Span::styled(
                format!("· loading {} ", progress(read, total, 20)),
                t.style(Tone::Warn),
            ));
        } else {
            // Ages and windows count to the file's newest record, not to the clock.
            top.push(Span::styled(
                format!("· as of {} ", app.now.format("%Y-%m-%d %H:%M:%S UTC")),
                t.style(Tone::Plain),
            ));
        }
        access(app, &mut top);
    } else {
        let on_nats = app.info.listen.starts_with("nats");
        if let Some(a) = &app.attach {
            match &a.link {
                AttachLink::Attached { .. } if on_nats => top.push(Span::styled(
                    format!("⇄ on {} ", a.endpoint),
                    t.style(Tone::Good),
                )),
                AttachLink::Attached { clients } => top.push(Span::styled(
                    format!("⇄ attached {} ({clients} watching) → ", a.endpoint),
                    t.style(Tone::Good),
                )),
                AttachLink::Reconnecting { secs, why } => top.push(Span::styled(
                    format!("⟳ reconnecting to {}… {secs}s ({why}) ", a.endpoint),
                    t.style(Tone::Bad),
                )),
            }
            match app.loading {
                // Attached, the service's count of history records not heard yet.
                Some((_, 0)) => top.push(Span::styled("· loading history… ", t.style(Tone::Warn))),
                Some((read, total)) => top.push(Span::styled(
                    format!("· loading history {} ", progress(read, total, 20)),
                    t.style(Tone::Warn),
                )),
                None => {}
            }
            receivers(app, &a.receivers, &mut top);
        }
        if !on_nats {
            top.push(Span::styled(
                format!("http://{} ", app.info.listen),
                t.style(Tone::Plain),
            ));
        }
        // Trouble publishing is said early, where a narrow terminal still shows it.
        outbox(app, true, &mut top);
        if on_nats {
            // Each receiver checks with its own secret: every row says how it went.
        } else if app.info.signatures_checked {
            top.push(Span::styled("· signatures checked ", t.style(Tone::Good)));
        } else {
            top.push(Span::styled(
                "· ⚠ signatures NOT checked (no secret) ",
                t.style(Tone::Warn),
            ));
        }
        match (&app.failure, &app.info.journal) {
            // On NATS each receiver keeps its own journal (and holds the key, if any).
            (None, _) if on_nats => {}
            (Some(why), _) => top.push(Span::styled(
                format!("· ✗ JOURNAL FAILED: {why} "),
                t.style(Tone::Bad),
            )),
            (None, Some(j)) => {
                top.push(Span::styled(format!("· journal {j} "), t.style(Tone::Dim)))
            }
            (None, None) => top.push(Span::styled("· no journal ", t.style(Tone::Warn))),
        }
        let senders: Vec<&str> = app
            .attach
            .iter()
            .flat_map(|a| &a.receivers)
            .filter(|r| r.sends)
            .map(|r| r.name.as_str())
            .collect();
        match &app.info.api_key {
            _ if on_nats && !senders.is_empty() => top.push(Span::styled(
                format!("· replies via {} ", senders.join(", ")),
                t.style(Tone::Dim),
            )),
            _ if on_nats => top.push(Span::styled(
                "· no receiver holds an API key (replies off) ",
                t.style(Tone::Dim),
            )),
            Some(k) => top.push(Span::styled(format!("· key {k} "), t.style(Tone::Dim))),
            None => top.push(Span::styled(
                "· no API key (replies and reconciliation off) ",
                t.style(Tone::Dim),
            )),
        }
        access(app, &mut top);
        outbox(app, false, &mut top);
        if let Some(url) = &app.info.forward_to {
            let tone = if c.forward_failed + c.forward_dropped > 0 {
                Tone::Warn
            } else {
                Tone::Dim
            };
            top.push(Span::styled(
                format!(
                    "· → {url} {} ok {} failed {} dropped ",
                    c.forwarded, c.forward_failed, c.forward_dropped
                ),
                t.style(tone),
            ));
        }
    }
    // Uptime and arrival rate describe a running receiver; a file has neither.
    let live = !app.info.read_only;
    if live {
        top.push(Span::styled(format!("· up {uptime}"), t.style(Tone::Dim)));
    }
    let per_sec = app.rate.back().copied().unwrap_or(0);
    let deliveries = if c.total == 1 {
        "delivery"
    } else {
        "deliveries"
    };
    let mut bottom = vec![Span::styled(
        format!(" {} {deliveries} ", c.total),
        t.style(Tone::Plain),
    )];
    if live {
        bottom.push(Span::styled(format!("{per_sec}/s "), t.style(Tone::Accent)));
    }
    // Steps only the provider's API knows: said only when there are some,
    // and before the other counts, so no width cuts it off.
    if c.missing > 0 {
        bottom.push(Span::styled(
            format!("· {} webhook missing ", c.missing),
            t.style(Tone::Warn),
        ));
    }
    // (count, one, more than one)
    let counts = [
        (c.failed_messages, "failed", "failed", Tone::Bad),
        (c.rejected, "rejected", "rejected", Tone::Bad),
        (c.broken, "broken", "broken", Tone::Warn),
        (c.unknown, "unknown", "unknown", Tone::Info),
        (c.duplicates, "retry", "retries", Tone::Dim),
    ];
    for (n, one, more, tone) in counts {
        let tone = if n == 0 { Tone::Dim } else { tone };
        let label = if n == 1 { one } else { more };
        bottom.push(Span::styled(format!("· {n} {label} "), t.style(tone)));
    }
    if live {
        // Each part whole or not at all: a cut-off "failure rat" says nothing.
        let mut room = area.width.saturating_sub(width(&bottom));
        for part in pulse(app) {
            if part.width() as u16 > room {
                break;
            }
            room -= part.width() as u16;
            bottom.push(part);
        }
    }
    let [first, second] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(top)), first);
    let text_width = width(&bottom);
    let spark_width = second.width.saturating_sub(text_width + 1).min(120);
    let [text, spark] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(spark_width)]).areas(second);
    frame.render_widget(Paragraph::new(Line::from(bottom)), text);
    if live && spark_width >= 8 {
        let data: Vec<u64> = app
            .rate
            .iter()
            .rev()
            .take(spark_width as usize)
            .rev()
            .copied()
            .collect();
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(t.style(Tone::Accent)),
            spark,
        );
    }
}

fn width(spans: &[Span]) -> u16 {
    spans.iter().map(|s| s.width() as u16).sum()
}

/// lnav's pulse: how long since anything (not refused) arrived, and the share of
/// outbound messages that failed over the last five minutes (from `store::stats`).
fn pulse(app: &App) -> [Span<'static>; 2] {
    let t = &app.theme;
    let f = &app.figures;
    let last = match f.last_delivery {
        Some(at) => format!("· last delivery {} ago ", ago((app.now - at).num_seconds())),
        None => "· no delivery yet ".to_owned(),
    };
    let (rate, tone) = match f.failure_rate {
        None => ("—".to_owned(), Tone::Dim),
        Some(0.0) => ("0 %".to_owned(), Tone::Dim),
        Some(r) => (
            format!("{:.1} %", r * 100.0),
            if r < 0.05 { Tone::Warn } else { Tone::Bad },
        ),
    };
    [
        Span::styled(last, t.style(Tone::Dim)),
        Span::styled(format!("· 5-min failure rate {rate} "), t.style(tone)),
    ]
}

/// `[██████······] 45%`
fn progress(read: u64, total: u64, width: usize) -> String {
    let ratio = if total == 0 {
        1.0
    } else {
        (read as f64 / total as f64).min(1.0)
    };
    let filled = (ratio * width as f64).round() as usize;
    format!(
        "[{}{}] {:>3.0}%",
        "█".repeat(filled),
        "·".repeat(width - filled),
        ratio * 100.0
    )
}

/// A feature of reconciliation the key leaves off, said once, in words, beside the key
/// (after what the header says of the service, which it must not push out of sight).
fn access(app: &App, top: &mut Vec<Span<'static>>) {
    if let Some(off) = &app.views.provider.access {
        top.push(Span::styled(
            format!("· {off} "),
            app.theme.style(Tone::Warn),
        ));
    }
}

/// On NATS: each receiver and how old its newest record is (its outbox backlog when it
/// has one; amber when its heartbeat stopped).
fn receivers(app: &App, list: &[crate::tui::app::ReceiverView], top: &mut Vec<Span<'static>>) {
    let t = &app.theme;
    if list.is_empty() {
        return;
    }
    top.push(Span::styled("· receivers ", t.style(Tone::Dim)));
    for r in list {
        let age = r
            .last_record
            .map_or("–".to_owned(), |at| ago((app.now - at).num_seconds()));
        let backlog = if r.backlog > 0 {
            format!(" backlog {}", r.backlog)
        } else {
            String::new()
        };
        let tone = if r.silent || r.backlog > 0 {
            Tone::Warn
        } else {
            Tone::Plain
        };
        let silent = if r.silent { " silent" } else { "" };
        top.push(Span::styled(
            format!("{} {age}{backlog}{silent} ", r.name),
            t.style(tone),
        ));
    }
}

/// With `--nats`: where this receiver publishes, and its backlog when there is one.
/// `trouble`: only when something waits (said early); else only when all is well
/// (said late, where it may be cut).
fn outbox(app: &App, trouble: bool, top: &mut Vec<Span<'static>>) {
    let t = &app.theme;
    let Some(n) = &app.nats else { return };
    let fine = n.problem.is_none() && n.connected && n.backlog < 256;
    if fine == trouble {
        return;
    }
    let (text, tone) = match (&n.problem, n.backlog) {
        (Some(why), b) => (
            format!("· nats {}: {b} not published ({why}) ", n.receiver),
            Tone::Bad,
        ),
        // Connected, no error: a few records in flight are no backlog.
        (None, b) if n.connected && b < 256 => (format!("· nats {} ✓ ", n.receiver), Tone::Dim),
        (None, b) if !n.connected => (
            format!("· nats {}: {b} not published (connecting) ", n.receiver),
            Tone::Warn,
        ),
        (None, b) => (format!("· nats {}: backlog {b} ", n.receiver), Tone::Warn),
    };
    top.push(Span::styled(text, t.style(tone)));
}
