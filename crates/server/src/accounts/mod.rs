//! Signing people in: built-in accounts (passwords, throttling) and the vendor's own login
//! (signed assertions). Who is signed in lives in the session; see `session`.

mod assertion;
mod hash_bound;
pub(crate) mod jwks;
mod password;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::{Account, AccountError, Accounts, Email, Throttle};
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};

pub use assertion::{AssertionError, AssertionVerifier, MAX_LIFETIME, Verified};
pub use hash_bound::HashLimits;
pub use jwks::JwksError;
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Passwords};

use crate::errors::AppError;
use crate::settings::AccountSettings;

impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Unavailable(reason) => {
                tracing::warn!(%reason, "account store call failed");
                Self::Unavailable("the database")
            }
            other => Self::Unexpected(other.into()),
        }
    }
}

/// How a built-in sign-in ended, when it did not sign anyone in.
#[derive(Debug)]
pub enum SignInRefused {
    /// Wrong email or password; the two are not told apart.
    Invalid,
    /// Too many failures for this account or address; try again after the window.
    Throttled(std::time::Duration),
}

/// The built-in sign-in: throttling, constant-time-ish checks, and the password.
#[derive(Clone)]
pub struct SignIn {
    pub accounts: Arc<dyn Accounts>,
    pub throttle: Arc<dyn Throttle>,
    pub passwords: Passwords,
    pub settings: AccountSettings,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").finish_non_exhaustive()
    }
}

fn account_key(scope: &str, email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    format!("{scope}:account:{}", URL_SAFE_NO_PAD.encode(digest))
}

fn address_key(scope: &str, address: Option<IpAddr>) -> String {
    format!(
        "{scope}:address:{}",
        address.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
    )
}

/// A sign-in attempt counted against its email and its client address, to be forgiven if it
/// succeeds.
#[derive(Debug)]
pub struct Attempt {
    account_key: String,
    address_key: String,
}

impl SignIn {
    /// Counts an attempt to sign in as `email` from `address`, in the windows of `scope`
    /// (`signin` for the vendor's accounts, `console` for operators): the time to wait when
    /// either is over its limit.
    pub async fn attempt(
        &self,
        scope: &str,
        email: &str,
        address: Option<IpAddr>,
    ) -> Result<Result<Attempt, Duration>, AppError> {
        let account_key = account_key(scope, email);
        let address_key = address_key(scope, address);
        let window = self.settings.failure_window;
        // Count the attempt first: concurrent attempts then cannot all pass one check together.
        // The address first: a client over its limit opens no window for another email, so the
        // account windows one client can open are bounded by its own limit.
        let by_address = self.throttle.record_failure(&address_key, window).await?;
        if by_address.failures > self.settings.max_failures_per_address {
            return Ok(Err(by_address.remaining));
        }
        let by_account = match self.throttle.record_failure(&account_key, window).await {
            Ok(counted) => Some(counted),
            // No room for another account window (the memory backend under a flood of
            // addresses): the address limit still applies, and sign-ins go on.
            Err(installgate_core::StateStoreError::Full(what)) => {
                tracing::warn!(
                    what,
                    "no room for a sign-in window; the address limit applies"
                );
                None
            }
            Err(other) => return Err(other.into()),
        };
        if let Some(counted) =
            by_account.filter(|counted| counted.failures > self.settings.max_failures_per_account)
        {
            return Ok(Err(counted.remaining));
        }
        Ok(Ok(Attempt {
            account_key,
            address_key,
        }))
    }

    /// Forgives an attempt that succeeded: the email's window closes, the address gets its
    /// count back.
    pub async fn succeeded(&self, attempt: &Attempt) -> Result<(), AppError> {
        tokio::try_join!(
            self.throttle.reset(&attempt.account_key),
            self.throttle.forgive(&attempt.address_key),
        )?;
        Ok(())
    }

    pub async fn sign_in(
        &self,
        email: &str,
        password: SecretString,
        address: Option<IpAddr>,
    ) -> Result<Result<Account, SignInRefused>, AppError> {
        let attempt = match self.attempt("signin", email, address).await? {
            Ok(attempt) => attempt,
            Err(wait) => return Ok(Err(SignInRefused::Throttled(wait))),
        };
        let found = match Email::parse(email) {
            Ok(email) => self.accounts.credentials(&email).await?,
            Err(_) => None,
        };
        let (account, hash) = match found {
            Some((account, hash)) => (Some(account), Some(hash)),
            None => (None, None),
        };
        let matched = self.passwords.verify(hash, password).await?;
        match account {
            Some(account) if matched => {
                self.succeeded(&attempt).await?;
                Ok(Ok(account))
            }
            _ => Ok(Err(SignInRefused::Invalid)),
        }
    }
}
