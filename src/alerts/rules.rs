//! The built-in alert rules and their settings: each on by default with a threshold an
//! operator would pick, each tunable or switched off under `[alerts.<name>]` in the
//! config file (keys `enabled`, `for`, `threshold`, `window`, `keep_firing_for`,
//! `repeat`, `min_count`, `severity`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::model::alert::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    NumberDisconnected,
    NumberDegraded,
    StuckMessage,
    FailureRate,
    SilentNumber,
    NoDeliveries,
    RejectedDeliveries,
    JournalFailed,
    ApiDisagrees,
    WebhooksLost,
}

/// What a rule's `threshold` is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Duration,
    Ratio,
    Count,
    None,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Self::NumberDisconnected,
        Self::NumberDegraded,
        Self::StuckMessage,
        Self::FailureRate,
        Self::SilentNumber,
        Self::NoDeliveries,
        Self::RejectedDeliveries,
        Self::JournalFailed,
        Self::ApiDisagrees,
        Self::WebhooksLost,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::NumberDisconnected => "number_disconnected",
            Self::NumberDegraded => "number_degraded",
            Self::StuckMessage => "stuck_message",
            Self::FailureRate => "failure_rate",
            Self::SilentNumber => "silent_number",
            Self::NoDeliveries => "no_deliveries",
            Self::RejectedDeliveries => "rejected_deliveries",
            Self::JournalFailed => "journal_failed",
            Self::ApiDisagrees => "api_disagrees",
            Self::WebhooksLost => "webhooks_lost",
        }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    fn unit(self) -> Unit {
        match self {
            Self::StuckMessage | Self::SilentNumber | Self::NoDeliveries | Self::ApiDisagrees => {
                Unit::Duration
            }
            Self::FailureRate => Unit::Ratio,
            Self::RejectedDeliveries | Self::WebhooksLost => Unit::Count,
            Self::NumberDisconnected | Self::NumberDegraded | Self::JournalFailed => Unit::None,
        }
    }

    /// The defaults: what fires, after how long, how loud.
    pub fn defaults(self) -> RuleSettings {
        let m = |n: u64| Duration::from_secs(60 * n);
        let base = RuleSettings {
            enabled: true,
            hold: Duration::ZERO,
            keep_firing_for: m(1),
            repeat: m(240),
            threshold: 0.0,
            window: m(5),
            min_count: 0,
            severity: Severity::Warning,
        };
        match self {
            Self::NumberDisconnected => RuleSettings {
                hold: m(2),
                severity: Severity::Critical,
                ..base
            },
            Self::NumberDegraded => base,
            // Read receipts are optional, so only queued/sent count, never delivered.
            Self::StuckMessage => RuleSettings {
                threshold: 600.0,
                window: m(24 * 60),
                ..base
            },
            // 1 of 2 must not page anyone: at least `min_count` sends in the window.
            Self::FailureRate => RuleSettings {
                threshold: 0.05,
                min_count: 20,
                ..base
            },
            // Nothing for `threshold` where the usual rate says `min_count` were due, or
            // `min_count` sends with no status at all after `window`.
            Self::SilentNumber => RuleSettings {
                threshold: 1800.0,
                min_count: 3,
                ..base
            },
            Self::NoDeliveries => RuleSettings {
                threshold: 900.0,
                severity: Severity::Critical,
                ..base
            },
            Self::RejectedDeliveries => RuleSettings {
                threshold: 1.0,
                ..base
            },
            Self::JournalFailed => RuleSettings {
                severity: Severity::Critical,
                keep_firing_for: Duration::ZERO,
                ..base
            },
            // `number.disconnected` comes only after the provider's own check: a grace.
            Self::ApiDisagrees => RuleSettings {
                threshold: 120.0,
                ..base
            },
            // Attempts in the provider's log the journal never got, within `window`.
            Self::WebhooksLost => RuleSettings {
                threshold: 1.0,
                window: m(60),
                ..base
            },
        }
    }
}

/// One rule's settings, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSettings {
    pub enabled: bool,
    /// `for`: how long the condition must hold before the alert fires.
    pub hold: Duration,
    /// How long a firing alert stays firing after its condition clears (no flapping).
    pub keep_firing_for: Duration,
    /// A still-firing alert is notified again this often.
    pub repeat: Duration,
    /// Seconds, a ratio (0.05) or a count, as the rule measures it.
    pub threshold: f64,
    pub window: Duration,
    pub min_count: u64,
    pub severity: Severity,
}

impl RuleSettings {
    pub fn threshold_duration(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.threshold * 1000.0) as i64)
    }
}

/// Every rule's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules(BTreeMap<Rule, RuleSettings>);

impl Default for Rules {
    fn default() -> Self {
        Self(Rule::ALL.into_iter().map(|r| (r, r.defaults())).collect())
    }
}

impl Rules {
    pub fn get(&self, rule: Rule) -> &RuleSettings {
        &self.0[&rule]
    }

    pub fn get_mut(&mut self, rule: Rule) -> &mut RuleSettings {
        self.0.get_mut(&rule).expect("every rule has settings")
    }

    /// The enabled rules.
    pub fn enabled(&self) -> impl Iterator<Item = (Rule, &RuleSettings)> {
        self.0
            .iter()
            .filter(|(_, s)| s.enabled)
            .map(|(r, s)| (*r, s))
    }

    /// The defaults with the config file's `[alerts.<name>]` tables applied.
    pub fn from_file(file: &BTreeMap<String, RuleFile>) -> Result<Self, String> {
        let mut rules = Self::default();
        for (name, f) in file {
            let rule = Rule::by_name(name).ok_or_else(|| {
                let known: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
                format!(
                    "[alerts.{name}]: no such rule (rules: {})",
                    known.join(", ")
                )
            })?;
            let s = rules.get_mut(rule);
            let ctx = |key: &str, e: String| format!("[alerts.{name}] {key}: {e}");
            if let Some(e) = f.enabled {
                s.enabled = e;
            }
            if let Some(d) = &f.hold {
                s.hold = duration(d).map_err(|e| ctx("for", e))?;
            }
            if let Some(d) = &f.keep_firing_for {
                s.keep_firing_for = duration(d).map_err(|e| ctx("keep_firing_for", e))?;
            }
            if let Some(d) = &f.repeat {
                s.repeat = duration(d).map_err(|e| ctx("repeat", e))?;
                if s.repeat < Duration::from_secs(60) {
                    return Err(ctx("repeat", "at least 1m".into()));
                }
            }
            if let Some(d) = &f.window {
                s.window = duration(d).map_err(|e| ctx("window", e))?;
                // The windows are read from the store's ten minutes of traffic slots.
                let max = crate::store::stats::ACTIVITY_SECONDS as u64;
                let long = matches!(rule, Rule::StuckMessage | Rule::WebhooksLost);
                if !long && s.window.as_secs() > max {
                    return Err(ctx("window", format!("at most {}m", max / 60)));
                }
            }
            if let Some(n) = f.min_count {
                s.min_count = n;
            }
            if let Some(sev) = f.severity {
                s.severity = sev;
            }
            if let Some(t) = &f.threshold {
                s.threshold = threshold(rule.unit(), t).map_err(|e| ctx("threshold", e))?;
            }
        }
        Ok(rules)
    }
}

/// `[alerts.<name>]` as written in the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub enabled: Option<bool>,
    #[serde(rename = "for")]
    pub hold: Option<Value>,
    pub keep_firing_for: Option<Value>,
    pub repeat: Option<Value>,
    pub threshold: Option<Value>,
    pub window: Option<Value>,
    pub min_count: Option<u64>,
    pub severity: Option<Severity>,
}

/// A number or a string (`"2m"`, `"5%"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
}

/// `"90s"`, `"2m"`, `"1h 30m"`, or a number of seconds.
pub fn duration(v: &Value) -> Result<Duration, String> {
    match v {
        Value::Int(n) if *n >= 0 => Ok(Duration::from_secs(*n as u64)),
        Value::Float(f) if *f >= 0.0 && f.is_finite() => Ok(Duration::from_secs_f64(*f)),
        Value::Text(s) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("{s:?} is not a duration ({e}; try \"90s\", \"2m\", \"4h\")")),
        _ => Err("must be a duration (\"2m\") or a number of seconds".into()),
    }
}

fn threshold(unit: Unit, v: &Value) -> Result<f64, String> {
    match (unit, v) {
        (Unit::Duration, v) => duration(v).map(|d| d.as_secs_f64()),
        (Unit::Ratio, Value::Text(s)) if s.trim().ends_with('%') => {
            let pct: f64 = s
                .trim()
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a percentage (try \"5%\" or 0.05)"))?;
            Ok(pct / 100.0)
        }
        (Unit::Ratio, Value::Float(f)) if (0.0..=1.0).contains(f) => Ok(*f),
        (Unit::Ratio, Value::Int(n @ (0 | 1))) => Ok(*n as f64),
        (Unit::Ratio, _) => Err("a ratio: \"5%\" or 0.05".into()),
        (Unit::Count, Value::Int(n)) if *n >= 1 => Ok(*n as f64),
        (Unit::Count, _) => Err("a count of 1 or more".into()),
        (Unit::None, _) => Err("this rule has no threshold (use `for`)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Rules, String> {
        #[derive(Deserialize)]
        struct F {
            alerts: BTreeMap<String, RuleFile>,
        }
        let f: F = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        Rules::from_file(&f.alerts)
    }

    #[test]
    fn defaults_are_on_and_tunable_per_rule() {
        let rules = parse(
            r#"
            [alerts.number_disconnected]
            for = "30s"
            [alerts.failure_rate]
            threshold = "10%"
            window = "10m"
            min_count = 50
            [alerts.stuck_message]
            threshold = "15m"
            severity = "critical"
            [alerts.no_deliveries]
            enabled = false
            [alerts.rejected_deliveries]
            threshold = 3
            "#,
        )
        .unwrap();
        assert_eq!(
            rules.get(Rule::NumberDisconnected).hold,
            Duration::from_secs(30)
        );
        let f = rules.get(Rule::FailureRate);
        assert_eq!(
            (f.threshold, f.window.as_secs(), f.min_count),
            (0.1, 600, 50)
        );
        assert_eq!(rules.get(Rule::StuckMessage).threshold, 900.0);
        assert_eq!(rules.get(Rule::StuckMessage).severity, Severity::Critical);
        assert!(!rules.get(Rule::NoDeliveries).enabled);
        assert_eq!(rules.get(Rule::RejectedDeliveries).threshold, 3.0);
        assert_eq!(rules.enabled().count(), Rule::ALL.len() - 1);
        // Untouched rules keep their defaults.
        assert_eq!(
            rules.get(Rule::SilentNumber),
            &Rule::SilentNumber.defaults()
        );
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("[alerts.stuck]\nthreshold = \"1m\"").unwrap_err();
        assert!(
            e.contains("no such rule") && e.contains("stuck_message"),
            "{e}"
        );
        let e = parse("[alerts.failure_rate]\nthreshold = \"lots\"").unwrap_err();
        assert!(e.contains("[alerts.failure_rate] threshold"), "{e}");
        let e = parse("[alerts.failure_rate]\nwindow = \"1h\"").unwrap_err();
        assert!(e.contains("at most 10m"), "{e}");
        let e = parse("[alerts.number_disconnected]\nfor = \"soon\"").unwrap_err();
        assert!(e.contains("not a duration"), "{e}");
        let e = parse("[alerts.journal_failed]\nthreshold = 3").unwrap_err();
        assert!(e.contains("no threshold"), "{e}");
        assert!(parse("[alerts.failure_rate]\nwhen = 3").is_err());
    }
}
