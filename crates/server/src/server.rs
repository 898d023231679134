//! The actix-web servers: every route and middleware of the gateway, top to bottom, and the
//! listener that serves `/metrics` alone when `server.metrics_bind` asks for one.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use installgate_store::RedisStateStore;

use crate::api;
use crate::metrics;
use crate::middleware::{self, QueryLimit};
use crate::routes::{account, claim, entitled, fallback, framing, health, install, moving, notify};
use crate::services::Services;
use crate::session::{self, GatewaySessionStore, SessionCache};

/// Largest JSON body the API accepts.
const JSON_LIMIT_BYTES: usize = 64 * 1024;
/// Largest form body the pages accept.
const FORM_LIMIT_BYTES: usize = 16 * 1024;

pub fn build_server(
    services: web::Data<Services>,
    listener: TcpListener,
    redis: Option<RedisStateStore>,
    session_cache: SessionCache,
) -> std::io::Result<Server> {
    let server_settings = services.settings.server.clone();
    let session_settings = services.settings.session.clone();
    let session_key = session::cookie_key(&session_settings);
    let query_limit = web::Data::new(QueryLimit(server_settings.max_query_bytes));
    let metrics_here = server_settings.metrics_bind.is_none();
    let mut server = HttpServer::new(move || {
        // Only the routes a browser signs in through carry the session middleware: the API,
        // the notices, health and metrics have no session to read.
        let sessions = || {
            session::middleware(
                match &redis {
                    Some(redis) => GatewaySessionStore::Redis {
                        redis: redis.clone(),
                        idle: session_settings.idle_timeout,
                        cache: session_cache.clone(),
                    },
                    None => session::cookie_store(),
                },
                session_key.clone(),
                &session_settings,
            )
        };
        App::new()
            .app_data(services.clone())
            .app_data(query_limit.clone())
            .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(fallback::json_error),
            )
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT_BYTES)
                    .error_handler(fallback::form_error),
            )
            // The common layer first (the request's span and access line, the query limit,
            // the 405 page, the default headers, the request id and the metrics, for every
            // response below it, errors included); the session within the scopes that use it.
            .wrap(from_fn(middleware::common))
            .service(web::resource("/healthz").get(health::healthz))
            .service(web::resource("/readyz").get(health::readyz))
            .configure(|config| {
                if metrics_here {
                    config.service(web::resource("/metrics").get(metrics::serve));
                }
            })
            // Static prefixes first: a pattern with `{…}` costs a regex match to rule out
            // (inside the API's scope the token request comes first all the same: below).
            .service(
                web::scope("/api/v1")
                    // The token request, the API's busiest, first: each pattern tried before
                    // the one that matches costs a match of its own (a regex, when dynamic).
                    .service(
                        web::resource("/connections/{id}/access-token")
                            .post(api::tokens::access_token),
                    )
                    .service(web::resource("/openapi.json").get(api::openapi::document))
                    .service(web::resource("/connections").get(api::connections::list))
                    .service(
                        web::resource("/connections/{id}")
                            .get(api::connections::get)
                            .delete(api::disconnect::disconnect),
                    ),
            )
            .service(
                web::scope("/install/{provider}/{app}")
                    .wrap(from_fn(middleware::limit_by_client))
                    .wrap(from_fn(framing::frame_ancestors))
                    .wrap(sessions())
                    .service(
                        web::resource("")
                            .get(install::install)
                            .delete(notify::at_install_url),
                    )
                    .service(web::resource("/claim").get(claim::claim))
                    .service(web::resource("/confirm").post(claim::confirm)),
            )
            .service(web::resource("/notify/{provider}/{app}").post(notify::notify))
            .service(
                web::resource("/connect/{provider}/{app}")
                    .wrap(from_fn(middleware::limit_by_client))
                    .wrap(sessions())
                    .get(install::connect),
            )
            .service(
                web::scope("/account")
                    .wrap(from_fn(middleware::limit_by_client))
                    .wrap(from_fn(framing::frame_ancestors))
                    .wrap(sessions())
                    .service(web::resource("/").get(account::home))
                    .service(
                        web::resource("/sign-in")
                            .get(account::sign_in_page)
                            .post(account::sign_in),
                    )
                    .service(
                        web::resource("/sign-up")
                            .get(account::sign_up_page)
                            .post(account::sign_up),
                    )
                    .service(web::resource("/sign-out").post(account::sign_out))
                    .service(web::resource("/sso").get(account::sso))
                    .service(web::resource("/resume/{token}").get(entitled::resume))
                    .service(web::resource("/workspace").post(entitled::choose_workspace))
                    .service(web::resource("/move").post(moving::answer)),
            )
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    // `Application::run_until_stopped` handles the signals: it reports not-ready first.
    .disable_signals()
    .shutdown_timeout(server_settings.shutdown_timeout.as_secs())
    .client_request_timeout(server_settings.client_request_timeout);
    if server_settings.workers > 0 {
        server = server.workers(server_settings.workers);
    }
    Ok(server.run())
}

/// The listener of `/metrics` alone, on `server.metrics_bind`. It ignores signals: the gateway
/// stops it once its main server has stopped.
pub fn build_metrics_server(
    services: web::Data<Services>,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .wrap(middleware::default_headers())
            .service(web::resource("/metrics").get(metrics::serve))
            .default_service(web::to(fallback::not_found))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?;
    Ok(server.run())
}
