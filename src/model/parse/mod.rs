//! Body bytes → a verdict: `known` (typed event), `unknown` (well-formed, name not known,
//! kept raw) or `broken` (with the JSON paths at fault). Follows the official SDK's
//! `parse_customer_webhook`, and additionally recognises the families the provider
//! documents but the SDK calls unknown (`number.health_*`, `calls`, `phone_line.*`).
//!
//! `json` reads the body, `families` holds one parser per family; what is here turns
//! their result into a verdict. `fast` answers first for the common shapes, reading the
//! body straight into the typed event; the `Value` path decides whatever it leaves.

mod families;
mod fast;
mod json;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::event::*;
use super::identity::Identity;
use super::{EventName, Verdict};
use families::{call, lead, message, native_calls, number, phone_line, with_data};

/// What the parser made of a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub verdict: Verdict,
    /// The `event` string, when there is one.
    pub name: Option<EventName>,
    /// The typed event, for `known` only.
    pub event: Option<Event>,
    /// For `broken`: what breaks the contract. For an `unknown` payload of a family we
    /// recognise beyond the SDK: why it was not typed.
    pub problems: Vec<String>,
    /// The dedupe key of this delivery (see [`Identity`]).
    pub identity: Identity,
}

/// The body is not JSON at all (the receiver answers 400 with this reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson(pub String);

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parse one delivery body. Never panics; only a body that is not JSON is an error.
pub fn parse(body: &[u8]) -> Result<Parsed, NotJson> {
    match fast::parse(body) {
        Some(parsed) => Ok(parsed),
        None => parse_value(body),
    }
}

/// The fast path alone: `None` where it leaves the body to [`parse_value`], otherwise
/// exactly what that would say (public for the tests and benches that check it).
pub fn parse_fast(body: &[u8]) -> Option<Parsed> {
    fast::parse(body)
}

/// The reference path: the body decoded into a `serde_json::Value`, then classified.
pub fn parse_value(body: &[u8]) -> Result<Parsed, NotJson> {
    match json::decode(body) {
        Ok(value) => Ok(judge(value, body)),
        // Nested deeper than serde_json's default 128 levels, as Python reads up to
        // ~1000: read (and classify and drop, all recursive) on a stack of its own.
        Err(json::Error::Deep) => stacker::grow(json::DEEP_STACK, || {
            json::decode_deep(body).map(|value| judge(value, body))
        }),
        Err(json::Error::NotJson(e)) => Err(e),
    }
}

/// The verdict on a decoded body. An integer too large for 64 bits is a float to
/// serde_json but an `int` to Python: where that is all that breaks an integer field,
/// the body is judged again with such integers clamped (the journal keeps it as it came).
fn judge(value: Value, body: &[u8]) -> Parsed {
    let parsed = classify(&value, body);
    drop(value);
    let int_field = |p: &String| p.ends_with(": expected integer");
    if parsed.verdict == Verdict::Broken
        && parsed.problems.iter().any(int_field)
        && let Some(clamped) = json::clamp_big_integers(body)
        && let Ok(value) = json::decode(&clamped)
    {
        return classify(&value, body);
    }
    parsed
}

/// Classify an already-decoded body (`raw` is only used for the identity of payloads
/// that have no identity of their own).
pub fn classify(value: &Value, raw: &[u8]) -> Parsed {
    let by_bytes = || Identity::of_bytes(raw);
    let Some(obj) = value.as_object() else {
        return broken(None, vec!["$: expected object".into()], by_bytes());
    };
    let name = match obj.get("event") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            // The SDK goes on to check `data` before giving up.
            let mut problems = vec!["$.event: expected string".to_owned()];
            if !obj.get("data").is_some_and(Value::is_object) {
                problems.push("$.data: expected object".into());
            }
            return broken(None, problems, by_bytes());
        }
    };
    let event_name = EventName::new(name);

    if let Some(kind) = CallKind::ALL.into_iter().find(|k| k.name() == name) {
        return sdk_known(event_name, call(kind, obj), by_bytes);
    }
    if let Some(kind) = MessageKind::ALL.into_iter().find(|k| k.name() == name) {
        return sdk_known(
            event_name,
            with_data(obj, |d, p| message(kind, d, p)),
            by_bytes,
        );
    }
    if let Some(kind) = NumberKind::from_name(name) {
        let is_health = matches!(kind, NumberKind::Health(_));
        let typed = with_data(obj, |d, p| number(kind, d, p));
        return if is_health {
            beyond_sdk(event_name, typed, by_bytes)
        } else {
            sdk_known(event_name, typed, by_bytes)
        };
    }
    if name == "lead.received" {
        return sdk_known(event_name, with_data(obj, lead), by_bytes);
    }
    if name == "calls" {
        return beyond_sdk(event_name, native_calls(obj), by_bytes);
    }
    if let Some(kind) = name.strip_prefix("phone_line.") {
        return beyond_sdk(event_name, phone_line(kind, obj), by_bytes);
    }
    Parsed {
        verdict: Verdict::Unknown,
        name: Some(event_name),
        event: None,
        problems: vec![],
        identity: by_bytes(),
    }
}

/// A typed event with its identity, or the problems that kept it from being one.
type Typed = Result<(Event, Identity), Vec<String>>;

fn broken(name: Option<EventName>, problems: Vec<String>, identity: Identity) -> Parsed {
    Parsed {
        verdict: Verdict::Broken,
        name,
        event: None,
        problems,
        identity,
    }
}

/// An event the SDK knows: a contract failure is a broken payload.
fn sdk_known(name: EventName, typed: Typed, by_bytes: impl Fn() -> Identity) -> Parsed {
    typed_or(name, typed, Verdict::Broken, by_bytes)
}

/// An event the SDK calls unknown but the provider documents: typed when its shape is
/// as documented, otherwise kept as `unknown` (never `broken`: the SDK would accept it).
fn beyond_sdk(name: EventName, typed: Typed, by_bytes: impl Fn() -> Identity) -> Parsed {
    typed_or(name, typed, Verdict::Unknown, by_bytes)
}

fn typed_or(
    name: EventName,
    typed: Typed,
    otherwise: Verdict,
    by_bytes: impl Fn() -> Identity,
) -> Parsed {
    let (verdict, event, problems, identity) = match typed {
        Ok((event, identity)) => (Verdict::Known, Some(event), vec![], identity),
        Err(problems) => (otherwise, None, problems, by_bytes()),
    };
    Parsed {
        verdict,
        name: Some(name),
        event,
        problems,
        identity,
    }
}
