//! Requests per client address on the pages people reach (install, connect, account), with a
//! burst allowance: a generic cell rate limiter (`governor`) per address, in each replica's
//! memory. The address is the one `client_address` resolves, so a spoofed `X-Forwarded-For`
//! from an untrusted peer changes nothing; an IPv6 client counts by its network
//! (`clients.ipv6_prefix_length`), since it can pick any address in its /64. Marketplaces' server-to-server notices (`DELETE`)
//! are authenticated instead, and not limited.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::settings::RateLimit;

type Keyed = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// The limiter of one replica; without a configured limit, it lets everything through.
#[derive(Clone, Default)]
pub struct ClientRateLimit(Option<Arc<Keyed>>);

impl std::fmt::Debug for ClientRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClientRateLimit")
            .field(&self.0.is_some())
            .finish()
    }
}

impl ClientRateLimit {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self(limit.map(|limit| {
            let quota = Quota::per_minute(limit.per_minute).allow_burst(limit.burst);
            Arc::new(RateLimiter::keyed(quota))
        }))
    }

    /// `Err(wait)` when `address` has used its allowance for now.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets addresses whose allowance is full again, so memory follows recent clients only.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Every minute, forgets idle addresses.
pub async fn forget_idle_clients(limit: ClientRateLimit) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        limit.forget_idle();
    }
}
