//! Threads, the inbox and the window, built as records are applied.

use chrono::{DateTime, Duration, Utc};

use super::window::Window;
use super::*;
use crate::record::Record;
use crate::store::Store;

fn t(secs: i64) -> DateTime<Utc> {
    "2026-11-29T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(secs)
}

struct World {
    store: Store,
    seq: u64,
}

impl World {
    fn new(cap: usize) -> Self {
        Self {
            store: Store::new(cap),
            seq: 0,
        }
    }

    fn post(&mut self, secs: i64, body: String) {
        self.seq += 1;
        let mut r = Record::delivery(self.seq, body.as_bytes());
        r.received_at = t(secs);
        self.store.apply(r);
    }

    fn inbound(&mut self, secs: i64, from: &str, id: &str) {
        self.post(
            secs,
            format!(
                r#"{{"event":"message.received","data":{{"to":"+5511888888888","from":"{from}","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":false,"content":"hi","createdAt":"{}","participantName":"Ana"}}}}"#,
                t(secs).to_rfc3339()
            ),
        );
    }

    fn outbound(&mut self, secs: i64, to: &str, id: &str) {
        self.post(
            secs,
            format!(
                r#"{{"event":"message.sent","data":{{"to":"{to}","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":true,"content":"hello","createdAt":"{}"}}}}"#,
                t(secs).to_rfc3339()
            ),
        );
    }

    fn call(&mut self, secs: i64, direction: &str, from: &str, to: &str) {
        self.post(
            secs,
            format!(
                r#"{{"event":"call.ringing","callId":"call_{secs}","direction":"{direction}","status":"RINGING","from":"{from}","to":"{to}","timestamp":"{}"}}"#,
                t(secs).to_rfc3339()
            ),
        );
    }

    fn conv(&self, contact: &str) -> &Conversation {
        let key = ConversationKey {
            number: "n1".into(),
            contact: contact_key(contact),
        };
        self.store
            .conversations()
            .get(&key)
            .expect("the conversation")
    }
}

#[test]
fn a_contact_waits_until_answered_and_our_reply_never_reopens_the_window() {
    let mut w = World::new(1000);
    w.inbound(0, "+55 11 99999-0001", "in1");
    w.inbound(60, "+5511999990001", "in2");
    let c = w.conv("+5511999990001");
    assert_eq!(
        c.messages.len(),
        2,
        "one thread whatever the phone's spelling"
    );
    assert_eq!(c.name.as_deref(), Some("Ana"));
    assert_eq!(
        c.waiting_since,
        Some(t(0)),
        "waiting since the first unanswered"
    );
    assert_eq!(w.store.conversations().waiting(), 1);
    w.outbound(120, "+5511999990001", "out1");
    let c = w.conv("+5511999990001");
    assert_eq!(c.messages.len(), 3);
    assert_eq!(c.waiting_since, None);
    assert_eq!(
        w.store.conversations().waiting(),
        0,
        "answering moves it out"
    );
    let opened = w.store.conversations().opened(c);
    assert_eq!(opened, Some(t(60)), "our reply does not reopen the window");
    let window = Window::at(t(60) + Duration::hours(24), opened, true);
    assert!(
        window.is_closed(),
        "exactly 24 h after the last inbound: closed"
    );
}

#[test]
fn the_inbox_lists_the_oldest_wait_first() {
    let mut w = World::new(1000);
    w.inbound(100, "+5511999990002", "b");
    w.inbound(50, "+5511999990003", "c");
    w.inbound(200, "+5511999990002", "b2");
    let order: Vec<&str> = w
        .store
        .conversations()
        .inbox()
        .map(|c| &*c.key.contact)
        .collect();
    assert_eq!(order, ["5511999990003", "5511999990002"]);
}

#[test]
fn a_call_the_contact_started_reopens_the_window_and_joins_the_thread() {
    let mut w = World::new(1000);
    w.inbound(0, "+5511999990004", "in");
    // Ours (business-initiated) does not reopen it.
    w.call(3600, "OUTBOUND", "5511888888888", "5511999990004");
    let c = w.conv("+5511999990004");
    assert_eq!(w.store.conversations().opened(c), Some(t(0)));
    // The contact's does.
    w.call(7200, "INBOUND", "5511999990004", "5511888888888");
    let c = w.conv("+5511999990004");
    assert_eq!(w.store.conversations().opened(c), Some(t(7200)));
    let calls = w.store.conversations().calls_with("5511999990004");
    assert_eq!(calls.len(), 2, "both calls are in the thread");
}

#[test]
fn conversations_are_bounded_by_the_capacity() {
    let mut w = World::new(10);
    for i in 0..25 {
        w.inbound(i, &format!("+55119999{i:05}"), &format!("m{i}"));
    }
    assert_eq!(w.store.conversations().len(), 10);
    assert_eq!(w.store.conversations().waiting(), 10);
    let oldest = w.store.conversations().inbox().next().unwrap();
    assert_eq!(
        oldest.waiting_since,
        Some(t(15)),
        "the least recent went first"
    );
}

#[test]
fn a_reply_without_a_whatsapp_id_keeps_history_that_has_none_and_a_late_old_send_answers_nothing() {
    use crate::model::provider::{ApiRecord, HistoryMessage};
    let mut w = World::new(1000);
    w.inbound(0, "+5511999990009", "in1");
    let h = HistoryMessage {
        id: "h1".into(),
        direction: "INBOUND".into(),
        external_message_id: None,
        status: None,
        message_type: None,
        text: Some("older".into()),
        participant_name: None,
        participant_phone: Some("+5511999990009".into()),
        replied_to_external_id: None,
        sent_at: Some(t(-3600)),
        delivered_at: None,
        read_at: None,
        redacted: false,
    };
    w.seq += 1;
    let mut r = Record::api(&ApiRecord::History {
        number: "n1".into(),
        page: 1,
        total_pages: 1,
        messages: vec![h],
    });
    r.seq = w.seq;
    w.store.apply(r);
    assert_eq!(w.conv("+5511999990009").history.len(), 1);
    // A webhook of a message of ours sent before the contact wrote, arriving late.
    w.outbound(-60, "+5511999990009", "early");
    let c = w.conv("+5511999990009");
    assert_eq!(
        c.history.len(),
        1,
        "its row has another id: the history stays"
    );
    assert_eq!(
        c.waiting_since,
        Some(t(0)),
        "an older send answers nothing newer"
    );
}

#[test]
fn a_far_off_time_closes_no_window_with_a_panic() {
    assert_eq!(
        Window::at(t(0), Some(DateTime::<Utc>::MAX_UTC), true),
        Window::Never
    );
}

#[test]
fn keys_are_shared_between_the_indexes_also_when_read_back() {
    let mut w = World::new(1000);
    w.inbound(100, "+5511999990002", "b");
    w.inbound(110, "+55 11 99999-0003", "c");
    let shared = |c: &Conversations| {
        c.by_key.iter().all(|(k, conv)| {
            let same = |other: &ConversationKey| {
                Arc::ptr_eq(&k.number, &other.number) && Arc::ptr_eq(&k.contact, &other.contact)
            };
            same(&conv.key)
                && c.order.iter().any(|(_, o)| same(o))
                && c.inbox.iter().any(|(_, o)| same(o))
        })
    };
    assert!(shared(w.store.conversations()));
    let bytes = postcard::to_allocvec(w.store.conversations()).unwrap();
    let mut read: Conversations = postcard::from_bytes(&bytes).unwrap();
    assert!(!shared(&read), "read back, each index has its own copy");
    read.share_keys();
    assert!(shared(&read));
    assert_eq!(&read, w.store.conversations());
}

/// A member's message in a group belongs to the group's conversation (named for the
/// group), not to the member's direct thread; a channel's is read, never waiting.
#[test]
fn group_and_channel_messages_are_their_own_conversations() {
    let mut w = World::new(1000);
    w.inbound(0, "+5511999990001", "direct");
    let group = "120363000000000001@g.us";
    w.post(
        10,
        format!(
            r#"{{"event":"message.group","data":{{"to":"+5511888888888","from":"+5511999990001","numberId":"n1","messageId":"wa-g1","id":"g1","type":"text","fromMe":false,"content":"team","createdAt":"{}","participantName":"Ana","groupId":"{group}","groupName":"Equipe Loja"}}}}"#,
            t(10).to_rfc3339()
        ),
    );
    let channel = "120363000000000002@newsletter";
    w.post(
        20,
        format!(
            r#"{{"event":"message.newsletter","data":{{"to":"+5511888888888","from":"+5511999990002","numberId":"n1","messageId":"wa-n1","id":"nl1","type":"text","fromMe":false,"content":"offer","createdAt":"{}","participantName":"Shop","newsletterId":"{channel}","newsletterName":"Ofertas"}}}}"#,
            t(20).to_rfc3339()
        ),
    );
    assert_eq!(
        w.conv("+5511999990001").messages.len(),
        1,
        "the direct thread"
    );
    let g = w.conv(group);
    assert_eq!(
        (g.messages.len(), g.name.as_deref()),
        (1, Some("Equipe Loja"))
    );
    assert!(g.waiting_since.is_some());
    assert!(
        w.conv(channel).waiting_since.is_none(),
        "a channel waits for no answer"
    );
    assert_eq!(w.store.conversations().waiting(), 2);
}
