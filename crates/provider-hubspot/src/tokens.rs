//! Token exchange (`/oauth/v3/token`) and introspection (`/oauth/v3/token/introspect`).

use std::time::Duration;

use installgate_core::{
    AccessToken, AppCredentials, AuthorizationCode, Grant, Identity, LenientNumber, MarketplaceKey,
    Metadata, ProviderError, RefreshToken, TokenSet,
};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::http::post_form;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<LenientNumber>,
    hub_id: Option<LenientNumber>,
    scopes: Option<Vec<String>>,
}

fn key_of(hub_id: &LenientNumber) -> Result<MarketplaceKey, ProviderError> {
    let id = hub_id
        .value()
        .ok_or_else(|| ProviderError::Malformed("hub_id is not a number".into()))?;
    MarketplaceKey::parse(&id.to_string())
        .map_err(|error| ProviderError::Malformed(error.to_string()))
}

pub async fn exchange(
    client: &reqwest::Client,
    token_url: &url::Url,
    app: &AppCredentials,
    code: &AuthorizationCode,
) -> Result<Grant, ProviderError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose_secret()),
    ];
    grant_of(post_form(client, token_url, &form).await?)
}

/// `grant_type=refresh_token`, with the client's credentials in the form.
pub async fn refresh(
    client: &reqwest::Client,
    token_url: &url::Url,
    app: &AppCredentials,
    refresh_token: &RefreshToken,
) -> Result<Grant, ProviderError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose_secret()),
    ];
    grant_of(post_form(client, token_url, &form).await?)
}

fn grant_of(response: TokenResponse) -> Result<Grant, ProviderError> {
    if response.access_token.is_empty() {
        return Err(ProviderError::Malformed("the access token is empty".into()));
    }
    let marketplace_key = response.hub_id.as_ref().map(key_of).transpose()?;
    Ok(Grant {
        tokens: TokenSet {
            access_token: AccessToken::new(response.access_token),
            refresh_token: response
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
            expires_at: None,
        },
        expires_in: response
            .expires_in
            .and_then(|seconds| seconds.value())
            .map(Duration::from_secs),
        scopes: response.scopes.unwrap_or_default(),
        marketplace_key,
        metadata: Metadata::new(),
    })
}

#[derive(Deserialize)]
struct SignedAccessToken {
    hublet: Option<String>,
}

#[derive(Deserialize)]
struct Introspection {
    active: Option<bool>,
    hub_id: Option<LenientNumber>,
    signed_access_token: Option<SignedAccessToken>,
}

/// Asks HubSpot which portal an access token belongs to. HubSpot's guide names the field
/// after the hint (`access_token=…`), the reference names it `token`; both are sent.
pub async fn introspect(
    client: &reqwest::Client,
    token_url: &url::Url,
    app: &AppCredentials,
    access_token: &AccessToken,
) -> Result<Identity, ProviderError> {
    let mut url = token_url.clone();
    url.set_path(&format!(
        "{}/introspect",
        token_url.path().trim_end_matches('/')
    ));
    let form = [
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose_secret()),
        ("token_type_hint", "access_token"),
        ("token", access_token.expose()),
        ("access_token", access_token.expose()),
    ];
    let answer: Introspection = post_form(client, &url, &form).await?;
    if answer.active == Some(false) {
        return Err(ProviderError::Unacceptable(
            "the new access token is not active".into(),
        ));
    }
    let hub_id = answer
        .hub_id
        .ok_or_else(|| ProviderError::Malformed("introspection names no hub_id".into()))?;
    let mut metadata = Metadata::new();
    if let Some(hublet) = answer.signed_access_token.and_then(|signed| signed.hublet)
        && hublet.len() <= 16
        && hublet.chars().all(|c| c.is_ascii_alphanumeric())
    {
        metadata.insert("hublet".into(), hublet);
    }
    Ok(Identity {
        marketplace_key: key_of(&hub_id)?,
        metadata,
    })
}
