//! HTTP handlers, one module per route family.

pub mod account;
pub mod claim;
pub mod entitled;
pub mod fallback;
pub mod framing;
pub mod health;
pub mod install;
pub mod location;
pub mod moving;
pub mod notify;
pub(crate) mod respond;
pub mod signed_in;
