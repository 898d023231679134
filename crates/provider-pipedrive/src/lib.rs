//! Pipedrive for Installgate.
//!
//! - The one callback URL: `code` (with `state` only for installs the gateway started) or
//!   `error=user_denied`;
//! - code exchange and revocation at `oauth.pipedrive.com` with HTTP Basic client auth;
//! - the `api_domain` of a token response checked against Pipedrive's hosts before any request
//!   goes there, then `GET {api_domain}/api/v1/users/me` for `company_id` and `id`;
//! - the uninstall notification (`DELETE` with Basic auth and a JSON body).
//!
//! Architecture invariant: this crate depends on core and an HTTP client only; it never touches
//! storage or sessions.

mod api_domain;
mod request;
mod tokens;
mod uninstall;

use async_trait::async_trait;
use installgate_core::{
    AccountDescription, AllowedHosts, AppCredentials, AuthorizationCode, Connection, ConsoleField,
    GatewayRoute, Grant, Identity, InboundRequest, InstallRequest, MalformedRequest, Notice,
    NoticeError, Provider, ProviderError, ProviderId, RefreshToken, StateToken, Timestamp,
    TokenAnswers, TokenSet,
};
use installgate_provider_kit::ClientAuth;
use url::Url;

pub const PROVIDER_ID: &str = "pipedrive";
const AUTHORIZE_URL: &str = "https://oauth.pipedrive.com/oauth/authorize";
const TOKEN_URL: &str = "https://oauth.pipedrive.com/oauth/token";

#[derive(Debug, Clone)]
pub struct Pipedrive {
    id: ProviderId,
    client: reqwest::Client,
    authorize_url: Url,
    token_url: Url,
}

impl Pipedrive {
    /// `client` must follow no redirects and bound its requests in time.
    pub fn new(client: reqwest::Client) -> Result<Self, url::ParseError> {
        Ok(Self {
            id: ProviderId::from_static(PROVIDER_ID),
            client,
            authorize_url: Url::parse(AUTHORIZE_URL)?,
            token_url: Url::parse(TOKEN_URL)?,
        })
    }

    fn token_url(&self, app: &AppCredentials) -> Url {
        app.token_url
            .clone()
            .unwrap_or_else(|| self.token_url.clone())
    }

    /// `…/oauth/revoke`, beside the token endpoint.
    fn revoke_url(&self, app: &AppCredentials) -> Url {
        let mut url = self.token_url(app);
        url.set_path("/oauth/revoke");
        url
    }
}

#[async_trait]
impl Provider for Pipedrive {
    fn id(&self) -> &ProviderId {
        &self.id
    }

    fn display_name(&self) -> &'static str {
        "Pipedrive"
    }

    fn console_fields(&self) -> Vec<ConsoleField> {
        // One URL takes the install redirect (GET) and the uninstall notice (DELETE).
        vec![ConsoleField {
            name: "Callback URL (Developer Hub; installs and uninstalls)",
            route: GatewayRoute::Install,
        }]
    }

    fn parse_install(
        &self,
        _app: &AppCredentials,
        request: &InboundRequest<'_>,
        _now: Timestamp,
    ) -> Result<InstallRequest, MalformedRequest> {
        request::parse(&installgate_provider_kit::query(request)?)
    }

    /// Pipedrive's token answers always carry `refresh_token` and `expires_in` (3599 s).
    fn token_answers(&self) -> TokenAnswers {
        TokenAnswers {
            refresh_token: true,
            expires_in: true,
        }
    }

    /// Pipedrive sends users to the app's setup page, never back to a return URL.
    fn return_hosts(&self, _app: &AppCredentials) -> AllowedHosts {
        AllowedHosts::default()
    }

    /// The install route is a top-level page in a new tab; Pipedrive does not frame it.
    fn frame_ancestors(&self, _app: &AppCredentials) -> Vec<String> {
        Vec::new()
    }

    fn authorize_url(&self, app: &AppCredentials, state: &StateToken) -> Url {
        let mut url = app
            .authorize_url
            .clone()
            .unwrap_or_else(|| self.authorize_url.clone());
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", app.redirect_uri.as_str())
            .append_pair("state", state.expose());
        url
    }

    async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &AuthorizationCode,
    ) -> Result<Grant, ProviderError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", app.redirect_uri.as_str()),
        ];
        tokens::request(&self.client, &self.token_url(app), app, &form).await
    }

    async fn identify(
        &self,
        app: &AppCredentials,
        grant: &Grant,
    ) -> Result<Identity, ProviderError> {
        tokens::identify(&self.client, app, grant).await
    }

    /// Revokes the whole grant (`/oauth/revoke` with the refresh token), which uninstalls the app
    /// for that user. Pipedrive answers 200 whether or not the token was valid.
    async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> Result<Grant, ProviderError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        tokens::request(&self.client, &self.token_url(app), app, &form).await
    }

    /// Installs are per company and user: "company Acme Ltd (user 10)".
    fn describe(&self, connection: &Connection) -> AccountDescription {
        let metadata = &connection.metadata;
        AccountDescription {
            kind: "company",
            name: metadata
                .get("company_name")
                .or_else(|| metadata.get("company_id"))
                .cloned()
                .unwrap_or_else(|| connection.marketplace_key.as_str().to_owned()),
            user: metadata.get("user_id").cloned(),
        }
    }

    /// The uninstall notice: a `DELETE` to the app's callback URL.
    fn parse_notice(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
    ) -> Result<Notice, NoticeError> {
        uninstall::parse(app, request)
    }

    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError> {
        let Some(refresh) = &tokens.refresh_token else {
            return Ok(());
        };
        let form = [
            ("token", refresh.expose()),
            ("token_type_hint", "refresh_token"),
        ];
        let url = self.revoke_url(app);
        installgate_provider_kit::http::post_form(&self.client, &url, app, ClientAuth::Basic, &form)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_id_is_a_valid_slug() {
        assert!(ProviderId::parse(PROVIDER_ID).is_ok());
        assert!(Pipedrive::new(reqwest::Client::new()).is_ok());
    }
}
