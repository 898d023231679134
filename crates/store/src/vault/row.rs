//! A `connections` row as stored, and its conversion to core's `Connection`, opening the
//! token ciphertexts on the way.

use installgate_core::{
    AccessToken, AccountId, AppId, Connection, ConnectionId, ConnectionStatus, MarketplaceKey,
    Metadata, ProviderId, RefreshToken, Timestamp, TokenSet, VaultError,
};

use super::keyring::{Keyring, OpenError};

/// Every column of `connections`, in this order.
pub(crate) const COLUMNS: &str = "id, app, provider, marketplace_key, account, status, scopes, \
    metadata, token_key_id, access_token, refresh_token, expires_at, revision, created_at, updated_at, \
    workspace_id, workspace_name";

pub(crate) const ACCESS: &str = "access";
pub(crate) const REFRESH: &str = "refresh";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredRow {
    pub id: String,
    pub app: String,
    pub provider: String,
    pub marketplace_key: String,
    pub account: Option<String>,
    pub status: String,
    pub scopes: String,
    pub metadata: String,
    pub token_key_id: Option<String>,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
}

fn corrupt(what: &str) -> VaultError {
    VaultError::Corrupt(format!("the stored {what} is not valid"))
}

impl StoredRow {
    pub fn connection_id(&self) -> Result<ConnectionId, VaultError> {
        ConnectionId::parse(&self.id).map_err(|_| corrupt("id"))
    }

    /// The connection without its tokens, which are not opened.
    pub fn into_metadata(mut self) -> Result<Connection, VaultError> {
        self.token_key_id = None;
        self.access_token = None;
        self.refresh_token = None;
        self.into_connection(&Keyring::default())
    }

    pub fn into_connection(self, keys: &Keyring) -> Result<Connection, VaultError> {
        let id = self.connection_id()?;
        let tokens = match (&self.token_key_id, &self.access_token) {
            (Some(key_id), Some(access)) => {
                let open = |field: &str, sealed: &[u8]| {
                    keys.open(key_id, id, field, sealed)
                        .and_then(|plain| String::from_utf8(plain).map_err(|_| OpenError::Rejected))
                        .map_err(|error| VaultError::Undecryptable {
                            connection: id,
                            reason: error.to_string(),
                        })
                };
                let access_token = AccessToken::new(open(ACCESS, access)?);
                let refresh_token = match &self.refresh_token {
                    Some(sealed) => Some(RefreshToken::new(open(REFRESH, sealed)?)),
                    None => None,
                };
                Some(TokenSet {
                    access_token,
                    refresh_token,
                    expires_at: self.expires_at.map(Timestamp::from_millis),
                })
            }
            _ => None,
        };
        Ok(Connection {
            id,
            app: AppId::parse(&self.app).map_err(|_| corrupt("app"))?,
            provider: ProviderId::parse(&self.provider).map_err(|_| corrupt("provider"))?,
            marketplace_key: MarketplaceKey::parse(&self.marketplace_key)
                .map_err(|_| corrupt("marketplace key"))?,
            account: self
                .account
                .as_deref()
                .map(AccountId::parse)
                .transpose()
                .map_err(|_| corrupt("account"))?,
            status: ConnectionStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            scopes: serde_json::from_str(&self.scopes).map_err(|_| corrupt("scopes"))?,
            metadata: serde_json::from_str::<Metadata>(&self.metadata)
                .map_err(|_| corrupt("metadata"))?,
            workspace: match (self.workspace_id, self.workspace_name) {
                (Some(id), name) => Some(installgate_core::Workspace {
                    name: name.unwrap_or_else(|| id.clone()),
                    id,
                }),
                (None, _) => None,
            },
            tokens,
            revision: self.revision,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

/// Token ciphertexts ready to write.
pub(crate) struct SealedTokens {
    pub key_id: String,
    pub access: Vec<u8>,
    pub refresh: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
}

pub(crate) fn seal(
    keys: &Keyring,
    id: ConnectionId,
    tokens: &TokenSet,
) -> Result<SealedTokens, VaultError> {
    let key_id = keys
        .active_key_id()
        .ok_or(VaultError::NoActiveKey)?
        .to_owned();
    let access = keys
        .seal(id, ACCESS, tokens.access_token.expose().as_bytes())
        .ok_or(VaultError::NoActiveKey)?;
    let refresh = match &tokens.refresh_token {
        Some(token) => Some(
            keys.seal(id, REFRESH, token.expose().as_bytes())
                .ok_or(VaultError::NoActiveKey)?,
        ),
        None => None,
    };
    Ok(SealedTokens {
        key_id,
        access,
        refresh,
        expires_at: tokens.expires_at.map(Timestamp::as_millis),
    })
}
