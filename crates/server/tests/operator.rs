//! The operator commands `installgate vault rotate`, `installgate events list|retry` and
//! `installgate admin …`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use installgate_core::{
    AccessToken, AppId, Clock as _, ConnectionStatus, ConnectionVault as _, Event, EventKind,
    MarketplaceKey, NewInstall, ProviderId, SystemClock, TokenSet,
};
use installgate_store::{Database, Keyring, Outbox, SqlVault};

const OLD: &str = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS0=";
const NEW: &str = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleS0=";

async fn database(dir: &Path) -> Database {
    common::sqlite_database(dir).await
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = common::installgate(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn vault_rotate_moves_rows_to_the_active_key_and_reports_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let old_key: [u8; 32] = base64_32(OLD);
    let keyring = Keyring::new(Some("old"), [("old".to_owned(), old_key)]).unwrap();
    let vault = SqlVault::new(db.clone(), Arc::new(keyring), Arc::new(SystemClock));
    vault
        .upsert_install(
            NewInstall {
                app: AppId::parse("demo").unwrap(),
                provider: ProviderId::parse("hubspot").unwrap(),
                marketplace_key: MarketplaceKey::parse("42").unwrap(),
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

    // Only the new key configured: the row under "old" is reported, not lost.
    let new_only = [
        ("INSTALLGATE__VAULT__ACTIVE_KEY", "new"),
        ("INSTALLGATE__VAULT__KEYS__NEW", NEW),
    ];
    let (code, out) = run(dir.path(), &["vault", "rotate"], &new_only);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("left 1 connection(s) under key \"old\""),
        "{out}"
    );

    let both = [
        ("INSTALLGATE__VAULT__ACTIVE_KEY", "new"),
        ("INSTALLGATE__VAULT__KEYS__NEW", NEW),
        ("INSTALLGATE__VAULT__KEYS__OLD", OLD),
    ];
    let (code, out) = run(dir.path(), &["vault", "rotate", "--batch-size", "1"], &both);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("re-encrypted 1 connection(s)"), "{out}");
    let (code, out) = run(dir.path(), &["vault", "rotate"], &new_only);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("re-encrypted 0 connection(s)"), "{out}");
}

fn base64_32(text: &str) -> [u8; 32] {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    bytes.try_into().unwrap()
}

#[tokio::test]
async fn events_list_shows_failed_events_and_retry_queues_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path()).await;
    let vault = SqlVault::new(
        db.clone(),
        Arc::new(Keyring::default()),
        Arc::new(SystemClock),
    );
    let event = Event::without_connection(
        EventKind::InstallationCancelled,
        AppId::parse("demo").unwrap(),
        ProviderId::parse("pipedrive").unwrap(),
        SystemClock.now(),
    );
    let id = event.id.clone();
    vault.publish(event).await.unwrap();
    let outbox = Outbox::new(db.clone());
    let claimed = outbox
        .claim(
            "operator-test",
            SystemClock.now(),
            Duration::from_secs(30),
            1,
        )
        .await
        .unwrap();
    outbox
        .give_up(
            claimed[0].seq,
            "operator-test",
            SystemClock.now(),
            "the receiver answered 500",
        )
        .await
        .unwrap();

    let (code, out) = run(dir.path(), &["events", "list", "--failed"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&id) && out.contains("failed") && out.contains("answered 500"),
        "{out}"
    );

    let (code, out) = run(dir.path(), &["events", "retry", &id], &[]);
    assert_eq!(code, 0, "{out}");
    let record = outbox.find(&id).await.unwrap().unwrap();
    assert!(record.failed_at.is_none() && record.attempts == 0);

    let (code, out) = run(dir.path(), &["events", "retry", &id], &[]);
    assert_eq!(code, 1, "a pending event is not retried: {out}");
    let (code, out) = run(dir.path(), &["events", "retry", "evt_unknown"], &[]);
    assert_eq!(code, 1, "{out}");
}

#[tokio::test]
async fn accounts_create_reads_the_password_from_standard_input() {
    use std::io::Write as _;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let create = |email: &str, password: &str| {
        let mut child = common::installgate(dir.path())
            .args(["accounts", "create", "--email", email])
            .env("INSTALLGATE__ACCOUNTS__ARGON2_MEMORY_KIB", "1024")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    };
    let (code, out) = create("Ops@Example.com", "a long enough password");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("created account") && out.contains("ops@example.com"),
        "{out}"
    );
    assert!(!out.contains("a long enough password"));
    let (code, out) = create("ops@example.com", "another long password");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("exists already"), "{out}");
    let (code, out) = create("new@example.com", "short");
    assert_eq!(code, 1, "{out}");

    let db = database(dir.path()).await;
    let Database::Sqlite(pool, _) = &db else {
        unreachable!()
    };
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM accounts WHERE email = 'ops@example.com'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

/// `installgate admin create` (password from standard input), `list`, `audit`, `overview` and
/// `remove`, and `events retry --app` for every failed event of an app.
#[tokio::test]
async fn admin_commands_manage_operators_and_print_the_audit_log_and_the_overview() {
    use std::io::Write as _;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let create = |email: &str, role: &str, password: &str| {
        let mut child = common::installgate(dir.path())
            .args(["admin", "create", "--email", email, "--role", role])
            .env("INSTALLGATE__ACCOUNTS__ARGON2_MEMORY_KIB", "1024")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    };
    let (code, out) = create("Lead@Example.com", "operator", "operator password 1");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("created operator lead@example.com"), "{out}");
    assert!(!out.contains("operator password 1"), "{out}");
    let (code, out) = create("lead@example.com", "viewer", "operator password 2");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("exists already"), "{out}");
    let (code, out) = create("short@example.com", "viewer", "short");
    assert_eq!(code, 1, "{out}");
    let (code, out) = run(
        dir.path(),
        &[
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--role",
            "admin",
        ],
        &[],
    );
    assert_eq!(code, 2, "an unknown role is a usage error: {out}");

    let (code, out) = run(dir.path(), &["admin", "list"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("lead@example.com") && out.contains("no second factor yet"),
        "{out}"
    );
    assert!(!out.contains("short@example.com"), "{out}");

    let db = database(dir.path()).await;
    installgate_store::AuditLog::new(db.clone())
        .record(
            installgate_store::NewAuditEntry {
                actor: "lead@example.com",
                action: "connection.disconnect",
                target: "0190-connection",
                outcome: "ok",
                client: "10.0.0.7",
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    let (code, out) = run(dir.path(), &["admin", "audit"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("connection.disconnect") && out.contains("10.0.0.7"),
        "{out}"
    );

    let (code, out) = run(
        dir.path(),
        &["admin", "overview", "--window", "week"],
        &[
            ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
            ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("the last week:") && out.contains("crm (pipedrive): started 0, completed 0"),
        "{out}"
    );

    let (code, out) = run(
        dir.path(),
        &["admin", "remove", "--email", "lead@example.com"],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        dir.path(),
        &["admin", "remove", "--email", "lead@example.com"],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    let (_, out) = run(dir.path(), &["admin", "list"], &[]);
    assert!(!out.contains("lead@example.com"), "{out}");
}
