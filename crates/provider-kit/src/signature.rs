//! Checking what a marketplace signs: HMAC-SHA256 tags (a signed install request, a webhook
//! body) and HTTP Basic credentials, always compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use installgate_core::AppCredentials;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length: never reached.
        Err(_) => [0; 32],
    }
}

/// Whether `tag` is the HMAC-SHA256 of `message` under `key`, compared in constant time.
pub fn verify_hmac_sha256(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

/// Like [`verify_hmac_sha256`], for a tag sent as standard base64.
pub fn verify_hmac_sha256_base64(key: &[u8], message: &[u8], tag: &str) -> bool {
    STANDARD
        .decode(tag.trim())
        .is_ok_and(|tag| verify_hmac_sha256(key, message, &tag))
}

/// Like [`verify_hmac_sha256`], for a tag sent as lower- or upper-case hex.
pub fn verify_hmac_sha256_hex(key: &[u8], message: &[u8], tag: &str) -> bool {
    let tag = tag.trim();
    if tag.len() != 64 || !tag.is_ascii() {
        return false;
    }
    let bytes: Option<Vec<u8>> = (0..tag.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&tag[at..at + 2], 16).ok())
        .collect();
    bytes.is_some_and(|tag| verify_hmac_sha256(key, message, &tag))
}

/// Whether an `Authorization` header carries the app's own Basic credentials.
pub fn is_app_basic_auth(app: &AppCredentials, authorization: Option<&str>) -> bool {
    let expected = crate::http::basic_credentials(app);
    let given = authorization.unwrap_or_default();
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    const KEY: &[u8] = b"Jefe";
    const MESSAGE: &[u8] = b"what do ya want for nothing?";
    const TAG_HEX: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn tags_match_the_rfc_4231_vector_in_every_encoding() {
        let tag = hmac_sha256(KEY, MESSAGE);
        assert!(verify_hmac_sha256(KEY, MESSAGE, &tag));
        assert!(verify_hmac_sha256_hex(KEY, MESSAGE, TAG_HEX));
        assert!(verify_hmac_sha256_hex(
            KEY,
            MESSAGE,
            &TAG_HEX.to_uppercase()
        ));
        assert!(verify_hmac_sha256_base64(
            KEY,
            MESSAGE,
            &STANDARD.encode(tag)
        ));
    }

    #[test]
    fn a_wrong_missing_or_garbled_tag_fails() {
        let mut wrong = hmac_sha256(KEY, MESSAGE);
        wrong[0] ^= 1;
        assert!(!verify_hmac_sha256(KEY, MESSAGE, &wrong));
        assert!(!verify_hmac_sha256(KEY, MESSAGE, &[]));
        assert!(!verify_hmac_sha256(
            b"other key",
            MESSAGE,
            &hmac_sha256(KEY, MESSAGE)
        ));
        assert!(!verify_hmac_sha256_hex(KEY, MESSAGE, ""));
        assert!(!verify_hmac_sha256_hex(KEY, MESSAGE, &TAG_HEX[..62]));
        assert!(!verify_hmac_sha256_hex(
            KEY,
            MESSAGE,
            &format!("{}zz", &TAG_HEX[..62])
        ));
        assert!(!verify_hmac_sha256_hex(KEY, MESSAGE, &"é".repeat(32)));
        assert!(!verify_hmac_sha256_base64(KEY, MESSAGE, "not base64!"));
    }
}
