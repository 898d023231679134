//! Which origins may frame a page: the app's marketplace origins on the pages of its install
//! (the install routes, and the sign-in and sign-up pages an install leads to), `'none'`
//! everywhere else.
//!
//! A marketplace UI on a host its app allows only by pattern (one per data centre,
//! `app-<hublet>.example.com`) cannot be listed ahead of time, since CSP has no such wildcard: a
//! response of the install names that one host as well, when the request shows it (the
//! validated `returnUrl` on install routes, `frame_host` on the sign-in pages it leads to).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
use installgate_core::{AllowedHosts, QueryParams, ReturnUrl};
use serde::Deserialize;

use crate::services::Services;

/// Set on a response about one verified tenant (a shop): the provider's origins for that tenant
/// may frame it too.
#[derive(Debug, Clone)]
pub struct FramedFor(pub installgate_core::Tenant);

/// Set on a response of an install route whose `returnUrl` passed the app's rules: its host,
/// so that the policy need not parse the request's query and return URL again.
#[derive(Debug, Clone)]
pub struct ShownHost(pub String);

/// The install a page belongs to, as its query names it (`/account/…?app=…&provider=…`).
#[derive(Deserialize)]
struct InstallQuery {
    app: Option<String>,
    provider: Option<String>,
    frame_host: Option<String>,
}

/// `frame-ancestors` for a request: the app's marketplace origins when it belongs to the install
/// of a configured app (by its path's provider and app, or else its query's), plus the framing
/// host the request shows when the app allows it only by pattern (`shown`, when the handler
/// found it already); `'none'` otherwise.
fn policy(request: &HttpRequest, shown: Option<&ShownHost>) -> HeaderValue {
    // `shown` reads the framing host the request shows; it runs only for an app that allows
    // hosts by pattern and lets the provider's default list stand.
    let of = |services: &Services,
              provider: &str,
              app: &str,
              shown: &dyn Fn(&AllowedHosts) -> Option<String>| {
        let (settings, prepared) = services
            .prepared
            .resolve(&services.settings, provider, app)?;
        let policy = prepared.frame_policy.clone()?;
        let hosts = &prepared.return_hosts;
        // Origins the operator listed outright (`frame_ancestors`) are the whole list.
        if settings.frame_ancestors.is_some() || !hosts.has_patterns() {
            return Some(policy);
        }
        match shown(hosts).filter(|host| hosts.by_pattern_only(host)) {
            Some(host) => {
                let listed = format!("{} https://{host}", policy.to_str().ok()?);
                HeaderValue::from_str(&listed).ok()
            }
            None => Some(policy),
        }
    };
    let found = request
        .app_data::<web::Data<Services>>()
        .and_then(|services| {
            let info = request.match_info();
            match (info.get("provider"), info.get("app")) {
                // An install route: the host of its `returnUrl`, when that passes the app's rules.
                (Some(provider), Some(app)) => of(services, provider, app, &|hosts| {
                    if let Some(ShownHost(host)) = shown {
                        return Some(host.clone());
                    }
                    let params = QueryParams::parse(request.query_string()).ok()?;
                    let url = ReturnUrl::parse(params.get("returnUrl")?, hosts).ok()?;
                    Some(url.host().to_owned())
                }),
                _ => {
                    let query =
                        web::Query::<InstallQuery>::from_query(request.query_string()).ok()?;
                    let query = query.into_inner();
                    of(
                        services,
                        query.provider.as_deref()?,
                        query.app.as_deref()?,
                        &|_| query.frame_host.clone(),
                    )
                }
            }
        });
    found.unwrap_or_else(|| HeaderValue::from_static(NOTHING))
}

/// `frame-ancestors` of a response about one verified tenant: the provider's origins for it,
/// unless the operator listed the app's origins outright.
fn tenant_policy(
    services: &Services,
    provider: &str,
    app: &str,
    tenant: installgate_core::Tenant,
) -> Option<HeaderValue> {
    let (settings, prepared) = services
        .prepared
        .resolve(&services.settings, provider, app)?;
    if settings.frame_ancestors.is_some() {
        return None;
    }
    let credentials = prepared.credentials.for_tenant(Some(tenant));
    let origins = prepared.provider.frame_ancestors(&credentials);
    let policy = format!(
        "{}frame-ancestors 'self' {}",
        prepared.page_sources,
        origins.join(" ")
    );
    HeaderValue::from_str(policy.trim_end()).ok()
}

/// What a gateway page may load: its own inline styles, nothing else (no script, no font, no
/// connection, no base URL of its own).
const PAGE_SOURCES: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; ";

/// The directives of `app`'s pages before `frame-ancestors`: [`PAGE_SOURCES`], and images from
/// exactly the logo's origin when it has one. Worked out once, at start-up.
pub fn page_sources(app: &crate::settings::AppSettings) -> String {
    match &app.branding.logo_url {
        Some(logo) => format!(
            "{PAGE_SOURCES}img-src {}; ",
            logo.origin().ascii_serialization()
        ),
        None => PAGE_SOURCES.to_owned(),
    }
}

/// The policy of a page that belongs to no install.
pub const NOTHING: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

/// Every response of the wrapped routes, errors included, gets the policy of the install it
/// belongs to.
pub async fn frame_ancestors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let policy = {
        let request = response.request();
        let extensions = response.response().extensions();
        let path = request.match_info();
        let of_tenant = match (
            extensions.get::<FramedFor>(),
            request.app_data::<web::Data<Services>>(),
            path.get("provider"),
            path.get("app"),
        ) {
            (Some(FramedFor(tenant)), Some(services), Some(provider), Some(app)) => {
                tenant_policy(services, provider, app, tenant.clone())
            }
            _ => None,
        };
        of_tenant.unwrap_or_else(|| policy(request, extensions.get::<ShownHost>()))
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.remove(header::X_FRAME_OPTIONS);
    Ok(response)
}
