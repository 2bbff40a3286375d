//! `--nats URL` and its companions, flags over the file: `nats`, `nats_creds`,
//! `nats_receiver`, `nats_replicas`. `NATS_CREDS` is read as the `nats` CLI does.

use color_eyre::eyre::{Result, eyre};

use crate::bus::{BusTarget, valid_token};
use crate::cli::Cli;
use crate::outbox::OutboxSettings;

/// What the file says.
#[derive(Debug, Default)]
pub struct FileNats {
    pub url: Option<String>,
    pub creds: Option<std::path::PathBuf>,
    pub receiver: Option<String>,
    pub replicas: Option<usize>,
}

impl FileNats {
    pub fn of(file: &super::FileConfig) -> Self {
        Self {
            url: file.nats.clone(),
            creds: file.nats_creds.clone(),
            receiver: file.nats_receiver.clone(),
            replicas: file.nats_replicas,
        }
    }
}

pub fn resolve(
    cli: &Cli,
    file: FileNats,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<OutboxSettings>> {
    let r = &cli.receiver;
    let Some(url) = r.nats.clone().or(file.url) else {
        return Ok(None);
    };
    let mut target = BusTarget::parse(&url).map_err(|e| eyre!("--nats: {e}"))?;
    target.creds = r
        .nats_creds
        .clone()
        .or(file.creds)
        .or_else(|| env("NATS_CREDS").map(Into::into));
    if let Some(c) = &target.creds
        && !c.is_file()
    {
        return Err(eyre!("--nats-creds: no file {}", c.display()));
    }
    let receiver = match r.nats_receiver.clone().or(file.receiver) {
        Some(name) => name,
        None => hostname(),
    };
    if !valid_token(&receiver) || receiver.len() > 64 {
        return Err(eyre!(
            "--nats-receiver {receiver:?}: use up to 64 letters, digits, '-' and '_' (it is a NATS subject token)"
        ));
    }
    Ok(Some(OutboxSettings {
        target,
        receiver,
        replicas: r.nats_replicas.or(file.replicas).unwrap_or(1).clamp(1, 5),
    }))
}

/// This machine's name, as a subject token (`web-1`); `receiver` if it has none.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let token: String = name
        .trim()
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if token.is_empty() {
        "receiver".into()
    } else {
        token
    }
}
