//! The `installgate` binary as an operator runs it.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output, Stdio};

use common::{Running, free_port, installgate, terminate, wait_for_200};

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// `check-config` on a configuration file holding `text`: its exit code and standard error.
fn check_config_of(text: &str) -> (Option<i32>, String) {
    check_console_config(text, "127.0.0.1:0")
}

#[test]
fn check_config_accepts_the_defaults_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, _) = run(installgate(dir.path()).arg("check-config"));
    assert!(output.status.success());
    assert!(stdout.contains("the configuration is valid"), "{stdout}");
}

#[test]
fn check_config_lists_every_problem_with_its_key_path_and_fails() {
    let (code, stderr) = check_config_of(
        r#"
        [server]
        public_url = "not a url"
        [vault]
        active_key = "k1"
        [vault.keys]
        k1 = "dG9vIHNob3J0"
        [apps.crm]
        provider = "hubspot"
        client_id = "id"
        client_secrt = "typo"
        display_name = ""
        logo_url = "http://cdn.example/logo.png"
        accent_color = "blue"
        support_url = "ftp://example.com/help"
        "#,
    );
    assert_eq!(code, Some(2), "{stderr}");
    for line in [
        "server.public_url: is not a valid URL",
        "vault.keys.k1: must be 32 bytes of base64",
        "apps.crm.client_secrt: unknown key",
        "apps.crm.client_secret: is missing",
        "apps.crm.display_name: must be 1 to 80 characters",
        "apps.crm.logo_url: must be an absolute https URL",
        "apps.crm.accent_color: must be a hex colour",
        "apps.crm.support_url: must be an absolute http or https URL",
    ] {
        assert!(stderr.contains(line), "{line:?} missing from:\n{stderr}");
    }
}

#[test]
fn check_config_refuses_plain_http_to_a_marketplace_and_loopback_returns_in_production() {
    let (code, stderr) = check_config_of(
        r#"
        [server]
        public_url = "https://install.example.com"
        [accounts]
        mode = "external"
        [accounts.external]
        login_url = "https://app.example.com/login"
        issuer = "https://app.example.com"
        audience = "installgate"
        jwks_url = "http://app.example.com/jwks.json"
        [apps.crm]
        provider = "pipedrive"
        client_id = "id"
        client_secret = "secret"
        authorize_url = "http://oauth.pipedrive.example/oauth/authorize"
        token_url = "http://oauth.pipedrive.example/oauth/token"
        api_base_url = "http://api.pipedrive.example"
        allow_loopback_return_urls = true
        [apps.local]
        provider = "hubspot"
        client_id = "id"
        client_secret = "secret"
        token_url = "http://127.0.0.1:9000/oauth/v1/token"
        authorize_url = "http://localhost:9000/oauth/authorize"
        api_base_url = "http://[::1]:9000"
        "#,
    );
    assert_eq!(code, Some(2), "{stderr}");
    for path in [
        "accounts.external.jwks_url",
        "apps.crm.authorize_url",
        "apps.crm.token_url",
        "apps.crm.api_base_url",
    ] {
        let line = format!("{path}: must be an https URL");
        assert!(stderr.contains(&line), "{line:?} missing from:\n{stderr}");
    }
    assert!(
        stderr.contains("apps.crm.allow_loopback_return_urls: is for local development only"),
        "{stderr}"
    );
    // Loopback hosts (a simulator on this machine) stay allowed over http.
    assert!(!stderr.contains("apps.local."), "{stderr}");
}

#[test]
fn check_config_reads_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let (output, _, stderr) = run(installgate(dir.path())
        .arg("check-config")
        .env("INSTALLGATE__STATE__BACKEND", "redis"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("state.redis_url: is required"), "{stderr}");
}

#[test]
fn migrate_creates_the_sqlite_database_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = run(installgate(dir.path()).arg("migrate"));
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("up to date"));
    assert!(dir.path().join("data/installgate.db").exists());
}

#[tokio::test]
async fn serve_runs_on_the_embedded_defaults_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Only the port differs from the defaults, so that tests can run side by side.
    let child = installgate(dir.path())
        .arg("serve")
        .env("INSTALLGATE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);

    wait_for_200(&format!("http://127.0.0.1:{port}/healthz")).await;
    let ready = wait_for_200(&format!("http://127.0.0.1:{port}/readyz")).await;
    let body = ready.text().await.unwrap();
    assert!(
        body.contains("\"memory\"") && body.contains("\"sqlite\""),
        "{body}"
    );
    assert!(dir.path().join("data/installgate.db").exists());

    let status = terminate(&mut running.0).await;
    assert!(status.success());

    let mut log = String::new();
    std::io::Read::read_to_string(running.0.stdout.as_mut().unwrap(), &mut log).unwrap();
    assert!(log.contains("installgate is starting"), "{log}");
    assert!(log.contains("state_store=\"memory\""), "{log}");
    assert!(log.contains("installgate stopped"), "{log}");
}

#[test]
fn connections_import_checks_the_whole_file_then_lists_the_non_expiring_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("shop.toml");
    std::fs::write(
        &config,
        "[apps.store]\nprovider = \"shopify\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n\
         scopes = [\"read_orders\"]\n",
    )
    .unwrap();
    let import = |lines: &str| {
        let file = dir.path().join("connections.jsonl");
        std::fs::write(&file, lines).unwrap();
        run(installgate(dir.path())
            .args(["connections", "import"])
            .arg(&file)
            .arg("--config")
            .arg(&config))
    };
    let list = || {
        run(installgate(dir.path())
            .args(["connections", "list", "--non-expiring", "--config"])
            .arg(&config))
    };
    let good = r#"{"app":"store","shop":"acme.myshopify.com","access_token":"shpat_secret_one"}
{"app":"store","shop":"globex.myshopify.com","access_token":"shpat_secret_two","refresh_token":"shpr_x","expires_at":"2027-01-01T00:00:00Z"}
"#;
    let bad = format!(
        "{good}{}\n{}\n{}\n",
        r#"{"app":"store","shop":"evil.com","access_token":"shpat_secret_three"}"#,
        r#"{"app":"nope","shop":"acme.myshopify.com","access_token":"shpat_secret_four"}"#,
        r#"{"app":"store","shop":"acme.myshopify.com","access_token":"shpat_secret_five","expires_at":"soon"}"#,
    );
    let (output, _, stderr) = import(&bad);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for line in [
        "line 3: ",
        "line 4: app is not a configured app",
        "line 5: expires_at",
    ] {
        assert!(stderr.contains(line), "{line:?} in {stderr}");
    }
    assert!(stderr.contains("nothing was imported"));
    assert!(!stderr.contains("shpat_"), "no token in {stderr}");
    let (_, stdout, _) = list();
    assert!(
        !stdout.contains("myshopify.com"),
        "nothing stored: {stdout}"
    );

    let (output, stdout, stderr) = import(good);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("imported 2 connection(s)"), "{stdout}");
    let (output, stdout, _) = list();
    assert!(output.status.success());
    assert!(stdout.contains("acme.myshopify.com"), "{stdout}");
    assert!(
        !stdout.contains("globex.myshopify.com"),
        "an expiring token is not listed: {stdout}"
    );
    assert!(!stdout.contains("shpat_"));

    let (output, stdout, _) = import(good);
    assert!(output.status.success());
    assert!(stdout.contains("imported 0 connection(s)"), "{stdout}");
    assert!(stdout.contains("line 1: a connection for that account exists already"));
}

#[test]
fn check_config_names_each_wrong_install_policy_key() {
    let app = "provider = \"pipedrive\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n";
    let (code, stderr) = check_config_of(&format!(
        "[apps.a]\n{app}[apps.a.install_policy]\nsign_up = \"maybe\"\n\
         [apps.b]\n{app}[apps.b.install_policy]\nsign_up = \"off\"\n\
         [apps.c]\n{app}[apps.c.install_policy]\nsign_up = \"off\"\nget_account_url = \"pricing\"\n\
         [apps.d]\n{app}[apps.d.install_policy]\nsignup = \"off\"\n"
    ));
    assert_eq!(code, Some(2), "{stderr}");
    for line in [
        "apps.a.install_policy.sign_up: must be \"allowed\" or \"off\"",
        "apps.b.install_policy.get_account_url: is required when install_policy.sign_up is \"off\"",
        "apps.c.install_policy.get_account_url: ",
        "apps.d.install_policy.signup: unknown key",
    ] {
        assert!(stderr.contains(line), "{line:?} in {stderr}");
    }
}

#[test]
fn check_config_names_each_wrong_message_override() {
    let app = "provider = \"pipedrive\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n";
    let (code, stderr) = check_config_of(&format!(
        "[apps.a]\n{app}[apps.a.messages.de]\n\"sign-in-title\" = \"Bei {{ $app }} anmelden\"\n\
         \"no-such-message\" = \"x\"\n\"sign-out\" = \"{{ broken\"\n\
         [apps.a.messages.xx]\n\"sign-out\" = \"x\"\n"
    ));
    assert_eq!(code, Some(2), "{stderr}");
    for line in [
        "apps.a.messages.de.no-such-message: is not a message of the pages",
        "apps.a.messages.de.sign-out: is not valid Fluent",
        "apps.a.messages.xx: must be one of en, de, fr, es, pt-BR, ja",
    ] {
        assert!(stderr.contains(line), "{line:?} in {stderr}");
    }
    assert!(!stderr.contains("sign-in-title"), "{stderr}");
}

/// `check-config` with `text` as the file and the console bound to `bind` (the test processes
/// are given a console on a free loopback port otherwise).
fn check_console_config(text: &str, bind: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checked.toml");
    std::fs::write(&file, text).unwrap();
    let (output, _, stderr) = run(installgate(dir.path())
        .env("INSTALLGATE__ADMIN__BIND", bind)
        .arg("check-config")
        .arg("--config")
        .arg(&file));
    (output.status.code(), stderr)
}

#[test]
fn check_config_names_each_wrong_console_setting() {
    let (code, stderr) = check_console_config(
        r#"
        [admin.oidc]
        issuer = "http://login.example.com"
        client_id = "console"
        client_secret = ""
        groups_claim = ""
        operator_groups = ["ops"]
        "#,
        "0.0.0.0:9091",
    );
    assert_eq!(code, Some(2), "{stderr}");
    for path in [
        "admin.public_url",
        "admin.oidc.issuer",
        "admin.oidc.client_secret",
        "admin.oidc.groups_claim",
        "admin.oidc.allowed_domains",
    ] {
        assert!(stderr.contains(path), "{path} is not named: {stderr}");
    }
    let (code, stderr) = check_console_config(
        "[admin]\npublic_url = \"https://console.internal.example\"\n",
        "0.0.0.0:9091",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = check_console_config("", "127.0.0.1:8080");
    assert_eq!(code, Some(2), "the install listener's address: {stderr}");
    assert!(stderr.contains("admin.bind"), "{stderr}");
}
