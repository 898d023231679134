//! The end-to-end and backend suites, in one binary so that they link once.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod api;
mod browser;
mod claims;
mod clients;
mod config;
mod console;
mod console_browser;
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
