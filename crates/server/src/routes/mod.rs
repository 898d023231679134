//! HTTP handlers, one module per route family.

pub mod fallback;
pub mod health;
