//! Shopify for Installgate, for standalone (non-embedded) apps with the authorization code grant.
//!
//! - The install request (`shop`, `timestamp`, `host`, `hmac`) and the OAuth callback are
//!   HMAC-signed with the app's secret: the signature, the shop host and the age are checked
//!   before anything is read ([`request`]);
//! - every shop is its own OAuth host: the shop is the install's tenant, bound into its state and
//!   kept with the connection, and each call goes to `https://{shop}/admin/oauth/…`;
//! - offline tokens are asked for as expiring (`expiring=1`), refreshed with rotation;
//! - webhooks (`app/uninstalled`, the privacy topics) are verified over the raw body.
//!
//! Endpoint overrides (the sandbox, tests) name the shop with `{tenant}`:
//! `http://127.0.0.1:9000/shops/{tenant}/admin/oauth/authorize`.
//!
//! Architecture invariant: this crate depends on core and an HTTP client only; it never touches
//! storage or sessions.

mod request;
mod shop;
mod tokens;
mod webhooks;

use async_trait::async_trait;
use installgate_core::{
    AccountDescription, AllowedHosts, AppCredentials, AuthorizationCode, Connection, ConsoleField,
    GatewayRoute, Grant, Identity, InboundRequest, InstallRequest, MalformedRequest,
    MarketplaceKey, Metadata, Notice, NoticeError, Provider, ProviderError, ProviderId,
    RefreshToken, StateToken, Tenant, Timestamp, TokenAnswers, TokenSet,
};
use installgate_provider_kit::http::{delete_with_header, tenant_endpoint};
use url::Url;

pub use request::{MAX_AGE_SECONDS, canonical};
pub use tokens::EXPIRING_OPTION;

pub const PROVIDER_ID: &str = "shopify";
/// Where a shop's admin frames an embedded page from.
const ADMIN_ORIGIN: &str = "https://admin.shopify.com";

#[derive(Debug, Clone)]
pub struct Shopify {
    id: ProviderId,
    client: reqwest::Client,
    admin: Url,
}

impl Shopify {
    /// `client` must follow no redirects and bound its requests in time.
    pub fn new(client: reqwest::Client) -> Result<Self, url::ParseError> {
        Ok(Self {
            id: ProviderId::from_static(PROVIDER_ID),
            client,
            admin: Url::parse(ADMIN_ORIGIN)?,
        })
    }

    /// `https://{shop}{path}`, or the app's override for it with the shop put in.
    fn endpoint(
        &self,
        app: &AppCredentials,
        overridden: Option<&Url>,
        path: &str,
    ) -> Result<Url, ProviderError> {
        let tenant = app.tenant.as_ref().ok_or_else(|| {
            ProviderError::Unacceptable("a Shopify call needs the connection's shop".into())
        })?;
        let url = match overridden {
            Some(template) => tenant_endpoint(template, tenant),
            None => Url::parse(&format!("https://{tenant}{path}")).ok(),
        };
        url.ok_or_else(|| ProviderError::Unacceptable("the shop makes no valid URL".into()))
    }

    fn token_url(&self, app: &AppCredentials) -> Result<Url, ProviderError> {
        self.endpoint(app, app.token_url.as_ref(), "/admin/oauth/access_token")
    }
}

#[async_trait]
impl Provider for Shopify {
    fn id(&self) -> &ProviderId {
        &self.id
    }

    fn display_name(&self) -> &'static str {
        "Shopify"
    }

    fn console_fields(&self) -> Vec<ConsoleField> {
        vec![
            ConsoleField {
                name: "App URL",
                route: GatewayRoute::Install,
            },
            ConsoleField {
                name: "Allowed redirection URL",
                route: GatewayRoute::Install,
            },
            ConsoleField {
                name: "app/uninstalled webhook",
                route: GatewayRoute::Notify,
            },
            ConsoleField {
                name: "Compliance webhooks (customers/data_request, customers/redact, shop/redact)",
                route: GatewayRoute::Notify,
            },
        ]
    }

    fn parse_install(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
        now: Timestamp,
    ) -> Result<InstallRequest, MalformedRequest> {
        request::parse(app, request, now)
    }

    /// Standalone apps send nobody back to Shopify with a state: no return URLs.
    fn return_hosts(&self, _app: &AppCredentials) -> AllowedHosts {
        AllowedHosts::default()
    }

    /// The shop's admin, both as the shop's own host and as `admin.shopify.com`; only the
    /// latter until the shop is known.
    fn frame_ancestors(&self, app: &AppCredentials) -> Vec<String> {
        let mut origins = Vec::new();
        if let Some(shop) = &app.tenant {
            origins.push(format!("https://{shop}"));
        }
        origins.push(ADMIN_ORIGIN.to_owned());
        origins
    }

    fn requires_tenant(&self) -> bool {
        true
    }

    fn parse_tenant(&self, raw: &str) -> Result<Tenant, MalformedRequest> {
        shop::parse(raw)
    }

    /// Checked by the provider itself: an expiring token's answer must carry `expires_in` and
    /// `refresh_token`, a non-expiring one carries neither.
    fn token_answers(&self) -> TokenAnswers {
        TokenAnswers {
            refresh_token: false,
            expires_in: false,
        }
    }

    fn authorize_url(&self, app: &AppCredentials, state: &StateToken) -> Url {
        // Core starts no install without a shop, so the endpoint is always there; were it not,
        // the state goes nowhere: the admin's bare address is answered instead.
        let Ok(mut url) = self.endpoint(app, app.authorize_url.as_ref(), "/admin/oauth/authorize")
        else {
            return self.admin.clone();
        };
        let scopes = app
            .scopes
            .iter()
            .chain(&app.optional_scopes)
            .cloned()
            .collect::<Vec<_>>()
            .join(",");
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("scope", &scopes)
            .append_pair("redirect_uri", app.redirect_uri.as_str())
            .append_pair("state", state.expose());
        url
    }

    async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &AuthorizationCode,
    ) -> Result<Grant, ProviderError> {
        let expiring = tokens::expiring(app);
        let mut form = vec![("code", code.expose())];
        if expiring {
            form.push(("expiring", "1"));
        }
        tokens::request(&self.client, &self.token_url(app)?, app, &form, expiring).await
    }

    /// The shop is the account: verified by the signed callback and bound into the state.
    async fn identify(
        &self,
        app: &AppCredentials,
        _grant: &Grant,
    ) -> Result<Identity, ProviderError> {
        let shop = app
            .tenant
            .clone()
            .ok_or_else(|| ProviderError::Unacceptable("an install without its shop".into()))?;
        let marketplace_key = MarketplaceKey::parse(shop.as_str())
            .map_err(|_| ProviderError::Unacceptable("the shop is not a valid key".into()))?;
        let mut metadata = Metadata::new();
        metadata.insert("shop".into(), shop.as_str().to_owned());
        Ok(Identity {
            marketplace_key,
            tenant: Some(shop),
            metadata,
        })
    }

    /// Each refresh answers a new access token and a new refresh token (rotation).
    async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> Result<Grant, ProviderError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        tokens::request(&self.client, &self.token_url(app)?, app, &form, true).await
    }

    /// The migration Shopify offers before its deadline: a token exchange of the non-expiring
    /// offline token for an expiring one (once and for good: the old token stops working).
    async fn upgrade_token(
        &self,
        app: &AppCredentials,
        tokens: &TokenSet,
    ) -> Result<Option<Grant>, ProviderError> {
        if tokens.expires_at.is_some() || !tokens::expiring(app) {
            return Ok(None);
        }
        let form = [
            ("grant_type", tokens::TOKEN_EXCHANGE),
            ("subject_token", tokens.access_token.expose()),
            ("subject_token_type", tokens::OFFLINE_TOKEN_TYPE),
            ("requested_token_type", tokens::OFFLINE_TOKEN_TYPE),
            ("expiring", "1"),
        ];
        tokens::request(&self.client, &self.token_url(app)?, app, &form, true)
            .await
            .map(Some)
    }

    /// Uninstalls the app from the shop: `DELETE /admin/api_permissions/current.json` with the
    /// access token.
    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError> {
        let url = self
            .endpoint(app, app.api_base_url.as_ref(), "/")?
            .join("admin/api_permissions/current.json")
            .map_err(|_| ProviderError::Unacceptable("the shop makes no valid URL".into()))?;
        delete_with_header(
            &self.client,
            &url,
            "x-shopify-access-token",
            tokens.access_token.expose(),
        )
        .await
    }

    /// Installs are per shop: "shop acme.myshopify.com".
    fn describe(&self, connection: &Connection) -> AccountDescription {
        AccountDescription {
            kind: "shop",
            name: connection.marketplace_key.as_str().to_owned(),
            user: None,
        }
    }

    fn parse_notice(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
    ) -> Result<Notice, NoticeError> {
        webhooks::parse(app, request)
    }

    fn delivery_id(&self, request: &InboundRequest<'_>) -> Option<String> {
        webhooks::delivery_id(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_id_is_a_valid_slug() {
        assert!(ProviderId::parse(PROVIDER_ID).is_ok());
        assert!(Shopify::new(reqwest::Client::new()).is_ok());
    }
}
