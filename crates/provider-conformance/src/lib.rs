//! The conformance suite of the provider port. A provider crate implements [`Harness`] once,
//! wiring its provider to its marketplace's simulator, and gets every case with one line:
//!
//! ```ignore
//! installgate_provider_conformance::conformance_suite!(harness);
//! ```
//!
//! where `harness` is an `async fn() -> impl Harness`. Each case is one `#[tokio::test]`, named
//! after what it proves: the authorize URL's shape, the code exchange and each way it fails
//! (500, timeout, garbage, `invalid_grant`, an oversized answer), refresh with and without
//! rotation, revoke, identity, hostile tenants, notices with good, bad and missing credentials,
//! framing origins, and no secret in any error or `Debug` output.

pub mod cases;

use std::time::Duration;

use async_trait::async_trait;
use installgate_core::{AppCredentials, AuthorizationCode, InboundRequest, Provider, TokenSet};
pub use installgate_sandbox::Failure;

/// How long the harness' HTTP client waits for the simulator; the timeout case makes the
/// simulator take longer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_millis(500);

/// The shared client a harness gives its provider: bounded like the gateway's, no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// A notice as the harness builds it, owned.
#[derive(Debug, Clone)]
pub struct OwnedInbound {
    pub method: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OwnedInbound {
    pub fn as_inbound(&self) -> InboundRequest<'_> {
        InboundRequest {
            method: &self.method,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Which notice the harness should build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeCase {
    /// Authenticated as the marketplace authenticates it.
    Good,
    /// With credentials or a signature that are wrong.
    BadCredentials,
    /// With none at all.
    NoCredentials,
}

/// A provider wired to its marketplace's simulator, for the suite.
#[async_trait]
pub trait Harness: Send + Sync {
    fn provider(&self) -> &dyn Provider;
    /// An app registered at the simulator, with the simulator's endpoints.
    fn app(&self) -> &AppCredentials;
    /// A fresh authorization code for the harness' test account.
    fn code(&self) -> AuthorizationCode;
    /// The marketplace key that account's grant is identified as.
    fn expected_key(&self) -> String;
    /// The next token-endpoint call fails this way.
    fn fail_next(&self, failure: Failure);
    fn rotate_refresh_tokens(&self, on: bool);
    /// Token-endpoint calls so far.
    fn token_calls(&self) -> usize;
    /// Whether the marketplace still accepts `tokens` (its API would answer).
    fn grant_is_live(&self, tokens: &TokenSet) -> bool;
    /// Makes the next token answer name `tenant` as the account's own host; `false` when this
    /// marketplace has no per-account host to check.
    fn answer_with_tenant(&self, tenant: &str) -> bool;
    /// A notice of `case`, or `None` when this marketplace sends no notices.
    fn notice(&self, case: NoticeCase) -> Option<OwnedInbound>;
    /// Whether the marketplace takes the scopes in the authorize URL (some fix them in the app's
    /// listing instead).
    fn scopes_in_authorize_url(&self) -> bool {
        true
    }
    /// The origins that may frame the install route by default, besides `'self'`.
    fn expected_frame_origins(&self) -> Vec<String>;
    /// Everything that must never appear in an error or a `Debug` output.
    fn secrets(&self) -> Vec<String>;
}

/// Every case of the suite for `harness` (an `async fn() -> impl Harness`), one
/// `#[tokio::test]` each, in a module `conformance`.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:ident) => {
        mod conformance {
            $crate::conformance_cases!(
                super::$harness;
                the_authorize_url_names_the_app_the_redirect_the_scopes_and_the_state,
                a_code_exchange_yields_whole_tokens_and_the_account,
                a_failing_token_endpoint_is_a_clear_error_and_never_retried,
                a_refresh_without_rotation_renews_the_access_token,
                a_refresh_with_rotation_renews_both_and_the_old_one_is_refused,
                revoke_ends_the_grant,
                hostile_tenants_are_refused_before_anything_is_sent_there,
                notices_are_taken_only_with_the_marketplaces_credentials,
                the_install_route_may_be_framed_by_the_marketplace_only,
                no_secret_shows_in_an_error_or_a_debug_output
            );
        }
    };
}

/// One `#[tokio::test]` per case name; used by [`conformance_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_cases {
    ($harness:path; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::cases::$name(&$harness().await).await;
        }
    )*};
}
