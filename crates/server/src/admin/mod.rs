//! The operator console: `/admin` on its own listener (`admin.bind`), never on the install
//! listener, for the people who run the gateway. Operators sign in with a password and a TOTP
//! code, or through the company's OpenID Connect provider; viewers see every page, operators may
//! also act. Pages are rendered on the server, with the console's own stylesheet and script
//! under a strict policy; sessions live in the database; every action and every refused
//! sign-in is audited.
//!
//! Reading `build_admin_server` top to bottom shows every console route.

mod actions;
mod apps;
mod audit;
mod auth;
mod chart;
pub mod cli;
mod connections;
mod console;
mod deliveries;
mod enrol;
pub mod figures;
mod layout;
mod oidc;
mod overview;
mod session_store;
mod sign_in;
mod single_sign_on;
mod totp;

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use installgate_store::Keyring;
use url::Url;

pub use console::Console;
pub use oidc::{OidcClient, OidcError, OidcIdentity};
pub use overview::configured_apps;

use crate::routes::fallback;
use crate::services::Services;

/// The console's session cookie. `__Host-` keeps other hosts from setting it; `SameSite=Lax`
/// keeps it off every post and embedded request another site starts, yet sends it when the
/// company's identity provider (another site) sends the operator back to the callback.
pub const COOKIE_NAME: &str = "__Host-installgate-console";
/// Largest form the console accepts.
const FORM_LIMIT_BYTES: usize = 16 * 1024;

/// The console's URL: `admin.public_url`, else `http://` and the bound address.
pub fn public_url(services: &Services, bound: std::net::SocketAddr) -> anyhow::Result<Url> {
    match &services.settings.admin.public_url {
        Some(url) => Ok(url.clone()),
        None => Ok(Url::parse(&format!("http://{bound}"))?),
    }
}

/// The console's cookie key: derived from `session.key` for this purpose (so every replica
/// reads the same cookies), or fresh for this process.
fn cookie_key(services: &Services) -> Key {
    use secrecy::ExposeSecret as _;
    match &services.settings.session.key {
        Some(bytes) => {
            let mut material = b"installgate console cookies/".to_vec();
            material.extend_from_slice(bytes.expose_secret());
            Key::derive_from(&material)
        }
        None => Key::generate(),
    }
}

/// The console's pieces, made once: what its handlers share.
pub fn console(
    services: &Services,
    keyring: Arc<Keyring>,
    public_url: Url,
) -> anyhow::Result<Console> {
    let oidc = match &services.settings.admin.oidc {
        Some(settings) => Some(OidcClient::new(
            settings.clone(),
            crate::providers::http_client(&services.settings.providers)?,
            services.settings.providers.timeout,
        )),
        None => None,
    };
    Ok(Console::new(services, keyring, public_url, oidc))
}

pub fn build_admin_server(
    services: web::Data<Services>,
    console: web::Data<Console>,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let key = cookie_key(&services);
    let idle = actix_web::cookie::time::Duration::seconds(
        i64::try_from(console.settings.idle_timeout.as_secs()).unwrap_or(1800),
    );
    let secure = console.public_url.scheme() == "https" || is_loopback(&console.public_url);
    let store = session_store::ConsoleSessionStore {
        sessions: console.sessions.clone(),
        clock: services.clock.clone(),
    };
    let server = HttpServer::new(move || {
        let cookie_name = if secure {
            COOKIE_NAME
        } else {
            "installgate-console"
        };
        App::new()
            .app_data(services.clone())
            .app_data(console.clone())
            .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT_BYTES)
                    .error_handler(fallback::form_error),
            )
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_name(cookie_name.to_owned())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_path("/".to_owned())
                    .cookie_domain(None)
                    .session_lifecycle(
                        PersistentSession::default()
                            .session_ttl(idle)
                            .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                    )
                    .build(),
            )
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, layout::POLICY))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    // Under `no-referrer` browsers send `Origin: null` with a form post, which
                    // the CSRF check refuses; `same-origin` sends the console's own origin to
                    // the console and nothing elsewhere.
                    .add((header::REFERRER_POLICY, "same-origin"))
                    .add((header::CACHE_CONTROL, "no-store"))
                    .add((header::X_FRAME_OPTIONS, "DENY")),
            )
            .wrap(from_fn(crate::telemetry::logged))
            .service(web::resource("/admin/static/console.css").get(stylesheet))
            .service(web::resource("/admin/static/console.js").get(script))
            .service(web::resource("/admin").get(home))
            .service(web::resource("/admin/").get(home))
            // The pages anyone may reach are rate-limited per client address, as the install
            // pages are: each writes a session, and a refusal an audit entry.
            .service(
                web::scope("/admin/sign-in")
                    .wrap(from_fn(crate::middleware::limit_by_client))
                    .service(
                        web::resource("")
                            .get(sign_in::sign_in_page)
                            .post(sign_in::sign_in),
                    )
                    .service(
                        web::resource("/code")
                            .get(sign_in::code_page_get)
                            .post(sign_in::code),
                    ),
            )
            .service(
                web::resource("/admin/enrol")
                    .wrap(from_fn(crate::middleware::limit_by_client))
                    .get(enrol::enrol_page_get)
                    .post(enrol::enrol),
            )
            .service(web::resource("/admin/sign-out").post(sign_in::sign_out))
            .service(
                web::scope("/admin/oidc")
                    .wrap(from_fn(crate::middleware::limit_by_client))
                    .service(web::resource("/start").get(single_sign_on::start))
                    .service(web::resource("/callback").get(single_sign_on::callback)),
            )
            .service(web::resource("/admin/overview").get(overview::overview))
            .service(web::resource("/admin/connections").get(connections::list))
            .service(web::resource("/admin/connections/{id}").get(connections::show))
            .service(web::resource("/admin/connections/{id}/refresh").post(actions::refresh))
            .service(
                web::resource("/admin/connections/{id}/disconnect")
                    .get(actions::confirm_disconnect)
                    .post(actions::disconnect),
            )
            .service(
                web::resource("/admin/connections/{id}/retry-revoke").post(actions::retry_revoke),
            )
            .service(web::resource("/admin/deliveries").get(deliveries::list))
            .service(
                web::resource("/admin/deliveries/retry-app")
                    .get(actions::confirm_retry_app)
                    .post(actions::retry_app),
            )
            .service(web::resource("/admin/deliveries/{id}/retry").post(actions::retry_delivery))
            .service(web::resource("/admin/apps").get(apps::list))
            .service(web::resource("/admin/audit").get(audit::list))
            .default_service(web::to(fallback::not_found))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?;
    Ok(server.run())
}

/// Browsers keep `Secure` cookies on `http://` loopback addresses (a tunnel to the console);
/// on any other `http://` address the cookie goes without `Secure` (and without `__Host-`).
fn is_loopback(url: &Url) -> bool {
    crate::settings::is_loopback_host(url)
}

async fn home() -> HttpResponse {
    sign_in::see_other("/admin/overview")
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(layout::STYLESHEET)
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(layout::SCRIPT)
}
