//! `[clients]`: trusted proxies, the rate limit per client, and what one IPv6 client is.

use std::num::NonZeroU32;

use super::Report;
use crate::client_address::TrustedProxies;
use crate::settings::ClientSettings;
use crate::settings::RateLimit;
use crate::settings::raw::RawClients;

pub(super) fn clients(report: &mut Report, raw: RawClients) -> ClientSettings {
    let trusted_proxies =
        TrustedProxies::parse(&raw.trusted_proxies.into_vec()).unwrap_or_else(|problem| {
            report.add("clients.trusted_proxies", problem);
            TrustedProxies::default()
        });
    let rate_limit = match NonZeroU32::new(raw.rate_limit_per_minute) {
        None => None,
        Some(per_minute) => {
            let burst = NonZeroU32::new(raw.rate_limit_burst).unwrap_or_else(|| {
                report.add(
                    "clients.rate_limit_burst",
                    "must be at least 1 while rate_limit_per_minute is set",
                );
                NonZeroU32::MIN
            });
            Some(RateLimit { per_minute, burst })
        }
    };
    let ipv6_prefix_length = match u8::try_from(raw.ipv6_prefix_length) {
        Ok(length @ 48..=128) => length,
        _ => {
            report.add("clients.ipv6_prefix_length", "must be between 48 and 128");
            64
        }
    };
    ClientSettings {
        trusted_proxies,
        rate_limit,
        ipv6_prefix_length,
    }
}
