//! HubSpot for Installgate.
//!
//! - `step=authorize&returnUrl=R` and `step=finalize&code&state&returnUrl=R` (the seamless
//!   install with partner sign-in), `step=finalize&code&returnUrl=R` (without it), and the
//!   classic OAuth callback (`code` and `state`, no `step`) for installs the gateway starts;
//! - code exchange at `/oauth/v3/token` with the client credentials in the form body;
//! - the portal (`hub_id`) from the token response, else from token introspection.
//!
//! Architecture invariant: this crate depends on core and an HTTP client only; it never touches
//! storage or sessions.

mod request;
mod tokens;

use async_trait::async_trait;
use installgate_core::{
    AccountDescription, AllowedHosts, AppCredentials, AuthorizationCode, Connection, ConsoleField,
    GatewayRoute, Grant, Identity, InboundRequest, InstallRequest, MalformedRequest, Provider,
    ProviderError, ProviderId, RefreshToken, ReturnUrl, StateToken, Timestamp, TokenAnswers,
    TokenSet,
};
use url::Url;

/// Where HubSpot's own endpoints are, unless an app overrides them.
const AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";
const TOKEN_URL: &str = "https://api.hubapi.com/oauth/v3/token";
const API_BASE_URL: &str = "https://api.hubapi.com";
/// HubSpot's UI hosts: `app.hubspot.com` (na1) and one per other data centre ("hublet"),
/// `app-eu1.hubspot.com`, `app-na2.hubspot.com`, `app-ap1.hubspot.com`, … Apps can narrow or
/// widen the list with `return_hosts`.
const DEFAULT_RETURN_HOSTS: [&str; 2] = ["app.hubspot.com", "app-<hublet>.hubspot.com"];

pub const PROVIDER_ID: &str = "hubspot";

#[derive(Debug, Clone)]
pub struct HubSpot {
    id: ProviderId,
    client: reqwest::Client,
    authorize_url: Url,
    token_url: Url,
    api_base_url: Url,
}

impl HubSpot {
    /// `client` must follow no redirects and bound its requests in time.
    pub fn new(client: reqwest::Client) -> Result<Self, url::ParseError> {
        Ok(Self {
            id: ProviderId::from_static(PROVIDER_ID),
            client,
            authorize_url: Url::parse(AUTHORIZE_URL)?,
            token_url: Url::parse(TOKEN_URL)?,
            api_base_url: Url::parse(API_BASE_URL)?,
        })
    }

    fn token_url(&self, app: &AppCredentials) -> Url {
        app.token_url
            .clone()
            .unwrap_or_else(|| self.token_url.clone())
    }
}

#[async_trait]
impl Provider for HubSpot {
    fn id(&self) -> &ProviderId {
        &self.id
    }

    fn display_name(&self) -> &'static str {
        "HubSpot"
    }

    fn console_fields(&self) -> Vec<ConsoleField> {
        vec![
            ConsoleField {
                name: "Install button URL",
                route: GatewayRoute::Install,
            },
            ConsoleField {
                name: "Redirect URL (the app's Auth settings)",
                route: GatewayRoute::Install,
            },
        ]
    }

    fn parse_install(
        &self,
        _app: &AppCredentials,
        request: &InboundRequest<'_>,
        _now: Timestamp,
    ) -> Result<InstallRequest, MalformedRequest> {
        request::parse(&installgate_provider_kit::query(request)?)
    }

    /// HubSpot's token answers always carry `refresh_token` and `expires_in` (1800 s).
    fn token_answers(&self) -> TokenAnswers {
        TokenAnswers {
            refresh_token: true,
            expires_in: true,
        }
    }

    fn return_hosts(&self, app: &AppCredentials) -> AllowedHosts {
        app.return_hosts
            .clone()
            .or_else(|| AllowedHosts::new(DEFAULT_RETURN_HOSTS).ok())
            .unwrap_or_default()
    }

    /// HubSpot's seamless install: `state`, and the app's conditional scopes as `scope`, are set
    /// on the return URL, replacing any it carried (one `state` leaves the gateway).
    fn return_with_state(
        &self,
        return_url: &ReturnUrl,
        state: &StateToken,
        scope: &str,
    ) -> ReturnUrl {
        let mut params = vec![("state", state.expose())];
        if !scope.is_empty() {
            params.push(("scope", scope));
        }
        return_url.with_params(params)
    }

    /// Installs are per portal: "portal 4242".
    fn describe(&self, connection: &Connection) -> AccountDescription {
        AccountDescription {
            kind: "portal",
            name: connection.marketplace_key.as_str().to_owned(),
            user: None,
        }
    }

    /// The hosts allowed by name; a data-centre host is added per response (see the server's
    /// framing policy), as CSP cannot express `app-<hublet>.hubspot.com`.
    fn frame_ancestors(&self, app: &AppCredentials) -> Vec<String> {
        self.return_hosts(app)
            .exact()
            .map(|host| format!("https://{host}"))
            .collect()
    }

    fn authorize_url(&self, app: &AppCredentials, state: &StateToken) -> Url {
        let mut url = app
            .authorize_url
            .clone()
            .unwrap_or_else(|| self.authorize_url.clone());
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &app.client_id)
                .append_pair("redirect_uri", app.redirect_uri.as_str())
                .append_pair("scope", &app.scopes.join(" "));
            if !app.optional_scopes.is_empty() {
                query.append_pair("optional_scope", &app.optional_scopes.join(" "));
            }
            query.append_pair("state", state.expose());
        }
        url
    }

    async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &AuthorizationCode,
    ) -> Result<Grant, ProviderError> {
        tokens::exchange(&self.client, &self.token_url(app), app, code).await
    }

    async fn identify(
        &self,
        app: &AppCredentials,
        grant: &Grant,
    ) -> Result<Identity, ProviderError> {
        if let Some(key) = &grant.marketplace_key {
            return Ok(Identity {
                marketplace_key: key.clone(),
                tenant: grant.tenant.clone(),
                metadata: grant.metadata.clone(),
            });
        }
        tokens::introspect(
            &self.client,
            &self.token_url(app),
            app,
            &grant.tokens.access_token,
        )
        .await
    }

    /// HubSpot's app-uninstall endpoint, with the account's access token.
    async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> Result<Grant, ProviderError> {
        tokens::refresh(&self.client, &self.token_url(app), app, refresh_token).await
    }

    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError> {
        let mut url = app
            .api_base_url
            .clone()
            .unwrap_or_else(|| self.api_base_url.clone());
        url.set_path("/appinstalls/v3/external-install");
        installgate_provider_kit::http::delete_bearer(
            &self.client,
            &url,
            tokens.access_token.expose(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_id_is_a_valid_slug() {
        assert!(ProviderId::parse(PROVIDER_ID).is_ok());
        assert!(HubSpot::new(reqwest::Client::new()).is_ok());
    }
}
