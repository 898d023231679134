//! OAuth credentials that pass through the gateway. Each wraps a `secrecy` string, prints as
//! redacted, and compares in constant time.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

/// An authorization code as received on a callback was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the authorization code must be 1 to {} printable ASCII characters",
    AuthorizationCode::MAX_LEN
)]
pub struct InvalidAuthorizationCode;

macro_rules! secret_string_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// The value, for the one call that must send it.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.expose().as_bytes().ct_eq(other.expose().as_bytes()).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_string_type!(
    /// A single-use authorization code from a marketplace callback.
    AuthorizationCode
);
secret_string_type!(
    /// A bearer access token.
    AccessToken
);
secret_string_type!(
    /// A refresh token.
    RefreshToken
);

impl AuthorizationCode {
    pub const MAX_LEN: usize = 512;

    pub fn parse(input: &str) -> Result<Self, InvalidAuthorizationCode> {
        let ok = !input.is_empty()
            && input.len() <= Self::MAX_LEN
            && input.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(SecretString::from(input)))
        } else {
            Err(InvalidAuthorizationCode)
        }
    }
}

impl AccessToken {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
}

impl RefreshToken {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_value() {
        let code = AuthorizationCode::parse("code-123").unwrap();
        let access = AccessToken::new("access-456");
        let refresh = RefreshToken::new("refresh-789");
        let shown = format!("{code:?} {access:?} {refresh:?}");
        assert_eq!(
            shown,
            "AuthorizationCode([REDACTED]) AccessToken([REDACTED]) RefreshToken([REDACTED])"
        );
    }

    #[test]
    fn authorization_codes_are_bounded_and_printable() {
        assert!(AuthorizationCode::parse("").is_err());
        assert!(AuthorizationCode::parse("a b").is_err());
        assert!(AuthorizationCode::parse("a\nb").is_err());
        assert!(AuthorizationCode::parse(&"c".repeat(513)).is_err());
        assert_eq!(
            AuthorizationCode::parse("na1-xyz").unwrap().expose(),
            "na1-xyz"
        );
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(RefreshToken::new("a"), RefreshToken::new("a"));
        assert_ne!(RefreshToken::new("a"), RefreshToken::new("b"));
    }
}
