//! Who is signed in: the account of a session, checked against the session's age, sign-outs
//! and the accounts that still exist.

use installgate_core::{Account, StateKind};

use crate::errors::AppError;
use crate::services::Services;
use crate::session::GatewaySession;

/// The signed-in account of this session, if any: within the absolute timeout, not signed out
/// elsewhere, and still existing.
///
/// Signing out deletes a session kept in Redis, so a copy of its cookie finds nothing (a
/// replica's copy of the session is dropped when the sign-out is announced). A
/// session kept in the cookie itself cannot be deleted: its id is checked against the revoked
/// ones instead.
pub async fn current_account(
    services: &Services,
    session: &GatewaySession,
) -> Result<Option<Account>, AppError> {
    let Some(signed_in) = session.signed_in() else {
        return Ok(None);
    };
    let now = services.clock.now();
    let expired = now.since(signed_in.signed_in_at()) >= services.settings.session.absolute_timeout;
    let (Some(account_id), Some(sid)) = (signed_in.account_id(), signed_in.sid_token()) else {
        session.clear();
        return Ok(None);
    };
    let revoked = !services.sessions_in_redis
        && services
            .state_store
            .exists(StateKind::RevokedSession, &sid)
            .await?;
    if expired || revoked {
        session.clear();
        return Ok(None);
    }
    Ok(services.accounts.get(&account_id).await?)
}
