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

    fn record<T>(
        &self,
        call: TokenCall,
        started: Instant,
        result: &Result<T, ProviderError>,
    ) -> &'static str {
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
        outcome
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
        let outcome = self.record(TokenCall::Refresh, started, &result);
        if result.is_err() {
            self.metrics
                .refresh_failed(self.inner.id().as_str(), app.app.as_str(), outcome);
        }
        result
    }

    async fn revoke(&self, app: &AppCredentials, tokens: &TokenSet) -> Result<(), ProviderError> {
        self.inner.revoke(app, tokens).await
    }

    async fn upgrade_token(
        &self,
        app: &AppCredentials,
        tokens: &TokenSet,
    ) -> Result<Option<Grant>, ProviderError> {
        self.inner.upgrade_token(app, tokens).await
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

    fn console_fields(&self) -> Vec<installgate_core::ConsoleField> {
        self.inner.console_fields()
    }

    fn parse_tenant(&self, raw: &str) -> Result<Tenant, MalformedRequest> {
        self.inner.parse_tenant(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use installgate_core::{AccessToken, AppId, MarketplaceKey, ProviderId};

    /// A provider whose every method with a default answers something else than the default.
    struct Probe(ProviderId);

    #[async_trait]
    impl Provider for Probe {
        fn id(&self) -> &ProviderId {
            &self.0
        }
        fn display_name(&self) -> &'static str {
            "Probe"
        }
        fn console_fields(&self) -> Vec<installgate_core::ConsoleField> {
            vec![installgate_core::ConsoleField {
                name: "probe",
                route: installgate_core::GatewayRoute::Notify,
            }]
        }
        fn parse_install(
            &self,
            _: &AppCredentials,
            _: &InboundRequest<'_>,
            _: Timestamp,
        ) -> Result<InstallRequest, MalformedRequest> {
            Err(MalformedRequest("probe".into()))
        }
        fn return_hosts(&self, _: &AppCredentials) -> AllowedHosts {
            AllowedHosts::default()
        }
        fn frame_ancestors(&self, _: &AppCredentials) -> Vec<String> {
            Vec::new()
        }
        fn token_answers(&self) -> TokenAnswers {
            TokenAnswers {
                refresh_token: false,
                expires_in: false,
            }
        }
        fn return_with_state(&self, url: &ReturnUrl, _: &StateToken, _: &str) -> ReturnUrl {
            url.with_params([("probe", "1")])
        }
        fn authorize_url(&self, _: &AppCredentials, _: &StateToken) -> Url {
            Url::parse("https://probe.example/").unwrap()
        }
        async fn exchange_code(
            &self,
            _: &AppCredentials,
            _: &AuthorizationCode,
        ) -> Result<Grant, ProviderError> {
            Err(ProviderError::Timeout)
        }
        async fn identify(&self, _: &AppCredentials, _: &Grant) -> Result<Identity, ProviderError> {
            Err(ProviderError::Timeout)
        }
        async fn refresh(
            &self,
            _: &AppCredentials,
            _: &RefreshToken,
        ) -> Result<Grant, ProviderError> {
            Err(ProviderError::Timeout)
        }
        async fn revoke(&self, _: &AppCredentials, _: &TokenSet) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn upgrade_token(
            &self,
            _: &AppCredentials,
            _: &TokenSet,
        ) -> Result<Option<Grant>, ProviderError> {
            Err(ProviderError::Status(418))
        }
        fn describe(&self, _: &Connection) -> AccountDescription {
            AccountDescription {
                kind: "probe",
                name: "p".into(),
                user: None,
            }
        }
        fn parse_notice(
            &self,
            _: &AppCredentials,
            _: &InboundRequest<'_>,
        ) -> Result<Notice, NoticeError> {
            Err(NoticeError::Malformed("probe".into()))
        }
        fn delivery_id(&self, _: &InboundRequest<'_>) -> Option<String> {
            Some("probe".into())
        }
        fn requires_tenant(&self) -> bool {
            true
        }
        fn parse_tenant(&self, raw: &str) -> Result<Tenant, MalformedRequest> {
            Tenant::new(format!("probe-{raw}")).map_err(|_| MalformedRequest("probe".into()))
        }
    }

    #[tokio::test]
    async fn every_method_with_a_default_is_forwarded() {
        let probe = Arc::new(Probe(ProviderId::parse("probe").unwrap()));
        let metered = MeteredProvider::new(probe, Metrics::new().unwrap());
        let request = InboundRequest {
            method: "POST",
            query: "",
            headers: &[],
            body: b"",
        };
        let app = AppCredentials {
            app: AppId::parse("probe").unwrap(),
            client_id: "id".into(),
            client_secret: "secret".to_owned().into(),
            redirect_uri: Url::parse("https://gateway.example/install/probe/probe").unwrap(),
            scopes: Vec::new(),
            optional_scopes: Vec::new(),
            authorize_url: None,
            token_url: None,
            api_base_url: None,
            return_hosts: None,
            options: Default::default(),
            tenant: None,
        };
        let tokens = TokenSet {
            access_token: AccessToken::new("a"),
            refresh_token: None,
            expires_at: None,
        };
        let hosts = AllowedHosts::new(["app.example.com"]).unwrap();
        let url = ReturnUrl::parse("https://app.example.com/back", &hosts).unwrap();
        let state = StateToken::generate().unwrap();
        assert!(
            metered
                .return_with_state(&url, &state, "")
                .as_str()
                .contains("probe=1")
        );
        assert_eq!(metered.delivery_id(&request).as_deref(), Some("probe"));
        assert!(metered.requires_tenant());
        assert_eq!(metered.console_fields()[0].name, "probe");
        assert_eq!(metered.parse_tenant("x").unwrap().as_str(), "probe-x");
        assert!(matches!(
            metered.parse_notice(&app, &request),
            Err(NoticeError::Malformed(_))
        ));
        assert!(matches!(
            metered.upgrade_token(&app, &tokens).await,
            Err(ProviderError::Status(418))
        ));
        let connection = Connection {
            id: installgate_core::ConnectionId::generate(),
            app: app.app.clone(),
            provider: ProviderId::parse("probe").unwrap(),
            marketplace_key: MarketplaceKey::parse("k").unwrap(),
            workspace: None,
            account: None,
            status: installgate_core::ConnectionStatus::Active,
            scopes: Vec::new(),
            metadata: Default::default(),
            tokens: None,
            revision: 0,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        assert_eq!(metered.describe(&connection).kind, "probe");
    }
}
