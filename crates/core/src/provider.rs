//! The provider port: what each marketplace crate implements. A provider speaks its
//! marketplace's protocol (parsing install requests, exchanging codes, identifying accounts) and
//! never touches storage or sessions; the flow engine does that.

use async_trait::async_trait;
use secrecy::SecretString;
use url::Url;

use crate::{
    AllowedHosts, AppId, AuthorizationCode, Connection, MarketplaceKey, Metadata, ProviderId,
    RefreshToken, ReturnUrl, StateToken, Tenant, Timestamp, TokenSet,
};

/// An app as a provider sees it: credentials and the endpoints to use.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub app: AppId,
    pub client_id: String,
    pub client_secret: SecretString,
    /// The app's install URL at the gateway, sent as `redirect_uri`.
    pub redirect_uri: Url,
    pub scopes: Vec<String>,
    pub optional_scopes: Vec<String>,
    /// Overrides of the provider's own endpoints (the sandbox and tests use these).
    pub authorize_url: Option<Url>,
    pub token_url: Option<Url>,
    pub api_base_url: Option<Url>,
    /// Overrides the provider's default return hosts.
    pub return_hosts: Option<AllowedHosts>,
    /// Settings only this marketplace reads (`apps.<id>.options`), as its provider documents
    /// them.
    pub options: std::collections::BTreeMap<String, String>,
    /// The install's tenant, once known (see [`Tenant`]): set by the gateway for each call about
    /// one install or connection, `None` in the app's own credentials.
    pub tenant: Option<Tenant>,
}

impl AppCredentials {
    /// These credentials for one install or connection of `tenant`.
    pub fn for_tenant(&self, tenant: Option<Tenant>) -> Self {
        Self {
            tenant,
            ..self.clone()
        }
    }

    /// These credentials for calls about `connection`, with the tenant it was installed for.
    pub fn for_connection(&self, connection: &Connection) -> Self {
        self.for_tenant(connection.tenant())
    }
}

/// What an install request asks for, in the terms every provider shares.
#[derive(Debug, Clone)]
pub enum InstallRequest {
    /// The marketplace asks the gateway to start OAuth for this (verified) tenant: sign the user
    /// in, then send them to the marketplace's consent page.
    Begin { tenant: Tenant },
    /// The first step of a seamless install: sign in, mint a state, send the user back.
    Authorize { return_url: String },
    /// An authorization code arrived, with the state and return URL the protocol carries.
    Code {
        code: AuthorizationCode,
        state: Option<String>,
        return_url: Option<String>,
        /// The tenant the (verified) callback names; it must be the one its state was minted for.
        tenant: Option<Tenant>,
    },
    /// The user declined or the marketplace reported an error, with the state of the install it
    /// ends when the marketplace sent one back.
    Denied {
        /// The user said no (the marketplace's own word for it, such as `access_denied`), as
        /// opposed to a failure the marketplace reports.
        cancelled: bool,
        error: String,
        description: Option<String>,
        state: Option<String>,
        return_url: Option<String>,
    },
}

/// A call a marketplace makes to the gateway on its own (an uninstall notice, a webhook), as
/// the provider sees it: nothing of it has been checked yet.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// `GET`, `POST`, `DELETE`, … in upper case.
    pub method: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header names in lower case, values as sent (those that are not text are left out).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl InboundRequest<'_> {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What a verified notice from a marketplace says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The app was uninstalled for this marketplace account.
    Uninstalled { marketplace_key: MarketplaceKey },
    /// A privacy-law request about this marketplace account the vendor must act on, with the
    /// ids that say what it is about (`customer_id`, `orders_requested`, …; never personal data
    /// beyond ids).
    Privacy {
        marketplace_key: MarketplaceKey,
        request: PrivacyRequest,
        details: Metadata,
    },
}

/// The privacy-law requests marketplaces pass on to apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivacyRequest {
    /// A customer asked for the data the app holds about them.
    CustomerDataRequest,
    /// A customer's data must be erased.
    CustomerRedact,
    /// The tenant's (a shop's) data must be erased, some time after it uninstalled.
    TenantRedact,
}

impl PrivacyRequest {
    /// The event it is forwarded to the vendor as.
    pub fn event(self) -> crate::EventKind {
        match self {
            Self::CustomerDataRequest => crate::EventKind::PrivacyCustomerDataRequest,
            Self::CustomerRedact => crate::EventKind::PrivacyCustomerRedact,
            Self::TenantRedact => crate::EventKind::PrivacyShopRedact,
        }
    }
}

/// Why a notice was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// This marketplace sends no notices of this kind (or with this method).
    #[error("this marketplace sends no such notice")]
    NotSupported,
    /// The notice's credentials or signature are missing or wrong; `challenge` is the
    /// `WWW-Authenticate` value to answer with, if the marketplace's scheme has one.
    #[error("the notice is not authenticated")]
    Unauthenticated { challenge: Option<&'static str> },
    /// Authenticated, but not a notice for this app; the message says what is wrong.
    #[error("the notice is not valid: {0}")]
    Malformed(String),
}

/// How the pages name a connection's marketplace account ("Connect Pipedrive company Acme Ltd
/// (user 10) to your account?").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDescription {
    /// What the marketplace calls the account: `company`, `portal`, `shop`, …
    pub kind: &'static str,
    pub name: String,
    /// The marketplace user who installed, when installs are per user.
    pub user: Option<String>,
}

/// An install request that does not follow the protocol; the message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedRequest(pub String);

/// What a code exchange yields.
#[derive(Debug, Clone)]
pub struct Grant {
    /// `expires_at` is left to the flow engine, which knows the time.
    pub tokens: TokenSet,
    pub expires_in: Option<std::time::Duration>,
    pub scopes: Vec<String>,
    /// Set when the token response names the account (HubSpot's `hub_id`).
    pub marketplace_key: Option<MarketplaceKey>,
    /// Set when the token response names the tenant (HubSpot's hublet, Pipedrive's
    /// `api_domain`); an install's tenant from its state wins, and the two must agree.
    pub tenant: Option<Tenant>,
    pub metadata: Metadata,
}

/// The marketplace account a grant belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub marketplace_key: MarketplaceKey,
    /// Set when identifying names the tenant (HubSpot's hublet, from the token's details).
    pub tenant: Option<Tenant>,
    pub metadata: Metadata,
}

/// A provider call failed. No variant carries a token, code or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("the provider could not be reached")]
    Unreachable,
    #[error("the provider answered {0}")]
    Status(u16),
    /// The grant (code or refresh token) is not valid any more: used, expired or revoked.
    #[error("the provider refused the grant (invalid_grant)")]
    InvalidGrant,
    /// Another OAuth error the provider reported (`invalid_client`, …).
    #[error("the provider refused: {0}")]
    OAuth(String),
    #[error("the provider's answer could not be read: {0}")]
    Malformed(String),
    /// The answer was readable but is not acceptable (an `api_domain` on a foreign host, …).
    #[error("the provider's answer is not acceptable: {0}")]
    Unacceptable(String),
}

impl ProviderError {
    /// Whether the provider may well answer if asked again later (it was down or overloaded),
    /// as opposed to refusing or answering nonsense.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout | Self::Unreachable => true,
            Self::Status(status) => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// One of the gateway's URLs for an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayRoute {
    /// `/install/{provider}/{app}`: installs, OAuth callbacks (and notices sent there).
    Install,
    /// `/notify/{provider}/{app}`: notices the marketplace posts (webhooks).
    Notify,
}

/// A field of a marketplace's developer console that takes a gateway URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleField {
    /// As the marketplace names it ("Redirect URL", "App URL", …).
    pub name: &'static str,
    pub route: GatewayRoute,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn id(&self) -> &ProviderId;

    /// The name people know the marketplace by.
    fn display_name(&self) -> &'static str;

    /// Reads an install request: the whole request as it arrived (query in order, headers,
    /// body), the app's credentials (to check a signature) and the time (to check its age).
    fn parse_install(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
        now: Timestamp,
    ) -> Result<InstallRequest, MalformedRequest>;

    /// Hosts a return URL may point at.
    fn return_hosts(&self, app: &AppCredentials) -> AllowedHosts;

    /// Origins that may frame the install route (`frame-ancestors` sources, `'self'` excluded):
    /// the app's own when `app.tenant` is `None`, and those of a response about one verified
    /// tenant otherwise (a shop's admin, which cannot be listed ahead of time).
    fn frame_ancestors(&self, app: &AppCredentials) -> Vec<String>;

    /// Whether installs name a tenant: the gateway then starts one only for a tenant
    /// ([`Provider::parse_tenant`]), never without.
    fn requires_tenant(&self) -> bool {
        false
    }

    /// The fields of the marketplace's developer console that take one of the gateway's URLs,
    /// as the marketplace names them, and which URL goes in each (the operator console's apps
    /// page lists them). By default, the OAuth redirect URL.
    fn console_fields(&self) -> Vec<ConsoleField> {
        vec![ConsoleField {
            name: "OAuth redirect URL",
            route: GatewayRoute::Install,
        }]
    }

    /// Validates a tenant named outside a signed request (`/connect/…?tenant=…`, an import).
    /// Marketplaces without tenants keep the default, which refuses every one.
    fn parse_tenant(&self, raw: &str) -> Result<Tenant, MalformedRequest> {
        let _ = raw;
        Err(MalformedRequest(format!(
            "{} installs name no tenant",
            self.display_name()
        )))
    }

    /// What this marketplace's token answers always carry; an answer without it is refused
    /// before anything is stored.
    fn token_answers(&self) -> crate::TokenAnswers;

    /// Where the first step of a seamless install sends the user back: `return_url` (validated)
    /// with the state the gateway minted, and `scope` the app's conditional scopes (space
    /// separated, maybe empty), as the marketplace's protocol wants them. By default the state is
    /// set as `state`, replacing any the URL carried.
    fn return_with_state(
        &self,
        return_url: &ReturnUrl,
        state: &StateToken,
        scope: &str,
    ) -> ReturnUrl {
        let _ = scope;
        return_url.with_params([("state", state.expose())])
    }

    /// Where to send a user to grant access, for installs the gateway starts (for `app.tenant`
    /// when the marketplace has tenants).
    fn authorize_url(&self, app: &AppCredentials, state: &StateToken) -> Url;

    /// Exchanges an authorization code. Never retried: codes are single-use.
    async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &AuthorizationCode,
    ) -> Result<Grant, ProviderError>;

    /// The marketplace account of a grant, asking the provider when the grant does not say.
    async fn identify(
        &self,
        app: &AppCredentials,
        grant: &Grant,
    ) -> Result<Identity, ProviderError>;

    /// Trades a refresh token for new tokens. The grant's `refresh_token` is whatever the
    /// provider sent back (`None` if it sent none: the old one stays valid).
    async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> Result<Grant, ProviderError>;

    /// Trades an access token that never expires for an expiring one with a refresh token, where
    /// the marketplace offers that (Shopify's token exchange, before its 2027 deadline); `None`
    /// where it does not. The answer replaces the connection's tokens.
    async fn upgrade_token(
        &self,
        app: &AppCredentials,
        tokens: &TokenSet,
    ) -> Result<Option<Grant>, ProviderError> {
        let _ = (app, tokens);
        Ok(None)
    }

    /// Ends the grant at the marketplace (the app is uninstalled for that account).
    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError>;

    /// How the pages name `connection`'s marketplace account.
    fn describe(&self, connection: &Connection) -> AccountDescription {
        AccountDescription {
            kind: "account",
            name: connection.marketplace_key.as_str().to_owned(),
            user: None,
        }
    }

    /// Verifies and reads a notice the marketplace sent about `app` (`POST /notify/…`, or the
    /// marketplace's own address for it). Marketplaces that send none keep the default.
    fn parse_notice(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
    ) -> Result<Notice, NoticeError> {
        let _ = (app, request);
        Err(NoticeError::NotSupported)
    }

    /// The marketplace's id of a notice's delivery, when it sends one: a repeated delivery (the
    /// marketplace retries until it hears 200) is applied once. Asked only of notices
    /// [`Provider::parse_notice`] accepted.
    fn delivery_id(&self, request: &InboundRequest<'_>) -> Option<String> {
        let _ = request;
        None
    }
}

/// Where the provider and credentials of an app are found (the configured apps).
pub trait AppDirectory: Send + Sync + 'static {
    fn lookup(&self, app: &AppId) -> Option<(AppCredentials, std::sync::Arc<dyn Provider>)>;
}
