//! Logging through `tracing-subscriber`, human or JSON, and the per-request span that puts a
//! request id on every line. The completion line records the route pattern, never the raw path
//! or query, which can carry codes and states.
//!
//! Lines are formatted on the thread that logs them and written by a thread of their own in
//! batches (`batched`), so a slow log pipe never stalls a worker and a request costs no system
//! call for its log line (no line is dropped: a stalled pipe makes workers wait).

mod batched;
mod clock;
mod plain;

use std::io::IsTerminal as _;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage as _};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, fmt};

use crate::settings::{LogFormat, LogSettings};
use clock::CachedSecondClock;
use plain::{Plain, PlainFields};

/// Keeps the log's writer thread; dropping it writes out what is waiting.
#[must_use = "the log's writer thread stops when this is dropped"]
pub struct LogGuard {
    _writer: Option<batched::BatchedGuard>,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard").finish_non_exhaustive()
    }
}

/// Standard output, unbuffered (the writer thread hands it whole batches): a duplicate of its
/// descriptor, so that no lock of `std::io::stdout` is taken.
fn raw_stdout() -> Box<dyn std::io::Write + Send> {
    use std::os::fd::AsFd as _;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout()),
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, replaces the configured filter.
/// Does nothing if a subscriber is already installed (as in tests that start several apps).
pub fn init(settings: &LogSettings) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = match batched::batched(raw_stdout()) {
        Ok(batched) => batched,
        Err(error) => {
            eprintln!("installgate: no log writer thread ({error}); logging to standard error");
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(fmt::layer().with_writer(std::io::stderr))
                .try_init();
            return LogGuard { _writer: None };
        }
    };
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_timer(CachedSecondClock)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
        // On a terminal, tracing-subscriber's coloured format; elsewhere the same line without
        // colours, written straight out (`plain`).
        LogFormat::Human if ansi => registry
            .with(
                fmt::layer()
                    .with_timer(CachedSecondClock)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Human => registry
            .with(
                fmt::layer()
                    .with_ansi(false)
                    .fmt_fields(PlainFields)
                    .event_format(Plain::new(CachedSecondClock))
                    .with_writer(writer),
            )
            .try_init(),
    };
    LogGuard {
        _writer: installed.is_ok().then_some(guard),
    }
}

#[cfg(feature = "sandbox")]
/// The sandbox's logging: the whole log (the configured filter, or `RUST_LOG`) to `file`, and on
/// the console only warnings and errors, unless `verbose`, so that its banner stays readable.
pub fn init_sandbox(settings: &LogSettings, file: std::fs::File, verbose: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::LevelFilter;

    let filter = || {
        EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(&settings.filter))
            .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let console = fmt::layer().with_ansi(std::io::stdout().is_terminal());
    let console = if verbose {
        console.with_filter(filter()).boxed()
    } else {
        console
            .with_filter(filter())
            .with_filter(LevelFilter::WARN)
            .boxed()
    };
    let whole = fmt::layer()
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .with_filter(filter());
    let _already_installed = tracing_subscriber::registry()
        .with(console)
        .with(whole)
        .try_init();
}

/// When the request reached the gateway: the completion line's `elapsed_us` and the metrics'
/// duration both count from it.
#[derive(Debug, Clone, Copy)]
pub struct Started(pub Instant);

/// The root span of every request: request id and method. The completion line adds the route
/// pattern the request was routed to.
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        request.extensions_mut().insert(Started(Instant::now()));
        tracing::info_span!(
            "request",
            request_id = request_id.map(tracing::field::display),
            method = %request.method(),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let request = response.request();
                let elapsed_us = request
                    .extensions()
                    .get::<Started>()
                    .map(|started| started.0.elapsed().as_micros())
                    .unwrap_or_default();
                // Read from the resource the router chose, as the metrics' label is: the lines
                // a request logs before it was routed cannot carry it, so the span does not.
                let route = request.match_pattern();
                tracing::info!(
                    route = route.as_deref().unwrap_or(crate::metrics::UNMATCHED),
                    status = response.status().as_u16(),
                    elapsed_us = u64::try_from(elapsed_us).unwrap_or(u64::MAX),
                    "request completed"
                );
            }
            Err(error) => {
                let status = error.as_response_error().status_code().as_u16();
                tracing::info!(status, "request failed");
            }
        }
    }
}
