//! Configuration: layering, unknown keys, and every problem reported with its key path.

use std::path::{Path, PathBuf};

use installgate_server::settings::{self, Problems, Sources, StateBackend};
use installgate_store::{RedisOptions, RedisTarget};
use installgate_tests::test_sources;
use secrecy::ExposeSecret as _;

const GOOD_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load_file(text: &str, vars: &[(&str, &str)]) -> Result<settings::Settings, Problems> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "test.toml", text);
    let sources = Sources {
        file: Some(file),
        ..test_sources(vars)
    };
    settings::load(&sources)
}

fn problems(text: &str) -> Problems {
    load_file(text, &[]).expect_err("the configuration should be refused")
}

#[test]
fn the_embedded_defaults_are_valid() {
    let settings = settings::load(&Sources::defaults_only()).unwrap();
    assert!(matches!(
        settings.state.backend,
        StateBackend::Memory { .. }
    ));
    assert_eq!(settings.server.bind.to_string(), "127.0.0.1:8080");
    assert!(settings.apps.is_empty());
}

#[test]
fn a_typo_in_a_key_is_reported_with_its_path() {
    let found = problems(
        r#"
        [server]
        publik_url = "https://install.example.com"

        [apps.demo]
        provider = "hubspot"
        client_id = "id"
        client_secret = "secret"
        scope = ["oauth"]
        "#,
    );
    assert!(found.mentions("server.publik_url"), "{found}");
    assert!(found.mentions("apps.demo.scope"), "{found}");
    assert!(found.to_string().contains("server.publik_url: unknown key"));
}

#[test]
fn a_missing_client_secret_is_reported_with_its_path() {
    let found = problems(
        r#"
        [apps.crm]
        provider = "pipedrive"
        client_id = "abc"
        "#,
    );
    assert!(found.mentions("apps.crm.client_secret"), "{found}");
    assert!(
        found
            .to_string()
            .contains("apps.crm.client_secret: is missing")
    );
}

#[test]
fn unparsable_urls_are_reported_with_their_paths() {
    let found = problems(
        r#"
        [server]
        public_url = "install.example.com"

        [database]
        url = "mysql://localhost/x"

        [apps.crm]
        provider = "hubspot"
        client_id = "abc"
        client_secret = "s"
        token_url = "http//broken"
        setup_url = "ftp://example.com/setup"
        "#,
    );
    for path in [
        "server.public_url",
        "database.url",
        "apps.crm.token_url",
        "apps.crm.setup_url",
    ] {
        assert!(found.mentions(path), "{path} missing from:\n{found}");
    }
}

#[test]
fn frame_ancestors_are_bare_web_origins() {
    let app = |origins: &str| {
        format!(
            r#"
            [apps.crm]
            provider = "hubspot"
            client_id = "abc"
            client_secret = "s"
            frame_ancestors = {origins}
            "#
        )
    };
    for bad in [
        r#"["https://app.example.com/path"]"#,
        r#"["https://user@app.example.com"]"#,
        r#"["javascript:alert(1)"]"#,
        r#"["*"]"#,
        r#"["https://ok.example", "app.example.com"]"#,
    ] {
        let found = problems(&app(bad));
        assert!(
            found.mentions("apps.crm.frame_ancestors"),
            "{bad}: not reported in\n{found}"
        );
    }
    let settings = load_file(
        &app(r#"["https://app.example.com", "http://localhost:8082/"]"#),
        &[],
    )
    .unwrap_or_else(|problems| panic!("{problems}"));
    let crm = settings.apps.values().next().unwrap();
    assert_eq!(
        crm.frame_ancestors.as_deref(),
        Some(
            &[
                "https://app.example.com".to_owned(),
                "http://localhost:8082".to_owned()
            ][..]
        )
    );
}

#[test]
fn vault_keys_must_be_32_bytes_of_base64() {
    let found = problems(&format!(
        r#"
        [vault]
        active_key = "good"
        [vault.keys]
        good = "{GOOD_KEY}"
        short = "c2hvcnQ="
        garbage = "not base64 at all!"
        "#
    ));
    assert!(found.mentions("vault.keys.short"), "{found}");
    assert!(found.mentions("vault.keys.garbage"), "{found}");
    assert!(!found.mentions("vault.keys.good"), "{found}");
    assert!(found.to_string().contains("decodes to 5 bytes"));
}

#[test]
fn the_active_vault_key_must_exist() {
    let found = problems(&format!(
        "[vault]\nactive_key = \"missing\"\n[vault.keys]\nk1 = \"{GOOD_KEY}\"\n"
    ));
    assert!(found.mentions("vault.active_key"), "{found}");
}

#[test]
fn a_refresh_lock_shorter_than_a_provider_call_is_refused() {
    let found = problems("[providers]\ntimeout_ms = 5000\n[tokens]\nlock_ttl_ms = 4000\n");
    assert!(found.mentions("tokens.lock_ttl_ms"), "{found}");
    assert!(
        found.to_string().contains("providers.timeout_ms"),
        "{found}"
    );
    let found = problems("[tokens]\nbackground_rate_per_second = 0\n");
    assert!(
        found.mentions("tokens.background_rate_per_second"),
        "{found}"
    );
}

#[test]
fn the_sqlite_sync_mode_is_full_unless_normal_is_asked_for() {
    let defaults = settings::load(&Sources::defaults_only()).unwrap();
    assert!(defaults.database.sqlite_sync_each_commit);
    let normal = load_file("[database]\nsqlite_synchronous = \"normal\"\n", &[]).unwrap();
    assert!(!normal.database.sqlite_sync_each_commit);
    let found = problems("[database]\nsqlite_synchronous = \"off\"\n");
    assert!(found.mentions("database.sqlite_synchronous"), "{found}");
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let found = problems(
        r#"
        [server]
        public_url = "::"
        bind = "localhost"
        colour = "blue"

        [state]
        backend = "redis"

        [vault]
        active_key = "k1"
        [vault.keys]
        k1 = "AAAA"

        [apps.one]
        provider = "salesforce"
        client_id = ""
        "#,
    );
    for path in [
        "server.public_url",
        "server.bind",
        "server.colour",
        "state.redis_url",
        "vault.keys.k1",
        "apps.one.provider",
        "apps.one.client_id",
        "apps.one.client_secret",
    ] {
        assert!(found.mentions(path), "{path} missing from:\n{found}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_reported_with_its_path() {
    let found = problems("[server]\nworkers = \"many\"\n");
    assert!(found.mentions("server.workers"), "{found}");
}

#[test]
fn environment_variables_override_files_and_are_checked_too() {
    let settings = load_file(
        "[state]\nbackend = \"memory\"\n",
        &[
            ("INSTALLGATE__STATE__BACKEND", "redis"),
            ("INSTALLGATE__STATE__REDIS_URL", "redis://127.0.0.1:6390"),
            ("INSTALLGATE__STATE__COMMAND_TIMEOUT_MS", "250"),
            (
                "INSTALLGATE__SESSION__KEY",
                installgate_tests::TEST_SESSION_KEY,
            ),
        ],
    )
    .unwrap();
    match settings.state.backend {
        StateBackend::Redis(options) => {
            assert_eq!(options.command_timeout.as_millis(), 250);
        }
        other => panic!("expected redis, got {other:?}"),
    }
    let found = settings::load(&test_sources(&[("INSTALLGATE__SERVER__PORTT", "1")])).unwrap_err();
    assert!(found.mentions("server.portt"), "{found}");
}

#[test]
fn the_environment_file_is_layered_from_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "staging.toml", "[log]\nformat = \"json\"\n");
    let sources = Sources {
        config_dir: dir.path().to_owned(),
        environment: Some("staging".into()),
        ..test_sources(&[])
    };
    let settings = settings::load(&sources).unwrap();
    assert_eq!(settings.log.format, settings::LogFormat::Json);

    let missing = Sources {
        environment: Some("nowhere".into()),
        ..sources
    };
    assert!(settings::load(&missing).is_err());
}

#[test]
fn the_production_example_is_valid_once_its_secrets_are_given() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/production.toml");
    let with_secrets = [
        (
            "INSTALLGATE__DATABASE__URL",
            "postgres://installgate:pw@db.internal/installgate",
        ),
        (
            "INSTALLGATE__STATE__REDIS_URL",
            "redis://:pw@redis.internal:6379",
        ),
        ("INSTALLGATE__VAULT__KEYS__K2024", GOOD_KEY),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
        ("INSTALLGATE__APPS__CRM_HUBSPOT__CLIENT_SECRET", "hs-secret"),
        (
            "INSTALLGATE__APPS__CRM_PIPEDRIVE__CLIENT_SECRET",
            "pd-secret",
        ),
    ];
    let sources = Sources {
        file: Some(example.clone()),
        ..test_sources(&with_secrets)
    };
    let settings = settings::load(&sources).unwrap();
    assert_eq!(settings.apps.len(), 2);

    let without = Sources {
        file: Some(example),
        ..test_sources(&[])
    };
    let found = settings::load(&without).unwrap_err();
    assert!(found.mentions("apps.crm_hubspot.client_secret"), "{found}");
    assert!(found.mentions("state.redis_url"), "{found}");
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let settings = load_file(
        &format!(
            r#"
            [vault]
            active_key = "k1"
            [vault.keys]
            k1 = "{GOOD_KEY}"
            [apps.demo]
            provider = "hubspot"
            client_id = "public-id"
            client_secret = "very-secret-value"
            "#
        ),
        &[(
            "INSTALLGATE__DATABASE__URL",
            "postgres://u:db-password@localhost/x",
        )],
    )
    .unwrap();
    let shown = format!("{settings:?}");
    assert!(shown.contains("public-id"));
    for secret in ["very-secret-value", "db-password", GOOD_KEY] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
}

#[test]
fn app_flags_come_from_environment_variables() {
    let settings = settings::load(&test_sources(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ("INSTALLGATE__APPS__CRM__PARTNER_SIGN_IN", "true"),
        ("INSTALLGATE__APPS__CRM__ALLOW_LOOPBACK_RETURN_URLS", "true"),
    ]))
    .unwrap();
    let app = settings.apps.values().next().unwrap();
    assert!(app.partner_sign_in);
    assert!(app.allow_loopback_return_urls);
}

fn redis_problems(vars: &[(&str, &str)]) -> Problems {
    let mut all = vec![
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ];
    all.extend_from_slice(vars);
    settings::load(&test_sources(&all)).expect_err("the configuration should be refused")
}

#[test]
fn a_redis_cluster_is_given_by_its_seed_nodes_as_a_list_or_with_commas() {
    let settings = settings::load(&test_sources(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        (
            "INSTALLGATE__STATE__REDIS_CLUSTER_URLS",
            "redis://:cluster-secret@10.0.0.1:7000, redis://:cluster-secret@10.0.0.2:7000,",
        ),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ]))
    .unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("cluster-secret"), "the password leaked");
    match settings.state.backend {
        StateBackend::Redis(options) => match options.target {
            RedisTarget::Cluster(seeds) => {
                let seeds: Vec<&str> = seeds.iter().map(|seed| seed.expose_secret()).collect();
                assert_eq!(
                    seeds,
                    [
                        "redis://:cluster-secret@10.0.0.1:7000",
                        "redis://:cluster-secret@10.0.0.2:7000"
                    ]
                );
            }
            RedisTarget::Node(_) => panic!("expected a cluster"),
        },
        other => panic!("expected redis, got {other:?}"),
    }

    let settings = load_file(
        r#"
        [state]
        backend = "redis"
        redis_cluster_urls = ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001/"]
        "#,
        &[(
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        )],
    )
    .unwrap();
    assert!(matches!(
        settings.state.backend,
        StateBackend::Redis(RedisOptions {
            target: RedisTarget::Cluster(ref seeds),
            ..
        }) if seeds.len() == 2
    ));

    // An empty list is no cluster: one node's URL is then what counts.
    let settings = load_file(
        "[state]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\nredis_cluster_urls = []\n",
        &[(
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        )],
    )
    .unwrap();
    assert!(matches!(
        settings.state.backend,
        StateBackend::Redis(RedisOptions {
            target: RedisTarget::Node(_),
            ..
        })
    ));
}

#[test]
fn the_redis_backend_needs_one_node_or_a_cluster_but_not_both() {
    let both = redis_problems(&[
        ("INSTALLGATE__STATE__REDIS_URL", "redis://127.0.0.1:6379"),
        (
            "INSTALLGATE__STATE__REDIS_CLUSTER_URLS",
            "redis://127.0.0.1:7000",
        ),
    ]);
    assert!(both.mentions("state.redis_cluster_urls"), "{both}");
    assert!(!both.mentions("state.redis_url"), "{both}");

    let neither = redis_problems(&[]);
    assert!(neither.mentions("state.redis_url"), "{neither}");
    assert!(
        neither.to_string().contains("state.redis_cluster_urls"),
        "the problem names both keys: {neither}"
    );
    let blank = redis_problems(&[("INSTALLGATE__STATE__REDIS_CLUSTER_URLS", " , ")]);
    assert!(blank.mentions("state.redis_url"), "{blank}");

    // With the memory backend neither is needed.
    let settings = settings::load(&test_sources(&[(
        "INSTALLGATE__STATE__REDIS_CLUSTER_URLS",
        "redis://127.0.0.1:7000",
    )]))
    .unwrap();
    assert!(matches!(
        settings.state.backend,
        StateBackend::Memory { .. }
    ));
}

#[test]
fn cluster_seed_nodes_are_checked_without_showing_them() {
    for seeds in [
        "https://127.0.0.1:7000",
        "redis://127.0.0.1:7000,not a url",
        "redis://127.0.0.1:7000/2",
        "redis://:cluster-secret@127.0.0.1:7000,redis://:other-secret@127.0.0.1:7001",
        "redis://:cluster-secret@127.0.0.1:7000,rediss://:cluster-secret@127.0.0.1:7001",
    ] {
        let found = redis_problems(&[("INSTALLGATE__STATE__REDIS_CLUSTER_URLS", seeds)]);
        assert!(
            found.mentions("state.redis_cluster_urls"),
            "{seeds}: {found}"
        );
        let shown = found.to_string();
        assert!(
            !shown.contains("secret") && !shown.contains("127.0.0.1"),
            "a seed was shown: {shown}"
        );
    }
}

#[test]
fn session_copies_last_at_most_thirty_seconds() {
    let settings = settings::load(&Sources::defaults_only()).unwrap();
    assert_eq!(settings.session.cache_for.as_secs(), 10, "the default");
    let off = load_file("[session]\ncache_seconds = 0\n", &[]).unwrap();
    assert!(off.session.cache_for.is_zero(), "0 turns the copies off");
    let found = problems("[session]\ncache_seconds = 31\n");
    assert!(found.mentions("session.cache_seconds"), "{found}");
    let found = problems("[session]\ncache_seconds = -1\n");
    assert!(found.mentions("session.cache_seconds"), "{found}");
}

#[test]
fn an_ipv6_client_is_a_network_of_48_to_128_bits() {
    let settings = settings::load(&Sources::defaults_only()).unwrap();
    assert_eq!(settings.clients.ipv6_prefix_length, 64, "the default");
    let single = load_file("[clients]\nipv6_prefix_length = 128\n", &[]).unwrap();
    assert_eq!(single.clients.ipv6_prefix_length, 128);
    for bad in ["47", "129", "-1"] {
        let found = problems(&format!("[clients]\nipv6_prefix_length = {bad}\n"));
        assert!(
            found.mentions("clients.ipv6_prefix_length"),
            "{bad}: {found}"
        );
    }
}

#[test]
fn password_hashing_and_forced_refresh_limits_are_checked_with_their_paths() {
    let settings = settings::load(&Sources::defaults_only()).unwrap();
    assert_eq!(settings.accounts.max_concurrent_hashes, 0, "one per worker");
    assert_eq!(settings.accounts.hash_queue_wait.as_millis(), 2000);
    assert_eq!(settings.tokens.force_refresh_window.as_millis(), 5000);
    let found = problems(
        "[accounts]\nmax_concurrent_hashes = 257\nhash_queue_length = 10001\n\
         hash_queue_wait_ms = 0\n[tokens]\nforce_refresh_window_ms = 60001\n",
    );
    for path in [
        "accounts.max_concurrent_hashes",
        "accounts.hash_queue_length",
        "accounts.hash_queue_wait_ms",
        "tokens.force_refresh_window_ms",
    ] {
        assert!(found.mentions(path), "{path}: {found}");
    }
}
