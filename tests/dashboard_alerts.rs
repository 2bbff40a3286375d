//! Alerts on the dashboard (issue 17), in ratatui's TestBackend over the corpus plus
//! alert records as the service's evaluator journals them: the Alerts pane (`7`), the
//! overview's Attention and the header's count, `Enter` going to an alert's cause, and
//! the bell for an alert that fires while watching (not for one fired before).

mod common;

use std::collections::BTreeMap;

use common::tui::{app, at, press, screen, snapshot, store};
use pilotwatch::model::alert::{
    Alert, AlertKey, AlertRecord, AlertState, Cause, Channel, Notified, Severity,
};
use pilotwatch::record::Record;
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Mode, Panel};
use pilotwatch::tui::view::Pane;

const NUMBER: &str = "cmm0abc123";
/// The corpus' `message.sent`: an outbound message a `stuck_message` alert can name.
const MESSAGE: &str = "cmm04obm46zz0qv4ycjp8x6r2";

fn alert(name: &str, state: AlertState, severity: Severity, starts: &str) -> Alert {
    Alert {
        name: name.into(),
        state,
        severity,
        number: Some(NUMBER.into()),
        summary: format!("{name}: what is wrong, with the figures that say so"),
        starts_at: at(starts),
        ends_at: None,
        labels: BTreeMap::from([("alertname".into(), name.into())]),
        cause: Some(Cause::Number { id: NUMBER.into() }),
        fired: false,
    }
}

/// The record after the store's newest, written at `when`.
fn apply(store: &mut Store, when: &str, a: &AlertRecord) {
    let mut r = Record::alert(a);
    r.seq = store.last_seq() + 1;
    r.received_at = at(when);
    store.apply(r);
}

fn notified(name: &str, channel: Channel, ok: bool, status: &str) -> AlertRecord {
    AlertRecord::Notified(Notified {
        key: AlertKey::new(name, Some(NUMBER)),
        state: AlertState::Firing,
        channel,
        ok,
        status: status.into(),
        detail: String::new(),
        attempts: 1,
    })
}

/// Two firing (critical, warning), one pending, and two ended (one had fired, one was
/// only pending), with what notifying them came to.
fn with_alerts() -> Store {
    let mut s = store(&[]);
    let mut ended = alert(
        "silent_number",
        AlertState::Firing,
        Severity::Warning,
        "2026-11-21T11:40:00Z",
    );
    apply(
        &mut s,
        "2026-11-21T11:40:00Z",
        &AlertRecord::Transition(ended.clone()),
    );
    ended.state = AlertState::Resolved;
    ended.fired = true;
    ended.ends_at = Some(at("2026-11-21T11:52:00Z"));
    apply(
        &mut s,
        "2026-11-21T11:52:00Z",
        &AlertRecord::Transition(ended),
    );
    let mut brief = alert(
        "rejected_deliveries",
        AlertState::Resolved,
        Severity::Warning,
        "2026-11-21T11:58:00Z",
    );
    (brief.number, brief.cause) = (None, Some(Cause::Delivery { seq: 9_999 }));
    brief.ends_at = Some(at("2026-11-21T11:58:30Z"));
    apply(
        &mut s,
        "2026-11-21T11:58:30Z",
        &AlertRecord::Transition(brief),
    );
    let firing = alert(
        "number_disconnected",
        AlertState::Firing,
        Severity::Critical,
        "2026-11-21T12:02:00Z",
    );
    apply(
        &mut s,
        "2026-11-21T12:02:00Z",
        &AlertRecord::Transition(firing),
    );
    apply(
        &mut s,
        "2026-11-21T12:02:01Z",
        &notified("number_disconnected", Channel::Exec, true, "exit 0"),
    );
    let mut rate = alert(
        "failure_rate",
        AlertState::Firing,
        Severity::Warning,
        "2026-11-21T12:03:30Z",
    );
    rate.cause = None;
    apply(
        &mut s,
        "2026-11-21T12:03:30Z",
        &AlertRecord::Transition(rate),
    );
    apply(
        &mut s,
        "2026-11-21T12:03:31Z",
        &notified("failure_rate", Channel::Webhook, false, "HTTP 500"),
    );
    let mut stuck = alert(
        "stuck_message",
        AlertState::Pending,
        Severity::Warning,
        "2026-11-21T12:04:40Z",
    );
    stuck.cause = Some(Cause::Message { id: MESSAGE.into() });
    apply(
        &mut s,
        "2026-11-21T12:04:40Z",
        &AlertRecord::Transition(stuck),
    );
    s
}

#[test]
fn seven_shows_the_alerts_pane_at_two_sizes() {
    let store = with_alerts();
    for (w, h) in [(80, 24), (200, 50)] {
        let mut app = app();
        press(&mut app, &store, "7");
        assert!(app.alerts.shown);
        let s = screen(&mut app, &store, w, h);
        assert!(s.contains("firing for 3m"), "{s}");
        assert!(s.contains("pending 20s"), "{s}");
        assert!(s.contains("resolved 13m ago "), "{s}");
        // The number by its name, not its id.
        assert!(s.contains("Main store"), "{s}");
        snapshot!(format!("alerts_{w}x{h}"), s);
        // The selected one's whole story below the list: how long it fired.
        press(&mut app, &store, "G");
        let s = screen(&mut app, &store, w, h);
        assert!(s.contains("resolved 13m ago after 12m · notified:"), "{s}");
    }
}

#[test]
fn the_pane_says_plainly_when_there_are_none() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "7");
    let s = screen(&mut app, &store, 120, 24);
    assert!(
        s.contains("no alerts (rules are evaluated by the service"),
        "{s}"
    );
    assert!(!s.contains("firing"), "{s}");
}

#[test]
fn attention_lists_firing_alerts_first_and_the_header_counts_them() {
    let store = with_alerts();
    let s = screen(&mut app(), &store, 120, 40);
    assert!(s.contains("⚠ 2 firing"), "{s}");
    let attention = s.find("⚠ firing 3m Main store").expect(&s);
    let counts = s.find(" failed  1 number down").expect(&s);
    assert!(attention < counts, "alerts come above the counts:\n{s}");
    // With rows to spare, a long alert wraps (its continuation indented) rather
    // than stopping mid-word; the rule's name comes last.
    assert!(
        s.contains("│  what is wrong, with the figures that say so │"),
        "{s}"
    );
    assert!(s.contains("│  · number_disconnected "), "{s}");
    snapshot!("attention_120x40", s);
    // Stacked at 80×24: two alerts and how many more, above the counts.
    let narrow = screen(&mut app(), &store, 80, 24);
    assert!(narrow.contains("+1 more alert (7)  1 failed"), "{narrow}");
    // No row to spare: cut, and the ellipsis says there is more (on `7`).
    assert!(narrow.contains("with the figures…│"), "{narrow}");
    snapshot!("attention_80x24", narrow);
    // No alert, no count.
    let quiet = screen(&mut app(), &common::tui::store(&[]), 120, 40);
    assert!(!quiet.contains("firing"), "{quiet}");
}

#[test]
fn enter_on_a_number_alert_selects_the_number() {
    let store = with_alerts();
    let mut app = app();
    press(&mut app, &store, "7\n");
    assert!(!app.alerts.shown && !app.overview.shown);
    assert_eq!(app.pane, Pane::Numbers);
    let selected = &app.views.numbers[app.list().selected];
    assert_eq!(&*selected.raw_id, NUMBER);
    // Esc goes back to the Alerts pane, following as it did.
    press(&mut app, &store, "\x1b");
    assert!(app.alerts.shown && app.follow);
    // Once another view is chosen, Esc stays where it is.
    press(&mut app, &store, "\n3\x1b");
    assert!(!app.alerts.shown && app.pane == Pane::Calls);
}

#[test]
fn enter_on_a_message_alert_opens_the_message() {
    let store = with_alerts();
    let mut app = app();
    // Firing, firing, then the pending one.
    press(&mut app, &store, "7jj\n");
    assert_eq!(app.pane, Pane::Messages);
    let Mode::Detail(d) = &app.mode else {
        panic!("no detail: {:?}", app.notice)
    };
    let text: String = d.lines.iter().map(|l| l.to_string() + "\n").collect();
    assert!(text.contains(MESSAGE), "{text}");
    // The list is on that row, so `r`, `y` and Esc act on it.
    let ord = app
        .views
        .key_at(Pane::Messages, app.list().selected)
        .unwrap();
    assert_eq!(store.messages().outbound_ord(MESSAGE), Some(ord));
}

#[test]
fn enter_in_attention_goes_to_the_cause_and_a_lost_one_is_said() {
    let store = with_alerts();
    let mut app = app();
    press(&mut app, &store, "\t\t\t\t");
    assert_eq!(app.overview.focus, Panel::Attention);
    press(&mut app, &store, "\n");
    assert_eq!(app.pane, Pane::Numbers);
    assert!(!app.overview.shown);
    // An ended alert whose delivery is gone from memory.
    let mut app = app_over(&store);
    press(&mut app, &store, "7jjj\n");
    assert!(app.alerts.shown, "stays put");
    assert!(
        app.notice
            .as_deref()
            .unwrap_or("")
            .contains("delivery #9999 is no longer in memory"),
        "{:?}",
        app.notice
    );
}

fn app_over(store: &Store) -> App {
    let mut app = app();
    app.sync(store);
    app
}

#[test]
fn the_bell_rings_once_for_an_alert_that_fires_while_watching() {
    let mut store = with_alerts();
    let mut app = app();
    screen(&mut app, &store, 80, 24);
    assert!(!app.take_bell(), "those fired before are history");
    let disk = alert(
        "journal_failed",
        AlertState::Firing,
        Severity::Critical,
        "2026-11-21T12:04:59Z",
    );
    apply(
        &mut store,
        "2026-11-21T12:05:00Z",
        &AlertRecord::Transition(disk),
    );
    screen(&mut app, &store, 80, 24);
    assert!(app.take_bell());
    assert!(!app.take_bell(), "once");
    screen(&mut app, &store, 80, 24);
    assert!(!app.take_bell(), "nothing new");
    // A repeat or an outcome is no new firing.
    let repeat = alert(
        "journal_failed",
        AlertState::Firing,
        Severity::Critical,
        "2026-11-21T12:04:59Z",
    );
    apply(
        &mut store,
        "2026-11-21T12:05:00Z",
        &AlertRecord::Repeat(repeat),
    );
    screen(&mut app, &store, 80, 24);
    assert!(!app.take_bell());

    // `--no-bell`.
    let mut quiet = common::tui::app();
    quiet.alerts.ring = false;
    screen(&mut quiet, &store, 80, 24);
    let late = alert(
        "no_deliveries",
        AlertState::Firing,
        Severity::Warning,
        "2026-11-21T12:05:00Z",
    );
    apply(
        &mut store,
        "2026-11-21T12:05:00Z",
        &AlertRecord::Transition(late),
    );
    screen(&mut quiet, &store, 80, 24);
    assert!(!quiet.take_bell());
}

#[test]
fn history_loading_when_attached_rings_nothing() {
    let mut store = Store::new(1000);
    let mut app = app();
    // Attached, the history not in yet: nothing is taken as seen, nothing rings.
    app.loading = Some((0, 0));
    screen(&mut app, &store, 80, 24);
    let old = alert(
        "number_disconnected",
        AlertState::Firing,
        Severity::Critical,
        "2026-11-21T11:00:00Z",
    );
    apply(
        &mut store,
        "2026-11-21T11:00:00Z",
        &AlertRecord::Transition(old),
    );
    screen(&mut app, &store, 80, 24);
    app.loading = None;
    screen(&mut app, &store, 80, 24);
    assert!(!app.take_bell());
}

/// A firing alert with no outcome says why when the service sends alerts nowhere but
/// to dashboards (not "no outcome yet", which reads as a notification on its way).
#[test]
fn an_alert_with_nowhere_to_go_says_so() {
    let store = with_alerts();
    let mut app = app();
    app.info.alert_targets = Some(0);
    // The one that fired and resolved, no outcome recorded.
    press(&mut app, &store, "7G");
    let s = screen(&mut app, &store, 200, 30);
    assert!(
        s.contains("notified: no (no --alert-exec or --alert-webhook: dashboards only)"),
        "{s}"
    );
    // Where the targets are not known (attached over NATS), it says what it knows.
    app.info.alert_targets = None;
    let s = screen(&mut app, &store, 200, 30);
    assert!(s.contains("notified: no outcome yet"), "{s}");
}
