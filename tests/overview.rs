//! The overview (issue 16), drawn into ratatui's TestBackend: the default screen at
//! 80×24, 120×40 and 200×50 over the corpus plus the demo's kinds of traffic (its
//! seeded simulator, five minutes at two events a second), and its keys: `Tab` moves
//! the focus, `Enter` opens the focused row, `z` zooms the focused panel and back.

mod common;

use common::tui::{app, at, press, record_at, screen, snapshot};
use std::collections::BTreeMap;

use pilotwatch::demo::Simulator;
use pilotwatch::model::alert::{Alert, AlertRecord, AlertState, Severity};
use pilotwatch::record::Record;
use pilotwatch::store::Store;
use pilotwatch::tui::app::{Mode, Panel};
use pilotwatch::tui::view::Pane;

/// The corpus, then what the demo sends over the five minutes up to the app's clock.
fn traffic() -> Store {
    let mut store = common::tui::store(&[]);
    let mut seq = store.counters().total;
    let mut sim = Simulator::new(7);
    let start = at("2026-11-21T12:00:00Z");
    for tick in 0..600 {
        let now = start + chrono::Duration::milliseconds(500 * tick);
        for body in sim.step(now) {
            seq += 1;
            store.apply(record_at(seq, now, body.to_string().as_bytes()));
        }
    }
    store
}

#[test]
fn the_overview_is_the_default_screen_at_three_sizes() {
    let store = traffic();
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        let s = screen(&mut app(), &store, w, h);
        for panel in ["Flow", "Calls", "Fleet", "Attention"] {
            assert!(
                s.contains(&format!(" {panel} ")),
                "{panel} at {w}x{h}:\n{s}"
            );
        }
        snapshot!(format!("overview_{w}x{h}"), s);
    }
}

#[test]
fn tab_moves_the_focus_and_the_keys_follow_it() {
    let store = traffic();
    let mut app = app();
    assert_eq!(app.overview.focus, Panel::Flow);
    press(&mut app, &store, "\t");
    assert_eq!(app.overview.focus, Panel::Calls);
    assert_eq!(app.pane, Pane::Calls);
    // In the order they read on screen: Calls, Activity, Fleet, Attention, Flow.
    press(&mut app, &store, "\t");
    assert_eq!(app.overview.focus, Panel::Activity);
    press(&mut app, &store, "\t\t");
    assert_eq!(app.overview.focus, Panel::Attention);
    press(&mut app, &store, "\t");
    assert_eq!(app.overview.focus, Panel::Flow);
    assert_eq!(app.pane, Pane::Messages);
    // The panes' own Tab is untouched once a pane is full screen.
    press(&mut app, &store, "1\t");
    assert!(!app.overview.shown);
    assert_eq!(app.pane, Pane::Numbers);
    press(&mut app, &store, "0");
    assert!(app.overview.shown);
}

#[test]
fn enter_opens_the_focused_rows_detail() {
    let store = traffic();
    let mut app = app();
    press(&mut app, &store, "j\n");
    assert!(matches!(app.mode, Mode::Detail(_)));
    let s = screen(&mut app, &store, 120, 40);
    assert!(s.contains("message"), "{s}");
    // Back on the overview, the call under Calls' focus.
    press(&mut app, &store, "\x1b\t\n");
    assert!(app.overview.shown);
    let Mode::Detail(d) = &app.mode else {
        panic!("no call detail")
    };
    assert!(!d.lines.is_empty());
    press(&mut app, &store, "\x1b");
    assert!(matches!(app.mode, Mode::Normal) && app.overview.shown);
}

#[test]
fn z_zooms_the_focused_panel_and_back() {
    let store = traffic();
    let mut app = app();
    press(&mut app, &store, "\tz");
    let zoomed = screen(&mut app, &store, 120, 40);
    assert!(
        zoomed.contains(" Calls ") && !zoomed.contains(" Flow "),
        "{zoomed}"
    );
    press(&mut app, &store, "z");
    let back = screen(&mut app, &store, 120, 40);
    assert!(
        back.contains(" Calls ") && back.contains(" Flow "),
        "{back}"
    );
    // Esc leaves the zoom too.
    press(&mut app, &store, "z\x1b");
    assert!(!app.overview.zoomed && app.overview.shown);
}

#[test]
fn enter_on_a_number_shows_its_messages_full_screen() {
    let store = traffic();
    let mut app = app();
    press(&mut app, &store, "\t\t\tj\n");
    assert_eq!(app.overview.focus, Panel::Fleet);
    assert!(!app.overview.shown);
    assert_eq!(app.pane, Pane::Messages);
    assert!(
        app.filter.query().starts_with("number:"),
        "{:?}",
        app.filter.query()
    );
}

#[test]
fn calls_name_our_number_and_mark_e164_parties() {
    let store = traffic();
    let s = screen(&mut app(), &store, 200, 50);
    assert!(s.contains("+5511987650006 → Loja Centro ● ringing"), "{s}");
}

/// A `number.*` event for `id`, named after it.
fn number_event(event: &str, id: &str) -> String {
    format!(
        r#"{{"event":"{event}","data":{{"numberId":"{id}","phone":"+5511900000000","displayName":"{id}","createdAt":"2026-11-21T11:00:00.000Z"}}}}"#
    )
}

#[test]
fn only_numbers_the_provider_said_are_not_connected_count_as_down() {
    // Seen only in a message (state unknown), removed on purpose, connected: not down.
    let message = r#"{"event":"message.received","data":{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0quiet00000000000000000","messageId":"w1","id":"m1","type":"text","fromMe":false,"content":"hi","createdAt":"2026-11-21T11:00:00.000Z"}}"#;
    let mut bodies = vec![
        message.to_owned(),
        number_event("number.removed", "gone"),
        number_event("number.connected", "fine"),
    ];
    let mut store = Store::new(100);
    let apply = |store: &mut Store, bodies: &[String]| {
        for (i, b) in bodies.iter().enumerate() {
            store.apply(common::tui::record(i as u64 + 1, b.as_bytes()));
        }
    };
    apply(&mut store, &bodies);
    let s = screen(&mut app(), &store, 80, 24);
    assert!(s.contains("0 numbers down"), "{s}");
    // The Fleet names the one with no name by its id, whole (the name column is as
    // wide as its widest name, up to an id's 25 characters).
    let fleet = |l: &&str| l.starts_with("│cmm0quiet0000000000000000 ") && l.contains(" unknown ");
    assert!(s.lines().any(|l| fleet(&l)), "{s}");
    // Disconnected: down, and named.
    bodies.push(number_event("number.disconnected", "broken"));
    store = Store::new(100);
    apply(&mut store, &bodies);
    let s = screen(&mut app(), &store, 80, 24);
    assert!(s.contains("1 number down"), "{s}");
    assert!(s.lines().any(|l| l.starts_with("│broken ")), "{s}");
}

#[test]
fn a_fleet_too_long_for_its_panel_still_shows_the_numbers_in_trouble() {
    let mut store = Store::new(100);
    let ids = ["first", "second", "third", "fourth", "fifth", "sixth"];
    let mut events: Vec<String> = ids
        .iter()
        .map(|id| number_event("number.connected", id))
        .collect();
    // The last one down, the one before it unhealthy.
    events.push(number_event("number.disconnected", "sixth"));
    events.push(number_event("number.health_degraded", "fifth"));
    for (seq, body) in (1..).zip(&events) {
        store.apply(common::tui::record(seq, body.as_bytes()));
    }
    let s = screen(&mut app(), &store, 80, 24);
    let names: Vec<&str> = (s.lines())
        .skip_while(|l| !l.contains(" Fleet "))
        .skip(2)
        .take_while(|l| l.starts_with('│'))
        .filter_map(|l| l.trim_start_matches('│').split_whitespace().next())
        .collect();
    assert!(names.len() == 2, "the panel's room changed:\n{s}");
    // Down and unhealthy first, shown in the Numbers pane's order.
    assert_eq!(names, ["fifth", "sixth"], "{s}");
    // The title says it leaves some out, and where all are.
    assert!(s.contains("┌ Fleet · 2 of 6 (2 lists all) ─"), "{s}");
    // An alert active for a number puts it before the merely unhealthy.
    let failing = Alert {
        name: "failure_rate".into(),
        state: AlertState::Firing,
        severity: Severity::Warning,
        number: Some("second".into()),
        summary: "second: 3 of 10 sends failed".into(),
        starts_at: at("2026-11-21T11:00:00Z"),
        ends_at: None,
        labels: BTreeMap::new(),
        cause: None,
        fired: false,
    };
    let mut r = Record::alert(&AlertRecord::Transition(failing));
    r.seq = store.last_seq() + 1;
    r.received_at = at("2026-11-21T11:00:00Z");
    store.apply(r);
    let s = screen(&mut app(), &store, 80, 24);
    assert!(s.contains("│second "), "{s}");
    assert!(s.contains("│sixth "), "{s}");
    assert!(!s.contains("│fifth "), "{s}");
}

#[test]
fn quiet_seconds_leave_the_activity_chart_empty() {
    // Two bursts, a minute apart, in the five minutes before the app's clock.
    let mut store = Store::new(1_000);
    let mut seq = 0;
    let now = app().now;
    for ago in [90, 30] {
        for n in 0..3 {
            seq += 1;
            let body = number_event("number.connected", &format!("n{n}"));
            let when = now - chrono::Duration::seconds(ago);
            store.apply(record_at(seq, when, body.as_bytes()));
        }
    }
    let s = screen(&mut app(), &store, 200, 50);
    let zero = s
        .lines()
        .find(|l| l.contains("│0  │"))
        .unwrap_or_else(|| panic!("no chart axis:\n{s}"));
    let blocks = zero.matches('█').count();
    // A bar for each burst (a column or two each), not a row of blocks along zero.
    assert!(
        (2..=6).contains(&blocks),
        "{blocks} blocks on the zero row:\n{s}"
    );
}

/// The minute labels sit under the seconds they name: a burst a minute ago is drawn
/// under `-1m`, one two minutes ago under `-2m` (ratatui would space them by a sixth
/// of the width, not by their minutes).
#[test]
fn the_activity_charts_minutes_sit_under_their_seconds() {
    let mut store = Store::new(1_000);
    let now = app().now;
    let mut seq = 0;
    for ago in [60, 120, 240] {
        for n in 0..3 {
            seq += 1;
            let body = number_event("number.connected", &format!("n{n}"));
            store.apply(record_at(
                seq,
                now - chrono::Duration::seconds(ago),
                body.as_bytes(),
            ));
        }
    }
    for (w, h) in [(200, 50), (120, 40)] {
        let s = screen(&mut app(), &store, w, h);
        let grid: Vec<Vec<char>> = s.lines().map(|l| l.chars().collect()).collect();
        let zero = (grid.iter())
            .position(|l| l.iter().collect::<String>().contains("│0  │"))
            .unwrap_or_else(|| panic!("no chart:\n{s}"));
        let labels = (grid.iter().skip(zero))
            .find(|l| l.iter().collect::<String>().contains("now"))
            .unwrap_or_else(|| panic!("no labels:\n{s}"));
        let bars: Vec<usize> = (0..grid[zero].len())
            .filter(|x| grid[zero][*x] == '█')
            .collect();
        for minutes in ["-1m", "-2m", "-4m"] {
            let text: String = labels.iter().collect();
            let at = text
                .find(minutes)
                .map(|b| text[..b].chars().count() + 1)
                .unwrap_or_else(|| panic!("no {minutes} at {w}×{h}:\n{s}"));
            assert!(
                bars.iter().any(|b| b.abs_diff(at) <= 1),
                "{minutes} at column {at}, bars at {bars:?} ({w}×{h}):\n{s}"
            );
        }
    }
}

/// A filter that leaves the Flow empty says so, as the Messages pane does.
#[test]
fn a_filter_matching_no_message_says_so_in_the_flow() {
    let store = traffic();
    let mut app = app();
    press(&mut app, &store, "/zzqx\n");
    let s = screen(&mut app, &store, 120, 40);
    assert!(s.contains("no message matches zzqx (Esc clears it)"), "{s}");
}
