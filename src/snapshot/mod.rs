//! The store written beside the journal (`journal.jsonl.snapshot`), so a restart
//! replays only the records after it instead of the whole journal.
//!
//! It is a cache of the journal, never a source of truth: everything in it was derived
//! from journal records, and any doubt (a checksum that does not match, another format
//! or version, another capacity, a journal that no longer holds the exact line it was
//! taken after) means it is ignored, said why, and the journal is replayed in full.
//!
//! ```text
//! MAGIC | postcard(Header) | postcard(Store, dedupe entries) | CRC-32C of all before
//! ```
//! Written to a temporary name, synced and renamed, so a crash leaves the old one or
//! the new one whole.

mod anchor;
mod layout;
mod policy;
mod take;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::journal::replay::Resume;
use crate::model::Identity;
use crate::store::Store;

pub use anchor::Anchor;
pub use policy::Policy;
pub use take::{Due, Writer};

const MAGIC: &[u8; 8] = b"PWSNAP\0\x01";
/// Bumped whenever the store's layout changes; with the crate version in the header,
/// a snapshot from another build is ignored rather than misread.
/// 2: the Feed's bodies packed, the signature header as 32 bytes (2026-11-29).
/// 3: an alert row says when its summary was last written (2026-11-29).
/// 4: a group's messages in the group's conversation, not the member's (2026-11-30).
const FORMAT: u32 = 4;

/// What the snapshot is of: checked before its body is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub version: String,
    /// The store's binary layout in this build ([`layout`]).
    pub layout: u64,
    /// The newest seq folded into the store it holds.
    pub seq: u64,
    pub capacity: u64,
    pub dedupe_window: u64,
    /// Where in the journal that record's line ends.
    pub anchor: Anchor,
    pub written_at: DateTime<Utc>,
}

impl Header {
    pub fn new(seq: u64, capacity: usize, dedupe_window: usize, anchor: Anchor) -> Self {
        Self {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            layout: layout::fingerprint(),
            seq,
            capacity: capacity as u64,
            dedupe_window: dedupe_window as u64,
            anchor,
            written_at: Utc::now(),
        }
    }
}

/// A snapshot read back and checked against the journal: the store, the dedupe
/// index's entries (oldest first), and where replay goes on from.
#[derive(Debug)]
pub struct Loaded {
    pub header: Header,
    pub store: Store,
    pub dedupe: Vec<(Identity, u64)>,
    pub start: Resume,
}

/// `journal.jsonl` → `journal.jsonl.snapshot`.
pub fn path_for(journal: &Path) -> PathBuf {
    let mut p = journal.as_os_str().to_owned();
    p.push(".snapshot");
    p.into()
}

/// Encode a snapshot; the caller holds the store still (the applier, between batches).
pub fn encode(header: &Header, store: &Store, dedupe: &[(Identity, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    out.extend_from_slice(MAGIC);
    // Serialising plain data into a Vec cannot fail.
    out = postcard::to_extend(header, out).expect("header serialises");
    out = postcard::to_extend(&(store, dedupe), out).expect("store serialises");
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Write `bytes` (from [`encode`]) as the journal's snapshot: whole or not at all.
pub fn write(journal: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = path_for(journal);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover from a crash mid-write is ours to replace.
    let _ = std::fs::remove_file(&tmp);
    let mut f = crate::files::create_new_private(&tmp)?;
    f.write_all(bytes)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&tmp, &path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    std::fs::File::open(dir.unwrap_or(Path::new(".")))?.sync_all()
}

/// Why a snapshot was not used (said once at start; the journal is replayed in full).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored(pub String);

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read the journal's snapshot, if it has one that can be trusted for a store of
/// `capacity` and a dedupe window of `window`. `Ok(None)`: there is none.
pub fn load(journal: &Path, capacity: usize, window: usize) -> Result<Option<Loaded>, Ignored> {
    let path = path_for(journal);
    let mut bytes = Vec::new();
    match std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Ignored(format!("{} unreadable: {e}", path.display()))),
    }
    let (header, rest) = decode_header(&bytes)?;
    if header.capacity != capacity as u64 || header.dedupe_window != window as u64 {
        return Err(Ignored(format!(
            "it was taken with --capacity {}, not {capacity}",
            header.capacity
        )));
    }
    let start = anchor::locate(journal, &header.anchor, header.seq)
        .map_err(|why| Ignored(format!("the journal does not match it: {why}")))?;
    let (mut store, dedupe): (Store, Vec<(Identity, u64)>) = postcard::from_bytes(rest)
        .map_err(|e| Ignored(format!("its store could not be read: {e}")))?;
    store.share_after_load();
    if store.last_seq() != header.seq || store.capacity() != capacity {
        return Err(Ignored("its store does not match its header".into()));
    }
    Ok(Some(Loaded {
        header,
        store,
        dedupe,
        start,
    }))
}

/// The magic, the checksum over everything, the format and the version: a snapshot
/// that passes is whole and from this build. Returns its header and the bytes after it.
fn decode_header(bytes: &[u8]) -> Result<(Header, &[u8]), Ignored> {
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Ignored("not a pilotwatch snapshot".into()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let want = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    if crc32c::crc32c(body) != want {
        return Err(Ignored(
            "its checksum does not match (damaged or cut short)".into(),
        ));
    }
    let (header, rest): (Header, _) = postcard::take_from_bytes(&body[MAGIC.len()..])
        .map_err(|e| Ignored(format!("its header could not be read: {e}")))?;
    if header.format != FORMAT || header.version != env!("CARGO_PKG_VERSION") {
        return Err(Ignored(format!(
            "it was written by pilotwatch {} (format {}), this is {} (format {FORMAT})",
            header.version,
            header.format,
            env!("CARGO_PKG_VERSION")
        )));
    }
    if header.layout != layout::fingerprint() {
        return Err(Ignored(
            "it was written by a build whose store is laid out differently".into(),
        ));
    }
    Ok((header, rest))
}

/// [`load`], with a snapshot that is not used said in the log: the snapshot to start
/// from, or why there is none to (for the replay's report).
pub fn load_or_say(
    journal: &Path,
    capacity: usize,
    window: usize,
) -> (Option<Loaded>, Option<String>) {
    match load(journal, capacity, window) {
        Ok(loaded) => (loaded, None),
        Err(why) => {
            tracing::warn!(%why, "store snapshot not used; reading the whole journal");
            (None, Some(why.0))
        }
    }
}
