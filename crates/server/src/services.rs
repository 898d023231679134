//! What handlers share: the validated settings and the backends, built once per process.

use std::sync::Arc;

use installgate_core::StateStore;
use installgate_store::Database;

use crate::settings::Settings;

pub struct Services {
    pub settings: Arc<Settings>,
    pub state_store: Arc<dyn StateStore>,
    pub database: Database,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("state_store", &self.state_store.backend())
            .field("database", &self.database.engine())
            .finish_non_exhaustive()
    }
}
