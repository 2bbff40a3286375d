//! The fast path: a body of a common, well-formed shape read straight into its typed
//! event, with no `serde_json::Value` in between (decoding into `Value`, its maps and
//! strings, is most of what parsing costs).
//!
//! It only answers when it is sure the `Value` path would say the same: a `known` event
//! whose every check passes, or an event name no family claims. Anything else (a check
//! that fails, a duplicate key, deep nesting, a number beyond 64 bits, a lone surrogate,
//! a body that is not JSON) is `None`, and the `Value` path decides.

mod build;
mod raw;

use super::Parsed;
use crate::model::event::{CallKind, MessageKind, NumberKind};
use crate::model::identity::Identity;
use crate::model::{EventName, Verdict};
use raw::{Root, Val};

/// The verdict on `body`, when it is one the fast path is sure of.
pub fn parse(body: &[u8]) -> Option<Parsed> {
    let json = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    // As the `Value` path: the BOM is tolerated, and anything but UTF-8 is not JSON.
    let text = std::str::from_utf8(json).ok()?;
    let root: Root = serde_json::from_str(text).ok()?;
    let Some(Val::Str(name)) = &root.event else {
        return None;
    };
    let name: &str = name;
    let known = |event| {
        let (event, identity) = event?;
        Some(Parsed {
            verdict: Verdict::Known,
            name: Some(EventName::new(name)),
            event: Some(event),
            problems: vec![],
            identity,
        })
    };
    let data = root.data.as_ref().and_then(Option::as_ref);
    if let Some(kind) = CallKind::ALL.into_iter().find(|k| k.name() == name) {
        return known(build::call(kind, &root).ok());
    }
    if let Some(kind) = MessageKind::ALL.into_iter().find(|k| k.name() == name) {
        return known(build::message(kind, data?).ok());
    }
    if let Some(kind) = NumberKind::from_name(name) {
        return known(build::number(kind, data?).ok());
    }
    if name == "lead.received" {
        return known(build::lead(data?).ok());
    }
    if name == "calls" {
        return known(build::native_calls(&root).ok());
    }
    if let Some(kind) = name.strip_prefix("phone_line.") {
        return known(build::phone_line(kind, &root).ok());
    }
    Some(Parsed {
        verdict: Verdict::Unknown,
        name: Some(EventName::new(name)),
        event: None,
        problems: vec![],
        identity: Identity::of_bytes(body),
    })
}
