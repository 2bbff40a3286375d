//! `pilotwatch serve` and the dashboards that attach to it, with the real binary as the
//! service and the library's attach client (what `pilotwatch attach` runs) on its socket:
//! history then live with no gap and no duplicate, several clients, a stalled client
//! dropped without delaying acks, catch-up after a restart, replies sent by the service,
//! the socket's mode, and TCP attach that insists on its token. Abuse of the attach
//! endpoints (silent strangers, secrets in what clients are told) is in `attach/limits.rs`;
//! forward results reaching attached dashboards and surviving a restart in
//! `attach/forward.rs`.

mod common;
#[path = "attach/forward.rs"]
mod forward;
#[path = "attach/limits.rs"]
mod limits;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{client, spawn_env, wait_for};
use pilotwatch::attach::client::{Client, Link, Options};
use pilotwatch::attach::protocol::Request;
use pilotwatch::attach::{Endpoint, default_socket};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;

fn body(i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"wa-{i}","id":"att-{i}","type":"text","fromMe":false,"content":"hello {i}","createdAt":"2026-01-01T00:00:00Z"}}}}"#
    )
}

struct Service {
    child: Child,
    addr: String,
    socket: PathBuf,
    journal: PathBuf,
    /// What the service wrote to stderr (its log, in headless mode).
    stderr: std::sync::Arc<parking_lot::Mutex<Vec<String>>>,
}

impl Service {
    async fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Service {
        let journal = dir.join("journal.jsonl");
        let mut args = vec!["serve"];
        args.extend_from_slice(extra);
        let (child, addr, stderr) = spawn_env(&journal, &args, env).await;
        let socket = default_socket(Some(&journal));
        wait_for("the attach socket", || socket.exists()).await;
        Service {
            child,
            addr,
            socket,
            journal,
            stderr,
        }
    }

    async fn post(&self, from: usize, to: usize) -> Vec<u64> {
        let http = client();
        let mut seqs = Vec::new();
        for i in from..to {
            let r = http
                .post(format!("http://{}/", self.addr))
                .body(body(i))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let v: serde_json::Value = r.json().await.unwrap();
            seqs.push(v["seq"].as_u64().unwrap());
        }
        seqs
    }

    async fn health(&self) -> serde_json::Value {
        common::health_of(&self.addr).await
    }

    async fn stop(mut self) {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("stops within 10 s")
            .unwrap();
        assert!(status.success(), "{status}");
    }
}

fn options(socket: &Path) -> Options {
    Options {
        endpoint: Endpoint::Unix(socket.to_owned()),
        token: None,
        history: 10_000,
        capacity: 100_000,
    }
}

/// The seqs in a client's store, oldest first, and the bodies' `hello N` numbers.
fn held(c: &Client) -> (Vec<u64>, Vec<usize>) {
    let store = c.store().read();
    let seqs = store.feed().map(|r| r.seq).collect();
    let ns = store
        .feed()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body.get()).unwrap();
            let content = v["data"]["content"].as_str().unwrap();
            content.rsplit(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    (seqs, ns)
}

async fn until_holds(c: &Client, last: u64) {
    wait_for(&format!("the client to hold seq {last}"), || {
        c.store().read().last_seq() >= last
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_see_every_delivery_once_in_order_across_history_and_live() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[], &[]).await;
    svc.post(0, 60).await;
    let a = Client::attach(options(&svc.socket)).await.unwrap();
    // Deliveries keep arriving while the second client attaches: its history and its
    // live stream meet somewhere in the middle of them.
    let poster = {
        let addr = svc.addr.clone();
        tokio::spawn(async move {
            let http = client();
            for i in 60..400 {
                let r = http
                    .post(format!("http://{addr}/"))
                    .body(body(i))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    let b = Client::attach(options(&svc.socket)).await.unwrap();
    poster.await.unwrap();
    let last = svc.health().await["lastSeq"].as_u64().unwrap();
    assert_eq!(last, 400);
    for (name, c) in [("a", &a), ("b", &b)] {
        until_holds(c, last).await;
        let (seqs, ns) = held(c);
        assert_eq!(seqs, (1..=400).collect::<Vec<_>>(), "client {name}: seqs");
        assert_eq!(ns, (0..400).collect::<Vec<_>>(), "client {name}: bodies");
        assert_eq!(c.store().read().messages().len(), 400, "client {name}");
        assert_eq!(c.state().link, Link::Attached);
    }
    assert_eq!(svc.health().await["attach"]["clients"], 2);
    // History is bounded: a client asking for the newest 50 gets exactly those.
    let mut few = options(&svc.socket);
    few.history = 50;
    let c = Client::attach(few).await.unwrap();
    until_holds(&c, 400).await;
    let (seqs, _) = held(&c);
    assert_eq!(seqs, (351..=400).collect::<Vec<_>>());
    let (notices, _) = c.take_news();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("350 older records not loaded")),
        "{notices:?}"
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_client_is_dropped_without_delaying_acks_and_catches_up_by_seq() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--attach-buffer", "64"], &[]).await;
    let http = client();
    let url = format!("http://{}/", svc.addr);
    let big = |i: usize| body(i).replace("hello", &format!("{} hello", "x".repeat(2000)));
    let acks = |n: std::ops::Range<usize>| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let mut took = Vec::new();
            for i in n {
                let t = Instant::now();
                let r = http.post(&url).body(big(i)).send().await.unwrap();
                assert!(r.status().is_success());
                took.push(t.elapsed());
            }
            took.sort();
            took
        }
    };
    let baseline = acks(0..300).await;

    // A client that says hello and then never reads (a stalled SSH session), and a
    // healthy one beside it.
    let mut stalled = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    stalled
        .write_all(b"{\"version\":1,\"after\":300,\"history\":0}\n")
        .await
        .unwrap();
    let healthy = Client::attach(options(&svc.socket)).await.unwrap();
    let with_stall = acks(300..1300).await;
    let p = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    println!(
        "ack latency without / with a stalled client: p50 {:?} / {:?}, p99 {:?} / {:?}, max {:?} / {:?}",
        p(&baseline, 0.5),
        p(&with_stall, 0.5),
        p(&baseline, 0.99),
        p(&with_stall, 0.99),
        baseline.last().unwrap(),
        with_stall.last().unwrap()
    );
    let health = svc.health().await;
    assert_eq!(health["attach"]["dropped"], 1, "{health}");
    assert_eq!(health["attach"]["clients"], 1, "{health}");
    // Had the receiver waited for the stalled client, acks would have stopped once its
    // socket filled (a few hundred frames in). They did not slow down either.
    assert!(
        p(&with_stall, 0.5) < p(&baseline, 0.5) * 3 + Duration::from_millis(5),
        "median ack slowed down"
    );
    assert!(*with_stall.last().unwrap() < Duration::from_secs(1));
    until_holds(&healthy, 1300).await;
    assert_eq!(held(&healthy).0, (1..=1300).collect::<Vec<_>>());

    // The stalled client wakes up: what it got is whole frames, ending in a bye that
    // says why, and reconnecting from its last seq fills the rest exactly.
    let mut lines = BufReader::new(stalled).lines();
    let mut last_seq = 300;
    let mut bye = None;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
        .await
        .expect("the service closes the dropped connection")
        .unwrap()
    {
        let v: serde_json::Value = serde_json::from_str(&line).expect("whole frames only");
        match v["type"].as_str().unwrap() {
            "record" => {
                let seq = v["record"]["seq"].as_u64().unwrap();
                assert_eq!(seq, last_seq + 1, "in order, no gap");
                last_seq = seq;
            }
            "bye" => bye = Some(v["reason"].as_str().unwrap().to_owned()),
            _ => {}
        }
    }
    let bye = bye.expect("a bye frame");
    assert!(bye.contains("fell too far behind"), "{bye}");
    assert!(last_seq < 1300, "it was dropped before the end");
    let mut again = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    again
        .write_all(
            format!("{{\"version\":1,\"after\":{last_seq},\"history\":100000}}\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut lines = BufReader::new(again).lines();
    let mut next = last_seq + 1;
    loop {
        let line = lines.next_line().await.unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        match v["type"].as_str().unwrap() {
            "record" => {
                assert_eq!(v["record"]["seq"].as_u64().unwrap(), next);
                next += 1;
            }
            "live" => break,
            _ => {}
        }
    }
    assert_eq!(next, 1301, "caught up exactly to the live point");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_reconnects_after_a_restart_and_catches_up_from_its_last_seq() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[], &[]).await;
    svc.post(0, 20).await;
    let c = Client::attach(options(&svc.socket)).await.unwrap();
    until_holds(&c, 20).await;
    svc.stop().await;
    wait_for("the client to notice", || {
        matches!(c.state().link, Link::Reconnecting { .. })
    })
    .await;
    let Link::Reconnecting { why, .. } = c.state().link else {
        unreachable!()
    };
    assert!(
        why.contains("stopping") || why.contains("no service"),
        "{why}"
    );
    // Nothing is queued for later while the service is away: the dashboard is told.
    let refused = c.request(Request::Replay { seq: 1 }).unwrap_err();
    assert!(refused.contains("not attached"), "{refused}");
    let svc = Service::start(dir.path(), &[], &[]).await;
    svc.post(20, 50).await;
    wait_for("the client to reattach", || {
        c.state().link == Link::Attached
    })
    .await;
    until_holds(&c, 50).await;
    let (seqs, ns) = held(&c);
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert_eq!(ns, (0..50).collect::<Vec<_>>());
    // Caught up from seq 20, not reloaded: no notice about a replaced journal.
    assert_eq!(c.state().generation, 0);
    svc.stop().await;

    // A service on a fresh journal at the same socket: the client starts over.
    std::fs::remove_file(dir.path().join("journal.jsonl")).unwrap();
    let svc = Service::start(dir.path(), &[], &[]).await;
    svc.post(100, 105).await;
    wait_for("the client to reload", || c.state().generation == 1).await;
    until_holds(&c, 5).await;
    assert_eq!(held(&c), ((1..=5).collect(), (100..105).collect()));
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_from_an_attached_client_is_sent_and_journaled_by_the_service() {
    use pilotwatch::api::{SendBody, SendRequest};
    use pilotwatch::model::outbound::{InReplyTo, ReplyPhase};
    let fake = pilotwatch::demo::fake_api::FakeApi::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = fake.base_url();
    let svc = Service::start(
        dir.path(),
        &[],
        &[
            ("PILOT_STATUS_API_KEY", "ps_live_attachtest_0000000000abcd"),
            ("PILOT_STATUS_BASE_URL", &base),
        ],
    )
    .await;
    svc.post(0, 1).await;
    let a = Client::attach(options(&svc.socket)).await.unwrap();
    let b = Client::attach(options(&svc.socket)).await.unwrap();
    until_holds(&a, 1).await;
    // The client knows the key only masked; it sends no key of its own.
    let masked = a.state().service.api_key.unwrap();
    assert!(
        masked.ends_with("abcd") && !masked.contains("attachtest"),
        "{masked}"
    );
    let key = "idem-attach-1".to_owned();
    a.request(Request::Send {
        request: SendRequest {
            body: SendBody {
                text: "Sim, das 9h às 13h".into(),
                destination_number: Some("+5511999999999".into()),
                group_id: None,
            },
            number_id: Some("n1".into()),
            idempotency_key: key.clone(),
        },
        in_reply_to: Some(InReplyTo {
            id: "att-0".into(),
            event: "message.received".into(),
        }),
        attempt: 1,
    })
    .unwrap();
    wait_for("the fake API to get the send", || !fake.sends().is_empty()).await;
    let seen = &fake.sends()[0];
    assert_eq!(
        seen.header("x-api-key"),
        Some("ps_live_attachtest_0000000000abcd")
    );
    assert_eq!(seen.header("idempotency-key"), Some(key.as_str()));
    assert_eq!(seen.json()["text"], "Sim, das 9h às 13h");
    // Its lifecycle comes back to every attached dashboard, from the service's journal.
    for c in [&a, &b] {
        wait_for("the accepted reply", || {
            c.store()
                .read()
                .replies()
                .get(&key)
                .is_some_and(|r| r.phase == ReplyPhase::Accepted)
        })
        .await;
    }
    assert_eq!(fake.sends().len(), 1, "sent once");
    let journal = std::fs::read_to_string(&svc.journal).unwrap();
    assert!(journal.contains("outbound.accepted"));
    assert!(
        !journal.contains("attachtest"),
        "the key is never journaled"
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_is_owner_only_and_a_second_service_cannot_take_it() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[], &[]).await;
    let mode = std::fs::metadata(&svc.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // Another service pointed at the same socket (another journal) is refused, clearly.
    let other = dir.path().join("other.jsonl");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--journal"])
        .arg(&other)
        .arg("--attach-socket")
        .arg(&svc.socket)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already serving"), "{err}");
    let socket = svc.socket.clone();
    svc.stop().await;
    assert!(!socket.exists(), "removed on the way out");

    // A socket left by a service that died is replaced, not a reason to fail.
    let stale = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    drop(stale);
    assert!(socket.exists());
    let svc = Service::start(dir.path(), &[], &[]).await;
    Client::attach(options(&svc.socket)).await.unwrap();
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_attach_is_refused_without_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let run = |env: Vec<(&'static str, &'static str)>| {
        let journal = journal.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
                .args(["serve", "--listen", "127.0.0.1:0"])
                .args(["--attach-listen", "127.0.0.1:0", "--journal"])
                .arg(&journal)
                .env("PILOTWATCH_CONFIG", "/dev/null")
                .env_remove("PILOTWATCH_ATTACH_TOKEN")
                .envs(env)
                .output()
                .await
                .unwrap()
        }
    };
    // No token, or a short one: the service does not start.
    let out = run(vec![]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs PILOTWATCH_ATTACH_TOKEN"), "{err}");
    let out = run(vec![("PILOTWATCH_ATTACH_TOKEN", "short")]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));

    // With one: a client without it, or with a wrong one, is refused; the right one in.
    let token = "0123456789abcdef0123456789abcdef";
    let tcp = common::free_addr().to_string();
    let svc = Service::start(
        dir.path(),
        &["--attach-listen", &tcp],
        &[("PILOTWATCH_ATTACH_TOKEN", token)],
    )
    .await;
    svc.post(0, 3).await;
    let with = |t: Option<&str>| Options {
        endpoint: Endpoint::parse(&format!("tcp://{tcp}")),
        token: t.map(pilotwatch::secret::Secret::new),
        history: 100,
        capacity: 1000,
    };
    let err = Client::attach(with(None)).await.unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
    let err = Client::attach(with(Some("0123456789abcdef0123456789abcdeX")))
        .await
        .unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
    let c = Client::attach(with(Some(token))).await.unwrap();
    until_holds(&c, 3).await;
    assert_eq!(svc.health().await["attach"]["refused"], 2);
    svc.stop().await;
}

/// POST deliveries `from..to` from 8 tasks at once.
async fn post_many(addr: &str, from: usize, to: usize) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let url = format!("http://{addr}/");
        tasks.push(tokio::spawn(async move {
            let http = client();
            for i in (from + w..to).step_by(8) {
                let r = http.post(&url).body(body(i)).send().await.unwrap();
                assert!(r.status().is_success());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_has_no_hole_when_the_store_evicts_while_it_streams() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--capacity", "3000"], &[]).await;
    post_many(&svc.addr, 0, 3000).await;
    // A client that reads a little of its history, then pauses while the store evicts
    // everything it has not read yet.
    let stream = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    let (read, mut write) = stream.into_split();
    write
        .write_all(b"{\"version\":1,\"after\":0,\"history\":100000}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(read).lines();
    let mut frames = Vec::new();
    for _ in 0..5 {
        frames.push(lines.next_line().await.unwrap().unwrap());
    }
    post_many(&svc.addr, 3000, 5500).await;
    loop {
        let line = lines.next_line().await.unwrap().unwrap();
        let live = line.contains("\"type\":\"live\"");
        frames.push(line);
        if live {
            break;
        }
    }
    let v: serde_json::Value = serde_json::from_str(&frames[1]).unwrap();
    assert_eq!(v["type"], "history");
    let (from, to, count) = (
        v["from"].as_u64().unwrap(),
        v["to"].as_u64().unwrap(),
        v["count"].as_u64().unwrap(),
    );
    let seqs: Vec<u64> = frames[2..frames.len() - 1]
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["record"]["seq"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(seqs.len() as u64, count, "as many records as announced");
    assert_eq!(seqs, (from..=to).collect::<Vec<_>>(), "no hole");
    svc.stop().await;
}

/// A client that knows of more than the service has applied when it joins (its `after`
/// past the join point) is not sent those records again when they come live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_records_a_client_already_has_are_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[], &[]).await;
    svc.post(0, 5).await;
    let mut ahead = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    ahead
        .write_all(b"{\"version\":1,\"after\":8,\"history\":100}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(ahead).lines();
    // Wait for the live point, then the records arrive.
    loop {
        let line = lines.next_line().await.unwrap().unwrap();
        if line.contains("\"type\":\"live\"") {
            break;
        }
        assert!(
            !line.contains("\"type\":\"record\""),
            "history past its after: {line}"
        );
    }
    svc.post(5, 12).await;
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .expect("records come live")
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "record" {
            seqs.push(v["record"]["seq"].as_u64().unwrap());
        }
    }
    assert_eq!(seqs, vec![9, 10, 11, 12], "only what comes after its 8");
    svc.stop().await;
}
