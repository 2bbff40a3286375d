//! The reconciler's settings: `--api-poll`, `--reconcile-after` (durations: `"60s"`,
//! `"2m"`, or seconds) and `--api-budget` (requests a minute), flags over the file.

use color_eyre::eyre::{Result, eyre};

use crate::alerts::rules::{Value, duration};
use crate::cli::Cli;
use crate::reconcile::ReconcileSettings;

/// What the file says.
#[derive(Debug, Default)]
pub struct FileReconcile {
    pub api_poll: Option<Value>,
    pub reconcile_after: Option<Value>,
    pub api_budget: Option<u32>,
    pub no_reconcile: Option<bool>,
}

pub fn resolve(cli: &Cli, file: FileReconcile) -> Result<ReconcileSettings> {
    let r = &cli.receiver;
    let mut s = ReconcileSettings {
        enabled: !(r.no_reconcile || file.no_reconcile.unwrap_or(false)),
        ..ReconcileSettings::default()
    };
    let pick = |flag: &Option<String>, file: Option<Value>, name: &str| {
        let v = match flag {
            Some(text) => Some(Value::Text(text.clone())),
            None => file,
        };
        v.map(|v| duration(&v).map_err(|e| eyre!("{name}: {e}")))
            .transpose()
    };
    if let Some(d) = pick(&r.api_poll, file.api_poll, "--api-poll / api_poll")? {
        s.api_poll = d.max(std::time::Duration::from_secs(5));
    }
    if let Some(d) = pick(
        &r.reconcile_after,
        file.reconcile_after,
        "--reconcile-after / reconcile_after",
    )? {
        s.reconcile_after = d.max(std::time::Duration::from_secs(1));
    }
    if let Some(n) = r.api_budget.or(file.api_budget) {
        if n == 0 {
            return Err(eyre!(
                "--api-budget / api_budget must be at least 1 request a minute"
            ));
        }
        s.budget = n;
    }
    Ok(s)
}
