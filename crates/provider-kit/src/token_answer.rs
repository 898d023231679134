//! A token endpoint's answer (RFC 6749 section 5.1) read into a core [`Grant`]. The fields every
//! marketplace sends are here; a provider flattens this into its own answer type for the rest
//! (`#[serde(flatten)] pub common: TokenAnswer`).

use std::time::Duration;

use installgate_core::{
    AccessToken, Grant, LenientNumber, MarketplaceKey, Metadata, ProviderError, RefreshToken,
    Tenant, TokenSet,
};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds, as a number or a numeric string (some marketplaces send `"3600"`).
    pub expires_in: Option<LenientNumber>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &crate::Redacted)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| crate::Redacted),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What the provider read beside the common fields.
#[derive(Debug, Default)]
pub struct GrantDetails {
    pub scopes: Vec<String>,
    /// When the answer names the marketplace account (HubSpot's `hub_id`).
    pub marketplace_key: Option<MarketplaceKey>,
    /// When the answer names the install's tenant (HubSpot's hublet, Pipedrive's `api_domain`).
    pub tenant: Option<Tenant>,
    pub metadata: Metadata,
}

/// The scopes of a token answer that lists them in one string, `separator` between them
/// (Pipedrive and Shopify use commas, RFC 6749 spaces).
pub fn scopes(list: Option<&str>, separator: char) -> Vec<String> {
    list.unwrap_or_default()
        .split(separator)
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect()
}

impl TokenAnswer {
    /// The grant. An empty refresh token counts as none; an `expires_in` that is there but not a
    /// number is refused here, and the rest (an access token, a lifetime below a year, what the
    /// marketplace always sends) by core's `Grant::check` before anything is stored.
    pub fn into_grant(self, details: GrantDetails) -> Result<Grant, ProviderError> {
        let expires_in = match self.expires_in {
            None => None,
            Some(seconds) => Some(seconds.value().map(Duration::from_secs).ok_or_else(|| {
                ProviderError::Malformed("expires_in is not a number of seconds".into())
            })?),
        };
        Ok(Grant {
            tokens: TokenSet {
                access_token: AccessToken::new(self.access_token),
                refresh_token: self
                    .refresh_token
                    .filter(|token| !token.is_empty())
                    .map(RefreshToken::new),
                expires_at: None,
            },
            expires_in,
            scopes: details.scopes,
            marketplace_key: details.marketplace_key,
            tenant: details.tenant,
            metadata: details.metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Result<Grant, ProviderError> {
        serde_json::from_str::<TokenAnswer>(json)
            .map_err(|error| ProviderError::Malformed(error.to_string()))?
            .into_grant(GrantDetails::default())
    }

    #[test]
    fn numbers_and_numeric_strings_are_lifetimes() {
        for json in [
            r#"{"access_token":"a","refresh_token":"r","expires_in":3600}"#,
            r#"{"access_token":"a","refresh_token":"r","expires_in":"3600"}"#,
        ] {
            assert_eq!(
                answer(json).unwrap().expires_in,
                Some(Duration::from_secs(3600))
            );
        }
    }

    #[test]
    fn a_lifetime_that_is_not_a_number_is_refused() {
        for json in [
            r#"{"access_token":"a","expires_in":"soon"}"#,
            r#"{"access_token":"a","expires_in":-1}"#,
            r#"{"access_token":"a","expires_in":1.5}"#,
        ] {
            assert!(
                matches!(answer(json), Err(ProviderError::Malformed(_))),
                "{json}"
            );
        }
    }

    #[test]
    fn an_empty_refresh_token_is_none_and_debug_shows_no_token() {
        let grant = answer(r#"{"access_token":"a","refresh_token":""}"#).unwrap();
        assert!(grant.tokens.refresh_token.is_none());
        let read: TokenAnswer =
            serde_json::from_str(r#"{"access_token":"secret-a","refresh_token":"secret-r"}"#)
                .unwrap();
        let shown = format!("{read:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
