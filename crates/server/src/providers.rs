//! The providers of the registry, made once, and how an app's settings become what a provider
//! needs.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use installgate_core::{AllowedHosts, AppCredentials, AppDirectory, AppId, Provider, ProviderId};

use crate::metrics::{MeteredProvider, Metrics};
use crate::settings::{AppSettings, ProviderSettings, Settings};

#[derive(Clone, Default)]
pub struct Providers(HashMap<ProviderId, Arc<dyn Provider>>);

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The HTTP client providers call marketplaces with: bounded in time, following no redirects.
pub fn http_client(settings: &ProviderSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("installgate/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl Providers {
    /// Every provider of the registry, each counted and timed in `metrics`.
    pub fn all(settings: &ProviderSettings, metrics: &Metrics) -> anyhow::Result<Self> {
        let client = http_client(settings)?;
        let mut providers = Self::default();
        for registration in crate::registry::REGISTRY {
            providers.register((registration.make)(client.clone())?, metrics);
        }
        Ok(providers)
    }

    pub fn register(&mut self, provider: Arc<dyn Provider>, metrics: &Metrics) {
        let metered = MeteredProvider::new(provider, metrics.clone());
        self.0.insert(metered.id().clone(), Arc::new(metered));
    }

    pub fn get(&self, id: &ProviderId) -> Option<&Arc<dyn Provider>> {
        self.0.get(id)
    }
}

/// What the provider needs of an app; `redirect_uri` is built from the public URL.
pub fn credentials(settings: &Settings, app: &AppSettings) -> AppCredentials {
    let mut redirect_uri = settings.server.public_url.clone();
    let base = redirect_uri.path().trim_end_matches('/').to_owned();
    redirect_uri.set_path(&format!("{base}/install/{}/{}", app.provider, app.id));
    AppCredentials {
        app: app.id.clone(),
        client_id: app.client_id.clone(),
        client_secret: app.client_secret.clone(),
        redirect_uri,
        scopes: app.scopes.clone(),
        optional_scopes: app.optional_scopes.clone(),
        authorize_url: app.authorize_url.clone(),
        token_url: app.token_url.clone(),
        api_base_url: app.api_base_url.clone(),
        return_hosts: app.return_hosts.clone(),
        options: app.options.clone(),
        tenant: None,
    }
}

/// What the gateway needs of an app, worked out once at start-up.
pub struct PreparedApp {
    pub credentials: AppCredentials,
    pub provider: Arc<dyn Provider>,
    /// The `Content-Security-Policy` of the app's install pages: what they may load (the
    /// `page_sources`), then `frame-ancestors` with its marketplace origins, last, so that a
    /// response may add an origin. `None` if the configured origins cannot make a header.
    pub frame_policy: Option<HeaderValue>,
    /// The directives before `frame-ancestors`, each ended by `; `.
    pub page_sources: String,
    /// Hosts its return URLs may point at.
    pub return_hosts: AllowedHosts,
    /// Its conditional scopes, space-separated, as `step=authorize` sends them back.
    pub conditional_scope: String,
}

impl PreparedApp {
    /// The app as core's install steps take it.
    pub fn installing(&self) -> installgate_core::Installing<'_> {
        installgate_core::Installing {
            provider: self.provider.as_ref(),
            credentials: &self.credentials,
        }
    }
}

impl std::fmt::Debug for PreparedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedApp")
            .field("credentials", &self.credentials)
            .field("provider", self.provider.id())
            .finish_non_exhaustive()
    }
}

/// [`PreparedApp`] for every configured app whose provider this build knows.
#[derive(Debug, Clone, Default)]
pub struct PreparedApps(Arc<HashMap<AppId, PreparedApp>>);

impl PreparedApps {
    pub fn new(settings: &Settings, providers: &Providers) -> Self {
        let prepared = settings
            .apps
            .values()
            .filter_map(|app| {
                let provider = providers.get(&app.provider)?.clone();
                let credentials = credentials(settings, app);
                let origins = app
                    .frame_ancestors
                    .clone()
                    .unwrap_or_else(|| provider.frame_ancestors(&credentials));
                let page_sources = crate::routes::framing::page_sources(app);
                let policy = format!("{page_sources}frame-ancestors 'self' {}", origins.join(" "));
                let frame_policy = HeaderValue::from_str(policy.trim_end()).ok();
                let return_hosts = provider.return_hosts(&credentials);
                Some((
                    app.id.clone(),
                    PreparedApp {
                        credentials,
                        provider,
                        frame_policy,
                        page_sources,
                        return_hosts,
                        conditional_scope: app.conditional_scopes.join(" "),
                    },
                ))
            })
            .collect();
        Self(Arc::new(prepared))
    }

    pub fn get(&self, app: &AppId) -> Option<&PreparedApp> {
        self.0.get(app)
    }

    /// The app of `/…/{provider}/{app}` and what is prepared for it, if it is configured for
    /// that provider.
    pub fn resolve<'a>(
        &'a self,
        settings: &'a Settings,
        provider: &str,
        app: &str,
    ) -> Option<(&'a AppSettings, &'a PreparedApp)> {
        let settings = settings.apps.get(app)?;
        let prepared = self.0.get(app)?;
        (settings.provider.as_str() == provider).then_some((settings, prepared))
    }
}

/// The configured apps, as the refresher and revoker look them up.
impl AppDirectory for PreparedApps {
    fn lookup(&self, app: &AppId) -> Option<(AppCredentials, Arc<dyn Provider>)> {
        let prepared = self.get(app)?;
        Some((prepared.credentials.clone(), prepared.provider.clone()))
    }
}
