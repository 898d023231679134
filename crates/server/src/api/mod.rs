//! The vendor API under `/api/v1`: JSON in and out, bearer API keys, errors as
//! `{"error": {"code", "message"}}`.

pub mod auth;
pub mod connections;

pub use auth::{ApiClient, hash_key, new_key};
