//! What a token answer must hold before anything is stored: an access token, a lifetime that is
//! a positive number of seconds below one year, and a refresh token where the marketplace always
//! issues one. An answer short of that is refused as a whole.

use std::time::Duration;

use crate::{Grant, ProviderError};

/// The longest access-token lifetime believed; a longer one is a broken or hostile answer.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// What a marketplace's successful token answers always carry (its provider says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAnswers {
    /// A code exchange always yields a refresh token.
    pub refresh_token: bool,
    /// Access tokens always expire, so every answer says when (`expires_in`).
    pub expires_in: bool,
}

/// Which call a token answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCall {
    Exchange,
    /// A refresh may leave the refresh token out (the old one stays valid).
    Refresh,
}

impl Grant {
    /// Refuses an answer that lacks what `answers` says it always carries.
    pub fn check(&self, answers: TokenAnswers, call: TokenCall) -> Result<(), ProviderError> {
        let refuse = |what: &str| Err(ProviderError::Unacceptable(what.to_owned()));
        if self.tokens.access_token.expose().is_empty() {
            return refuse("the answer carries no access token");
        }
        match self.expires_in {
            Some(lifetime) if lifetime.is_zero() || lifetime >= MAX_TOKEN_LIFETIME => {
                return refuse("expires_in is not a positive number of seconds below one year");
            }
            None if answers.expires_in => {
                return refuse("the answer carries no usable expires_in");
            }
            _ => {}
        }
        if call == TokenCall::Exchange
            && answers.refresh_token
            && self.tokens.refresh_token.is_none()
        {
            return refuse("the answer carries no refresh token");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessToken, Metadata, RefreshToken, TokenSet};

    const ALWAYS: TokenAnswers = TokenAnswers {
        refresh_token: true,
        expires_in: true,
    };

    fn grant(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> Grant {
        Grant {
            tokens: TokenSet {
                access_token: AccessToken::new(access.to_owned()),
                refresh_token: refresh.map(|token| RefreshToken::new(token.to_owned())),
                expires_at: None,
            },
            expires_in: expires_in.map(Duration::from_secs),
            scopes: Vec::new(),
            marketplace_key: None,
            tenant: None,
            metadata: Metadata::new(),
        }
    }

    #[test]
    fn a_complete_answer_passes() {
        let good = grant("at", Some("rt"), Some(3600));
        assert_eq!(good.check(ALWAYS, TokenCall::Exchange), Ok(()));
        let just_under_a_year = grant("at", Some("rt"), Some(MAX_TOKEN_LIFETIME.as_secs() - 1));
        assert_eq!(just_under_a_year.check(ALWAYS, TokenCall::Exchange), Ok(()));
    }

    #[test]
    fn every_missing_or_impossible_part_is_refused() {
        for bad in [
            grant("", Some("rt"), Some(3600)),
            grant("at", Some("rt"), Some(0)),
            grant("at", Some("rt"), Some(MAX_TOKEN_LIFETIME.as_secs())),
            grant("at", Some("rt"), None),
            grant("at", None, Some(3600)),
        ] {
            assert!(matches!(
                bad.check(ALWAYS, TokenCall::Exchange),
                Err(ProviderError::Unacceptable(_))
            ));
        }
    }

    #[test]
    fn a_refresh_may_leave_the_refresh_token_out() {
        let renewed = grant("at", None, Some(1800));
        assert_eq!(renewed.check(ALWAYS, TokenCall::Refresh), Ok(()));
    }

    #[test]
    fn what_a_marketplace_does_not_promise_is_not_required() {
        let never_expires = TokenAnswers {
            refresh_token: false,
            expires_in: false,
        };
        assert_eq!(
            grant("at", None, None).check(never_expires, TokenCall::Exchange),
            Ok(())
        );
        // A lifetime that is given must still make sense.
        assert!(
            grant("at", None, Some(0))
                .check(never_expires, TokenCall::Exchange)
                .is_err()
        );
    }
}
