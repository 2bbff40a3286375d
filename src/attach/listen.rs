//! Binding the attach endpoints at start (so a taken socket or port fails before
//! anything is served), and the token TCP clients must show.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::{TcpListener, UnixListener};

use crate::secret::Secret;

/// The attach endpoint's settings.
#[derive(Debug, Clone)]
pub struct AttachConfig {
    /// The Unix socket (0600); `None`: none.
    pub socket: Option<PathBuf>,
    /// TCP attach, with the token every hello must carry.
    pub tcp: Option<(SocketAddr, Secret)>,
    /// Frames buffered per client before it is dropped.
    pub buffer: usize,
}

/// Listeners bound at start (so a taken socket or port fails before anything is served).
#[derive(Debug)]
pub struct Bound {
    pub(super) unix: Option<(UnixListener, OwnedSocket)>,
    pub(super) tcp: Option<(TcpListener, [u8; 32])>,
    pub(super) buffer: usize,
    pub socket: Option<PathBuf>,
    pub tcp_addr: Option<SocketAddr>,
}

/// The socket file we created, removed on the way out only if it is still ours.
#[derive(Debug)]
pub(super) struct OwnedSocket {
    path: PathBuf,
    ino: u64,
    pub(super) uid: u32,
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub async fn bind(config: &AttachConfig) -> Result<Bound> {
    let unix = match &config.socket {
        Some(path) => Some(bind_unix(path).wrap_err_with(|| {
            format!(
                "cannot create the attach socket {} (choose another with --attach-socket, or --no-attach)",
                path.display()
            )
        })?),
        None => None,
    };
    let tcp = match &config.tcp {
        Some((addr, token)) => {
            let listener = TcpListener::bind(addr)
                .await
                .wrap_err_with(|| format!("cannot listen for attach on {addr}"))?;
            Some((listener, token_hash(token.expose())))
        }
        None => None,
    };
    Ok(Bound {
        socket: unix.as_ref().map(|(_, s)| s.path.clone()),
        tcp_addr: tcp.as_ref().and_then(|(l, _)| l.local_addr().ok()),
        unix,
        tcp,
        buffer: config.buffer.max(16),
    })
}

/// Bind in a fresh 0700 directory, make the socket 0600, then move it into place: no
/// moment exists where another user could connect to it.
fn bind_unix(path: &Path) -> io::Result<(UnixListener, OwnedSocket)> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "a pilotwatch is already serving on it (attach with `pilotwatch attach`)",
            ));
        }
        // Left by a service that died: nobody answers on it.
        std::fs::remove_file(path)?;
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let private = dir.join(format!(".pilotwatch-bind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&private);
    std::fs::DirBuilder::new().mode(0o700).create(&private)?;
    let tmp = private.join("s");
    let bound = UnixListener::bind(&tmp).and_then(|listener| {
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, path)?;
        Ok(listener)
    });
    let _ = std::fs::remove_dir_all(&private);
    let listener = bound?;
    let meta = std::fs::symlink_metadata(path)?;
    Ok((
        listener,
        OwnedSocket {
            path: path.to_owned(),
            ino: meta.ino(),
            uid: meta.uid(),
        },
    ))
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant time, and over fixed-length digests, so neither the content nor the length
/// of the expected token leaks through timing.
pub(super) fn token_ok(expected: &[u8; 32], given: Option<&str>) -> bool {
    let given = token_hash(given.unwrap_or(""));
    bool::from(expected.ct_eq(&given))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_digest() {
        let t = token_hash("s3cret-token-value");
        assert!(token_ok(&t, Some("s3cret-token-value")));
        assert!(!token_ok(&t, Some("s3cret-token-valuf")));
        assert!(!token_ok(&t, Some("")));
        assert!(!token_ok(&t, None));
    }
}
