//! The alert settings: `--no-alerts`, `--alert-exec CMD` and `--alert-webhook URL`
//! (each repeatable; `alert_exec`/`alert_webhook` in the file, a string or a list), and
//! the rules' `[alerts.<name>]` tables.

use std::collections::BTreeMap;

use color_eyre::eyre::{Result, bail, eyre};
use serde::Deserialize;

use crate::alerts::rules::{RuleFile, Rules};
use crate::alerts::{AlertSettings, Rule};
use crate::cli::Cli;

/// A string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// What the file says about alerts.
#[derive(Debug, Default)]
pub struct FileAlerts {
    pub no_alerts: Option<bool>,
    pub exec: Option<OneOrMany>,
    pub webhook: Option<OneOrMany>,
    pub exec_timeout: Option<u64>,
    pub rules: Option<BTreeMap<String, RuleFile>>,
}

/// Flags over the file over the defaults. The demo has traffic of its own and no one
/// waiting on it: `no_deliveries` is off there unless the file turns it on.
pub fn resolve(cli: &Cli, file: FileAlerts) -> Result<AlertSettings> {
    let r = &cli.receiver;
    let mut s = AlertSettings::default();
    let demo_default = cli.demo
        && !file
            .rules
            .as_ref()
            .is_some_and(|rules| rules.contains_key(Rule::NoDeliveries.name()));
    s.rules = Rules::from_file(&file.rules.unwrap_or_default())
        .map_err(|e| eyre!("in config file: {e}"))?;
    if demo_default {
        s.rules.get_mut(Rule::NoDeliveries).enabled = false;
    }
    s.enabled = !(r.no_alerts || file.no_alerts.unwrap_or(false));
    s.targets.exec = if r.alert_exec.is_empty() {
        file.exec.map(OneOrMany::into_vec).unwrap_or_default()
    } else {
        r.alert_exec.clone()
    };
    s.targets.webhooks = if r.alert_webhook.is_empty() {
        file.webhook.map(OneOrMany::into_vec).unwrap_or_default()
    } else {
        r.alert_webhook.clone()
    };
    if let Some(secs) = file.exec_timeout {
        s.targets.exec_timeout = std::time::Duration::from_secs(secs.max(1));
    }
    if s.targets.exec.iter().any(|c| c.trim().is_empty()) {
        bail!("--alert-exec / alert_exec: an empty command");
    }
    for url in &s.targets.webhooks {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            // Not the URL itself: it may carry a token.
            bail!(
                "--alert-webhook / alert_webhook must be an http:// or https:// URL: {}",
                crate::sanitize::line(url.split(['?', '@']).next().unwrap_or(""), 40)
            );
        }
    }
    Ok(s)
}
