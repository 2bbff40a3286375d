//! `pilotwatch attach`: a dashboard's view of a running service. Records stream into a
//! local store (the same one a local dashboard draws), history first, then live; when
//! the connection drops, the client says so and reconnects by itself, asking for what
//! follows the last seq it holds, so nothing is missed and nothing is applied twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};

use super::Endpoint;
use super::protocol::{
    self, Control, ForwardTotals, Frame, FrameReader, Hello, Request, ServiceInfo,
};
use crate::forward::display_url;
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::secret::Secret;
use crate::store::{SharedStore, Store};

/// How long to wait for a connection and its welcome.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The service sends a status frame every second: this much silence means it is gone.
const SILENCE: Duration = Duration::from_secs(5);
/// Waits between reconnection attempts grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Records applied under one store lock while more are already buffered.
const BATCH: usize = 512;

#[derive(Debug, Clone)]
pub struct Options {
    pub endpoint: Endpoint,
    pub token: Option<Secret>,
    /// The newest records loaded on first attach.
    pub history: u64,
    /// Records kept in the local store.
    pub capacity: usize,
}

/// The connection, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Attached,
    Reconnecting {
        since: DateTime<Utc>,
        why: String,
        attempts: u32,
    },
}

/// What the client knows besides the records.
#[derive(Debug, Clone)]
pub struct State {
    pub link: Link,
    pub service: ServiceInfo,
    /// History records received so far, of how many (while loading).
    pub loading: Option<(u64, u64)>,
    pub failure: Option<String>,
    /// With `--nats` at the service: its outbox.
    pub nats: Option<super::protocol::NatsStatus>,
    pub forwards: ForwardTotals,
    /// Clients attached to the service, this one included.
    pub clients: usize,
    /// Things to tell the user (skipped history, refused requests), oldest first.
    pub notices: VecDeque<String>,
    /// Replies asked for that never reached the service (the connection dropped): their
    /// idempotency keys. The dashboard lets them be sent again.
    pub lost: Vec<String>,
    /// Times this client was dropped for being too slow.
    pub dropped: u64,
    /// Bumped when the local store was emptied (the service's journal was replaced).
    pub generation: u64,
    /// On NATS: the receivers seen on the stream (none on a socket).
    pub receivers: std::collections::BTreeMap<String, super::merge::Seen>,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Replies sent on the current connection and not yet seen journaled.
    pub(super) pending: Mutex<HashSet<String>>,
    /// Replies still pending when a connection ended: once the next one has caught up,
    /// those the service never journaled were never sent (it journals before it sends).
    unconfirmed: Mutex<Vec<String>>,
}

/// A live attachment. Dropping it closes the connection.
#[derive(Debug)]
pub struct Client {
    store: SharedStore,
    changes: watch::Receiver<u64>,
    shared: Arc<Shared>,
    requests: mpsc::Sender<Request>,
    endpoint: Endpoint,
    task: tokio::task::AbortHandle,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// Connect and say hello; fails if nothing answers (the caller says so), and from
    /// then on keeps the store in step in the background, reconnecting as needed.
    pub async fn attach(options: Options) -> Result<Self, String> {
        let store = Store::shared(options.capacity);
        let conn = open(&options, &store, None).await?;
        let (service, endpoint) = (conn.service.clone(), options.endpoint.clone());
        Ok(Self::start(
            store,
            service,
            endpoint,
            |store, shared, changes, requests| run(options, conn, store, shared, changes, requests),
        ))
    }

    /// The client, its state, and `task` keeping its store in step in the background.
    pub(super) fn start<F>(
        store: SharedStore,
        service: ServiceInfo,
        endpoint: Endpoint,
        task: impl FnOnce(SharedStore, Arc<Shared>, watch::Sender<u64>, mpsc::Receiver<Request>) -> F,
    ) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (changes_tx, changes) = watch::channel(0u64);
        let (requests, request_rx) = mpsc::channel(64);
        let shared = Self::shared(service);
        let task = tokio::spawn(task(store.clone(), shared.clone(), changes_tx, request_rx));
        Self {
            store,
            changes,
            shared,
            requests,
            endpoint,
            task: task.abort_handle(),
        }
    }

    fn shared(service: ServiceInfo) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                link: Link::Attached,
                service,
                // Loading until the service says the history is done (`live`), also
                // before its first frame: a dashboard rings for no alert fired in it.
                loading: Some((0, 0)),
                failure: None,
                nats: None,
                forwards: ForwardTotals::default(),
                clients: 0,
                notices: VecDeque::new(),
                lost: Vec::new(),
                dropped: 0,
                generation: 0,
                receivers: Default::default(),
            }),
            pending: Mutex::new(HashSet::new()),
            unconfirmed: Mutex::new(Vec::new()),
        })
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// Changes whenever the store or the state does.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn state(&self) -> State {
        self.shared.state.lock().clone()
    }

    /// Take what there is to tell the user, and the replies that were lost.
    pub fn take_news(&self) -> (Vec<String>, Vec<String>) {
        let mut s = self.shared.state.lock();
        (s.notices.drain(..).collect(), std::mem::take(&mut s.lost))
    }

    /// Ask the service to do something. Fails at once when not attached: nothing is
    /// queued for later, so nothing is sent behind the user's back after a reconnect.
    pub fn request(&self, request: Request) -> Result<(), String> {
        // Under the state lock: the connection task marks itself reconnecting under it
        // before it clears the queue, so a request is either queued for a live
        // connection (and settled with it) or refused here.
        let state = self.shared.state.lock();
        if let Link::Reconnecting { .. } = state.link {
            return Err("not attached to the service (reconnecting): nothing was sent".into());
        }
        let key = match &request {
            Request::Send { request, .. } => Some(request.idempotency_key.clone()),
            Request::Replay { .. } | Request::History { .. } => None,
        };
        if let Some(k) = &key {
            self.shared.pending.lock().insert(k.clone());
        }
        if self.requests.try_send(request).is_err() {
            if let Some(k) = &key {
                self.shared.pending.lock().remove(k);
            }
            return Err("the connection to the service is busy: nothing was sent".into());
        }
        drop(state);
        Ok(())
    }
}

/// An open connection that has been welcomed.
struct Conn {
    reader: FrameReader<ReadHalf<Box<dyn Stream>>>,
    writer: WriteHalf<Box<dyn Stream>>,
    service: ServiceInfo,
    /// The store was emptied: the service holds another journal.
    reset: bool,
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

async fn connect(endpoint: &Endpoint) -> Result<Box<dyn Stream>, String> {
    let connecting = async {
        match endpoint {
            Endpoint::Unix(p) => tokio::net::UnixStream::connect(p)
                .await
                .map(|s| Box::new(s) as Box<dyn Stream>),
            Endpoint::Tcp(a) => tokio::net::TcpStream::connect(a.as_str()).await.map(|s| {
                let _ = s.set_nodelay(true);
                Box::new(s) as Box<dyn Stream>
            }),
            Endpoint::Nats(_) => Err(std::io::Error::other("NATS is attached to by attach_nats")),
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(match (endpoint, e.kind()) {
            (Endpoint::Unix(_), std::io::ErrorKind::NotFound) => {
                "no service there (is `pilotwatch serve` running?)".to_owned()
            }
            (_, std::io::ErrorKind::ConnectionRefused) => {
                "nothing answers there (the service is not running)".to_owned()
            }
            (_, std::io::ErrorKind::PermissionDenied) => {
                "permission denied (the socket belongs to another user)".to_owned()
            }
            _ => clean(&e.to_string(), 120),
        }),
        Err(_) => Err("timed out connecting".into()),
    }
}

/// Connect, say hello (asking for what follows the store's last seq) and read the
/// welcome. A service whose journal is behind what we hold is another journal: the
/// store is emptied and filled again from its history.
async fn open(
    options: &Options,
    store: &SharedStore,
    previous: Option<&ServiceInfo>,
) -> Result<Conn, String> {
    let mut reset = false;
    for _ in 0..2 {
        let after = store.read().last_seq();
        let stream = connect(&options.endpoint).await?;
        let (read, mut writer) = tokio::io::split(stream);
        let mut reader = FrameReader::new(read);
        let hello = Hello {
            version: protocol::VERSION,
            token: options.token.as_ref().map(|t| t.expose().to_owned()),
            after,
            history: if after == 0 {
                options.history
            } else {
                options.capacity as u64
            },
            client: format!("pilotwatch {}", env!("CARGO_PKG_VERSION")),
        };
        let line = frame_line(&hello);
        let welcome = tokio::time::timeout(CONNECT_TIMEOUT, async {
            writer.write_all(&line).await.map_err(|e| e.to_string())?;
            reader
                .next(protocol::MAX_FRAME)
                .await
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| "the service did not answer within 3 s".to_owned())??;
        let Some(welcome) = welcome else {
            return Err("the service closed the connection".into());
        };
        match protocol::decode(&welcome) {
            Ok(Frame::Control(Control::Welcome {
                mut service,
                last_seq,
                ..
            })) => {
                // An older service sends `--forward-to` whole, credentials included.
                service.forward_to = service.forward_to.as_deref().map(display_url);
                // Another journal (or a fresh one, or none): what we hold is not its
                // history. Without a journal, every start begins again at seq 1.
                let other = previous.is_some_and(|p| {
                    p.journal != service.journal
                        || (service.journal.is_none() && p.started != service.started)
                });
                if after > 0 && (last_seq < after || other) {
                    let capacity = store.read().capacity();
                    *store.write() = Store::new(capacity);
                    reset = true;
                    continue;
                }
                return Ok(Conn {
                    reader,
                    writer,
                    service,
                    reset,
                });
            }
            Ok(Frame::Control(Control::Error { error })) => {
                return Err(format!("refused: {}", clean(&error, 200)));
            }
            Ok(_) => return Err("the service did not welcome us".into()),
            Err(e) => return Err(clean(&e, 200)),
        }
    }
    Err("the service's journal keeps changing".into())
}

async fn run(
    options: Options,
    first: Conn,
    store: SharedStore,
    shared: Arc<Shared>,
    changes: watch::Sender<u64>,
    mut requests: mpsc::Receiver<Request>,
) {
    let mut conn = Some(first);
    let mut attempts = 0u32;
    loop {
        let c = match conn.take() {
            Some(c) => c,
            None => {
                attempts += 1;
                let wait = Duration::from_millis(100 << attempts.min(5)).min(MAX_BACKOFF);
                tokio::time::sleep(wait).await;
                let previous = shared.state.lock().service.clone();
                match open(&options, &store, Some(&previous)).await {
                    Ok(c) => c,
                    Err(why) => {
                        set_reconnecting(&mut shared.state.lock(), why, attempts);
                        changes.send_modify(|v| *v += 1);
                        continue;
                    }
                }
            }
        };
        attempts = 0;
        {
            let mut s = shared.state.lock();
            s.link = Link::Attached;
            s.service = c.service.clone();
            // Catching up is history too, until the service says `live`.
            s.loading = Some((0, 0));
            if c.reset {
                s.generation += 1;
                s.notices
                    .push_back("the service's journal changed: history reloaded".into());
            }
        }
        changes.send_modify(|v| *v += 1);
        let why = follow(c, &store, &shared, &changes, &mut requests).await;
        let mut s = shared.state.lock();
        if why.starts_with("dropped:") {
            s.dropped += 1;
        }
        set_reconnecting(&mut s, why, 0);
        s.loading = None;
        // Requests queued for the old connection never left: refused, not carried over.
        let mut pending = shared.pending.lock();
        while let Ok(r) = requests.try_recv() {
            if let Request::Send { request, .. } = r {
                pending.remove(&request.idempotency_key);
                s.lost.push(request.idempotency_key);
            }
        }
        // Those that did leave are settled once the next connection has caught up.
        shared.unconfirmed.lock().extend(pending.drain());
        drop((pending, s));
        changes.send_modify(|v| *v += 1);
    }
}

pub(super) fn set_reconnecting(s: &mut State, why: String, attempts: u32) {
    let since = match &s.link {
        Link::Reconnecting { since, .. } => *since,
        Link::Attached => Utc::now(),
    };
    s.link = Link::Reconnecting {
        since,
        why,
        attempts,
    };
}

/// Read frames into the store until the connection ends; says why it ended.
async fn follow(
    conn: Conn,
    store: &SharedStore,
    shared: &Shared,
    changes: &watch::Sender<u64>,
    requests: &mut mpsc::Receiver<Request>,
) -> String {
    let Conn {
        mut reader,
        mut writer,
        ..
    } = conn;
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    let mut heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            frame = reader.next(protocol::MAX_FRAME) => {
                heard = tokio::time::Instant::now();
                let line = match frame {
                    Err(e) => return clean(&e.to_string(), 120),
                    Ok(None) => return "the service closed the connection".into(),
                    Ok(Some(line)) => line,
                };
                match protocol::decode(&line) {
                    Ok(Frame::Record(mut r)) => {
                        crate::ingest::rederive(&mut r);
                        batch.push(r);
                        // Apply when nothing more is already here, or the batch is full.
                        if batch.len() >= BATCH || !reader.has_frame() {
                            apply(&mut batch, store, shared);
                            changes.send_modify(|v| *v += 1);
                        }
                    }
                    Ok(Frame::Control(c)) => {
                        let records = !batch.is_empty();
                        apply(&mut batch, store, shared);
                        match control(c, store, shared) {
                            Err(why) => return why,
                            Ok(changed) if changed || records => {
                                changes.send_modify(|v| *v += 1)
                            }
                            Ok(_) => {}
                        }
                    }
                    Ok(Frame::Other(_)) => {}
                    // Skipping it would leave a hole for good: reconnecting from the last
                    // seq held fetches it again.
                    Err(e) => return format!("a bad frame from the service ({})", clean(&e, 120)),
                }
            }
            _ = tokio::time::sleep_until(heard + SILENCE) => {
                return "no word from the service for 5 s".into();
            }
            Some(request) = requests.recv() => {
                let line = frame_line(&request);
                // Stays pending if this fails: settled after the next catch-up.
                match tokio::time::timeout(SILENCE, writer.write_all(&line)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return clean(&e.to_string(), 120),
                    Err(_) => return "the service takes no requests (5 s)".into(),
                }
            }
        }
    }
}

fn frame_line<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("serialisable");
    line.push(b'\n');
    line
}

/// Fold records in, each exactly once: a seq already held is skipped.
fn apply(batch: &mut Vec<Record>, store: &SharedStore, shared: &Shared) {
    if batch.is_empty() {
        return;
    }
    let mut applied = 0u64;
    let mut s = store.write();
    for r in batch.drain(..) {
        if r.seq <= s.last_seq() {
            continue;
        }
        applied += 1;
        s.apply_quietly(r);
    }
    // A reply is settled once the store has it on record (it derives replies itself).
    shared
        .pending
        .lock()
        .retain(|k| s.replies().get(k).is_none());
    drop(s);
    if let Some((got, _)) = &mut shared.state.lock().loading {
        *got += applied;
    }
}

/// Act on a control frame: `Ok(changed)`, or `Err(why)` to end the connection.
fn control(c: Control, store: &SharedStore, shared: &Shared) -> Result<bool, String> {
    let mut s = shared.state.lock();
    match c {
        Control::History { count, skipped, .. } => {
            s.loading = Some((0, count));
            if skipped > 0 {
                s.notices.push_back(format!(
                    "{skipped} older records not loaded (the service's journal has them)"
                ));
            }
        }
        Control::Live { .. } => {
            s.loading = None;
            let store = store.read();
            let unsure = std::mem::take(&mut *shared.unconfirmed.lock());
            s.lost.extend(
                unsure
                    .into_iter()
                    .filter(|k| store.replies().get(k).is_none()),
            );
        }
        Control::Status {
            failure,
            forwards,
            clients,
            nats,
            ..
        } => {
            // The heartbeat: it wakes the dashboard only when it says something new.
            let failure = failure.map(|f| clean(&f, 200));
            let nats = nats.map(|mut n| {
                n.receiver = clean(&n.receiver, 64);
                n.problem = n.problem.map(|p| clean(&p, 160));
                n
            });
            let same = (&s.failure, s.forwards, s.clients, &s.nats)
                == (&failure, forwards, clients, &nats);
            s.nats = nats;
            s.failure = failure;
            s.forwards = forwards;
            s.clients = clients;
            return Ok(!same);
        }
        Control::Notice { text } => s.notices.push_back(clean(&text, 200)),
        Control::Bye { reason } => return Err(clean(&reason, 200)),
        Control::Error { error } => return Err(format!("refused: {}", clean(&error, 200))),
        Control::Welcome { .. } => {}
    }
    Ok(true)
}
