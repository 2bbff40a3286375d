//! Captured journals: `open` shows what the live run showed; `e` exports a filtered view
//! as journal lines that `open` reads back.

mod common;

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use common::{Running, client, corpus, settings};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::store::{SharedStore, Store};
use pilotwatch::tui::app::{App, Effect, Info};
use pilotwatch::tui::theme::Theme;
use pilotwatch::tui::{load_journal, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App {
    let started: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
    let info = Info {
        listen: "127.0.0.1:3000".into(),
        journal: None,
        signatures_checked: false,
        started,
        startup_note: None,
        api_key: None,
        forward_to: None,
        read_only: false,
        alert_targets: None,
    };
    let mut app = App::new(info, Theme::new(false));
    app.now = started;
    app
}

fn screen(app: &mut App, store: &Store) -> String {
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    app.page = render::page_height(50);
    app.sync(store);
    terminal.draw(|f| render::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..50)
        .map(|y| {
            (0..160)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn press(app: &mut App, store: &Store, keys: &str) -> Option<Effect> {
    app.sync(store);
    let mut effect = None;
    for c in keys.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        effect = app
            .handle_key(KeyEvent::new(code, KeyModifiers::NONE), store)
            .or(effect);
    }
    effect
}

fn loaded(path: &std::path::Path) -> SharedStore {
    let store = Store::shared(100_000);
    load_journal(path, &store, &AtomicU64::new(0), || {}).unwrap();
    store
}

/// Every corpus file, unsigned, to `/hooks`.
async fn post_corpus(server: &Running) {
    for (_, _, body) in corpus() {
        client()
            .post(server.url("/hooks"))
            .body(body)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn open_shows_the_same_rows_as_the_live_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    post_corpus(&server).await;
    client()
        .post(server.url("/hooks"))
        .body("not json")
        .send()
        .await
        .unwrap();
    server.ingest.settled().await;
    let live = server.ingest.store().clone();
    let opened = loaded(s.journal.as_ref().unwrap());
    for pane in ["1", "2", "3", "4"] {
        let (mut a, mut b) = (app(), app());
        press(&mut a, &live.read(), pane);
        press(&mut b, &opened.read(), pane);
        assert_eq!(
            screen(&mut a, &live.read()),
            screen(&mut b, &opened.read()),
            "pane {pane} differs"
        );
    }
    // A message's detail too (its lifecycle, from four deliveries).
    let (mut a, mut b) = (app(), app());
    press(&mut a, &live.read(), "1G\n");
    press(&mut b, &opened.read(), "1G\n");
    assert_eq!(screen(&mut a, &live.read()), screen(&mut b, &opened.read()));
    server.stop().await;
}

#[tokio::test]
async fn an_export_of_a_filtered_view_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    post_corpus(&server).await;
    server.ingest.settled().await;
    let live = server.ingest.store().clone();
    let mut a = app();
    let effect = press(&mut a, &live.read(), "4/verdict:broken\ne");
    let Some(Effect::Export { lines, rows }) = effect else {
        panic!("{effect:?}")
    };
    assert_eq!(rows, 5);
    let file = dir.path().join("export.ndjson");
    std::fs::write(&file, &lines).unwrap();
    let opened_store = loaded(&file);
    {
        let opened = opened_store.read();
        assert_eq!(opened.feed().len(), 5);
        let live = live.read();
        for r in opened.feed() {
            let original = live.record(r.seq).unwrap();
            assert_eq!(
                (&r.body, r.verdict, &r.problems),
                (&original.body, original.verdict, &original.problems)
            );
        }
        // A Messages-pane export carries every delivery behind each message.
        let mut m = app();
        let Some(Effect::Export { lines, rows }) = press(&mut m, &live, "1/status:read\ne") else {
            panic!()
        };
        assert_eq!(rows, 1);
        assert_eq!(
            lines.iter().filter(|b| **b == b'\n').count(),
            4,
            "sent, delivered, read, failed of one message"
        );
    }
    server.stop().await;
}
