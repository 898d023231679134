//! Logging through `tracing-subscriber`, human or JSON, and the per-request span that puts a
//! request id on every line (`request`). The completion line records the route pattern, never
//! the raw path or query, which can carry codes and states.
//!
//! Lines are formatted on the thread that logs them and written by a thread of their own in
//! batches (`batched`), so a slow log pipe never stalls a worker and a request costs no system
//! call for its log line (no line is dropped: a stalled pipe makes workers wait).

mod batched;
mod clock;
mod plain;
mod request;

use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, fmt};

use crate::settings::{LogFormat, LogSettings};
use clock::CachedSecondClock;
use plain::{Plain, PlainFields};
pub use request::{RequestLog, logged};

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
