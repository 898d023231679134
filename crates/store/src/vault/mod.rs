//! The connection vault on SQL: encrypted tokens, the event outbox, and key rotation.

mod group;
mod keyring;
mod rotate;
mod row;
mod sql;

pub use keyring::{Keyring, OpenError, UnknownActiveKey};
pub use rotate::{RotationReport, rotate_keys};
pub use sql::SqlVault;
