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
    }
}
