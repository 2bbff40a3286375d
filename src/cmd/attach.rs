//! `pilotwatch attach`: the dashboard on a running `pilotwatch serve`, over its socket
//! (or TCP with a token): its recent history, then live.

use std::io::IsTerminal;

use color_eyre::eyre::{Result, eyre};

use super::Threads;
use crate::attach::{self, Endpoint, client};
use crate::cli::AttachArgs;
use crate::config::Settings;

/// Exits 2 when stdout is not a terminal: lines are the service's own output.
pub fn run(args: &AttachArgs, settings: &Settings) -> Result<()> {
    if !std::io::stdout().is_terminal() {
        eprintln!(
            "pilotwatch attach: stdout is not a terminal; for lines, read the service's output (or its journal with `tail -f`)"
        );
        std::process::exit(2);
    }
    super::init_logging(true, settings);
    if let Some(url) = args.target.as_deref().filter(|t| is_nats(t)) {
        let mut target = crate::bus::BusTarget::parse(url).map_err(|e| eyre!("{e}"))?;
        target.creds = args
            .nats_creds
            .clone()
            .or_else(|| settings.nats.as_ref().and_then(|n| n.target.creds.clone()))
            .or_else(|| std::env::var_os("NATS_CREDS").map(Into::into));
        let history = args.history.unwrap_or(settings.history);
        return super::runtime(Threads::Many)?.block_on(async {
            let shown = target.display();
            match client::Client::attach_nats(target, history, settings.capacity).await {
                Ok(c) => crate::tui::attach(c, None, settings).await,
                Err(why) => Err(eyre!("cannot attach to {shown}: {why}")),
            }
        });
    }
    let target = match &args.target {
        Some(t) => Endpoint::parse(t),
        None => Endpoint::Unix(
            settings
                .attach_socket
                .clone()
                .unwrap_or_else(|| attach::default_socket(settings.journal.as_deref())),
        ),
    };
    let options = client::Options {
        endpoint: target.clone(),
        token: settings.attach_token.clone(),
        history: args.history.unwrap_or(settings.history),
        capacity: settings.capacity,
    };
    super::runtime(Threads::Many)?.block_on(async {
        match client::Client::attach(options).await {
            Ok(c) => crate::tui::attach(c, None, settings).await,
            Err(why) => {
                let endpoint = crate::sanitize::line(&target.to_string(), 200);
                Err(eyre!("cannot attach to {endpoint}: {why}"))
            }
        }
    })
}

/// Plain `pilotwatch` on a terminal where a `pilotwatch serve` already runs (its socket
/// is there and answers): watch it rather than fight it for the port. `None` when no
/// service answers, and plain `pilotwatch` starts its own receiver.
pub(super) fn to_running_service(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
) -> Option<Result<()>> {
    let socket = settings.attach_socket.as_ref().filter(|s| s.exists())?;
    let options = client::Options {
        endpoint: Endpoint::Unix(socket.clone()),
        token: None,
        history: settings.history,
        capacity: settings.capacity,
    };
    let c = runtime.block_on(client::Client::attach(options)).ok()?;
    tracing::info!(socket = %socket.display(), "a service is running here: attached to it");
    let note = format!(
        "a `pilotwatch serve` is already running here: attached to it ({}); q leaves it running",
        crate::sanitize::line(&socket.display().to_string(), 120)
    );
    Some(runtime.block_on(crate::tui::attach(c, Some(note), settings)))
}

/// `nats://…`, `nats+tls://…` or `tls://…`: the stream, not a service.
fn is_nats(target: &str) -> bool {
    ["nats://", "nats+tls://", "tls://"]
        .iter()
        .any(|p| target.starts_with(p))
}
