//! The simulated Pipedrive's memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::PipedriveUser;
use crate::refresh_tokens::RefreshTokens;
use crate::{Failure, SimulatedApp};

/// Codes die five minutes after issue (Pipedrive's OAuth documentation).
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub company_id: u64,
    pub user_id: u64,
}

pub struct IssuedCode {
    pub grant: Grant,
    pub issued_at: Instant,
}

#[derive(Default)]
pub struct Counters {
    pub token: AtomicUsize,
    pub revoke: AtomicUsize,
    pub users_me: AtomicUsize,
}

pub struct SimState {
    pub apps: Vec<SimulatedApp>,
    pub users: Vec<PipedriveUser>,
    pub base_url: String,
    pub counters: Counters,
    api_domain: Mutex<Option<String>>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    access: Mutex<HashMap<String, Grant>>,
    pub refresh: RefreshTokens<Grant>,
    failures: Mutex<VecDeque<Failure>>,
    /// Fields to change in the next successful token answer (`null` removes one).
    tampering: Mutex<Option<serde_json::Map<String, serde_json::Value>>>,
    /// Refusals in RFC 6749's shape (`error` code and `error_description`) instead of
    /// Pipedrive's message shape.
    pub rfc6749_refusals: std::sync::atomic::AtomicBool,
    offset_ms: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimState {
    pub fn new(apps: Vec<SimulatedApp>, users: Vec<PipedriveUser>, base_url: String) -> Self {
        Self {
            apps,
            users,
            base_url,
            counters: Counters::default(),
            api_domain: Mutex::default(),
            codes: Mutex::default(),
            access: Mutex::default(),
            refresh: RefreshTokens::new("pd-refresh"),
            failures: Mutex::default(),
            tampering: Mutex::default(),
            rfc6749_refusals: std::sync::atomic::AtomicBool::new(false),
            offset_ms: AtomicU64::new(0),
        }
    }

    /// The simulator's clock: real time plus what tests advanced it by.
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }

    pub fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(millis, Ordering::SeqCst);
    }

    pub fn app(&self, client_id: &str) -> Option<&SimulatedApp> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    pub fn user(&self, company_id: u64, user_id: u64) -> Option<&PipedriveUser> {
        self.users
            .iter()
            .find(|user| user.company_id == company_id && user.user_id == user_id)
    }

    pub fn api_domain(&self) -> String {
        lock(&self.api_domain)
            .clone()
            .unwrap_or_else(|| self.base_url.clone())
    }

    pub fn set_api_domain(&self, api_domain: &str) {
        *lock(&self.api_domain) = Some(api_domain.to_owned());
    }

    pub fn issue_code(&self, client_id: &str, company_id: u64, user_id: u64) -> Option<String> {
        self.app(client_id)?;
        self.user(company_id, user_id)?;
        let code = format!("pd-code-{}", uuid::Uuid::new_v4().simple());
        lock(&self.codes).insert(
            code.clone(),
            IssuedCode {
                grant: Grant {
                    client_id: client_id.to_owned(),
                    company_id,
                    user_id,
                },
                issued_at: self.now(),
            },
        );
        Some(code)
    }

    pub fn take_code(&self, code: &str) -> Option<IssuedCode> {
        lock(&self.codes).remove(code)
    }

    pub fn issue_tokens(&self, grant: &Grant, refresh: Option<String>) -> (String, String) {
        let access = format!("pd-access-{}", uuid::Uuid::new_v4().simple());
        lock(&self.access).insert(access.clone(), grant.clone());
        let refresh = refresh.unwrap_or_else(|| self.refresh.issue(grant.clone()));
        (access, refresh)
    }

    pub fn access_grant(&self, token: &str) -> Option<Grant> {
        lock(&self.access).get(token).cloned()
    }

    /// Ends a grant: its access tokens stop working.
    pub fn drop_access_tokens(&self, grant: &Grant) {
        lock(&self.access).retain(|_, held| held != grant);
    }

    /// Revoking a refresh token deletes the whole grant: its access tokens go too.
    pub fn revoke(&self, token: &str) {
        match self.refresh.revoke(token) {
            Some(grant) => {
                self.refresh.revoke_grant(&grant);
                self.drop_access_tokens(&grant);
            }
            None => {
                lock(&self.access).remove(token);
            }
        }
    }

    pub fn push_failure(&self, failure: Failure) {
        lock(&self.failures).push_back(failure);
    }

    pub fn next_failure(&self) -> Option<Failure> {
        lock(&self.failures).pop_front()
    }

    pub fn tamper_next_answer(&self, changes: serde_json::Map<String, serde_json::Value>) {
        *lock(&self.tampering) = Some(changes);
    }

    /// Applies (once) the changes a test asked for to a token answer.
    pub fn tamper(&self, answer: &mut serde_json::Value) {
        let Some(changes) = lock(&self.tampering).take() else {
            return;
        };
        let Some(fields) = answer.as_object_mut() else {
            return;
        };
        for (name, value) in changes {
            if value.is_null() {
                fields.remove(&name);
            } else {
                fields.insert(name, value);
            }
        }
    }
}
