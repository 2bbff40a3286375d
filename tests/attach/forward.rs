//! `--forward-to` through the real service: what the app answered is journaled as
//! `forward` records, so an attached dashboard's Feed shows it in the `app` column, and
//! a restart, `open` and a newly attached client all see the same answers. The URL's
//! credentials are in none of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Info};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::io::AsyncBufReadExt;

use super::*;

/// The user's app: answers 201 with a short text; counts what it got.
async fn app() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let router = axum::Router::new().fallback(move || {
        let s = s.clone();
        async move {
            s.fetch_add(1, Ordering::SeqCst);
            (axum::http::StatusCode::CREATED, "thanks from the app")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, seen)
}

/// (status, body head, replay) of every answer to each of `seqs`, as a store holds them.
fn answers(store: &Store, seqs: &[u64]) -> Vec<Vec<(Option<u16>, String, bool)>> {
    let of = |s: &u64| store.forwards().of(*s).iter();
    seqs.iter()
        .map(|s| {
            of(s)
                .map(|f| (f.status, f.body_head.clone(), f.replay))
                .collect()
        })
        .collect()
}

/// The Feed pane of a dashboard drawing `store`, as text.
fn feed(store: &Store, forward_to: Option<String>) -> String {
    let info = Info {
        listen: "attached".into(),
        journal: None,
        signatures_checked: false,
        started: chrono::Utc::now(),
        startup_note: None,
        api_key: None,
        forward_to,
        read_only: false,
        alert_targets: None,
    };
    let mut app = App::new(info, pilotwatch::tui::theme::Theme::new(false));
    let (width, height) = (160, 12);
    app.page = pilotwatch::tui::render::page_height(height);
    app.sync(store);
    let four = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('4'));
    app.handle_key(four, store);
    app.sync(store);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| pilotwatch::tui::render::draw(f, &app))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forward_results_reach_attached_dashboards_and_survive_a_restart() {
    let (addr, seen) = app().await;
    let url = format!("http://app-user:pw-CANARY-1@{addr}/hook?token=qs-CANARY-2");
    let dir = tempfile::tempdir().unwrap();
    let mut svc = Service::start(dir.path(), &["--forward-to", &url], &[]).await;
    let mut stdout = tokio::io::BufReader::new(svc.child.stdout.take().unwrap()).lines();
    let printed = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Ok(Some(line)) = stdout.next_line().await {
            all.push(line);
        }
        all
    });
    let c = Client::attach(options(&svc.socket)).await.unwrap();
    // The answers take seqs of their own, between the deliveries.
    let seqs = svc.post(0, 3).await;
    wait_for("the app's answers in the attached store", || {
        answers(&c.store().read(), &seqs)
            .iter()
            .all(|a| a.len() == 1)
    })
    .await;
    let answered = (Some(201), "thanks from the app".to_owned(), false);
    assert_eq!(
        answers(&c.store().read(), &seqs),
        vec![vec![answered.clone()]; 3]
    );
    let total = c.store().read().counters().total;
    assert_eq!(total, 3, "an answer is no delivery");
    assert_eq!(held(&c).0, seqs, "nor a Feed row of its own");
    // The Feed's `app` column, as an attached dashboard draws it.
    let shown = c.state().service.forward_to;
    assert!(
        shown.as_deref().is_some_and(|u| !u.contains("CANARY")),
        "{shown:?}"
    );
    let screen = feed(&c.store().read(), shown);
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("message.received"))
        .collect();
    assert_eq!(rows.len(), 3, "{screen}");
    assert!(rows.iter().all(|r| r.contains(" 201 ")), "{screen}");

    // A replay asked for by the client comes back to it as a record too.
    c.request(Request::Replay { seq: seqs[1] }).unwrap();
    wait_for("the replay's answer", || {
        answers(&c.store().read(), &seqs[1..2])[0].len() == 2
    })
    .await;
    assert_eq!(seen.load(Ordering::SeqCst), 4);
    let before = answers(&c.store().read(), &seqs);
    assert_eq!(
        before[1][1],
        (Some(201), "thanks from the app".into(), true)
    );
    let last = c.store().read().last_seq();
    assert_eq!(last, 7, "3 deliveries, 4 answers");
    let journal = svc.journal.clone();
    svc.stop().await;

    // Headless output: answers get lines of their own, never a delivery's.
    let printed = printed.await.unwrap();
    let of = |what: &str| printed.iter().filter(|l| l.contains(what)).count();
    assert_eq!(
        (of("message.received"), of("forward.ok")),
        (3, 4),
        "{printed:#?}"
    );
    assert!(
        printed
            .iter()
            .filter(|l| l.contains("forward.ok"))
            .all(|l| !l.contains("sig:"))
    );

    // The journal holds them, without the URL or its credentials.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.matches("\"kind\":\"forward\"").count(), 4);
    assert!(
        !text.contains("CANARY") && !text.contains("/hook"),
        "{text}"
    );

    // `open` rebuilds the same answers from the file.
    let opened = Store::shared(1000);
    let progress = std::sync::atomic::AtomicU64::new(0);
    pilotwatch::tui::load_journal(&journal, &opened, &progress, || {}).unwrap();
    assert_eq!(answers(&opened.read(), &seqs), before);

    // Restarted: the answers are replayed (nothing is forwarded again), and a client
    // that attaches afresh gets them with the deliveries.
    let svc = Service::start(dir.path(), &["--forward-to", &url], &[]).await;
    let d = Client::attach(options(&svc.socket)).await.unwrap();
    until_holds(&d, last).await;
    assert_eq!(answers(&d.store().read(), &seqs), before);
    let screen = feed(&d.store().read(), d.state().service.forward_to);
    assert_eq!(screen.matches(" 201 ").count(), 3, "{screen}");
    // An export of those rows holds the answers too: opened, it shows the same.
    let mut lines = Vec::new();
    for r in d.store().read().with_forwards(&seqs) {
        pilotwatch::journal::line::encode(r, &mut lines);
    }
    let export = dir.path().join("export.ndjson");
    std::fs::write(&export, lines).unwrap();
    let opened = Store::shared(1000);
    pilotwatch::tui::load_journal(&export, &opened, &progress, || {}).unwrap();
    assert_eq!(answers(&opened.read(), &seqs), before);
    // The first client reattached and caught up without applying anything twice.
    wait_for("the first client to reattach", || {
        c.state().link == Link::Attached
    })
    .await;
    assert_eq!(answers(&c.store().read(), &seqs), before);
    assert_eq!(seen.load(Ordering::SeqCst), 4, "nothing forwarded twice");
    svc.stop().await;
}
