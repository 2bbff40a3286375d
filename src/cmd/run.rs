//! Plain `pilotwatch` and `pilotwatch serve`: the receiver, with the dashboard when
//! stdout is a terminal (and neither `--headless` nor `serve` said otherwise), else
//! [`serve::headless`](super::serve::headless)'s lines. `--demo` adds traffic, and a fake
//! API for the replies.

use std::io::IsTerminal;
use std::time::Duration;

use color_eyre::eyre::Result;

use super::Threads;
use crate::cli::{Cli, Command};
use crate::config::Settings;
use crate::demo::Demo;
use crate::demo::fake_api::{FakeApi, Webhooks};
use crate::secret::Secret;
use crate::service::Service;

pub fn run(cli: &Cli, mut settings: Settings) -> Result<()> {
    let dashboard = !settings.headless && std::io::stdout().is_terminal();
    super::init_logging(dashboard, &settings);
    let demo = cli.demo.then(|| cli.demo_rate.unwrap_or(2.0));
    if demo.is_some() {
        // The demo must never touch a real journal or port unless asked to.
        if cli.receiver.listen.is_none() {
            settings.listen = "127.0.0.1:0".parse().expect("valid");
        }
        if cli.receiver.journal.is_none() {
            settings.journal = None;
            // Nor a real service's attach socket (a second demo, or `serve` running).
            if cli.receiver.attach_socket.is_none() {
                settings.attach_socket = None;
            }
        }
        // A newcomer sees the reconciler catch the demo's lost webhook within two minutes.
        if cli.receiver.reconcile_after.is_none() {
            settings.reconcile.reconcile_after = Duration::from_secs(30);
        }
        if cli.receiver.api_poll.is_none() {
            settings.reconcile.api_poll = Duration::from_secs(15);
        }
    }
    let runtime = super::runtime(Threads::Many)?;
    if dashboard
        && demo.is_none()
        && let Some(attached) = super::attach::to_running_service(&runtime, &settings)
    {
        return attached;
    }
    let serve = matches!(cli.command, Some(Command::Serve(_)));
    runtime.block_on(receive(settings, dashboard, demo, serve))
}

/// `demo`: its rate. `serve`: outlive the terminal (see [`super::serve::headless`]).
async fn receive(
    mut settings: Settings,
    dashboard: bool,
    demo: Option<f64>,
    serve: bool,
) -> Result<()> {
    // Before anything slow (the replay): a SIGTERM from now on stops us cleanly.
    crate::service::install_stop_signals();
    if !settings.headless && !dashboard {
        eprintln!("pilotwatch: stdout is not a terminal; running headless (as with --headless).");
    }
    let fake = match demo {
        Some(_) => Some(fake_api(&mut settings).await?),
        None => None,
    };
    let mut service = Service::start(&settings).await?;
    if let (Some(rate), Some(fake)) = (demo, fake) {
        traffic(&settings, &mut service, fake, rate);
    }
    if dashboard {
        return crate::tui::run(service, &settings).await;
    }
    super::serve::headless(&settings, service, serve).await
}

/// Demo: replies go to a fake API (never the real one), which answers with webhooks;
/// deliveries are signed with the configured secret, or a made-up one.
async fn fake_api(settings: &mut Settings) -> Result<FakeApi> {
    let fake = FakeApi::start().await?;
    // The demo's provider answers numbers and messages alike (two keys' worth).
    fake.provider(|p| p.scope = crate::demo::fake_reads::Scope::Both);
    settings.base_url = fake.base_url();
    settings.api_key = Some(Secret::new("ps_demo_00000000000000000000"));
    if settings.secrets.is_empty() {
        let secret = format!("whsec_demo_{}", uuid::Uuid::new_v4().simple());
        settings.secrets = vec![Secret::new(secret)];
    }
    Ok(fake)
}

/// Demo, once the service listens: the simulator's deliveries and the fake API's
/// webhooks go to it, and the simulator ends its calls before the service stops.
fn traffic(settings: &Settings, service: &mut Service, fake: FakeApi, rate: f64) {
    let url = format!(
        "http://{}{}",
        service.addr,
        settings.path.as_deref().unwrap_or("/")
    );
    let secret = settings.secrets[0].expose().to_owned();
    fake.send_webhooks(Webhooks {
        url: url.clone(),
        secret: Some(secret.clone()),
        delays: [
            Duration::from_millis(800),
            Duration::from_millis(1500),
            Duration::from_secs(4),
        ],
    });
    let demo = Demo::start(url, secret, rate, Some(fake.clone()));
    service.before_stop(demo.finish());
}
