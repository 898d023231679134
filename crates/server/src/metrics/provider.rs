//! A provider that counts and times its calls to the marketplace's token endpoint, around the
//! real one. The flow engine and the refresher see an ordinary provider. Every method of the
//! port is forwarded, those with a default included: a method left out would answer the
//! default instead of the marketplace's own rule.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use installgate_core::{
    AccountDescription, AllowedHosts, AppCredentials, AuthorizationCode, Connection, Grant,
    Identity, InboundRequest, InstallRequest, MalformedRequest, Notice, NoticeError, Provider,
    ProviderError, ProviderId, RefreshToken, ReturnUrl, StateToken, Tenant, Timestamp,
    TokenAnswers, TokenCall as AnswerOf, TokenSet,
};
use url::Url;

use super::{Metrics, TokenCall};

pub struct MeteredProvider {
    inner: Arc<dyn Provider>,
    metrics: Metrics,
}

impl std::fmt::Debug for MeteredProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredProvider")
            .field("provider", self.inner.id())
            .finish_non_exhaustive()
    }
}

impl MeteredProvider {
    pub fn new(inner: Arc<dyn Provider>, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }

    fn record<T>(&self, call: TokenCall, started: Instant, result: &Result<T, ProviderError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(ProviderError::Timeout) => "timeout",
            Err(ProviderError::Unreachable) => "unreachable",
            Err(ProviderError::Status(_)) => "error_status",
            Err(ProviderError::InvalidGrant) => "invalid_grant",
            Err(ProviderError::OAuth(_)) => "refused",
            Err(ProviderError::Malformed(_) | ProviderError::Unacceptable(_)) => "bad_answer",
        };
        self.metrics.token_call(
            self.inner.id().as_str(),
            call,
            outcome,
            started.elapsed().as_secs_f64(),
        );
    }
}

#[async_trait]
impl Provider for MeteredProvider {
    fn id(&self) -> &ProviderId {
        self.inner.id()
    }

    fn display_name(&self) -> &'static str {
        self.inner.display_name()
    }

    fn parse_install(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
        now: Timestamp,
    ) -> Result<InstallRequest, MalformedRequest> {
        self.inner.parse_install(app, request, now)
    }

    fn token_answers(&self) -> TokenAnswers {
        self.inner.token_answers()
    }

    fn return_hosts(&self, app: &AppCredentials) -> AllowedHosts {
        self.inner.return_hosts(app)
    }

    fn frame_ancestors(&self, app: &AppCredentials) -> Vec<String> {
        self.inner.frame_ancestors(app)
    }

    fn authorize_url(&self, app: &AppCredentials, state: &StateToken) -> Url {
        self.inner.authorize_url(app, state)
    }

    async fn exchange_code(
        &self,
        app: &AppCredentials,
        code: &AuthorizationCode,
    ) -> Result<Grant, ProviderError> {
        let started = Instant::now();
        // Checked here as the flow engine will, so that a refused answer counts as a bad one.
        let result = self.inner.exchange_code(app, code).await.and_then(|grant| {
            grant.check(self.token_answers(), AnswerOf::Exchange)?;
            Ok(grant)
        });
        self.record(TokenCall::Exchange, started, &result);
        result
    }

    async fn identify(
        &self,
        app: &AppCredentials,
        grant: &Grant,
    ) -> Result<Identity, ProviderError> {
        self.inner.identify(app, grant).await
    }

    async fn refresh(
        &self,
        app: &AppCredentials,
        refresh_token: &RefreshToken,
    ) -> Result<Grant, ProviderError> {
        let started = Instant::now();
        let result = self
            .inner
            .refresh(app, refresh_token)
            .await
            .and_then(|grant| {
                grant.check(self.token_answers(), AnswerOf::Refresh)?;
                Ok(grant)
            });
        self.record(TokenCall::Refresh, started, &result);
        result
    }

    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError> {
        self.inner.revoke(app, tokens).await
    }

    fn return_with_state(
        &self,
        return_url: &ReturnUrl,
        state: &StateToken,
        scope: &str,
    ) -> ReturnUrl {
        self.inner.return_with_state(return_url, state, scope)
    }

    fn describe(&self, connection: &Connection) -> AccountDescription {
        self.inner.describe(connection)
    }

    fn parse_notice(
        &self,
        app: &AppCredentials,
        request: &InboundRequest<'_>,
    ) -> Result<Notice, NoticeError> {
        self.inner.parse_notice(app, request)
    }

    fn delivery_id(&self, request: &InboundRequest<'_>) -> Option<String> {
        self.inner.delivery_id(request)
    }

    fn requires_tenant(&self) -> bool {
        self.inner.requires_tenant()
    }

    fn parse_tenant(&self, raw: &str) -> Result<Tenant, MalformedRequest> {
        self.inner.parse_tenant(raw)
    }
}
