//! Settings resolved from flags, then environment variables, then the TOML file, then
//! defaults — each setting on its own, so a file can set the journal while a flag moves
//! the listen address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Context, Result, bail, eyre};
use serde::Deserialize;

mod alerts;
mod nats;
mod reconcile;

use crate::alerts::AlertSettings;
use crate::cli::{Cli, parse_size};
use crate::secret::Secret;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_BASE_URL: &str = "https://pilotstatus.com.br";
pub const DEFAULT_SEGMENT: u64 = 64 << 20;

pub const ENV_SECRET: &str = "PILOT_STATUS_WEBHOOK_SECRET";
pub const ENV_SECRET_PREVIOUS: &str = "PILOT_STATUS_WEBHOOK_SECRET_PREVIOUS";
pub const ENV_API_KEY: &str = "PILOT_STATUS_API_KEY";
pub const ENV_BASE_URL: &str = "PILOT_STATUS_BASE_URL";
pub const ENV_CONFIG: &str = "PILOTWATCH_CONFIG";
pub use crate::attach::ENV_TOKEN;
/// Records `pilotwatch attach` loads first, unless told otherwise.
pub const DEFAULT_HISTORY: u64 = 10_000;

/// The config file: the flags' settings under snake_case names, plus secrets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub path: Option<String>,
    pub journal: Option<PathBuf>,
    pub no_journal: Option<bool>,
    pub max_body: Option<Size>,
    pub segment_size: Option<Size>,
    pub max_connections: Option<usize>,
    pub request_timeout: Option<u64>,
    pub capacity: Option<usize>,
    pub webhook_secret: Option<Secret>,
    pub webhook_secret_previous: Option<Secret>,
    pub api_key: Option<Secret>,
    pub base_url: Option<String>,
    pub api_timeout: Option<u64>,
    pub forward_to: Option<String>,
    pub attach_socket: Option<PathBuf>,
    pub no_attach: Option<bool>,
    pub attach_listen: Option<SocketAddr>,
    pub attach_token: Option<Secret>,
    pub attach_buffer: Option<usize>,
    pub metrics_listen: Option<SocketAddr>,
    /// Records `pilotwatch attach` loads first.
    pub history: Option<u64>,
    pub no_alerts: Option<bool>,
    /// A command (or a list) run with each alert as JSON on stdin.
    pub alert_exec: Option<alerts::OneOrMany>,
    /// A URL (or a list) POSTed Alertmanager's webhook format.
    pub alert_webhook: Option<alerts::OneOrMany>,
    /// Seconds an `alert_exec` command may run before it is killed.
    pub alert_exec_timeout: Option<u64>,
    /// Reconciliation with the provider's API: how often, after how long, how much.
    pub api_poll: Option<crate::alerts::rules::Value>,
    pub reconcile_after: Option<crate::alerts::rules::Value>,
    pub api_budget: Option<u32>,
    pub no_reconcile: Option<bool>,
    /// `[alerts.<name>]`: the rules' settings.
    pub alerts: Option<std::collections::BTreeMap<String, crate::alerts::rules::RuleFile>>,
    /// The dashboard does not ring the bell when an alert fires.
    pub no_bell: Option<bool>,
    /// `false`: no store snapshot is written beside the journal.
    pub snapshot: Option<bool>,
    pub nats: Option<String>,
    pub nats_creds: Option<PathBuf>,
    pub nats_receiver: Option<String>,
    pub nats_replicas: Option<usize>,
}

/// A size written as a number of bytes or a string with a unit (`"1MiB"`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(SizeText),
}

#[derive(Debug, Clone, Copy)]
pub struct SizeText(u64);

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s)
            .map(SizeText)
            .map_err(serde::de::Error::custom)
    }
}

impl Size {
    fn bytes(self) -> u64 {
        match self {
            Self::Bytes(n) | Self::Text(SizeText(n)) => n,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub path: Option<String>,
    /// `None`: `--no-journal`.
    pub journal: Option<PathBuf>,
    pub max_body: usize,
    /// Connections served at once (`--max-connections`).
    pub max_connections: usize,
    /// Headers, then the body, must each arrive within this (`--request-timeout`).
    pub request_timeout: std::time::Duration,
    pub segment_size: u64,
    pub capacity: usize,
    /// Current secret first; a previous one during rotation.
    pub secrets: Vec<Secret>,
    pub api_key: Option<Secret>,
    pub base_url: String,
    pub api_timeout: std::time::Duration,
    pub forward_to: Option<String>,
    /// `--respond`/`--respond-delay`: the answer to accepted deliveries, after the write.
    pub respond: Option<u16>,
    pub respond_delay: std::time::Duration,
    pub headless: bool,
    pub json: bool,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// The attach socket a service opens (and where a dashboard looks for one);
    /// `None`: `--no-attach`, or no journal and no `--attach-socket`.
    pub attach_socket: Option<PathBuf>,
    /// TCP attach (`--attach-listen`); the service refuses to start it without a token.
    pub attach_listen: Option<SocketAddr>,
    /// `PILOTWATCH_ATTACH_TOKEN`: what TCP attach clients must present.
    pub attach_token: Option<Secret>,
    /// Records an attached client may fall behind before it is dropped.
    pub attach_buffer: usize,
    /// `--metrics-listen`: `/metrics` is served there, and no longer on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Records `pilotwatch attach` loads before going live.
    pub history: u64,
    /// The rules the service evaluates and where alerts are sent.
    pub alerts: AlertSettings,
    /// Reconciling with the provider's API (with a key).
    pub reconcile: crate::reconcile::ReconcileSettings,
    /// `--no-bell`: a dashboard stays quiet when an alert fires.
    pub no_bell: bool,
    /// Write the store's snapshot beside the journal (`--no-snapshot`: no).
    pub snapshot: bool,
    /// `--nats`: the outbox publishes the journal there (`None`: one box, no NATS).
    pub nats: Option<crate::outbox::OutboxSettings>,
}

impl Settings {
    pub fn is_loopback(&self) -> bool {
        self.listen.ip().is_loopback()
    }

    /// The REST client, when a key is configured.
    pub fn api(&self) -> Result<Option<crate::api::ApiClient>> {
        let Some(key) = &self.api_key else {
            return Ok(None);
        };
        let client = crate::api::ApiClient::new(&self.base_url, key.clone(), self.api_timeout)
            .wrap_err("cannot build the HTTP client")?;
        Ok(Some(client))
    }

    /// A receiver for the integration tests and benches: loopback, any free port, a
    /// journal in `dir`, headless, nothing else on (no secret, key, forwarding or attach
    /// socket): each turns on what it exercises.
    #[doc(hidden)]
    pub fn for_tests(dir: &Path) -> Self {
        use std::time::Duration;
        Self {
            listen: "127.0.0.1:0".parse().expect("valid"),
            path: None,
            journal: Some(dir.join("journal.jsonl")),
            max_body: 1 << 20,
            max_connections: 1024,
            request_timeout: Duration::from_secs(10),
            segment_size: DEFAULT_SEGMENT,
            capacity: 100_000,
            secrets: vec![],
            api_key: None,
            // Discard: nothing answers there.
            base_url: "http://127.0.0.1:9".into(),
            api_timeout: Duration::from_secs(10),
            forward_to: None,
            respond: None,
            respond_delay: Duration::ZERO,
            headless: true,
            json: false,
            config_file: None,
            attach_socket: None,
            attach_listen: None,
            attach_token: None,
            attach_buffer: 8192,
            metrics_listen: None,
            history: DEFAULT_HISTORY,
            // Off: an alert record would shift the seqs tests count on; the tests of
            // alerts turn them on.
            alerts: AlertSettings {
                enabled: false,
                ..AlertSettings::default()
            },
            // Off: its reads would show in the fake API's requests; its tests turn it on.
            reconcile: crate::reconcile::ReconcileSettings {
                enabled: false,
                ..Default::default()
            },
            no_bell: false,
            snapshot: true,
            nats: None,
        }
    }
}

/// Resolve with the process environment and the default config file location.
pub fn load(cli: &Cli) -> Result<Settings> {
    for k in [ENV_SECRET, ENV_SECRET_PREVIOUS] {
        // Read as absent, such a secret would switch signature checking off unnoticed.
        if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(k) {
            bail!("{k} is not valid UTF-8: refusing to start (signatures could not be checked)");
        }
    }
    // Set-but-empty is kept: `resolve` refuses an empty secret instead of ignoring it.
    let env = |k: &str| std::env::var(k).ok();
    let default_file = dirs::config_dir().map(|d| d.join("pilotwatch").join("config.toml"));
    resolve(cli, env, default_file.as_deref())
}

/// Resolve from explicit sources (tests pass their own environment). A variable set to
/// the empty string counts as unset, except a webhook secret's: that is an error.
pub fn resolve(
    cli: &Cli,
    raw_env: impl Fn(&str) -> Option<String>,
    default_file: Option<&Path>,
) -> Result<Settings> {
    let env = |k: &str| raw_env(k).filter(|v| !v.is_empty());
    // From an env file a secret often comes with a trailing newline: not part of it.
    let secret_env = |k: &str| env(k).map(|v| Secret::new(v.trim()));
    let explicit = cli
        .config
        .clone()
        .or_else(|| env(ENV_CONFIG).map(PathBuf::from));
    let (file, config_file) = match (&explicit, default_file) {
        (Some(path), _) => (read_file(path)?, Some(path.clone())),
        (None, Some(path)) if path.exists() => (read_file(path)?, Some(path.to_owned())),
        _ => (FileConfig::default(), None),
    };

    let nats = nats::resolve(cli, nats::FileNats::of(&file), env)?;
    let listen = match cli.receiver.listen.or(file.listen) {
        Some(l) => l,
        None => DEFAULT_LISTEN.parse().expect("valid default"),
    };
    let no_journal = cli.receiver.no_journal
        || (cli.receiver.journal.is_none() && file.no_journal.unwrap_or(false));
    let journal = (!no_journal).then(|| {
        cli.receiver
            .journal
            .clone()
            .or(file.journal.clone())
            .unwrap_or_else(crate::journal::default_path)
    });
    let max_body = cli
        .receiver
        .max_body
        .or(file.max_body.map(Size::bytes))
        .unwrap_or(crate::receiver::DEFAULT_MAX_BODY as u64);
    if max_body == 0 {
        bail!("max_body must be at least 1 byte");
    }
    let path = cli.receiver.path.clone().or(file.path.clone());
    if let Some(p) = &path
        && !p.starts_with('/')
    {
        bail!("--path must start with '/': {p:?}");
    }
    let secrets = webhook_secrets(
        &raw_env,
        [file.webhook_secret, file.webhook_secret_previous],
        config_file.as_deref(),
    )?;

    let no_attach = cli.receiver.no_attach
        || (cli.receiver.attach_socket.is_none() && file.no_attach.unwrap_or(false));
    let attach_socket = if no_attach {
        None
    } else {
        cli.receiver
            .attach_socket
            .clone()
            .or(file.attach_socket.clone())
            .or_else(|| {
                journal
                    .as_deref()
                    .map(|j| crate::attach::default_socket(Some(j)))
            })
    };

    let reconcile = reconcile::resolve(
        cli,
        reconcile::FileReconcile {
            api_poll: file.api_poll.clone(),
            reconcile_after: file.reconcile_after.clone(),
            api_budget: file.api_budget,
            no_reconcile: file.no_reconcile,
        },
    )?;
    let alerts = alerts::resolve(
        cli,
        alerts::FileAlerts {
            no_alerts: file.no_alerts,
            exec: file.alert_exec,
            webhook: file.alert_webhook,
            exec_timeout: file.alert_exec_timeout,
            rules: file.alerts,
        },
    )?;

    Ok(Settings {
        nats,
        alerts,
        reconcile,
        attach_socket,
        attach_listen: cli.receiver.attach_listen.or(file.attach_listen),
        attach_token: secret_env(ENV_TOKEN)
            .or(file.attach_token)
            .filter(|s| !s.expose().is_empty()),
        attach_buffer: cli
            .receiver
            .attach_buffer
            .or(file.attach_buffer)
            .unwrap_or(crate::attach::server::DEFAULT_BUFFER)
            .max(16),
        metrics_listen: cli.receiver.metrics_listen.or(file.metrics_listen),
        history: file.history.unwrap_or(DEFAULT_HISTORY),
        no_bell: cli.no_bell || file.no_bell.unwrap_or(false),
        snapshot: !cli.receiver.no_snapshot && file.snapshot.unwrap_or(true),
        listen,
        path,
        journal,
        max_body: usize::try_from(max_body).unwrap_or(usize::MAX),
        max_connections: cli
            .receiver
            .max_connections
            .or(file.max_connections)
            .unwrap_or(crate::receiver::server::Limits::default().max_connections)
            .max(1),
        request_timeout: std::time::Duration::from_secs(
            cli.receiver
                .request_timeout
                .or(file.request_timeout)
                .unwrap_or(10)
                .max(1),
        ),
        segment_size: cli
            .receiver
            .segment_size
            .or(file.segment_size.map(Size::bytes))
            .unwrap_or(DEFAULT_SEGMENT)
            .max(4096),
        capacity: cli
            .receiver
            .capacity
            .or(file.capacity)
            .unwrap_or(crate::store::DEFAULT_CAPACITY)
            .max(1),
        secrets,
        api_key: secret_env(ENV_API_KEY)
            .or(file.api_key)
            .filter(|s| !s.expose().is_empty()),
        base_url: env(ENV_BASE_URL)
            .or(file.base_url)
            .unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        api_timeout: std::time::Duration::from_secs(
            cli.receiver
                .api_timeout
                .or(file.api_timeout)
                .unwrap_or(10)
                .max(1),
        ),
        forward_to: match cli.receiver.forward_to.clone().or(file.forward_to) {
            Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                bail!("--forward-to must be an http:// or https:// URL: {u:?}")
            }
            other => other,
        },
        respond: cli.receiver.respond,
        respond_delay: std::time::Duration::from_millis(cli.receiver.respond_delay.unwrap_or(0)),
        headless: cli.headless || matches!(cli.command, Some(crate::cli::Command::Serve(_))),
        json: cli.receiver.json,
        config_file,
    })
}

/// The current secret, then the previous one, each from its variable or else the file.
/// An empty or blank one, wherever given, is refused: left out, it used to switch
/// signature checking off while start-up said no secret was set.
fn webhook_secrets(
    raw_env: impl Fn(&str) -> Option<String>,
    from_file: [Option<Secret>; 2],
    config_file: Option<&Path>,
) -> Result<Vec<Secret>> {
    const REMEDY: &str = "signatures would not be checked; set the secret, or leave it out to accept unsigned deliveries";
    let mut out = Vec::new();
    let names = [
        (ENV_SECRET, "webhook_secret"),
        (ENV_SECRET_PREVIOUS, "webhook_secret_previous"),
    ];
    for ((var, key), in_file) in names.into_iter().zip(from_file) {
        let in_env = raw_env(var);
        if in_env.as_deref().is_some_and(|v| v.trim().is_empty()) {
            bail!("{var} is set but empty or blank: {REMEDY}");
        }
        if in_file.as_ref().is_some_and(|s| s.expose().is_empty()) {
            let file = config_file.map_or(String::new(), |f| format!(" {}", f.display()));
            bail!("in config file{file}: {key} is empty or blank: {REMEDY}");
        }
        out.extend(in_env.map(|v| Secret::new(v.trim())).or(in_file));
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("reading config file {}", path.display()))?;
    // toml's own Display quotes the offending line, which may hold a secret: say where,
    // and what was expected, but never echo the text.
    toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(":{line}:{col}")
        });
        eyre!("in config file {}{at}: {}", path.display(), e.message())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::Parser;

    use super::*;

    fn settings(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        if let Some(f) = file {
            std::fs::write(&path, f).unwrap();
        }
        let cli = Cli::try_parse_from(std::iter::once("pilotwatch").chain(args.iter().copied()))
            .unwrap()
            .normalized();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&cli, |k| env.get(k).cloned(), Some(&path))
    }

    #[test]
    fn defaults() {
        let s = settings(&[], &[], None).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(s.max_body, 1 << 20);
        assert!(s.secrets.is_empty());
        assert!(s.journal.unwrap().ends_with("pilotwatch/journal.jsonl"));
        assert_eq!(s.base_url, "https://pilotstatus.com.br");
    }

    #[test]
    fn no_bell_from_the_flag_or_the_file() {
        assert!(!settings(&[], &[], None).unwrap().no_bell);
        assert!(settings(&["--no-bell"], &[], None).unwrap().no_bell);
        assert!(
            settings(&["attach", "--no-bell"], &[], None)
                .unwrap()
                .no_bell
        );
        assert!(
            settings(&[], &[], Some("no_bell = true\n"))
                .unwrap()
                .no_bell
        );
    }

    #[test]
    fn flags_over_env_over_file() {
        let file = "listen = \"127.0.0.1:4000\"\nmax_body = \"2MiB\"\nwebhook_secret = \"from-file\"\napi_key = \"ps_file\"\njournal = \"/tmp/f.jsonl\"\n";
        let s = settings(&[], &[], Some(file)).unwrap();
        assert_eq!((s.listen.port(), s.max_body), (4000, 2 << 20));
        assert_eq!(s.secrets[0].expose(), "from-file");
        let s = settings(
            &["--listen", "127.0.0.1:5000", "--max-body", "10"],
            &[(ENV_SECRET, "from-env"), (ENV_API_KEY, "ps_env")],
            Some(file),
        )
        .unwrap();
        assert_eq!((s.listen.port(), s.max_body), (5000, 10));
        assert_eq!(s.secrets[0].expose(), "from-env");
        assert_eq!(s.api_key.unwrap().expose(), "ps_env");
        assert_eq!(s.journal.unwrap(), PathBuf::from("/tmp/f.jsonl"));
        let s = settings(&["--no-journal"], &[], Some(file)).unwrap();
        assert!(s.journal.is_none());
    }

    #[test]
    fn two_secrets_for_rotation() {
        let s = settings(
            &[],
            &[(ENV_SECRET, "new"), (ENV_SECRET_PREVIOUS, "old")],
            None,
        )
        .unwrap();
        assert_eq!(
            s.secrets.iter().map(Secret::expose).collect::<Vec<_>>(),
            vec!["new", "old"]
        );
    }

    #[test]
    fn config_errors_never_echo_a_secret() {
        for file in [
            "webhok_secret = \"whsec_canary_123456\"\n",
            "webhook_secret = whsec_canary_123456\n",
            "api_key = 123456789012345\n",
        ] {
            let err = format!("{:?}", settings(&[], &[], Some(file)).unwrap_err());
            assert!(
                !err.contains("canary") && !err.contains("123456789012345"),
                "{err}"
            );
            assert!(err.contains(":1:"), "says where: {err}");
        }
    }

    #[test]
    fn secrets_lose_surrounding_whitespace() {
        let s = settings(&[], &[(ENV_SECRET, "abc\n")], None).unwrap();
        assert_eq!(s.secrets[0].expose(), "abc");
        let s = settings(&[], &[], Some("webhook_secret = \" def \"\n")).unwrap();
        assert_eq!(s.secrets[0].expose(), "def");
    }

    #[test]
    fn an_empty_or_blank_webhook_secret_is_refused_with_its_name() {
        for var in [ENV_SECRET, ENV_SECRET_PREVIOUS] {
            for value in ["", " ", "\n", " \t\r\n"] {
                // Beside a good file secret too: the variable wins, so it must not be empty.
                for file in [None, Some("webhook_secret = \"good\"\n")] {
                    let err = settings(&[], &[(var, value)], file)
                        .unwrap_err()
                        .to_string();
                    assert!(err.starts_with(var) && err.contains("empty"), "{err}");
                    assert!(!err.contains('\n'), "one line: {err:?}");
                }
            }
        }
        for (key, file) in [
            ("webhook_secret", "webhook_secret = \"\"\n"),
            ("webhook_secret", "webhook_secret = \"  \\n\"\n"),
            (
                "webhook_secret_previous",
                "webhook_secret = \"a\"\nwebhook_secret_previous = \" \"\n",
            ),
        ] {
            for env in [&[][..], &[(ENV_SECRET, "from-env")][..]] {
                let err = settings(&[], env, Some(file)).unwrap_err().to_string();
                assert!(
                    err.starts_with("in config file") && err.contains(&format!(": {key} is empty")),
                    "{err}"
                );
            }
        }
        // Unset stays allowed: no secret, signatures unchecked (and said so at start).
        assert!(settings(&[], &[], None).unwrap().secrets.is_empty());
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_that_names_it() {
        let err = settings(&[], &[], Some("lisen = \"x\"\n")).unwrap_err();
        assert!(format!("{err:?}").contains("lisen"), "{err:?}");
    }
}
