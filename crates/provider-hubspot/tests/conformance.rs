//! HubSpot against the provider port's conformance suite, on the simulated HubSpot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use installgate_core::{AppCredentials, AppId, AuthorizationCode, Provider, TokenSet};
use installgate_provider_conformance::{
    Failure, Harness, NoticeCase, OwnedInbound, conformance_suite, http_client,
};
use installgate_provider_hubspot::HubSpot;
use installgate_sandbox::{HubSpotSimulator, SimulatedApp};

const CLIENT_ID: &str = "conformance-hubspot";
const CLIENT_SECRET: &str = "conformance-hubspot-secret";
const REDIRECT_URI: &str = "https://gateway.example/install/hubspot/crm";
const HUB_ID: u64 = 4242;

struct HubSpotHarness {
    sim: HubSpotSimulator,
    provider: HubSpot,
    app: AppCredentials,
}

async fn harness() -> HubSpotHarness {
    let sim = HubSpotSimulator::start(
        vec![SimulatedApp {
            name: "Conformance".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: REDIRECT_URI.into(),
            scopes: vec!["oauth".into(), "crm.objects.contacts.read".into()],
            partner_sign_in: false,
        }],
        0,
    )
    .await
    .unwrap();
    let app = AppCredentials {
        app: AppId::parse("crm").unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.to_owned().into(),
        redirect_uri: REDIRECT_URI.parse().unwrap(),
        scopes: vec!["oauth".into(), "crm.objects.contacts.read".into()],
        optional_scopes: Vec::new(),
        authorize_url: Some(sim.authorize_url().parse().unwrap()),
        token_url: Some(sim.token_url().parse().unwrap()),
        api_base_url: Some(sim.url().parse().unwrap()),
        return_hosts: None,
        options: Default::default(),
        tenant: None,
    };
    let provider = HubSpot::new(http_client()).unwrap();
    HubSpotHarness { sim, provider, app }
}

#[async_trait::async_trait]
impl Harness for HubSpotHarness {
    fn provider(&self) -> &dyn Provider {
        &self.provider
    }

    fn app(&self) -> &AppCredentials {
        &self.app
    }

    fn code(&self) -> AuthorizationCode {
        let code = self.sim.issue_code(CLIENT_ID, HUB_ID).unwrap();
        AuthorizationCode::parse(&code).unwrap()
    }

    fn expected_key(&self) -> String {
        HUB_ID.to_string()
    }

    fn fail_next(&self, failure: Failure) {
        self.sim.fail_next(failure);
    }

    fn rotate_refresh_tokens(&self, on: bool) {
        self.sim.rotate_refresh_tokens(on);
    }

    fn token_calls(&self) -> usize {
        self.sim.token_calls()
    }

    fn grant_is_live(&self, tokens: &TokenSet) -> bool {
        self.sim.access_token_works(tokens.access_token.expose())
    }

    /// HubSpot has no per-account host to check: the API is one host for every account.
    fn answer_with_tenant(&self, _tenant: &str) -> bool {
        false
    }

    /// HubSpot sends no notices to the gateway (uninstalls come as webhooks to the app).
    fn notice(&self, _case: NoticeCase) -> Option<OwnedInbound> {
        None
    }

    fn expected_frame_origins(&self) -> Vec<String> {
        vec!["https://app.hubspot.com".into()]
    }

    fn secrets(&self) -> Vec<String> {
        vec![CLIENT_SECRET.into()]
    }
}

conformance_suite!(harness);
