//! The cases of the suite. Each takes the harness and panics with a message that says what the
//! provider got wrong.
#![allow(clippy::panic)]

use std::time::Duration;

use installgate_core::{Notice, NoticeError, ProviderError, StateToken, TokenCall};

use crate::{CLIENT_TIMEOUT, Failure, Harness, NoticeCase};

fn state() -> StateToken {
    StateToken::generate().unwrap_or_else(|_| panic!("the OS random generator is unavailable"))
}

pub async fn the_authorize_url_names_the_app_the_redirect_the_scopes_and_the_state(
    h: &dyn Harness,
) {
    let state = state();
    let url = h.provider().authorize_url(h.app(), &state);
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("the authorize URL has no {name}: {url}"))
    };
    assert_eq!(value("client_id"), h.app().client_id, "{url}");
    assert_eq!(
        value("redirect_uri"),
        h.app().redirect_uri.as_str(),
        "{url}"
    );
    assert_eq!(value("state"), state.expose(), "{url}");
    if h.scopes_in_authorize_url() {
        let scope = value("scope");
        for wanted in &h.app().scopes {
            assert!(
                scope.split([' ', ',']).any(|s| s == wanted),
                "{wanted} missing: {url}"
            );
        }
    }
    let states = pairs.iter().filter(|(key, _)| key == "state").count();
    assert_eq!(states, 1, "exactly one state: {url}");
    assert!(
        url.scheme() == "https" || h.app().authorize_url.is_some(),
        "the marketplace's own authorize URL is https: {url}"
    );
}

pub async fn a_code_exchange_yields_whole_tokens_and_the_account(h: &dyn Harness) {
    let provider = h.provider();
    let grant = provider
        .exchange_code(h.app(), &h.code())
        .await
        .unwrap_or_else(|error| panic!("the exchange failed: {error}"));
    let answers = provider.token_answers();
    grant
        .check(answers, TokenCall::Exchange)
        .unwrap_or_else(|error| panic!("the grant is not whole: {error}"));
    if answers.expires_in {
        assert!(
            grant
                .expires_in
                .is_some_and(|lifetime| lifetime > Duration::ZERO)
        );
    }
    let identity = provider
        .identify(h.app(), &grant)
        .await
        .unwrap_or_else(|error| panic!("identification failed: {error}"));
    assert_eq!(identity.marketplace_key.as_str(), h.expected_key());
    assert!(
        h.grant_is_live(&grant.tokens),
        "the access token works at the marketplace"
    );
    assert!(h.token_calls() > 0);
}

pub async fn a_failing_token_endpoint_is_a_clear_error_and_never_retried(h: &dyn Harness) {
    type Expected = fn(&ProviderError) -> bool;
    let cases: [(Failure, Expected, &str); 5] = [
        (
            Failure::ServerError,
            |e| matches!(e, ProviderError::Status(500)),
            "500",
        ),
        (
            Failure::Slow(CLIENT_TIMEOUT * 3),
            |e| matches!(e, ProviderError::Timeout),
            "a timeout",
        ),
        (
            Failure::Garbage,
            |e| matches!(e, ProviderError::Malformed(_)),
            "garbage",
        ),
        (
            Failure::InvalidGrant,
            |e| matches!(e, ProviderError::InvalidGrant),
            "invalid_grant",
        ),
        (
            Failure::Oversized,
            |e| matches!(e, ProviderError::Malformed(_)),
            "an oversized answer",
        ),
    ];
    for (failure, expected, what) in cases {
        let before = h.token_calls();
        h.fail_next(failure);
        let outcome = h.provider().exchange_code(h.app(), &h.code()).await;
        let Err(error) = outcome else {
            panic!("{what}: the exchange succeeded");
        };
        assert!(expected(&error), "{what}: {error:?}");
        assert_eq!(h.token_calls(), before + 1, "{what}: one call, no retry");
        assert_eq!(
            error.is_transient(),
            matches!(failure, Failure::ServerError | Failure::Slow(_)),
            "{what}: transient or not"
        );
    }
}

async fn exchanged(h: &dyn Harness) -> installgate_core::Grant {
    h.provider()
        .exchange_code(h.app(), &h.code())
        .await
        .unwrap_or_else(|error| panic!("the exchange failed: {error}"))
}

pub async fn a_refresh_without_rotation_renews_the_access_token(h: &dyn Harness) {
    h.rotate_refresh_tokens(false);
    let grant = exchanged(h).await;
    let refresh = grant
        .tokens
        .refresh_token
        .clone()
        .unwrap_or_else(|| panic!("no refresh token"));
    let renewed = h
        .provider()
        .refresh(h.app(), &refresh)
        .await
        .unwrap_or_else(|error| panic!("the refresh failed: {error}"));
    renewed
        .check(h.provider().token_answers(), TokenCall::Refresh)
        .unwrap_or_else(|error| panic!("the refresh answer is not whole: {error}"));
    assert_ne!(renewed.tokens.access_token, grant.tokens.access_token);
    if let Some(next) = &renewed.tokens.refresh_token {
        assert_eq!(next, &refresh, "without rotation the refresh token stays");
    }
    // The same refresh token works again.
    h.provider()
        .refresh(h.app(), &refresh)
        .await
        .unwrap_or_else(|error| panic!("a second refresh failed: {error}"));
}

pub async fn a_refresh_with_rotation_renews_both_and_the_old_one_is_refused(h: &dyn Harness) {
    h.rotate_refresh_tokens(true);
    let grant = exchanged(h).await;
    let old = grant
        .tokens
        .refresh_token
        .clone()
        .unwrap_or_else(|| panic!("no refresh token"));
    let renewed = h
        .provider()
        .refresh(h.app(), &old)
        .await
        .unwrap_or_else(|error| panic!("the refresh failed: {error}"));
    let new = renewed
        .tokens
        .refresh_token
        .clone()
        .unwrap_or_else(|| panic!("with rotation a new refresh token comes back"));
    assert_ne!(new, old);
    let reused = h.provider().refresh(h.app(), &old).await;
    assert!(
        matches!(reused, Err(ProviderError::InvalidGrant)),
        "a retired refresh token is an ended grant: {reused:?}"
    );
    h.rotate_refresh_tokens(false);
}

pub async fn revoke_ends_the_grant(h: &dyn Harness) {
    let grant = exchanged(h).await;
    assert!(h.grant_is_live(&grant.tokens));
    h.provider()
        .revoke(h.app(), &grant.tokens)
        .await
        .unwrap_or_else(|error| panic!("revoke failed: {error}"));
    assert!(
        !h.grant_is_live(&grant.tokens),
        "the grant still works after revoke"
    );
}

pub async fn hostile_tenants_are_refused_before_anything_is_sent_there(h: &dyn Harness) {
    let provider = h.provider();
    // A marketplace whose installs name their tenant validates it before it becomes a host.
    if provider.requires_tenant() {
        let calls = h.token_calls();
        for tenant in [
            "evil.com",
            "acme.myshopify.com.evil.com",
            "acme.myshopify.com@evil.com",
            "evil.com@acme.myshopify.com",
            "evil.com/acme.myshopify.com",
            "acme.myshopify.com:8443",
            "https://acme.myshopify.com",
            "../acme",
            "",
        ] {
            let parsed = provider.parse_tenant(tenant);
            assert!(
                parsed.is_err(),
                "tenant {tenant:?} was accepted: {parsed:?}"
            );
        }
        assert_eq!(h.token_calls(), calls, "nothing was sent anywhere");
    }
    for tenant in [
        "https://evil.example",
        "http://127.0.0.1:9",
        "https://user:pass@x.example",
        "https://x.example:8443",
        "javascript:alert(1)",
        "",
    ] {
        if !h.answer_with_tenant(tenant) {
            return;
        }
        let provider = h.provider();
        let outcome = match provider.exchange_code(h.app(), &h.code()).await {
            Ok(grant) => provider.identify(h.app(), &grant).await.map(|_| ()),
            Err(error) => Err(error),
        };
        assert!(
            matches!(
                outcome,
                Err(ProviderError::Unacceptable(_) | ProviderError::Malformed(_))
            ),
            "tenant {tenant:?} was accepted: {outcome:?}"
        );
    }
}

pub async fn notices_are_taken_only_with_the_marketplaces_credentials(h: &dyn Harness) {
    let provider = h.provider();
    let Some(good) = h.notice(NoticeCase::Good) else {
        let made_up = crate::OwnedInbound {
            method: "POST".into(),
            query: String::new(),
            headers: Vec::new(),
            body: b"{}".to_vec(),
        };
        assert_eq!(
            provider.parse_notice(h.app(), &made_up.as_inbound()),
            Err(NoticeError::NotSupported)
        );
        return;
    };
    let parsed = provider.parse_notice(h.app(), &good.as_inbound());
    let Ok(Notice::Uninstalled { marketplace_key }) = parsed else {
        panic!("a good notice was refused: {parsed:?}");
    };
    assert_eq!(marketplace_key.as_str(), h.expected_key());
    for case in [NoticeCase::BadCredentials, NoticeCase::NoCredentials] {
        let Some(notice) = h.notice(case) else {
            panic!("{case:?}: the harness builds every case once it builds a good one");
        };
        let parsed = provider.parse_notice(h.app(), &notice.as_inbound());
        assert!(
            matches!(parsed, Err(NoticeError::Unauthenticated { .. })),
            "{case:?}: {parsed:?}"
        );
    }
    let mut tampered = good.clone();
    tampered.body = b"not the notice".to_vec();
    assert!(
        matches!(
            provider.parse_notice(h.app(), &tampered.as_inbound()),
            Err(NoticeError::Malformed(_) | NoticeError::Unauthenticated { .. })
        ),
        "a changed body is not taken"
    );
}

pub async fn the_install_route_may_be_framed_by_the_marketplace_only(h: &dyn Harness) {
    let origins = h.provider().frame_ancestors(h.app());
    assert_eq!(origins, h.expected_frame_origins());
    for origin in &origins {
        assert!(
            origin.starts_with("https://") && !origin.contains('*') && !origin.ends_with('/'),
            "{origin}: an https origin without wildcard or path"
        );
    }
}

pub async fn no_secret_shows_in_an_error_or_a_debug_output(h: &dyn Harness) {
    let provider = h.provider();
    let code = h.code();
    let mut shown = vec![format!("{:?}", h.app()), format!("{code:?}")];
    h.fail_next(Failure::InvalidGrant);
    if let Err(error) = provider.exchange_code(h.app(), &code).await {
        shown.push(format!("{error} {error:?}"));
    }
    let grant = exchanged(h).await;
    shown.push(format!("{:?}", grant.tokens));
    let refused = provider
        .refresh(
            h.app(),
            &installgate_core::RefreshToken::new("not-a-known-refresh-token"),
        )
        .await;
    shown.push(format!("{refused:?}"));
    let mut secrets = h.secrets();
    secrets.push(code.expose().to_owned());
    secrets.push(grant.tokens.access_token.expose().to_owned());
    if let Some(refresh) = &grant.tokens.refresh_token {
        secrets.push(refresh.expose().to_owned());
    }
    for text in &shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret shows in: {text}");
        }
    }
}
