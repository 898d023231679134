//! The vendor API under `/api/v1`: JSON in and out, bearer API keys, errors as
//! `{"error": {"code", "message"}}`, described by the OpenAPI document at
//! `/api/v1/openapi.json`.

pub mod auth;
pub mod connections;
pub mod disconnect;
pub mod openapi;
pub mod tokens;

pub use auth::{ApiClient, hash_key, new_key};
