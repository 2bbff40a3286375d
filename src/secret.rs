//! Secrets (webhook signing secrets, the API key) that can be used but never shown:
//! `Debug` and `Display` print a masked form, so a stray `{:?}` cannot leak one.

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `ps_…abcd`: the prefix up to its `_`, and the last 4 characters when the secret is
    /// long enough that they do not give it away.
    pub fn masked(&self) -> String {
        let s = &self.0;
        let n = s.chars().count();
        let prefix = s
            .find('_')
            .filter(|i| *i <= 6 && n >= 12)
            .map_or("", |i| &s[..=i]);
        if n >= 16 {
            let tail: String = s.chars().skip(n - 4).collect();
            format!("{prefix}…{tail}")
        } else {
            format!("{prefix}…")
        }
    }
}

impl Secret {
    /// The first 8 hex digits of its SHA-256: enough to tell which secret is loaded
    /// (compare with `printf %s "$SECRET" | sha256sum`), nothing about the secret itself.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.0.as_bytes());
        format!("sha256:{}", hex::encode(&digest[..4]))
    }
}

/// From a config file; surrounding whitespace (a trailing newline) is not part of it.
/// A value of the wrong type is refused without quoting it (serde's usual message would).
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quoted string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v.trim()))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom("a secret must be a quoted string"))
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let s = Secret::new("ps_live_0123456789abcdef");
        assert_eq!(s.masked(), "ps_…cdef");
        assert!(!format!("{s:?} {s}").contains("0123456789"));
        assert_eq!(Secret::new("short").masked(), "…");
        let fp = Secret::new("It's a Secret to Everybody").fingerprint();
        assert_eq!(fp.len(), "sha256:".len() + 8);
        assert!(!fp.contains("Secret"));
    }
}
