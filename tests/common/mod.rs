//! Helpers shared by the integration tests ([`tui`]: the dashboard in a TestBackend).
#![allow(dead_code)] // each test binary uses its own subset

pub mod tui;

use std::path::PathBuf;

/// `../shared/corpus` when the shared folder sits beside the repo (as in CI), else the
/// copy vendored in `tests/corpus`.
pub fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PILOTWATCH_CORPUS") {
        return dir.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/corpus");
    if shared.join("verdicts.json").exists() {
        shared
    } else {
        root.join("tests/corpus")
    }
}

/// Every corpus file with the official SDK's verdict on it, sorted by name.
pub fn corpus() -> Vec<(String, String, Vec<u8>)> {
    let dir = corpus_dir();
    let verdicts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("verdicts.json")).expect("verdicts.json"))
            .expect("verdicts.json is JSON");
    let mut out: Vec<_> = verdicts
        .into_iter()
        .map(|(file, v)| {
            let body = std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            (
                file,
                v.as_str().expect("verdict is a string").to_owned(),
                body,
            )
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 29,
        "corpus looks incomplete: {} files",
        out.len()
    );
    out
}

use std::net::SocketAddr;
use std::sync::Arc;

use pilotwatch::config::Settings;
use pilotwatch::ingest::Ingest;
use pilotwatch::secret::Secret;
use pilotwatch::service::Service;
use tokio::sync::oneshot;

/// Settings for a test receiver: loopback, any free port, a journal in `dir`
/// ([`Settings::for_tests`]).
pub fn settings(dir: &std::path::Path) -> Settings {
    Settings::for_tests(dir)
}

pub fn with_secrets(mut s: Settings, secrets: &[&str]) -> Settings {
    s.secrets = secrets.iter().map(|x| Secret::new(*x)).collect();
    s
}

/// The real receiver, serving on a loopback port until stopped.
pub struct Running {
    pub addr: SocketAddr,
    pub ingest: Arc<Ingest>,
    pub forwarder: Option<Arc<pilotwatch::forward::Forwarder>>,
    pub replay: pilotwatch::journal::replay::ReplayReport,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn start(settings: &Settings) -> Running {
        let service = Service::start(settings).await.expect("service starts");
        let (addr, ingest, replay) = (service.addr, service.ingest.clone(), service.replay.clone());
        let forwarder = service.forwarder.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            service
                .serve(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("serves");
        });
        Running {
            addr,
            ingest,
            forwarder,
            replay,
            stop: Some(stop),
            task,
        }
    }

    pub fn forwarder(&self) -> Option<&Arc<pilotwatch::forward::Forwarder>> {
        self.forwarder.as_ref()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET /healthz`, as JSON.
    pub async fn health(&self) -> serde_json::Value {
        health_of(&self.addr.to_string()).await
    }

    /// Stop serving, drain, sync and release the journal.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await.expect("server task");
    }
}

/// `GET http://ADDR/healthz`, as JSON (for the real binary, known by its address).
pub async fn health_of(addr: &str) -> serde_json::Value {
    client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Start the real binary on a free loopback port; returns it and its address.
pub async fn spawn(journal: &Path, extra: &[&str]) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    spawn_env(journal, extra, &[]).await
}

/// [`spawn`], with environment variables set.
pub async fn spawn_env(
    journal: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["--headless", "--journal"])
        .arg(journal)
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .args(extra)
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .env_remove("PILOT_STATUS_API_KEY")
        .env_remove("PILOTWATCH_ATTACH_TOKEN")
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pilotwatch binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            stderr.lock().push(line.clone());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("pilotwatch exited before listening: {:?}", stderr.lock());
    })
    .await
    .expect("listening within 20 s");
    let keep = stderr.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().push(line);
        }
    });
    (child, addr, stderr)
}

/// Poll `cond` until it holds; fail the test after 10 s.
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A loopback address with a free port (for the binary in a pty, which is told where).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Whether `pid` is still running (a zombie waiting to be reaped is not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(") ").next().and_then(|rest| rest.chars().next()))
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// Wait until the receiver at `addr` takes deliveries: `/healthz` answers 200 (the
/// port answers 503 while the journal replays, so a connect is not enough).
pub async fn wait_ready(addr: impl std::fmt::Display) {
    let http = client();
    let start = std::time::Instant::now();
    while !http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not taking deliveries"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
