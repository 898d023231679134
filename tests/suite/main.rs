//! The end-to-end and backend suites, in one binary so that they link once.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs one scenario on both engines, as `<scenario>::sqlite` and `<scenario>::postgres`.
macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(installgate_tests::TestDatabase::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(installgate_tests::TestDatabase::postgres().await).await;
            }
        }
    )*};
}

mod accounts;
mod api;
mod browser;
mod claims;
mod clients;
mod config;
mod console;
mod console_browser;
mod console_oidc;
mod console_store;
mod external_login;
mod floods;
mod health;
mod hubspot;
mod integrity;
mod languages;
mod metrics;
mod migrations;
mod pipedrive;
mod shopify;
mod state_store;
mod tokens;
mod vault;
mod webhooks;
mod workspaces;
