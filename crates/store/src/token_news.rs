//! Word between replicas that a connection's tokens changed (refreshed, revoked, uninstalled),
//! so that each replica drops its cached copy: Redis pub/sub on `{prefix}token-changes`.
//!
//! On a Redis Cluster, classic `PUBLISH` reaches the subscribers of every node, so a replica
//! subscribes through a plain connection to one seed node, the next one when a seed cannot be
//! reached.

use futures_util::{Stream, StreamExt as _};
use installgate_core::{ConnectionId, StateStoreError};

use crate::RedisStateStore;
use crate::redis_state::describe;

impl RedisStateStore {
    fn token_channel(&self) -> String {
        self.prefixed("token-changes")
    }

    /// Tells every subscribed replica that the tokens of `connection` changed.
    pub async fn announce_token_change(
        &self,
        connection: ConnectionId,
    ) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("PUBLISH");
        command
            .arg(self.token_channel())
            .arg(connection.to_string());
        self.run::<i64>(command).await.map(drop)
    }

    /// Connections whose tokens change from now on. The stream ends when the subscription's
    /// connection drops; whatever was announced meanwhile is missed, so a subscriber must treat
    /// every cached token as stale when it subscribes again.
    pub async fn token_changes(
        &self,
    ) -> Result<impl Stream<Item = ConnectionId> + Send + 'static, StateStoreError> {
        let channel = self.token_channel();
        let mut failure = StateStoreError::Unavailable("no Redis node to subscribe on".into());
        let mut subscribed = None;
        for client in self.subscribers() {
            // Each seed gets the command timeout, so one that hangs does not hide the others.
            let subscribe = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match tokio::time::timeout(self.command_timeout(), subscribe).await {
                Ok(Ok(pubsub)) => {
                    subscribed = Some(pubsub);
                    break;
                }
                Ok(Err(error)) => failure = StateStoreError::Unavailable(describe(&error)),
                Err(_) => {
                    failure = StateStoreError::Unavailable("no answer to SUBSCRIBE".into());
                }
            }
        }
        let pubsub = subscribed.ok_or(failure)?;
        Ok(pubsub.into_on_message().filter_map(|message| async move {
            let payload: String = message.get_payload().ok()?;
            ConnectionId::parse(&payload).ok()
        }))
    }
}
