//! Built-in passwords: argon2id with configured cost, hashed and checked off the async workers.
//! A sign-in for an unknown email checks the password against a dummy hash of the same cost,
//! so it takes as long as a wrong password.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret as _, SecretString};

use crate::errors::AppError;
use crate::settings::Argon2Cost;

/// Accepted password lengths, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Clone)]
pub struct Passwords {
    argon2: Arc<Argon2<'static>>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(cost: Argon2Cost) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"installgate-dummy-password", &salt)
            .map_err(|error| anyhow::anyhow!("argon2: {error}"))?
            .to_string();
        Ok(Self {
            argon2: Arc::new(argon2),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Whether `password` is acceptable for a new account; the reason when it is not.
    pub fn check_new(password: &SecretString) -> Result<(), String> {
        let chars = password.expose_secret().chars().count();
        if chars < MIN_PASSWORD_CHARS {
            Err(format!(
                "Choose a password of at least {MIN_PASSWORD_CHARS} characters."
            ))
        } else if chars > MAX_PASSWORD_CHARS {
            Err(format!(
                "Choose a password of at most {MAX_PASSWORD_CHARS} characters."
            ))
        } else {
            Ok(())
        }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        let argon2 = self.argon2.clone();
        actix_web::web::block(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|hash| hash.to_string())
        })
        .await
        .map_err(|error| AppError::Unexpected(error.into()))?
        .map_err(|error| AppError::Unexpected(anyhow::anyhow!("argon2: {error}")))
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is none.
    pub async fn verify(
        &self,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, AppError> {
        let argon2 = self.argon2.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matched = actix_web::web::block(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    argon2
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .map_err(|error| AppError::Unexpected(error.into()))?;
        Ok(known && matched)
    }
}
