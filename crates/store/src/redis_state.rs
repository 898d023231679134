//! The Redis state store: `SET key value PX ttl` to put, `GETDEL` to take, every command bounded
//! by a timeout. Keys are `{prefix}{kind}:{base64url(sha256(token))}`; the raw token never
//! reaches Redis.
//!
//! It runs on one node (a `ConnectionManager`) or on a Redis Cluster (the crate's async cluster
//! connection, which follows the slots). Every command, pipeline and script touches a single
//! key, so each one lands in one hash slot and works on a cluster as it is.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::{
    StateKind, StateStore, StateStoreError, StateToken, Throttle, ThrottleWindow,
};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use secrecy::{ExposeSecret as _, SecretString};

/// Where Redis is. Secret because the URLs may carry a password.
#[derive(Debug, Clone)]
pub enum RedisTarget {
    /// One node: `redis://[user:password@]host:port[/db]` or `rediss://…`.
    Node(SecretString),
    /// A Redis Cluster, found through these seed nodes (`redis://[user:password@]host:port`);
    /// the other nodes are learnt from the cluster. Every seed carries the same credentials.
    Cluster(Vec<SecretString>),
}

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// One node or a cluster.
    pub target: RedisTarget,
    /// Prefix of every key, so that several deployments can share one Redis.
    pub key_prefix: String,
    /// Upper bound for one command, connection set-up included.
    pub command_timeout: Duration,
}

/// The connection commands go through: to one node, or to a cluster, routed by key slot.
#[derive(Clone)]
enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

/// How many connections to one node a store may open: one for each thread that sends commands
/// (the HTTP workers, the background runtime's threads), shared round the threads beyond that.
const NODE_CONNECTIONS: usize = 8;

/// A state token's SHA-256 in unpadded base64, as its key ends: 32 bytes, as long as the
/// token's own text.
const DIGEST_TEXT_BYTES: usize = StateToken::ENCODED_LEN;

/// The key of a state record: the prefix, its kind and its token's digest in base64, written
/// into one allocation of the right size.
fn state_key(prefix: &str, kind: StateKind, token: &StateToken) -> String {
    let kind = kind.as_str();
    let mut key = String::with_capacity(prefix.len() + kind.len() + 1 + DIGEST_TEXT_BYTES);
    key.push_str(prefix);
    key.push_str(kind);
    key.push(':');
    URL_SAFE_NO_PAD.encode_string(token.digest(), &mut key);
    key
}

/// `SET key value PX millis`, its buffers sized for all of it at once (room for a trailing `NX`
/// or `XX`): for state records and session records alike.
fn set_expiring(key: String, value: &[u8], millis: u64) -> redis::Cmd {
    let mut command = redis::Cmd::with_capacity(6, key.len() + value.len() + 32);
    command.arg("SET").arg(key).arg(value).arg("PX").arg(millis);
    command
}

/// The slot of the calling thread among a store's node connections, given out in turn as
/// threads first send a command.
fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    SLOT.with(|slot| *slot)
}

/// Where a store's commands go.
#[derive(Clone)]
enum Connections {
    /// Lazy connections to one node. A connection's reader and writer run as a task on the
    /// runtime of the thread that first uses it, so a thread that keeps to its own connection
    /// never waits for another thread to be scheduled to send its command or read the reply.
    Node(Arc<[ConnectionManager]>),
    Cluster(ClusterConnection),
}

impl Connections {
    fn for_this_thread(&self) -> Connection {
        match self {
            Self::Node(managers) => {
                Connection::Node(managers[thread_slot() % managers.len()].clone())
            }
            Self::Cluster(connection) => Connection::Cluster(connection.clone()),
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Node(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Node(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// The state store on a shared Redis, for several gateway replicas.
#[derive(Clone)]
pub struct RedisStateStore {
    /// For pub/sub, which needs connections of its own: the node, or each seed of a cluster
    /// (tried in turn).
    subscribers: Arc<[redis::Client]>,
    connections: Connections,
    key_prefix: String,
    command_timeout: Duration,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("cluster", &self.is_cluster())
            .field("key_prefix", &self.key_prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

fn rejected(message: &str) -> StateStoreError {
    StateStoreError::Rejected(message.into())
}

/// The cluster connection, made without waiting for any node. It connects to the seeds in the
/// background; a command that finds no node makes it connect to the seeds again, so it recovers
/// by itself when the cluster is back. Its own retries (after `MOVED`, a dropped node) stay
/// within the command timeout.
fn lazy_cluster(
    seeds: &[SecretString],
    timeout: Duration,
) -> Result<ClusterConnection, StateStoreError> {
    if seeds.is_empty() {
        return Err(rejected("a Redis Cluster needs at least one seed node"));
    }
    let wait_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let client = ClusterClient::builder(seeds.iter().map(|url| url.expose_secret()))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .overall_response_timeout(Some(timeout))
        .retries(4)
        .min_retry_wait(10)
        .max_retry_wait((wait_ms / 4).max(11))
        .build()
        // The crate's message may quote a URL; this one cannot.
        .map_err(|_| {
            rejected(
                "the Redis Cluster seed nodes are not valid, or differ in scheme, user, password or database",
            )
        })?;
    let config = ClusterConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout);
    Ok(client.get_pending_async_connection_with_config(config))
}

impl RedisStateStore {
    /// Sets up the connection without waiting for Redis: the gateway starts while Redis is down
    /// and reconnects by itself when it is back. Must be called inside a Tokio runtime.
    pub fn connect_lazy(options: &RedisOptions) -> Result<Self, StateStoreError> {
        let timeout = options.command_timeout;
        let (subscribers, connections) = match &options.target {
            RedisTarget::Node(url) => {
                let client = redis::Client::open(url.expose_secret())
                    .map_err(|_| rejected("the Redis URL is not valid"))?;
                // Every call is bounded by `bounded` already: a second timer per command in
                // the connection would only cost.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(None)
                    .set_number_of_retries(1)
                    .set_max_delay(timeout);
                let managers = (0..NODE_CONNECTIONS)
                    .map(|_| {
                        ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
                    })
                    .collect::<Result<Arc<[_]>, _>>()
                    .map_err(|error| StateStoreError::Unavailable(describe(&error)))?;
                (vec![client], Connections::Node(managers))
            }
            RedisTarget::Cluster(seeds) => {
                let connection = lazy_cluster(seeds, timeout)?;
                let clients = seeds
                    .iter()
                    .map(|url| redis::Client::open(url.expose_secret()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| rejected("a Redis Cluster URL is not valid"))?;
                (clients, Connections::Cluster(connection))
            }
        };
        Ok(Self {
            subscribers: subscribers.into(),
            connections,
            key_prefix: options.key_prefix.clone(),
            command_timeout: timeout,
        })
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.connections, Connections::Cluster(_))
    }

    fn key(&self, kind: StateKind, token: &StateToken) -> String {
        state_key(&self.key_prefix, kind, token)
    }

    fn throttle_key(&self, key: &str) -> String {
        format!("{}throttle:{key}", self.key_prefix)
    }

    pub(crate) fn prefixed(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// Plain clients for pub/sub: the node, or each seed of a cluster.
    pub(crate) fn subscribers(&self) -> &[redis::Client] {
        &self.subscribers
    }

    pub(crate) fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Runs a Lua script, bounded by the command timeout like every command.
    pub(crate) async fn run_script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connections.for_this_thread();
        self.bounded(invocation.invoke_async(&mut connection)).await
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}session:{key}", self.key_prefix)
    }

    /// Reads a session record and extends its life to `ttl` in the same command (`GETEX`, so
    /// Redis 6.2 or later): a session read is a session used.
    pub async fn session_get(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<String>, StateStoreError> {
        let mut command = redis::cmd("GETEX");
        command
            .arg(self.session_key(key))
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        self.run(command).await
    }

    /// Writes a session record that expires after `ttl`: a new one (`new`), which leaves an
    /// existing record alone, or over an existing one only, which leaves an ended session
    /// ended. `false` when nothing was written.
    pub async fn session_set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        new: bool,
    ) -> Result<bool, StateStoreError> {
        let millis = ttl.as_millis().max(1) as u64;
        let mut command = set_expiring(self.session_key(key), value.as_bytes(), millis);
        command.arg(if new { "NX" } else { "XX" });
        let reply: Option<String> = self.run(command).await?;
        Ok(reply.is_some())
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
        let mut connection = self.connections.for_this_thread();
        self.bounded(pipeline.query_async(&mut connection)).await
    }

    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        command: redis::Cmd,
    ) -> Result<T, StateStoreError> {
        let mut connection = self.connections.for_this_thread();
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

/// A record's time to live in whole milliseconds, as `PX` takes it: at least one.
fn ttl_millis(ttl: Duration) -> Result<u64, StateStoreError> {
    u64::try_from(ttl.as_millis())
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| StateStoreError::Rejected("the TTL must be 1 ms or more".into()))
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
        let millis = ttl_millis(ttl)?;
        self.run::<()>(set_expiring(self.key(kind, token), value, millis))
            .await
    }

    async fn put_new(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StateStoreError> {
        let millis = ttl_millis(ttl)?;
        let mut command = set_expiring(self.key(kind, token), value, millis);
        command.arg("NX");
        // `OK` when set, nil when a record was there.
        Ok(self.run::<Option<String>>(command).await?.is_some())
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
        let mut invocation = script.prepare_invoke();
        invocation.key(self.throttle_key(key));
        self.run_script::<i64>(&invocation).await.map(drop)
    }

    async fn reset(&self, key: &str) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("DEL");
        command.arg(self.throttle_key(key));
        self.run::<i64>(command).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use installgate_core::{StateKind, StateToken};

    use super::{state_key, thread_slot};

    #[test]
    fn a_state_key_is_the_prefix_the_kind_and_the_token_s_digest_in_base64() {
        // 32 zero bytes; their SHA-256 is 66687aad…0d5f2925.
        let token = StateToken::parse("A".repeat(43)).unwrap();
        let key = state_key("ig:", StateKind::Install, &token);
        assert_eq!(
            key,
            "ig:install:Zmh6rfhivXdsj8GLjp-OIAiXFIVu4jOzkCpZHQ1fKSU"
        );
        assert_eq!(key.len(), key.capacity());
    }

    #[test]
    fn each_thread_keeps_a_slot_of_its_own() {
        let here = thread_slot();
        assert_eq!(thread_slot(), here);
        let there = std::thread::spawn(thread_slot).join().unwrap();
        assert_ne!(there, here);
    }
}
