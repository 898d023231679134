//! `POST https://{shop}/admin/oauth/access_token`: the code exchange (asking for an expiring
//! offline token unless the app opted out) and the refresh, which rotates the refresh token.

use installgate_core::{AppCredentials, Grant, ProviderError};
use installgate_provider_kit::ClientAuth;
use installgate_provider_kit::http::{json, post_form};
use installgate_provider_kit::token_answer::{GrantDetails, TokenAnswer, scopes};
use serde::Deserialize;

/// The per-app option that turns expiring offline tokens off (`"false"`); on by default, since
/// Shopify requires them of public apps from 2027-01-01.
pub const EXPIRING_OPTION: &str = "expiring_offline_tokens";

/// RFC 8693's token exchange, which moves a non-expiring offline token to an expiring one.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const OFFLINE_TOKEN_TYPE: &str = "urn:shopify:params:oauth:token-type:offline-access-token";

#[derive(Deserialize)]
struct Answer {
    #[serde(flatten)]
    common: TokenAnswer,
    /// Comma-separated.
    scope: Option<String>,
}

/// Whether `app` asks for expiring offline tokens.
pub fn expiring(app: &AppCredentials) -> bool {
    app.options.get(EXPIRING_OPTION).map(String::as_str) != Some("false")
}

/// A token call; `expiring` says an answer must carry a lifetime and a refresh token.
pub async fn request(
    client: &reqwest::Client,
    url: &url::Url,
    app: &AppCredentials,
    form: &[(&str, &str)],
    expiring: bool,
) -> Result<Grant, ProviderError> {
    let body = post_form(client, url, app, ClientAuth::FormBody, form).await?;
    let answer: Answer = json(&body)?;
    if expiring && (answer.common.refresh_token.is_none() || answer.common.expires_in.is_none()) {
        return Err(ProviderError::Unacceptable(
            "an expiring offline token was asked for, and the answer has no expiry or refresh token"
                .into(),
        ));
    }
    answer.common.into_grant(GrantDetails {
        scopes: scopes(answer.scope.as_deref(), ','),
        ..GrantDetails::default()
    })
}
