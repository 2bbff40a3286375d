//! The durable record of every delivery: JSONL segments ([`mod@line`]), the storage seam
//! ([`storage`]) the ingest writer appends to, and replay at start ([`replay`]).

pub mod line;
pub mod peek;
pub mod replay;
mod skip;
pub mod storage;
pub mod tail;

use std::path::PathBuf;

/// The default journal: `$XDG_DATA_HOME/pilotwatch/journal.jsonl` (or the platform's
/// data directory).
pub fn default_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("pilotwatch")
        .join("journal.jsonl")
}
