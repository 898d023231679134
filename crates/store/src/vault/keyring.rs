//! Token encryption: XChaCha20-Poly1305 with a random 192-bit nonce per ciphertext, the key id
//! stored beside it, and the connection id and field name as associated data, so a ciphertext
//! copied to another row or column does not open.

use std::collections::BTreeMap;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use installgate_core::ConnectionId;

const NONCE_LEN: usize = 24;

/// The configured keys: one active key that new ciphertexts use, and older keys that still open
/// what they sealed.
#[derive(Clone, Default)]
pub struct Keyring {
    active: Option<String>,
    ciphers: BTreeMap<String, XChaCha20Poly1305>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("key_ids", &self.ciphers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a ciphertext did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("key \"{0}\" is not configured")]
    UnknownKey(String),
    #[error("the ciphertext does not belong to this connection, or was altered")]
    Rejected,
}

/// The active key named no configured key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the active vault key \"{0}\" is not among the configured keys")]
pub struct UnknownActiveKey(pub String);

impl Keyring {
    pub fn new(
        active: Option<&str>,
        keys: impl IntoIterator<Item = (String, [u8; 32])>,
    ) -> Result<Self, UnknownActiveKey> {
        let ciphers: BTreeMap<String, XChaCha20Poly1305> = keys
            .into_iter()
            .map(|(id, key)| (id, XChaCha20Poly1305::new(&key.into())))
            .collect();
        if let Some(active) = active
            && !ciphers.contains_key(active)
        {
            return Err(UnknownActiveKey(active.to_owned()));
        }
        Ok(Self {
            active: active.map(str::to_owned),
            ciphers,
        })
    }

    pub fn active_key_id(&self) -> Option<&str> {
        self.active.as_deref()
    }

    pub fn knows(&self, key_id: &str) -> bool {
        self.ciphers.contains_key(key_id)
    }

    /// Key ids other than the active one.
    pub fn older_key_ids(&self) -> Vec<String> {
        self.ciphers
            .keys()
            .filter(|id| Some(id.as_str()) != self.active.as_deref())
            .cloned()
            .collect()
    }

    /// Seals `plaintext` under the active key; `None` when no key is active.
    pub fn seal(&self, connection: ConnectionId, field: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
        self.seal_with(&associated_data(connection, field), plaintext)
    }

    pub fn open(
        &self,
        key_id: &str,
        connection: ConnectionId,
        field: &str,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, OpenError> {
        self.open_with(key_id, &associated_data(connection, field), ciphertext)
    }

    /// Seals a secret that is not a connection's (an operator's TOTP secret, say) under the
    /// active key, bound to what it is (`kind`) and whose it is (`owner`).
    pub fn seal_secret(&self, kind: &str, owner: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
        self.seal_with(&secret_data(kind, owner), plaintext)
    }

    /// Opens what [`Keyring::seal_secret`] sealed for the same `kind` and `owner`.
    pub fn open_secret(
        &self,
        key_id: &str,
        kind: &str,
        owner: &str,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, OpenError> {
        self.open_with(key_id, &secret_data(kind, owner), ciphertext)
    }

    fn seal_with(&self, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let cipher = self.ciphers.get(self.active.as_deref()?)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    fn open_with(&self, key_id: &str, aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, OpenError> {
        let cipher = self
            .ciphers
            .get(key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        if ciphertext.len() < NONCE_LEN {
            return Err(OpenError::Rejected);
        }
        let (nonce, sealed) = ciphertext.split_at(NONCE_LEN);
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map_err(|_| OpenError::Rejected)
    }
}

fn secret_data(kind: &str, owner: &str) -> Vec<u8> {
    format!("installgate/secret/v1/{kind}/{owner}").into_bytes()
}

fn associated_data(connection: ConnectionId, field: &str) -> Vec<u8> {
    let mut aad = b"installgate/token/v1/".to_vec();
    aad.extend_from_slice(field.as_bytes());
    aad.push(b'/');
    aad.extend_from_slice(connection.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(
            Some("new"),
            [("old".into(), [1; 32]), ("new".into(), [2; 32])],
        )
        .unwrap()
    }

    #[test]
    fn sealed_tokens_open_only_for_their_connection_and_field() {
        let keys = keyring();
        let id = ConnectionId::generate();
        let sealed = keys.seal(id, "access", b"token-value").unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"token-value"));
        assert_eq!(
            keys.open("new", id, "access", &sealed).unwrap(),
            b"token-value"
        );
        let other = ConnectionId::generate();
        assert_eq!(
            keys.open("new", other, "access", &sealed),
            Err(OpenError::Rejected)
        );
        assert_eq!(
            keys.open("new", id, "refresh", &sealed),
            Err(OpenError::Rejected)
        );
        assert_eq!(
            keys.open("old", id, "access", &sealed),
            Err(OpenError::Rejected)
        );
        assert_eq!(
            keys.open("gone", id, "access", &sealed),
            Err(OpenError::UnknownKey("gone".into()))
        );
        assert_eq!(
            keys.open("new", id, "access", b"short"),
            Err(OpenError::Rejected)
        );
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let keys = keyring();
        let id = ConnectionId::generate();
        assert_ne!(keys.seal(id, "access", b"x"), keys.seal(id, "access", b"x"));
    }

    #[test]
    fn no_active_key_seals_nothing_and_an_unknown_active_key_is_refused() {
        let keys = Keyring::new(None, [("old".into(), [1; 32])]).unwrap();
        assert!(
            keys.seal(ConnectionId::generate(), "access", b"x")
                .is_none()
        );
        assert!(Keyring::new(Some("missing"), []).is_err());
        assert_eq!(keyring().older_key_ids(), vec!["old".to_owned()]);
    }
}
