//! The `pilotwatch` binary: install the error hooks, parse the command line, hand it to
//! its command in [`pilotwatch::cmd`], and report a start-up error. The pieces live in
//! the library (see `lib.rs` for the module map).

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

use color_eyre::Section as _;
use color_eyre::config::{HookBuilder, Theme};
use color_eyre::eyre::Result;
use pilotwatch::cli::{Cli, Command};
use pilotwatch::{cmd, config};

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

/// One command per run. `send` reads no settings; the others read them first, so a bad
/// flag, variable or config file stops them before anything starts.
fn start() -> Result<()> {
    let cli = Cli::parse_args();
    let settings = || config::load(&cli);
    match &cli.command {
        Some(Command::Send(args)) => cmd::send::run(args),
        Some(Command::Reply(args)) => cmd::reply::run(&settings()?, args),
        Some(Command::Open { journal, .. }) => cmd::open::run(journal, &settings()?),
        Some(Command::Attach(args)) => cmd::attach::run(args, &settings()?),
        Some(Command::Serve(_)) | None => cmd::run::run(&cli, settings()?),
    }
}
