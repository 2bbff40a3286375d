//! Where the engine is: `nats://HOST:PORT[/STREAM]` (`nats+tls://` or `tls://` for TLS,
//! `user:password@` as NATS users write it), with `--nats-creds FILE` beside it.

use std::path::PathBuf;

/// The stream records go to unless the URL names another.
pub const DEFAULT_STREAM: &str = "PILOTWATCH";

#[derive(Clone, PartialEq, Eq)]
pub struct BusTarget {
    /// What the client connects to: `nats://host:port` or `tls://host:port`. Any
    /// `user:password@` of the URL is taken out into `auth`: the client logs server
    /// addresses.
    pub servers: Vec<String>,
    /// The URL's `user:password` or token, if it had one.
    pub auth: Option<(Option<String>, crate::secret::Secret)>,
    pub tls: bool,
    pub stream: String,
    /// A `.creds` file (JWT and NKey seed), as `nats` CLI users have them.
    pub creds: Option<PathBuf>,
}

impl std::fmt::Debug for BusTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl BusTarget {
    /// `nats://a:4222,b:4222/STREAM`: several servers of one cluster, comma-separated.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("not a NATS URL: {}", mask(url)))?;
        let tls = match scheme {
            "nats" => false,
            "nats+tls" | "tls" => true,
            other => {
                return Err(format!(
                    "unknown scheme {other}:// (use nats:// or nats+tls://)"
                ));
            }
        };
        let (hosts, stream) = match rest.split_once('/') {
            Some((h, s)) if !s.trim_matches('/').is_empty() => (h, s.trim_matches('/').to_owned()),
            Some((h, _)) => (h, DEFAULT_STREAM.to_owned()),
            None => (rest, DEFAULT_STREAM.to_owned()),
        };
        if !valid_token(&stream) || stream.len() > 64 {
            return Err(format!(
                "stream name {stream:?}: use letters, digits, '-' and '_' only"
            ));
        }
        let scheme = if tls { "tls" } else { "nats" };
        let mut auth = None;
        let servers: Vec<String> = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|h| {
                let h = match h.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        auth = Some(match userinfo.split_once(':') {
                            Some((u, p)) => (Some(u.to_owned()), crate::secret::Secret::new(p)),
                            None => (None, crate::secret::Secret::new(userinfo)),
                        });
                        host
                    }
                    None => h,
                };
                let h = if h.contains(':') {
                    h.to_owned()
                } else {
                    format!("{h}:4222")
                };
                format!("{scheme}://{h}")
            })
            .collect();
        if servers.is_empty() {
            return Err(format!("no server in {}", mask(url)));
        }
        Ok(Self {
            servers,
            auth,
            tls,
            stream,
            creds: None,
        })
    }

    /// The subjects' first token: the stream's name in lower case.
    pub fn prefix(&self) -> String {
        self.stream.to_ascii_lowercase()
    }

    /// The URL as it may be shown and logged: any password replaced.
    pub fn display(&self) -> String {
        let scheme = if self.tls { "nats+tls" } else { "nats" };
        let hosts: Vec<String> = self
            .servers
            .iter()
            .map(|s| {
                s.split_once("://")
                    .map_or(s.as_str(), |(_, h)| h)
                    .to_owned()
            })
            .collect();
        let auth = match &self.auth {
            Some((Some(user), _)) => format!("{user}:***@"),
            Some((None, _)) => "***@".to_owned(),
            None => String::new(),
        };
        format!("{scheme}://{auth}{}/{}", hosts.join(","), self.stream)
    }
}

/// `user:password@host` as `user:***@host`; a bare token (`token@host`) as `***@host`.
fn mask(s: &str) -> String {
    let Some((userinfo, host)) = s.rsplit_once('@') else {
        return s.to_owned();
    };
    let (scheme, userinfo) = match userinfo.split_once("://") {
        Some((scheme, u)) => (format!("{scheme}://"), u),
        None => (String::new(), userinfo),
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}{user}:***@{host}"),
        None => format!("{scheme}***@{host}"),
    }
}

/// A subject token we make: letters, digits, `-` and `_` (no `.`, `*`, `>` or space).
pub fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_nats_users_write_them() {
        let t = BusTarget::parse("nats://127.0.0.1:4222").unwrap();
        assert_eq!(t.servers, ["nats://127.0.0.1:4222"]);
        assert_eq!(
            (t.stream.as_str(), t.prefix()),
            ("PILOTWATCH", "pilotwatch".into())
        );
        let t = BusTarget::parse("nats+tls://a,b:5222/EU_HOOKS").unwrap();
        assert_eq!(t.servers, ["tls://a:4222", "tls://b:5222"]);
        assert!(t.tls);
        assert_eq!(t.display(), "nats+tls://a:4222,b:5222/EU_HOOKS");
        assert!(BusTarget::parse("http://x").is_err());
        assert!(BusTarget::parse("nats://x/a.b").is_err());
    }

    #[test]
    fn passwords_are_never_shown() {
        let t = BusTarget::parse("nats://ops:hunter2@nats.internal:4222").unwrap();
        // Out of the address the client logs, into credentials it sends.
        assert_eq!(t.servers, ["nats://nats.internal:4222"]);
        assert_eq!(t.auth.as_ref().unwrap().1.expose(), "hunter2");
        assert_eq!(t.display(), "nats://ops:***@nats.internal:4222/PILOTWATCH");
        assert!(!format!("{t:?}").contains("hunter2"));
        let t = BusTarget::parse("nats://s3cr3t@h").unwrap();
        assert_eq!(t.display(), "nats://***@h:4222/PILOTWATCH");
        let e = BusTarget::parse("nats+x://u:pw@h").unwrap_err();
        assert!(!e.contains("pw"), "{e}");
    }
}
