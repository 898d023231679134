//! What the operator console keeps and reads, run on SQLite and on PostgreSQL: operators and
//! their second factor, console sessions, the audit log, the funnel's counts, the overview's
//! reads of events and connections, and the event searches and retries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use installgate_core::{
    AccessToken, AppId, Clock as _, ConnectionStatus, ConnectionVault as _, Email, Event,
    EventKind, MarketplaceKey, NewInstall, ProviderId, SystemClock, Timestamp, TokenSet,
};
use installgate_store::{
    ActivityCount, ActivityCounts, AuditLog, EventFilter, EventState, Keyring, NewAuditEntry,
    OperatorError, OperatorRole, OperatorSessions, Operators, Outbox, Overview,
};
use installgate_tests::TestDatabase;

fn operators(db: &TestDatabase) -> Operators {
    let keyring = Keyring::new(Some("k1"), [("k1".to_owned(), [1u8; 32])]).unwrap();
    Operators::new(
        db.database.clone(),
        Arc::new(keyring),
        Arc::new(SystemClock),
    )
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

on_both_engines!(
    operators_enrol_once_take_each_step_once_and_keep_the_provider_off_password_operators,
    console_sessions_end_when_deleted_and_stay_ended,
    the_audit_log_and_the_funnel_counts_add_up,
    the_overview_reads_events_connections_and_deliveries_by_app,
);

async fn operators_enrol_once_take_each_step_once_and_keep_the_provider_off_password_operators(
    db: TestDatabase,
) {
    let operators = operators(&db);
    let ops = operators
        .create(
            &email("ops@example.com"),
            OperatorRole::Operator,
            Some("$argon2id$hash"),
        )
        .await
        .unwrap();
    assert!(matches!(
        operators
            .create(&email("ops@example.com"), OperatorRole::Viewer, None)
            .await,
        Err(OperatorError::EmailTaken)
    ));
    // A secret being enrolled opens only for its operator.
    let sealed = operators
        .seal_pending(&ops.id, b"0123456789abcdefghij")
        .unwrap();
    assert_eq!(
        operators.open_pending(&ops.id, &sealed).unwrap(),
        b"0123456789abcdefghij"
    );
    assert!(operators.open_pending("op_other", &sealed).is_err());
    assert!(operators.totp_secret(&ops.id).await.unwrap().is_none());
    let digests = vec!["d1".to_owned(), "d2".to_owned()];
    assert!(
        operators
            .finish_enrolment(&ops.id, b"0123456789abcdefghij", 100, &digests)
            .await
            .unwrap()
    );
    assert!(
        !operators
            .finish_enrolment(&ops.id, b"another secret 12345", 101, &digests)
            .await
            .unwrap()
    );
    assert_eq!(
        operators.totp_secret(&ops.id).await.unwrap().unwrap(),
        b"0123456789abcdefghij"
    );
    assert!(operators.get(&ops.id).await.unwrap().unwrap().totp_enrolled);
    // `vault rotate` re-seals it under the new active key; the old key can then go.
    let rotating = Operators::new(
        db.database.clone(),
        Arc::new(
            Keyring::new(
                Some("k2"),
                [("k1".to_owned(), [1u8; 32]), ("k2".to_owned(), [2u8; 32])],
            )
            .unwrap(),
        ),
        Arc::new(SystemClock),
    );
    let report = rotating.rotate_secrets().await.unwrap();
    assert_eq!((report.rotated, report.undecryptable.len()), (1, 0));
    assert_eq!(rotating.rotate_secrets().await.unwrap().rotated, 0);
    let new_only = Operators::new(
        db.database.clone(),
        Arc::new(Keyring::new(Some("k3"), [("k3".to_owned(), [3u8; 32])]).unwrap()),
        Arc::new(SystemClock),
    );
    assert_eq!(
        new_only.rotate_secrets().await.unwrap().unknown_keys["k2"],
        1,
        "a secret under a key that is gone is reported, and left"
    );
    let k2_only = Operators::new(
        db.database.clone(),
        Arc::new(Keyring::new(Some("k2"), [("k2".to_owned(), [2u8; 32])]).unwrap()),
        Arc::new(SystemClock),
    );
    assert_eq!(
        k2_only.totp_secret(&ops.id).await.unwrap().unwrap(),
        b"0123456789abcdefghij"
    );
    // Steps: each once, never an earlier one.
    assert!(!operators.take_step(&ops.id, 100).await.unwrap());
    assert!(operators.take_step(&ops.id, 102).await.unwrap());
    assert!(!operators.take_step(&ops.id, 101).await.unwrap());
    // Recovery codes: each once.
    assert_eq!(operators.recovery_codes_left(&ops.id).await.unwrap(), 2);
    assert!(operators.use_recovery_code(&ops.id, "d1").await.unwrap());
    assert!(!operators.use_recovery_code(&ops.id, "d1").await.unwrap());
    assert_eq!(operators.recovery_codes_left(&ops.id).await.unwrap(), 1);
    // The identity provider makes and updates its own operators, never a password operator.
    let lead = operators
        .from_identity_provider(&email("lead@example.com"), OperatorRole::Viewer)
        .await
        .unwrap();
    let again = operators
        .from_identity_provider(&email("lead@example.com"), OperatorRole::Operator)
        .await
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.role),
        (lead.id.as_str(), OperatorRole::Operator)
    );
    assert!(matches!(
        operators
            .from_identity_provider(&email("ops@example.com"), OperatorRole::Viewer)
            .await,
        Err(OperatorError::PasswordOperator)
    ));
    let kept = operators
        .by_email(&email("ops@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.operator.role, OperatorRole::Operator);
    assert_eq!(operators.list().await.unwrap().len(), 2);
    assert!(operators.remove(&email("ops@example.com")).await.unwrap());
    assert!(!operators.remove(&email("ops@example.com")).await.unwrap());
    assert!(operators.get(&ops.id).await.unwrap().is_none());
}

async fn console_sessions_end_when_deleted_and_stay_ended(db: TestDatabase) {
    let sessions = OperatorSessions::new(db.database.clone());
    let now = SystemClock.now();
    let later = now.plus(Duration::from_secs(60));
    sessions.save("h1", "{\"a\":\"1\"}", later).await.unwrap();
    assert_eq!(
        sessions.load("h1", now).await.unwrap().as_deref(),
        Some("{\"a\":\"1\"}")
    );
    assert!(
        sessions
            .replace("h1", "{\"a\":\"2\"}", later)
            .await
            .unwrap()
    );
    assert_eq!(
        sessions.load("h1", now).await.unwrap().as_deref(),
        Some("{\"a\":\"2\"}")
    );
    // Expired: not loaded, and swept.
    assert!(sessions.load("h1", later).await.unwrap().is_none());
    sessions.delete("h1").await.unwrap();
    assert!(
        !sessions.replace("h1", "{}", later).await.unwrap(),
        "an ended session stays ended"
    );
    assert!(sessions.load("h1", now).await.unwrap().is_none());
    sessions
        .save("h2", "{}", now.plus(Duration::from_millis(1)))
        .await
        .unwrap();
    sessions.extend("h2", later).await.unwrap();
    assert!(
        sessions
            .load("h2", now.plus(Duration::from_secs(1)))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        sessions
            .delete_expired(later.plus(Duration::from_secs(1)))
            .await
            .unwrap(),
        1
    );
}

async fn the_audit_log_and_the_funnel_counts_add_up(db: TestDatabase) {
    let audit = AuditLog::new(db.database.clone());
    let now = SystemClock.now();
    for (index, action) in ["sign_in", "connection.disconnect"].iter().enumerate() {
        let long = "x".repeat(300);
        let entry = NewAuditEntry {
            actor: "ops@example.com",
            action,
            target: if index == 0 { "" } else { &long },
            outcome: "ok",
            client: "10.0.0.1",
        };
        audit.record(entry, now).await.unwrap();
    }
    let entries = audit.list(10).await.unwrap();
    assert_eq!(entries[0].action, "connection.disconnect", "newest first");
    assert_eq!(entries[0].target.chars().count(), 200, "cut, not refused");

    let counts = ActivityCounts::new(db.database.clone());
    let count = |step: &str, reason: &str, n: i64| ActivityCount {
        app: "crm".into(),
        provider: "pipedrive".into(),
        step: step.into(),
        reason: reason.into(),
        count: n,
    };
    // Two replicas' flushes in the same minute add up; an older minute falls out of the window.
    counts
        .add(&[count("started", "", 3), count("failed", "state", 1)], now)
        .await
        .unwrap();
    counts
        .add(&[count("started", "", 2), count("failed", "state", 2)], now)
        .await
        .unwrap();
    counts
        .add(
            &[count("started", "", 50)],
            Timestamp::from_millis(now.as_millis() - 7_200_000),
        )
        .await
        .unwrap();
    let hour_ago = Timestamp::from_millis(now.as_millis() - 3_600_000);
    let totals: BTreeMap<(String, String), i64> = counts
        .since(hour_ago)
        .await
        .unwrap()
        .into_iter()
        .map(|count| ((count.step, count.reason), count.count))
        .collect();
    assert_eq!(totals[&("started".to_owned(), String::new())], 5);
    assert_eq!(totals[&("failed".to_owned(), "state".to_owned())], 3);
    let minutes = counts.per_minute("crm", "failed", hour_ago).await.unwrap();
    assert_eq!(minutes.iter().map(|(_, n)| n).sum::<i64>(), 3);
}

async fn the_overview_reads_events_connections_and_deliveries_by_app(db: TestDatabase) {
    let vault = db.vault("k1", &[("k1", 1)]);
    let mut ids = Vec::new();
    for (app, key) in [("crm", "1"), ("crm", "2"), ("leads", "3")] {
        let connection = vault
            .upsert_install(
                NewInstall {
                    app: AppId::parse(app).unwrap(),
                    provider: ProviderId::parse("pipedrive").unwrap(),
                    marketplace_key: MarketplaceKey::parse(key).unwrap(),
                    account: None,
                    status: ConnectionStatus::Active,
                    scopes: vec![],
                    metadata: BTreeMap::new(),
                    workspace: None,
                    tokens: TokenSet {
                        access_token: AccessToken::new("a"),
                        refresh_token: None,
                        expires_at: None,
                    },
                },
                None,
            )
            .await
            .unwrap();
        vault
            .publish(Event::about(
                EventKind::InstallationCompleted,
                &connection,
                SystemClock.now(),
            ))
            .await
            .unwrap();
        ids.push(connection);
    }
    vault
        .publish(Event::about(
            EventKind::InstallationCancelled,
            &ids[0],
            SystemClock.now(),
        ))
        .await
        .unwrap();
    let now = SystemClock.now();
    let overview = Overview::new(db.database.clone());
    let events: BTreeMap<(String, String), i64> = overview
        .events_since(Timestamp::from_millis(now.as_millis() - 60_000))
        .await
        .unwrap()
        .into_iter()
        .map(|tally| ((tally.app, tally.name), tally.count))
        .collect();
    assert_eq!(
        events[&("crm".to_owned(), "installation.completed".to_owned())],
        2
    );
    assert_eq!(
        events[&("crm".to_owned(), "installation.cancelled".to_owned())],
        1
    );
    assert_eq!(
        events[&("leads".to_owned(), "installation.completed".to_owned())],
        1
    );
    let series = overview
        .event_series(
            "crm",
            "installation.completed",
            Timestamp::from_millis(now.as_millis() - 60_000),
            300_000,
        )
        .await
        .unwrap();
    assert_eq!(series.iter().map(|(_, n)| n).sum::<i64>(), 2);
    assert!(series.iter().all(|(start, _)| start % 300_000 == 0));
    let statuses = overview.connection_statuses().await.unwrap();
    assert_eq!(
        statuses
            .iter()
            .find(|tally| tally.app == "crm")
            .map(|tally| (tally.name.as_str(), tally.count)),
        Some(("active", 2))
    );

    // Deliveries: one of crm's events given up, then searched and requeued by app.
    let outbox = Outbox::new(db.database.clone());
    let claimed = outbox
        .claim("w", now, Duration::from_secs(30), 10)
        .await
        .unwrap();
    let crm_event = claimed
        .iter()
        .find(|event| event.payload.contains(&ids[0].id.to_string()))
        .unwrap();
    outbox
        .give_up(crm_event.seq, "w", now, "the receiver answered 500")
        .await
        .unwrap();
    let deliveries: BTreeMap<(String, String), i64> = overview
        .deliveries()
        .await
        .unwrap()
        .into_iter()
        .map(|tally| ((tally.app, tally.name), tally.count))
        .collect();
    assert_eq!(deliveries[&("crm".to_owned(), "failed".to_owned())], 1);
    let search = |state: Option<EventState>, app: Option<&str>, connection: Option<String>| {
        let filter = EventFilter {
            state,
            app: app.map(str::to_owned),
            connection,
        };
        let outbox = outbox.clone();
        async move { outbox.search(&filter, 50).await.unwrap() }
    };
    assert_eq!(
        search(Some(EventState::Failed), Some("crm"), None)
            .await
            .len(),
        1
    );
    assert_eq!(
        search(Some(EventState::Failed), Some("leads"), None)
            .await
            .len(),
        0
    );
    assert_eq!(
        search(Some(EventState::Troubled), None, None).await.len(),
        1
    );
    assert_eq!(
        search(None, Some("crm"), Some(ids[0].id.to_string()))
            .await
            .len(),
        2
    );
    assert_eq!(search(None, None, None).await.len(), 4);
    let later = now.plus(Duration::from_secs(5));
    assert_eq!(
        outbox.requeue_failed_of_app("leads", later).await.unwrap(),
        0
    );
    assert_eq!(outbox.requeue_failed_of_app("crm", later).await.unwrap(), 1);
    let record = outbox.find(&crm_event.id).await.unwrap().unwrap();
    assert_eq!(
        record.created_at, crm_event.created_at,
        "written when it was"
    );
    assert!(record.failed_at.is_none() && record.last_error.is_none());
    // Claimed again, its give-up age counts from the requeue.
    let again = outbox
        .claim(
            "w2",
            later.plus(Duration::from_secs(60)),
            Duration::from_secs(30),
            10,
        )
        .await
        .unwrap();
    let requeued = again.iter().find(|event| event.id == crm_event.id).unwrap();
    assert_eq!(requeued.created_at, later.as_millis());
}
