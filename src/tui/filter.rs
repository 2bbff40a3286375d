//! The `/` filter: free text plus `field:value` terms, all of which must match.

use crate::record::{Record, Subject};
use crate::store::{CallRow, MessageRow, NumberRow, Numbers, Store};
use crate::tui::view::Pane;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Text(String),
    Event(String),
    Status(String),
    Number(String),
    Type(String),
    Verdict(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    query: String,
    terms: Vec<Term>,
}

/// Case-insensitive substring test (`needle` is lowercase). Candidates are found with
/// SIMD `memchr2` on the first byte of the needle's first character in either case,
/// then checked character by character: no allocation, and most of a haystack is
/// skipped at memchr speed (a filter judges every row in memory).
pub fn has(hay: &str, needle: &str) -> bool {
    has_bytes(hay.as_bytes(), needle)
}

/// [`has`] over bytes that may not be UTF-8 (a raw body): no validation pass first.
pub fn has_bytes(h: &[u8], needle: &str) -> bool {
    let Some(first) = needle.chars().next() else {
        return true;
    };
    let mut utf8 = [0; 4];
    let lower = first.encode_utf8(&mut utf8).as_bytes()[0];
    let upper = first
        .to_uppercase()
        .next()
        .map_or(lower, |c| c.encode_utf8(&mut utf8).as_bytes()[0]);
    if needle.is_ascii() {
        let n = needle.as_bytes();
        return memchr::memchr2_iter(lower, upper, h).any(|i| {
            h.get(i..i + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n))
        });
    }
    // Each character of the needle comes from one of the haystack's, of at most 4 bytes.
    let window = 4 * needle.chars().count();
    memchr::memchr2_iter(lower, upper, h).any(|i| {
        let near = String::from_utf8_lossy(&h[i..h.len().min(i + window)]);
        let mut rest = near.chars().flat_map(char::to_lowercase);
        needle.chars().all(|c| rest.next() == Some(c))
    })
}

fn any_has<'a>(fields: impl IntoIterator<Item = Option<&'a str>>, needle: &str) -> bool {
    fields.into_iter().flatten().any(|f| has(f, needle))
}

impl Filter {
    pub fn parse(query: &str) -> Self {
        let terms = query
            .split_whitespace()
            .map(|w| {
                let lower = w.to_lowercase();
                match lower.split_once(':') {
                    Some(("event", v)) => Term::Event(v.into()),
                    Some(("status", v)) => Term::Status(v.into()),
                    Some(("number", v)) => Term::Number(v.into()),
                    Some(("type", v)) => Term::Type(v.into()),
                    Some(("verdict", v)) => Term::Verdict(v.into()),
                    _ => Term::Text(lower),
                }
            })
            .collect();
        Self {
            query: query.to_owned(),
            terms,
        }
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms of this filter that say nothing about `pane`'s rows, which that pane
    /// ignores (the status line says so): `type:` and `verdict:` where rows have none,
    /// a `status:` value that is not one of the pane's statuses.
    pub fn ignored(&self, pane: Pane) -> Vec<&str> {
        let words = self.query.split_whitespace();
        words
            .zip(&self.terms)
            .filter(|(_, t)| !applies(t, pane))
            .map(|(w, _)| w)
            .collect()
    }

    /// A message row: `number:` is the number it came in on or went out from.
    pub fn message(&self, m: &MessageRow, numbers: &Numbers) -> bool {
        let number = numbers.get(m.number_id());
        self.judge(Pane::Messages, |t| match t {
            Term::Text(s) => {
                let group = match &m.extra() {
                    crate::model::event::MessageExtra::Group {
                        group_name,
                        group_id,
                    } => [group_name.as_deref(), group_id.as_deref()],
                    crate::model::event::MessageExtra::Newsletter {
                        newsletter_name,
                        newsletter_id,
                    } => [newsletter_name.as_deref(), newsletter_id.as_deref()],
                    _ => [None, None],
                };
                any_has(
                    [
                        m.content(),
                        m.from(),
                        Some(m.to()),
                        m.participant_name(),
                        Some(m.id()),
                        m.message_id(),
                        m.correlation_id(),
                        Some(m.number_id()),
                        m.error().map(|e| e.0),
                        m.error().and_then(|e| e.1),
                        group[0],
                        group[1],
                    ],
                    s,
                ) || number.is_some_and(|n| number_has(n, s))
            }
            Term::Event(s) => {
                let l = &m.lifecycle;
                let steps = [
                    ("message.sent", l.sent.is_some()),
                    ("message.delivered", l.delivered.is_some()),
                    ("message.read", l.read.is_some()),
                    ("message.failed", l.failed.is_some()),
                    (m.kind.name(), true),
                ];
                steps.iter().any(|(name, present)| *present && has(name, s))
            }
            // `status:missing`: a step only the provider's API knows (its webhook never came).
            Term::Status(s) => {
                has(m.status().as_str(), s) || (m.webhook_missing().is_some() && has("missing", s))
            }
            Term::Number(s) => has(m.number_id(), s) || number.is_some_and(|n| number_has(n, s)),
            Term::Type(s) => m.msg_type.is_some_and(|t| has(t.as_str(), s)),
            Term::Verdict(_) => true,
        })
    }

    pub fn number(&self, n: &NumberRow) -> bool {
        self.judge(Pane::Numbers, |t| match t {
            Term::Text(s) | Term::Number(s) => number_has(n, s),
            Term::Status(s) => {
                has(n.state.as_str(), s) || n.health.as_ref().is_some_and(|h| has(&h.name, s))
            }
            Term::Event(s) => {
                has("number.", s) || n.health.as_ref().is_some_and(|h| has(&h.name, s))
            }
            Term::Type(_) | Term::Verdict(_) => true,
        })
    }

    /// A call row: `number:` is the business number it rang (by its phone, or its name
    /// or id through the numbers table).
    pub fn call(&self, c: &CallRow, numbers: &Numbers) -> bool {
        self.judge(Pane::Calls, |t| match t {
            Term::Text(s) => any_has(
                [
                    c.call_id.as_deref(),
                    c.external_call_id.as_deref(),
                    c.from.as_deref(),
                    c.to.as_deref(),
                    c.direction.as_deref(),
                ],
                s,
            ),
            Term::Number(s) => {
                any_has([c.from.as_deref(), c.to.as_deref()], s)
                    || named(numbers, s).any(|n| call_is_on(c, n))
            }
            Term::Status(s) => has(&c.status, s) || has(phase_name(c), s),
            Term::Event(s) => has("call.", s) && has(&format!("call.{}", phase_name(c)), s),
            Term::Type(_) | Term::Verdict(_) => true,
        })
    }

    /// Feed rows: the raw body is the haystack for text; `number:` and `type:` mean
    /// what they mean in the other panes, through the row the delivery belongs to.
    pub fn record(&self, r: &Record, store: &Store) -> bool {
        self.judge(Pane::Feed, |t| match t {
            Term::Text(s) => r.body.with(|b| has_bytes(b, s)) || has(&r.path, s),
            Term::Number(s) => match r.subject {
                Subject::Message(o) => store
                    .messages()
                    .get(o)
                    .is_some_and(|m| self.message_number(m, store.numbers(), s)),
                Subject::Call(o) => store
                    .calls()
                    .row(o)
                    .is_some_and(|c| self.call(c, store.numbers())),
                // Number events and the rest name the number's id in their body.
                _ => r.body.with(|b| {
                    has_bytes(b, s)
                        || named(store.numbers(), s)
                            .any(|n| has_bytes(b, &n.number_id.to_lowercase()))
                }),
            },
            Term::Type(s) => match r.subject {
                Subject::Message(o) => store
                    .messages()
                    .get(o)
                    .is_some_and(|m| m.msg_type.is_some_and(|t| has(t.as_str(), s))),
                _ => false,
            },
            Term::Event(s) => r.event.as_ref().is_some_and(|e| has(e.as_str(), s)),
            // Prefixes, so `verdict:known` is not also `unknown`; a status also finds
            // the deliveries that reported it (`status:failed` → `message.failed`).
            Term::Status(s) | Term::Verdict(s) => {
                let verdict = if r.duplicate_of.is_some() {
                    "duplicate"
                } else {
                    r.verdict.as_str()
                };
                verdict.starts_with(s.as_str())
                    || r.signature.as_str().starts_with(s.as_str())
                    || (matches!(t, Term::Status(_))
                        && r.event.as_ref().is_some_and(|e| {
                            e.as_str()
                                .rsplit('.')
                                .next()
                                .is_some_and(|last| last.starts_with(s.as_str()))
                        }))
            }
        })
    }

    fn message_number(&self, m: &MessageRow, numbers: &Numbers, s: &str) -> bool {
        has(m.number_id(), s) || numbers.get(m.number_id()).is_some_and(|n| number_has(n, s))
    }

    /// Every term that applies to `pane` must match; the others are ignored.
    fn judge(&self, pane: Pane, mut matches: impl FnMut(&Term) -> bool) -> bool {
        self.terms.iter().all(|t| !applies(t, pane) || matches(t))
    }
}

/// Statuses each pane's rows can have (a `status:` value naming none of them leaves
/// that pane alone).
const MESSAGE_STATUSES: &[&str] = &[
    "received",
    "queued",
    "sent",
    "failed",
    "delivered",
    "read",
    "missing",
];
const NUMBER_STATUSES: &[&str] = &[
    "unknown",
    "created",
    "connected",
    "disconnected",
    "removed",
    "restored",
    "ok",
    "degraded",
    "health",
];
const CALL_STATUSES: &[&str] = &[
    "ringing",
    "connected",
    "accepted",
    "ended",
    "completed",
    "missed",
    "rejected",
    "failed",
];

/// Whether a term says anything about `pane`'s rows.
fn applies(term: &Term, pane: Pane) -> bool {
    let names = |vocabulary: &[&str], s: &str| vocabulary.iter().any(|v| has(v, s));
    match (term, pane) {
        (Term::Text(_) | Term::Event(_) | Term::Number(_), _) => true,
        (Term::Type(_), p) => matches!(p, Pane::Messages | Pane::Feed),
        (Term::Verdict(_), p) => p == Pane::Feed,
        (Term::Status(s), Pane::Messages) => names(MESSAGE_STATUSES, s),
        (Term::Status(s), Pane::Numbers) => names(NUMBER_STATUSES, s),
        (Term::Status(s), Pane::Calls) => names(CALL_STATUSES, s),
        (Term::Status(_), Pane::Feed) => true,
    }
}

/// The numbers whose id, phone or name contains `s`.
fn named<'a>(numbers: &'a Numbers, s: &'a str) -> impl Iterator<Item = &'a NumberRow> + 'a {
    numbers.iter().filter(move |n| number_has(n, s))
}

/// Whether a call rang (or was placed from) this number: phones compared by digits.
fn call_is_on(c: &CallRow, n: &NumberRow) -> bool {
    let Some(phone) = n.phone.as_deref() else {
        return false;
    };
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    !digits.is_empty()
        && [c.from.as_deref(), c.to.as_deref()]
            .into_iter()
            .flatten()
            .any(|p| p.chars().filter(char::is_ascii_digit).eq(digits.chars()))
}

fn number_has(n: &NumberRow, s: &str) -> bool {
    any_has(
        [
            Some(&*n.number_id),
            n.phone.as_deref(),
            n.display_name.as_deref(),
            n.profile_name.as_deref(),
        ],
        s,
    )
}

pub fn phase_name(c: &CallRow) -> &'static str {
    match c.phase {
        crate::store::CallPhase::Ringing => "ringing",
        crate::store::CallPhase::Connected => "connected",
        crate::store::CallPhase::Ended => "ended",
        crate::store::CallPhase::Missed => "missed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_text_is_found_in_bodies_the_store_has_packed() {
        let mut store = Store::new(10_000);
        let body = |i: u64| {
            format!(
                r#"{{"event":"message.received","data":{{"id":"m{i}","numberId":"n","to":"+1","from":"+2","content":"parcel {i:05}"}}}}"#
            )
        };
        for i in 1..=2_000 {
            store.apply(Record::delivery(i, body(i).as_bytes()));
        }
        let first = store.record(3).unwrap();
        assert!(first.body.is_packed(), "old bodies are packed");
        let f = Filter::parse("PARCEL 00003");
        let hits: Vec<u64> = store
            .feed()
            .filter(|r| f.record(r, &store))
            .map(|r| r.seq)
            .collect();
        assert_eq!(hits, [3]);
        let newest = Filter::parse("parcel 02000");
        assert!(newest.record(store.record(2_000).unwrap(), &store));
    }

    #[test]
    fn terms_parse_and_match_case_insensitively() {
        let f = Filter::parse("Hello status:FAILED");
        assert_eq!(
            f.terms,
            vec![Term::Text("hello".into()), Term::Status("failed".into())]
        );
        assert!(has("Say HELLO there", "hello"));
        assert!(!has("hel lo", "hello"));
        assert!(has("Olá Álvaro", &"Álvaro".to_lowercase()));
        assert!(Filter::parse("  ").is_empty());
        assert!(has("ABRE NO SÁBADO?", "sábado"));
        assert!(has("Álvaro", "álvaro"));
        assert!(!has("Alvaro", "álvaro"));
        assert!(has("x", ""));
        assert!(!has("sáb", "sábado"));
        assert!(has("ssssábado", "sábado"));
        assert!(has_bytes(b"\xff SABADO \xfe", "sabado"));
        assert!(has_bytes(b"\xffS\xc3\x81BADO", "sábado"));
        assert!(!has_bytes(b"S\xc3", "sábado"));
    }
}
