//! The vendor's signing keys, fetched from its JWKS URL: cached, refetched when a token names an
//! unknown key id (at most once per `min_refetch`), bounded in time, size and count. A key is
//! used only when its `use` is `sig` (or absent) and its `alg` is the configured algorithm (or
//! absent); RFC 7517 sections 4.2 and 4.4.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use url::Url;

/// Largest JWKS document accepted.
const MAX_BYTES: usize = 64 * 1024;
/// Most keys kept from one document.
const MAX_KEYS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("the sign-in keys could not be fetched: {0}")]
    Unavailable(String),
    #[error("no sign-in key has the id the assertion names")]
    UnknownKey,
    #[error(
        "the key the sign-in assertion names is not a signing key for the configured algorithm"
    )]
    UnusableKey,
}

/// A key of the set, by its id: usable for the configured algorithm's signatures, or not.
#[derive(Clone)]
enum Slot {
    Usable(DecodingKey),
    Unusable,
}

impl Slot {
    fn of(jwk: &Jwk, algorithm: Algorithm) -> Self {
        let for_signing = matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        );
        let algorithm_fits = jwk
            .common
            .key_algorithm
            .is_none_or(|named| named.to_string() == format!("{algorithm:?}"));
        match DecodingKey::from_jwk(jwk) {
            Ok(key) if for_signing && algorithm_fits => Self::Usable(key),
            _ => Self::Unusable,
        }
    }

    fn key(&self) -> Result<DecodingKey, JwksError> {
        match self {
            Self::Usable(key) => Ok(key.clone()),
            Self::Unusable => Err(JwksError::UnusableKey),
        }
    }
}

struct Cached {
    keys: HashMap<String, Slot>,
    fetched_at: Instant,
}

pub struct JwksCache {
    url: Url,
    algorithm: Algorithm,
    client: reqwest::Client,
    ttl: Duration,
    min_refetch: Duration,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    pub fn new(
        url: Url,
        algorithm: Algorithm,
        timeout: Duration,
        ttl: Duration,
        min_refetch: Duration,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            url,
            algorithm,
            client,
            ttl,
            min_refetch,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// The key with id `kid`. One fetch at a time: concurrent callers wait for it.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, JwksError> {
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        if let Some(current) = cached.as_ref() {
            let age = now.duration_since(current.fetched_at);
            let known = current.keys.get(kid);
            match known {
                Some(slot) if age < self.ttl => return slot.key(),
                None if age < self.min_refetch => return Err(JwksError::UnknownKey),
                _ => {}
            }
        }
        match self.fetch().await {
            Ok(keys) => {
                let slot = keys.get(kid).cloned();
                *cached = Some(Cached {
                    keys,
                    fetched_at: now,
                });
                slot.ok_or(JwksError::UnknownKey)?.key()
            }
            // A stale copy still serves a key it has while the URL is down.
            Err(error) => cached
                .as_ref()
                .and_then(|current| current.keys.get(kid))
                .ok_or(error)?
                .key(),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Slot>, JwksError> {
        let unavailable = |reason: &str| JwksError::Unavailable(reason.to_owned());
        let response = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    unavailable("no answer in time")
                } else {
                    unavailable("the JWKS URL could not be reached")
                }
            })?;
        if !response.status().is_success() {
            return Err(unavailable(&format!(
                "the JWKS URL answered {}",
                response.status().as_u16()
            )));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BYTES as u64)
        {
            return Err(unavailable("the JWKS document is too large"));
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| unavailable("the JWKS document could not be read"))?;
        if body.len() > MAX_BYTES {
            return Err(unavailable("the JWKS document is too large"));
        }
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|_| unavailable("the JWKS document is not valid"))?;
        let mut keys = HashMap::new();
        for (kid, slot) in set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Slot::of(jwk, self.algorithm))))
            .take(MAX_KEYS)
        {
            // Two keys under one id (a signing key and an encryption key, say): the usable one
            // is kept, so that the other cannot hide it.
            let keep_old = matches!(keys.get(&kid), Some(Slot::Usable(_)));
            if !keep_old {
                keys.insert(kid, slot);
            }
        }
        Ok(keys)
    }
}
