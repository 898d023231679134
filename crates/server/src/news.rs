//! Following other replicas' word of changes (Redis pub/sub, see the store's `news`) for as long
//! as the gateway runs, for anything a replica keeps a copy of: cached tokens, session copies.
//!
//! What was announced while a replica was not subscribed is missed, so whatever it holds is
//! dropped when a subscription is made and when one is lost; the follower decides whether it
//! answers from its copies in between.

use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use installgate_core::StateStoreError;

/// Wait between attempts to subscribe while Redis is unreachable.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// What a replica does with the word.
pub trait Follower {
    type Change;
    /// What changes are about, for the logs: "token changes".
    const WHAT: &'static str;
    /// Subscribed, or no longer subscribed: everything held may have missed a change.
    fn reset(&self, subscribed: bool);
    /// Another replica changed this.
    fn changed(&self, change: Self::Change) -> impl Future<Output = ()> + Send;
}

/// Subscribes with `subscribe`, and again whenever the subscription is lost, passing every
/// change to `follower`.
pub async fn follow<F, S, Subscribing>(follower: F, subscribe: impl Fn() -> Subscribing)
where
    F: Follower,
    S: Stream<Item = F::Change>,
    Subscribing: Future<Output = Result<S, StateStoreError>>,
{
    loop {
        match subscribe().await {
            Ok(changes) => {
                follower.reset(true);
                let mut changes = std::pin::pin!(changes);
                while let Some(change) = changes.next().await {
                    follower.changed(change).await;
                }
                follower.reset(false);
                tracing::warn!(what = F::WHAT, "lost the subscription; subscribing again");
            }
            Err(error) => {
                follower.reset(false);
                tracing::warn!(what = F::WHAT, %error, "cannot subscribe");
            }
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}
