//! Vendor accounts: the people who sign in to the vendor's system during an install.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::{AccountId, StateStoreError};

/// An email address, trimmed and lowercased, so that one person has one built-in account.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Not an email address the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("enter an email address like name@example.com")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let email = input.trim().to_lowercase();
        let shape_ok = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
        let chars_ok = email.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if shape_ok && chars_ok && (3..=254).contains(&email.len()) {
            Ok(Self(email))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data: the domain is enough to debug with.
        let domain = self.0.split_once('@').map_or("", |(_, domain)| domain);
        write!(f, "Email(…@{domain})")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: Option<Email>,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email address exists already")]
    EmailTaken,
    #[error("the account store is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored account is not valid: {0}")]
    Corrupt(String),
}

/// The accounts port. Built-in mode keeps email and password hash; external mode remembers the
/// vendor's users by the `sub` of their assertions.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates a built-in account with a password hash (a PHC string).
    async fn create(&self, email: &Email, password_hash: &str) -> Result<Account, AccountError>;

    /// A built-in account and its password hash.
    async fn credentials(&self, email: &Email) -> Result<Option<(Account, String)>, AccountError>;

    async fn get(&self, id: &AccountId) -> Result<Option<Account>, AccountError>;

    /// Records (or refreshes) a user of the vendor's own login.
    async fn remember_external(
        &self,
        id: &AccountId,
        email: Option<&Email>,
        name: Option<&str>,
    ) -> Result<Account, AccountError>;
}

/// The failures counted in one throttling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleWindow {
    pub failures: u64,
    /// Until the window ends.
    pub remaining: Duration,
}

/// Counting attempts per key in fixed windows, shared by every replica that shares the state
/// store. Callers count an attempt before they check it (so concurrent attempts cannot slip past
/// the limit together) and forgive the ones that succeed.
#[async_trait]
pub trait Throttle: Send + Sync + 'static {
    /// The failures counted in `key`'s current window, if a window is open.
    async fn failures(&self, key: &str) -> Result<Option<ThrottleWindow>, StateStoreError>;

    /// Counts one failure; the first failure opens a window of length `window`.
    async fn record_failure(
        &self,
        key: &str,
        window: Duration,
    ) -> Result<ThrottleWindow, StateStoreError>;

    /// Takes one count back (a counted attempt that succeeded).
    async fn forgive(&self, key: &str) -> Result<(), StateStoreError>;

    async fn reset(&self, key: &str) -> Result<(), StateStoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", Email::parse("ada@example.com").unwrap()),
            "Email(…@example.com)"
        );
    }
}
