//! Sessions: actix-session with the store chosen by the state backend, a cookie fit for
//! marketplace iframes (`__Host-`, `Secure`, `HttpOnly`, `SameSite=None`, `Partitioned`), idle and
//! absolute timeouts, and a typed wrapper.

mod cache;
mod partitioned;
mod store;
mod typed;

use actix_session::SessionMiddleware;
use actix_session::config::{
    BrowserSession, PersistentSession, SessionLifecycle, TtlExtensionPolicy,
};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use secrecy::ExposeSecret as _;

pub use cache::SessionCache;
pub use partitioned::partition_session_cookie;
pub use store::GatewaySessionStore;
pub(crate) use typed::token_in;
pub use typed::{GatewaySession, PendingInstall, SignedIn};

use crate::settings::SessionSettings;

/// The session cookie's name. `__Host-` makes browsers insist on `Secure`, `Path=/` and no
/// `Domain`, so no other host can set or shadow it.
pub const COOKIE_NAME: &str = "__Host-installgate";

/// The cookie key: the configured one, or a fresh one for this process.
pub fn cookie_key(settings: &SessionSettings) -> Key {
    match &settings.key {
        Some(bytes) => Key::derive_from(bytes.expose_secret()),
        None => Key::generate(),
    }
}

/// The session middleware over `store`.
///
/// A session in the cookie itself lasts as long as the cookie: its `Max-Age` is the idle
/// timeout, sent again with every response. A session in Redis expires in Redis, each read
/// extending it (see `store`), so its cookie is a browser-session cookie that is set when the
/// session changes, and a request that only reads the session carries no `Set-Cookie`.
pub fn middleware(
    store: GatewaySessionStore,
    key: Key,
    settings: &SessionSettings,
) -> SessionMiddleware<GatewaySessionStore> {
    let idle = actix_web::cookie::time::Duration::seconds(
        i64::try_from(settings.idle_timeout.as_secs()).unwrap_or(3600),
    );
    let lifecycle: SessionLifecycle = match store {
        GatewaySessionStore::Cookie(_) => PersistentSession::default()
            .session_ttl(idle)
            .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest)
            .into(),
        GatewaySessionStore::Redis { .. } => BrowserSession::default()
            .state_ttl(idle)
            .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest)
            .into(),
    };
    SessionMiddleware::builder(store, key)
        .cookie_name(COOKIE_NAME.to_owned())
        .cookie_secure(true)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::None)
        .cookie_path("/".to_owned())
        .cookie_domain(None)
        .session_lifecycle(lifecycle)
        .build()
}

/// The store for the memory backend: the whole session in an encrypted cookie.
pub fn cookie_store() -> GatewaySessionStore {
    GatewaySessionStore::Cookie(CookieSessionStore::default())
}
