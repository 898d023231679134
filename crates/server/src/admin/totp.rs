//! The second factor: TOTP (RFC 6238: SHA-1, six digits, 30-second steps, one step of skew
//! either way, as authenticator apps expect) through `totp-rs`, its enrolment QR code drawn as
//! inline SVG, and single-use recovery codes.

use installgate_core::Timestamp;
use maud::{Markup, PreEscaped, html};
use qrcodegen::{QrCode, QrCodeEcc};
use sha2::{Digest as _, Sha256};
use totp_rs::{Builder, Totp};

use crate::errors::AppError;

/// What authenticator apps show the code under.
const ISSUER: &str = "Installgate";
/// Recovery codes shown at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Letters of a recovery code (Crockford's base-32 alphabet: no I, L, O, U).
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn random(bytes: &mut [u8]) -> Result<(), AppError> {
    getrandom::fill(bytes)
        .map_err(|_| AppError::Unexpected(anyhow::anyhow!("the OS random generator failed")))
}

/// A new 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Result<Vec<u8>, AppError> {
    let mut secret = vec![0u8; 20];
    random(&mut secret)?;
    Ok(secret)
}

/// The TOTP of `secret` for the operator `email`.
pub fn totp(secret: Vec<u8>, email: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(email.replace(':', ""))
        .build()
        .map_err(|error| AppError::Unexpected(anyhow::anyhow!("TOTP: {error}")))
}

/// The time step `code` is valid for at `now`, if it is.
pub fn check(totp: &Totp, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    let seconds = u64::try_from(now.as_millis() / 1000).ok()?;
    totp.check(&code, seconds)
        .and_then(|step| i64::try_from(step).ok())
}

/// The `otpauth://` URI an authenticator app reads.
pub fn uri(totp: &Totp) -> Result<String, AppError> {
    totp.to_url()
        .map_err(|error| AppError::Unexpected(anyhow::anyhow!("TOTP: {error}")))
}

/// Fresh recovery codes (`xxxx-xxxx-xxxx`, 60 bits each).
pub fn recovery_codes() -> Result<Vec<String>, AppError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 12];
        random(&mut bytes)?;
        let letters: Vec<char> = bytes
            .iter()
            .map(|byte| char::from(ALPHABET[usize::from(byte % 32)]))
            .collect();
        let groups: Vec<String> = letters
            .chunks(4)
            .map(|group| group.iter().collect())
            .collect();
        codes.push(groups.join("-"));
    }
    Ok(codes)
}

/// What is stored of a recovery code: the SHA-256 of its letters, in lower case, without
/// spaces or dashes (so that a code typed either way matches).
pub fn recovery_digest(code: &str) -> String {
    let letters: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|letter| letter.to_ascii_lowercase())
        .collect();
    Sha256::digest(letters.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `text` as a QR code in inline SVG, one path of dark modules on a light square with the
/// quiet zone around.
pub fn qr_svg(text: &str, label: &str) -> Markup {
    let Ok(code) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return html! {};
    };
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    let view = size + 8;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {view} {view}")) width="220" height="220" role="img" aria-label=(label) {
            rect width=(view) height=(view) fill="#fff" {}
            path d=(PreEscaped(path)) fill="#000" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_valid_for_its_step_and_the_next_but_not_later() {
        let totp = totp(vec![7u8; 20], "ops@example.com").unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let code = totp.generate(1_800_000_000).to_string();
        let step = check(&totp, &code, now).unwrap();
        assert_eq!(step, 1_800_000_000 / 30);
        assert!(check(&totp, &code, now.plus(std::time::Duration::from_secs(30))).is_some());
        // One step of skew, not two.
        assert!(check(&totp, &code, now.plus(std::time::Duration::from_secs(60))).is_none());
        assert!(check(&totp, &code, now.plus(std::time::Duration::from_secs(90))).is_none());
        assert!(check(&totp, "not a code", now).is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_and_match_however_they_are_typed() {
        let codes = recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let typed = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(recovery_digest(&typed), recovery_digest(&codes[0]));
        assert_ne!(recovery_digest(&codes[1]), recovery_digest(&codes[0]));
    }
}
