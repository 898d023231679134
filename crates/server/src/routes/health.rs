//! `GET /healthz` (the process runs) and `GET /readyz` (its backends answer, and it is not
//! shutting down).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::services::Services;

/// Each backend gets this long; both are asked at once, so `/readyz` answers within it.
const CHECK_BUDGET: Duration = Duration::from_millis(1500);

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(services: web::Data<Services>) -> HttpResponse {
    if services.lifecycle.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, 5))
            .json(json!({ "status": "draining" }));
    }
    let state_store = services.state_store.clone();
    let database = services.database.clone();
    let (state, db) = tokio::join!(
        tokio::time::timeout(CHECK_BUDGET, state_store.ping()),
        tokio::time::timeout(CHECK_BUDGET, database.ping()),
    );
    let state_check = check(
        state_store.backend(),
        state.map(|r| r.map_err(|e| e.to_string())),
    );
    let db_check = check(
        database.engine().as_str(),
        db.map(|r| r.map_err(|e| e.to_string())),
    );
    let ready = state_check.0 && db_check.0;
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": { "state_store": state_check.1, "database": db_check.1 },
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        tracing::warn!(checks = %body["checks"], "not ready");
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, 5))
            .json(body)
    }
}

fn check(
    backend: &str,
    outcome: Result<Result<(), String>, tokio::time::error::Elapsed>,
) -> (bool, Value) {
    match outcome {
        Ok(Ok(())) => (true, json!({ "backend": backend, "status": "ok" })),
        Ok(Err(error)) => (
            false,
            json!({ "backend": backend, "status": "unavailable", "error": error }),
        ),
        Err(_) => (
            false,
            json!({ "backend": backend, "status": "unavailable", "error": "no answer in time" }),
        ),
    }
}
