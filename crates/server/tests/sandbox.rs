//! `installgate sandbox` as a person runs it: one command starts the gateway, the simulated
//! marketplaces and the sandbox page; an install made through the simulated HubSpot shows up on
//! that page with its webhook event; SIGTERM stops it all. Once on the embedded defaults, once on
//! Redis and PostgreSQL.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Running, free_port, installgate, terminate, wait_for_200};
use installgate_tests::FreshPostgres;

/// A base port whose next four ports were free a moment ago too.
fn five_free_ports() -> u16 {
    for _ in 0..50 {
        let base = free_port();
        let free = (1..5).all(|offset| {
            base.checked_add(offset)
                .is_some_and(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        });
        if free {
            return base;
        }
    }
    panic!("no five free consecutive ports");
}

/// A running sandbox, its data directory's parent, and every console line it printed after
/// the banner.
struct Started {
    running: Running,
    dir: tempfile::TempDir,
    later_lines: Arc<Mutex<Vec<String>>>,
}

/// Starts `installgate sandbox --port base` with `extra` arguments and waits for the banner's
/// last line; standard error goes to the same console as standard output.
async fn start(base: u16, extra: &[&str]) -> Started {
    let dir = tempfile::tempdir().unwrap();
    let child = installgate(dir.path())
        .arg("sandbox")
        .arg("--port")
        .arg(base.to_string())
        .arg("--data-dir")
        .arg(dir.path().join("sandbox"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    // Read every line, so that the sandbox never writes into a closed pipe; hand over those up
    // to the banner's last one, and keep the rest.
    let stdout = running.0.stdout.take().unwrap();
    let stderr = running.0.stderr.take().unwrap();
    let later_lines = Arc::new(Mutex::new(Vec::new()));
    let (first_lines, lines) = tokio::sync::oneshot::channel();
    let later = later_lines.clone();
    std::thread::spawn(move || {
        let mut first_lines = Some(first_lines);
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if first_lines.is_none() {
                later.lock().unwrap().push(line);
                continue;
            }
            let done = line.trim() == "Ctrl-C stops it.";
            seen.push(line);
            if done && let Some(sender) = first_lines.take() {
                let _ = sender.send(std::mem::take(&mut seen));
            }
        }
    });
    let later = later_lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            later.lock().unwrap().push(line);
        }
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .expect("the sandbox printed its banner")
        .expect("the sandbox printed its banner before it exited");
    let open = format!("Open http://127.0.0.1:{base} to try the installs.");
    assert!(lines.iter().any(|line| line.trim() == open), "{lines:?}");
    let log = dir.path().join("sandbox/sandbox.log");
    assert!(
        lines
            .iter()
            .any(|line| line.trim() == format!("log                {}", log.display())),
        "the banner names the log file: {lines:?}"
    );
    if !extra.contains(&"--verbose") {
        assert!(
            lines.iter().all(|line| !line.contains(" INFO ")),
            "only the banner before it: {lines:?}"
        );
    }
    Started {
        running,
        dir,
        later_lines,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name="…" value="…"` or `src="…"` read out of the HTML, unescaped.
fn attribute(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

/// The simulated HubSpot's pages are named `localhost`; the test reaches them on `127.0.0.1`.
fn on_loopback(url: &str) -> String {
    url.replacen("//localhost:", "//127.0.0.1:", 1)
}

async fn page(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// What the Install button of the app without partner sign-in leads to, clicked through.
async fn install_from_the_simulated_hubspot(base: u16) {
    let client = client();
    let hubspot = format!("http://127.0.0.1:{}", base + 2);
    let started = client
        .get(format!("{hubspot}/marketplace/sandbox-hubspot_oauth"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), reqwest::StatusCode::FOUND);
    let consent = on_loopback(started.headers()["location"].to_str().unwrap());
    let dialog = page(&client, &consent).await;
    let flow = attribute(&dialog, "name=\"flow\" value=\"");
    let connecting = page(
        &client,
        format!(
            "{hubspot}/marketplace/sandbox-hubspot_oauth/connect?flow={flow}&hub_id=777&agree=yes"
        ),
    )
    .await;
    let finalize = attribute(&connecting, "src=\"");
    assert!(
        finalize.starts_with(&format!(
            "http://127.0.0.1:{}/install/hubspot/hubspot_oauth?",
            base + 1
        )),
        "{finalize}"
    );
    let finalized = client.get(&finalize).send().await.unwrap();
    assert_eq!(finalized.status(), reqwest::StatusCode::FOUND);
    let done = on_loopback(finalized.headers()["location"].to_str().unwrap());
    let landing = page(&client, &done).await;
    assert!(landing.contains("Installed"), "{landing}");
}

/// Polls the sandbox page until it shows what the install left.
async fn wait_for_the_install_on_the_sandbox_page(base: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = wait_for_200(&format!("http://127.0.0.1:{base}/"))
            .await
            .text()
            .await
            .unwrap();
        if page.contains("installation.completed") {
            return page;
        }
        assert!(Instant::now() < deadline, "no event on the page:\n{page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn readiness(base: u16) -> String {
    wait_for_200(&format!("http://127.0.0.1:{}/readyz", base + 1))
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sandbox_runs_every_part_on_the_embedded_defaults_and_stops_on_sigterm() {
    let base = five_free_ports();
    let Started {
        mut running,
        dir,
        later_lines,
    } = start(base, &[]).await;
    let page = wait_for_200(&format!("http://127.0.0.1:{base}/"))
        .await
        .text()
        .await
        .unwrap();
    for app in [
        "hubspot_signin",
        "hubspot_oauth",
        "pipedrive_crm",
        "pipedrive_leads",
    ] {
        assert!(
            page.contains(&format!("data-app=\"{app}\"")),
            "{app}: {page}"
        );
    }
    assert!(page.contains("None yet."), "{page}");
    let ready = readiness(base).await;
    assert!(
        ready.contains("\"memory\"") && ready.contains("\"sqlite\""),
        "{ready}"
    );
    // The generated configuration is kept, readable by its owner only.
    let config = dir.path().join("sandbox/sandbox.toml");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&config).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "{mode:o}");

    install_from_the_simulated_hubspot(base).await;
    let page = wait_for_the_install_on_the_sandbox_page(base).await;
    assert!(page.contains("<td>hubspot 777</td>"), "{page}");
    assert!(
        page.contains(">valid<"),
        "the webhook signature checks out: {page}"
    );

    assert!(terminate(&mut running.0).await.success());
    // A whole install went by, and the console stayed quiet; the log file has it all.
    let console = later_lines.lock().unwrap().clone();
    assert!(
        console.iter().all(|line| !line.contains(" INFO ")),
        "the console shows warnings only: {console:?}"
    );
    let log = std::fs::read_to_string(dir.path().join("sandbox/sandbox.log")).unwrap();
    assert!(
        log.contains(" INFO ") && log.contains("request completed"),
        "the log file has the whole log: {log}"
    );
    assert!(!log.contains('\u{1b}'), "no colour codes in the file");
}

#[tokio::test]
async fn the_sandbox_shows_its_whole_log_on_the_console_when_verbose() {
    let base = five_free_ports();
    let Started {
        mut running,
        later_lines,
        ..
    } = start(base, &["--verbose"]).await;
    // The gateway's health check: a request the gateway logs at INFO.
    wait_for_200(&format!("http://127.0.0.1:{}/healthz", base + 1)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let console = later_lines.lock().unwrap().clone();
        if console
            .iter()
            .any(|line| line.contains("request completed"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{console:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(terminate(&mut running.0).await.success());
}

#[tokio::test]
async fn the_sandbox_runs_on_redis_and_postgres_when_asked() {
    let postgres = FreshPostgres::create().await;
    let redis = installgate_tests::redis_url();
    let base = five_free_ports();
    let Started { mut running, .. } =
        start(base, &["--redis", &redis, "--database", postgres.url()]).await;
    let ready = readiness(base).await;
    assert!(
        ready.contains("\"redis\"") && ready.contains("\"postgres\""),
        "{ready}"
    );
    install_from_the_simulated_hubspot(base).await;
    let page = wait_for_the_install_on_the_sandbox_page(base).await;
    assert!(page.contains("<td>hubspot 777</td>"), "{page}");
    assert!(terminate(&mut running.0).await.success());

    // The connection is in PostgreSQL, where it outlives the sandbox.
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(postgres.url())
        .await
        .unwrap();
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM connections WHERE app = 'hubspot_oauth'")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn the_sandbox_says_clearly_when_its_ports_are_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = installgate(dir.path())
        .arg("sandbox")
        .arg("--port")
        .arg(base.to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the sandbox could not start") && stderr.contains(&base.to_string()),
        "{stderr}"
    );
}
