//! The token-encryption keyring, from configuration or, for SQLite without configured keys, a
//! development key kept beside the database file.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use installgate_store::{Keyring, sqlite_file};
use secrecy::ExposeSecret as _;

use crate::settings::Settings;

const DEV_KEY_ID: &str = "dev";

pub fn keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    if !settings.vault.keys.is_empty() {
        let keys = settings
            .vault
            .keys
            .iter()
            .map(|(id, key)| (id.clone(), *key.expose_secret()));
        return Ok(Keyring::new(settings.vault.active_key.as_deref(), keys)?);
    }
    let key = match sqlite_file(settings.database.url.expose_secret()) {
        Some(database) => {
            let path = database.with_file_name("installgate-dev.key");
            let key = load_or_create(&path)?;
            tracing::warn!(
                key_file = %path.display(),
                "no vault key is configured: tokens are sealed with a development key kept \
                 beside the database; configure vault.keys for production"
            );
            key
        }
        None => {
            tracing::warn!(
                "no vault key is configured: tokens are sealed with a key that lives only as long as this process"
            );
            random_key()?
        }
    };
    Ok(Keyring::new(
        Some(DEV_KEY_ID),
        [(DEV_KEY_ID.to_owned(), key)],
    )?)
}

fn random_key() -> anyhow::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|_| anyhow::anyhow!("the OS random generator failed"))?;
    Ok(key)
}

fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} is not base64", path.display()))?;
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| anyhow::anyhow!("{} does not hold 32 bytes", path.display()));
    }
    let key = random_key()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_private(path, &STANDARD.encode(key))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
