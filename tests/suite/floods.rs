//! Floods of anonymous requests against a gateway on the memory backend: the records they create
//! (parked requests, install states) have spaces of their own, so they cannot push out the ones
//! whose loss would open a door (revoked sessions), and a full space refuses with 503.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use installgate_tests::{Browser, hidden_input, spawn_app};
use reqwest::StatusCode;

use crate::{hubspot, pipedrive};

const REQUESTS: u32 = 150_000;
const AT_ONCE: usize = 32;
/// `state.memory_max_entries`'s default: each kind of record may hold this many.
const ROOM: u32 = 100_000;

/// Sends `REQUESTS` anonymous `step=authorize` requests (each parks the request while a
/// sign-in would happen), `AT_ONCE` at a time; counts the answers by status.
async fn flood(base: &str, path: &str) -> BTreeMap<u16, u32> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(AT_ONCE)
        .build()
        .unwrap();
    let next = Arc::new(AtomicU32::new(0));
    let mut workers = Vec::new();
    for _ in 0..AT_ONCE {
        let (client, next, url) = (client.clone(), next.clone(), format!("{base}{path}"));
        workers.push(tokio::spawn(async move {
            let mut counts = BTreeMap::<u16, u32>::new();
            while next.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                let response = client.get(&url).send().await.unwrap();
                let status = response.status();
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    assert!(response.headers().contains_key("retry-after"));
                }
                *counts.entry(status.as_u16()).or_default() += 1;
            }
            counts
        }));
    }
    let mut counts = BTreeMap::new();
    for worker in workers {
        for (status, n) in worker.await.unwrap() {
            *counts.entry(status).or_default() += n;
        }
    }
    counts
}

/// 150,000 anonymous authorize requests (rate limit off)
/// used to evict the record that keeps a signed-out cookie signed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_installs_neither_revives_a_signed_out_cookie_nor_evicts_records() {
    let setup = hubspot::setup(&[]).await;
    let app = &setup.app;
    assert!(matches!(
        app.settings.state.backend,
        installgate_server::settings::StateBackend::Memory {
            max_entries: 100_000
        }
    ));

    let victim = pipedrive::signed_in_browser(app, "victim@example.com").await;
    assert_eq!(victim.get("/account/").await.status(), StatusCode::OK);
    let saved = victim.session_cookie().expect("a session cookie");
    let page = victim.get("/account/").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let signed_out = victim
        .post("/account/sign-out", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(signed_out.status(), StatusCode::OK);

    // A parked install from before the flood must still resume after it.
    let early = Browser::new(app);
    let parked = early
        .get(&hubspot::authorize_path("crm", hubspot::RETURN_URL))
        .await;
    assert_eq!(parked.status(), StatusCode::SEE_OTHER);

    let counts = flood(
        &app.address,
        &hubspot::authorize_path("crm", hubspot::RETURN_URL),
    )
    .await;
    eprintln!("answers to {REQUESTS} anonymous authorize requests: {counts:?}");
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        vec![303, 503],
        "parked, or refused for want of room: {counts:?}"
    );
    // The one parked before the flood holds a place too.
    assert_eq!(counts[&303], ROOM - 1, "{counts:?}");

    let replayed = Browser::new(app);
    replayed.set_session_cookie(Some(saved));
    let account_page = replayed.get("/account/").await;
    assert_ne!(
        account_page.status(),
        StatusCode::OK,
        "the cookie saved before sign-out signs in again"
    );

    // The install parked before the flood resumes once its browser signs up.
    let resumed = hubspot::sign_up_through(
        &early,
        &installgate_tests::location(&parked),
        "early@example.com",
    )
    .await;
    assert_eq!(resumed.status(), StatusCode::SEE_OTHER);
    let parked_target = installgate_tests::location(&resumed);
    assert!(
        parked_target.starts_with("/install/hubspot/crm?step=authorize"),
        "the parked authorize request resumes: {parked_target}"
    );
    let back = early.get(&parked_target).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    assert!(
        installgate_tests::location(&back).starts_with(&format!("{}&state=", hubspot::RETURN_URL)),
        "{}",
        installgate_tests::location(&back)
    );
}

/// Signs in from `browser` with `email` and `password`; the answer's status.
async fn sign_in(browser: &Browser, email: &str, password: &str) -> StatusCode {
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post(
            "/account/sign-in",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
        .status()
}

/// One client tries many emails: once over its own limit it opens no window for another email,
/// so it cannot fill the throttle's space and lock everyone else out of signing in.
#[tokio::test]
async fn one_client_trying_many_emails_cannot_fill_the_throttle_space() {
    let app = spawn_app(&[("INSTALLGATE__STATE__MEMORY_MAX_ENTRIES", "30")]).await;
    let loopback = |n: u8| std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, n));
    let owner = Browser::from_address(&app, loopback(9));
    let page = owner.get("/account/sign-up").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let signed_up = owner
        .post(
            "/account/sign-up",
            &[
                ("email", "owner@example.com"),
                ("password", pipedrive::PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);

    let attacker = Browser::from_address(&app, loopback(2));
    let mut answers = BTreeMap::<u16, u32>::new();
    for n in 0..40 {
        let status = sign_in(&attacker, &format!("guess{n}@example.com"), "wrong").await;
        *answers.entry(status.as_u16()).or_default() += 1;
    }
    // The default limit is 20 failures per address: refused with 401, then 429.
    assert_eq!(answers.get(&401), Some(&20), "{answers:?}");
    assert_eq!(answers.get(&429), Some(&20), "{answers:?}");

    let returning = Browser::from_address(&app, loopback(3));
    assert_eq!(
        sign_in(&returning, "owner@example.com", pipedrive::PASSWORD).await,
        StatusCode::SEE_OTHER,
        "the owner signs in from another address"
    );
}
