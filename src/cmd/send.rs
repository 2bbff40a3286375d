//! `pilotwatch send`: one delivery, as the provider would make it, to any webhook URL.

use std::io::Write;
use std::time::Instant;

use crate::cli::SendArgs;
use crate::demo::samples;
use crate::sanitize::line as clean;
use crate::signature::{HEADER, sign};

/// `pilotwatch send`: exits with [`post`]'s code (returns only when no runtime starts).
/// It reads no settings, only the secret from the environment, so a broken config file
/// does not stop it.
pub fn run(args: &SendArgs) -> color_eyre::Result<()> {
    let env_secret = std::env::var(crate::config::ENV_SECRET)
        .ok()
        .filter(|s| !s.is_empty());
    super::exit_with(post(args, env_secret))
}

/// Build the body: a sample of an event name, or a file's bytes; `--set` applies to both.
pub fn body(args: &SendArgs) -> Result<Vec<u8>, String> {
    let what = args
        .what
        .as_deref()
        .ok_or("name an event or a file (see --list)")?;
    let path = std::path::Path::new(what);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("{what}: {e}"))?;
        if args.sets.is_empty() {
            return Ok(bytes);
        }
        let mut v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{what}: --set needs a JSON file: {e}"))?;
        for s in &args.sets {
            samples::set(&mut v, s)?;
        }
        return Ok(serde_json::to_vec(&v).expect("serialisable"));
    }
    let mut v = samples::sample(what, &samples::Context::default()).ok_or_else(|| {
        format!(
            "{what:?} is neither a file nor an event with a sample (see pilotwatch send --list)"
        )
    })?;
    for s in &args.sets {
        samples::set(&mut v, s)?;
    }
    Ok(serde_json::to_vec(&v).expect("serialisable"))
}

/// Send, print what happened, and say whether it was a 2xx.
pub async fn post(args: &SendArgs, env_secret: Option<String>) -> i32 {
    if args.list {
        for e in crate::model::EVENT_NAMES {
            say(format_args!("{e}"));
        }
        return 0;
    }
    let body = match body(args) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pilotwatch send: {e}");
            return 2;
        }
    };
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}/", crate::config::DEFAULT_LISTEN));
    let secret = args.secret.clone().or(env_secret);
    let client = reqwest::Client::new();
    let mut req = client.post(&url).header("content-type", "application/json");
    if let Some(s) = &secret {
        req = req.header(HEADER, sign(s, &body));
    }
    let started = Instant::now();
    match req.body(body.clone()).send().await {
        Ok(res) => {
            let status = res.status();
            let answer = res.bytes().await.unwrap_or_default();
            say(format_args!(
                "POST {} ({} bytes, {}) → {} in {} ms",
                clean(&url, 200),
                body.len(),
                if secret.is_some() {
                    "signed"
                } else {
                    "unsigned"
                },
                status,
                started.elapsed().as_millis()
            ));
            let text = String::from_utf8_lossy(&answer[..answer.len().min(2000)]);
            if !text.trim().is_empty() {
                say(format_args!("{}", clean(text.trim_end(), 2000)));
            }
            if status.is_success() { 0 } else { 1 }
        }
        Err(e) => {
            eprintln!("pilotwatch send: POST {} failed: {e}", clean(&url, 200));
            1
        }
    }
}

/// One line on stdout. A closed stdout (`| head -1`) is not an error for a CLI: the
/// exit code still says how the POST went.
pub fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
