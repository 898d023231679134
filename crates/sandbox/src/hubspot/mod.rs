//! A HubSpot simulator: the OAuth endpoints an install uses (`/oauth/authorize`,
//! `/oauth/v3/token`, `/oauth/v3/token/introspect`), with failure injection and call counting.
//!
//! It follows HubSpot's public OAuth documentation. Where that is silent, the choices
//! are marked "unconfirmed" where they are made.

mod marketplace;
mod oauth;
mod state;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;

use state::SimState;

/// An app registered with the simulated HubSpot.
#[derive(Debug, Clone)]
pub struct SimulatedApp {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// The redirect URL registered for the app (its install URL at the gateway).
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// Whether the listing asks for partner sign-in (the seamless flow's two steps).
    pub partner_sign_in: bool,
}

/// What the token endpoint does instead of answering normally, once per injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `500 Internal Server Error`.
    ServerError,
    /// Answers normally, but only after this long.
    Slow(Duration),
    /// `200` with a body that is not JSON.
    Garbage,
    /// `400` with `invalid_grant`.
    InvalidGrant,
    /// Waits this long, then answers `503` without having done anything.
    Stall(Duration),
    /// `200` with a body far larger than any token answer (128 KiB).
    Oversized,
}

/// The body of [`Failure::Oversized`].
pub(crate) fn oversized_body() -> String {
    format!("{{\"padding\":\"{}\"}}", "x".repeat(128 * 1024))
}

/// A running simulator. Dropping it does not stop the server; [`HubSpotSimulator::stop`] does.
pub struct HubSpotSimulator {
    url: String,
    state: Arc<SimState>,
    handle: ServerHandle,
}

impl std::fmt::Debug for HubSpotSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotSimulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HubSpotSimulator {
    /// Starts on `127.0.0.1:port` (0 for any free port).
    pub async fn start(apps: Vec<SimulatedApp>, port: u16) -> std::io::Result<Self> {
        Self::start_with_pages_on(apps, port, "127.0.0.1").await
    }

    /// Starts on `127.0.0.1:port`, with the marketplace pages (and so every return URL) named
    /// by `pages_host` instead, for example `localhost`: a browser then treats the gateway at
    /// `127.0.0.1` as another site, as it treats an app's domain on `app.hubspot.com`.
    pub async fn start_with_pages_on(
        apps: Vec<SimulatedApp>,
        port: u16,
        pages_host: &str,
    ) -> std::io::Result<Self> {
        let (url, state, handle) = crate::server::start(
            port,
            |url| {
                let pages_url = url.replacen("127.0.0.1", pages_host, 1);
                Arc::new(SimState::new(apps, pages_url))
            },
            |config| {
                oauth::routes(config);
                marketplace::routes(config);
            },
        )?;
        Ok(Self { url, state, handle })
    }

    /// The base URL, e.g. `http://127.0.0.1:4001`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The base URL of the marketplace pages, e.g. `http://localhost:4001`.
    pub fn pages_url(&self) -> &str {
        &self.state.base_url
    }

    /// The token endpoint, for an app's `token_url`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/v3/token", self.url)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.url)
    }

    /// What HubSpot does when a customer clicks "Connect app": a single-use code for the app
    /// and portal, to be sent to the app's redirect URL.
    pub fn issue_code(&self, client_id: &str, hub_id: u64) -> Option<String> {
        self.state.issue_code(client_id, hub_id)
    }

    /// Calls the token endpoint has received (every grant type, failures included).
    pub fn token_calls(&self) -> usize {
        self.state.token_calls()
    }

    /// Tokens for a portal's install of an app, as an exchanged code would give them: (access
    /// token, refresh token). For tests that start from an existing install.
    pub fn grant(&self, client_id: &str, hub_id: u64) -> (String, String) {
        let issued = state::IssuedToken {
            client_id: client_id.to_owned(),
            hub_id,
        };
        let access = self.state.issue_token("sim-access", issued.clone());
        (access, self.state.refresh.issue(issued))
    }

    /// Whether an access token still works (the app is installed and the token not revoked).
    pub fn access_token_works(&self, token: &str) -> bool {
        self.state.token(token).is_some()
    }

    /// `grant_type=refresh_token` calls so far, refused ones included.
    pub fn refresh_calls(&self) -> usize {
        self.state.refresh.redeemed()
    }

    /// Refresh calls refused with `invalid_grant`.
    pub fn refused_refreshes(&self) -> usize {
        self.state.refresh.refused()
    }

    /// Rotation: each refresh returns a new refresh token, and presenting a retired one again
    /// revokes the grant. Off by default (whether HubSpot rotates is not documented).
    pub fn rotate_refresh_tokens(&self, on: bool) {
        self.state.refresh.set_rotation(on);
    }

    /// Calls of the app-uninstall endpoint so far.
    pub fn uninstall_calls(&self) -> usize {
        self.state.uninstall_calls()
    }

    /// The next token-endpoint call fails this way.
    pub fn fail_next(&self, failure: Failure) {
        self.state.push_failure(failure);
    }

    /// Token responses leave out `hub_id`, as responses before August 2025 did, so clients must
    /// introspect.
    pub fn omit_hub_id(&self, omit: bool) {
        self.state.set_omit_hub_id(omit);
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
