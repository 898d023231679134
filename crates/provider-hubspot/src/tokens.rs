//! Token exchange (`/oauth/v3/token`) and introspection (`/oauth/v3/token/introspect`).

use installgate_core::{
    AccessToken, AppCredentials, AuthorizationCode, Grant, Identity, LenientNumber, MarketplaceKey,
    Metadata, ProviderError, RefreshToken, Tenant,
};
use installgate_provider_kit::http::{self, json};
use installgate_provider_kit::token_answer::GrantDetails;
use installgate_provider_kit::{ClientAuth, TokenAnswer};
use serde::Deserialize;

/// HubSpot's token answer: the common fields, the portal (`hub_id`) and the granted scopes.
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(flatten)]
    common: TokenAnswer,
    hub_id: Option<LenientNumber>,
    scopes: Option<Vec<String>>,
}

/// Posts a form to HubSpot with the client's credentials in it, as HubSpot asks.
async fn post_form<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &url::Url,
    app: &AppCredentials,
    form: &[(&str, &str)],
) -> Result<T, ProviderError> {
    json(&http::post_form(client, url, app, ClientAuth::FormBody, form).await?)
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
    ];
    grant_of(post_form(client, token_url, app, &form).await?)
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
    ];
    grant_of(post_form(client, token_url, app, &form).await?)
}

fn grant_of(response: TokenResponse) -> Result<Grant, ProviderError> {
    let marketplace_key = response.hub_id.as_ref().map(key_of).transpose()?;
    response.common.into_grant(GrantDetails {
        scopes: response.scopes.unwrap_or_default(),
        marketplace_key,
        tenant: None,
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
        ("token_type_hint", "access_token"),
        ("token", access_token.expose()),
        ("access_token", access_token.expose()),
    ];
    let answer: Introspection = post_form(client, &url, app, &form).await?;
    if answer.active == Some(false) {
        return Err(ProviderError::Unacceptable(
            "the new access token is not active".into(),
        ));
    }
    let hub_id = answer
        .hub_id
        .ok_or_else(|| ProviderError::Malformed("introspection names no hub_id".into()))?;
    let mut metadata = Metadata::new();
    let mut tenant = None;
    if let Some(hublet) = answer.signed_access_token.and_then(|signed| signed.hublet)
        && hublet.len() <= 16
        && hublet.chars().all(|c| c.is_ascii_alphanumeric())
    {
        // The data centre is the portal's tenant; `hublet` stays for the API's readers.
        tenant = Tenant::new(hublet.as_str()).ok();
        metadata.insert("hublet".into(), hublet);
    }
    Ok(Identity {
        marketplace_key: key_of(&hub_id)?,
        tenant,
        metadata,
    })
}
