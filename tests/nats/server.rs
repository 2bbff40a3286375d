//! A real `nats-server -js` for a test: on a free loopback port, its store in a temp
//! dir, killed (and restartable on the same port and store) at will.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    store: PathBuf,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    /// `None` (and a line saying why) when `nats-server` is not installed: `.ci/run`
    /// installs it, so in CI this never skips.
    pub async fn start() -> Option<Self> {
        if Command::new("nats-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: nats-server is not installed (apt-get install nats-server)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = Self {
            child: None,
            port,
            store: dir.path().join("js"),
            _dir: dir,
        };
        s.restart().await;
        Some(s)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Start it (again) on the same port and store.
    pub async fn restart(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let mut last = String::new();
        for _ in 0..200 {
            match async_nats::connect(self.url()).await {
                // JetStream answers its account info once it is up.
                Ok(c) => match c.request("$JS.API.INFO", "".into()).await {
                    Ok(m) if !m.payload.is_empty() => return,
                    Ok(_) => last = "an empty answer".into(),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not come up on {}: {last}", self.port);
    }

    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every message of the stream: (receiver, its seq, the journal line).
pub async fn read_stream(url: &str, stream: &str) -> Vec<(String, u64, bytes::Bytes)> {
    use futures_util::StreamExt;
    let c = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(c);
    let mut s = js.get_stream(stream).await.unwrap();
    let last = s.info().await.unwrap().state.last_sequence;
    let mut out = Vec::new();
    if last == 0 {
        return out;
    }
    let consumer = s
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    while let Some(m) = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("the stream reads")
    {
        let m = m.unwrap();
        let receiver = m.subject.split('.').nth(1).unwrap().to_owned();
        let seq = pilotwatch::journal::tail::line_seq(&m.payload).unwrap();
        let pos = m.info().unwrap().stream_sequence;
        out.push((receiver, seq, m.payload.clone()));
        if pos >= last {
            break;
        }
    }
    out
}
