//! `/metrics` during real installs: the funnel, token calls, webhook deliveries and HTTP requests
//! move, read back by parsing the Prometheus text format; labels carry route patterns and
//! configured apps only. Driven over HTTP against the sandbox (gateway plus simulated HubSpot).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use installgate_tests::{Browser, hidden_input, location, start_sandbox};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

/// Every sample of the exposition, as `name{label="value",…}` (labels sorted) to its value,
/// read by the Prometheus project's own parser (`prometheus_client`, Python).
async fn scrape(gateway: &str) -> HashMap<String, f64> {
    let response = reqwest::get(format!("{gateway}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    parse_exposition(&text)
}

const PARSER: &str = "import json, sys\n\
from prometheus_client.parser import text_string_to_metric_families\n\
samples = [[s.name, s.labels, repr(s.value)]\n\
           for family in text_string_to_metric_families(sys.stdin.read())\n\
           for s in family.samples]\n\
print(json.dumps(samples))\n";

fn parse_exposition(text: &str) -> HashMap<String, f64> {
    use std::io::Write as _;
    let mut parser = std::process::Command::new("python3")
        .args(["-c", PARSER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with prometheus_client (pip install prometheus-client)");
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = parser.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the exposition does not parse:\n{text}"
    );
    let samples: Vec<(String, std::collections::BTreeMap<String, String>, String)> =
        serde_json::from_slice(&output.stdout).unwrap();
    samples
        .into_iter()
        .map(|(name, labels, value)| {
            let labels: Vec<String> = labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{value}\""))
                .collect();
            let value = value.parse().unwrap_or(f64::NAN);
            (format!("{name}{{{}}}", labels.join(",")), value)
        })
        .collect()
}

fn step(scrape: &HashMap<String, f64>, step: &str, outcome: &str, reason: &str) -> f64 {
    let key = format!(
        "installgate_install_steps_total{{app=\"hubspot_signin\",outcome=\"{outcome}\",provider=\"hubspot\",reason=\"{reason}\",step=\"{step}\"}}"
    );
    scrape.get(&key).copied().unwrap_or_default()
}

/// `action="…"` of the first form in `html`, unescaped.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").unwrap() + "action=\"".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funnel_token_calls_and_deliveries_move_during_an_install() {
    let sandbox = start_sandbox().await;
    let gateway = format!("http://127.0.0.1:{}", sandbox.ports.gateway);
    let return_url = format!(
        "http://localhost:{}/marketplace/sandbox-hubspot_signin/done?flow=metrics",
        sandbox.ports.hubspot
    );
    let before = scrape(&gateway).await;
    assert_eq!(step(&before, "authorize", "started", ""), 0.0);

    // step=authorize, sign-up through the form the page shows, and back with a state.
    let browser = Browser::at(&gateway);
    let authorize = format!(
        "/install/hubspot/hubspot_signin?step=authorize&returnUrl={}",
        encode(&return_url)
    );
    let start = browser.get(&authorize).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let sign_in = browser.get(&location(&start)).await.text().await.unwrap();
    let resume = hidden_input(&sign_in, "resume").unwrap();
    let sign_up_link =
        format!("/account/sign-up?resume={resume}&app=hubspot_signin&provider=hubspot");
    let sign_up = browser.get(&sign_up_link).await.text().await.unwrap();
    let csrf = hidden_input(&sign_up, "csrf_token").unwrap();
    let fields = [
        ("email", "metrics@example.com"),
        ("password", PASSWORD),
        ("csrf_token", csrf.as_str()),
        ("resume", resume.as_str()),
    ];
    let signed_up = browser.post(&form_action(&sign_up), &fields).await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let resumed = browser.get(&location(&signed_up)).await;
    assert_eq!(resumed.status(), StatusCode::FOUND);
    let back = url::Url::parse(&location(&resumed)).unwrap();
    let state = back
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();

    // step=finalize with the state: exchanged and stored. Then one with a forged state.
    let finalize = |code: &str, state: &str| {
        format!(
            "/install/hubspot/hubspot_signin?step=finalize&code={}&state={}&returnUrl={}",
            encode(code),
            encode(state),
            encode(&return_url)
        )
    };
    let code = sandbox
        .hubspot
        .issue_code("sandbox-hubspot_signin", 5150)
        .unwrap();
    let done = browser.get(&finalize(&code, &state)).await;
    assert_eq!(done.status(), StatusCode::FOUND);
    let forged = installgate_core::StateToken::generate().unwrap();
    let code = sandbox
        .hubspot
        .issue_code("sandbox-hubspot_signin", 5151)
        .unwrap();
    let refused = browser.get(&finalize(&code, forged.expose())).await;
    assert_eq!(refused.status(), StatusCode::FOUND);

    // The webhook (the sandbox page) gets the event; the scrape shows all of it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let after = scrape(&gateway).await;
        let delivered = after
            .get("installgate_webhook_deliveries_total{outcome=\"delivered\"}")
            .copied()
            .unwrap_or_default();
        if delivered >= 1.0 {
            break after;
        }
        assert!(Instant::now() < deadline, "no delivery counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (name, outcome, reason, count) in [
        ("authorize", "started", "", 2.0),
        ("authorize", "sign_in_required", "", 1.0),
        ("authorize", "state_minted", "", 1.0),
        ("sign_in", "signed_in", "", 1.0),
        ("finalize", "started", "", 2.0),
        ("finalize", "finalized", "", 1.0),
        ("finalize", "failed", "state", 1.0),
    ] {
        assert_eq!(
            step(&after, name, outcome, reason),
            count,
            "{name} {outcome} {reason}: {after:#?}"
        );
    }
    assert_eq!(
        after["installgate_token_calls_total{call=\"exchange\",outcome=\"ok\",provider=\"hubspot\"}"],
        1.0,
        "the forged state never reached the token endpoint"
    );
    assert!(
        after.contains_key(
            "installgate_token_call_duration_seconds_count{call=\"exchange\",outcome=\"ok\",provider=\"hubspot\"}"
        ),
        "{after:#?}"
    );
    let install_requests = after
        .get("installgate_http_requests_total{method=\"GET\",route=\"/install/{provider}/{app}\",status=\"302\"}")
        .copied()
        .unwrap_or_default();
    assert_eq!(install_requests, 3.0, "{after:#?}");
    // Routes are patterns: no raw path, code or state is a label.
    for key in after.keys() {
        assert!(
            !key.contains('?') && !key.contains("/install/hubspot/") && !key.contains(&state),
            "{key}"
        );
    }
    assert!(
        after.contains_key("installgate_outbox_backlog{}"),
        "{after:#?}"
    );
    sandbox.stop().await;
}
