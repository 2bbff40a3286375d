//! What is wrong right now, read off the store: one [`Condition`] per rule and number
//! that holds at `now`. Pure (a store, a clock, the journal's state in; conditions
//! out), so each rule's edges are tested with an injected clock. Nothing here scans the
//! whole store: numbers are few, and stuck messages come from the store's index of
//! unsettled ones.

use chrono::{DateTime, Utc};

use crate::alerts::rules::{Rule, RuleSettings, Rules};
use crate::model::Verdict;
use crate::model::alert::Cause;
use crate::store::messages::Status;
use crate::store::{HashMap, NumberRow, Store};

/// A rule's condition holding for one number (or for the whole service).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub rule: Rule,
    pub number: Option<String>,
    /// When the condition began, when the data tells (a disconnect's time); else now.
    pub since: DateTime<Utc>,
    pub summary: String,
    pub cause: Option<Cause>,
}

/// What the rules read besides the store.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub now: DateTime<Utc>,
    /// Why the journal stopped taking writes, if it has.
    pub journal_failure: Option<&'a str>,
    /// When this service started: "nothing received" counts from here at the earliest.
    pub started: DateTime<Utc>,
}

/// Health transitions that are good news; any other `number.health_*` is bad.
const HEALTHY: &[&str] = &[
    "ok",
    "healthy",
    "good",
    "normal",
    "up",
    "green",
    "recovered",
    "restored",
    "connected",
];

pub fn evaluate(rules: &Rules, store: &Store, facts: Facts<'_>) -> Vec<Condition> {
    let mut out = Vec::new();
    for (rule, s) in rules.enabled() {
        match rule {
            Rule::NumberDisconnected => disconnected(store, facts, &mut out),
            Rule::NumberDegraded => degraded(store, facts, &mut out),
            Rule::StuckMessage => stuck(store, s, facts, &mut out),
            Rule::FailureRate => failure_rate(store, s, facts, &mut out),
            Rule::SilentNumber => silent(store, s, facts, &mut out),
            Rule::NoDeliveries => no_deliveries(store, s, facts, &mut out),
            Rule::RejectedDeliveries => rejected(store, s, facts, &mut out),
            Rule::ApiDisagrees => disagrees(store, s, facts, &mut out),
            Rule::WebhooksLost => lost(store, s, facts, &mut out),
            Rule::JournalFailed => {
                if let Some(why) = facts.journal_failure {
                    out.push(Condition {
                        rule,
                        number: None,
                        since: facts.now,
                        summary: format!("the journal stopped accepting writes: {why}"),
                        cause: None,
                    });
                }
            }
        }
    }
    out
}

/// `Main store (+5511…)`, or the id when nothing better is known.
fn who(n: &NumberRow) -> String {
    let name = n.display_name.as_deref().or(n.profile_name.as_deref());
    match (name, n.phone.as_deref()) {
        (Some(name), Some(phone)) => format!("{name} ({phone})"),
        (Some(name), None) => name.to_owned(),
        (None, Some(phone)) => phone.to_owned(),
        (None, None) => n.number_id.to_string(),
    }
}

/// `3m`, `1h 5m`, `40s`.
pub fn span(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ if s % 3600 / 60 == 0 => format!("{}h", s / 3600),
        _ => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

/// `10:02:11 UTC`: a summary is written once, at a transition, so it names a time
/// rather than an age that would go stale.
fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M:%S UTC").to_string()
}

fn number_condition(rule: Rule, n: &NumberRow, since: DateTime<Utc>, summary: String) -> Condition {
    Condition {
        rule,
        number: Some(n.number_id.to_string()),
        since,
        summary,
        cause: Some(Cause::Number {
            id: n.number_id.to_string(),
        }),
    }
}

fn disconnected(store: &Store, f: Facts<'_>, out: &mut Vec<Condition>) {
    for n in store.numbers().iter() {
        if !n.state.is_down() {
            continue;
        }
        let since = n.state_at.unwrap_or(f.now).min(f.now);
        let error = n
            .error
            .as_ref()
            .map(|(e, _)| format!(": {e}"))
            .unwrap_or_default();
        let summary = format!(
            "{} is {} (since {}){error}",
            who(n),
            n.state.as_str(),
            clock(since)
        );
        out.push(number_condition(
            Rule::NumberDisconnected,
            n,
            since,
            summary,
        ));
    }
}

fn degraded(store: &Store, f: Facts<'_>, out: &mut Vec<Condition>) {
    for n in store.numbers().iter() {
        let Some(h) = &n.health else { continue };
        if HEALTHY.contains(&h.name.to_ascii_lowercase().as_str()) {
            continue;
        }
        let since = h.at.unwrap_or(f.now).min(f.now);
        let error = h
            .error
            .as_ref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let summary = format!("{} health is {}{error}", who(n), h.name);
        out.push(number_condition(Rule::NumberDegraded, n, since, summary));
    }
}

/// Per number: how many, and the oldest (its id and since when).
type Stuck = (u64, String, DateTime<Utc>);

fn stuck(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let threshold = s.threshold_duration();
    let horizon = chrono::Duration::from_std(s.window).unwrap_or(chrono::TimeDelta::MAX);
    let mut by_number: HashMap<&str, Stuck> = HashMap::default();
    for (_, row) in store.messages().unsettled() {
        let Some(at) = row.lifecycle.sent.and_then(|s| s.at).or(row.created_at) else {
            continue;
        };
        let age = f.now - at;
        if age < threshold || age > horizon {
            continue;
        }
        let e = by_number
            .entry(row.number_id())
            .or_insert_with(|| (0, row.id().to_owned(), at));
        e.0 += 1;
        if at < e.2 {
            (e.1, e.2) = (row.id().to_owned(), at);
        }
    }
    let mut found: Vec<_> = by_number.into_iter().collect();
    found.sort_by(|a, b| a.0.cmp(b.0));
    for (number, (count, oldest, since)) in found {
        let name = store
            .numbers()
            .get(number)
            .map_or_else(|| number.to_owned(), who);
        let summary = format!(
            "{count} message(s) from {name} still queued/sent after {} (the oldest since {})",
            span(threshold),
            clock(since)
        );
        out.push(Condition {
            rule: Rule::StuckMessage,
            number: Some(number.to_owned()),
            since: since + threshold,
            summary,
            cause: Some(Cause::Message { id: oldest }),
        });
    }
}

fn failure_rate(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let window = s.window.as_secs() as i64;
    for n in store.numbers().iter() {
        let Some(stats) = store.stats().number(&n.number_id) else {
            continue;
        };
        let recent = stats.recent_over(f.now, window);
        let Some(rate) = recent.failure_rate() else {
            continue;
        };
        if recent.messages_out < s.min_count.max(1) || rate <= s.threshold {
            continue;
        }
        let summary = format!(
            "{}: {} of {} sends failed in {} ({:.1} %, threshold {:.1} %)",
            who(n),
            recent.failed,
            recent.messages_out,
            span(chrono::Duration::seconds(window)),
            rate * 100.0,
            s.threshold * 100.0
        );
        out.push(number_condition(Rule::FailureRate, n, f.now, summary));
    }
}

fn silent(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let threshold = s.threshold_duration();
    let no_status_after = chrono::Duration::from_std(s.window).unwrap_or_default();
    // Sends accepted by the API with no webhook at all since, per number.
    let mut unanswered: HashMap<&str, (u64, DateTime<Utc>)> = HashMap::default();
    for (_, row) in store.messages().unsettled() {
        if row.status() != Status::Queued {
            continue;
        }
        let Some(at) = row.created_at else { continue };
        if f.now - at >= no_status_after {
            let e = unanswered.entry(row.number_id()).or_insert((0, at));
            e.0 += 1;
            e.1 = e.1.min(at);
        }
    }
    for n in store.numbers().iter() {
        if !n.state.is_connected() {
            continue;
        }
        if let Some((count, since)) = unanswered.get(&*n.number_id)
            && *count >= s.min_count.max(1)
        {
            let summary = format!(
                "{} is connected but {count} send(s) got no status back after {}",
                who(n),
                span(no_status_after)
            );
            out.push(number_condition(Rule::SilentNumber, n, *since, summary));
            continue;
        }
        let Some(stats) = store.stats().number(&n.number_id) else {
            continue;
        };
        let Some(last) = stats.last_message() else {
            continue;
        };
        let quiet = f.now - last;
        let history = last - stats.first_seen();
        // "Usually has traffic": over a history at least `threshold` long, its own rate
        // would have brought `min_count` messages in a quiet spell that long.
        if quiet < threshold || history < threshold || history.num_seconds() <= 0 {
            continue;
        }
        let due =
            stats.messages() as f64 * threshold.num_seconds() as f64 / history.num_seconds() as f64;
        if due < s.min_count.max(1) as f64 {
            continue;
        }
        let summary = format!(
            "{} is connected but nothing was sent or received for {} (usually ~{:.0} in {})",
            who(n),
            span(quiet),
            due,
            span(threshold)
        );
        out.push(number_condition(
            Rule::SilentNumber,
            n,
            last + threshold,
            summary,
        ));
    }
}

fn no_deliveries(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let last = store
        .stats()
        .last_delivery()
        .map_or(f.started, |l| l.max(f.started));
    let quiet = f.now - last;
    let threshold = s.threshold_duration();
    if quiet >= threshold {
        out.push(Condition {
            rule: Rule::NoDeliveries,
            number: None,
            since: last + threshold,
            summary: format!("no deliveries received for {}", span(quiet)),
            cause: None,
        });
    }
}

fn disagrees(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let grace = s.threshold_duration();
    for (id, api) in store.provider().numbers() {
        let (Some(since), Some(status)) = (api.disagree_since, &api.status) else {
            continue;
        };
        if f.now - since < grace {
            continue;
        }
        let Some(n) = store.numbers().get(id) else {
            continue;
        };
        let summary = format!(
            "{}: the API says {}{}, the webhooks {} (since {})",
            who(n),
            status.state,
            if status.stale { " (stale)" } else { "" },
            n.state.as_str(),
            clock(since)
        );
        out.push(number_condition(
            Rule::ApiDisagrees,
            n,
            since + grace,
            summary,
        ));
    }
}

fn lost(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let window = chrono::Duration::from_std(s.window).unwrap_or_default();
    let lost: Vec<_> = store
        .provider()
        .attempts()
        .filter(|a| a.lost() && f.now - a.attempt.created_at <= window)
        .collect();
    if (lost.len() as f64) < s.threshold.max(1.0) {
        return;
    }
    // The newest by when the provider made it: attempts are journaled in the order they
    // were settled (matched, or past their grace), not made.
    let Some(newest) = lost.iter().map(|a| &a.attempt).max_by_key(|a| a.created_at) else {
        return;
    };
    out.push(Condition {
        rule: Rule::WebhooksLost,
        number: None,
        since: f.now,
        summary: format!(
            "{} delivery attempt{} in the provider's log never reached the journal in the last {} (newest: {} at {})",
            lost.len(),
            if lost.len() == 1 { "" } else { "s" },
            span(window),
            crate::sanitize::line(&newest.event, 40),
            clock(newest.created_at)
        ),
        cause: None,
    });
}

fn rejected(store: &Store, s: &RuleSettings, f: Facts<'_>, out: &mut Vec<Condition>) {
    let window = s.window.as_secs() as usize;
    let count = store.stats().rejected(f.now, window);
    if (count as f64) < s.threshold.max(1.0) {
        return;
    }
    // The newest one, for Enter: it is among the newest records.
    let newest = store
        .feed()
        .rev()
        .take(10_000)
        .find(|r| r.verdict == Verdict::Rejected);
    let why = newest
        .and_then(|r| r.problems.first())
        .map(|p| format!(" (newest: {})", crate::sanitize::line(p, 80)))
        .unwrap_or_default();
    out.push(Condition {
        rule: Rule::RejectedDeliveries,
        number: None,
        since: f.now,
        summary: format!(
            "{count} deliveries refused in the last {}{why}",
            span(chrono::Duration::seconds(window as i64))
        ),
        cause: newest.map(|r| Cause::Delivery { seq: r.seq }),
    });
}
#[cfg(test)]
mod tests;
