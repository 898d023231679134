//! The Installgate service: the actix-web application, its configuration, pages and API.
//!
//! Architecture invariant: only this crate knows HTTP status codes and HTML.

pub mod accounts;
pub mod activity;
pub mod admin;
pub mod api;
pub mod cli;
pub mod client_address;
pub mod commands;
pub mod csrf;
pub mod entitlement;
pub mod errors;
pub mod i18n;
pub mod import;
pub mod metrics;
pub mod middleware;
pub mod news;
pub mod operations;
pub mod pages;
pub mod park;
pub mod pending;
pub mod providers;
pub mod rate_limit;
pub mod registry;
pub mod routes;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod server;
pub mod services;
pub mod session;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod tokens;
pub mod vault_keys;
pub mod webhooks;

pub use startup::Application;
