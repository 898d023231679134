//! Installgate's storage adapters.
//!
//! - [`MemoryStateStore`] and [`RedisStateStore`] implement core's `StateStore` port.
//! - [`Database`] connects to SQLite or PostgreSQL and runs the schema migrations.
//!
//! Architecture invariant: this crate implements core's ports and knows nothing of HTTP.

mod database;
mod memory_state;
mod redis_state;

pub use database::{Database, DatabaseError, DatabaseOptions, Engine};
pub use memory_state::MemoryStateStore;
pub use redis_state::{RedisOptions, RedisStateStore};
