//! The Redis state store: `SET key value PX ttl` to put, `GETDEL` to take, every command bounded
//! by a timeout. Keys are `{prefix}{kind}:{base64url(sha256(token))}`; the raw token never
//! reaches Redis.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::{
    StateKind, StateStore, StateStoreError, StateToken, Throttle, ThrottleWindow,
};
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
    /// For pub/sub, which needs connections of its own.
    client: std::sync::Arc<redis::Client>,
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
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|error| StateStoreError::Unavailable(describe(&error)))?;
        Ok(Self {
            client: std::sync::Arc::new(client),
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

    fn throttle_key(&self, key: &str) -> String {
        format!("{}throttle:{key}", self.key_prefix)
    }

    pub(crate) fn prefixed(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    pub(crate) fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Runs a Lua script, bounded by the command timeout like every command.
    pub(crate) async fn run_script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connection.clone();
        self.bounded(invocation.invoke_async(&mut connection)).await
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}session:{key}", self.key_prefix)
    }

    /// Reads a session record.
    pub async fn session_get(&self, key: &str) -> Result<Option<String>, StateStoreError> {
        let mut command = redis::cmd("GET");
        command.arg(self.session_key(key));
        self.run(command).await
    }

    /// Writes a session record that expires after `ttl`. With `only_new`, an existing record is
    /// left alone and `false` returned.
    pub async fn session_set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        only_new: bool,
    ) -> Result<bool, StateStoreError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.session_key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        if only_new {
            command.arg("NX");
        }
        let reply: Option<String> = self.run(command).await?;
        Ok(reply.is_some())
    }

    pub async fn session_touch(&self, key: &str, ttl: Duration) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("PEXPIRE");
        command
            .arg(self.session_key(key))
            .arg(ttl.as_millis().max(1) as u64);
        self.run::<i64>(command).await.map(drop)
    }

    pub async fn session_delete(&self, key: &str) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("DEL");
        command.arg(self.session_key(key));
        self.run::<i64>(command).await.map(drop)
    }

    async fn run_pipeline<T: redis::FromRedisValue>(
        &self,
        pipeline: redis::Pipeline,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connection.clone();
        self.bounded(pipeline.query_async(&mut connection)).await
    }

    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        command: redis::Cmd,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connection.clone();
        self.bounded(command.query_async(&mut connection)).await
    }

    /// Awaits a Redis call for at most the command timeout.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StateStoreError> {
        match tokio::time::timeout(self.command_timeout, call).await {
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
pub(crate) fn describe(error: &redis::RedisError) -> String {
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

    async fn exists(&self, kind: StateKind, token: &StateToken) -> Result<bool, StateStoreError> {
        let mut command = redis::cmd("EXISTS");
        command.arg(self.key(kind, token));
        self.run::<i64>(command).await.map(|count| count > 0)
    }

    async fn ping(&self) -> Result<(), StateStoreError> {
        self.run::<String>(redis::cmd("PING")).await.map(drop)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

fn window(failures: Option<u64>, remaining_ms: i64) -> Option<ThrottleWindow> {
    let failures = failures?;
    let remaining = Duration::from_millis(u64::try_from(remaining_ms).ok()?);
    Some(ThrottleWindow {
        failures,
        remaining,
    })
}

#[async_trait]
impl Throttle for RedisStateStore {
    async fn failures(&self, key: &str) -> Result<Option<ThrottleWindow>, StateStoreError> {
        let key = self.throttle_key(key);
        let mut pipeline = redis::pipe();
        pipeline.cmd("GET").arg(&key).cmd("PTTL").arg(&key);
        let (failures, remaining): (Option<u64>, i64) = self.run_pipeline(pipeline).await?;
        Ok(window(failures, remaining))
    }

    async fn record_failure(
        &self,
        key: &str,
        length: Duration,
    ) -> Result<ThrottleWindow, StateStoreError> {
        let key = self.throttle_key(key);
        let millis = length.as_millis().max(1) as u64;
        // One transaction: open the window if there is none, count, and read what is left.
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("PX")
            .arg(millis)
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key);
        let (failures, remaining): (u64, i64) = self.run_pipeline(pipeline).await?;
        Ok(window(Some(failures), remaining).unwrap_or(ThrottleWindow {
            failures,
            remaining: length,
        }))
    }

    async fn forgive(&self, key: &str) -> Result<(), StateStoreError> {
        // Decrement only a live window, so that no counter without an expiry is left behind.
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0",
        );
        let mut connection = self.connection.clone();
        let invocation = script.key(self.throttle_key(key));
        let call = invocation.invoke_async::<i64>(&mut connection);
        match tokio::time::timeout(self.command_timeout, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(StateStoreError::Unavailable(describe(&error))),
            Err(_) => Err(StateStoreError::Unavailable("no answer in time".into())),
        }
    }

    async fn reset(&self, key: &str) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("DEL");
        command.arg(self.throttle_key(key));
        self.run::<i64>(command).await.map(drop)
    }
}
