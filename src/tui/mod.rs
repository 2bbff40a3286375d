//! The live dashboard: [`app`] holds the state, [`view`] derives what the panes show
//! from the store, [`render`] draws it, [`keymap`] maps keys to commands, and this
//! module runs the loop: keys, store changes and a 1 Hz tick in, a frame out — only
//! when something changed, and at most ~30 a second.

pub mod app;
pub mod composer;
pub mod detail;
pub mod filter;
pub mod keymap;
pub mod render;
pub mod terminal;
pub mod theme;
pub mod view;

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::Settings;
use crate::ingest::Ingest;
use crate::reply::Replier;
use crate::service::{self, Service, StopSignal};
use app::{App, Effect, Info};
use theme::Theme;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(33);

/// Run the receiver and the dashboard until the user quits (or a signal, or the
/// terminal goes away). The terminal is restored on every way out.
pub async fn run(service: Service, settings: &Settings) -> Result<()> {
    let ingest = service.ingest.clone();
    let replier = Arc::new(Replier::new(settings.api()?, ingest.clone()));
    let info = Info {
        listen: service.addr.to_string(),
        journal: ingest
            .journal_path()
            .map(|p| crate::sanitize::line(&p.display().to_string(), 200)),
        signatures_checked: !settings.secrets.is_empty(),
        started: Utc::now(),
        startup_note: replay_note(&service.replay),
        api_key: replier.key_masked(),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(async move {
        let _ = stop_rx.await;
    }));
    let mut guard = terminal::enter().wrap_err("cannot open the terminal")?;
    let mut app = App::new(info, Theme::from_env());
    let result = event_loop(&mut guard, &mut app, &ingest, &replier).await;
    match result {
        Ok(Exit::TerminalGone) => terminal::abandon(guard),
        _ => drop(guard),
    }
    tracing::info!(?result, "dashboard closed; stopping the receiver");
    let _ = stop_tx.send(());
    server.await.wrap_err("receiver task")??;
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
    ingest: &Arc<Ingest>,
    replier: &Arc<Replier>,
) -> Result<Exit> {
    let terminal = &mut guard.terminal;
    let mut events = EventStream::new();
    let mut changes = ingest.watch();
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = service::stop_signal();
    tokio::pin!(stop);
    let (mut dirty, mut next_frame) = (true, Instant::now());
    loop {
        if dirty && Instant::now() >= next_frame {
            app.page = render::page_height(terminal.size()?.height);
            {
                // Hold the store only to fold changes in; drawing reads `app` alone.
                let store = ingest.store().read();
                app.sync(&store);
            }
            app.failure = ingest.failure().map(|f| crate::sanitize::line(&f, 200));
            terminal.draw(|f| render::draw(f, app))?;
            dirty = false;
            next_frame = Instant::now() + FRAME;
        }
        tokio::select! {
            signal = &mut stop => {
                return Ok(if signal == StopSignal::Hangup { Exit::TerminalGone } else { Exit::Signal });
            }
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    let effect = app.handle_key(key, &ingest.store().read());
                    match effect {
                        Some(Effect::Quit) => return Ok(Exit::Quit),
                        Some(Effect::Copy(bytes)) => copy_osc52(&bytes)?,
                        Some(Effect::Send { request, in_reply_to, attempt }) => {
                            replier.send(request, Some(in_reply_to), attempt);
                        }
                        None => {}
                    }
                    dirty = true;
                }
                Some(Ok(Event::Paste(text))) => {
                    app.handle_paste(&text);
                    dirty = true;
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                // The terminal is gone (an SSH session dropped): stop, do not spin.
                Some(Err(_)) | None => return Ok(Exit::TerminalGone),
            },
            changed = changes.changed() => {
                if changed.is_err() {
                    return Ok(Exit::Signal);
                }
                dirty = true;
            }
            _ = second.tick() => {
                app.tick(&ingest.store().read(), Utc::now());
                dirty = true;
            }
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
        }
    }
}

fn replay_note(r: &crate::journal::replay::ReplayReport) -> Option<String> {
    let mut notes = Vec::new();
    if let Some((bytes, _)) = &r.torn_tail {
        notes.push(format!(
            "journal: a torn last write of {bytes} bytes was cut (kept in the quarantine file)"
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
