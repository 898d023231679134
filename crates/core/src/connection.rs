//! A connection: one install of one app into one marketplace account, with its tokens.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AccessToken, AppId, ProviderId, RefreshToken, Timestamp};

/// Refused identifier text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be 1 to 128 printable ASCII characters")]
pub struct InvalidKey(&'static str);

fn check_key(kind: &'static str, input: &str) -> Result<(), InvalidKey> {
    let ok = !input.is_empty() && input.len() <= 128 && input.bytes().all(|b| b.is_ascii_graphic());
    if ok { Ok(()) } else { Err(InvalidKey(kind)) }
}

/// The id of a connection, a UUID (v7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(uuid::Uuid);

impl ConnectionId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    pub fn parse(input: &str) -> Result<Self, InvalidKey> {
        uuid::Uuid::try_parse(input)
            .map(Self)
            .map_err(|_| InvalidKey("a connection id"))
    }

    /// The bytes that bind a token ciphertext to this connection.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which marketplace account a connection belongs to, as its provider spells it: HubSpot's
/// `hub_id`, or Pipedrive's `company_id:user_id`. Unique per app and provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MarketplaceKey(String);

impl MarketplaceKey {
    pub fn parse(input: &str) -> Result<Self, InvalidKey> {
        check_key("a marketplace account key", input)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The vendor's own account a connection is attached to: a built-in account id, or the
/// vendor's user id (`sub`) when the vendor runs its own login.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(input: &str) -> Result<Self, InvalidKey> {
        check_key("an account id", input)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    /// Tokens are held, but no vendor account has claimed the install yet.
    Pending,
    Active,
    /// The marketplace no longer honours the grant.
    Revoked,
    Uninstalled,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Uninstalled => "uninstalled",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "revoked" => Some(Self::Revoked),
            "uninstalled" => Some(Self::Uninstalled),
            _ => None,
        }
    }

    /// Whether a connection in this status keeps its tokens.
    pub fn holds_tokens(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }
}

/// The tokens of a connection. Plaintext only in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub expires_at: Option<Timestamp>,
}

/// Provider facts worth keeping (HubSpot `hublet`, Pipedrive `api_domain`); never secrets.
pub type Metadata = BTreeMap<String, String>;

/// A stored connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub app: AppId,
    pub provider: ProviderId,
    pub marketplace_key: MarketplaceKey,
    pub account: Option<AccountId>,
    pub status: ConnectionStatus,
    pub scopes: Vec<String>,
    pub metadata: Metadata,
    /// Where in the vendor's product the install landed (a team, a project), when the vendor
    /// named workspaces.
    pub workspace: Option<Workspace>,
    /// `None` once a connection is revoked or uninstalled.
    pub tokens: Option<TokenSet>,
    /// Bumped whenever the tokens change; refreshes compare-and-swap on it.
    pub revision: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Connection {
    /// The tenant the connection was installed for, as kept in its metadata.
    pub fn tenant(&self) -> Option<crate::Tenant> {
        self.metadata
            .get(crate::TENANT_METADATA_KEY)
            .and_then(|value| crate::Tenant::new(value.as_str()).ok())
    }
}

/// What an install hands the vault.
#[derive(Debug, Clone)]
pub struct NewInstall {
    pub app: AppId,
    pub provider: ProviderId,
    pub marketplace_key: MarketplaceKey,
    pub account: Option<AccountId>,
    pub status: ConnectionStatus,
    pub scopes: Vec<String>,
    pub metadata: Metadata,
    /// The workspace the install was made for; a reinstall never moves a connection to another
    /// one (that is [`ConnectionVault::move_to`](crate::ConnectionVault::move_to), asked of the
    /// user).
    pub workspace: Option<Workspace>,
    pub tokens: TokenSet,
}

/// A workspace of the vendor's product (team, project, organisation) an install is attached to,
/// as the vendor names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
}

impl Workspace {
    /// The longest id and name, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Whether it can be stored and shown: an id and a name of 1 to [`Self::MAX_CHARS`]
    /// characters, without control characters.
    pub fn is_usable(&self) -> bool {
        [&self.id, &self.name].iter().all(|text| {
            (1..=Self::MAX_CHARS).contains(&text.chars().count())
                && !text.chars().any(char::is_control)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_text() {
        assert!(MarketplaceKey::parse("123:456").is_ok());
        assert!(MarketplaceKey::parse("").is_err());
        assert!(MarketplaceKey::parse("a b").is_err());
        assert!(AccountId::parse(&"a".repeat(129)).is_err());
        assert!(ConnectionId::parse("not-a-uuid").is_err());
        let id = ConnectionId::generate();
        assert_eq!(ConnectionId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn statuses_round_trip_and_say_whether_they_hold_tokens() {
        for status in [
            ConnectionStatus::Pending,
            ConnectionStatus::Active,
            ConnectionStatus::Revoked,
            ConnectionStatus::Uninstalled,
        ] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        assert!(!ConnectionStatus::Uninstalled.holds_tokens());
        assert!(ConnectionStatus::Active.holds_tokens());
    }
}
