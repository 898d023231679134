//! `[clients]`: trusted proxies and the rate limit per client address.

use std::num::NonZeroU32;

use super::Report;
use crate::client_address::TrustedProxies;
use crate::rate_limit::RateLimit;
use crate::settings::ClientSettings;
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
    ClientSettings {
        trusted_proxies,
        rate_limit,
    }
}
