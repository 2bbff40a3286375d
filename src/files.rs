//! Opening the files pilotwatch writes beside its journal or in the working directory
//! (the log, the quarantine, exports, lock files) so that another local user cannot read
//! them or redirect them: created 0600 (they hold message bodies), never through a
//! symbolic link at the name (`O_NOFOLLOW`), and new files never over an existing one
//! (`O_EXCL`). Only the last path component is guarded: the directories are the
//! operator's.
//!
//! The mode applies when a file is created; an existing file keeps its permissions.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Names [`create_unique_private`] tries before giving up (`name`, `name-2`, …).
const UNIQUE_TRIES: u32 = 1000;

fn private() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    o
}

/// With `O_NOFOLLOW` a symlink at the name fails with ELOOP, whose own text ("too many
/// levels of symbolic links") does not say what happened.
fn open(options: &OpenOptions, path: &Path) -> io::Result<File> {
    options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(
                e.kind(),
                format!(
                    "{} is a symbolic link: not followed (remove it or choose another path)",
                    path.display()
                ),
            )
        } else {
            e
        }
    })
}

/// For appending (a log, the quarantine): created 0600 if absent, never through a
/// symlink.
pub fn open_append_private(path: &Path) -> io::Result<File> {
    open(private().create(true).append(true), path)
}

/// A new file, 0600: fails with `AlreadyExists` if anything (a file, a dangling symlink)
/// is at the name.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    open(private().write(true).create_new(true), path)
}

/// Read and write, created 0600 if absent, never truncated and never through a symlink:
/// for a lock file.
pub fn open_rw_private(path: &Path) -> io::Result<File> {
    open(
        private()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
        path,
    )
}

/// A new 0600 file at `path`, or, when the name is taken, at `stem-2.ext`, `stem-3.ext`
/// and so on: an existing file (or a symlink planted at a predictable name) is never
/// written. Returns the file and the name it got.
pub fn create_unique_private(path: &Path) -> io::Result<(File, PathBuf)> {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let ext = path.extension().map(|e| e.to_string_lossy());
    for n in 1..=UNIQUE_TRIES {
        let candidate = match (n, &ext) {
            (1, _) => path.to_owned(),
            (_, Some(ext)) => path.with_file_name(format!("{stem}-{n}.{ext}")),
            (_, None) => path.with_file_name(format!("{stem}-{n}")),
        };
        match create_new_private(&candidate) {
            Ok(f) => return Ok((f, candidate)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} and {UNIQUE_TRIES} numbered variants all exist",
            path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, Write};
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    type Opener = fn(&Path) -> io::Result<File>;
    const OPENERS: [(&str, Opener); 3] = [
        ("open_append_private", open_append_private),
        ("create_new_private", create_new_private),
        ("open_rw_private", open_rw_private),
    ];

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_symlink_at_the_path_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        for (name, opener) in OPENERS {
            let target = dir.path().join(format!("{name}.target"));
            std::fs::write(&target, "precious").unwrap();
            let link = dir.path().join(format!("{name}.link"));
            symlink(&target, &link).unwrap();
            let err = opener(&link).expect_err(name);
            assert!(
                err.to_string().contains("symbolic link") || name == "create_new_private",
                "{name}: {err}"
            );
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
            // A dangling link must not create its target either.
            let absent = dir.path().join(format!("{name}.absent"));
            let dangling = dir.path().join(format!("{name}.dangling"));
            symlink(&absent, &dangling).unwrap();
            assert!(opener(&dangling).is_err(), "{name}");
            assert!(!absent.exists(), "{name} created the link's target");
        }
    }

    #[test]
    fn files_are_created_0600() {
        let dir = tempfile::tempdir().unwrap();
        for (name, opener) in OPENERS {
            let path = dir.path().join(name);
            opener(&path).unwrap();
            assert_eq!(mode(&path), 0o600, "{name}");
        }
        let (_, path) = create_unique_private(&dir.path().join("u.ndjson")).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn create_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, "old").unwrap();
        let err = create_new_private(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn append_appends_and_rw_neither_truncates_nor_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "one\n").unwrap();
        open_append_private(&path)
            .unwrap()
            .write_all(b"two\n")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        let mut f = open_rw_private(&path).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "one\ntwo\n");
        f.rewind().unwrap();
        f.write_all(b"ONE").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ONE\ntwo\n");
    }

    #[test]
    fn a_taken_name_gets_a_number_and_a_planted_symlink_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.ndjson");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, &path).unwrap();
        let mut names = Vec::new();
        for i in 0..3 {
            let (mut f, name) = create_unique_private(&path).unwrap();
            f.write_all(format!("{i}").as_bytes()).unwrap();
            names.push(name.file_name().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            names,
            ["export-2.ndjson", "export-3.ndjson", "export-4.ndjson"]
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let no_ext = dir.path().join("plain");
        std::fs::write(&no_ext, "").unwrap();
        let (_, name) = create_unique_private(&no_ext).unwrap();
        assert_eq!(name, dir.path().join("plain-2"));
    }
}
