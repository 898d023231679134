//! Sign-ins under a flood, as an operator would see it: four hundred wrong passwords from four
//! hundred addresses, two hundred at a time, against the real binary at the default argon2id
//! cost. Each hash holds 19 MiB while it runs, so the process's peak memory shows whether
//! hashes are bounded; every answer is a clear refusal, and a correct password still gets in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{Running, free_port, installgate, wait_for_200};
use reqwest::StatusCode;
use tokio::sync::Semaphore;

const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "the correct password";
const CLIENTS: u32 = 400;
const AT_ONCE: usize = 200;
const PEAK_LIMIT_MIB: u64 = 200;

/// A kibibyte figure of `/proc/<pid>/status` (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in the process status"))
}

fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn create_account(dir: &std::path::Path) {
    let mut child = installgate(dir)
        .args(["accounts", "create", "--email", EMAIL])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// The `n`th loopback address past 127.0.0.1: 127.0.x.y.
fn loopback(n: u32) -> IpAddr {
    let n = n + 2;
    IpAddr::V4(Ipv4Addr::new(127, 0, (n >> 8) as u8, (n & 0xff) as u8))
}

/// One browser from `address`: fetches the sign-in form (CSRF token and session cookie), then
/// posts `email` and `password`. Its status, or the transport error.
async fn sign_in(
    base: &str,
    address: IpAddr,
    email: &str,
    password: &str,
) -> Result<StatusCode, reqwest::Error> {
    let client = reqwest::Client::builder()
        .local_address(address)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let page = client
        .get(format!("{base}/account/sign-in"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = hidden_input(&page, "csrf_token").expect("a CSRF token on the form");
    let answer = client
        .post(format!("{base}/account/sign-in"))
        .header("origin", base)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await?;
    Ok(answer.status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_sign_ins_keeps_memory_bounded_and_a_correct_one_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = installgate(dir.path())
        .arg("serve")
        .env("INSTALLGATE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("INSTALLGATE__SERVER__PUBLIC_URL", &base)
        .env("INSTALLGATE__SERVER__WORKERS", "2")
        .env("INSTALLGATE__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let pid = running.0.id();
    wait_for_200(&format!("{base}/healthz")).await;
    let before_kib = status_kib(pid, "VmRSS");

    let gate = Arc::new(Semaphore::new(AT_ONCE));
    let mut wrong = Vec::new();
    for n in 0..CLIENTS {
        let gate = gate.clone();
        let base = base.clone();
        wrong.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.unwrap();
            // Unknown emails: the dummy hash, and no account's own throttle.
            let email = format!("nobody{n}@example.com");
            sign_in(&base, loopback(n), &email, "a wrong password").await
        }));
    }
    // The account's owner signs in while the flood is on, retrying when told to come back.
    let owner = tokio::spawn({
        let base = base.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut answers = Vec::new();
            for _ in 0..20 {
                let status = sign_in(&base, loopback(CLIENTS + 1), EMAIL, PASSWORD)
                    .await
                    .unwrap();
                answers.push(status);
                if status != StatusCode::SERVICE_UNAVAILABLE {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            answers
        }
    });
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for task in wrong {
        let answer = match task.await.unwrap() {
            Ok(status) => status.as_u16().to_string(),
            Err(error) => format!("transport error: {error}"),
        };
        *counts.entry(answer).or_default() += 1;
    }
    let owner = owner.await.unwrap();
    let peak_mib = status_kib(pid, "VmHWM") / 1024;
    eprintln!(
        "resident before {} MiB, peak {peak_mib} MiB; answers {counts:?}; owner {owner:?}",
        before_kib / 1024
    );
    assert!(
        counts
            .keys()
            .all(|status| ["401", "429", "503"].contains(&status.as_str())),
        "only refusals: {counts:?}"
    );
    assert!(
        peak_mib < PEAK_LIMIT_MIB,
        "peak resident memory {peak_mib} MiB (limit {PEAK_LIMIT_MIB} MiB)"
    );
    assert_eq!(
        owner.last(),
        Some(&StatusCode::SEE_OTHER),
        "the owner signs in: {owner:?}"
    );
}
