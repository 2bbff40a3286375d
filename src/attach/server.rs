//! The attach endpoint of a running service.
//!
//! One hub task (`hub.rs`) takes each record from the ingest fan-out once, encodes it
//! once, and offers the frame to every client's bounded buffer without waiting. A client
//! whose buffer is full (a stalled SSH session) is dropped with a `bye` saying why; it
//! reconnects and catches up by seq from the store. The receiver and the other clients
//! never wait for anyone.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};

use super::hub::{Backlog, Join, Joined, hub};
use super::listen::token_ok;
pub use super::listen::{AttachConfig, Bound, bind};
use super::protocol::{self, Control, ForwardTotals, FrameReader, Hello, Request, ServiceInfo};
use super::requests::Doers;
use crate::forward::Forwarder;
use crate::ingest::Ingest;
use crate::record::Record;
use crate::reply::Replier;
use crate::sanitize::line as clean;

/// Frames a client may be behind before it is dropped.
pub const DEFAULT_BUFFER: usize = 8192;
/// Clients attached at once; more are refused with an error frame.
const MAX_CLIENTS: usize = 64;
/// A peer has this long to say hello, from its accept. A client writes its hello as soon
/// as it connects, so this is a round trip with a wide margin, and it bounds how long a
/// silent stranger holds one of the places below (the 30 s `STALL` is for attached ones).
const HELLO_TIMEOUT: Duration = Duration::from_secs(3);
/// Status frames: the heartbeat a client watches.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Bytes gathered before a write (history, and live frames that queued up).
const WRITE_CHUNK: usize = 256 << 10;
/// A connection that takes no byte for this long is dropped, even if the service is
/// too quiet to fill its buffer (a suspended `attach`, a laptop asleep).
const STALL: Duration = Duration::from_secs(30);
/// The longest request a client may send (a reply's text is far shorter).
const MAX_REQUEST: usize = 256 << 10;
/// Connections that have not said hello yet, at once, per endpoint; more are closed at
/// once.
const MAX_GREETING: usize = 32;

/// What `/healthz` and the log say about attached clients.
#[derive(Debug, Default)]
pub struct AttachStats {
    pub clients: AtomicUsize,
    /// Clients dropped for falling a whole buffer behind.
    pub dropped: AtomicU64,
    pub refused: AtomicU64,
}

/// What the connections share.
#[derive(Debug)]
pub struct Context {
    pub ingest: Arc<Ingest>,
    pub replier: Arc<Replier>,
    pub forwarder: Option<Arc<Forwarder>>,
    pub info: ServiceInfo,
    pub stats: Arc<AttachStats>,
    /// Asks the service's reconciler for history pages (`None`: it reads none).
    pub history: Option<crate::reconcile::HistoryRequests>,
    /// With `--nats`: the outbox and this receiver's name.
    pub outbox: Option<(Arc<crate::outbox::OutboxStats>, String)>,
}

/// Serve attach clients until `stop` turns true; then every client gets a `bye`.
pub async fn run(bound: Bound, ctx: Context, stop: watch::Receiver<bool>) {
    let ctx = Arc::new(ctx);
    let (joins, join_rx) = mpsc::channel(16);
    let hub = tokio::spawn(hub(ctx.ingest.clone(), join_rx, bound.buffer));
    let mut tasks = tokio::task::JoinSet::new();
    let Bound { unix, tcp, .. } = bound;
    let (unix, owned) = match unix {
        Some((l, o)) => (Some(l), Some(o)),
        None => (None, None),
    };
    let owner = owned.as_ref().map(|o| o.uid);
    let (tcp, token) = match tcp {
        Some((l, t)) => (Some(l), Some(t)),
        None => (None, None),
    };
    // Each endpoint has its own places for connections yet to say hello: strangers who
    // fill those of TCP (no token needed to connect) cannot keep the owner off the socket.
    let unix_greeting = Arc::new(Semaphore::new(MAX_GREETING));
    let tcp_greeting = Arc::new(Semaphore::new(MAX_GREETING));
    let mut stopping = stop.clone();
    loop {
        tokio::select! {
            _ = stopped(&mut stopping) => break,
            accepted = accept_unix(unix.as_ref()) => match accepted {
                Ok(stream) => {
                    // 0600 keeps others out; this keeps them out should the mode change.
                    let uid = stream.peer_cred().map(|c| c.uid()).ok();
                    if uid.is_none_or(|u| u != 0 && Some(u) != owner) {
                        tracing::warn!(?uid, "attach refused: another user");
                        ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let Ok(permit) = unix_greeting.clone().try_acquire_owned() else { continue };
                    let peer = format!("unix uid {}", uid.unwrap_or(0));
                    tasks.spawn(connection(ctx.clone(), joins.clone(), stream, peer, None, stop.clone(), permit));
                }
                Err(e) => accept_failed(e).await,
            },
            accepted = accept_tcp(tcp.as_ref()) => match accepted {
                Ok((stream, peer)) => {
                    // Unauthenticated peers are bounded in number, not only in time.
                    let Ok(permit) = tcp_greeting.clone().try_acquire_owned() else { continue };
                    let _ = stream.set_nodelay(true);
                    tasks.spawn(connection(ctx.clone(), joins.clone(), stream, peer.to_string(), token, stop.clone(), permit));
                }
                Err(e) => accept_failed(e).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Clients say goodbye on their own (they watch `stop`); give them a moment.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    drop(joins);
    let _ = hub.await;
    drop(owned);
}

/// Resolves once the service is stopping (or whoever would say so is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn accept_unix(l: Option<&UnixListener>) -> io::Result<tokio::net::UnixStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

async fn accept_tcp(l: Option<&TcpListener>) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Out of file descriptors, most likely: wait rather than spin.
async fn accept_failed(e: io::Error) {
    tracing::warn!(error = %e, "attach accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client went away (or its socket failed).
    Gone,
    /// It fell a whole buffer behind.
    TooSlow,
    Stopping,
}

/// One connection's writer: every write gives way to being dropped or to shutdown, so a
/// stalled peer never holds the task. Writes are tracked to the byte, so whatever ends
/// the connection, the peer never sees half a frame followed by another.
struct Writer<W> {
    w: W,
    backlog: Option<Arc<Backlog>>,
    stop: watch::Receiver<bool>,
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    sent: usize,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    async fn flush(&mut self) -> Result<(), End> {
        while self.sent < self.buf.len() {
            let backlog = self.backlog.clone();
            let too_slow = async {
                match &backlog {
                    Some(b) => b.wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // One `write` either happens or not: safe to abandon for the others.
                n = self.w.write(&self.buf[self.sent..]) => match n {
                    Ok(0) | Err(_) => return Err(End::Gone),
                    Ok(n) => self.sent += n,
                },
                _ = too_slow => return Err(End::TooSlow),
                _ = tokio::time::sleep(STALL) => {
                    if let Some(b) = &self.backlog {
                        b.overflowed.store(true, Ordering::SeqCst);
                    }
                    return Err(End::TooSlow);
                }
                _ = stopped(&mut self.stop) => return Err(End::Stopping),
            }
        }
        self.buf.clear();
        self.sent = 0;
        if self
            .backlog
            .as_ref()
            .is_some_and(|b| b.overflowed.load(Ordering::SeqCst))
        {
            return Err(End::TooSlow);
        }
        Ok(())
    }

    async fn send(&mut self, frame: &[u8]) -> Result<(), End> {
        self.buf.extend_from_slice(frame);
        self.flush().await
    }

    /// The rest of the frame being written, then a last word, if the peer takes them
    /// within `wait`.
    async fn last(mut self, frame: Control, wait: Duration) {
        self.buf.drain(..self.sent);
        self.buf.extend_from_slice(&frame.encode());
        let _ = tokio::time::timeout(wait, async {
            let _ = self.w.write_all(&self.buf).await;
            let _ = self.w.shutdown().await;
        })
        .await;
    }
}

async fn connection<S>(
    ctx: Arc<Context>,
    joins: mpsc::Sender<Join>,
    stream: S,
    peer: String,
    token: Option<[u8; 32]>,
    stop: watch::Receiver<bool>,
    greeting: OwnedSemaphorePermit,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let mut reader = FrameReader::new(read);
    let mut writer = Writer {
        w: write,
        backlog: None,
        stop,
        buf: Vec::with_capacity(64 << 10),
        sent: 0,
    };
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, reader.next(protocol::MAX_HELLO)).await {
        Ok(Ok(Some(line))) => {
            serde_json::from_slice::<Hello>(&line).map_err(|e| format!("bad hello: {e}"))
        }
        Ok(Ok(None)) => return,
        Ok(Err(e)) => Err(format!("bad hello: {e}")),
        Err(_) => Err(format!("no hello within {} s", HELLO_TIMEOUT.as_secs())),
    };
    let hello = match hello {
        Ok(h) if h.version != protocol::VERSION => Err(format!(
            "protocol version {} is not spoken here (this service speaks {})",
            h.version,
            protocol::VERSION
        )),
        Ok(h) if token.is_some_and(|t| !token_ok(&t, h.token.as_deref())) => {
            Err("unauthorized: wrong or missing attach token".to_owned())
        }
        Ok(_) if ctx.stats.clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS => {
            ctx.stats.clients.fetch_sub(1, Ordering::SeqCst);
            Err(format!("too many clients attached ({MAX_CLIENTS})"))
        }
        other => other,
    };
    drop(greeting);
    let hello = match hello {
        Ok(h) => h,
        Err(why) => {
            tracing::warn!(%peer, why = %clean(&why, 200), "attach refused");
            ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
            let refused = Control::Error { error: why };
            writer.last(refused, Duration::from_millis(200)).await;
            return;
        }
    };
    tracing::info!(%peer, client = %clean(&hello.client, 80), after = hello.after, "attach client joined");
    let end = attached(&ctx, &joins, hello, reader, &mut writer).await;
    ctx.stats.clients.fetch_sub(1, Ordering::SeqCst);
    match end {
        End::Gone => tracing::info!(%peer, "attach client left"),
        End::TooSlow => {
            ctx.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, "attach client dropped: its buffer filled");
            let bye = Control::Bye {
                reason: "dropped: this client fell too far behind (its connection is not draining); reconnect to catch up".into(),
            };
            // A stalled peer reads it once it wakes up, if that is soon; nothing waits.
            tokio::spawn(writer.last(bye, Duration::from_secs(30)));
        }
        End::Stopping => {
            let bye = Control::Bye {
                reason: "the service is stopping".into(),
            };
            writer.last(bye, Duration::from_millis(200)).await;
        }
    }
}

async fn attached<R, W>(
    ctx: &Context,
    joins: &mpsc::Sender<Join>,
    hello: Hello,
    reader: FrameReader<R>,
    writer: &mut Writer<W>,
) -> End
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let (reply, joined) = oneshot::channel();
    if joins.send(Join { reply }).await.is_err() {
        return End::Stopping;
    }
    let Ok(Joined {
        cursor,
        mut rx,
        backlog,
    }) = joined.await
    else {
        return End::Stopping;
    };
    writer.backlog = Some(backlog.clone());
    let welcome = Control::Welcome {
        version: protocol::VERSION,
        service: ctx.info.clone(),
        last_seq: cursor,
    };
    if let Err(end) = writer.send(&welcome.encode()).await {
        return end;
    }
    // Requests (replies, replays) are read on their own task from the start, so one
    // typed while history loads is not held up; notices come back here.
    let (notices, mut notice_rx) = mpsc::channel::<String>(16);
    let mut requests = tokio::spawn(requests(
        reader,
        ctx.replier.clone(),
        ctx.forwarder.clone(),
        ctx.history.clone(),
        ctx.ingest.clone(),
        notices,
    ));
    let _abort = AbortOnDrop(requests.abort_handle());
    if let Err(end) = history(ctx, &hello, cursor, writer).await {
        return end;
    }
    let mut status = tokio::time::interval(STATUS_EVERY);
    let mut stop = writer.stop.clone();
    // A client may know of records the store had not applied when it joined (its
    // `after` is past the join cursor): those come live too, and are not sent twice.
    let mut seen_up_to = (hello.after > cursor).then_some(hello.after);
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else {
                    // Dropped by the hub, or the hub is gone (the service is stopping).
                    return if backlog.overflowed.load(Ordering::SeqCst) { End::TooSlow } else { End::Stopping };
                };
                let mut taken = frame.len();
                if let Some(after) = seen_up_to {
                    match protocol::record_seq(&frame) {
                        Some(seq) if seq <= after => {
                            backlog.queued.fetch_sub(taken, Ordering::SeqCst);
                            continue;
                        }
                        _ => seen_up_to = None,
                    }
                }
                writer.buf.extend_from_slice(&frame);
                // Whatever else is waiting goes out in the same write.
                while writer.buf.len() < WRITE_CHUNK {
                    match rx.try_recv() {
                        Ok(f) => {
                            taken += f.len();
                            writer.buf.extend_from_slice(&f);
                        }
                        Err(_) => break,
                    }
                }
                backlog.queued.fetch_sub(taken, Ordering::SeqCst);
                if let Err(end) = writer.flush().await {
                    return end;
                }
            }
            Some(text) = notice_rx.recv() => {
                if let Err(end) = writer.send(&Control::Notice { text }.encode()).await {
                    return end;
                }
            }
            _ = status.tick() => {
                if let Err(end) = writer.send(&status_frame(ctx).encode()).await {
                    return end;
                }
            }
            _ = &mut requests => return End::Gone,
            _ = stopped(&mut stop) => return End::Stopping,
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The newest `history` records after the client's `after`, up to the join cursor.
async fn history<W: AsyncWrite + Unpin>(
    ctx: &Context,
    hello: &Hello,
    cursor: u64,
    writer: &mut Writer<W>,
) -> Result<(), End> {
    // Every record to send, copied under one read lock (their bodies are shared, not
    // copied), so the store can evict them meanwhile without leaving a hole.
    let records: Vec<Record> = {
        let s = ctx.ingest.store().read();
        let held: Vec<&Record> = s
            .records_since(hello.after)
            .take_while(|r| r.seq <= cursor)
            .collect();
        let keep = held
            .len()
            .min(usize::try_from(hello.history).unwrap_or(usize::MAX));
        held[held.len() - keep..]
            .iter()
            .map(|r| (*r).clone())
            .collect()
    };
    let count = records.len() as u64;
    let from = records.first().map_or(cursor + 1, |r| r.seq);
    // After the client's `after`: not sent because of `history`, or already evicted.
    let skipped = cursor.saturating_sub(hello.after).saturating_sub(count);
    writer
        .send(
            &Control::History {
                from,
                to: cursor,
                count,
                skipped,
            }
            .encode(),
        )
        .await?;
    for r in &records {
        writer.buf.extend_from_slice(&protocol::encode_record(r));
        if writer.buf.len() >= WRITE_CHUNK {
            writer.flush().await?;
        }
    }
    drop(records);
    writer.send(&Control::Live { seq: cursor }.encode()).await
}

fn status_frame(ctx: &Context) -> Control {
    let (last_seq, forwards) = {
        let s = ctx.ingest.store().read();
        let f = s.forwards();
        (
            s.last_seq(),
            ForwardTotals {
                ok: f.ok,
                failed: f.failed,
                dropped: f.dropped,
            },
        )
    };
    Control::Status {
        last_seq,
        failure: ctx.ingest.failure().map(|f| clean(&f, 200)),
        forwards,
        clients: ctx.stats.clients.load(Ordering::Relaxed),
        nats: ctx
            .outbox
            .as_ref()
            .map(|(o, receiver)| o.status(receiver, last_seq)),
    }
}

/// Read a client's requests until it goes away.
async fn requests<R: AsyncRead + Unpin>(
    mut reader: FrameReader<R>,
    replier: Arc<Replier>,
    forwarder: Option<Arc<Forwarder>>,
    history: Option<crate::reconcile::HistoryRequests>,
    ingest: Arc<Ingest>,
    notices: mpsc::Sender<String>,
) {
    loop {
        let line = match reader.next(MAX_REQUEST).await {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => return,
        };
        let notice = match serde_json::from_slice::<Request>(&line) {
            Ok(request) => {
                let doers = Doers {
                    replier: &replier,
                    forwarder: forwarder.as_ref(),
                    history: history.as_ref(),
                    ingest: &ingest,
                };
                doers.handle(request, |seq| {
                    ingest.store().read().record(seq).cloned().map(Arc::new)
                })
            }
            Err(e) => Some(format!(
                "the service did not understand a request: {}",
                clean(&e.to_string(), 120)
            )),
        };
        if let Some(text) = notice {
            let _ = notices.try_send(text);
        }
    }
}
