//! The receiver without a dashboard (`serve`, `--headless`, or a stdout that is not a
//! terminal): where it listens on stderr, one line per delivery on stdout, and the last
//! word on stopping.

use std::io::Write as _;

use color_eyre::eyre::Result;

use crate::config::Settings;
use crate::headless;
use crate::service::{self, Service};

/// `serve`: a service outlives its terminal (SIGHUP, a closed stdout); `--headless` in a
/// pipe stops with it, as pipes expect.
pub async fn headless(settings: &Settings, service: Service, serve: bool) -> Result<()> {
    banner(settings, &service);

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

/// What the reconciler will read, or why it reads nothing.
fn reconcile_line(settings: &Settings) -> String {
    let r = &settings.reconcile;
    match (&settings.api_key, r.enabled) {
        (None, _) => format!(
            "reconcile: off (no {}): numbers, stuck messages and the provider's webhook log are not read",
            crate::config::ENV_API_KEY
        ),
        (Some(_), false) => "reconcile: off (--no-reconcile)".into(),
        (Some(k), true) => format!(
            "reconcile: with key {}: numbers and the webhook log every {}s, messages still queued/sent after {}s, at most {} requests/min",
            k.masked(),
            r.api_poll.as_secs(),
            r.reconcile_after.as_secs(),
            r.budget
        ),
    }
}

/// `alerts: 7 of 8 rules on (no_deliveries off); notified through 1 command, 1 webhook`
/// (never the command or the URL: either may hold a credential).
fn alerts_line(a: &crate::alerts::AlertSettings) -> String {
    if !a.enabled {
        return "alerts: off (--no-alerts)".into();
    }
    let all = crate::alerts::Rule::ALL;
    let off: Vec<&str> = all
        .iter()
        .filter(|r| !a.rules.get(**r).enabled)
        .map(|r| r.name())
        .collect();
    let mut line = format!(
        "alerts: {} of {} rules on",
        all.len() - off.len(),
        all.len()
    );
    if !off.is_empty() {
        line.push_str(&format!(" ({} off)", off.join(", ")));
    }
    let (exec, hooks) = (a.targets.exec.len(), a.targets.webhooks.len());
    match (exec, hooks) {
        (0, 0) => line.push_str("; no --alert-exec or --alert-webhook: shown in dashboards only"),
        _ => line.push_str(&format!(
            "; notified through {exec} command(s), {hooks} webhook(s)"
        )),
    }
    line
}

/// Where it listens, what it keeps, whether it verifies: on stderr, so stdout stays data.
fn banner(settings: &Settings, service: &Service) {
    let path = settings.path.as_deref().unwrap_or("any path");
    eprintln!(
        "pilotwatch {}: listening on http://{} ({path})",
        env!("CARGO_PKG_VERSION"),
        service.addr
    );
    let metrics = service.metrics.as_ref().map_or(service.addr, |(_, a)| *a);
    eprintln!("metrics: http://{metrics}/metrics (Prometheus)");
    match service.ingest.journal_path() {
        Some(p) => {
            let r = &service.replay;
            match r.from_snapshot {
                Some(seq) => eprintln!(
                    "journal: {} (the store up to #{seq} read from its snapshot, {} newer record(s) replayed)",
                    p.display(),
                    r.records
                ),
                None => eprintln!(
                    "journal: {} ({} deliveries replayed from {} segment(s))",
                    p.display(),
                    r.records,
                    r.segments
                ),
            }
            if let Some((bytes, q)) = &r.torn_tail {
                eprintln!(
                    "journal: dropped a torn last write of {bytes} bytes (kept in {})",
                    q.display()
                );
            }
            if let Some(why) = &r.snapshot_ignored {
                eprintln!(
                    "journal: its store snapshot was not used ({why}): the journal was replayed instead"
                );
            }
            if r.from_snapshot.is_none() && (r.skipped > 0 || r.skipped_segments > 0) {
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
    eprintln!("{}", alerts_line(&settings.alerts));
    eprintln!("{}", reconcile_line(settings));
    if let Some(n) = &settings.nats {
        eprintln!(
            "nats: publishing to {} as {} after each ack (`pilotwatch attach {}` watches every receiver){}",
            n.target.display(),
            n.receiver,
            n.target.display(),
            if settings.alerts.enabled {
                "; alerts evaluated by whichever service holds the lease"
            } else {
                ""
            }
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
