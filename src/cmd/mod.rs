//! One module per way pilotwatch runs; `main` parses the command line and calls one.
//!
//! - [`run`]: plain `pilotwatch` (the dashboard, `--demo` traffic) and `serve`, which is
//!   the same receiver, headless and outliving its terminal;
//! - [`serve`]: the receiver without a dashboard: the banner, a line per delivery, stopping;
//! - [`attach`], [`open`]: the dashboard on a running service, or on a journal file;
//! - [`reply`], [`send`]: one REST send, one webhook POST, and an exit code that says how
//!   it went.
//!
//! These live in the library, not the binary crate: the binary is a crate of its own,
//! compiled with its own copies of the generic code it instantiates (tokio, the
//! dashboard), which is where the issue measured minutes of a release build. Here they
//! are built once with the rest, and the tests can reach them.

pub mod attach;
pub mod open;
pub mod reply;
pub mod run;
pub mod send;
pub mod serve;

use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use color_eyre::eyre::Result;

use crate::config::Settings;

/// Which tokio runtime a command needs.
#[derive(Debug, Clone, Copy)]
enum Threads {
    /// A one-shot command (`send`, `reply`): one request, one thread.
    One,
    /// The receiver and the dashboards.
    Many,
}

/// The one place a runtime is built.
fn runtime(threads: Threads) -> Result<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::Many => tokio::runtime::Builder::new_multi_thread(),
    };
    Ok(builder.enable_all().build()?)
}

/// Run a one-shot command and exit the process with its code. The runtime is still up
/// when it exits: dropping it first would wait for any blocking task still running.
fn exit_with(command: impl Future<Output = i32>) -> Result<()> {
    let runtime = runtime(Threads::One)?;
    std::process::exit(runtime.block_on(command))
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
            crate::files::open_append_private(&p).ok()
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
        None => crate::journal::default_path().parent()?.to_owned(),
    };
    Some(dir.join("pilotwatch.log"))
}
