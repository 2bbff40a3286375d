//! Wiring: replay the journal, bind the listener, serve the receiver until told to stop,
//! then drain and sync. Used by `main` and by the integration tests, so both run the
//! same thing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr, eyre};
use tokio::net::TcpListener;

use axum::http::StatusCode;

use crate::config::Settings;
use crate::forward::Forwarder;
use crate::ingest::{Ingest, IngestConfig};
use crate::journal::replay::ReplayReport;
use crate::receiver::server::{self, Limits};
use crate::receiver::{self, AppState, ReceiverConfig};
use crate::store::Store;

#[derive(Debug)]
pub struct Service {
    pub ingest: Arc<Ingest>,
    /// `--forward-to`: the user's app gets every accepted delivery too.
    pub forwarder: Option<Arc<Forwarder>>,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub replay: ReplayReport,
    pub limits: Limits,
    state: Arc<AppState>,
}

impl Service {
    /// Replay the journal and bind; nothing is served until [`Service::serve`].
    pub async fn start(settings: &Settings) -> Result<Self> {
        let config = IngestConfig {
            journal: settings.journal.clone(),
            segment_max: settings.segment_size,
            dedupe_window: settings.capacity,
        };
        let store = Store::shared(settings.capacity);
        let (ingest, replay) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || Ingest::start(&config, store)).await?
        }
        .wrap_err_with(|| match &settings.journal {
            Some(p) => format!("cannot open the journal {}", p.display()),
            None => "cannot start".into(),
        })?;
        let listener = TcpListener::bind(settings.listen).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another pilotwatch? choose another port with --listen)"
            } else {
                ""
            };
            eyre!("cannot listen on {}: {e}{hint}", settings.listen)
        })?;
        let addr = listener.local_addr()?;
        let ingest = Arc::new(ingest);
        let forwarder = match &settings.forward_to {
            Some(url) => Some(
                Forwarder::start(url.clone(), settings.api_timeout, ingest.clone())
                    .wrap_err("cannot start forwarding")?,
            ),
            None => None,
        };
        let respond =
            (settings.respond.is_some() || !settings.respond_delay.is_zero()).then(|| {
                let status = settings
                    .respond
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(StatusCode::OK);
                (status, settings.respond_delay)
            });
        let state = Arc::new(AppState {
            ingest: ingest.clone(),
            config: ReceiverConfig {
                path: settings.path.clone(),
                max_body: settings.max_body,
                body_timeout: settings.request_timeout,
                secrets: settings.secrets.clone(),
                respond,
            },
            started: Instant::now(),
            server: Default::default(),
        });
        Ok(Self {
            ingest,
            forwarder,
            listener,
            addr,
            replay,
            limits: Limits {
                max_connections: settings.max_connections,
                header_timeout: settings.request_timeout,
                ..Limits::default()
            },
            state,
        })
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and sync.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let stats = self.state.server.clone();
        let app = receiver::router(self.state);
        let served = server::serve(self.listener, app, self.limits, stats, shutdown).await;
        self.ingest.shutdown().await;
        served.wrap_err("the receiver stopped")
    }
}

/// Why we were told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    /// The controlling terminal hung up (an SSH session ended).
    Hangup,
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP.
pub async fn stop_signal() -> StopSignal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("installing SIGTERM handler");
        let mut hup = signal(SignalKind::hangup()).expect("installing SIGHUP handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => StopSignal::Interrupt,
            _ = term.recv() => StopSignal::Terminate,
            _ = hup.recv() => StopSignal::Hangup,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        StopSignal::Interrupt
    }
}
