//! Word between replicas that something they may hold a copy of changed, so that each replica
//! drops its copy: Redis pub/sub on `{prefix}token-changes` (a connection's tokens were
//! refreshed, revoked, uninstalled) and `{prefix}session-changes` (a session was changed or
//! ended).
//!
//! On a Redis Cluster, classic `PUBLISH` reaches the subscribers of every node, so a replica
//! subscribes through a plain connection to one seed node, the next one when a seed cannot be
//! reached.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{Stream, StreamExt as _};
use installgate_core::{ConnectionId, StateStoreError};

use crate::RedisStateStore;
use crate::redis_state::describe;

impl RedisStateStore {
    fn token_channel(&self) -> String {
        self.prefixed("token-changes")
    }

    fn session_channel(&self) -> String {
        self.prefixed("session-changes")
    }

    async fn publish(&self, channel: String, message: String) -> Result<(), StateStoreError> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(message);
        self.run::<i64>(command).await.map(drop)
    }

    /// Tells every subscribed replica that the tokens of `connection` changed.
    pub async fn announce_token_change(
        &self,
        connection: ConnectionId,
    ) -> Result<(), StateStoreError> {
        self.publish(self.token_channel(), connection.to_string())
            .await
    }

    /// Connections whose tokens change from now on. The stream ends when the subscription's
    /// connection drops; whatever was announced meanwhile is missed, so a subscriber must treat
    /// every cached token as stale when it subscribes again.
    pub async fn token_changes(
        &self,
    ) -> Result<impl Stream<Item = ConnectionId> + Send + use<>, StateStoreError> {
        let messages = self.subscribe(self.token_channel()).await?;
        Ok(messages.filter_map(|payload| async move { ConnectionId::parse(&payload).ok() }))
    }

    /// Tells every subscribed replica that the session whose key has this SHA-256 digest
    /// changed or ended. Only the digest is published: the key itself is a credential.
    pub async fn announce_session_change(&self, digest: &[u8; 32]) -> Result<(), StateStoreError> {
        self.publish(self.session_channel(), URL_SAFE_NO_PAD.encode(digest))
            .await
    }

    /// The key digests of sessions that change from now on, with the same caveat as
    /// [`Self::token_changes`]: what is announced while the stream is down is missed.
    pub async fn session_changes(
        &self,
    ) -> Result<impl Stream<Item = [u8; 32]> + Send + use<>, StateStoreError> {
        let messages = self.subscribe(self.session_channel()).await?;
        Ok(messages.filter_map(|payload| async move {
            let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
            <[u8; 32]>::try_from(bytes).ok()
        }))
    }

    /// The messages published on `channel` from now on, through the first node (or seed)
    /// that takes the subscription.
    async fn subscribe(
        &self,
        channel: String,
    ) -> Result<impl Stream<Item = String> + Send + use<>, StateStoreError> {
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
        Ok(pubsub
            .into_on_message()
            .filter_map(|message| async move { message.get_payload::<String>().ok() }))
    }
}
