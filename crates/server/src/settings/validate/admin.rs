//! `[admin]`: the operator console's listener, its sessions, and sign-in through OpenID Connect.

use std::time::Duration;

use secrecy::ExposeSecret as _;

use super::Report;
use crate::settings::raw::RawAdmin;
use crate::settings::{AdminSettings, OidcSettings, ServerSettings};

pub(super) fn admin(
    report: &mut Report,
    raw: RawAdmin,
    server: Option<&ServerSettings>,
) -> AdminSettings {
    let bind = match raw.bind.trim() {
        "" => None,
        address => match address.parse::<std::net::SocketAddr>() {
            Ok(bind) => Some(bind),
            Err(_) => {
                report.add(
                    "admin.bind",
                    "must be empty (no console) or an IP address and port, like 127.0.0.1:9091",
                );
                None
            }
        },
    };
    if let (Some(bind), Some(server)) = (bind, server)
        && bind == server.bind
        && bind.port() != 0
    {
        report.add(
            "admin.bind",
            "must differ from server.bind: the console never shares the install listener",
        );
    }
    let public_url = match raw.public_url.trim() {
        "" => None,
        url => report.url("admin.public_url", url, &["http", "https"]),
    };
    // Without a public URL the console's origin is the bound address, which a browser names only
    // for a loopback address (a tunnel); any other needs the URL operators really use.
    if let Some(bind) = bind
        && raw.public_url.trim().is_empty()
        && !bind.ip().is_loopback()
    {
        report.add(
            "admin.public_url",
            "is required when admin.bind is not a loopback address: forms are accepted only from \
             the console's own origin",
        );
    }
    let idle = report.in_range(
        "admin.idle_timeout_minutes",
        raw.idle_timeout_minutes,
        1..=1440,
    );
    let absolute = report.in_range(
        "admin.absolute_timeout_hours",
        raw.absolute_timeout_hours,
        1..=168,
    );
    let flush = report.in_range(
        "admin.activity_flush_ms",
        raw.activity_flush_ms,
        10..=300_000,
    );
    let oidc = raw.oidc.and_then(|oidc| {
        // Every problem is reported, the issuer's too, before giving up on the section.
        let issuer = report.secure_url("admin.oidc.issuer", oidc.issuer.trim());
        if oidc.client_id.trim().is_empty() {
            report.add("admin.oidc.client_id", "must not be empty");
        }
        if oidc.client_secret.expose_secret().is_empty() {
            report.add("admin.oidc.client_secret", "must not be empty");
        }
        if oidc
            .groups_claim
            .as_deref()
            .is_some_and(|claim| claim.trim().is_empty())
        {
            report.add("admin.oidc.groups_claim", "must not be empty when given");
        }
        let list = |raw: Option<crate::settings::raw::ListOrCommas>| -> Vec<String> {
            raw.map(|list| list.into_vec()).unwrap_or_default()
        };
        let allowed_domains: Vec<String> = list(oidc.allowed_domains)
            .into_iter()
            .map(|domain| domain.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|domain| !domain.is_empty())
            .collect();
        let viewer_groups = list(oidc.viewer_groups);
        let operator_groups = list(oidc.operator_groups);
        if allowed_domains.is_empty() && viewer_groups.is_empty() {
            report.add(
                "admin.oidc.allowed_domains",
                "name the email domains, or the viewer_groups, whose people may sign in: an \
                 identity provider's every user is not let in",
            );
        }
        Some(OidcSettings {
            issuer: issuer?,
            client_id: oidc.client_id.trim().to_owned(),
            client_secret: oidc.client_secret,
            allowed_domains,
            groups_claim: oidc.groups_claim.unwrap_or_else(|| "groups".to_owned()),
            viewer_groups,
            operator_groups,
            require_verified_email: oidc.require_verified_email.unwrap_or(true),
        })
    });
    AdminSettings {
        bind,
        public_url,
        idle_timeout: Duration::from_secs(idle * 60),
        absolute_timeout: Duration::from_secs(absolute * 3600),
        activity_flush: Duration::from_millis(flush),
        oidc,
    }
}
