//! Past one box (issue 20): real `serve --nats` receivers (the binary) and a real
//! `nats-server -js` per test on a free loopback port; dashboards attach over NATS with
//! the library's client (what `pilotwatch attach nats://…` runs).

mod common;
#[path = "nats/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{client, health_of, spawn_env, wait_for};
use pilotwatch::attach::client::Client;
use pilotwatch::attach::protocol::Request;
use pilotwatch::bus::BusTarget;
use server::{NatsServer, read_stream};
use tokio::process::Child;

const SECRET: &str = "whsec_nats_test_0123456789";

fn body(tag: &str, i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"wa-{tag}-{i}","id":"{tag}-{i}","type":"text","fromMe":false,"content":"hello {i}","createdAt":"2026-01-01T00:00:00Z"}}}}"#
    )
}

struct Receiver {
    child: Child,
    addr: String,
    journal: std::path::PathBuf,
}

impl Receiver {
    async fn start(dir: &Path, name: &str, nats: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with(dir, name, nats, env, &["--no-alerts"]).await
    }

    async fn start_with(
        dir: &Path,
        name: &str,
        nats: &str,
        env: &[(&str, &str)],
        extra: &[&str],
    ) -> Self {
        let journal = dir.join(format!("{name}.jsonl"));
        let mut all = vec![("PILOT_STATUS_WEBHOOK_SECRET", SECRET)];
        all.extend_from_slice(env);
        let mut args = vec!["serve", "--nats", nats, "--nats-receiver", name];
        args.extend_from_slice(extra);
        let (child, addr, _) = spawn_env(&journal, &args, &all).await;
        Self {
            child,
            addr,
            journal,
        }
    }

    async fn post(&self, body: &str) -> Option<u64> {
        post(&self.addr, body).await
    }

    async fn nats(&self) -> serde_json::Value {
        health_of(&self.addr).await["nats"].clone()
    }

    /// Until the stream has confirmed everything journaled here.
    async fn until_published(&self, seq: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let n = self.nats().await;
            if n["confirmedSeq"].as_u64() >= Some(seq) && n["backlog"] == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not published up to {seq} in 60 s: {n}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("stops within 15 s")
            .unwrap();
        assert!(status.success(), "{status}");
    }
}

/// POST `body` signed; the seq the receiver answered (an ack means journaled).
async fn post(addr: &str, body: &str) -> Option<u64> {
    let r = client()
        .post(format!("http://{addr}/"))
        .header(
            pilotwatch::signature::HEADER,
            pilotwatch::signature::sign(SECRET, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    v["seq"].as_u64()
}

async fn dashboard(nats: &NatsServer) -> Client {
    let target = BusTarget::parse(&nats.url()).unwrap();
    Client::attach_nats(target, 10_000, 100_000).await.unwrap()
}

/// Per receiver, the seqs the stream holds, in stream order.
fn by_receiver(stream: &[(String, u64, bytes::Bytes)]) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (r, seq, _) in stream {
        out.entry(r.clone()).or_default().push(*seq);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_delivery_at_two_receivers_is_one_record_and_one_row() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "eu-1", &nats.url(), &[]).await;
    let b = Receiver::start(dir.path(), "eu-2", &nats.url(), &[]).await;
    // The provider's retry of one delivery lands on the other receiver.
    let once = body("dup", 0);
    assert_eq!(a.post(&once).await, Some(1));
    a.until_published(1).await;
    assert_eq!(b.post(&once).await, Some(1));
    b.until_published(1).await;
    let stream = read_stream(&nats.url(), "PILOTWATCH").await;
    assert_eq!(stream.len(), 1, "one record in the stream");
    assert_eq!(b.nats().await["duplicates"], 1, "the duplicate is counted");
    assert_eq!(a.nats().await["published"], 1);
    // A dashboard on the stream: one row.
    let d = dashboard(&nats).await;
    wait_for("the dashboard to hold the delivery", || {
        d.store().read().counters().total == 1
    })
    .await;
    // A different delivery at b goes in.
    assert_eq!(b.post(&body("dup", 1)).await, Some(2));
    wait_for("the second delivery", || {
        d.store().read().counters().total == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counters = d.store().read().counters().clone();
    assert_eq!((counters.total, counters.duplicates), (2, 0));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_killed_under_load_loses_nothing_and_keeps_each_receivers_order() {
    let Some(mut nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    let b = Receiver::start(dir.path(), "b", &nats.url(), &[]).await;
    const EACH: usize = 300;
    let load = |r: &Receiver, tag: &'static str| {
        let addr = r.addr.clone();
        async move {
            let mut acked = Vec::new();
            for i in 0..EACH {
                if let Some(seq) = post(&addr, &body(tag, i)).await {
                    acked.push(seq);
                }
                if i % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            acked
        }
    };
    let (la, lb) = (tokio::spawn(load(&a, "a")), tokio::spawn(load(&b, "b")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    nats.kill();
    // Deliveries keep being acked meanwhile: the journal decides.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let backlog =
        a.nats().await["backlog"].as_u64().unwrap() + b.nats().await["backlog"].as_u64().unwrap();
    nats.restart().await;
    let (acked_a, acked_b) = (la.await.unwrap(), lb.await.unwrap());
    assert_eq!(
        (acked_a.len(), acked_b.len()),
        (EACH, EACH),
        "every delivery acked"
    );
    a.until_published(EACH as u64).await;
    b.until_published(EACH as u64).await;
    let stream = read_stream(&nats.url(), "PILOTWATCH").await;
    let seqs = by_receiver(&stream);
    let all: Vec<u64> = (1..=EACH as u64).collect();
    assert_eq!(
        seqs["a"], all,
        "a: every acked delivery, once, in seq order"
    );
    assert_eq!(
        seqs["b"], all,
        "b: every acked delivery, once, in seq order"
    );
    assert!(backlog > 0, "the outage really held records back");
    // The lines are the journal's own, byte for byte.
    let journal = std::fs::read_to_string(&a.journal).unwrap();
    let first_a = stream.iter().find(|(r, _, _)| r == "a").unwrap();
    assert_eq!(journal.lines().next().unwrap().as_bytes(), &first_a.2[..]);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dashboard_on_nats_sees_both_receivers_and_its_reply_is_sent_once() {
    use pilotwatch::api::{SendBody, SendRequest};
    use pilotwatch::model::outbound::{InReplyTo, ReplyPhase};
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let fake = pilotwatch::demo::fake_api::FakeApi::start().await.unwrap();
    let base = fake.base_url();
    let key = [
        ("PILOT_STATUS_API_KEY", "ps_live_natstest_00000000000wxyz"),
        ("PILOT_STATUS_BASE_URL", base.as_str()),
    ];
    let dir = tempfile::tempdir().unwrap();
    // Both hold the key: the queue group makes exactly one of them send.
    let a = Receiver::start(dir.path(), "a", &nats.url(), &key).await;
    let b = Receiver::start(dir.path(), "b", &nats.url(), &key).await;
    a.post(&body("a", 0)).await.unwrap();
    b.post(&body("b", 0)).await.unwrap();
    let d = dashboard(&nats).await;
    wait_for("both receivers' deliveries", || {
        d.store().read().counters().total == 2
    })
    .await;
    wait_for("both receivers named", || {
        let r = d.state().receivers;
        r.contains_key("a") && r.contains_key("b")
    })
    .await;
    wait_for("heartbeats saying both send", || {
        d.state().receivers.values().all(|s| s.sends)
    })
    .await;
    let idem = "idem-nats-1".to_owned();
    d.request(Request::Send {
        request: SendRequest {
            body: SendBody {
                text: "Sim, das 9h às 13h".into(),
                destination_number: Some("+5511999999999".into()),
                group_id: None,
            },
            number_id: Some("n1".into()),
            idempotency_key: idem.clone(),
        },
        in_reply_to: Some(InReplyTo {
            id: "b-0".into(),
            event: "message.received".into(),
        }),
        attempt: 1,
    })
    .unwrap();
    wait_for("the fake API to get the send", || !fake.sends().is_empty()).await;
    wait_for("the accepted reply back on the dashboard", || {
        d.store()
            .read()
            .replies()
            .get(&idem)
            .is_some_and(|r| r.phase == ReplyPhase::Accepted)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sends().len(), 1, "sent once");
    assert_eq!(
        fake.sends()[0].header("idempotency-key"),
        Some(idem.as_str())
    );
    // Exactly one journal holds the reply.
    let holders = [&a, &b]
        .iter()
        .filter(|r| {
            std::fs::read_to_string(&r.journal)
                .unwrap()
                .contains("outbound.accepted")
        })
        .count();
    assert_eq!(holders, 1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_receiver_resumes_without_gaps_or_publishing_again() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    for i in 0..40 {
        a.post(&body("r", i)).await.unwrap();
    }
    // The last one is a retry the stream refuses: only the cursor file knows it.
    a.post(&body("r", 39)).await.unwrap();
    a.until_published(41).await;
    assert_eq!(a.nats().await["published"], 40);
    assert_eq!(a.nats().await["duplicates"], 1);
    a.stop().await;
    // While it is down nothing is published; started again, it resumes after 41.
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    for i in 40..60 {
        a.post(&body("r", i)).await.unwrap();
    }
    a.until_published(61).await;
    let n = a.nats().await;
    assert_eq!(
        (n["published"].as_u64(), n["duplicates"].as_u64()),
        (Some(20), Some(0)),
        "{n}"
    );
    let stream = read_stream(&nats.url(), "PILOTWATCH").await;
    let seqs = by_receiver(&stream);
    let want: Vec<u64> = (1..=40).chain(42..=61).collect();
    assert_eq!(seqs["a"], want, "no gap, nothing twice");
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_down_at_start_deliveries_are_acked_and_published_later() {
    let Some(mut nats) = NatsServer::start().await else {
        return;
    };
    nats.kill();
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    for i in 0..5 {
        assert!(
            a.post(&body("down", i)).await.is_some(),
            "acked without NATS"
        );
    }
    let n = a.nats().await;
    assert_eq!(n["connected"], false, "{n}");
    assert!(
        n["problem"].as_str().is_some_and(|p| p.contains("nats")),
        "{n}"
    );
    let metrics = client()
        .get(format!("http://{}/metrics", a.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("pilotwatch_nats_backlog 5"), "{metrics}");
    nats.restart().await;
    a.until_published(5).await;
    assert_eq!(read_stream(&nats.url(), "PILOTWATCH").await.len(), 5);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_service_evaluates_alerts_over_every_receivers_deliveries() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[alerts.number_disconnected]\nfor = \"1s\"\nkeep_firing_for = \"0s\"\n",
    )
    .unwrap();
    let extra = ["--config", config.to_str().unwrap()];
    let a = Receiver::start_with(dir.path(), "a", &nats.url(), &[], &extra).await;
    let b = Receiver::start_with(dir.path(), "b", &nats.url(), &[], &extra).await;
    let d = dashboard(&nats).await;
    wait_for("both heartbeats", || {
        d.state()
            .receivers
            .values()
            .filter(|s| s.heartbeat.is_some())
            .count()
            == 2
    })
    .await;
    wait_for("one receiver holding the alerts lease", || {
        d.state().receivers.values().any(|s| s.alerts)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let holders: Vec<String> = d
        .state()
        .receivers
        .iter()
        .filter(|(_, s)| s.alerts)
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(holders.len(), 1, "exactly one evaluates: {holders:?}");
    let (leader, other) = if holders[0] == "a" {
        (&a, &b)
    } else {
        (&b, &a)
    };
    // The number goes down at the receiver that does not evaluate.
    let event = |e: &str| {
        format!(
            r#"{{"event":"number.{e}","data":{{"numberId":"num_main","phone":"+5511900000001","displayName":"Main store","createdAt":"{}"}}}}"#,
            chrono::Utc::now().to_rfc3339()
        )
    };
    other.post(&event("connected")).await.unwrap();
    other.post(&event("disconnected")).await.unwrap();
    wait_for("the alert to fire on the dashboard", || {
        d.store().read().alerts().firing() == 1
    })
    .await;
    let journal = |r: &Receiver| std::fs::read_to_string(&r.journal).unwrap();
    assert!(
        journal(leader).contains("number_disconnected"),
        "the leader journaled it"
    );
    assert!(
        !journal(other).contains("number_disconnected"),
        "the other did not evaluate"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_larger_than_the_server_takes_goes_cut_and_holds_nothing_up() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    // 700 KB of quotes: escaped in the journal line, past NATS's 1 MB max_payload.
    let huge = body("huge", 0).replace("hello 0", &"\\\"".repeat(350_000));
    assert!(huge.len() < 1 << 20);
    assert_eq!(a.post(&huge).await, Some(1));
    assert_eq!(a.post(&body("after", 1)).await, Some(2));
    a.until_published(2).await;
    let stream = read_stream(&nats.url(), "PILOTWATCH").await;
    assert_eq!(stream.len(), 2);
    let cut = pilotwatch::journal::line::decode(&stream[0].2).unwrap();
    assert!(
        cut.problems.iter().any(|p| p.contains("for NATS")),
        "{:?}",
        cut.problems
    );
    assert_eq!(cut.body_len, huge.len() as u64);
    assert!(
        std::fs::read_to_string(&a.journal).unwrap().len() > 1_000_000,
        "whole at home"
    );
    a.stop().await;
}

/// Batches go several records at a time: when a connection breaks mid-batch a later
/// record can be stored while an earlier one was lost. The next session reads the
/// stream back from the last record known in place. A seq missing there is published
/// again under its own id: refused as a duplicate (another receiver had it) it was
/// never missing; stored, what follows it is taken out and published again under a
/// new id, kept in the cursor first. The stream ends up in seq order, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_stored_out_of_order_are_taken_out_and_published_again_in_order() {
    use pilotwatch::bus::nats::NatsBus;
    use pilotwatch::bus::{Bus, Outgoing};
    use pilotwatch::outbox::repair::{Journal, Mark, repair};
    use std::collections::HashMap;
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let bus = NatsBus::connect(&BusTarget::parse(&nats.url()).unwrap(), "test")
        .await
        .unwrap();
    bus.ensure_stream(1).await.unwrap();
    let record = |receiver: &str, seq: u64, id: &str| {
        let mut line = Vec::new();
        pilotwatch::journal::line::encode(
            &pilotwatch::record::Record::delivery(seq, body("o", seq as usize).as_bytes()),
            &mut line,
        );
        line.pop();
        Outgoing {
            subject: format!("pilotwatch.{receiver}.delivery.message"),
            msg_id: id.to_owned(),
            seq,
            line: line.into(),
        }
    };
    struct Lines {
        records: HashMap<u64, Outgoing>,
        kept: Vec<HashMap<u64, u32>>,
    }
    impl Journal for Lines {
        fn record(&mut self, seq: u64) -> Option<Outgoing> {
            self.records.get(&seq).cloned()
        }
        fn persist(&mut self, again: &HashMap<u64, u32>) -> std::io::Result<()> {
            self.kept.push(again.clone());
            Ok(())
        }
    }
    // Receiver b had the delivery that is a's #3 (the same identity).
    bus.publish(vec![record("b", 1, "d-shared")]).await;
    // a: 3 was refused as that duplicate; 5 was lost; 6 and 7 went on a new connection.
    let ids = |s: u64| {
        if s == 3 {
            "d-shared".to_owned()
        } else {
            format!("r-a-{s}")
        }
    };
    let (acks, failed) = bus
        .publish([1, 2, 4, 6, 7].map(|s| record("a", s, &ids(s))).to_vec())
        .await;
    assert!(failed.is_none());
    let mut lines = Lines {
        records: (1..=7).map(|s| (s, record("a", s, &ids(s)))).collect(),
        kept: vec![],
    };
    let mark = Mark {
        seq: 2,
        position: acks[1].position,
    };
    let mut again = HashMap::new();
    let at = repair(&bus, "a", mark, &mut again, &mut lines)
        .await
        .unwrap();
    assert_eq!(
        at.seq, 5,
        "3 was there (a duplicate), 4 in order, 5 put back"
    );
    assert_eq!(again, HashMap::from([(6, 1), (7, 1)]));
    assert_eq!(
        lines.kept,
        [again.clone()],
        "kept before anything was taken out"
    );
    let (_, failed) = bus
        .publish(vec![
            record("a", 6, "r-a-6-again1"),
            record("a", 7, "r-a-7-again1"),
        ])
        .await;
    assert!(failed.is_none());
    let seqs = by_receiver(&read_stream(&nats.url(), "PILOTWATCH").await);
    assert_eq!(seqs["a"], [1, 2, 4, 5, 6, 7]);
    // Nothing more to put right.
    let held = bus.held_after("a", 0).await.unwrap();
    let mark = Mark {
        seq: 7,
        position: held.last().unwrap().1,
    };
    assert_eq!(
        repair(&bus, "a", mark, &mut again, &mut lines)
            .await
            .unwrap(),
        mark
    );
}

/// A dashboard started before any receiver has published waits for the stream (and
/// says so) instead of failing, then shows what comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_attached_before_any_receiver_waits_for_the_stream() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let d = dashboard(&nats).await;
    let note = d.state().service.startup_note.unwrap_or_default();
    assert!(note.contains("no stream PILOTWATCH"), "{note}");
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    a.post(&body("late", 0)).await.unwrap();
    wait_for("the delivery on the early dashboard", || {
        d.store().read().counters().total == 1
    })
    .await;
    a.stop().await;
}

/// A dashboard attached to a `serve --nats` over its socket hears how its outbox does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_on_the_socket_hears_the_outbox() {
    use pilotwatch::attach::client::Options;
    use pilotwatch::attach::{Endpoint, default_socket};
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Receiver::start(dir.path(), "a", &nats.url(), &[]).await;
    a.post(&body("s", 0)).await.unwrap();
    a.until_published(1).await;
    let d = Client::attach(Options {
        endpoint: Endpoint::Unix(default_socket(Some(&a.journal))),
        token: None,
        history: 100,
        capacity: 1000,
    })
    .await
    .unwrap();
    wait_for("the outbox in a status frame", || {
        d.state()
            .nats
            .is_some_and(|n| n.receiver == "a" && n.connected && n.backlog == 0)
    })
    .await;
    a.stop().await;
}

/// The journal rolls into many small segments while publishing, and then goes quiet
/// (a new, empty active segment): everything is published once, in order, and the
/// outbox waits for more without a fuss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_follows_the_journal_across_segment_rolls_and_quiet() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--no-alerts", "--segment-size", "16KiB"];
    let a = Receiver::start_with(dir.path(), "a", &nats.url(), &[], &extra).await;
    for i in 0..150 {
        a.post(&body("roll", i)).await.unwrap();
    }
    a.until_published(150).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for i in 150..160 {
        a.post(&body("roll", i)).await.unwrap();
    }
    a.until_published(160).await;
    let segments = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("a.0")
        })
        .count();
    assert!(segments >= 5, "rolled {segments} times");
    let seqs = by_receiver(&read_stream(&nats.url(), "PILOTWATCH").await);
    assert_eq!(seqs["a"], (1..=160).collect::<Vec<u64>>());
    a.stop().await;
}

/// Two receivers given the same name would drop each other's records as duplicates:
/// the second one publishes nothing and says why (its deliveries are acked and kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_receiver_with_the_same_name_is_refused_and_says_why() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = Receiver::start(dir.path(), "x", &nats.url(), &[]).await;
    first.post(&body("first", 0)).await.unwrap();
    first.until_published(1).await;
    let other = tempfile::tempdir().unwrap();
    let second = Receiver::start(other.path(), "x", &nats.url(), &[]).await;
    assert_eq!(
        second.post(&body("second", 0)).await,
        Some(1),
        "acked all the same"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = second.nats().await;
        if n["problem"]
            .as_str()
            .is_some_and(|p| p.contains("another receiver named x"))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{n}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(read_stream(&nats.url(), "PILOTWATCH").await.len(), 1);
    second.stop().await;
    first.stop().await;
}
