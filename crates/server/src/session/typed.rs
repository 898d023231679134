//! The typed session: handlers never touch string keys.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use installgate_core::{AccountId, StateToken, Timestamp, Workspace};
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

const SIGNED_IN: &str = "signed_in";
const CSRF: &str = "csrf";
const PENDING_INSTALL: &str = "pending_install";
const CONNECT_STARTED: &str = "connect_started";
const BROWSER: &str = "browser";
const ENTITLED: &str = "entitled";
const NAMED_WORKSPACE: &str = "named_workspace";
const WORKSPACE_CHOICE: &str = "workspace_choice";

/// A marketplace install whose tokens are held, waiting for this browser's user to claim it.
/// Kept in the session, so that only the browser that came back from the marketplace can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInstall {
    pub app: String,
    pub provider: String,
    pub connection: String,
}

/// Who is signed in, since when, under which session id (revoked at sign-out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub account: String,
    pub sid: String,
    pub at: i64,
}

impl SignedIn {
    pub fn account_id(&self) -> Option<AccountId> {
        AccountId::parse(&self.account).ok()
    }

    pub fn signed_in_at(&self) -> Timestamp {
        Timestamp::from_millis(self.at)
    }

    pub fn sid_token(&self) -> Option<StateToken> {
        StateToken::parse(&self.sid).ok()
    }
}

pub struct GatewaySession(Session);

impl std::fmt::Debug for GatewaySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewaySession")
    }
}

fn unexpected(error: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {error}"))
}

impl GatewaySession {
    pub fn signed_in(&self) -> Option<SignedIn> {
        self.0.get::<SignedIn>(SIGNED_IN).ok().flatten()
    }

    /// Remembers, for this sign-in, that the vendor's assertion said the user may install.
    pub fn set_entitled(&self) -> Result<(), AppError> {
        self.0.insert(ENTITLED, true).map_err(unexpected)
    }

    /// Whether this sign-in's assertion said the user may install (the flag goes with the
    /// session at sign-out or at the next sign-in).
    pub fn entitled(&self) -> bool {
        self.0.get::<bool>(ENTITLED).ok().flatten().unwrap_or(false)
    }

    /// Remembers, for this sign-in, the workspace the vendor's assertion named.
    pub fn set_named_workspace(&self, workspace: &Workspace) -> Result<(), AppError> {
        self.0
            .insert(NAMED_WORKSPACE, workspace)
            .map_err(unexpected)
    }

    /// The workspace this sign-in's assertion named, if it named one.
    pub fn named_workspace(&self) -> Option<Workspace> {
        self.0.get::<Workspace>(NAMED_WORKSPACE).ok().flatten()
    }

    /// Remembers the workspace (its id) `account` picked on the workspace page, for the install
    /// that continues next.
    pub fn set_workspace_choice(&self, account: &AccountId, id: &str) -> Result<(), AppError> {
        let choice = (account.as_str(), id);
        self.0.insert(WORKSPACE_CHOICE, choice).map_err(unexpected)
    }

    /// The workspace id `account` picked, taken (a choice serves one install).
    pub fn take_workspace_choice(&self, account: &AccountId) -> Option<String> {
        let (chooser, id) = self
            .0
            .get::<(String, String)>(WORKSPACE_CHOICE)
            .ok()
            .flatten()?;
        self.0.remove(WORKSPACE_CHOICE);
        (chooser == account.as_str()).then_some(id)
    }

    /// Signs `account` in under a new session id and a new CSRF token.
    pub fn sign_in(&self, account: &AccountId, now: Timestamp) -> Result<(), AppError> {
        let sid = StateToken::generate().map_err(unexpected)?;
        self.0.renew();
        self.0.remove(CSRF);
        self.0.remove(ENTITLED);
        self.0.remove(NAMED_WORKSPACE);
        self.0.remove(WORKSPACE_CHOICE);
        let signed_in = SignedIn {
            account: account.as_str().to_owned(),
            sid: sid.expose().to_owned(),
            at: now.as_millis(),
        };
        self.0.insert(SIGNED_IN, signed_in).map_err(unexpected)
    }

    /// Forgets everything; the cookie is cleared.
    pub fn clear(&self) {
        self.0.purge();
    }

    /// The CSRF token of this session, made on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        token_in(&self.0, CSRF)
    }

    pub fn set_pending_install(&self, pending: &PendingInstall) -> Result<(), AppError> {
        self.0.insert(PENDING_INSTALL, pending).map_err(unexpected)
    }

    pub fn pending_install(&self) -> Option<PendingInstall> {
        self.0.get::<PendingInstall>(PENDING_INSTALL).ok().flatten()
    }

    pub fn clear_pending_install(&self) {
        self.0.remove(PENDING_INSTALL);
    }

    /// Remembers that this browser started an install of `app` at `/connect/…`, so that a
    /// callback for it without a state is refused rather than taken for a marketplace install.
    pub fn set_connect_started(&self, app: &str) -> Result<(), AppError> {
        self.0.insert(CONNECT_STARTED, app).map_err(unexpected)
    }

    /// Whether this browser started an install of `app` at `/connect/…`; forgets it.
    pub fn take_connect_started(&self, app: &str) -> bool {
        let started = self.0.get::<String>(CONNECT_STARTED).ok().flatten();
        if started.is_some() {
            self.0.remove(CONNECT_STARTED);
        }
        started.as_deref() == Some(app)
    }

    /// This browser's binding: a random secret kept in its session, made on first use, that
    /// states and sign-in requests minted for this browser are bound to (as its digest). It
    /// survives sign-in (the session is renewed, not emptied) and ends at sign-out.
    pub fn browser_binding(&self) -> Result<StateToken, AppError> {
        if let Some(binding) = self.existing_browser_binding() {
            return Ok(binding);
        }
        let binding = StateToken::generate().map_err(unexpected)?;
        self.0
            .insert(BROWSER, binding.expose())
            .map_err(unexpected)?;
        Ok(binding)
    }

    /// This browser's binding, if it has one; never makes one.
    pub fn existing_browser_binding(&self) -> Option<StateToken> {
        let raw = self.0.get::<String>(BROWSER).ok().flatten()?;
        StateToken::parse(raw).ok()
    }

    /// The CSRF token, if one was made; never makes one.
    pub fn existing_csrf_token(&self) -> Option<String> {
        self.0.get::<String>(CSRF).ok().flatten()
    }
}

/// The random token `session` keeps under `key` (a CSRF token), made on first use.
pub(crate) fn token_in(session: &Session, key: &str) -> Result<String, AppError> {
    if let Ok(Some(token)) = session.get::<String>(key) {
        return Ok(token);
    }
    let token = StateToken::generate()
        .map_err(unexpected)?
        .expose()
        .to_owned();
    session.insert(key, &token).map_err(unexpected)?;
    Ok(token)
}

impl FromRequest for GatewaySession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(request.get_session())))
    }
}
