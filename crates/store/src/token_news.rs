//! Word between replicas that a connection's tokens changed (refreshed, revoked, uninstalled),
//! so that each replica drops its cached copy: Redis pub/sub on `{prefix}token-changes`.

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
        let subscribe = async {
            let mut pubsub = self.client().get_async_pubsub().await?;
            pubsub.subscribe(self.token_channel()).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::time::timeout(self.command_timeout(), subscribe)
            .await
            .map_err(|_| StateStoreError::Unavailable("no answer to SUBSCRIBE".into()))?
            .map_err(|error| StateStoreError::Unavailable(describe(&error)))?;
        Ok(pubsub.into_on_message().filter_map(|message| async move {
            let payload: String = message.get_payload().ok()?;
            ConnectionId::parse(&payload).ok()
        }))
    }
}
