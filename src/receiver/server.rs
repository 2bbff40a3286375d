//! The HTTP server loop under the receiver, in place of a bare `axum::serve`, which puts
//! no time limit on a request head and no cap on connections. Here a stranger cannot
//! hold the receiver up: a connection must start a request within
//! [`Limits::header_timeout`] of opening or of its last answer, whatever protocol it
//! speaks (a silent socket, half an HTTP/2 preface and an idle h2c connection are all
//! closed), a head over [`Limits::max_head`] is refused (431), an HTTP/2 connection runs
//! at most [`Limits::max_streams`] requests at once, and past
//! [`Limits::max_connections`] a new connection is answered `503` with `Retry-After`
//! (the provider retries; nothing is lost). A panic in a handler answers `500` and is
//! logged; the server goes on.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head (request line and headers) must be complete within this.
    pub header_timeout: Duration,
    /// Request head size; hyper answers 431 past it.
    pub max_head: usize,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// After shutdown is asked for, in-flight requests get this long to finish.
    pub drain: Duration,
    /// Requests at once on one HTTP/2 connection (each may be reading a body).
    pub max_streams: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_head: 64 * 1024,
            max_connections: 1024,
            drain: Duration::from_secs(4),
            max_streams: 16,
        }
    }
}

/// What the server loop counts (shown on `/healthz`).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub open: AtomicUsize,
    /// Connections answered 503 because the cap was reached.
    pub refused: AtomicU64,
    /// Handler panics answered 500.
    pub panics: AtomicU64,
    /// Connections closed for starting no request in time (silent, idle, half a preface).
    pub idle_closed: AtomicU64,
    /// Requests hyper refused itself, before any handler (malformed or oversized head,
    /// conflicting lengths, a head too slow): answered 400/408/431 but not journaled.
    pub malformed: AtomicU64,
}

/// A connection's requests in flight, and since when it has had none: a connection
/// with none for [`Limits::header_timeout`] is closed.
#[derive(Debug)]
struct Activity {
    inflight: AtomicUsize,
    /// Milliseconds after `epoch` when the last request ended (or the connection opened).
    idle_since: AtomicU64,
    epoch: tokio::time::Instant,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inflight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            epoch: tokio::time::Instant::now(),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.inflight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    /// When the connection is to be closed if nothing starts before (`None`: busy).
    fn deadline(&self, idle: Duration) -> Option<tokio::time::Instant> {
        if self.inflight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since.load(Ordering::Acquire));
        Some(self.epoch + since + idle)
    }
}

/// A request being served; its end (or cancellation) restarts the idle clock.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.0.epoch.elapsed().as_millis() as u64;
        self.0.idle_since.store(now, Ordering::Release);
        self.0.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The canned answer past the connection cap.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-type: text/plain\r\ncontent-length: 33\r\nconnection: close\r\n\r\ntoo many connections, retry later\n";
/// The canned answer while the journal replays at start.
const STARTING: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-type: text/plain\r\ncontent-length: 49\r\nconnection: close\r\n\r\nstarting: the journal is being read, retry later\n";

/// Until `ready` fires (or is dropped), answer every connection `503` + `Retry-After`:
/// the port is open while the journal replays. Gives the listener back for [`serve`].
pub async fn answer_starting(
    listener: TcpListener,
    ready: tokio::sync::oneshot::Receiver<()>,
) -> TcpListener {
    tokio::pin!(ready);
    loop {
        tokio::select! {
            biased;
            _ = &mut ready => return listener,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(refuse(stream, STARTING));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting and give
/// open requests [`Limits::drain`] to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stats: Arc<ServerStats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `with_state(())`, as `axum::serve` does: any handler still boxed becomes a route
    // now, not on every request.
    let app = router.with_state(());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams)
        // What a connection may send ahead of the handlers reading it (hyper's default
        // is 1 MiB a stream): webhooks are small, and unread bytes are memory.
        .initial_stream_window_size(64 * 1024)
        .initial_connection_window_size(256 * 1024)
        .max_header_list_size(limits.max_head as u32);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if stats.open.load(Ordering::Relaxed) >= limits.max_connections {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(refuse(stream, BUSY));
            continue;
        }
        let _ = stream.set_nodelay(true);
        stats.open.fetch_add(1, Ordering::Relaxed);
        let (app, panics) = (app.clone(), stats.clone());
        let activity = Activity::new();
        let busy = activity.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            let (app, panics) = (app.clone(), panics.clone());
            let in_flight = busy.begin();
            async move {
                // A panic in routing or a handler answers 500 and the server goes on.
                // Caught here, not by a tower layer, which would box every answer's
                // body twice more.
                let called = AssertUnwindSafe(app.oneshot(req.map(axum::body::Body::new)));
                let response = match called.catch_unwind().await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => panic_answer(&panics),
                };
                drop(in_flight);
                Ok::<Response, Infallible>(response)
            }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        let (stats, idle) = (stats.clone(), limits.header_timeout);
        tokio::spawn(async move {
            tokio::pin!(conn);
            loop {
                let deadline = activity.deadline(idle);
                tokio::select! {
                    ended = &mut conn => {
                        if let Err(e) = ended {
                            count_refusal(&stats, &*e);
                            tracing::debug!(%remote, error = %e, "connection ended");
                        }
                        break;
                    }
                    () = sleep_until(deadline) => {
                        // Dropping the connection closes the socket.
                        if activity.deadline(idle).is_some_and(|d| d <= tokio::time::Instant::now()) {
                            stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%remote, "no request started in time; closed");
                            break;
                        }
                    }
                }
            }
            stats.open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain; closing them");
    }
    Ok(())
}

/// A handler panicked: count it, and answer 500.
fn panic_answer(stats: &ServerStats) -> Response {
    // The panic hook has logged the message; the sender only learns it failed.
    stats.panics.fetch_add(1, Ordering::Relaxed);
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; the delivery was not taken, retry\n",
    )
        .into_response()
}

/// Sleep until `deadline`; while a request is in flight (`None`), wake now and then to
/// look again (a request's end restarts the clock without waking this task).
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => tokio::time::sleep(Duration::from_millis(500)).await,
    }
}

/// Count what hyper refused on its own (the handler never saw it, so nothing journaled it).
fn count_refusal(stats: &ServerStats, e: &(dyn std::error::Error + 'static)) {
    if let Some(e) = e.downcast_ref::<hyper::Error>()
        && (e.is_parse() || e.is_parse_too_large() || e.is_timeout())
    {
        stats.malformed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Answer 503 and close. The request head is read first (an HTTP client takes an
/// answer that comes before its request as a broken connection, not as a 503), and
/// the rest drained a moment after, so the close is not a reset that would hide it.
async fn refuse(mut stream: TcpStream, answer: &'static [u8]) {
    use tokio::io::AsyncReadExt;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&buf[..n]);
        }
        stream.write_all(answer).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? != 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}
