//! Bearer API keys. Configuration holds only each key's SHA-256 (keys are 256 random bits, so a
//! fast hash is enough); a presented key is hashed and compared with every configured hash in
//! constant time. A key may be limited to some apps.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::AppId;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::errors::{ApiError, AppError};
use crate::services::Services;

/// The prefix of every key, so that leaked keys are easy to recognise.
const PREFIX: &str = "igk_";

/// The caller, once its key checked out.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// `None`: every app.
    pub apps: Option<Vec<AppId>>,
}

impl ApiClient {
    pub fn may_see(&self, app: &AppId) -> bool {
        self.apps.as_ref().is_none_or(|apps| apps.contains(app))
    }
}

pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A fresh key and the hex SHA-256 to configure for it.
pub fn new_key() -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hex = hash_key(&key).iter().map(|b| format!("{b:02x}")).collect();
    Ok((key, hex))
}

fn authenticate(request: &HttpRequest) -> Result<ApiClient, AppError> {
    let services = request
        .app_data::<web::Data<Services>>()
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("services are missing")))?;
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(AppError::Unauthorized)?;
    let digest = hash_key(presented.trim());
    let mut found = None;
    // Every configured key is compared, so the time taken does not say which one matched.
    for key in &services.settings.api_keys {
        if bool::from(key.sha256.ct_eq(&digest)) {
            found = Some(key);
        }
    }
    let key = found.ok_or(AppError::Unauthorized)?;
    Ok(ApiClient {
        apps: key.apps.clone(),
    })
}

impl FromRequest for ApiClient {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request).map_err(ApiError::from))
    }
}
