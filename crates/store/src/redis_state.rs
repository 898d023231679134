//! The Redis state store: `SET key value PX ttl` to put, `GETDEL` to take, every command bounded
//! by a timeout. Keys are `{prefix}{kind}:{base64url(sha256(token))}`; the raw token never
//! reaches Redis.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::{StateKind, StateStore, StateStoreError, StateToken};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret as _, SecretString};

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port[/db]` or `rediss://…`. Secret because it may carry a
    /// password.
    pub url: SecretString,
    /// Prefix of every key, so that several deployments can share one Redis.
    pub key_prefix: String,
    /// Upper bound for one command, connection set-up included.
    pub command_timeout: Duration,
}

/// The state store on a shared Redis, for several gateway replicas.
#[derive(Clone)]
pub struct RedisStateStore {
    connection: ConnectionManager,
    key_prefix: String,
    command_timeout: Duration,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("key_prefix", &self.key_prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStateStore {
    /// Sets up the connection without waiting for Redis: the gateway starts while Redis is down
    /// and reconnects by itself when it is back. Must be called inside a Tokio runtime.
    pub fn connect_lazy(options: &RedisOptions) -> Result<Self, StateStoreError> {
        let client = redis::Client::open(options.url.expose_secret())
            .map_err(|_| StateStoreError::Rejected("the Redis URL is not valid".into()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.command_timeout))
            .set_response_timeout(Some(options.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.command_timeout);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| StateStoreError::Unavailable(describe(&error)))?;
        Ok(Self {
            connection,
            key_prefix: options.key_prefix.clone(),
            command_timeout: options.command_timeout,
        })
    }

    fn key(&self, kind: StateKind, token: &StateToken) -> String {
        format!(
            "{}{}:{}",
            self.key_prefix,
            kind.as_str(),
            URL_SAFE_NO_PAD.encode(token.digest())
        )
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        command: redis::Cmd,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.command_timeout, command.query_async(&mut connection)).await
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StateStoreError::Unavailable(describe(&error))),
            Err(_) => Err(StateStoreError::Unavailable(format!(
                "no answer within {} ms",
                self.command_timeout.as_millis()
            ))),
        }
    }
}

/// A short description of a Redis error that cannot carry a credential.
fn describe(error: &redis::RedisError) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connection_refusal() {
        "connection refused".into()
    } else if error.is_io_error() || error.is_connection_dropped() || error.is_unrecoverable_error()
    {
        "connection failed".into()
    } else {
        format!("Redis error ({:?})", error.kind())
    }
}

#[async_trait]
impl StateStore for RedisStateStore {
    async fn put(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StateStoreError> {
        let millis = u64::try_from(ttl.as_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| StateStoreError::Rejected("the TTL must be 1 ms or more".into()))?;
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(kind, token))
            .arg(value)
            .arg("PX")
            .arg(millis);
        self.run::<()>(command).await
    }

    async fn take(
        &self,
        kind: StateKind,
        token: &StateToken,
    ) -> Result<Option<Vec<u8>>, StateStoreError> {
        let mut command = redis::cmd("GETDEL");
        command.arg(self.key(kind, token));
        self.run(command).await
    }

    async fn ping(&self) -> Result<(), StateStoreError> {
        self.run::<String>(redis::cmd("PING")).await.map(drop)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
