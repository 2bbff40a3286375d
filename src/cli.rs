//! Command-line flags. Every setting is optional here: [`crate::config`] fills the gaps
//! from the environment, then the config file, then defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "pilotwatch",
    version,
    about = "Receive, journal and watch Pilot Status (WhatsApp API) webhooks",
    long_about = "Receive, journal and watch Pilot Status (WhatsApp API) webhooks.\n\n\
        Every delivery is verified (when a webhook secret is set), written durably to a JSONL \
        journal before it is acknowledged, and correlated: message lifecycles, numbers, calls.\n\n\
        Settings come from flags, then environment variables, then the TOML config file.",
    after_help = "Environment:\n  \
        PILOT_STATUS_WEBHOOK_SECRET           webhook signing secret (signatures are checked when set)\n  \
        PILOT_STATUS_WEBHOOK_SECRET_PREVIOUS  the previous secret, accepted too while rotating\n  \
        PILOT_STATUS_API_KEY                  REST API key (for replies)\n  \
        PILOT_STATUS_BASE_URL                 REST API base URL (default https://pilotstatus.com.br)\n  \
        PILOTWATCH_CONFIG                     config file (default: <config dir>/pilotwatch/config.toml)\n  \
        PILOTWATCH_ATTACH_TOKEN               token for TCP attach (--attach-listen; attach tcp://…)\n\n\
        Secrets are never taken as flags (they would show in `ps`), never printed in full, never journaled."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The receiver's flags, for plain `pilotwatch` (or `pilotwatch serve`'s own).
    #[command(flatten)]
    pub receiver: ReceiverArgs,

    /// Built-in demo traffic: a simulator posts realistic, signed deliveries through the
    /// receiver, and replies go to a fake API that answers with their webhooks. Listens
    /// on a free port and keeps no journal unless --listen/--journal say otherwise.
    #[arg(long)]
    pub demo: bool,

    /// With --demo: new events per second [default: 2].
    #[arg(long, value_name = "N", requires = "demo")]
    pub demo_rate: Option<f64>,

    /// Run without the dashboard: one line per delivery on stdout (the same as
    /// `pilotwatch serve`).
    #[arg(long)]
    pub headless: bool,

    /// The dashboard does not ring the terminal bell when an alert fires.
    #[arg(long)]
    pub no_bell: bool,

    /// TOML config file with the same settings (snake_case keys).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

/// How the receiver runs: the dashboard's (`pilotwatch`) and the service's (`serve`).
/// Other subcommands do not take these, so their `--help` lists only their own.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReceiverArgs {
    /// Address to listen on [default: 127.0.0.1:3000]. Binding beyond loopback without a
    /// webhook secret is allowed but warned about: anyone could post deliveries.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Take deliveries only on this path (e.g. /hooks/whatsapp) [default: any path].
    /// POSTs elsewhere answer 404 and are recorded as rejected.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// Journal file (JSONL; full segments roll beside it)
    /// [default: ~/.local/share/pilotwatch/journal.jsonl, or $XDG_DATA_HOME/…].
    #[arg(long, value_name = "PATH", conflicts_with = "no_journal")]
    pub journal: Option<PathBuf>,

    /// Keep no journal: deliveries live only in memory and are lost on exit.
    #[arg(long)]
    pub no_journal: bool,

    /// Write no snapshot of the store beside the journal (`<journal>.snapshot`, which
    /// makes a restart replay only what came after it); one already there is still used.
    #[arg(long)]
    pub no_snapshot: bool,

    /// The attach socket dashboards connect to (0600, owner only)
    /// [default: beside the journal: <journal>.sock].
    #[arg(long, value_name = "PATH", conflicts_with = "no_attach")]
    pub attach_socket: Option<PathBuf>,

    /// Open no attach socket: no other dashboard can watch this one.
    #[arg(long)]
    pub no_attach: bool,

    /// Also take attach clients over TCP on this address. Requires
    /// PILOTWATCH_ATTACH_TOKEN (clients send it; it travels in clear: use a tunnel or a
    /// private network).
    #[arg(long, value_name = "ADDR")]
    pub attach_listen: Option<SocketAddr>,

    /// Records an attached client may fall behind before it is dropped (it reconnects
    /// and catches up) [default: 8192].
    #[arg(long, value_name = "N")]
    pub attach_buffer: Option<usize>,

    /// Serve GET /metrics (Prometheus) on this address instead of on --listen, e.g. a
    /// private one when the receiver faces the internet.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Largest body accepted, in bytes or with a unit (512KiB, 1MiB) [default: 1MiB].
    /// Larger ones answer 413 and are recorded (truncated) as rejected.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_body: Option<u64>,

    /// Seconds a sender has to deliver a request's headers, and again its body; a
    /// slower one is cut off (a body: 408, recorded as rejected) [default: 10].
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,

    /// Connections served at once; past it a new one is answered 503 with Retry-After
    /// (the provider retries) [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Journal segment size before it rolls to a new file [default: 64MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub segment_size: Option<u64>,

    /// Deliveries kept in memory (older ones are evicted; the journal keeps all)
    /// [default: 100000].
    #[arg(long, value_name = "N")]
    pub capacity: Option<usize>,

    /// With --headless: print NDJSON (the journal's shape) instead of text lines.
    #[arg(long)]
    pub json: bool,

    /// Also POST every accepted delivery to your app, byte for byte with its original
    /// content-type and signature. Never delays the answer to the provider.
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,

    /// Answer accepted deliveries with this status instead of 200 (after the journal
    /// write), to watch how the provider retries.
    #[arg(long, value_name = "STATUS", value_parser = clap::value_parser!(u16).range(100..600))]
    pub respond: Option<u16>,

    /// Wait this long before answering accepted deliveries (after the journal write).
    #[arg(long, value_name = "MS")]
    pub respond_delay: Option<u64>,

    /// Seconds to wait for the REST API before giving up on a send [default: 10].
    #[arg(long, value_name = "SECS")]
    pub api_timeout: Option<u64>,

    /// Run CMD (through `sh -c`) on each alert that fires, repeats or resolves, with the
    /// alert as JSON on stdin; its exit status and stderr are journaled. Repeatable.
    #[arg(long, value_name = "CMD")]
    pub alert_exec: Vec<String>,

    /// POST each alert that fires, repeats or resolves to URL in Alertmanager's webhook
    /// format (retried with backoff). Repeatable.
    #[arg(long, value_name = "URL")]
    pub alert_webhook: Vec<String>,

    /// Evaluate no alert rules (the dashboard still shows alerts already journaled).
    #[arg(long)]
    pub no_alerts: bool,

    /// With an API key: how often to read numbers, their status and the provider's
    /// webhook log [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub api_poll: Option<String>,

    /// With an API key: look up an outbound message still queued/sent after this
    /// [default: 2m].
    #[arg(long, value_name = "DURATION")]
    pub reconcile_after: Option<String>,

    /// Requests a minute to the provider's API, at most [default: 60].
    #[arg(long, value_name = "N")]
    pub api_budget: Option<u32>,

    /// Never read the provider's side (numbers, stuck messages, the webhook log), even
    /// with an API key.
    #[arg(long)]
    pub no_reconcile: bool,

    /// Publish every journaled record to NATS JetStream after its ack (an outbox: a
    /// NATS outage never costs a delivery): nats://HOST:4222[/STREAM], nats+tls://…
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,

    /// A NATS credentials file (JWT and NKey seed) [env: NATS_CREDS].
    #[arg(long, value_name = "FILE")]
    pub nats_creds: Option<std::path::PathBuf>,

    /// This receiver's name on the stream (subjects, headers) [default: the host name].
    #[arg(long, value_name = "NAME")]
    pub nats_receiver: Option<String>,

    /// Copies of the stream when this receiver creates it (3 on a 3-node cluster)
    /// [default: 1].
    #[arg(long, value_name = "N")]
    pub nats_replicas: Option<usize>,
}

// Parsed once per run: a boxed `Serve` would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run as a service: the receiver and the journal, one line per delivery on stdout,
    /// and the attach socket that dashboards (`pilotwatch attach`) connect to. Keeps
    /// running when the terminal goes away; stop it with SIGTERM or Ctrl-C.
    Serve(ReceiverArgs),
    /// Open the dashboard on a running `pilotwatch serve`: its recent history, then live.
    /// Replies go out through the service (which holds the API key). `q` leaves the
    /// service running.
    Attach(AttachArgs),
    /// Send a text through the REST API (POST /v1/messages/send), print the provider's
    /// 202 answer as JSON, and exit non-zero on failure. Uses PILOT_STATUS_API_KEY and
    /// PILOT_STATUS_BASE_URL. Not journaled (a running pilotwatch owns the journal).
    Reply(ReplyArgs),
    /// POST a realistic sample of any event (or a JSON file) to a webhook URL, signed
    /// when a secret is given, and print the answer. Useful against pilotwatch itself
    /// and against your own endpoint.
    Send(SendArgs),
    /// Open a journal (or an export) read-only in the dashboard: no receiver, nothing
    /// sent, for looking at yesterday's traffic.
    Open {
        /// The journal's active segment (rolled segments beside it are read too) or an
        /// exported NDJSON file.
        journal: PathBuf,
        /// Deliveries kept in memory (the newest; older ones are counted, not shown)
        /// [default: 100000].
        #[arg(long, value_name = "N")]
        capacity: Option<usize>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct AttachArgs {
    /// The service's attach socket, tcp://HOST:PORT (with PILOTWATCH_ATTACH_TOKEN), or
    /// nats://HOST:4222[/STREAM] for every receiver publishing there (`serve --nats`)
    /// [default: the socket beside the journal, as `serve` makes it].
    #[arg(value_name = "SOCKET|URL")]
    pub target: Option<String>,
    /// The newest records to load first [default: 10000].
    #[arg(long, value_name = "N")]
    pub history: Option<u64>,
    /// Do not ring the terminal bell when an alert fires.
    #[arg(long)]
    pub no_bell: bool,
    /// With nats://…: a NATS credentials file (JWT and NKey seed) [env: NATS_CREDS].
    #[arg(long, value_name = "FILE")]
    pub nats_creds: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// An event name (see --list) or a JSON file to send as is.
    #[arg(required_unless_present = "list")]
    pub what: Option<String>,
    /// Where to POST [default: http://127.0.0.1:3000/].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Sign with this secret [default: $PILOT_STATUS_WEBHOOK_SECRET when set].
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Override a field: --set data.content=Hello (JSON values are parsed: --set data.fromMe=false).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Name the events there are samples of.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReplyArgs {
    /// The contact, in E.164 (+5511…).
    #[arg(
        long,
        value_name = "E164",
        required_unless_present = "group",
        conflicts_with = "group"
    )]
    pub to: Option<String>,
    /// A group id (…@g.us) instead of a contact.
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
    /// The message text.
    #[arg(long)]
    pub text: String,
    /// The number to send from (x-whatsapp-number-id), for a tenant-wide key.
    #[arg(long, value_name = "ID")]
    pub number_id: Option<String>,
    /// Reuse an idempotency key to retry a send safely [default: a fresh one].
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Seconds to wait for the REST API before giving up [default: 10].
    #[arg(long, value_name = "SECS")]
    pub api_timeout: Option<u64>,
}

impl Cli {
    /// Parse the command line, with a subcommand's own settings where the rest of the
    /// program reads them (`serve --listen X` as `--listen X`).
    pub fn parse_args() -> Self {
        use clap::Parser as _;
        Self::parse().normalized()
    }

    pub fn normalized(mut self) -> Self {
        match &self.command {
            Some(Command::Serve(own)) => {
                self.receiver = own.clone().or(std::mem::take(&mut self.receiver));
            }
            Some(Command::Reply(r)) => {
                self.receiver.api_timeout = r.api_timeout.or(self.receiver.api_timeout);
            }
            Some(Command::Open { capacity, .. }) => {
                self.receiver.capacity = capacity.or(self.receiver.capacity);
            }
            Some(Command::Attach(a)) => self.no_bell |= a.no_bell,
            _ => {}
        }
        self
    }
}

impl ReceiverArgs {
    /// These, with `other`'s where these have none (`pilotwatch --listen X serve`).
    fn or(self, other: Self) -> Self {
        Self {
            listen: self.listen.or(other.listen),
            path: self.path.or(other.path),
            journal: self.journal.or(other.journal),
            no_journal: self.no_journal || other.no_journal,
            no_snapshot: self.no_snapshot || other.no_snapshot,
            attach_socket: self.attach_socket.or(other.attach_socket),
            no_attach: self.no_attach || other.no_attach,
            attach_listen: self.attach_listen.or(other.attach_listen),
            attach_buffer: self.attach_buffer.or(other.attach_buffer),
            metrics_listen: self.metrics_listen.or(other.metrics_listen),
            max_body: self.max_body.or(other.max_body),
            request_timeout: self.request_timeout.or(other.request_timeout),
            max_connections: self.max_connections.or(other.max_connections),
            segment_size: self.segment_size.or(other.segment_size),
            capacity: self.capacity.or(other.capacity),
            json: self.json || other.json,
            forward_to: self.forward_to.or(other.forward_to),
            respond: self.respond.or(other.respond),
            respond_delay: self.respond_delay.or(other.respond_delay),
            api_timeout: self.api_timeout.or(other.api_timeout),
            alert_exec: if self.alert_exec.is_empty() {
                other.alert_exec
            } else {
                self.alert_exec
            },
            alert_webhook: if self.alert_webhook.is_empty() {
                other.alert_webhook
            } else {
                self.alert_webhook
            },
            no_alerts: self.no_alerts || other.no_alerts,
            api_poll: self.api_poll.or(other.api_poll),
            reconcile_after: self.reconcile_after.or(other.reconcile_after),
            api_budget: self.api_budget.or(other.api_budget),
            nats: self.nats.or(other.nats),
            nats_creds: self.nats_creds.or(other.nats_creds),
            nats_receiver: self.nats_receiver.or(other.nats_receiver),
            nats_replicas: self.nats_replicas.or(other.nats_replicas),
            no_reconcile: self.no_reconcile || other.no_reconcile,
        }
    }
}

/// `1048576`, `512KiB`, `1MiB`, `1MB`, `2k`…
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (try 1048576, 512KiB or 1MiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} (use KiB, MiB, GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("2000"), Ok(2000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1 parsec").is_err());
    }

    fn help(sub: &str) -> String {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        cmd.build(); // global flags reach the subcommands here
        cmd.find_subcommand_mut(sub)
            .unwrap_or_else(|| panic!("{sub}"))
            .render_long_help()
            .to_string()
    }

    /// Each subcommand's help lists its own flags, not the receiver's twenty.
    #[test]
    fn subcommand_help_lists_only_its_own_flags() {
        for sub in ["reply", "send", "open", "attach"] {
            let h = help(sub);
            for receiver_flag in ["--max-connections", "--listen", "--forward-to", "--respond"] {
                assert!(
                    !h.contains(receiver_flag),
                    "{sub} --help lists {receiver_flag}:\n{h}"
                );
            }
            assert!(
                h.contains("--config"),
                "{sub}: the config file still applies"
            );
        }
        assert!(help("reply").contains("--api-timeout"));
        let serve = help("serve");
        for flag in ["--listen", "--journal", "--max-connections", "--forward-to"] {
            assert!(serve.contains(flag), "serve --help lacks {flag}");
        }
        assert!(!serve.contains("--demo"));
    }

    /// `serve`'s flags work after it, and the receiver's before it still do.
    #[test]
    fn serve_flags_go_before_or_after_the_subcommand() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("pilotwatch").chain(args.iter().copied()))
                .unwrap()
                .normalized()
        };
        let after = parse(&["serve", "--listen", "127.0.0.1:4000", "--json"]);
        assert_eq!(
            after.receiver.listen,
            Some("127.0.0.1:4000".parse().unwrap())
        );
        assert!(after.receiver.json);
        let before = parse(&["--listen", "127.0.0.1:4001", "serve", "--capacity", "5"]);
        assert_eq!(
            before.receiver.listen,
            Some("127.0.0.1:4001".parse().unwrap())
        );
        assert_eq!(before.receiver.capacity, Some(5));
        let reply = parse(&["reply", "--to", "+1", "--text", "x", "--api-timeout", "3"]);
        assert_eq!(reply.receiver.api_timeout, Some(3));
        assert!(
            Cli::try_parse_from(["pilotwatch", "send", "--listen", "1.2.3.4:5", "x"]).is_err(),
            "send takes no receiver flag"
        );
    }

    /// `--no-bell` for the dashboard of plain `pilotwatch` and of `attach`.
    #[test]
    fn no_bell_before_or_after_attach() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("pilotwatch").chain(args.iter().copied()))
                .unwrap()
                .normalized()
                .no_bell
        };
        assert!(parse(&["--no-bell"]));
        assert!(parse(&["attach", "--no-bell"]));
        assert!(!parse(&["attach"]));
    }

    #[test]
    fn clap_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
