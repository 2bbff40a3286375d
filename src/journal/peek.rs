//! What a journal line says about itself, read without the body: its kind, event,
//! verdict, time and a delivery's dedupe identity. The outbox needs no more to publish
//! a line, and skipping the body (which `decode` unescapes and the store would parse
//! again) is most of the cost of reading it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::model::identity::Identity;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peek<'a> {
    #[serde(borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    pub received_at: DateTime<Utc>,
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub verdict: Cow<'a, str>,
    #[serde(borrow, default)]
    identity: Option<Cow<'a, str>>,
}

impl Peek<'_> {
    pub fn of(line: &[u8]) -> Option<Peek<'_>> {
        serde_json::from_slice(line).ok()
    }

    /// The identity the line holds: `Some(None)` for a delivery that has none (refused
    /// ones, pilotwatch's own records), `None` when the line does not say (written
    /// before lines held it): then it must be derived from the body.
    pub fn identity(&self) -> Option<Option<Identity>> {
        if let Some(hex) = &self.identity {
            return u128::from_str_radix(hex, 16)
                .ok()
                .map(|n| Some(Identity(n)));
        }
        let delivery = matches!(self.kind.as_deref(), None | Some("delivery"));
        (!delivery || self.verdict == "rejected").then_some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::line;
    use crate::record::Record;

    #[test]
    fn a_delivery_line_carries_its_identity_and_a_peek_reads_it() {
        let body = br#"{"event":"message.sent","data":{"id":"m1","numberId":"n1","to":"+1","status":"sent"}}"#;
        let r = Record::delivery(3, body);
        let id = Some(crate::model::parse(body).unwrap().identity);
        let mut out = Vec::new();
        line::finish(3, None, &line::encode_tail_with(&r, id), &mut out);
        let p = Peek::of(&out).unwrap();
        assert_eq!(p.identity(), Some(id));
        assert_eq!(p.event.as_deref(), Some("message.sent"));
        // Replay reads the line as before (the field is ignored there).
        assert_eq!(
            &line::decode(&out[..out.len() - 1]).unwrap().body.bytes()[..],
            body
        );
        // A line written without it: derive from the body.
        let mut old = Vec::new();
        line::encode(&r, &mut old);
        assert_eq!(Peek::of(&old).unwrap().identity(), None);
        // Refused: there is none to derive.
        let mut refused = Record::delivery(4, b"{oops");
        refused.verdict = crate::model::Verdict::Rejected;
        let mut out = Vec::new();
        line::encode(&refused, &mut out);
        assert_eq!(Peek::of(&out).unwrap().identity(), Some(None));
    }
}
