//! Wiring: replay the journal, bind the listener, serve the receiver until told to stop,
//! then drain and sync. Used by the commands (`cmd`) and by the integration tests, so
//! both run the same thing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr, eyre};
use tokio::net::TcpListener;

use axum::http::StatusCode;

use crate::attach::protocol::ServiceInfo;
use crate::attach::server::{self as attach_server, AttachConfig, AttachStats};
use crate::config::Settings;
use crate::forward::Forwarder;
use crate::ingest::{Ingest, IngestConfig};
use crate::journal::replay::ReplayReport;
use crate::receiver::server::{self, Limits};
use crate::receiver::{self, ReceiverConfig, ReceiverState};
use crate::reply::Replier;
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
    /// Sends replies: the dashboard's own, and attached dashboards'.
    pub replier: Arc<Replier>,
    /// The attach endpoint, bound (`None`: `--no-attach`, or no journal).
    pub attach: Option<attach_server::Bound>,
    /// The service as attached dashboards see it.
    pub info: ServiceInfo,
    /// `--metrics-listen`, bound: `/metrics` is served there instead of on `addr`.
    pub metrics: Option<(TcpListener, SocketAddr)>,
    /// Run once stopping is asked for, while deliveries are still taken (the demo ends
    /// its calls here).
    before_stop: Option<BeforeStop>,
    state: Arc<ReceiverState>,
    /// The rules to evaluate while serving (`None`: `--no-alerts`).
    alerts: Option<crate::alerts::AlertSettings>,
    /// Reading the provider's side, with a key (`None`: no key).
    reconcile: Option<(
        crate::reconcile::ReconcileSettings,
        crate::api::ApiClient,
        crate::reconcile::HistoryQueue,
    )>,
    /// Asks for earlier pages of the provider's message history (a thread scrolled up),
    /// when reconciling.
    pub history: Option<crate::reconcile::HistoryRequests>,
    /// `--nats`: where the outbox publishes.
    nats: Option<crate::outbox::OutboxSettings>,
}

/// What [`Service::before_stop`] holds.
struct BeforeStop(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>);

impl std::fmt::Debug for BeforeStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeStop")
    }
}

impl Service {
    /// Replay the journal and bind; nothing is served until [`Service::serve`].
    pub async fn start(settings: &Settings) -> Result<Self> {
        let config = IngestConfig {
            journal: settings.journal.clone(),
            segment_max: settings.segment_size,
            dedupe_window: settings.capacity,
            snapshot: settings.snapshot.then(crate::snapshot::Policy::default),
        };
        let store = Store::shared(settings.capacity);
        // The port opens at once: while the journal replays, every request is told 503
        // + Retry-After (the provider retries), instead of a closed port for as long as
        // a long history takes to load.
        let listener = TcpListener::bind(settings.listen).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (another pilotwatch? choose another port with --listen)"
            } else {
                ""
            };
            eyre!("cannot listen on {}: {e}{hint}", settings.listen)
        })?;
        let (ready, replayed) = tokio::sync::oneshot::channel();
        let starting = tokio::spawn(server::answer_starting(listener, replayed));
        let started = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || Ingest::start(&config, store)).await
        };
        let _ = ready.send(());
        let listener = starting.await?;
        let (ingest, replay) = started?.wrap_err_with(|| match &settings.journal {
            Some(p) => format!("cannot open the journal {}", p.display()),
            None => "cannot start".into(),
        })?;
        let addr = listener.local_addr()?;
        let attach = bind_attach(settings).await?;
        let metrics = match settings.metrics_listen {
            Some(at) => {
                let l = TcpListener::bind(at)
                    .await
                    .map_err(|e| eyre!("cannot listen on {at} (--metrics-listen): {e}"))?;
                let addr = l.local_addr()?;
                Some((l, addr))
            }
            None => None,
        };
        if settings.nats.is_some() && ingest.journal_path().is_none() {
            return Err(eyre!(
                "--nats publishes the journal: it needs one (drop --no-journal)"
            ));
        }
        let ingest = Arc::new(ingest);
        let replier = Arc::new(Replier::new(settings.api()?, ingest.clone()));
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
        let state = Arc::new(ReceiverState {
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
            attach: Default::default(),
            bodies: receiver::BodyBudget::new(
                receiver::BodyBudget::DEFAULT.max(4 * settings.max_body),
            ),
            outbox: settings
                .nats
                .as_ref()
                .map(|n| (Default::default(), n.receiver.clone())),
        });
        let (history, reconcile) = match settings.api()? {
            Some(api) if settings.reconcile.enabled => {
                let (requests, queue) = crate::reconcile::history_channel();
                (Some(requests), Some((api, queue)))
            }
            _ => (None, None),
        };
        let clean = |s: &str| crate::sanitize::line(s, 200);
        let info = ServiceInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            listen: addr.to_string(),
            path: settings.path.as_deref().map(clean),
            journal: ingest
                .journal_path()
                .map(|p| clean(&p.display().to_string())),
            signatures_checked: !settings.secrets.is_empty(),
            started: chrono::Utc::now(),
            api_key: replier.key_masked(),
            forward_to: settings
                .forward_to
                .as_deref()
                .map(crate::forward::display_url),
            startup_note: replay_note(&replay),
            alert_targets: settings.alerts.enabled.then(|| {
                let t = &settings.alerts.targets;
                (t.exec.len() + t.webhooks.len()) as u32
            }),
        };
        Ok(Self {
            replier,
            attach,
            metrics,
            info,
            ingest,
            forwarder,
            listener,
            addr,
            replay,
            before_stop: None,
            reconcile: reconcile.map(|(api, queue)| (settings.reconcile.clone(), api, queue)),
            history,
            nats: settings.nats.clone(),
            alerts: settings.alerts.enabled.then(|| {
                let mut a = settings.alerts.clone();
                a.targets.external_url = format!("http://{addr}/");
                a
            }),
            limits: Limits {
                max_connections: settings.max_connections,
                header_timeout: settings.request_timeout,
                ..Limits::default()
            },
            state,
        })
    }

    /// Have `last` run when stopping is asked for, before the receiver stops taking
    /// deliveries.
    pub fn before_stop(&mut self, last: impl Future<Output = ()> + Send + 'static) {
        self.before_stop = Some(BeforeStop(Box::pin(last)));
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and sync.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let (stopping, stop) = tokio::sync::watch::channel(false);
        let metrics = self.metrics.map(|(listener, _)| {
            let mut stop = stop.clone();
            let app = crate::metrics::router(self.state.clone());
            // Its own connection count: scrapers never take the webhooks' places.
            let limits = Limits {
                max_connections: 64,
                ..self.limits
            };
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tokio::spawn(server::serve(
                listener,
                app,
                limits,
                Default::default(),
                stopped,
            ))
        });
        let attach = self.attach.map(|bound| {
            let ctx = attach_server::Context {
                ingest: self.ingest.clone(),
                replier: self.replier.clone(),
                forwarder: self.forwarder.clone(),
                info: self.info.clone(),
                stats: self.state.attach.clone(),
                history: self.history.clone(),
                outbox: self.state.outbox.clone(),
            };
            tokio::spawn(attach_server::run(bound, ctx, stop))
        });
        // Evaluated here, once, by the service: attached dashboards only show the records.
        // On NATS, by the one service that holds the lease, over every receiver's records.
        let holds_alerts = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let alerts = self.alerts.map(|a| match &self.nats {
            Some(n) => tokio::spawn(crate::alerts::lease::run(
                n.clone(),
                a,
                self.ingest.clone(),
                holds_alerts.clone(),
                crate::attach::nats::view,
            )),
            None => crate::alerts::start(a, self.ingest.clone(), None),
        });
        let outbox = self.nats.as_ref().map(|n| {
            let stats = self
                .state
                .outbox
                .as_ref()
                .expect("made with --nats")
                .0
                .clone();
            let parts = crate::attach::answer::Parts {
                receiver: n.receiver.clone(),
                replier: self.replier.clone(),
                forwarder: self.forwarder.clone(),
                history: self.history.clone(),
                ingest: self.ingest.clone(),
                outbox: stats.clone(),
                alerts: holds_alerts.clone(),
            };
            let answering = tokio::spawn(crate::attach::answer::run(n.target.clone(), parts));
            let outbox = crate::outbox::Outbox::start(n.clone(), self.ingest.clone(), stats);
            (outbox, answering)
        });
        let reconcile = match (self.reconcile, &self.history) {
            (Some((s, api, queue)), Some(requests)) => Some(crate::reconcile::start(
                s,
                api,
                self.ingest.clone(),
                requests,
                queue,
            )),
            _ => None,
        };
        let last = self.before_stop;
        let shutdown = async move {
            shutdown.await;
            if let Some(BeforeStop(last)) = last {
                last.await;
            }
            // Attached dashboards hear that the service is stopping (and reconnect).
            let _ = stopping.send(true);
        };
        let stats = self.state.server.clone();
        let app = receiver::router_with(self.state, metrics.is_none());
        let served = server::serve(self.listener, app, self.limits, stats, shutdown).await;
        if let Some(task) = attach {
            let _ = task.await;
        }
        if let Some(task) = alerts {
            task.abort();
        }
        if let Some(task) = reconcile {
            task.abort();
        }
        if let Some(task) = metrics {
            let _ = task.await;
        }
        self.ingest.shutdown().await;
        if let Some((outbox, answering)) = outbox {
            answering.abort();
            // What is journaled goes out before we stop, if NATS takes it soon.
            outbox.finish(std::time::Duration::from_secs(3)).await;
        }
        served.wrap_err("the receiver stopped")
    }

    /// With `--nats`: the outbox's figures and this receiver's name.
    pub fn outbox(&self) -> Option<(Arc<crate::outbox::OutboxStats>, String)> {
        self.state.outbox.clone()
    }

    /// Clients attached right now.
    pub fn attach_stats(&self) -> Arc<AttachStats> {
        self.state.attach.clone()
    }
}

/// The attach socket (and TCP attach, which needs a token) as the settings ask.
async fn bind_attach(settings: &Settings) -> Result<Option<attach_server::Bound>> {
    let tcp = match (settings.attach_listen, &settings.attach_token) {
        (None, _) => None,
        (Some(addr), None) => {
            return Err(eyre!(
                "--attach-listen {addr} needs {}: without a token anyone who can reach it \
                 could watch every delivery (set it in the environment, or attach_token in \
                 the config file)",
                crate::attach::ENV_TOKEN
            ));
        }
        (Some(_), Some(t)) if t.expose().len() < 16 => {
            return Err(eyre!(
                "{} is too short for TCP attach: use 16 characters or more (e.g. `openssl rand -hex 32`)",
                crate::attach::ENV_TOKEN
            ));
        }
        (Some(addr), Some(t)) => Some((addr, t.clone())),
    };
    if settings.attach_socket.is_none() && tcp.is_none() {
        return Ok(None);
    }
    let config = AttachConfig {
        socket: settings.attach_socket.clone(),
        tcp,
        buffer: settings.attach_buffer,
    };
    Ok(Some(attach_server::bind(&config).await?))
}

/// What the journal replay found worth saying (a torn write cut, corrupt lines).
pub fn replay_note(r: &ReplayReport) -> Option<String> {
    let mut notes = Vec::new();
    if let Some((bytes, _)) = &r.torn_tail {
        notes.push(format!(
            "journal: a torn last write of {bytes} bytes was cut (kept in the quarantine file)"
        ));
    }
    if r.skipped > 0 || r.skipped_segments > 0 {
        notes.push(format!(
            "journal: only the newest records were loaded ({} older line(s) and {} older segment(s) not read; they stay on disk)",
            r.skipped, r.skipped_segments
        ));
    }
    if !r.corrupt.is_empty() {
        notes.push(format!(
            "journal: {} corrupt line(s) skipped (see the log)",
            r.corrupt.len()
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Why we were told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    /// The controlling terminal hung up (an SSH session ended).
    Hangup,
}

/// Signals from the moment [`install_stop_signals`] ran, in the order they came: one
/// that arrives during start-up (a long replay) waits here instead of killing the
/// process, and each is taken once (serve ignores a SIGHUP and waits for the next).
static STOPS: std::sync::OnceLock<
    tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<StopSignal>>,
> = std::sync::OnceLock::new();

/// Catch Ctrl-C, SIGTERM and SIGHUP from now on. Call it first thing in the runtime;
/// [`stop_signal`] calls it too (later is too late for a signal sent before).
pub fn install_stop_signals() {
    STOPS.get_or_init(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                (SignalKind::interrupt(), StopSignal::Interrupt),
                (SignalKind::terminate(), StopSignal::Terminate),
                (SignalKind::hangup(), StopSignal::Hangup),
            ];
            for (kind, what) in kinds {
                let mut stream = signal(kind).expect("installing a signal handler");
                let tx = tx.clone();
                tokio::spawn(async move {
                    while stream.recv().await.is_some() && tx.send(what).is_ok() {}
                });
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() && tx.send(StopSignal::Interrupt).is_ok() {}
        });
        tokio::sync::Mutex::new(rx)
    });
}

/// Resolves on the next Ctrl-C, SIGTERM or SIGHUP (one that came since
/// [`install_stop_signals`] included).
pub async fn stop_signal() -> StopSignal {
    install_stop_signals();
    let stops = STOPS.get().expect("installed above");
    stops
        .lock()
        .await
        .recv()
        .await
        .unwrap_or(StopSignal::Terminate)
}
