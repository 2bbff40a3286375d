//! A fingerprint of the store's binary layout, kept in the header: postcard writes no
//! field names, so a store read by a build whose types changed (a field added, moved or
//! retyped between two builds of the same version) could be misread rather than refused.
//! The fingerprint is the encoding of a small store with a row in each main table, so
//! such a change shows as a different hash and the snapshot is ignored.

use chrono::{DateTime, Utc};

use crate::model::alert::{Alert, AlertRecord, AlertState, Severity};
use crate::model::provider::{AccessState, ApiRecord, Feature};
use crate::record::{Record, SignatureHeader};
use crate::store::Store;

/// One body per kind of row: messages (inbound with media, outbound failed), a number
/// with its health, a call.
const BODIES: &[&str] = &[
    r#"{"event":"message.received","data":{"to":"+5511888888888","from":"+5511999999999","numberId":"n1","messageId":"m-in","id":"c1","type":"image","fromMe":false,"content":"hi","createdAt":"2026-02-24T15:00:05.000Z","mediaLink":"https://example.invalid/1","mediaType":"image","mediaCaption":"hi","mediaFilename":"p.jpg"}}"#,
    r#"{"event":"message.failed","data":{"to":"+5511999999999","from":"+5511888888888","numberId":"n1","messageId":null,"id":"c2","type":"text","fromMe":true,"content":"x","createdAt":"2026-02-24T15:00:06.000Z","error":"failed","errorCode":"DELIVER_NOT_CONFIRMED"}}"#,
    r#"{"event":"number.health_degraded","data":{"numberId":"n1","phone":"+5511999999999","displayName":"Main","createdAt":"2026-02-24T15:00:07.000Z","error":"low","errorCode":"QUALITY_LOW"}}"#,
    r#"{"event":"call.ringing","callId":"k1","externalCallId":"w1","direction":"INBOUND","status":"RINGING","from":"5511999999999","to":"5511888888888","timestamp":"2026-02-24T15:00:08.000Z"}"#,
];

pub(super) fn fingerprint() -> u64 {
    static ONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *ONCE.get_or_init(compute)
}

fn compute() -> u64 {
    let at: DateTime<Utc> =
        DateTime::from_timestamp(1_772_000_000, 123_456_789).unwrap_or_default();
    let mut records: Vec<Record> = BODIES
        .iter()
        .map(|b| Record::delivery(0, b.as_bytes()))
        .collect();
    // Both forms of the signature header, and a problem: fields that are empty in the
    // records above would not show a change of their encoding.
    records[0].signature_header = Some(SignatureHeader::new(&"ab".repeat(32)));
    records[1].signature_header = Some(SignatureHeader::new("sha256=x"));
    records[1].problems.push("$.x: y".into());
    records.push(Record::alert(&AlertRecord::Transition(Alert {
        name: "number_disconnected".into(),
        state: AlertState::Firing,
        severity: Severity::Critical,
        number: Some("n1".into()),
        summary: String::new(),
        starts_at: at,
        ends_at: None,
        labels: Default::default(),
        cause: None,
        fired: true,
    })));
    records.push(Record::api(&ApiRecord::Access {
        feature: Feature::Numbers,
        state: AccessState::OutOfScope,
        detail: String::new(),
    }));
    // A store of one record each: its maps hold one entry, so their (random) iteration
    // order cannot change the bytes.
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for mut r in records {
        (r.seq, r.received_at) = (1, at);
        let mut store = Store::with_fixed_seed(16);
        store.apply(r);
        h.update(&postcard::to_stdvec(&store).unwrap_or_default());
    }
    h.digest()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fingerprint_is_the_same_every_time() {
        let first = super::compute();
        for _ in 0..20 {
            assert_eq!(super::compute(), first);
        }
    }
}
