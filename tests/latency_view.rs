//! The latency stats view (issue 16) drawn into ratatui's TestBackend from statuses at
//! fixed event times: each leg's p50/p95 and its histogram's bars.

mod common;

use common::tui::{app, at, press, record_at, screen};
use pilotwatch::store::Store;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn status(event: &str, id: u32, created: &str) -> String {
    format!(
        r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa{id}","id":"m{id}","type":"text","fromMe":true,"content":"hi","createdAt":"{created}"}}}}"#
    )
}

#[test]
fn the_latency_view_shows_quantiles_and_a_bar_per_bucket() {
    let mut store = Store::new(100);
    let mut seq = 0;
    let mut add = |store: &mut Store, body: String| {
        seq += 1;
        store.apply(record_at(seq, at("2026-11-21T12:04:00Z"), body.as_bytes()));
    };
    // Three messages delivered 100 ms, 200 ms and 3 s after being sent; one read 40 s on.
    for (id, delivered) in [(1, "00.100"), (2, "00.200"), (3, "03.000")] {
        add(&mut store, status("sent", id, "2026-11-21T12:03:00.000Z"));
        add(
            &mut store,
            status("delivered", id, &format!("2026-11-21T12:03:{delivered}Z")),
        );
    }
    add(&mut store, status("read", 1, "2026-11-21T12:03:40.100Z"));
    let mut app = app();
    screen(&mut app, &store, 120, 30);
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    terminal
        .draw(|f| pilotwatch::tui::render::latency::render(f, f.area(), &app))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let text: String = (0..buffer.area.height)
        .map(|y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            line.trim_end().to_owned() + "\n"
        })
        .collect();
    assert!(
        text.contains("Latency · last 1000 samples per leg"),
        "{text}"
    );
    assert!(
        text.contains("sent→delivered p50 200ms  p95 2.9s  (3)"),
        "{text}"
    );
    assert!(
        text.contains("delivered→read p50 39.9s  p95 39.9s  (1)"),
        "{text}"
    );
    for label in ["<250ms", "<5s", "<1m", "5m+"] {
        assert!(text.contains(label), "{label}:\n{text}");
    }
    // Key 5 shows it full screen, named on the tab line; 1 goes back to a pane.
    press(&mut app, &store, "5");
    let shown = screen(&mut app, &store, 120, 30);
    assert!(shown.contains(" 5 Latency "), "{shown}");
    assert!(shown.contains("sent→delivered p50 200ms"), "{shown}");
    press(&mut app, &store, "1");
    let back = screen(&mut app, &store, 120, 30);
    assert!(
        back.contains(" 5 Latency ") && !back.contains("sent→delivered p50"),
        "{back}"
    );
}
