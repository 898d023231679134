//! The state-store suite, run against the in-memory store, real Redis and a real three-node
//! Redis Cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use installgate_core::{
    ConnectionId, RefreshLock, StateKind, StateStore, StateStoreError, StateToken, Throttle,
};
use installgate_store::{MemoryStateStore, RedisOptions, RedisStateStore, RedisTarget};
use installgate_tests::{PrivateRedis, RedisCluster, free_port, redis_url, unique_prefix};

const TIMEOUT: Duration = Duration::from_millis(1000);
/// How much later than its timeout a failing call may return: scheduling noise, not a target.
const SLACK: Duration = Duration::from_millis(1500);

/// Both ports of one backend.
trait Backend: StateStore + Throttle {}
impl<T: StateStore + Throttle> Backend for T {}

fn memory() -> Arc<dyn Backend> {
    Arc::new(MemoryStateStore::new(10_000))
}

fn redis_with(target: RedisTarget, prefix: &str) -> RedisStateStore {
    RedisStateStore::connect_lazy(&RedisOptions {
        target,
        key_prefix: prefix.to_owned(),
        command_timeout: TIMEOUT,
    })
    .unwrap()
}

fn redis_at(url: &str, prefix: &str) -> RedisStateStore {
    redis_with(RedisTarget::Node(url.into()), prefix)
}

fn cluster_at(urls: &[String], prefix: &str) -> RedisStateStore {
    let seeds = urls.iter().map(|url| url.as_str().into()).collect();
    redis_with(RedisTarget::Cluster(seeds), prefix)
}

fn redis() -> Arc<dyn Backend> {
    Arc::new(redis_at(&redis_url(), &unique_prefix()))
}

/// Runs one scenario against every backend, as `<scenario>::memory`, `<scenario>::redis` and
/// `<scenario>::redis_cluster` (on a cluster of the test's own).
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn memory() {
                super::$scenario(super::memory()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn redis() {
                super::$scenario(super::redis()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn redis_cluster() {
                let cluster = installgate_tests::RedisCluster::start().await;
                let store = super::cluster_at(&cluster.urls(), &installgate_tests::unique_prefix());
                assert!(store.is_cluster());
                super::$scenario(std::sync::Arc::new(store)).await;
            }
        }
    )*};
}

on_every_backend!(
    throttle_windows_count_and_expire,
    a_record_exists_until_taken,
    a_record_can_be_taken_once,
    unknown_tokens_are_absent,
    records_expire_after_their_ttl,
    kinds_do_not_share_records,
    one_of_1000_concurrent_takes_wins,
    a_put_replaces_the_record,
);

async fn throttle_windows_count_and_expire(store: Arc<dyn Backend>) {
    let key = format!("test:{}", uuid::Uuid::new_v4());
    assert_eq!(store.failures(&key).await.unwrap(), None);
    let counts: Vec<_> = (0..200)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.record_failure(&key, Duration::from_secs(60)).await })
        })
        .collect();
    let mut seen = Vec::new();
    for count in counts {
        seen.push(count.await.unwrap().unwrap().failures);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=200).collect::<Vec<u64>>(),
        "every attempt gets its own count"
    );
    store.forgive(&key).await.unwrap();
    let window = store.failures(&key).await.unwrap().unwrap();
    assert_eq!(window.failures, 199);
    assert!(window.remaining <= Duration::from_secs(60));
    store.reset(&key).await.unwrap();
    assert_eq!(store.failures(&key).await.unwrap(), None);
    // Forgiving a key with no window leaves nothing behind.
    store.forgive(&key).await.unwrap();
    assert_eq!(store.failures(&key).await.unwrap(), None);

    // A window ends by itself.
    let short = format!("test:{}", uuid::Uuid::new_v4());
    store
        .record_failure(&short, Duration::from_millis(300))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        store.failures(&short).await.unwrap(),
        None,
        "the window ended"
    );
    let fresh = store
        .record_failure(&short, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(fresh.failures, 1, "a new window starts from one");
}

async fn a_record_exists_until_taken(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    assert!(
        !store
            .exists(StateKind::RevokedSession, &token)
            .await
            .unwrap()
    );
    store
        .put(
            StateKind::RevokedSession,
            &token,
            b"1",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(
        store
            .exists(StateKind::RevokedSession, &token)
            .await
            .unwrap()
    );
    assert!(!store.exists(StateKind::Install, &token).await.unwrap());
    store.take(StateKind::RevokedSession, &token).await.unwrap();
    assert!(
        !store
            .exists(StateKind::RevokedSession, &token)
            .await
            .unwrap()
    );
}

async fn a_record_can_be_taken_once(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    store
        .put(
            StateKind::Install,
            &token,
            b"record",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let first = store.take(StateKind::Install, &token).await.unwrap();
    let second = store.take(StateKind::Install, &token).await.unwrap();
    assert_eq!(first.as_deref(), Some(&b"record"[..]));
    assert_eq!(second, None);
}

async fn unknown_tokens_are_absent(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    assert_eq!(store.take(StateKind::Install, &token).await.unwrap(), None);
    store.ping().await.unwrap();
}

async fn records_expire_after_their_ttl(store: Arc<dyn Backend>) {
    let short = StateToken::generate().unwrap();
    let long = StateToken::generate().unwrap();
    store
        .put(
            StateKind::Install,
            &short,
            b"short",
            Duration::from_millis(200),
        )
        .await
        .unwrap();
    store
        .put(StateKind::Install, &long, b"long", Duration::from_secs(60))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(store.take(StateKind::Install, &short).await.unwrap(), None);
    assert_eq!(
        store
            .take(StateKind::Install, &long)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"long"[..])
    );
}

async fn kinds_do_not_share_records(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    store
        .put(
            StateKind::SignIn,
            &token,
            b"sign-in",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(store.take(StateKind::Install, &token).await.unwrap(), None);
    assert_eq!(
        store.take(StateKind::ParkedRequest, &token).await.unwrap(),
        None
    );
    assert!(
        store
            .take(StateKind::SignIn, &token)
            .await
            .unwrap()
            .is_some()
    );
}

async fn one_of_1000_concurrent_takes_wins(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    store
        .put(StateKind::Install, &token, b"once", Duration::from_secs(60))
        .await
        .unwrap();
    let takers: Vec<_> = (0..1000)
        .map(|_| {
            let store = store.clone();
            let token = token.clone();
            tokio::spawn(async move { store.take(StateKind::Install, &token).await })
        })
        .collect();
    let mut winners = 0;
    for taker in takers {
        if taker.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn a_put_replaces_the_record(store: Arc<dyn Backend>) {
    let token = StateToken::generate().unwrap();
    let ttl = Duration::from_secs(60);
    store
        .put(StateKind::Install, &token, b"old", ttl)
        .await
        .unwrap();
    store
        .put(StateKind::Install, &token, b"new", ttl)
        .await
        .unwrap();
    let taken = store.take(StateKind::Install, &token).await.unwrap();
    assert_eq!(taken.as_deref(), Some(&b"new"[..]));
}

async fn keys_under(prefix: &str) -> Vec<String> {
    installgate_tests::redis_keys(&format!("{prefix}*")).await
}

#[test]
fn hostile_state_strings_are_refused_before_any_store_is_touched() {
    // The stores take only a parsed `StateToken`, so refusing these at parse time means no
    // store call can happen for them.
    let hostile: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![b'a'; 1 << 20],
        b"abc\0def".to_vec(),
        [b'A'; 40].iter().chain(b"\r\nX").copied().collect(),
        vec![b'*'; StateToken::ENCODED_LEN],
        vec![0xC3; StateToken::ENCODED_LEN],
        b"installgate:install:*".to_vec(),
    ];
    for input in hostile {
        assert!(StateToken::parse(&input).is_err(), "{input:?} was accepted");
    }
}

#[tokio::test]
async fn redis_keys_hold_a_hash_of_the_token_and_a_ttl() {
    let prefix = unique_prefix();
    let store = redis_at(&redis_url(), &prefix);
    let token = StateToken::generate().unwrap();
    store
        .put(StateKind::Install, &token, b"x", Duration::from_secs(600))
        .await
        .unwrap();
    let keys = keys_under(&prefix).await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&format!("{prefix}install:")));
    assert!(!keys[0].contains(token.expose()));

    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!((590_000..=600_000).contains(&ttl_ms), "PTTL was {ttl_ms}");
    store.take(StateKind::Install, &token).await.unwrap();
    assert!(keys_under(&prefix).await.is_empty());
}

#[tokio::test]
async fn a_full_memory_space_refuses_new_records_and_keeps_the_ones_it_has() {
    let store = MemoryStateStore::new(100);
    let tokens: Vec<StateToken> = (0..150).map(|_| StateToken::generate().unwrap()).collect();
    let mut refused = 0;
    for token in &tokens {
        match store
            .put(StateKind::Install, token, b"x", Duration::from_secs(60))
            .await
        {
            Ok(()) => {}
            Err(StateStoreError::Full(_)) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(refused, 50);
    assert_eq!(store.len(StateKind::Install), 100);
    let oldest = store.take(StateKind::Install, &tokens[0]).await.unwrap();
    let refused_one = store.take(StateKind::Install, &tokens[149]).await.unwrap();
    assert!(oldest.is_some(), "nothing stored is dropped to make room");
    assert!(refused_one.is_none());
    // A record taken makes room for one more.
    store
        .put(
            StateKind::Install,
            &tokens[149],
            b"x",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_flood_of_one_kind_leaves_the_other_kinds_alone() {
    let store = MemoryStateStore::new(100);
    let revoked = StateToken::generate().unwrap();
    store
        .put(
            StateKind::RevokedSession,
            &revoked,
            b"1",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    store
        .record_failure("sign-in:someone", Duration::from_secs(60))
        .await
        .unwrap();
    for _ in 0..1_000 {
        let token = StateToken::generate().unwrap();
        let _ = store
            .put(
                StateKind::ParkedRequest,
                &token,
                b"x",
                Duration::from_secs(60),
            )
            .await;
        let _ = store
            .put(StateKind::Install, &token, b"x", Duration::from_secs(60))
            .await;
    }
    assert!(
        store
            .exists(StateKind::RevokedSession, &revoked)
            .await
            .unwrap()
    );
    let window = store.failures("sign-in:someone").await.unwrap().unwrap();
    assert_eq!(window.failures, 1);
    // Other kinds still have their own room.
    store
        .put(
            StateKind::SignIn,
            &StateToken::generate().unwrap(),
            b"x",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_records_make_room_in_a_full_memory_space() {
    let store = MemoryStateStore::new(10);
    for _ in 0..10 {
        store
            .put(
                StateKind::ParkedRequest,
                &StateToken::generate().unwrap(),
                b"x",
                Duration::from_millis(50),
            )
            .await
            .unwrap();
    }
    let late = StateToken::generate().unwrap();
    let full = store
        .put(
            StateKind::ParkedRequest,
            &late,
            b"x",
            Duration::from_secs(60),
        )
        .await;
    assert!(matches!(full, Err(StateStoreError::Full(_))), "{full:?}");
    // Expiry runs on the cache's timer wheel, whose finest step is about a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match store
            .put(
                StateKind::ParkedRequest,
                &late,
                b"x",
                Duration::from_secs(60),
            )
            .await
        {
            Ok(()) => break,
            Err(StateStoreError::Full(_)) if Instant::now() < deadline => {}
            Err(other) => panic!("expired records made no room: {other:?}"),
        }
    }
    assert_eq!(store.len(StateKind::ParkedRequest), 1);
}

#[tokio::test]
async fn a_full_throttle_space_refuses_new_windows_and_keeps_counting_the_old_ones() {
    let store = MemoryStateStore::new(3);
    for n in 0..3 {
        store
            .record_failure(&format!("key{n}"), Duration::from_secs(60))
            .await
            .unwrap();
    }
    let refused = store.record_failure("key3", Duration::from_secs(60)).await;
    assert!(
        matches!(refused, Err(StateStoreError::Full(_))),
        "{refused:?}"
    );
    let counted = store
        .record_failure("key0", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(counted.failures, 2);
}

/// Every call of `store` fails with `Unavailable`, each within the timeout and some slack.
async fn assert_every_call_is_unavailable(store: &RedisStateStore) {
    let token = StateToken::generate().unwrap();
    let started = Instant::now();
    let put = store
        .put(StateKind::Install, &token, b"x", Duration::from_secs(60))
        .await;
    assert!(
        matches!(put, Err(StateStoreError::Unavailable(_))),
        "{put:?}"
    );
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "put took {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let take = store.take(StateKind::Install, &token).await;
    assert!(
        matches!(take, Err(StateStoreError::Unavailable(_))),
        "{take:?}"
    );
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "take took {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let ping = store.ping().await;
    assert!(
        matches!(ping, Err(StateStoreError::Unavailable(_))),
        "{ping:?}"
    );
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "ping took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_redis_gives_unavailable_within_the_timeout() {
    let store = redis_at(
        &format!("redis://127.0.0.1:{}", free_port()),
        &unique_prefix(),
    );
    assert_every_call_is_unavailable(&store).await;
}

#[tokio::test]
async fn an_unroutable_redis_gives_unavailable_within_the_timeout() {
    // A listener that never answers: connections hang rather than being refused.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let store = redis_at(&url, &unique_prefix());
    assert_every_call_is_unavailable(&store).await;
}

#[tokio::test]
async fn a_paused_redis_gives_unavailable_within_the_timeout() {
    let server = PrivateRedis::start().await;
    let store = redis_at(&server.url(), &unique_prefix());
    store.ping().await.unwrap();
    server.pause(Duration::from_secs(5)).await;
    assert_every_call_is_unavailable(&store).await;
}

#[tokio::test]
async fn the_redis_store_recovers_when_redis_comes_back() {
    let mut server = PrivateRedis::start().await;
    let store = redis_at(&server.url(), &unique_prefix());
    store.ping().await.unwrap();

    server.stop();
    assert_every_call_is_unavailable(&store).await;

    server.restart().await;
    assert_recovers_within(&store, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_of_every_kind_are_spread_over_the_nodes_of_a_cluster() {
    let cluster = RedisCluster::start().await;
    let prefix = unique_prefix();
    let store = cluster_at(&cluster.urls(), &prefix);
    let ttl = Duration::from_secs(60);
    for round in 0..20 {
        let token = StateToken::generate().unwrap();
        store
            .put(StateKind::Install, &token, b"x", ttl)
            .await
            .unwrap();
        store
            .record_failure(&format!("address:10.0.0.{round}"), ttl)
            .await
            .unwrap();
        let session = StateToken::generate().unwrap();
        assert!(
            store
                .session_set(session.expose(), "{}", ttl, true)
                .await
                .unwrap()
        );
        assert!(
            store
                .try_acquire(ConnectionId::generate(), ttl)
                .await
                .unwrap()
                .is_some()
        );
    }
    let counts = cluster.keys_per_node(&prefix).await;
    assert_eq!(counts.iter().sum::<usize>(), 80, "{counts:?}");
    assert!(
        counts.iter().all(|count| *count > 0),
        "every node holds keys: {counts:?}"
    );
}

async fn the_refresh_lock_holds_one_lease_at_a_time(store: RedisStateStore) {
    let id = ConnectionId::generate();
    let first = store
        .try_acquire(id, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("a free lock is taken");
    assert!(
        store
            .try_acquire(id, Duration::from_secs(10))
            .await
            .unwrap()
            .is_none()
    );
    store.release(&first).await.unwrap();
    let second = store
        .try_acquire(id, Duration::from_millis(300))
        .await
        .unwrap()
        .expect("a released lock is free");
    // An old lease releases nothing.
    store.release(&first).await.unwrap();
    assert!(
        store
            .try_acquire(id, Duration::from_secs(10))
            .await
            .unwrap()
            .is_none()
    );
    // A lease ends by itself.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store
            .try_acquire(id, Duration::from_secs(10))
            .await
            .unwrap()
            .is_some()
    );
    drop(second);
}

#[tokio::test]
async fn the_refresh_lock_holds_one_lease_at_a_time_on_redis() {
    the_refresh_lock_holds_one_lease_at_a_time(redis_at(&redis_url(), &unique_prefix())).await;
}

#[tokio::test]
async fn the_refresh_lock_holds_one_lease_at_a_time_on_a_cluster() {
    let cluster = RedisCluster::start().await;
    the_refresh_lock_holds_one_lease_at_a_time(cluster_at(&cluster.urls(), &unique_prefix())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_changes_reach_subscribers_on_every_node_of_a_cluster() {
    let cluster = RedisCluster::start().await;
    let prefix = unique_prefix();
    let nodes = cluster.urls();
    // Each store's first seed is down, so it subscribes on its second: a different node each.
    let down = format!("redis://127.0.0.1:{}", free_port());
    let mut stores = Vec::new();
    let mut subscriptions = Vec::new();
    for first in 0..nodes.len() {
        let mut seeds = vec![down.clone()];
        seeds.extend(nodes.iter().cycle().skip(first).take(nodes.len()).cloned());
        let store = cluster_at(&seeds, &prefix);
        subscriptions.push(Box::pin(store.token_changes().await.unwrap()));
        stores.push(store);
    }
    let id = ConnectionId::generate();
    stores[1].announce_token_change(id).await.unwrap();
    for (node, subscription) in subscriptions.iter_mut().enumerate() {
        let heard = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .unwrap_or_else(|_| panic!("the subscriber on node {node} heard nothing"));
        assert_eq!(heard, Some(id), "node {node}");
    }
}

#[tokio::test]
async fn an_unreachable_cluster_gives_unavailable_within_the_timeout() {
    let cluster = RedisCluster::not_started();
    let store = cluster_at(&cluster.urls(), &unique_prefix());
    assert_every_call_is_unavailable(&store).await;
    let started = Instant::now();
    let subscribe = store.token_changes().await;
    assert!(matches!(subscribe, Err(StateStoreError::Unavailable(_))));
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "subscribing took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_store_connects_once_the_cluster_comes_up() {
    // The store is made while no node runs, as a gateway starting before its Redis does.
    let mut cluster = RedisCluster::not_started();
    let store = cluster_at(&cluster.urls(), &unique_prefix());
    assert_every_call_is_unavailable(&store).await;

    cluster.start_now().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = StateToken::generate().unwrap();
    loop {
        let put = store
            .put(StateKind::Install, &token, b"up", Duration::from_secs(60))
            .await;
        if put.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not connect: {put:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = store.take(StateKind::Install, &token).await.unwrap();
    assert_eq!(taken.as_deref(), Some(&b"up"[..]));
    store.ping().await.unwrap();
}

#[tokio::test]
async fn an_unroutable_cluster_gives_unavailable_within_the_timeout() {
    // Listeners that never answer: connections hang rather than being refused.
    let silent: Vec<_> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let urls: Vec<String> = silent
        .iter()
        .map(|listener| format!("redis://{}", listener.local_addr().unwrap()))
        .collect();
    let store = cluster_at(&urls, &unique_prefix());
    assert_every_call_is_unavailable(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_store_recovers_when_the_cluster_comes_back() {
    let mut cluster = RedisCluster::start().await;
    let store = cluster_at(&cluster.urls(), &unique_prefix());
    store.ping().await.unwrap();

    cluster.stop();
    assert_every_call_is_unavailable(&store).await;

    cluster.restart().await;
    assert_recovers_within(&store, Duration::from_secs(15)).await;
}

/// A store whose backend came back answers again within `within`.
async fn assert_recovers_within(store: &impl StateStore, within: Duration) {
    let deadline = Instant::now() + within;
    let token = StateToken::generate().unwrap();
    loop {
        let put = store
            .put(StateKind::Install, &token, b"back", Duration::from_secs(60))
            .await;
        if put.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not recover: {put:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = store.take(StateKind::Install, &token).await.unwrap();
    assert_eq!(taken.as_deref(), Some(&b"back"[..]));
}
