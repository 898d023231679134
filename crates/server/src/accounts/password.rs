//! Built-in passwords: argon2id with configured cost, hashed and checked off the async workers.
//! A sign-in for an unknown email checks the password against a dummy hash of the same cost,
//! so it takes as long as a wrong password.

use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret as _, SecretString};

use super::hash_bound::{HashBound, HashLimits};
use crate::errors::AppError;
use crate::settings::Argon2Cost;

/// A hash of the configured cost with a random salt and a random output, which no known
/// password produces: checking a password against it costs a whole hash, as against a real one,
/// while making it costs none (a hash at start-up would take its time and its memory, 19 MiB at
/// the default cost).
fn dummy_hash(params: &Params) -> argon2::password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut output = [0; Params::DEFAULT_OUTPUT_LEN];
    OsRng.fill_bytes(&mut output);
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

/// Accepted password lengths, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a new password is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Choose a password of at least {MIN_PASSWORD_CHARS} characters.")]
    TooShort,
    #[error("Choose a password of at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
}

impl PasswordProblem {
    /// The sentence for a page, in its language.
    pub fn text(self, t: &crate::i18n::Texts) -> String {
        match self {
            Self::TooShort => t.with(
                "password-too-short",
                &[("min", &MIN_PASSWORD_CHARS.to_string())],
            ),
            Self::TooLong => t.with(
                "password-too-long",
                &[("max", &MAX_PASSWORD_CHARS.to_string())],
            ),
        }
    }
}
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Clone)]
pub struct Passwords {
    argon2: Arc<Argon2<'static>>,
    dummy_hash: Arc<str>,
    bound: HashBound,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(cost: Argon2Cost, limits: HashLimits) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let dummy_hash = dummy_hash(&params).map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
        Ok(Self {
            argon2: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
            dummy_hash: dummy_hash.into(),
            bound: HashBound::new(limits),
        })
    }

    /// Whether `password` is acceptable for a new account; the reason when it is not.
    pub fn check_new(password: &SecretString) -> Result<(), PasswordProblem> {
        let chars = password.expose_secret().chars().count();
        if chars < MIN_PASSWORD_CHARS {
            Err(PasswordProblem::TooShort)
        } else if chars > MAX_PASSWORD_CHARS {
            Err(PasswordProblem::TooLong)
        } else {
            Ok(())
        }
    }

    /// Hashes `password` once a turn is free (503 when none comes soon).
    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        let argon2 = self.argon2.clone();
        let _turn = self.bound.enter().await?;
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

    /// Checks `password` against `hash`, or against the dummy hash when there is none, once a
    /// turn is free (503 when none comes soon): both cost a whole hash.
    pub async fn verify(
        &self,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, AppError> {
        let argon2 = self.argon2.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let _turn = self.bound.enter().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Cost = Argon2Cost {
        memory_kib: 64,
        iterations: 2,
        parallelism: 1,
    };

    #[test]
    fn the_dummy_hash_has_the_configured_cost_and_a_fresh_salt() {
        let params = Params::new(19_456, 2, 1, None).unwrap();
        let first = dummy_hash(&params).unwrap();
        let parsed = PasswordHash::new(&first).unwrap();
        assert_eq!(parsed.algorithm, ARGON2ID_IDENT);
        assert_eq!(parsed.version, Some(0x13));
        let cost = Params::try_from(&parsed).unwrap();
        assert_eq!(
            (cost.m_cost(), cost.t_cost(), cost.p_cost()),
            (19_456, 2, 1)
        );
        assert_eq!(parsed.hash.map(|hash| hash.len()), Some(32));
        assert_ne!(dummy_hash(&params).unwrap(), first);
    }

    #[test]
    fn checking_a_password_against_the_dummy_hash_computes_a_hash_that_does_not_match() {
        let params =
            Params::new(CHEAP.memory_kib, CHEAP.iterations, CHEAP.parallelism, None).unwrap();
        let dummy = dummy_hash(&params).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        // `Password` is the answer of a computed hash that differs, not of a hash it could
        // not compute.
        assert_eq!(
            argon2.verify_password(b"any password", &PasswordHash::new(&dummy).unwrap()),
            Err(argon2::password_hash::Error::Password)
        );
    }

    #[actix_web::test]
    async fn an_unknown_account_never_verifies_but_a_known_one_does() {
        let limits = HashLimits {
            at_once: 1,
            queued: 4,
            wait: std::time::Duration::from_secs(2),
        };
        let passwords = Passwords::new(CHEAP, limits).unwrap();
        let password = || SecretString::from("a correct password");
        assert!(
            !passwords.verify(None, password()).await.unwrap(),
            "no password matches the dummy hash"
        );
        let hash = passwords.hash(password()).await.unwrap();
        assert!(
            passwords
                .verify(Some(hash.clone()), password())
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(Some(hash), SecretString::from("a wrong password"))
                .await
                .unwrap()
        );
    }
}
