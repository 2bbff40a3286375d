//! Where journal bytes go: the I/O seam. The writer only sees [`Storage`], so tests can
//! inject write and sync failures, and `--no-journal` is a storage that keeps nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub trait Storage: Send + 'static {
    /// Append bytes to the active segment (not yet durable).
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Make everything appended so far durable (`fdatasync`).
    fn sync(&mut self) -> io::Result<()>;
    /// Start a new segment if the active one is past its size. Called after a sync.
    fn maybe_roll(&mut self) -> io::Result<()>;
    /// Where it writes, for messages (`None`: nowhere).
    fn path(&self) -> Option<&Path>;
    /// The active segment's number once rolled, and the bytes appended to it so far:
    /// where a snapshot of the store is anchored (`None`: nothing is kept).
    fn position(&self) -> Option<(u64, u64)> {
        None
    }
}

/// `--no-journal`: nothing is kept, acks do not wait for a disk.
#[derive(Debug, Default)]
pub struct NoStorage;

impl Storage for NoStorage {
    fn append(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn maybe_roll(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn path(&self) -> Option<&Path> {
        None
    }
}

/// The active segment is the configured path; full segments are renamed beside it to
/// `<stem>.<NNNNNN>.<ext>` (numbered in write order), so `journal.jsonl` is always the
/// newest and `ls` sorts the rest.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    /// The active segment, locked (see [`lock`]).
    file: File,
    /// Its (device, inode): the file at `path` must stay this one.
    identity: (u64, u64),
    len: u64,
    segment_max: u64,
    next_segment: u64,
    /// Held for the process's life: a second pilotwatch on the same journal is refused.
    _lock: File,
}

impl FileStorage {
    /// Append to the active segment the caller locked with [`lock`] (and replayed).
    pub fn open(path: &Path, segment_max: u64, lock: JournalLock) -> io::Result<Self> {
        let file = lock.active;
        let meta = file.metadata()?;
        sync_dir(path)?;
        let next_segment = rolled_segments(path)?.last().map_or(1, |(n, _)| n + 1);
        Ok(Self {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
            len: meta.len(),
            file,
            segment_max,
            next_segment,
            _lock: lock.name,
        })
    }

    /// The file at the journal's path must still be the one written to: deleted or
    /// replaced (`rm`, a log rotation not meant for it), every later ack would be a lie.
    fn check_identity(&self) -> io::Result<()> {
        let gone = |what: &str| {
            io::Error::other(format!(
                "the journal file {} was {what} while in use; nothing more can be kept (restart pilotwatch)",
                self.path.display()
            ))
        };
        match fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => Ok(()),
            Ok(_) => Err(gone("replaced")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(gone("deleted")),
            Err(e) => Err(e),
        }
    }
}

impl Storage for FileStorage {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        // One stat per batch, before the sync that would release its acks.
        self.check_identity()?;
        self.file.sync_data()
    }

    fn maybe_roll(&mut self) -> io::Result<()> {
        if self.len < self.segment_max {
            return Ok(());
        }
        let rolled = segment_path(&self.path, self.next_segment);
        if rolled.exists() {
            // Never rename over a segment of acknowledged deliveries.
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already exists", rolled.display()),
            ));
        }
        fs::rename(&self.path, &rolled)?;
        // From here the old file is rolled, whatever fails next.
        self.next_segment += 1;
        self.file = open_active(&self.path)?;
        // The new inode is ours alone too (nothing else can have it open yet).
        let _ = self.file.try_lock();
        let meta = self.file.metadata()?;
        self.identity = (meta.dev(), meta.ino());
        self.len = 0;
        sync_dir(&self.path)?;
        tracing::info!(segment = %rolled.display(), "journal segment rolled");
        Ok(())
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn position(&self) -> Option<(u64, u64)> {
        Some((self.next_segment, self.len))
    }
}

/// A journal held by this process: its lock file and its active segment, both locked.
#[derive(Debug)]
pub struct JournalLock {
    name: File,
    active: File,
}

/// Lock the journal: `<path>.lock` (named after the path with symlinks resolved, so
/// two names for one file share it) and the active segment itself, since locks belong
/// to the inode (a hard link is the same file under another name). Creates the
/// directory if needed; files are created 0600 (message bodies are private).
pub fn lock(path: &Path) -> io::Result<JournalLock> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let in_use = || {
        io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("journal {} is in use by another pilotwatch", path.display()),
        )
    };
    let active = open_active(path)?;
    let mut lock_path = fs::canonicalize(path)?.into_os_string();
    lock_path.push(".lock");
    // Never through a symlink planted at the lock's name.
    let name = crate::files::open_rw_private(Path::new(&lock_path))?;
    for file in [&name, &active] {
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(in_use()),
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(JournalLock { name, active })
}

/// The active segment for appending (0600 when created).
fn open_active(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// `dir/journal.jsonl` + 3 → `dir/journal.000003.jsonl`.
pub fn segment_path(active: &Path, n: u64) -> PathBuf {
    let stem = active.file_stem().unwrap_or_default().to_string_lossy();
    let name = match active.extension() {
        Some(ext) => format!("{stem}.{n:06}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{n:06}"),
    };
    active.with_file_name(name)
}

/// The rolled segments beside `active`, oldest first.
pub fn rolled_segments(active: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let dir = match active.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let stem = active
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let ext = active
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut out = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let middle = name
            .strip_prefix(&format!("{stem}."))
            .and_then(|r| r.strip_suffix(&ext));
        if let Some(n) = middle
            .filter(|m| m.len() >= 6 && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse().ok())
        {
            out.push((n, dir.join(&name)));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}
