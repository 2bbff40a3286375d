//! The `/` filter: free text plus `field:value` terms, all of which must match.

use crate::record::Record;
use crate::store::{CallRow, MessageRow, NumberRow, Numbers};

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

/// Case-insensitive substring test (`needle` is lowercase). ASCII needles, the common
/// case, are matched without allocating; others lowercase the haystack too.
fn has(hay: &str, needle: &str) -> bool {
    if !needle.is_ascii() {
        return hay.to_lowercase().contains(needle);
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
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

    pub fn message(&self, m: &MessageRow, numbers: &Numbers) -> bool {
        let number = numbers.get(&m.number_id);
        self.terms.iter().all(|t| match t {
            Term::Text(s) => {
                let group = match &m.extra {
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
                        m.content.as_deref(),
                        m.from.as_deref(),
                        Some(&*m.to),
                        m.participant_name.as_deref(),
                        Some(&*m.id),
                        m.message_id.as_deref(),
                        m.correlation_id.as_deref(),
                        Some(&*m.number_id),
                        m.error.as_ref().map(|e| &*e.0),
                        m.error.as_ref().and_then(|e| e.1.as_deref()),
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
            Term::Status(s) => has(m.status().as_str(), s),
            Term::Number(s) => has(&m.number_id, s) || number.is_some_and(|n| number_has(n, s)),
            Term::Type(s) => m.msg_type.is_some_and(|t| has(t.as_str(), s)),
            Term::Verdict(_) => true,
        })
    }

    pub fn number(&self, n: &NumberRow) -> bool {
        self.terms.iter().all(|t| match t {
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

    pub fn call(&self, c: &CallRow) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Text(s) | Term::Number(s) => any_has(
                [
                    c.call_id.as_deref(),
                    c.external_call_id.as_deref(),
                    c.from.as_deref(),
                    c.to.as_deref(),
                    c.direction.as_deref(),
                ],
                s,
            ),
            Term::Status(s) => has(&c.status, s) || has(phase_name(c), s),
            Term::Event(s) => has("call.", s) && has(&format!("call.{}", phase_name(c)), s),
            Term::Type(_) | Term::Verdict(_) => true,
        })
    }

    /// Feed rows: the raw body is the haystack for text.
    pub fn record(&self, r: &Record) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Text(s) | Term::Number(s) | Term::Type(s) => {
                has(&String::from_utf8_lossy(&r.body), s) || has(&r.path, s)
            }
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
        crate::store::Phase::Ringing => "ringing",
        crate::store::Phase::Connected => "connected",
        crate::store::Phase::Ended => "ended",
        crate::store::Phase::Missed => "missed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
