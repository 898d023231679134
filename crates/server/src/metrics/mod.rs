//! Prometheus metrics. Each application owns its registry (no global recorder), so tests can run
//! many gateways in one process and read each one's numbers. `/metrics` renders the registry in
//! the text exposition format.
//!
//! Labels are bounded: apps and providers come from the configuration (never from a request that
//! names an unknown app), routes are patterns (`/install/{provider}/{app}`), never raw paths.

mod http;
mod provider;

pub use http::{UNMATCHED, count_request, serve};
pub use provider::MeteredProvider;

use installgate_store::ActivityCount;

use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// A metric's labels by name.
type Labels = std::collections::HashMap<String, String>;

/// A step of an install, for the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An install request too malformed to tell its step.
    Request,
    /// The first step of a seamless install: sign in, then back to the marketplace with a state.
    Authorize,
    /// A sign-in or sign-up in the middle of an install.
    SignIn,
    /// The last step of a seamless install: a code and a state, back to the return URL.
    Finalize,
    /// An OAuth callback (an install the marketplace or `/connect` started).
    Callback,
    /// A held marketplace install claimed or cancelled by its user.
    Claim,
    /// `GET /connect/…`.
    Connect,
    /// A marketplace's notice that the app was uninstalled.
    Uninstall,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Authorize => "authorize",
            Self::SignIn => "sign_in",
            Self::Finalize => "finalize",
            Self::Callback => "callback",
            Self::Claim => "claim",
            Self::Connect => "connect",
            Self::Uninstall => "uninstall",
        }
    }
}

/// What happened at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Started,
    SignInRequired,
    SignedIn,
    StateMinted,
    /// Tokens stored for a connection (active, or held until its user claims it).
    Finalized,
    Held,
    Cancelled,
    Uninstalled,
    Failed(&'static str),
}

impl Outcome {
    /// The failure an error stands for, named by what went wrong.
    pub fn failed(error: &crate::errors::AppError) -> Self {
        use crate::errors::AppError;
        Self::Failed(match error {
            AppError::BadRequest(_) | AppError::UriTooLong | AppError::PayloadTooLarge => {
                "bad_request"
            }
            AppError::Unauthorized | AppError::Forbidden(_) => "refused",
            AppError::TooManyRequests(_) => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::BadGateway(_) | AppError::ProviderFailed => "provider",
            AppError::Unexpected(_) => "internal",
            _ => "other",
        })
    }

    fn labels(self) -> (&'static str, &'static str) {
        match self {
            Self::Started => ("started", ""),
            Self::SignInRequired => ("sign_in_required", ""),
            Self::SignedIn => ("signed_in", ""),
            Self::StateMinted => ("state_minted", ""),
            Self::Finalized => ("finalized", ""),
            Self::Held => ("held", ""),
            Self::Cancelled => ("cancelled", ""),
            Self::Uninstalled => ("uninstalled", ""),
            Self::Failed(reason) => ("failed", reason),
        }
    }
}

/// A call to a marketplace's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCall {
    Exchange,
    Refresh,
}

impl TokenCall {
    fn as_str(self) -> &'static str {
        match self {
            Self::Exchange => "exchange",
            Self::Refresh => "refresh",
        }
    }
}

/// The gateway's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    installs: IntCounterVec,
    token_calls: IntCounterVec,
    token_seconds: HistogramVec,
    webhook_deliveries: IntCounterVec,
    outbox_backlog: IntGauge,
    backend_errors: IntCounterVec,
    /// Installs started, and refreshes that failed, by app: what the console's overview adds
    /// up over replicas (see `activity`).
    installs_started: IntCounterVec,
    refresh_failures: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Latency buckets, in seconds: from a cache hit to a marketplace near its timeout.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn counter(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(counter.clone()))?;
    Ok(counter)
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<HistogramVec> {
    let histogram = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
        labels,
    )?;
    registry.register(Box::new(histogram.clone()))?;
    Ok(histogram)
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("installgate".into()), None)?;
        let outbox_backlog = IntGauge::new(
            "outbox_backlog",
            "Events written but not yet delivered to the webhook (as of the last scrape).",
        )?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        Ok(Self {
            http_requests: counter(
                &registry,
                "http_requests_total",
                "HTTP requests answered, by route pattern, method and status.",
                &["route", "method", "status"],
            )?,
            http_seconds: histogram(
                &registry,
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by route pattern and method.",
                &["route", "method"],
            )?,
            installs: counter(
                &registry,
                "install_steps_total",
                "The install funnel: what happened at each step, by provider and app.",
                &["provider", "app", "step", "outcome", "reason"],
            )?,
            token_calls: counter(
                &registry,
                "token_calls_total",
                "Calls to marketplaces' token endpoints (code exchanges and refreshes), by outcome.",
                &["provider", "call", "outcome"],
            )?,
            token_seconds: histogram(
                &registry,
                "token_call_duration_seconds",
                "Time a marketplace's token endpoint took, by provider, call and outcome.",
                &["provider", "call", "outcome"],
            )?,
            webhook_deliveries: counter(
                &registry,
                "webhook_deliveries_total",
                "Webhook delivery attempts, by outcome (delivered, retry, failed).",
                &["outcome"],
            )?,
            backend_errors: counter(
                &registry,
                "backend_errors_total",
                "Requests that failed because a backend did not answer (state_store, database).",
                &["backend"],
            )?,
            installs_started: counter(
                &registry,
                "installs_started_total",
                "Installs started: states minted, and marketplace callbacks the gateway did not \
                 ask for, by provider and app.",
                &["provider", "app"],
            )?,
            refresh_failures: counter(
                &registry,
                "refresh_failures_total",
                "Token refreshes the marketplace did not answer with tokens, by provider, app and \
                 outcome.",
                &["provider", "app", "outcome"],
            )?,
            outbox_backlog,
            registry,
        })
    }

    pub fn http_request(&self, route: &str, method: &str, status: &str, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, status])
            .inc();
        self.http_seconds
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    pub fn install(&self, provider: &str, app: &str, step: Step, outcome: Outcome) {
        if outcome == Outcome::StateMinted {
            self.installs_started
                .with_label_values(&[provider, app])
                .inc();
        }
        let (outcome, reason) = outcome.labels();
        self.installs
            .with_label_values(&[provider, app, step.as_str(), outcome, reason])
            .inc();
    }

    /// An install a marketplace started, arriving with a code the gateway did not ask for.
    pub fn install_started_by_marketplace(&self, provider: &str, app: &str) {
        self.installs_started
            .with_label_values(&[provider, app])
            .inc();
    }

    /// A refresh the marketplace did not answer with tokens.
    pub fn refresh_failed(&self, provider: &str, app: &str, outcome: &str) {
        self.refresh_failures
            .with_label_values(&[provider, app, outcome])
            .inc();
    }

    /// This replica's totals of what the console's overview counts (installs started, failed
    /// by reason, refreshes failed by outcome), since it started.
    pub fn activity_totals(&self) -> Vec<ActivityCount> {
        let mut totals = Vec::new();
        let mut read =
            |vec: &IntCounterVec, step: &str, keep: &dyn Fn(&Labels) -> Option<String>| {
                for family in prometheus::core::Collector::collect(vec) {
                    for metric in family.get_metric() {
                        let labels: Labels = metric
                            .get_label()
                            .iter()
                            .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
                            .collect();
                        let Some(reason) = keep(&labels) else {
                            continue;
                        };
                        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
                        totals.push(ActivityCount {
                            app: label("app"),
                            provider: label("provider"),
                            step: step.to_owned(),
                            reason,
                            // A counter's value is a whole number held as a float.
                            count: metric.get_counter().get_value() as i64,
                        });
                    }
                }
            };
        read(&self.installs_started, crate::activity::STARTED, &|_| {
            Some(String::new())
        });
        read(&self.installs, crate::activity::FAILED, &|labels| {
            (labels.get("outcome").map(String::as_str) == Some("failed"))
                .then(|| labels.get("reason").cloned().unwrap_or_default())
        });
        read(
            &self.refresh_failures,
            crate::activity::REFRESH_FAILED,
            &|labels| labels.get("outcome").cloned(),
        );
        totals
    }

    pub fn token_call(&self, provider: &str, call: TokenCall, outcome: &str, seconds: f64) {
        let labels = [provider, call.as_str(), outcome];
        self.token_calls.with_label_values(&labels).inc();
        self.token_seconds
            .with_label_values(&labels)
            .observe(seconds);
    }

    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries.with_label_values(&[outcome]).inc();
    }

    pub fn backend_error(&self, backend: &str) {
        self.backend_errors.with_label_values(&[backend]).inc();
    }

    pub fn set_outbox_backlog(&self, events: i64) {
        self.outbox_backlog.set(events);
    }

    /// Every metric in the text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_renders_with_its_labels() {
        let metrics = Metrics::new().unwrap();
        metrics.http_request("/install/{provider}/{app}", "GET", "302", 0.002);
        metrics.install("acme", "crm", Step::Finalize, Outcome::Failed("state"));
        metrics.token_call("acme", TokenCall::Exchange, "ok", 0.05);
        metrics.webhook_delivery("delivered");
        metrics.backend_error("database");
        metrics.set_outbox_backlog(3);
        let text = metrics.render().unwrap();
        for line in [
            "installgate_http_requests_total{method=\"GET\",route=\"/install/{provider}/{app}\",status=\"302\"} 1",
            "installgate_install_steps_total{app=\"crm\",outcome=\"failed\",provider=\"acme\",reason=\"state\",step=\"finalize\"} 1",
            "installgate_token_calls_total{call=\"exchange\",outcome=\"ok\",provider=\"acme\"} 1",
            "installgate_webhook_deliveries_total{outcome=\"delivered\"} 1",
            "installgate_backend_errors_total{backend=\"database\"} 1",
            "installgate_outbox_backlog 3",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.contains("installgate_token_call_duration_seconds_bucket"));
    }
}
