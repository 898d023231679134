//! What the operator console keeps in the database: operators and their second factors
//! (`operators`), console sessions (`sessions`), the audit log (`audit`), the install funnel's
//! counts added up over every replica (`activity`), and the overview's reads of events and
//! connections (`overview`).

mod activity;
mod audit;
mod operators;
mod overview;
mod sessions;

pub use activity::{ActivityCount, ActivityCounts};
pub use audit::{AuditEntry, AuditLog, NewAuditEntry};
pub use operators::{
    Operator, OperatorError, OperatorRole, Operators, SecretRotation, SignInRecord,
};
pub use overview::{AppTally, Overview};
pub use sessions::OperatorSessions;
