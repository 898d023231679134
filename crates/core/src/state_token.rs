//! The `state` value of an install: 256 bits from the operating system's generator, opaque to
//! everyone but the gateway, compared in constant time, and never printed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

const TOKEN_BYTES: usize = 32;

/// A state token. Parsing refuses anything but the exact shape the gateway mints, so hostile
/// strings (empty, huge, NUL, CR/LF, glob characters, non-UTF-8) never reach a store.
#[derive(Clone)]
pub struct StateToken {
    bytes: [u8; TOKEN_BYTES],
    encoded: String,
}

/// The operating system's random generator failed; no token can be minted.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random generator is unavailable")]
pub struct RandomUnavailable;

/// The input is not a state token the gateway could have minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the state parameter is not a valid state token")]
pub struct InvalidStateToken;

impl StateToken {
    /// Length of the URL-safe base64 text form (32 bytes, no padding).
    pub const ENCODED_LEN: usize = 43;

    pub fn generate() -> Result<Self, RandomUnavailable> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|_| RandomUnavailable)?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn parse(input: impl AsRef<[u8]>) -> Result<Self, InvalidStateToken> {
        let input = input.as_ref();
        let alphabet_ok = input
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
        if input.len() != Self::ENCODED_LEN || !alphabet_ok {
            return Err(InvalidStateToken);
        }
        let decoded = URL_SAFE_NO_PAD
            .decode(input)
            .map_err(|_| InvalidStateToken)?;
        let bytes: [u8; TOKEN_BYTES] = decoded.try_into().map_err(|_| InvalidStateToken)?;
        Ok(Self::from_bytes(bytes))
    }

    /// A token named by `parts` rather than drawn at random (a marketplace's delivery id, to
    /// remember having seen it): SHA-256 of the parts, each prefixed by its length so that no two
    /// lists of parts make the same token.
    pub fn derived(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self::from_bytes(hasher.finalize().into())
    }

    fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        let encoded = URL_SAFE_NO_PAD.encode(bytes);
        Self { bytes, encoded }
    }

    /// The text to put in a redirect URL. The only way to read the token.
    pub fn expose(&self) -> &str {
        &self.encoded
    }

    /// SHA-256 of the token, the only form in which stores keep it.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.bytes).into()
    }
}

impl PartialEq for StateToken {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for StateToken {}

impl fmt::Debug for StateToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateToken([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_round_trip_and_differ() {
        let a = StateToken::generate().unwrap();
        let b = StateToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), StateToken::ENCODED_LEN);
        assert_eq!(StateToken::parse(a.expose()).unwrap(), a);
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn refuses_hostile_input() {
        let valid = StateToken::generate().unwrap();
        let mut with_nul = valid.expose().as_bytes().to_vec();
        with_nul[5] = 0;
        let huge = vec![b'a'; 1 << 20];
        let hostile: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            huge,
            with_nul,
            format!("{}\r\n", &valid.expose()[..41]).into_bytes(),
            "*".repeat(43).into_bytes(),
            vec![0xff; 43],
            format!("{}=", &valid.expose()[..42]).into_bytes(),
            valid.expose().as_bytes()[..42].to_vec(),
            // 32 zero bytes end in 'A'; a 'B' there sets bits beyond the 256 the token has.
            format!("{}B", "A".repeat(42)).into_bytes(),
        ];
        for input in hostile {
            assert_eq!(
                StateToken::parse(&input),
                Err(InvalidStateToken),
                "{input:?}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let token = StateToken::generate().unwrap();
        let shown = format!("{token:?}");
        assert!(!shown.contains(token.expose()));
        assert_eq!(shown, "StateToken([REDACTED])");
    }
}
