//! The simulator's memory: apps, outstanding codes, issued tokens, injected failures.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Failure, SimulatedApp};
use crate::refresh_tokens::RefreshTokens;

/// How long a code may wait for its exchange. HubSpot only says "a short window" (unconfirmed);
/// five minutes matches Pipedrive's documented lifetime.
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);

pub struct IssuedCode {
    pub client_id: String,
    pub hub_id: u64,
    pub issued_at: Instant,
    /// The marketplace install flow the code was issued in, if any.
    pub flow: Option<String>,
}

/// One install started from the simulated marketplace.
#[derive(Clone, Default)]
pub struct MarketplaceFlow {
    pub client_id: String,
    pub hub_id: Option<u64>,
    /// Whether the app exchanged the flow's code.
    pub installed: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub client_id: String,
    pub hub_id: u64,
}

pub struct SimState {
    pub apps: Vec<SimulatedApp>,
    /// The base URL of the marketplace pages, for the return URLs it hands apps.
    pub base_url: String,
    codes: Mutex<HashMap<String, IssuedCode>>,
    /// Access tokens.
    tokens: Mutex<HashMap<String, IssuedToken>>,
    pub refresh: RefreshTokens<IssuedToken>,
    flows: Mutex<HashMap<String, MarketplaceFlow>>,
    failures: Mutex<VecDeque<Failure>>,
    calls: AtomicUsize,
    uninstalls: AtomicUsize,
    omit_hub_id: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimState {
    pub fn new(apps: Vec<SimulatedApp>, base_url: String) -> Self {
        Self {
            apps,
            base_url,
            codes: Mutex::default(),
            tokens: Mutex::default(),
            refresh: RefreshTokens::new("na1-sim-refresh"),
            flows: Mutex::default(),
            failures: Mutex::default(),
            calls: AtomicUsize::new(0),
            uninstalls: AtomicUsize::new(0),
            omit_hub_id: AtomicBool::new(false),
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&SimulatedApp> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    pub fn issue_code(&self, client_id: &str, hub_id: u64) -> Option<String> {
        self.issue_code_in(client_id, hub_id, None)
    }

    pub fn issue_code_in(
        &self,
        client_id: &str,
        hub_id: u64,
        flow: Option<&str>,
    ) -> Option<String> {
        self.app(client_id)?;
        let code = format!("na1-code-{}", uuid::Uuid::new_v4().simple());
        lock(&self.codes).insert(
            code.clone(),
            IssuedCode {
                client_id: client_id.to_owned(),
                hub_id,
                issued_at: Instant::now(),
                flow: flow.map(str::to_owned),
            },
        );
        if let Some(flow) = flow {
            lock(&self.flows).entry(flow.to_owned()).or_default().hub_id = Some(hub_id);
        }
        Some(code)
    }

    pub fn start_flow(&self, client_id: &str) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        lock(&self.flows).insert(
            id.clone(),
            MarketplaceFlow {
                client_id: client_id.to_owned(),
                ..MarketplaceFlow::default()
            },
        );
        id
    }

    pub fn flow(&self, id: &str) -> Option<MarketplaceFlow> {
        lock(&self.flows).get(id).cloned()
    }

    pub fn mark_installed(&self, flow: &str) {
        if let Some(record) = lock(&self.flows).get_mut(flow) {
            record.installed = true;
        }
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

    /// Ends a grant: its access tokens stop working (its refresh tokens are gone already).
    pub fn drop_access_tokens(&self, grant: &IssuedToken) {
        lock(&self.tokens).retain(|_, held| held != grant);
    }

    pub fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    pub fn token_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn count_uninstall(&self) {
        self.uninstalls.fetch_add(1, Ordering::SeqCst);
    }

    pub fn uninstall_calls(&self) -> usize {
        self.uninstalls.load(Ordering::SeqCst)
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
