//! The `pilotwatch` binary: install error hooks, read settings, run the dashboard or the
//! headless printer. The pieces live in the library (see `lib.rs` for the module map).

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use color_eyre::Section as _;
use color_eyre::config::{HookBuilder, Theme};
use color_eyre::eyre::{Result, eyre};
use pilotwatch::api::{SendBody, SendRequest, new_idempotency_key};
use pilotwatch::attach::{self, Endpoint, client};
use pilotwatch::cli::{Cli, Command, ReplyArgs};
use pilotwatch::config::{self, Settings};
use pilotwatch::headless;
use pilotwatch::service::{self, Service};

fn main() -> ExitCode {
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let result = install_error_hooks(colour).and_then(|()| start());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(error, colour);
            ExitCode::FAILURE
        }
    }
}

/// color-eyre for panics and errors, without colour codes when stderr is a log.
fn install_error_hooks(colour: bool) -> Result<()> {
    let theme = if colour { Theme::dark() } else { Theme::new() };
    let (panics, _) = HookBuilder::default().theme(theme).try_into_hooks()?;
    // Its "run with RUST_BACKTRACE=1" hint is for panics: an error's trace is asked for
    // with RUST_LIB_BACKTRACE (see `report`).
    let (_, errors) = HookBuilder::default()
        .theme(theme)
        .display_env_section(false)
        .try_into_hooks()?;
    errors.install()?;
    panics.install();
    Ok(())
}

/// A start-up error: where stderr is a log (journald, a file, a pipe), one plain line,
/// `error: what: why: cause`; on a terminal, color-eyre's report. Its backtrace (37
/// frames of tokio and main) says nothing to an operator, so it is shown only when
/// RUST_LIB_BACKTRACE asks: RUST_BACKTRACE alone, often set for panics, is not enough.
fn report(error: color_eyre::Report, colour: bool) {
    let backtrace = std::env::var_os("RUST_LIB_BACKTRACE").is_some_and(|v| v != "0");
    let text = if colour || backtrace {
        format!("Error: {:?}", error.suppress_backtrace(!backtrace))
    } else {
        let causes: Vec<String> = error.chain().map(|c| c.to_string()).collect();
        format!(
            "error: {}",
            pilotwatch::sanitize::line(&causes.join(": "), 4000)
        )
    };
    // Not eprintln!: a closed stderr must not turn an error into a panic.
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn start() -> Result<()> {
    let cli = Cli::parse_args();
    if let Some(Command::Send(args)) = &cli.command {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let env_secret = std::env::var(config::ENV_SECRET)
            .ok()
            .filter(|s| !s.is_empty());
        std::process::exit(runtime.block_on(pilotwatch::send::run(args, env_secret)));
    }
    let settings = config::load(&cli)?;
    if let Some(Command::Reply(args)) = &cli.command {
        init_logging(false, &settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::process::exit(runtime.block_on(reply(&settings, args)));
    }
    if let Some(Command::Open { journal, .. }) = &cli.command {
        init_logging(true, &settings);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(pilotwatch::tui::open(journal, &settings));
    }
    if let Some(Command::Attach(args)) = &cli.command {
        if !std::io::stdout().is_terminal() {
            eprintln!(
                "pilotwatch attach: stdout is not a terminal; for lines, read the service's output (or its journal with `tail -f`)"
            );
            std::process::exit(2);
        }
        init_logging(true, &settings);
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(async {
            match client::Client::attach(options).await {
                Ok(c) => pilotwatch::tui::attach(c, None).await,
                Err(why) => {
                    let endpoint = pilotwatch::sanitize::line(&target.to_string(), 200);
                    Err(eyre!("cannot attach to {endpoint}: {why}"))
                }
            }
        });
    }
    let dashboard = !settings.headless && std::io::stdout().is_terminal();
    init_logging(dashboard, &settings);
    let demo = cli.demo.then(|| cli.demo_rate.unwrap_or(2.0));
    let mut settings = settings;
    if demo.is_some() {
        // The demo must never touch a real journal or port unless asked to.
        if cli.receiver.listen.is_none() {
            settings.listen = "127.0.0.1:0".parse().expect("valid");
        }
        if cli.receiver.journal.is_none() {
            settings.journal = None;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if dashboard
        && demo.is_none()
        && let Some(socket) = &settings.attach_socket
        && socket.exists()
    {
        // A service already runs here: watch it rather than fight it for the port.
        let options = client::Options {
            endpoint: Endpoint::Unix(socket.clone()),
            token: None,
            history: settings.history,
            capacity: settings.capacity,
        };
        if let Ok(c) = runtime.block_on(client::Client::attach(options)) {
            tracing::info!(socket = %socket.display(), "a service is running here: attached to it");
            let note = format!(
                "a `pilotwatch serve` is already running here: attached to it ({}); q leaves it running",
                pilotwatch::sanitize::line(&socket.display().to_string(), 120)
            );
            return runtime.block_on(pilotwatch::tui::attach(c, Some(note)));
        }
    }
    let serve = matches!(cli.command, Some(Command::Serve(_)));
    runtime.block_on(run(settings, dashboard, demo, serve))
}

/// Logs go to stderr headless, and to a file under the dashboard (where stderr is the
/// screen).
fn init_logging(dashboard: bool, settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "pilotwatch=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if dashboard {
        let file = log_path(settings).and_then(|p| {
            std::fs::create_dir_all(p.parent()?).ok()?;
            pilotwatch::files::open_append_private(&p).ok()
        });
        match file {
            Some(f) => builder.with_ansi(false).with_writer(Mutex::new(f)).init(),
            None => builder.with_writer(std::io::sink).init(),
        }
    } else {
        builder
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init();
    }
}

/// `pilotwatch.log` beside the journal (or in the data directory without one).
fn log_path(settings: &Settings) -> Option<PathBuf> {
    let dir = match &settings.journal {
        Some(j) => j.parent()?.to_owned(),
        None => pilotwatch::journal::default_path().parent()?.to_owned(),
    };
    Some(dir.join("pilotwatch.log"))
}

/// `serve`: a service outlives its terminal (SIGHUP, a closed stdout); `--headless` in a
/// pipe stops with it, as pipes expect.
async fn run(
    mut settings: Settings,
    dashboard: bool,
    demo: Option<f64>,
    serve: bool,
) -> Result<()> {
    if !settings.headless && !dashboard {
        eprintln!("pilotwatch: stdout is not a terminal; running headless (as with --headless).");
    }
    // Demo: replies go to a fake API (never the real one), which answers with webhooks.
    let fake = match demo {
        Some(_) => {
            let fake = pilotwatch::demo::fake_api::FakeApi::start().await?;
            settings.base_url = fake.base_url();
            settings.api_key = Some(pilotwatch::secret::Secret::new(
                "ps_demo_00000000000000000000",
            ));
            if settings.secrets.is_empty() {
                let secret = format!("whsec_demo_{}", uuid::Uuid::new_v4().simple());
                settings.secrets = vec![pilotwatch::secret::Secret::new(secret)];
            }
            Some(fake)
        }
        None => None,
    };
    let mut service = Service::start(&settings).await?;
    if let (Some(rate), Some(fake)) = (demo, fake) {
        let url = format!(
            "http://{}{}",
            service.addr,
            settings.path.as_deref().unwrap_or("/")
        );
        let secret = settings.secrets[0].expose().to_owned();
        fake.send_webhooks(pilotwatch::demo::fake_api::Webhooks {
            url: url.clone(),
            secret: Some(secret.clone()),
            delays: [
                Duration::from_millis(800),
                Duration::from_millis(1500),
                Duration::from_secs(4),
            ],
        });
        let demo = pilotwatch::demo::Demo::start(url, secret, rate);
        service.before_stop(demo.finish());
    }
    if dashboard {
        return pilotwatch::tui::run(service).await;
    }
    banner(&settings, &service);

    let rx = service.ingest.subscribe();
    let store = service.ingest.store().clone();
    let json = settings.json;
    let (printer_done_tx, printer_done) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("pilotwatch-stdout".into())
        .spawn(move || {
            let result = headless::print(rx, store, json, std::io::stdout().lock());
            let _ = printer_done_tx.send(result);
        })?;
    let stop = async move {
        tokio::pin!(printer_done);
        let mut printing = true;
        loop {
            tokio::select! {
                signal = service::stop_signal() => {
                    if serve && signal == service::StopSignal::Hangup {
                        tracing::warn!("SIGHUP ignored: the service keeps running (stop it with SIGTERM)");
                        continue;
                    }
                    break;
                }
                result = &mut printer_done, if printing => {
                    let why = match result {
                        Ok(Err(e)) => e.to_string(),
                        _ => "closed".into(),
                    };
                    if serve {
                        tracing::warn!(%why, "stdout is gone; serving on (deliveries are journaled)");
                        printing = false;
                        continue;
                    }
                    eprintln!("pilotwatch: stdout closed ({why}); stopping");
                    break;
                }
            }
        }
    };
    let journal = service
        .ingest
        .journal_path()
        .map(|p| p.display().to_string());
    service.serve(stop).await?;
    // Not eprintln!: a service whose terminal is gone must not panic on its last word.
    let _ = writeln!(std::io::stderr(), "{}", stopped_note(journal.as_deref()));
    Ok(())
}

/// The last word on stopping: where the deliveries are, or that they are gone.
fn stopped_note(journal: Option<&str>) -> String {
    match journal {
        Some(p) => {
            format!("pilotwatch: stopped; every acknowledged delivery is in the journal ({p})")
        }
        None => {
            "pilotwatch: stopped; nothing was kept (--no-journal): the deliveries shown are gone"
                .into()
        }
    }
}

/// `pilotwatch reply`: one send, its 202 on stdout, the exit code says how it went.
async fn reply(settings: &Settings, args: &ReplyArgs) -> i32 {
    let api = match settings.api() {
        Ok(Some(api)) => api,
        Ok(None) => {
            eprintln!("pilotwatch reply: {}", pilotwatch::reply::NO_KEY);
            return 2;
        }
        Err(e) => {
            eprintln!("pilotwatch reply: {e}");
            return 2;
        }
    };
    let request = SendRequest {
        body: SendBody {
            text: args.text.clone(),
            destination_number: args.to.clone(),
            group_id: args.group.clone(),
        },
        number_id: args.number_id.clone(),
        idempotency_key: args
            .idempotency_key
            .clone()
            .unwrap_or_else(new_idempotency_key),
    };
    match api.send(&request).await {
        Ok(accepted) => {
            pilotwatch::send::say(format_args!(
                "{}",
                serde_json::to_string_pretty(&accepted).expect("serialisable")
            ));
            0
        }
        Err(e) => {
            eprintln!("pilotwatch reply: {e}");
            eprintln!(
                "pilotwatch reply: retry safely with --idempotency-key {}",
                request.idempotency_key
            );
            1
        }
    }
}

/// Where it listens, what it keeps, whether it verifies: on stderr, so stdout stays data.
fn banner(settings: &Settings, service: &Service) {
    let path = settings.path.as_deref().unwrap_or("any path");
    eprintln!(
        "pilotwatch {}: listening on http://{} ({path})",
        env!("CARGO_PKG_VERSION"),
        service.addr
    );
    match service.ingest.journal_path() {
        Some(p) => {
            let r = &service.replay;
            eprintln!(
                "journal: {} ({} deliveries replayed from {} segment(s))",
                p.display(),
                r.records,
                r.segments
            );
            if let Some((bytes, q)) = &r.torn_tail {
                eprintln!(
                    "journal: dropped a torn last write of {bytes} bytes (kept in {})",
                    q.display()
                );
            }
            if r.skipped > 0 || r.skipped_segments > 0 {
                eprintln!(
                    "journal: only the newest records were loaded ({} older line(s) and {} older segment(s) not read: --capacity {} keeps no more)",
                    r.skipped, r.skipped_segments, settings.capacity
                );
            }
            for c in &r.corrupt {
                eprintln!("journal: CORRUPT line skipped: {c}");
            }
        }
        None => eprintln!("journal: none (--no-journal): deliveries are kept in memory only"),
    }
    if settings.secrets.is_empty() {
        eprintln!(
            "signatures: NOT CHECKED (no PILOT_STATUS_WEBHOOK_SECRET): every delivery is accepted and marked unchecked"
        );
        if !settings.is_loopback() {
            eprintln!(
                "WARNING: listening on {} beyond loopback WITHOUT a webhook secret: anyone who can reach it can post deliveries",
                settings.listen
            );
        }
    } else {
        let prints: Vec<String> = settings.secrets.iter().map(|s| s.fingerprint()).collect();
        eprintln!(
            "signatures: checked ({} secret(s): {})",
            prints.len(),
            prints.join(", ")
        );
    }
    if let Some(b) = &service.attach {
        if let Some(p) = &b.socket {
            eprintln!(
                "attach: {} (owner only; `pilotwatch attach` opens the dashboard)",
                p.display()
            );
        }
        if let Some(a) = &b.tcp_addr {
            eprintln!("attach: tcp://{a} (token required)");
        }
    }
    if let Some(f) = &settings.config_file {
        eprintln!("config: {}", f.display());
    }
}
