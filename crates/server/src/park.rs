//! Park and resume: a request that needs a signed-in user is kept (as a short-lived, single-use
//! record in the state store) while the user signs in or signs up, then continued. Only the
//! gateway's own routes can be resumed, so a resume link is never a redirect elsewhere.

use std::time::Duration;

use installgate_core::{StateKind, StateStore, StateToken};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    /// Path and query of the request to continue.
    pub target: String,
    /// The digest of the browser binding of the only browser that may continue it, when it was
    /// parked for one (a way back from the vendor's plan page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The question a move page asks, when the record stands for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving: Option<ParkedMove>,
}

/// A connection the user may move to another workspace, and where to go after answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedMove {
    pub app: String,
    pub connection: String,
    pub account: String,
    pub to: installgate_core::Workspace,
    pub then: crate::routes::location::KeptLocation,
}

/// The route a move question is answered at.
pub const MOVE_TARGET: &str = "/account/move";

/// Parks a move question for `browser` only; its token goes into the move page's form.
pub async fn park_move(
    store: &dyn StateStore,
    ttl: Duration,
    browser: &StateToken,
    moving: ParkedMove,
) -> Result<StateToken, AppError> {
    let parked = Parked {
        target: MOVE_TARGET.to_owned(),
        browser: Some(installgate_core::browser_digest(browser)),
        moving: Some(moving),
    };
    put(store, &parked, ttl).await
}

/// Stores `parked` under a new single-use token.
async fn put(
    store: &dyn StateStore,
    parked: &Parked,
    ttl: Duration,
) -> Result<StateToken, AppError> {
    let token = StateToken::generate().map_err(|error| AppError::Unexpected(error.into()))?;
    let record = serde_json::to_vec(parked).map_err(|error| AppError::Unexpected(error.into()))?;
    store
        .put(StateKind::ParkedRequest, &token, &record, ttl)
        .await?;
    Ok(token)
}

/// Whether `target` is a gateway route that may be resumed.
pub fn is_resumable(target: &str) -> bool {
    let route_ok = ["/install/", "/connect/", "/account/"]
        .iter()
        .any(|prefix| target.starts_with(prefix));
    route_ok
        && target.len() <= 4096
        && !target.contains("//")
        && target.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

pub async fn park(
    store: &dyn StateStore,
    target: &str,
    ttl: Duration,
) -> Result<StateToken, AppError> {
    park_for(store, target, ttl, None).await
}

/// Like [`park`], for one browser only (`browser`, its binding): only it can resume it.
pub async fn park_for(
    store: &dyn StateStore,
    target: &str,
    ttl: Duration,
    browser: Option<&StateToken>,
) -> Result<StateToken, AppError> {
    if !is_resumable(target) {
        return Err(AppError::BadRequest(
            "this page cannot be continued after signing in".into(),
        ));
    }
    let parked = Parked {
        target: target.to_owned(),
        browser: browser.map(installgate_core::browser_digest),
        moving: None,
    };
    put(store, &parked, ttl).await
}

/// The parked request under `token`, taken (it cannot be resumed twice). `None` when the token
/// is malformed, unknown, used or expired.
pub async fn take(store: &dyn StateStore, token: &str) -> Result<Option<Parked>, AppError> {
    take_for(store, token, None).await
}

/// Like [`take`], by `browser` (its binding, if it has one): a request parked for one browser
/// is resumed only by that browser. Taken either way, so a link tried elsewhere is used up.
pub async fn take_for(
    store: &dyn StateStore,
    token: &str,
    browser: Option<&StateToken>,
) -> Result<Option<Parked>, AppError> {
    let Ok(token) = StateToken::parse(token) else {
        return Ok(None);
    };
    let Some(record) = store.take(StateKind::ParkedRequest, &token).await? else {
        return Ok(None);
    };
    let by_this_browser = |parked: &Parked| match &parked.browser {
        None => true,
        Some(expected) => {
            use subtle::ConstantTimeEq as _;
            let presented = browser
                .map(installgate_core::browser_digest)
                .unwrap_or_default();
            bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
        }
    };
    Ok(serde_json::from_slice::<Parked>(&record)
        .ok()
        .filter(|parked| is_resumable(&parked.target) && by_this_browser(parked)))
}

/// [`take_for`] by the browser of `session`.
pub async fn take_here(
    store: &dyn StateStore,
    session: &crate::session::GatewaySession,
    token: &str,
) -> Result<Option<Parked>, AppError> {
    take_for(store, token, session.existing_browser_binding().as_ref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gateway_routes_resume() {
        for ok in [
            "/install/acme/demo?step=authorize&returnUrl=x",
            "/connect/acme/crm",
            "/account/",
        ] {
            assert!(is_resumable(ok), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/install/",
            "/install//evil",
            "/healthz",
            "/account",
            "/install/x\\y",
            "/install/\u{0}",
        ] {
            assert!(!is_resumable(bad), "{bad}");
        }
    }
}
