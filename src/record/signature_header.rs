//! The `x-pilot-status-signature` header as sent, kept for forwarding and replays byte
//! for byte. What the provider sends (64 lowercase hex digits) is held as its 32 bytes
//! inline: a million stored deliveries would otherwise hold a million 64-byte strings.

use std::borrow::Cow;

#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "Repr")]
pub struct SignatureHeader(Repr);

/// Private, so a header is only made by [`SignatureHeader::new`]: one spelling, one
/// form, and equality means the same text.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Repr {
    Hex([u8; 32]),
    /// Anything else (an attacker's guess, another format), as it came.
    Text(Box<str>),
}

impl From<Repr> for SignatureHeader {
    /// A text that is the hex form (a crafted file) is read as hex.
    fn from(r: Repr) -> Self {
        match r {
            Repr::Text(t) => Self::new(&t),
            hex => Self(hex),
        }
    }
}

impl SignatureHeader {
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if b.len() == 64 {
            let mut out = [0u8; 32];
            let hex = out.iter_mut().enumerate().all(|(i, o)| {
                match (digit(b[2 * i]), digit(b[2 * i + 1])) {
                    (Some(h), Some(l)) => {
                        *o = h << 4 | l;
                        true
                    }
                    _ => false,
                }
            });
            if hex {
                return Self(Repr::Hex(out));
            }
        }
        Self(Repr::Text(text.into()))
    }

    /// The header's text, exactly as it was sent.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Hex(bytes) => {
                // Each delivery's journal line spells it: no formatter per byte.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let hex: String = bytes
                    .iter()
                    .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
                    .map(char::from)
                    .collect();
                Cow::Owned(hex)
            }
            Repr::Text(t) => Cow::Borrowed(t),
        }
    }
}

impl From<&str> for SignatureHeader {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for SignatureHeader {
    fn from(s: String) -> Self {
        Self::new(&s)
    }
}

impl std::fmt::Debug for SignatureHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_back_as_sent() {
        let hex = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        for sent in [
            hex,
            &hex.to_uppercase(),
            &hex[..63],
            "sha256=abc",
            "",
            "zz\u{1b}[2J",
        ] {
            let h = SignatureHeader::new(sent);
            assert_eq!(h.text(), sent);
            let back: SignatureHeader =
                postcard::from_bytes(&postcard::to_allocvec(&h).unwrap()).unwrap();
            assert_eq!(back, h);
        }
        assert!(matches!(SignatureHeader::new(hex).0, Repr::Hex(_)));
        assert!(matches!(
            SignatureHeader::new(&hex.to_uppercase()).0,
            Repr::Text(_)
        ));
        // Hex spelled as text (only a crafted file holds that) is read as hex.
        let crafted = postcard::to_allocvec(&Repr::Text(hex.into())).unwrap();
        let read: SignatureHeader = postcard::from_bytes(&crafted).unwrap();
        assert_eq!(read, SignatureHeader::new(hex));
    }
}
