//! The install lifecycle: what each step of an install decides, without HTTP. The server reads
//! the request into a provider outcome, asks here what comes next, and turns the answer into a
//! response. A place outside the gateway can only be a validated [`ReturnUrl`], so no step can
//! become an open redirect.
//!
//! This module holds the steps of installs that carry a state (a seamless install, an install
//! the gateway started) and cancels; `held.rs` the installs a marketplace starts without one;
//! `notices.rs` what a marketplace's own notices do; `disconnect.rs` the vendor's disconnect.

mod disconnect;
mod held;
mod import;
mod notices;
mod upgrade;

pub use disconnect::{ProviderRevoke, revoke_at_provider};
pub use held::{Claim, Held};
pub use import::{ImportOutcome, Imported};
pub use notices::{DELIVERY_MEMORY, Delivery, DeliverySeen};

use crate::{
    AccountId, AppCredentials, AuthorizationCode, Connection, ConnectionStatus, Event, EventKind,
    FlowError, InstallFlow, InstallFor, Provider, ReturnUrl, StateBinding, StateRefusal,
    StateToken, Tenant, Workspace,
};

/// Where the user goes next.
#[derive(Debug)]
pub enum Next {
    /// Back to the marketplace, at its validated return URL (as the provider's rule set it).
    Back(ReturnUrl),
    /// On to the marketplace's consent page, at the address the provider built from the app's
    /// endpoints and the verified tenant.
    Consent(ConsentUrl),
    /// The user must sign in (or up) first; the request waits.
    SignIn,
    /// On to the app's setup page for this connection.
    Setup(Box<Connection>),
    /// The cancelled page.
    Cancelled,
    /// A page that says why nothing happened.
    Refused(Refusal),
}

/// A marketplace's consent page with a state the gateway minted, as the provider built it: only
/// [`InstallFlow::begin`] makes one, so nothing else can be sent on as a consent page.
#[derive(Debug, Clone)]
pub struct ConsentUrl(url::Url);

impl ConsentUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Why a step refused, in words for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this install link has expired or was used already; start again")]
    StateNotAccepted,
    #[error("this install was started in another browser; start it again in this one")]
    OtherBrowser,
    #[error("this install was started by another account than the one signed in; start it again")]
    OtherAccount,
    #[error("this marketplace installs for one store or account at a time: start from there")]
    TenantRequired,
}

/// What the step came to, for the install funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    SignInRequired,
    StateMinted,
    Finalized,
    Cancelled,
    /// Failed, with the funnel's reason (`state`, `provider`).
    Failed(&'static str),
}

/// A step's decision and what it came to.
#[derive(Debug)]
pub struct Decision {
    pub next: Next,
    pub reached: Reached,
    /// The install was for another workspace than the one its connection is in: it stayed
    /// there, and the user may move it (before going on to `next`).
    pub move_offer: Option<MoveOffer>,
}

impl Decision {
    fn new(next: Next, reached: Reached) -> Self {
        Self {
            next,
            reached,
            move_offer: None,
        }
    }
}

/// A reinstall asked for another workspace than the one its connection is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOffer {
    pub connection: crate::ConnectionId,
    pub account: AccountId,
    pub from: Workspace,
    pub to: Workspace,
}

impl MoveOffer {
    /// The offer when `connection` (just stored for `wanted`) stayed in another workspace.
    pub fn between(connection: &Connection, wanted: Option<&Workspace>) -> Option<Self> {
        let (Some(to), Some(from), Some(account)) =
            (wanted, &connection.workspace, &connection.account)
        else {
            return None;
        };
        (from != to).then(|| Self {
            connection: connection.id,
            account: account.clone(),
            from: from.clone(),
            to: to.clone(),
        })
    }
}

/// The app an install step is for.
#[derive(Clone, Copy)]
pub struct Installing<'a> {
    pub provider: &'a dyn Provider,
    pub credentials: &'a AppCredentials,
}

impl std::fmt::Debug for Installing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installing")
            .field("provider", self.provider.id())
            .field("app", &self.credentials.app)
            .finish()
    }
}

impl Installing<'_> {
    fn binding(&self) -> (crate::AppId, crate::ProviderId) {
        (self.credentials.app.clone(), self.provider.id().clone())
    }
}

impl InstallFlow {
    /// A seamless install's first step: with an account, a state bound to it and to the return
    /// origin goes back to the marketplace; without one, the user signs in first.
    pub async fn authorize(
        &self,
        install: Installing<'_>,
        return_url: ReturnUrl,
        account: Option<AccountId>,
        conditional_scope: &str,
        workspace: Option<Workspace>,
    ) -> Result<Decision, FlowError> {
        let Some(account) = account else {
            return Ok(Decision::new(Next::SignIn, Reached::SignInRequired));
        };
        let (app, provider) = install.binding();
        let state = self
            .mint_state(&StateBinding {
                app,
                provider,
                account: Some(account),
                return_origin: Some(return_url.origin()),
                // The marketplace carries this state through its own flow to a cookieless
                // finalize.
                browser: None,
                tenant: None,
                workspace,
            })
            .await?;
        let back = install
            .provider
            .return_with_state(&return_url, &state, conditional_scope);
        Ok(Decision::new(Next::Back(back), Reached::StateMinted))
    }

    /// A seamless install's last step: whatever happens, the user goes back to the return URL.
    /// A state is required when one is given or `state_required` (partner sign-in); a provider
    /// failure is a funnel failure, not an error. Only the stores failing is an error.
    pub async fn finalize(
        &self,
        install: Installing<'_>,
        code: &AuthorizationCode,
        state: Option<&str>,
        return_url: ReturnUrl,
        state_required: bool,
    ) -> Result<Decision, FlowError> {
        let (app, provider) = install.binding();
        let mut workspace = None;
        let account = if state.is_some() || state_required {
            let taken = self
                .take_state(
                    state,
                    &app,
                    &provider,
                    Some(&return_url.origin()),
                    None,
                    None,
                )
                .await?;
            match taken {
                Ok(binding) => {
                    workspace = binding.workspace;
                    binding.account
                }
                Err(refusal) => {
                    tracing::warn!(app = %app, %refusal, "install refused: state not accepted");
                    return Ok(Decision::new(
                        Next::Back(return_url),
                        Reached::Failed("state"),
                    ));
                }
            }
        } else {
            None
        };
        let target = InstallFor {
            account,
            status: ConnectionStatus::Active,
            workspace: workspace.clone(),
        };
        match self
            .install(install.provider, install.credentials, code, target)
            .await
        {
            Ok(connection) => {
                tracing::info!(app = %app, connection = %connection.id, "installed");
                let mut decision = Decision::new(Next::Back(return_url), Reached::Finalized);
                decision.move_offer = MoveOffer::between(&connection, workspace.as_ref());
                Ok(decision)
            }
            Err(FlowError::Provider(error)) => {
                tracing::warn!(app = %app, %error, "install failed at the provider");
                Ok(Decision::new(
                    Next::Back(return_url),
                    Reached::Failed("provider"),
                ))
            }
            Err(other) => Err(other),
        }
    }

    /// An install the gateway starts (from the vendor's pages, or because the marketplace asked
    /// for one `tenant`): with the signed-in account and the binding of its browser, a state
    /// bound to both and to the tenant, and the user goes on to the marketplace's consent page;
    /// without, the user signs in first.
    pub async fn begin(
        &self,
        install: Installing<'_>,
        tenant: Option<Tenant>,
        signed_in: Option<(AccountId, StateToken)>,
        workspace: Option<Workspace>,
    ) -> Result<Decision, FlowError> {
        if tenant.is_none() && install.provider.requires_tenant() {
            return Ok(Decision::new(
                Next::Refused(Refusal::TenantRequired),
                Reached::Failed("bad_request"),
            ));
        }
        let Some((account, browser)) = signed_in else {
            return Ok(Decision::new(Next::SignIn, Reached::SignInRequired));
        };
        let (app, provider) = install.binding();
        let state = self
            .mint_state(&StateBinding {
                app,
                provider,
                account: Some(account),
                return_origin: None,
                browser: Some(browser),
                tenant: tenant.clone(),
                workspace,
            })
            .await?;
        let credentials = install.credentials.for_tenant(tenant);
        let consent = install.provider.authorize_url(&credentials, &state);
        Ok(Decision::new(
            Next::Consent(ConsentUrl(consent)),
            Reached::StateMinted,
        ))
    }

    /// The first half of the OAuth callback of an install the gateway started: the state is
    /// required and taken (it can never be used again), and it must come back to the browser
    /// that asked for it (`browser`), naming the tenant it was minted for (`tenant`, as the
    /// verified callback names it). The binding to finish with, or the refusal to show.
    pub async fn callback_state(
        &self,
        install: Installing<'_>,
        state: &str,
        browser: Option<&StateToken>,
        tenant: Option<&Tenant>,
    ) -> Result<Result<StateBinding, Decision>, FlowError> {
        let (app, provider) = install.binding();
        let taken = self
            .take_state(Some(state), &app, &provider, None, browser, tenant)
            .await?;
        Ok(taken.map_err(|refusal| {
            tracing::warn!(app = %app, %refusal, "callback refused: state not accepted");
            let why = match refusal {
                StateRefusal::OtherBrowser => Refusal::OtherBrowser,
                _ => Refusal::StateNotAccepted,
            };
            Decision::new(Next::Refused(why), Reached::Failed("bad_request"))
        }))
    }

    /// The second half: refused when the browser is signed in as another account than the
    /// state's (`signed_in`), installed otherwise. A provider failure is an error here: there is
    /// no return URL to go back to.
    pub async fn finish_callback(
        &self,
        install: Installing<'_>,
        code: &AuthorizationCode,
        binding: StateBinding,
        signed_in: Option<&AccountId>,
    ) -> Result<Decision, FlowError> {
        if let (Some(minted_for), Some(signed_in)) = (&binding.account, signed_in)
            && minted_for != signed_in
        {
            tracing::warn!(app = %binding.app, "callback refused: signed in as another account");
            return Ok(Decision::new(
                Next::Refused(Refusal::OtherAccount),
                Reached::Failed("bad_request"),
            ));
        }
        let target = InstallFor {
            account: binding.account,
            status: ConnectionStatus::Active,
            workspace: binding.workspace.clone(),
        };
        let credentials = install.credentials.for_tenant(binding.tenant);
        let connection = self
            .install(install.provider, &credentials, code, target)
            .await?;
        let move_offer = MoveOffer::between(&connection, binding.workspace.as_ref());
        let mut decision = Decision::new(Next::Setup(Box::new(connection)), Reached::Finalized);
        decision.move_offer = move_offer;
        Ok(decision)
    }

    /// The user cancelled at the marketplace. Anyone can send a cancel: only one tied to an
    /// install that was really started (a live state, taken here, or `started_here`: the
    /// browser's own gateway-started or held install) writes `installation.cancelled`.
    pub async fn cancelled(
        &self,
        install: Installing<'_>,
        state: Option<&str>,
        started_here: bool,
    ) -> Result<Decision, FlowError> {
        let (app, provider) = install.binding();
        let of_a_state = match state {
            Some(state) => self.forget_state(state, &app, &provider).await?,
            None => false,
        };
        if started_here || of_a_state {
            let event = Event::without_connection(
                EventKind::InstallationCancelled,
                app,
                provider,
                self.now(),
            );
            self.vault().publish(event).await?;
        }
        Ok(Decision::new(Next::Cancelled, Reached::Cancelled))
    }
}
