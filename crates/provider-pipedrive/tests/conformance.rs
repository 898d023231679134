//! Pipedrive against the provider port's conformance suite, on the simulated Pipedrive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use installgate_core::{AppCredentials, AppId, AuthorizationCode, Provider, TokenSet};
use installgate_provider_conformance::{
    Failure, Harness, NoticeCase, OwnedInbound, conformance_suite, http_client,
};
use installgate_provider_pipedrive::Pipedrive;
use installgate_sandbox::{PipedriveSimulator, PipedriveUser, SimulatedApp};

const CLIENT_ID: &str = "conformance-pipedrive";
const CLIENT_SECRET: &str = "conformance-pipedrive-secret";
const REDIRECT_URI: &str = "https://gateway.example/install/pipedrive/crm";

struct PipedriveHarness {
    sim: PipedriveSimulator,
    provider: Pipedrive,
    app: AppCredentials,
}

async fn harness() -> PipedriveHarness {
    let sim = PipedriveSimulator::start(
        vec![SimulatedApp {
            name: "Conformance".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: REDIRECT_URI.into(),
            scopes: vec!["deals:full".into(), "users:read".into()],
            partner_sign_in: false,
        }],
        vec![PipedriveUser {
            company_id: 1,
            user_id: 10,
            company_name: "Acme Ltd".into(),
            name: "Ada".into(),
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
        scopes: vec!["deals:full".into(), "users:read".into()],
        optional_scopes: Vec::new(),
        authorize_url: Some(sim.authorize_url().parse().unwrap()),
        token_url: Some(sim.token_url().parse().unwrap()),
        api_base_url: Some(sim.url().parse().unwrap()),
        return_hosts: None,
        options: Default::default(),
        tenant: None,
    };
    let provider = Pipedrive::new(http_client()).unwrap();
    PipedriveHarness { sim, provider, app }
}

fn basic(secret: &str) -> String {
    let pair = format!("{CLIENT_ID}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[async_trait::async_trait]
impl Harness for PipedriveHarness {
    fn provider(&self) -> &dyn Provider {
        &self.provider
    }

    fn app(&self) -> &AppCredentials {
        &self.app
    }

    fn code(&self) -> AuthorizationCode {
        let code = self.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
        AuthorizationCode::parse(&code).unwrap()
    }

    fn expected_key(&self) -> String {
        "1:10".into()
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

    fn answer_with_tenant(&self, tenant: &str) -> bool {
        self.sim.set_api_domain(tenant);
        true
    }

    fn notice(&self, case: NoticeCase) -> Option<OwnedInbound> {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        match case {
            NoticeCase::Good => headers.push(("authorization".into(), basic(CLIENT_SECRET))),
            NoticeCase::BadCredentials => {
                headers.push(("authorization".into(), basic("not-the-secret")));
            }
            NoticeCase::NoCredentials => {}
        }
        let body = format!(
            r#"{{"client_id":"{CLIENT_ID}","company_id":1,"user_id":10,"timestamp":"2026-12-02T12:00:00Z"}}"#
        );
        Some(OwnedInbound {
            method: "DELETE".into(),
            query: String::new(),
            headers,
            body: body.into_bytes(),
        })
    }

    /// Pipedrive takes an app's scopes from its Developer Hub listing, not from the URL.
    fn scopes_in_authorize_url(&self) -> bool {
        false
    }

    fn expected_frame_origins(&self) -> Vec<String> {
        // Pipedrive opens the install in a tab of its own: nobody frames it.
        Vec::new()
    }

    fn secrets(&self) -> Vec<String> {
        vec![CLIENT_SECRET.into(), basic(CLIENT_SECRET)]
    }
}

conformance_suite!(harness);
