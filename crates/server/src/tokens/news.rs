//! Listens for other replicas' token changes and drops the cached copies. Each (re)subscription
//! drops the whole cache first, since changes announced while unsubscribed were missed.

use std::time::Duration;

use futures_util::StreamExt as _;
use installgate_store::RedisStateStore;

use super::Tokens;

/// Wait between attempts to subscribe while Redis is unreachable.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

pub async fn listen(redis: RedisStateStore, tokens: Tokens) {
    loop {
        match redis.token_changes().await {
            Ok(changes) => {
                tokens.drop_all_local();
                let mut changes = std::pin::pin!(changes);
                while let Some(id) = changes.next().await {
                    tokens.drop_local(id).await;
                }
                tracing::warn!("lost the subscription to token changes; subscribing again");
            }
            Err(error) => {
                tracing::warn!(%error, "cannot subscribe to token changes");
                // Without word from other replicas, nothing may be trusted for long.
                tokens.drop_all_local();
            }
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}
