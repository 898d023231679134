//! Other replicas' token changes drop the cached copies here.

use installgate_core::ConnectionId;

use super::Tokens;
use crate::news::Follower;

impl Follower for Tokens {
    type Change = ConnectionId;
    const WHAT: &'static str = "token changes";

    fn reset(&self, _subscribed: bool) {
        self.drop_all_local();
    }

    fn changed(&self, id: ConnectionId) -> impl Future<Output = ()> + Send {
        self.drop_local(id)
    }
}
