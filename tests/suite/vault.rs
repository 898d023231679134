//! The connection-vault suite, run on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use installgate_core::{
    AccessToken, AccountId, AppId, ConnectionStatus, ConnectionVault, EventKind, MarketplaceKey,
    NewInstall, ProviderId, RefreshToken, Timestamp, TokenSet, TokenSwap, VaultError,
};
use installgate_store::{Database, Outbox, rotate_keys};
use installgate_tests::TestDatabase;

const KEYS: &[(&str, u8)] = &[("k1", 1)];

fn install(key: &str, access: &str, refresh: &str) -> NewInstall {
    NewInstall {
        app: AppId::parse("demo").unwrap(),
        provider: ProviderId::parse("pipedrive").unwrap(),
        marketplace_key: MarketplaceKey::parse(key).unwrap(),
        account: None,
        status: ConnectionStatus::Pending,
        scopes: vec!["deals:full".into(), "users:read".into()],
        metadata: BTreeMap::from([("api_domain".into(), "https://acme.pipedrive.com".into())]),
        workspace: None,
        tokens: TokenSet {
            access_token: AccessToken::new(access),
            refresh_token: Some(RefreshToken::new(refresh)),
            expires_at: Some(Timestamp::from_millis(1_900_000_000_000)),
        },
    }
}

on_both_engines!(
    an_install_round_trips_its_tokens,
    a_reinstall_updates_the_same_connection,
    concurrent_first_installs_make_one_connection,
    concurrent_installs_of_many_keys_each_store_their_own_tokens_and_event,
    an_install_the_database_refuses_fails_alone,
    an_insert_of_new_installs_leaves_existing_connections_alone,
    attaching_makes_a_connection_active_for_its_account,
    uninstalling_deletes_the_tokens_and_a_reinstall_reactivates,
    token_swaps_compare_revisions,
    a_refused_grant_revokes_only_unchanged_tokens,
    a_disconnect_keeps_sealed_tokens_only_until_the_revoke_is_settled,
    expiring_lists_active_connections_soonest_first,
    each_change_writes_its_event_in_the_same_transaction,
    token_values_never_reach_the_database_in_plaintext,
    a_ciphertext_moved_to_another_row_does_not_decrypt,
    rotation_re_encrypts_every_row_and_reports_unknown_keys,
);

async fn an_install_round_trips_its_tokens(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let stored = vault
        .upsert_install(install("1:2", "access-a", "refresh-a"), None)
        .await
        .unwrap();
    let read = vault.get(stored.id).await.unwrap().unwrap();
    assert_eq!(read, stored);
    let tokens = read.tokens.unwrap();
    assert_eq!(tokens.access_token.expose(), "access-a");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "refresh-a");
    assert_eq!(
        tokens.expires_at,
        Some(Timestamp::from_millis(1_900_000_000_000))
    );
    assert_eq!(read.status, ConnectionStatus::Pending);
    assert_eq!(read.metadata["api_domain"], "https://acme.pipedrive.com");
    assert_eq!(read.scopes, vec!["deals:full", "users:read"]);
    assert!(
        vault
            .get(installgate_core::ConnectionId::generate())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_reinstall_updates_the_same_connection(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let first = vault
        .upsert_install(install("1:2", "access-a", "refresh-a"), None)
        .await
        .unwrap();
    let mut again = install("1:2", "access-b", "refresh-b");
    again.status = ConnectionStatus::Active;
    let second = vault.upsert_install(again, None).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.revision, first.revision + 1);
    assert_eq!(second.status, ConnectionStatus::Active);
    assert_eq!(second.tokens.unwrap().access_token.expose(), "access-b");
    // Another user of the same company is another connection.
    let other = vault
        .upsert_install(install("1:3", "access-c", "refresh-c"), None)
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
}

async fn concurrent_first_installs_make_one_connection(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let installs: Vec<_> = (0..20)
        .map(|n| {
            let vault = vault.clone();
            tokio::spawn(async move {
                vault
                    .upsert_install(install("7:7", &format!("access-{n}"), "r"), None)
                    .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in installs {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

/// Installs at once over 150 keys, 50 of them twice: each call gets back its own key's
/// connection with its own tokens, each key has one connection, and each call wrote one event.
async fn concurrent_installs_of_many_keys_each_store_their_own_tokens_and_event(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let calls: Vec<_> = (0..200)
        .map(|n| {
            let vault = vault.clone();
            let key = format!("9:{}", n % 150);
            let access = format!("access-{n}");
            tokio::spawn(async move {
                let connection = vault
                    .upsert_install(
                        install(&key, &access, "r"),
                        Some(EventKind::InstallationCompleted),
                    )
                    .await
                    .unwrap();
                (key, access, connection)
            })
        })
        .collect();
    let mut ids = BTreeMap::new();
    for call in calls {
        let (key, access, connection) = call.await.unwrap();
        assert_eq!(connection.marketplace_key.as_str(), key);
        assert_eq!(connection.tokens.unwrap().access_token.expose(), access);
        assert_eq!(*ids.entry(key).or_insert(connection.id), connection.id);
    }
    assert_eq!(ids.len(), 150);
    let (rows, events) = rows_and_events(&db).await;
    assert_eq!(rows, 150);
    assert_eq!(events.len(), 200);
    for (key, id) in &ids {
        let stored = vault.get(*id).await.unwrap().unwrap();
        assert_eq!(stored.marketplace_key.as_str(), key);
        let expected = if key.trim_start_matches("9:").parse::<u32>().unwrap() < 50 {
            2
        } else {
            1
        };
        let about = events
            .iter()
            .filter(|e| e.ordering_key == id.to_string())
            .count();
        assert_eq!(about, expected, "events about {key}");
    }
}

/// The database refuses one install of many made at once (a trigger): that call fails, with
/// nothing of it stored, and every other install is written with its event.
async fn an_install_the_database_refuses_fails_alone(db: TestDatabase) {
    match &db.database {
        Database::Sqlite(pool, _) => {
            sqlx::query(
                "CREATE TRIGGER refuse_bad BEFORE INSERT ON connections \
                 WHEN NEW.marketplace_key = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .execute(pool)
            .await
            .unwrap();
        }
        Database::Postgres(pool) => {
            sqlx::query(
                "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN IF NEW.marketplace_key = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$",
            )
            .execute(pool)
            .await
            .unwrap();
            sqlx::query(
                "CREATE TRIGGER refuse_bad BEFORE INSERT ON connections \
                 FOR EACH ROW EXECUTE FUNCTION refuse_bad()",
            )
            .execute(pool)
            .await
            .unwrap();
        }
    }
    let vault = db.vault("k1", KEYS);
    let calls: Vec<_> = (0..40)
        .map(|n| {
            let vault = vault.clone();
            let key = if n == 20 {
                "bad".to_owned()
            } else {
                format!("5:{n}")
            };
            tokio::spawn(async move {
                let result = vault
                    .upsert_install(
                        install(&key, "a", "r"),
                        Some(EventKind::InstallationCompleted),
                    )
                    .await;
                (key, result)
            })
        })
        .collect();
    for call in calls {
        match call.await.unwrap() {
            (key, Err(error)) => {
                assert_eq!(key, "bad");
                assert!(matches!(error, VaultError::Unavailable(_)), "{error:?}");
            }
            (key, Ok(connection)) => assert_eq!(connection.marketplace_key.as_str(), key),
        }
    }
    let (rows, events) = rows_and_events(&db).await;
    assert_eq!(rows, 39);
    assert_eq!(events.len(), 39);
}

/// `insert_install` writes a key's first install only: 20 at once of one key make one
/// connection and one event, and a later one changes nothing.
async fn an_insert_of_new_installs_leaves_existing_connections_alone(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let calls: Vec<_> = (0..20)
        .map(|n| {
            let vault = vault.clone();
            tokio::spawn(async move {
                vault
                    .insert_install(
                        install("3:3", &format!("access-{n}"), "r"),
                        Some(EventKind::InstallationCompleted),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut inserted = Vec::new();
    for call in calls {
        inserted.extend(call.await.unwrap().connection());
    }
    assert_eq!(inserted.len(), 1, "one of the 20 was written");
    let first = &inserted[0];
    let again = vault
        .insert_install(
            install("3:3", "access-later", "r"),
            Some(EventKind::InstallationCompleted),
        )
        .await
        .unwrap();
    assert!(again.connection().is_none());
    let stored = vault.get(first.id).await.unwrap().unwrap();
    assert_eq!(&stored, first);
    let (rows, events) = rows_and_events(&db).await;
    assert_eq!((rows, events.len()), (1, 1));
}

/// How many connections are stored, and the events written.
async fn rows_and_events(db: &TestDatabase) -> (i64, Vec<installgate_store::EventRecord>) {
    let (rows,): (i64,) = on_database(&db.database, "SELECT COUNT(*) FROM connections").await;
    let events = Outbox::new(db.database.clone())
        .list(false, 1000)
        .await
        .unwrap();
    (rows, events)
}

async fn attaching_makes_a_connection_active_for_its_account(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let pending = vault
        .upsert_install(install("1:2", "a", "r"), None)
        .await
        .unwrap();
    let account = AccountId::parse("user-42").unwrap();
    let attached = vault
        .attach(
            pending.id,
            &account,
            None,
            Some(EventKind::InstallationCompleted),
        )
        .await
        .unwrap();
    assert_eq!(attached.status, ConnectionStatus::Active);
    assert_eq!(attached.account.as_ref(), Some(&account));
    let listed = vault.list_by_account(&account).await.unwrap();
    assert_eq!(listed.len(), 1);
    let found = vault
        .find_by_key(&pending.app, &pending.provider, &pending.marketplace_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, pending.id);
    let missing = vault
        .attach(
            installgate_core::ConnectionId::generate(),
            &account,
            None,
            None,
        )
        .await;
    assert!(matches!(missing, Err(VaultError::NotFound)));
}

async fn uninstalling_deletes_the_tokens_and_a_reinstall_reactivates(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let connection = vault
        .upsert_install(install("1:2", "a", "r"), None)
        .await
        .unwrap();
    let gone = vault
        .set_status(
            connection.id,
            ConnectionStatus::Uninstalled,
            Some(EventKind::InstallationUninstalled),
        )
        .await
        .unwrap();
    assert_eq!(gone.status, ConnectionStatus::Uninstalled);
    assert!(gone.tokens.is_none());
    let (nulls,): (i64,) = on_database(&db.database, "SELECT COUNT(*) FROM connections WHERE access_token IS NULL AND refresh_token IS NULL AND token_key_id IS NULL").await;
    assert_eq!(nulls, 1);
    // Attaching an uninstalled connection is refused.
    let account = AccountId::parse("user-1").unwrap();
    assert!(
        vault
            .attach(connection.id, &account, None, None)
            .await
            .is_err()
    );

    let mut again = install("1:2", "a2", "r2");
    again.status = ConnectionStatus::Active;
    let back = vault.upsert_install(again, None).await.unwrap();
    assert_eq!(back.id, connection.id);
    assert_eq!(back.status, ConnectionStatus::Active);
    assert!(back.tokens.is_some());
}

async fn token_swaps_compare_revisions(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let connection = vault
        .upsert_install(install("1:2", "a", "r"), None)
        .await
        .unwrap();
    let fresh = TokenSet {
        access_token: AccessToken::new("a-new"),
        refresh_token: Some(RefreshToken::new("r-new")),
        expires_at: None,
    };
    let swapped = vault
        .swap_tokens(connection.id, connection.revision, fresh.clone(), None)
        .await
        .unwrap();
    let TokenSwap::Swapped(after) = swapped else {
        panic!("the first swap should win");
    };
    assert_eq!(after.revision, connection.revision + 1);
    assert_eq!(after.tokens.as_ref(), Some(&fresh));
    // A second swap based on the old revision lost the race and sees the winner's tokens.
    let late = TokenSet {
        access_token: AccessToken::new("a-late"),
        refresh_token: None,
        expires_at: None,
    };
    match vault
        .swap_tokens(connection.id, connection.revision, late, None)
        .await
        .unwrap()
    {
        TokenSwap::Stale(current) => assert_eq!(current.tokens, Some(fresh)),
        TokenSwap::Swapped(_) => panic!("a stale revision must not swap"),
    }
}

async fn a_refused_grant_revokes_only_unchanged_tokens(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let connection = vault
        .upsert_install(install("1:2", "a", "r"), None)
        .await
        .unwrap();
    let renewed = TokenSet {
        access_token: AccessToken::new("a2"),
        refresh_token: Some(RefreshToken::new("r2")),
        expires_at: None,
    };
    vault
        .swap_tokens(connection.id, connection.revision, renewed, None)
        .await
        .unwrap();
    // Someone refreshed since `connection.revision` was read: a lost race, nothing revoked.
    let lost = vault
        .revoke_unchanged(connection.id, connection.revision)
        .await
        .unwrap();
    assert!(lost.is_none());
    let current = vault.get(connection.id).await.unwrap().unwrap();
    assert_eq!(current.status, ConnectionStatus::Pending);
    let revoked = vault
        .revoke_unchanged(connection.id, current.revision)
        .await
        .unwrap()
        .expect("unchanged tokens are revoked");
    assert_eq!(revoked.status, ConnectionStatus::Revoked);
    assert!(revoked.tokens.is_none());
    let outbox = Outbox::new(db.database.clone());
    let events = outbox.list(false, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "connection.revoked");
}

async fn a_disconnect_keeps_sealed_tokens_only_until_the_revoke_is_settled(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let kept = vault
        .upsert_install(install("1:2", "a", "r"), None)
        .await
        .unwrap();
    let dropped = vault
        .upsert_install(install("1:3", "b", "s"), None)
        .await
        .unwrap();
    let now = Timestamp::from_millis(1_800_000_000_000);
    let later = now.plus(std::time::Duration::from_secs(60));
    let uninstalled = vault
        .uninstall(kept.id, Some(later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(uninstalled.status, ConnectionStatus::Uninstalled);
    assert!(uninstalled.tokens.is_some(), "kept for the retried revoke");
    let gone = vault.uninstall(dropped.id, None).await.unwrap().unwrap();
    assert!(gone.tokens.is_none());
    assert!(
        vault.uninstall(dropped.id, None).await.unwrap().is_none(),
        "once only"
    );
    assert!(vault.revocations_due(now, 10).await.unwrap().is_empty());
    let due = vault.revocations_due(later, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, kept.id);
    let retry = later.plus(std::time::Duration::from_secs(60));
    vault.settle_revocation(kept.id, Some(retry)).await.unwrap();
    assert!(vault.revocations_due(later, 10).await.unwrap().is_empty());
    vault.settle_revocation(kept.id, None).await.unwrap();
    assert!(vault.revocations_due(retry, 10).await.unwrap().is_empty());
    assert!(vault.get(kept.id).await.unwrap().unwrap().tokens.is_none());
    // A reinstall after a pending revoke clears it and holds the new tokens.
    let reinstalled = vault
        .upsert_install(install("1:5", "c", "t"), None)
        .await
        .unwrap();
    vault.uninstall(reinstalled.id, Some(later)).await.unwrap();
    let mut again = install("1:5", "c2", "t2");
    again.status = ConnectionStatus::Active;
    vault.upsert_install(again, None).await.unwrap();
    assert!(vault.revocations_due(retry, 10).await.unwrap().is_empty());
    let outbox = Outbox::new(db.database.clone());
    let uninstalls = outbox
        .list(false, 10)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.event_type == "installation.uninstalled")
        .count();
    assert_eq!(uninstalls, 3);
}

async fn expiring_lists_active_connections_soonest_first(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let at = |seconds: i64| Timestamp::from_millis(1_800_000_000_000 + seconds * 1000);
    for (key, expires, status) in [
        ("1:1", 300, ConnectionStatus::Active),
        ("1:2", 100, ConnectionStatus::Active),
        ("1:3", 50, ConnectionStatus::Pending),
        ("1:4", 5000, ConnectionStatus::Active),
    ] {
        let mut new = install(key, "a", "r");
        new.status = status;
        new.tokens.expires_at = Some(at(expires));
        vault.upsert_install(new, None).await.unwrap();
    }
    let due = vault.expiring(at(1000), 10).await.unwrap();
    let keys: Vec<&str> = due.iter().map(|c| c.marketplace_key.as_str()).collect();
    assert_eq!(keys, ["1:2", "1:1"]);
    assert!(
        due.iter().all(|c| c.tokens.is_none()),
        "listed without tokens"
    );
}

async fn each_change_writes_its_event_in_the_same_transaction(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let connection = vault
        .upsert_install(install("1:2", "secret-access", "secret-refresh"), None)
        .await
        .unwrap();
    let account = AccountId::parse("acct").unwrap();
    vault
        .attach(
            connection.id,
            &account,
            None,
            Some(EventKind::InstallationCompleted),
        )
        .await
        .unwrap();
    vault
        .set_status(
            connection.id,
            ConnectionStatus::Revoked,
            Some(EventKind::ConnectionRevoked),
        )
        .await
        .unwrap();
    let outbox = Outbox::new(db.database.clone());
    let events = outbox.list(false, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().rev().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["installation.completed", "connection.revoked"]);
    assert!(
        events
            .iter()
            .all(|e| e.ordering_key == connection.id.to_string())
    );

    let (payload,): (String,) = on_database(
        &db.database,
        "SELECT payload FROM events ORDER BY seq LIMIT 1",
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(json["type"], "installation.completed");
    assert_eq!(json["data"]["connection_id"], connection.id.to_string());
    assert_eq!(json["data"]["account"], "acct");
    assert_eq!(json["data"]["status"], "active");
    assert!(!payload.contains("secret-access") && !payload.contains("secret-refresh"));

    // A change that fails writes no event: attaching an unknown connection.
    let before = outbox.list(false, 100).await.unwrap().len();
    let _ = vault
        .attach(
            installgate_core::ConnectionId::generate(),
            &account,
            None,
            Some(EventKind::ConnectionClaimed),
        )
        .await;
    assert_eq!(outbox.list(false, 100).await.unwrap().len(), before);
}

async fn token_values_never_reach_the_database_in_plaintext(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let secrets = ["plain-access-token-3f9a1c", "plain-refresh-token-77be20"];
    for n in 0..5 {
        vault
            .upsert_install(
                install(&format!("9:{n}"), secrets[0], secrets[1]),
                Some(EventKind::InstallationCompleted),
            )
            .await
            .unwrap();
    }
    match &db.sqlite_dir {
        Some(dir) => {
            // The database file and its write-ahead log, byte for byte.
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                for secret in secrets {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{secret} found in a database file"
                    );
                }
            }
            // And the file does hold the rows: the marketplace key is there in clear.
            let main = std::fs::read(dir.path().join("gateway.db")).unwrap();
            let wal = std::fs::read(dir.path().join("gateway.db-wal")).unwrap_or_default();
            let all = [main, wal].concat();
            assert!(all.windows(3).any(|w| w == b"9:4"));
        }
        None => {
            let Database::Postgres(pool) = &db.database else {
                unreachable!()
            };
            for table in ["connections", "events"] {
                let rows: Vec<(String,)> =
                    sqlx::query_as(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                assert!(!rows.is_empty());
                for (row,) in rows {
                    for secret in secrets {
                        assert!(!row.contains(secret), "{secret} found in {table}");
                    }
                    // bytea is shown as hex; look for the hex of each secret too.
                    for secret in secrets {
                        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
                        assert!(!row.contains(&hex), "{secret} found as hex in {table}");
                    }
                }
            }
        }
    }
}

async fn a_ciphertext_moved_to_another_row_does_not_decrypt(db: TestDatabase) {
    let vault = db.vault("k1", KEYS);
    let a = vault
        .upsert_install(install("1:1", "token-a", "r-a"), None)
        .await
        .unwrap();
    let b = vault
        .upsert_install(install("1:2", "token-b", "r-b"), None)
        .await
        .unwrap();
    let copy = "UPDATE connections SET access_token = \
        (SELECT access_token FROM connections WHERE id = $1) WHERE id = $2";
    match &db.database {
        Database::Sqlite(pool, _) => {
            sqlx::query(copy)
                .bind(a.id.to_string())
                .bind(b.id.to_string())
                .execute(pool)
                .await
                .unwrap();
        }
        Database::Postgres(pool) => {
            sqlx::query(copy)
                .bind(a.id.to_string())
                .bind(b.id.to_string())
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let error = vault.get(b.id).await.unwrap_err();
    assert!(matches!(error, VaultError::Undecryptable { connection, .. } if connection == b.id));
    let message = error.to_string();
    assert!(
        message.contains(&b.id.to_string()) && message.contains("cannot be decrypted"),
        "{message}"
    );
    assert!(!message.contains("token-a"));
    // The row it came from is untouched.
    assert!(vault.get(a.id).await.unwrap().is_some());
}

async fn rotation_re_encrypts_every_row_and_reports_unknown_keys(db: TestDatabase) {
    let old = db.vault("old", &[("old", 1)]);
    let mut ids = Vec::new();
    for n in 0..25 {
        let connection = old
            .upsert_install(
                install(
                    &format!("5:{n}"),
                    &format!("access-{n}"),
                    &format!("refresh-{n}"),
                ),
                None,
            )
            .await
            .unwrap();
        ids.push(connection.id);
    }
    // Two rows under a key that the new configuration no longer has.
    let lost = db.vault("lost", &[("lost", 9)]);
    for n in 0..2 {
        lost.upsert_install(install(&format!("6:{n}"), "x", "y"), None)
            .await
            .unwrap();
    }

    let rotated = db.vault("new", &[("old", 1), ("new", 2)]);
    let report = rotate_keys(&rotated, 10).await.unwrap();
    assert_eq!(report.rotated, 25);
    assert_eq!(
        report.unknown_keys,
        BTreeMap::from([("lost".to_owned(), 2)])
    );
    assert!(report.undecryptable.is_empty());

    // Every row is now under the new key, and only the new key is needed to read it.
    let new_only = db.vault("new", &[("new", 2)]);
    for (n, id) in ids.iter().enumerate() {
        let connection = new_only.get(*id).await.unwrap().unwrap();
        assert_eq!(
            connection.tokens.unwrap().access_token.expose(),
            format!("access-{n}")
        );
    }
    let (under_new,): (i64,) = on_database(
        &db.database,
        "SELECT COUNT(*) FROM connections WHERE token_key_id = 'new'",
    )
    .await;
    assert_eq!(under_new, 25);
    let (under_lost,): (i64,) = on_database(
        &db.database,
        "SELECT COUNT(*) FROM connections WHERE token_key_id = 'lost'",
    )
    .await;
    assert_eq!(under_lost, 2, "rows under an unknown key are kept");

    // Running it again (after an interruption, say) has nothing left to do.
    let again = rotate_keys(&rotated, 10).await.unwrap();
    assert_eq!(again.rotated, 0);
}

/// Runs a one-row query on whichever engine `database` is.
async fn on_database<T>(database: &Database, sql: &str) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match database {
        Database::Sqlite(pool, _) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
    }
}
