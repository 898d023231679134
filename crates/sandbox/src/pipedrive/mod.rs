//! A Pipedrive simulator: the Marketplace ("Install now", Uninstall), the consent dialog
//! ("Allow and Install" / "Cancel"), `/oauth/authorize`, `/oauth/token`, `/oauth/revoke` and
//! `{api_domain}/api/v1/users/me`, following Pipedrive's OAuth documentation, with failure injection, call
//! counters and a clock tests can move.

mod marketplace;
mod oauth;
mod state;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;

use crate::{Failure, SimulatedApp};
use state::SimState;

/// A Pipedrive user in a company; installs are per (company, user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipedriveUser {
    pub company_id: u64,
    pub user_id: u64,
    pub company_name: String,
    pub name: String,
}

pub struct PipedriveSimulator {
    url: String,
    state: Arc<SimState>,
    handle: ServerHandle,
}

impl std::fmt::Debug for PipedriveSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipedriveSimulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PipedriveSimulator {
    /// Starts on `127.0.0.1:port` (0 for any free port). Its `api_domain` is its own URL.
    pub async fn start(
        apps: Vec<SimulatedApp>,
        users: Vec<PipedriveUser>,
        port: u16,
    ) -> std::io::Result<Self> {
        let (url, state, handle) = crate::server::start(
            port,
            |url| Arc::new(SimState::new(apps, users, url)),
            |config| {
                oauth::routes(config);
                marketplace::routes(config);
            },
        )?;
        Ok(Self { url, state, handle })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.url)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.url)
    }

    /// What "Allow and Install" does: a code for the user, valid five minutes, single use.
    pub fn issue_code(&self, client_id: &str, company_id: u64, user_id: u64) -> Option<String> {
        self.state.issue_code(client_id, company_id, user_id)
    }

    /// Token-endpoint calls so far (every grant type, failures included).
    pub fn token_calls(&self) -> usize {
        self.state
            .counters
            .token
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn revoke_calls(&self) -> usize {
        self.state
            .counters
            .revoke
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn users_me_calls(&self) -> usize {
        self.state
            .counters
            .users_me
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Tokens for a user's install of an app, as an exchanged code would give them: (access
    /// token, refresh token). For tests that start from an existing install.
    pub fn grant(&self, client_id: &str, company_id: u64, user_id: u64) -> (String, String) {
        let grant = state::Grant {
            client_id: client_id.to_owned(),
            company_id,
            user_id,
        };
        self.state.issue_tokens(&grant, None)
    }

    /// `grant_type=refresh_token` calls so far, refused ones included.
    pub fn refresh_calls(&self) -> usize {
        self.state.refresh.redeemed()
    }

    /// Refresh calls refused with `Invalid grant`.
    pub fn refused_refreshes(&self) -> usize {
        self.state.refresh.refused()
    }

    /// Rotation: each refresh returns a new refresh token, and presenting a retired one again
    /// revokes the grant.
    pub fn rotate_refresh_tokens(&self, on: bool) {
        self.state.refresh.set_rotation(on);
    }

    /// Whether an access token works against the API (`users/me` would answer).
    pub fn access_token_works(&self, token: &str) -> bool {
        self.state.access_grant(token).is_some()
    }

    /// The next call of the token or revoke endpoint fails this way.
    pub fn fail_next(&self, failure: Failure) {
        self.state.push_failure(failure);
    }

    /// Changes fields of the next successful token answer: each name is set to its value, or
    /// removed when the value is `null` (an answer without a refresh token, say).
    pub fn tamper_next_answer(&self, changes: serde_json::Value) {
        if let serde_json::Value::Object(changes) = changes {
            self.state.tamper_next_answer(changes);
        }
    }

    /// Token-endpoint refusals in RFC 6749's shape (`{"error": "invalid_grant",
    /// "error_description": …}`) when on, in Pipedrive's message shape (`{"success": false,
    /// "error": "Invalid grant: …"}`) when off (the default).
    pub fn refuse_in_rfc6749_shape(&self, on: bool) {
        self.state
            .rfc6749_refusals
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Token responses name this `api_domain` instead of the simulator's own URL.
    pub fn set_api_domain(&self, api_domain: &str) {
        self.state.set_api_domain(api_domain);
    }

    /// Moves the simulator's clock (codes expire five minutes after issue).
    pub fn advance(&self, by: Duration) {
        self.state.advance(by);
    }

    /// What Pipedrive does after a user uninstalls: `DELETE` to the app's callback URL with
    /// Basic auth and a JSON body. Returns the status the app answered.
    pub async fn send_uninstall(
        &self,
        client_id: &str,
        company_id: u64,
        user_id: u64,
        with_valid_credentials: bool,
    ) -> Result<u16, String> {
        marketplace::send_uninstall(
            &self.state,
            client_id,
            company_id,
            user_id,
            with_valid_credentials,
        )
        .await
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
