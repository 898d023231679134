//! The simulated Shopify's memory: apps, shops, codes, tokens, counters and injected failures.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::refresh_tokens::RefreshTokens;
use crate::{Failure, SimulatedApp};

/// An install of an app on a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub shop: String,
}

#[derive(Default)]
pub struct Counters {
    pub token: AtomicUsize,
    pub revoke: AtomicUsize,
    pub webhooks: AtomicUsize,
}

pub struct SimState {
    pub apps: Vec<SimulatedApp>,
    pub shops: Vec<String>,
    pub counters: Counters,
    codes: Mutex<HashMap<String, Grant>>,
    access: Mutex<HashMap<String, Grant>>,
    /// Access tokens that never expire (issued without `expiring=1`).
    non_expiring: Mutex<std::collections::HashSet<String>>,
    pub refresh: RefreshTokens<Grant>,
    failures: Mutex<VecDeque<Failure>>,
    /// Whether expiring offline tokens are offered (`expiring=1` honoured).
    pub offers_expiring: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Lower-case hex of HMAC-SHA256 of `message` under `secret`.
pub fn hex_hmac(secret: &str, message: &[u8]) -> String {
    tag(secret, message)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub fn tag(secret: &str, message: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A query Shopify signs: `params` plus `hmac` over them, sorted by name, each name and value
/// form-encoded with spaces as `%20`, joined as `name=value` by `&`.
pub fn signed_query(secret: &str, params: &[(&str, String)]) -> String {
    let encode = |text: &str| -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    pairs.sort();
    let message = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    query.append_pair("hmac", &hex_hmac(secret, message.as_bytes()));
    query.finish()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(0))
}

impl SimState {
    pub fn new(apps: Vec<SimulatedApp>, shops: Vec<String>) -> Self {
        let refresh = RefreshTokens::new("shpr");
        // Every refresh of an expiring offline token answers a new refresh token.
        refresh.set_rotation(true);
        Self {
            apps,
            shops,
            counters: Counters::default(),
            codes: Mutex::default(),
            access: Mutex::default(),
            non_expiring: Mutex::default(),
            refresh,
            failures: Mutex::default(),
            offers_expiring: AtomicBool::new(true),
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&SimulatedApp> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    pub fn knows_shop(&self, shop: &str) -> bool {
        self.shops.iter().any(|known| known == shop)
    }

    pub fn issue_code(&self, client_id: &str, shop: &str) -> Option<String> {
        self.app(client_id)?;
        if !self.knows_shop(shop) {
            return None;
        }
        let code = format!("shpc-{}", uuid::Uuid::new_v4().simple());
        let grant = Grant {
            client_id: client_id.to_owned(),
            shop: shop.to_owned(),
        };
        lock(&self.codes).insert(code.clone(), grant);
        Some(code)
    }

    /// Codes are single-use.
    pub fn take_code(&self, code: &str) -> Option<Grant> {
        lock(&self.codes).remove(code)
    }

    pub fn issue_access(&self, grant: &Grant) -> String {
        let token = format!("shpat_{}", uuid::Uuid::new_v4().simple());
        lock(&self.access).insert(token.clone(), grant.clone());
        token
    }

    /// A non-expiring access token, as offline tokens were issued before `expiring=1`.
    pub fn issue_non_expiring(&self, grant: &Grant) -> String {
        let token = self.issue_access(grant);
        lock(&self.non_expiring).insert(token.clone());
        token
    }

    /// Takes a non-expiring token for its migration: it stops working.
    pub fn take_non_expiring(&self, token: &str) -> Option<Grant> {
        if !lock(&self.non_expiring).remove(token) {
            return None;
        }
        lock(&self.access).remove(token)
    }

    pub fn access_grant(&self, token: &str) -> Option<Grant> {
        lock(&self.access).get(token).cloned()
    }

    /// The app is uninstalled from the shop: every token of the grant stops working.
    pub fn uninstall(&self, grant: &Grant) {
        let mut access = lock(&self.access);
        let mut non_expiring = lock(&self.non_expiring);
        access.retain(|token, held| {
            let keep = held != grant;
            if !keep {
                non_expiring.remove(token);
            }
            keep
        });
        self.refresh.revoke_grant(grant);
    }

    pub fn push_failure(&self, failure: Failure) {
        lock(&self.failures).push_back(failure);
    }

    pub fn next_failure(&self) -> Option<Failure> {
        lock(&self.failures).pop_front()
    }

    pub fn count(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }
}
