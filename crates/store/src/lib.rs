//! Installgate's storage adapters.
//!
//! - [`MemoryStateStore`] and [`RedisStateStore`] implement core's `StateStore` port.
//! - [`Database`] connects to SQLite or PostgreSQL and runs the schema migrations.
//! - [`SqlVault`] implements core's `ConnectionVault` on that database, sealing tokens with a
//!   [`Keyring`]; [`Outbox`] is the delivery side of the event outbox.
//! - `console`: what the operator console keeps (operators, their sessions, the audit log, the
//!   funnel's counts) and the overview's reads.
//!
//! Architecture invariant: this crate implements core's ports and knows nothing of HTTP.

mod accounts;
mod console;
mod database;
mod memory_state;
mod news;
mod outbox;
mod redis_state;
mod refresh_lock;
mod vault;

pub use accounts::SqlAccounts;
pub use console::{
    ActivityCount, ActivityCounts, AppTally, AuditEntry, AuditLog, NewAuditEntry, Operator,
    OperatorError, OperatorRole, OperatorSessions, Operators, Overview, SecretRotation,
    SignInRecord,
};
pub use database::{Database, DatabaseError, DatabaseOptions, Engine, SqliteWriters, sqlite_file};
pub use memory_state::MemoryStateStore;
pub use outbox::{EventFilter, EventRecord, EventState, Outbox, PendingEvent};
pub use redis_state::{RedisOptions, RedisStateStore, RedisTarget};
pub use refresh_lock::MemoryRefreshLock;
pub use vault::{Keyring, OpenError, RotationReport, SqlVault, UnknownActiveKey, rotate_keys};
