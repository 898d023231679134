//! The simulator's memory: apps, outstanding codes, issued tokens, injected failures.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Failure, SimulatedApp};

/// How long a code may wait for its exchange. HubSpot only says "a short window" (unconfirmed);
/// five minutes matches Pipedrive's documented lifetime.
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);

pub struct IssuedCode {
    pub client_id: String,
    pub hub_id: u64,
    pub issued_at: Instant,
}

#[derive(Clone)]
pub struct IssuedToken {
    pub client_id: String,
    pub hub_id: u64,
}

pub struct SimState {
    pub apps: Vec<SimulatedApp>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    failures: Mutex<VecDeque<Failure>>,
    calls: AtomicUsize,
    omit_hub_id: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimState {
    pub fn new(apps: Vec<SimulatedApp>) -> Self {
        Self {
            apps,
            codes: Mutex::default(),
            tokens: Mutex::default(),
            failures: Mutex::default(),
            calls: AtomicUsize::new(0),
            omit_hub_id: AtomicBool::new(false),
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&SimulatedApp> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    pub fn issue_code(&self, client_id: &str, hub_id: u64) -> Option<String> {
        self.app(client_id)?;
        let code = format!("na1-code-{}", uuid::Uuid::new_v4().simple());
        lock(&self.codes).insert(
            code.clone(),
            IssuedCode {
                client_id: client_id.to_owned(),
                hub_id,
                issued_at: Instant::now(),
            },
        );
        Some(code)
    }

    /// Removes the code: codes are single-use, whatever the outcome of the exchange.
    pub fn take_code(&self, code: &str) -> Option<IssuedCode> {
        lock(&self.codes).remove(code)
    }

    pub fn issue_token(&self, prefix: &str, token: IssuedToken) -> String {
        let value = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        lock(&self.tokens).insert(value.clone(), token);
        value
    }

    pub fn token(&self, value: &str) -> Option<IssuedToken> {
        lock(&self.tokens).get(value).cloned()
    }

    pub fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    pub fn token_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn push_failure(&self, failure: Failure) {
        lock(&self.failures).push_back(failure);
    }

    pub fn next_failure(&self) -> Option<Failure> {
        lock(&self.failures).pop_front()
    }

    pub fn set_omit_hub_id(&self, omit: bool) {
        self.omit_hub_id.store(omit, Ordering::SeqCst);
    }

    pub fn omits_hub_id(&self) -> bool {
        self.omit_hub_id.load(Ordering::SeqCst)
    }
}
