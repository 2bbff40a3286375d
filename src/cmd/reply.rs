//! `pilotwatch reply`: one send through the REST API, its 202 on stdout, the exit code
//! says how it went. Not journaled: a running pilotwatch owns the journal.

use color_eyre::eyre::Result;

use crate::api::{SendBody, SendRequest, new_idempotency_key};
use crate::cli::ReplyArgs;
use crate::cmd::send::say;
use crate::config::Settings;

/// Exits with [`send`]'s code (returns only when no runtime starts).
pub fn run(settings: &Settings, args: &ReplyArgs) -> Result<()> {
    super::init_logging(false, settings);
    super::exit_with(send(settings, args))
}

/// 0 on the 202, 1 on an API error (with the key to retry with), 2 without a key.
pub async fn send(settings: &Settings, args: &ReplyArgs) -> i32 {
    let api = match settings.api() {
        Ok(Some(api)) => api,
        Ok(None) => {
            eprintln!("pilotwatch reply: {}", crate::reply::NO_KEY);
            return 2;
        }
        Err(e) => {
            eprintln!("pilotwatch reply: {e}");
            return 2;
        }
    };
    let request = SendRequest {
        body: SendBody {
            text: args.text.clone(),
            destination_number: args.to.clone(),
            group_id: args.group.clone(),
        },
        number_id: args.number_id.clone(),
        idempotency_key: args
            .idempotency_key
            .clone()
            .unwrap_or_else(new_idempotency_key),
    };
    match api.send(&request).await {
        Ok(accepted) => {
            say(format_args!(
                "{}",
                serde_json::to_string_pretty(&accepted).expect("serialisable")
            ));
            0
        }
        Err(e) => {
            eprintln!("pilotwatch reply: {e}");
            eprintln!(
                "pilotwatch reply: retry safely with --idempotency-key {}",
                request.idempotency_key
            );
            1
        }
    }
}
