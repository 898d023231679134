//! Token requests (`/oauth/token`) and identification (`{api_domain}/api/v1/users/me`).

use std::time::Duration;

use installgate_core::{
    AccessToken, AppCredentials, Grant, Identity, LenientNumber, MarketplaceKey, Metadata,
    ProviderError, RefreshToken, TokenSet,
};
use serde::Deserialize;

use crate::api_domain;
use crate::http::{get_bearer, post_form_basic};

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<LenientNumber>,
    scope: Option<String>,
    api_domain: String,
}

fn malformed(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Malformed(error.to_string())
}

/// A token request (authorization code or refresh). The `api_domain` is checked here, before
/// anything is returned that could send a request there.
pub async fn request(
    client: &reqwest::Client,
    token_url: &url::Url,
    app: &AppCredentials,
    form: &[(&str, &str)],
) -> Result<Grant, ProviderError> {
    let body = post_form_basic(client, token_url, app, form).await?;
    let response: TokenResponse = serde_json::from_slice(&body).map_err(malformed)?;
    if response.access_token.is_empty() {
        return Err(ProviderError::Malformed("the access token is empty".into()));
    }
    let api_domain = api_domain::check(&response.api_domain, app)?;
    let mut metadata = Metadata::new();
    metadata.insert(
        "api_domain".into(),
        api_domain.as_str().trim_end_matches('/').to_owned(),
    );
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
        // Pipedrive sends scopes comma-separated.
        scopes: response
            .scope
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect(),
        marketplace_key: None,
        metadata,
    })
}

#[derive(Deserialize)]
struct Me {
    data: MeData,
}

#[derive(Deserialize)]
struct MeData {
    id: LenientNumber,
    company_id: LenientNumber,
    company_name: Option<String>,
    company_domain: Option<String>,
}

/// Installs are per user and company: the key is `company_id:user_id`.
pub async fn identify(
    client: &reqwest::Client,
    app: &AppCredentials,
    grant: &Grant,
) -> Result<Identity, ProviderError> {
    let base = grant
        .metadata
        .get("api_domain")
        .ok_or_else(|| ProviderError::Malformed("no api_domain".into()))?;
    // Checked again: a grant could have been built elsewhere.
    let base = api_domain::check(base, app)?;
    let mut url = base;
    url.set_path("/api/v1/users/me");
    let body = get_bearer(client, &url, grant.tokens.access_token.expose()).await?;
    let me: Me = serde_json::from_slice(&body).map_err(malformed)?;
    let (Some(user), Some(company)) = (me.data.id.value(), me.data.company_id.value()) else {
        return Err(ProviderError::Malformed(
            "users/me names no numeric id and company_id".into(),
        ));
    };
    let mut metadata = Metadata::new();
    metadata.insert("company_id".into(), company.to_string());
    metadata.insert("user_id".into(), user.to_string());
    for (key, value) in [
        ("company_name", me.data.company_name),
        ("company_domain", me.data.company_domain),
    ] {
        if let Some(value) = value.filter(|v| v.len() <= 200) {
            metadata.insert(key.into(), value);
        }
    }
    Ok(Identity {
        marketplace_key: MarketplaceKey::parse(&format!("{company}:{user}")).map_err(malformed)?,
        metadata,
    })
}
