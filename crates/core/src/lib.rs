//! Installgate's core: the domain types every marketplace shares, and the ports the rest of the
//! gateway implements.
//!
//! Architecture invariant: this crate knows nothing of HTTP frameworks, Redis or SQL. Adapters
//! live in `installgate-store` and `installgate-server`; marketplace protocols in provider crates.

mod accounts;
mod clock;
mod connection;
mod credentials;
mod events;
mod flow;
mod ids;
mod lenient;
mod lifecycle;
mod provider;
mod query;
mod refresh;
mod return_url;
mod state_store;
mod state_token;
mod tenant;
mod token_answer;
mod vault;

pub use accounts::{
    Account, AccountError, Accounts, Email, InvalidEmail, Throttle, ThrottleWindow,
};
pub use clock::{Clock, OffsetClock, SystemClock, Timestamp};
pub use connection::{
    AccountId, Connection, ConnectionId, ConnectionStatus, InvalidKey, MarketplaceKey, Metadata,
    NewInstall, TokenSet, Workspace,
};
pub use credentials::{AccessToken, AuthorizationCode, InvalidAuthorizationCode, RefreshToken};
pub use events::{Event, EventData, EventKind};
pub use flow::{FlowError, InstallFlow, InstallFor, StateBinding, StateRefusal, browser_digest};
pub use ids::{AppId, InvalidId, ProviderId};
pub use lenient::LenientNumber;
pub use lifecycle::{
    Claim, ConsentUrl, DELIVERY_MEMORY, Decision, Delivery, DeliverySeen, Held, ImportOutcome,
    Imported, Installing, MoveOffer, Next, ProviderRevoke, Reached, Refusal, revoke_at_provider,
};
pub use provider::{
    AccountDescription, AppCredentials, AppDirectory, ConsoleField, GatewayRoute, Grant, Identity,
    InboundRequest, InstallRequest, MalformedRequest, Notice, NoticeError, PrivacyRequest,
    Provider, ProviderError,
};
pub use query::{DuplicateParameter, QueryParams};
pub use refresh::{
    Fresh, FreshnessWanted, Lease, RefreshError, RefreshLock, RefreshPolicy, Refresher, expiring,
};
pub use return_url::{AllowedHosts, InvalidAllowedHost, ReturnUrl, ReturnUrlError};
pub use state_store::{StateKind, StateStore, StateStoreError};
pub use state_token::{InvalidStateToken, RandomUnavailable, StateToken};
pub use tenant::{InvalidTenant, TENANT_METADATA_KEY, Tenant};
pub use token_answer::{MAX_TOKEN_LIFETIME, TokenAnswers, TokenCall};
pub use vault::{ConnectionFilter, ConnectionVault, Inserted, TokenSwap, VaultError};
