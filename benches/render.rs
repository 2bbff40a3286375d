//! The dashboard with a large store: one frame (state → buffer) of the Messages and
//! Feed panes, and one filter keystroke, against a baseline measured in the same run
//! (one substring pass over every content, the cost any unindexed filter pays).
//!
//! `cargo bench --bench render` (`PILOTWATCH_BENCH_N` deliveries, default 1,000,000).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::record::Record;
use pilotwatch::store::Store;
use pilotwatch::tui::app::App;
use pilotwatch::tui::render;
use pilotwatch::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "support/common.rs"]
mod common;
use common::{median, met};

fn body(i: u64) -> String {
    let content = [
        "Oi! Meu pedido ainda não chegou",
        "Vocês abrem no sábado?",
        "Bom dia! Tem em azul?",
        "Pode me ligar?",
    ][i as usize % 4];
    format!(
        r#"{{"event":"message.received","data":{{"from":"+55119{:08}","to":"+5511888888888","numberId":"cmm0abc123","messageId":"wamid.{i:012}","id":"cm{i:010}r","type":"text","fromMe":false,"content":"{content} #{i}","participantName":"Ana","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#,
        i % 100_000_000
    )
}

fn main() {
    let n: u64 = std::env::var("PILOTWATCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut store = Store::new(n as usize);
    let t = Instant::now();
    for i in 0..n {
        let b = body(i);
        store.apply(Record::delivery(i + 1, b.as_bytes()));
    }
    println!(
        "render: {n} deliveries stored in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Baseline: one plain substring pass over every message's content (case-sensitive,
    // no allocation: the least any unindexed filter pays).
    let base: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let hits = store
                .messages()
                .newest()
                .filter(|(_, m)| m.content().is_some_and(|c| c.contains("sábado")))
                .count();
            assert!(hits > 0);
            t.elapsed()
        })
        .collect();
    let base = median(base);

    let info = common::info();
    let mut app = App::new(info, Theme::new(true));
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    app.page = render::page_height(50);
    let t = Instant::now();
    app.sync(&store);
    println!(
        "first sync (views over {n} rows): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let frame = |app: &mut App, terminal: &mut Terminal<TestBackend>| {
        let t = Instant::now();
        app.sync(&store);
        terminal.draw(|f| render::draw(f, app)).unwrap();
        t.elapsed()
    };
    // The default screen: the overview (every panel, stats included).
    let mut overview = Vec::new();
    for _ in 0..50 {
        overview.push(frame(&mut app, &mut terminal));
    }
    app.handle_key(
        KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE),
        &store,
    );
    let mut messages = Vec::new();
    for _ in 0..50 {
        messages.push(frame(&mut app, &mut terminal));
    }
    app.handle_key(
        KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE),
        &store,
    );
    let mut feed = Vec::new();
    for _ in 0..50 {
        feed.push(frame(&mut app, &mut terminal));
    }
    app.handle_key(
        KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE),
        &store,
    );
    // A filter keystroke: `/` then one more letter, and the frame that shows it.
    app.handle_key(
        KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE),
        &store,
    );
    let mut keystroke = Vec::new();
    let mut complete = Vec::new();
    for c in "sábado".chars() {
        let t = Instant::now();
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), &store);
        app.sync(&store);
        terminal.draw(|f| render::draw(f, &app)).unwrap();
        keystroke.push(t.elapsed());
        // The rest of the pass runs a slice per frame: time until it has judged every row.
        let mut frames = 1;
        let mut pane_done = app.scan_progress.is_none().then(|| t.elapsed());
        while app.scanning {
            app.sync(&store);
            if pane_done.is_none() && app.scan_progress.is_none() {
                pane_done = Some(t.elapsed());
            }
            terminal.draw(|f| render::draw(f, &app)).unwrap();
            frames += 1;
        }
        complete.push((t.elapsed(), frames, pane_done.unwrap_or_default()));
    }
    let (o, m, f, k) = (
        median(overview),
        median(messages),
        median(feed),
        median(keystroke),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    complete.sort_unstable();
    let (whole, frames, pane) = complete[complete.len() / 2];
    println!(
        "baseline: one substring pass over {n} contents: {:.1} ms",
        ms(base)
    );
    println!(
        "frame, Overview, 200×50:         {:.3} ms = {:.1}× the Messages pane  (target ≤ 2 ms: {})",
        ms(o),
        ms(o) / ms(m),
        met(ms(o) <= 2.0)
    );
    println!(
        "frame, Messages pane, 200×50:    {:.3} ms  (target ≤ 1 ms: {})",
        ms(m),
        met(ms(m) <= 1.0)
    );
    println!(
        "frame, Feed pane, 200×50:        {:.3} ms  (target ≤ 1 ms: {})",
        ms(f),
        met(ms(f) <= 1.0)
    );
    println!(
        "filter keystroke → frame shown:  {:.1} ms = {:.2}× one pass  (target ≤ 30 ms: {})",
        ms(k),
        ms(k) / ms(base),
        met(ms(k) <= 30.0)
    );
    println!(
        "  Messages pane complete after:  {:.1} ms = {:.2}× one pass",
        ms(pane),
        ms(pane) / ms(base),
    );
    println!(
        "  every row judged after:        {:.1} ms = {:.2}× one pass, over {frames} frames (all panes)",
        ms(whole),
        ms(whole) / ms(base),
    );
}
