//! The detail views built from a store: lifecycles, delays, and the bounds that keep a
//! huge body or a row with many deliveries from opening as an unbounded view.

use super::*;

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

fn text(d: &Detail) -> Vec<String> {
    d.lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// Lines of the whole print, by serde_json's own pretty printer (one per element).
fn whole(body: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    serde_json::to_string_pretty(&v).unwrap().lines().count()
}

/// A 1 MB body of 500k array elements opens as a view of at most `BODY_LINES` of
/// it, with a marker counting the rest; a small body is shown whole, no marker.
#[test]
fn a_huge_body_opens_as_a_bounded_view_that_says_what_it_left_out() {
    let elements = vec!["0"; 500_000].join(",");
    let huge = format!(r#"{{"event":"future.event","data":[{elements}]}}"#);
    let small = r#"{"event":"future.event","data":[0,1,2]}"#;
    assert!(huge.len() > 1_000_000);
    let mut store = Store::new(10);
    store.apply(Record::delivery(1, small.as_bytes()));
    store.apply(Record::delivery(2, huge.as_bytes()));
    let theme = Theme::new(false);
    let open = |seq| {
        let t = std::time::Instant::now();
        let d = record(&store, seq, theme).unwrap();
        (d, t.elapsed())
    };
    let (small_view, small_took) = open(1);
    let (big_view, big_took) = open(2);
    let header = small_view.lines.len() - whole(small);
    assert!(
        !text(&small_view).iter().any(|l| l.contains("not shown")),
        "{:?}",
        text(&small_view)
    );
    assert_eq!(big_view.lines.len(), header + BODY_LINES + 1);
    let marker = text(&big_view).pop().unwrap();
    let hidden = whole(&huge) - BODY_LINES;
    assert!(
        marker.contains(&format!("{hidden} more lines")) && marker.contains("y copies it whole"),
        "{marker}"
    );
    eprintln!(
        "detail of a {} B body: {} lines in {big_took:?}; of a {} B body: {} lines in {small_took:?}",
        huge.len(),
        big_view.lines.len(),
        small.len(),
        small_view.lines.len()
    );
}

/// A call with many big deliveries: every body capped, all of them together within
/// the view's budget; the oldest deliveries past the row's bound said to be dropped.
#[test]
fn a_call_with_many_big_deliveries_stays_within_the_view_budget() {
    use crate::store::numbers::RecentSeqs;
    let pad = vec!["1"; 5_000].join(",");
    let n = RecentSeqs::KEPT as u64 + 6;
    let mut store = Store::new(1_000);
    for seq in 1..=n {
        let body = format!(
            r#"{{"event":"call.ringing","callId":"c1","externalCallId":"wacid.1","direction":"INBOUND","status":"RINGING","from":"1","to":"2","timestamp":"2026-07-03T15:00:00Z","pad":[{pad}],"n":{seq}}}"#
        );
        store.apply(Record::delivery(seq, body.as_bytes()));
    }
    let ord = store.calls().range().start;
    let d = call(&store, ord, Theme::new(false)).unwrap();
    let lines = text(&d);
    let bodies = lines.iter().filter(|l| l.trim() == "1,").count();
    assert!(bodies <= VIEW_BODY_LINES, "{bodies} body lines");
    assert!(d.lines.len() < VIEW_BODY_LINES + 10 * RecentSeqs::KEPT);
    let markers = lines.iter().filter(|l| l.contains("not shown")).count();
    assert_eq!(
        markers,
        RecentSeqs::KEPT,
        "every listed body is cut or left out"
    );
    let dropped = n - RecentSeqs::KEPT as u64;
    let heading = format!(
        "Deliveries ({n}; the newest {} listed, {dropped} older ones dropped",
        RecentSeqs::KEPT
    );
    assert!(lines.iter().any(|l| l.starts_with(&heading)), "{heading}");
    // `y` copies whichever of them is scrolled to, each whole.
    let copies = |l: &&String| l.contains("y copies it whole from here");
    assert_eq!(lines.iter().filter(copies).count(), markers);
}
