//! `x-pilot-status-signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the
//! webhook's signing secret. Up to two secrets are tried, so a rotation loses nothing.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::record::SignatureCheck;
use crate::secret::Secret;

pub const HEADER: &str = "x-pilot-status-signature";

/// Check the header values of one request against the configured secrets.
///
/// Only exactly one header holding exactly 64 lowercase hex digits can be valid; the
/// comparison itself is constant-time (`Mac::verify_slice`).
pub fn verify<'a>(
    secrets: &[Secret],
    mut headers: impl Iterator<Item = &'a [u8]>,
    body: &[u8],
) -> SignatureCheck {
    if secrets.is_empty() {
        return SignatureCheck::Unchecked;
    }
    let Some(value) = headers.next() else {
        return SignatureCheck::Missing;
    };
    if headers.next().is_some() {
        return SignatureCheck::Invalid;
    }
    let Some(expected) = decode_lower_hex(value) else {
        return SignatureCheck::Invalid;
    };
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return SignatureCheck::Valid;
        }
    }
    SignatureCheck::Invalid
}

/// The signature header value for `body`, as the provider computes it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn decode_lower_hex(v: &[u8]) -> Option<[u8; 32]> {
    if v.len() != 64 || !v.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(v, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB_SECRET: &str = "It's a Secret to Everybody";
    const GITHUB_BODY: &[u8] = b"Hello, World!";
    const GITHUB_SIG: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn check(secrets: &[&str], headers: &[&str], body: &[u8]) -> SignatureCheck {
        let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
        verify(&secrets, headers.iter().map(|h| h.as_bytes()), body)
    }

    #[test]
    fn the_published_github_vector() {
        assert_eq!(sign(GITHUB_SECRET, GITHUB_BODY), GITHUB_SIG);
        assert_eq!(
            check(&[GITHUB_SECRET], &[GITHUB_SIG], GITHUB_BODY),
            SignatureCheck::Valid
        );
    }

    #[test]
    fn either_of_two_secrets_during_rotation() {
        assert_eq!(
            check(&["new secret", GITHUB_SECRET], &[GITHUB_SIG], GITHUB_BODY),
            SignatureCheck::Valid
        );
        assert_eq!(
            check(&["new secret", "older"], &[GITHUB_SIG], GITHUB_BODY),
            SignatureCheck::Invalid
        );
    }

    #[test]
    fn malformed_signatures_are_never_valid() {
        let flipped = {
            let mut s = GITHUB_SIG.to_owned().into_bytes();
            s[10] = if s[10] == b'0' { b'1' } else { b'0' };
            String::from_utf8(s).unwrap()
        };
        let upper = GITHUB_SIG.to_uppercase();
        let prefixed = format!("sha256={GITHUB_SIG}");
        for bad in [
            "",
            &GITHUB_SIG[..63],
            &upper,
            &prefixed,
            &flipped,
            "zz",
            &GITHUB_SIG.replace('7', "g"),
        ] {
            assert_eq!(
                check(&[GITHUB_SECRET], &[bad], GITHUB_BODY),
                SignatureCheck::Invalid,
                "{bad:?}"
            );
        }
        assert_eq!(
            check(&[GITHUB_SECRET], &[GITHUB_SIG, GITHUB_SIG], GITHUB_BODY),
            SignatureCheck::Invalid
        );
        assert_eq!(
            check(&[GITHUB_SECRET], &[], GITHUB_BODY),
            SignatureCheck::Missing
        );
        assert_eq!(
            check(&[GITHUB_SECRET], &[GITHUB_SIG], b"Hello, World?"),
            SignatureCheck::Invalid
        );
        assert_eq!(check(&[], &[], GITHUB_BODY), SignatureCheck::Unchecked);
    }
}
