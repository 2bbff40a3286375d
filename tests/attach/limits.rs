//! The attach endpoints under abuse, with the real binary on loopback (issue 22): silent
//! strangers on `--attach-listen` can neither lock the owner out of the Unix socket nor
//! hold a place for long, and attached clients are not told `--forward-to`'s secrets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::AsyncReadExt;

use super::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// More than the 32 connections a service lets wait for their hello.
const STRANGERS: usize = 40;

/// Read until the service closes the connection: what it said, and how long it took.
async fn until_closed<S: tokio::io::AsyncRead + Unpin>(mut s: S) -> (String, Duration) {
    let started = Instant::now();
    let mut said = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => said.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&said).into_owned(),
        started.elapsed(),
    )
}

/// `STRANGERS` silent TCP connections, each reopened 50 ms after the service closes it,
/// for as long as the returned tasks live. The counter: connections closed at once
/// (within 200 ms), i.e. turned away because every place was taken.
fn strangers(addr: &str) -> (Vec<tokio::task::JoinHandle<()>>, Arc<AtomicUsize>) {
    let shed = Arc::new(AtomicUsize::new(0));
    let tasks = (0..STRANGERS)
        .map(|_| {
            let (addr, shed) = (addr.to_owned(), shed.clone());
            tokio::spawn(async move {
                loop {
                    if let Ok(s) = tokio::net::TcpStream::connect(&addr).await {
                        let (_, held) = until_closed(s).await;
                        if held < Duration::from_millis(200) {
                            shed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        })
        .collect();
    (tasks, shed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent_tcp_strangers_cannot_lock_the_owner_out_of_the_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = common::free_addr().to_string();
    let svc = Service::start(
        dir.path(),
        &["--attach-listen", &tcp],
        &[("PILOTWATCH_ATTACH_TOKEN", TOKEN)],
    )
    .await;
    svc.post(0, 5).await;
    let (tasks, shed) = strangers(&tcp);
    // Some were turned away at once: every place for a TCP hello is taken.
    wait_for("the TCP hello places to fill", || {
        shed.load(Ordering::SeqCst) > 0
    })
    .await;
    // Across more than one hello deadline, so the strangers have reopened meanwhile.
    let mut took = Vec::new();
    for round in 0..4 {
        let started = Instant::now();
        let c = tokio::time::timeout(Duration::from_secs(3), async {
            let c = Client::attach(options(&svc.socket)).await;
            let c = c.unwrap_or_else(|e| panic!("round {round}: locked out: {e}"));
            until_holds(&c, 5).await;
            c
        })
        .await
        .unwrap_or_else(|_| panic!("round {round}: no records within 3 s"));
        took.push(started.elapsed());
        assert_eq!(held(&c).0, (1..=5).collect::<Vec<_>>());
        drop(c);
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let shed = shed.load(Ordering::SeqCst);
    println!(
        "unix attach with {STRANGERS} silent TCP strangers: {took:?}; {shed} strangers turned away"
    );
    assert!(
        shed >= STRANGERS - 32,
        "the strangers kept the TCP places full"
    );
    for t in tasks {
        t.abort();
    }
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_that_never_says_hello_is_closed_at_the_hello_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = common::free_addr().to_string();
    let svc = Service::start(
        dir.path(),
        &["--attach-listen", &tcp],
        &[("PILOTWATCH_ATTACH_TOKEN", TOKEN)],
    )
    .await;
    let unix = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    let tcp = tokio::net::TcpStream::connect(&tcp).await.unwrap();
    let (unix, tcp) = tokio::join!(until_closed(unix), until_closed(tcp));
    println!(
        "silent connection closed after: unix {:?}, tcp {:?}",
        unix.1, tcp.1
    );
    for (name, (said, after)) in [("unix", unix), ("tcp", tcp)] {
        assert!(said.contains("no hello within"), "{name}: {said}");
        // A deadline, not a refusal at the door; and far shorter than the idle drop.
        assert!(after > Duration::from_secs(1), "{name}: {after:?}");
        assert!(after < Duration::from_secs(4), "{name}: {after:?}");
    }
    // It was refused, not attached: the next client is the only one.
    let c = Client::attach(options(&svc.socket)).await.unwrap();
    wait_for("the status frame", || c.state().clients == 1).await;
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_clients_are_not_told_the_forward_urls_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let url = "https://hook-user:pw-CANARY-1@127.0.0.1:9/hooks/in?token=qs-CANARY-2&v=1";
    let svc = Service::start(dir.path(), &["--forward-to", url], &[]).await;
    // What the service sends, byte for byte (the client masks again on its side, which
    // would hide a service that did not).
    let mut raw = tokio::net::UnixStream::connect(&svc.socket).await.unwrap();
    raw.write_all(b"{\"version\":1,\"after\":0,\"history\":0}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(raw).lines();
    let welcome = lines.next_line().await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&welcome).unwrap();
    assert_eq!(v["type"], "welcome");
    let shown = v["service"]["forwardTo"].as_str().unwrap();
    assert!(!welcome.contains("CANARY"), "{welcome}");
    assert!(!welcome.contains("hook-user"), "{welcome}");
    // Still says where deliveries go.
    assert!(shown.contains("127.0.0.1:9/hooks/in"), "{shown}");
    let c = Client::attach(options(&svc.socket)).await.unwrap();
    let seen = c.state().service.forward_to.unwrap();
    assert!(!seen.contains("CANARY"), "{seen}");
    assert!(
        !svc.stderr.lock().iter().any(|l| l.contains("CANARY")),
        "the service's log"
    );
    svc.stop().await;
}
