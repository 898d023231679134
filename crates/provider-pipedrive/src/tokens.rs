//! Token requests (`/oauth/token`) and identification (`{api_domain}/api/v1/users/me`).

use installgate_core::{
    AppCredentials, Grant, Identity, LenientNumber, MarketplaceKey, Metadata, ProviderError, Tenant,
};
use installgate_provider_kit::http::{get_bearer, json, post_form};
use installgate_provider_kit::token_answer::GrantDetails;
use installgate_provider_kit::{ClientAuth, TokenAnswer};
use serde::Deserialize;

use crate::api_domain;

/// Pipedrive's token answer: the common fields, the scopes (comma-separated) and the company's
/// API host.
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(flatten)]
    common: TokenAnswer,
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
    let body = post_form(client, token_url, app, ClientAuth::Basic, form).await?;
    let response: TokenResponse = json(&body)?;
    let api_domain = api_domain::check(&response.api_domain, app)?;
    let mut metadata = Metadata::new();
    metadata.insert(
        "api_domain".into(),
        api_domain.as_str().trim_end_matches('/').to_owned(),
    );
    // Pipedrive sends scopes comma-separated.
    let scopes = installgate_provider_kit::token_answer::scopes(response.scope.as_deref(), ',');
    // The company's own API host is the install's tenant.
    let tenant = Tenant::new(api_domain.as_str().trim_end_matches('/'))
        .map_err(|_| ProviderError::Unacceptable("api_domain is too long".into()))?;
    response.common.into_grant(GrantDetails {
        scopes,
        marketplace_key: None,
        tenant: Some(tenant),
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
    let me: Me = json(&body)?;
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
        tenant: None,
        marketplace_key: MarketplaceKey::parse(&format!("{company}:{user}")).map_err(malformed)?,
        metadata,
    })
}
