//! The live dashboard: [`app`] holds the state, [`view`] derives what the panes show
//! from the store, [`render`] draws it, [`keymap`] maps keys to commands, and this
//! module runs the loop: keys, store changes and a 1 Hz tick in, a frame out — only
//! when something changed, and at most ~30 a second.

pub mod app;
pub mod composer;
pub mod detail;
pub mod filter;
pub mod keymap;
mod load;
pub mod progress;
pub mod render;
pub mod terminal;
pub mod theme;
pub mod view;

pub use load::load_journal;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::attach::client::{self, Client};
use crate::attach::protocol::Request;
use crate::config::Settings;
use crate::forward::Forwarder;
use crate::ingest::Ingest;
use crate::reply::Replier;
use crate::sanitize::line as clean;
use crate::service::{self, Service, StopSignal};
use crate::store::{SharedStore, Store};
use app::{App, AttachLink, AttachView, Effect, Info};
use theme::Theme;

/// The shortest time between two frames after a key (30 frames/s)…
const FRAME: Duration = Duration::from_millis(33);
/// …and between frames that only show new deliveries (20/s): under a steady flood the
/// rows scroll every frame and each frame repaints them, so this is what bounds the
/// bytes an SSH link carries (≤ 50 KB/s at 1,000 deliveries/s, 120×40).
const DATA_FRAME: Duration = Duration::from_millis(50);

/// What the dashboard watches and acts through.
struct Source {
    store: SharedStore,
    changes: watch::Receiver<u64>,
    link: Link,
    /// `open`: bytes of the journal read so far, of how many, and whether it is done.
    loading: Option<Arc<Loading>>,
}

/// Where the store's records come from, and where replies go.
enum Link {
    /// This process runs the receiver (its failures are shown).
    Local {
        ingest: Arc<Ingest>,
        replier: Arc<Replier>,
        forwarder: Option<Arc<Forwarder>>,
        /// Earlier pages of the provider's history (`None`: not reconciling).
        history: Option<crate::reconcile::HistoryRequests>,
        /// `--nats`: the outbox and this receiver's name.
        outbox: Option<(Arc<crate::outbox::OutboxStats>, String)>,
    },
    /// A `pilotwatch serve` elsewhere streams its journal here and sends our replies.
    Attached(Client),
    /// `open`: a journal file, nothing sent.
    ReadOnly,
}

#[derive(Debug, Default)]
struct Loading {
    read: AtomicU64,
    total: AtomicU64,
    done: AtomicBool,
}

/// Run the receiver and the dashboard until the user quits (or a signal, or the
/// terminal goes away). The terminal is restored on every way out.
pub async fn run(service: Service, settings: &Settings) -> Result<()> {
    let ingest = service.ingest.clone();
    let info = Info::of(&service.info);
    let source = Source {
        store: ingest.store().clone(),
        changes: ingest.watch(),
        link: Link::Local {
            ingest: ingest.clone(),
            replier: service.replier.clone(),
            forwarder: service.forwarder.clone(),
            history: service.history.clone(),
            outbox: service.outbox(),
        },
        loading: None,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(async move {
        let _ = stop_rx.await;
    }));
    let result = dashboard(source, info, settings).await;
    let _ = stop_tx.send(());
    server.await.wrap_err("receiver task")??;
    result
}

/// `pilotwatch attach`: the same dashboard over a running service's stream. `note`
/// says why we are attached (plain `pilotwatch` found a service running).
pub async fn attach(client: Client, note: Option<String>, settings: &Settings) -> Result<()> {
    let state = client.state();
    let mut info = Info::of(&state.service);
    if let Some(n) = note {
        info.startup_note = Some(match info.startup_note {
            Some(old) => format!("{n}; {old}"),
            None => n,
        });
    }
    let source = Source {
        store: client.store().clone(),
        changes: client.watch(),
        link: Link::Attached(client),
        loading: None,
    };
    dashboard(source, info, settings).await
}

/// `pilotwatch open JOURNAL`: the same dashboard over a journal file, read-only, filled
/// in the background while a progress bar shows how far it got.
pub async fn open(path: &Path, settings: &Settings) -> Result<()> {
    not_a_journal_file(path)?;
    let total = crate::journal::replay::segments(path)
        .wrap_err_with(|| format!("cannot read {}", path.display()))?
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum::<u64>();
    if total == 0 && !path.exists() {
        color_eyre::eyre::bail!("no journal at {}", path.display());
    }
    let store = Store::shared(settings.capacity);
    let (tx, changes) = watch::channel(0u64);
    let loading = Arc::new(Loading {
        total: AtomicU64::new(total),
        ..Loading::default()
    });
    let (p, s, l) = (path.to_owned(), store.clone(), loading.clone());
    std::thread::Builder::new()
        .name("pilotwatch-open".into())
        .spawn(move || load(&p, &s, &l, &tx))?;
    let info = Info {
        listen: format!("read-only: {}", clean(&path.display().to_string(), 120)),
        journal: None,
        signatures_checked: true,
        started: Utc::now(),
        startup_note: None,
        api_key: None,
        forward_to: None,
        read_only: true,
        alert_targets: None,
    };
    let source = Source {
        store,
        changes,
        link: Link::ReadOnly,
        loading: Some(loading),
    };
    dashboard(source, info, settings).await
}

/// A directory read as "no deliveries" and `/dev/zero` as one endless line: only a
/// regular file (or a link to one) is opened; a missing one is left to the caller.
fn not_a_journal_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    let what = match () {
        _ if t.is_file() => return Ok(()),
        _ if t.is_dir() => "a directory",
        _ if t.is_char_device() => "a character device",
        _ if t.is_block_device() => "a block device",
        _ if t.is_fifo() => "a fifo",
        _ if t.is_socket() => "a socket",
        _ => "not a regular file",
    };
    let name = clean(&path.display().to_string(), 200);
    color_eyre::eyre::bail!("not a journal file: {name} is {what}")
}

/// The background loader of `open`: fills the store, says how far it got, and when done.
fn load(path: &Path, store: &SharedStore, loading: &Loading, tx: &watch::Sender<u64>) {
    let result = load_journal(path, store, &loading.read, || tx.send_modify(|v| *v += 1));
    if let Err(e) = result {
        tracing::error!(error = %e, "reading the journal failed");
    }
    loading.done.store(true, Ordering::SeqCst);
    tx.send_modify(|v| *v += 1);
}

async fn dashboard(source: Source, info: Info, settings: &Settings) -> Result<()> {
    let mut guard = terminal::enter().wrap_err("cannot open the terminal")?;
    let mut app = App::new(info, Theme::from_env());
    app.alerts.ring &= !settings.no_bell;
    let result = event_loop(&mut guard, &mut app, source).await;
    match result {
        Ok(Exit::TerminalGone) => terminal::abandon(guard),
        _ => drop(guard),
    }
    tracing::info!(?result, "dashboard closed");
    result.map(|_| ())
}

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Quit,
    Signal,
    /// SIGHUP, or the terminal stopped answering: nothing may be written to it.
    TerminalGone,
}

async fn event_loop(
    guard: &mut terminal::Guard,
    app: &mut App,
    mut source: Source,
) -> Result<Exit> {
    let terminal = &mut guard.terminal;
    let mut events = EventStream::new();
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = service::stop_signal();
    tokio::pin!(stop);
    // `input`: a key, paste or resize is waiting to be shown (the faster pace).
    let long_ago = Instant::now()
        .checked_sub(DATA_FRAME)
        .unwrap_or_else(Instant::now);
    let (mut dirty, mut input, mut last_frame) = (true, true, long_ago);
    loop {
        let next_frame = last_frame + if input { FRAME } else { DATA_FRAME };
        if dirty && Instant::now() >= next_frame {
            app.page = render::page_height(terminal.size()?.height);
            // One look at the client's state per frame, news first: a replaced store
            // must reset the views before they sync.
            let attached = match &source.link {
                Link::Attached(client) => Some((client, attached_news(app, client))),
                _ => None,
            };
            {
                // Hold the store only to fold changes in; drawing reads `app` alone.
                let store = source.store.read();
                app.sync(&store);
            }
            match (&source.link, attached) {
                (Link::Local { ingest, outbox, .. }, _) => {
                    app.failure = ingest.failure().map(|f| clean(&f, 200));
                    app.nats = outbox
                        .as_ref()
                        .map(|(o, name)| o.status(name, *ingest.watch().borrow()));
                }
                (_, Some((client, state))) => attached_state(app, client, state),
                _ => {}
            }
            if let Some(l) = &source.loading {
                app.loading = (!l.done.load(Ordering::SeqCst)).then(|| {
                    (
                        l.read.load(Ordering::Relaxed),
                        l.total.load(Ordering::Relaxed),
                    )
                });
            }
            terminal.draw(|f| render::draw(f, app))?;
            if app.take_bell() {
                // BEL is no cell of the frame: written after it, through the same writer.
                let out = terminal.backend_mut();
                out.write_all(b"\x07")?;
                out.flush()?;
            }
            // An unfinished filter pass goes on at the next frame.
            (dirty, input) = (app.scanning, app.scanning);
            last_frame = Instant::now();
        }
        tokio::select! {
            signal = &mut stop => {
                return Ok(if signal == StopSignal::Hangup { Exit::TerminalGone } else { Exit::Signal });
            }
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    let effect = app.handle_key(key, &source.store.read());
                    if let Some(effect) = effect
                        && let Some(exit) = carry_out(effect, app, &source)?
                    {
                        return Ok(exit);
                    }
                    (dirty, input) = (true, true);
                }
                Some(Ok(Event::Paste(text))) => {
                    app.handle_paste(&text);
                    (dirty, input) = (true, true);
                }
                Some(Ok(Event::Resize(..))) => (dirty, input) = (true, true),
                Some(Ok(_)) => {}
                // The terminal is gone (an SSH session dropped): stop, do not spin.
                Some(Err(_)) | None => return Ok(Exit::TerminalGone),
            },
            changed = source.changes.changed() => {
                if changed.is_err() {
                    // The loader (open) is done and gone; keep showing what it loaded.
                    source.changes = watch::channel(0).1;
                }
                dirty = true;
            }
            _ = second.tick() => {
                app.tick(&source.store.read(), Utc::now());
                dirty = true;
            }
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
        }
    }
}

/// Do what a key asked for outside the app's own state.
fn carry_out(effect: Effect, app: &mut App, source: &Source) -> Result<Option<Exit>> {
    match effect {
        Effect::Quit => return Ok(Some(Exit::Quit)),
        Effect::Copy(bytes) => copy_osc52(&bytes)?,
        Effect::Send {
            request,
            in_reply_to,
            attempt,
        } => match &source.link {
            Link::Local { replier, .. } => replier.send(request, Some(in_reply_to), attempt),
            Link::Attached(client) => {
                let key = request.idempotency_key.clone();
                let sent = client.request(Request::Send {
                    request,
                    in_reply_to: Some(in_reply_to),
                    attempt,
                });
                if let Err(why) = sent {
                    app.reply_lost(&key, &why);
                }
            }
            Link::ReadOnly => app.notice = Some("read-only: nothing is sent from here".into()),
        },
        Effect::Replay(seq) => match &source.link {
            Link::Local { forwarder, .. } => {
                let record = source.store.read().record(seq).cloned().map(Arc::new);
                match (forwarder, record) {
                    (Some(f), Some(r)) => f.replay(r),
                    (None, _) => {
                        app.notice =
                            Some("nothing to replay to: start with --forward-to URL".into())
                    }
                    (_, None) => app.notice = Some(format!("#{seq} is no longer in memory")),
                }
            }
            Link::Attached(client) => {
                if let Err(why) = client.request(Request::Replay { seq }) {
                    app.notice = Some(why);
                }
            }
            Link::ReadOnly => app.notice = Some("read-only: nothing is sent from here".into()),
        },
        Effect::History { page } => match &source.link {
            Link::Local {
                history: Some(h), ..
            } => h.page(page),
            Link::Local { history: None, .. } | Link::ReadOnly => {}
            Link::Attached(client) => {
                if let Err(why) = client.request(Request::History { page }) {
                    app.notice = Some(why);
                }
            }
        },
        Effect::Export { lines, rows } => {
            // Journal lines: the deliveries and the app's answers to them.
            let records = lines.iter().filter(|b| **b == b'\n').count();
            app.notice = Some(match write_export(Path::new(""), Utc::now(), &lines) {
                Ok(name) => {
                    let path = std::fs::canonicalize(&name).unwrap_or(name);
                    // The path first: on a narrow screen it is what must be read.
                    format!(
                        "exported to {}: {rows} rows, {records} records",
                        clean(&path.display().to_string(), 120)
                    )
                }
                Err(e) => format!("export failed: {}", clean(&e.to_string(), 120)),
            });
        }
    }
    Ok(None)
}

/// An export as `pilotwatch-export-<time>.ndjson` in `dir`: always a new 0600 file, so a
/// second export in the same second gets `-2` rather than overwriting the first, and a
/// symlink planted at the predictable name is passed over, never followed.
fn write_export(dir: &Path, at: chrono::DateTime<Utc>, lines: &[u8]) -> io::Result<PathBuf> {
    let name = dir.join(format!(
        "pilotwatch-export-{}.ndjson",
        at.format("%Y%m%d-%H%M%S")
    ));
    let (mut file, name) = crate::files::create_unique_private(&name)?;
    if let Err(e) = file.write_all(lines) {
        // A cut-short export would read back as a torn journal: leave none.
        let _ = std::fs::remove_file(&name);
        return Err(e);
    }
    Ok(name)
}

/// Fold what the client heard (notices, replies that never reached the service, a
/// replaced store) into the app, before it syncs with the store.
fn attached_news(app: &mut App, client: &Client) -> client::State {
    let (notices, lost) = client.take_news();
    for key in lost {
        app.reply_lost(
            &key,
            "the connection to the service dropped before it was sent",
        );
    }
    if let Some(n) = notices.into_iter().last() {
        app.notice = Some(n);
    }
    let state = client.state();
    if app.store_generation != state.generation {
        app.store_generation = state.generation;
        app.store_replaced();
    }
    // Before the sync: what fires while history loads is history (no bell).
    app.loading = state.loading;
    state
}

/// The header's view of the connection, and the service's own state.
fn attached_state(app: &mut App, client: &Client, s: client::State) {
    app.failure = s.failure.clone();
    app.nats = s.nats.clone();
    app.loading = s.loading;
    app.totals.forwarded = s.forwards.ok;
    app.totals.forward_failed = s.forwards.failed;
    app.totals.forward_dropped = s.forwards.dropped;
    if s.service.started != app.info.started || s.service.listen != app.info.listen {
        // The service restarted (perhaps with other settings): show it as it is now.
        let note = app.info.startup_note.take();
        app.info = Info::of(&s.service);
        app.info.startup_note = note;
    }
    let link = match s.link {
        client::Link::Attached => AttachLink::Attached { clients: s.clients },
        client::Link::Reconnecting { since, why, .. } => AttachLink::Reconnecting {
            secs: (Utc::now() - since).num_seconds().max(0) as u64,
            why: clean(&why, 160),
        },
    };
    let now = Utc::now();
    let receivers = s
        .receivers
        .iter()
        .map(|(name, seen)| crate::tui::app::ReceiverView {
            name: clean(name, 40),
            last_record: seen.last_record,
            // A record or two in flight is no backlog: one that lasts is.
            backlog: match seen.behind_since {
                Some(t) if (now - t).num_seconds() >= 3 => seen.backlog,
                _ => 0,
            },
            silent: seen.heartbeat.is_none_or(|h| (now - h).num_seconds() > 10),
            sends: seen.sends,
        })
        .collect();
    if matches!(client.endpoint(), crate::attach::Endpoint::Nats(_)) {
        // Replies go out through whichever receiver holds a key: one must.
        let senders: Vec<&str> = s
            .receivers
            .iter()
            .filter(|(_, r)| r.sends)
            .map(|(n, _)| n.as_str())
            .collect();
        app.info.api_key =
            (!senders.is_empty()).then(|| clean(&format!("held by {}", senders.join(", ")), 80));
    }
    match &mut app.attach {
        Some(a) => {
            a.link = link;
            a.receivers = receivers;
        }
        // Where it is attached never changes: made printable once.
        None => {
            app.attach = Some(AttachView {
                endpoint: clean(&client.endpoint().to_string(), 120),
                link,
                receivers,
            })
        }
    }
}

/// Put `bytes` on the clipboard of the terminal the user sits at (works over SSH and,
/// with `set-clipboard on`, through tmux).
fn copy_osc52(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout();
    write!(
        out,
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn two_exports_in_the_same_second_make_two_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let first = write_export(dir.path(), at, b"{\"a\":1}\n").unwrap();
        let second = write_export(dir.path(), at, b"{\"b\":2}\n").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&first).unwrap(), b"{\"a\":1}\n");
        assert_eq!(std::fs::read(&second).unwrap(), b"{\"b\":2}\n");
        assert!(second.ends_with("pilotwatch-export-20260102-030405-2.ndjson"));
        for p in [&first, &second] {
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }

    #[test]
    fn an_export_never_writes_through_a_symlink_at_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let at = Utc::now();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let name = dir.path().join(format!(
            "pilotwatch-export-{}.ndjson",
            at.format("%Y%m%d-%H%M%S")
        ));
        std::os::unix::fs::symlink(&victim, &name).unwrap();
        let written = write_export(dir.path(), at, b"x\n").unwrap();
        assert_ne!(written, name);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read(&written).unwrap(), b"x\n");
    }
}
