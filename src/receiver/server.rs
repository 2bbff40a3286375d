//! The HTTP server loop under the receiver, in place of a bare `axum::serve`, which puts
//! no time limit on a request head and no cap on connections. Here a stranger cannot
//! hold the receiver up: headers must arrive within [`Limits::header_timeout`], a head
//! over [`Limits::max_head`] is refused (431), and past [`Limits::max_connections`] a new
//! connection is answered `503` with `Retry-After` (the provider retries; nothing is
//! lost). A panic in a handler answers `500` and is logged; the server goes on.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_head: 64 * 1024,
            max_connections: 1024,
            drain: Duration::from_secs(4),
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
    let panics = stats.clone();
    let router = router.layer(CatchPanicLayer::custom(
        move |_: Box<dyn std::any::Any + Send>| {
            // The panic hook has logged the message; the sender only learns it failed.
            panics.panics.fetch_add(1, Ordering::Relaxed);
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; the delivery was not taken, retry\n",
            )
                .into_response()
        },
    ));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head.max(8192));
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
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            let router = router.clone();
            async move {
                Ok::<Response, Infallible>(
                    router
                        .oneshot(req.map(axum::body::Body::new))
                        .await
                        .into_response(),
                )
            }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        let stats = stats.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%remote, error = %e, "connection ended");
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
