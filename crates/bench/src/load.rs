//! Two ways to load a route. Saturation: a fixed number of clients, each sending its next
//! request as soon as the last one is answered, for the throughput. Fixed arrival rate (open
//! loop): requests start on a schedule whatever the answers do, and each latency counts from
//! the scheduled start, so a slow answer cannot hide the requests queued behind it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;

/// What one request does; `n` numbers the requests of a phase, from 0.
pub trait Request: Send + Sync + 'static {
    fn send(&self, n: u64) -> impl Future<Output = bool> + Send;
}

/// A shared request, for measuring the same one in several runs.
impl<R: Request> Request for Arc<R> {
    fn send(&self, n: u64) -> impl Future<Output = bool> + Send {
        R::send(self, n)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Saturation {
    pub requests_per_second: f64,
    pub errors: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenLoop {
    pub rate: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    /// Requests that could not start on time because too many were still open.
    pub dropped: u64,
}

/// Microseconds, up to a minute, three significant digits.
#[allow(clippy::expect_used)] // Constant bounds that the crate documents as valid.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// `clients` loops of requests for `duration`, numbered from `first`, and never numbered
/// `stop` or past it (the round then ends early). Returns the phase's throughput, counting only
/// the requests answered as expected, and how many requests it numbered.
pub async fn saturate<R: Request>(
    request: Arc<R>,
    clients: usize,
    duration: Duration,
    first: u64,
    stop: Option<u64>,
) -> (Saturation, u64) {
    let next = Arc::new(AtomicU64::new(first));
    let errors = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let loops = (0..clients).map(|_| {
        let (request, next, errors, answered) = (
            request.clone(),
            next.clone(),
            errors.clone(),
            answered.clone(),
        );
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if stop.is_some_and(|stop| n >= stop) {
                    break;
                }
                if request.send(n).await {
                    answered.fetch_add(1, Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    });
    futures_util::future::join_all(loops).await;
    let elapsed = started.elapsed();
    if elapsed + Duration::from_millis(100) < duration {
        eprintln!(
            "  (the prepared requests ran out after {:.1} s of a {:.1} s round)",
            elapsed.as_secs_f64(),
            duration.as_secs_f64()
        );
    }
    let numbered = next.load(Ordering::Relaxed) - first;
    (
        Saturation {
            requests_per_second: answered.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
            errors: errors.load(Ordering::Relaxed),
        },
        stop.map_or(numbered, |stop| numbered.min(stop.saturating_sub(first))),
    )
}

/// Requests at `rate` a second for `duration`, numbered from `first`, with at most
/// `max_open` open at once. The schedule is kept by a thread of its own, which sleeps to each
/// start with the operating system's timer: the runtime's timer counts whole milliseconds, so
/// at 2,000 a second its requests would leave in pairs up to a millisecond late, a delay that
/// counts in every latency (they count from the scheduled start) and belongs to no server.
pub async fn open_loop<R: Request>(
    request: Arc<R>,
    rate: u64,
    duration: Duration,
    first: u64,
    max_open: u64,
) -> (OpenLoop, u64) {
    let latencies = Arc::new(Mutex::new(histogram()));
    let errors = Arc::new(AtomicU64::new(0));
    let open = Arc::new(AtomicU64::new(0));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let runtime = tokio::runtime::Handle::current();
    let schedule = {
        let (latencies, errors, open) = (latencies.clone(), errors.clone(), open.clone());
        tokio::task::spawn_blocking(move || {
            let mut dropped = 0;
            let mut tasks = Vec::with_capacity(total as usize);
            let started = Instant::now();
            for i in 0..total {
                let scheduled = started + interval.mul_f64(i as f64);
                if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                if open.load(Ordering::Relaxed) >= max_open {
                    dropped += 1;
                    continue;
                }
                open.fetch_add(1, Ordering::Relaxed);
                let (request, latencies, errors, open) = (
                    request.clone(),
                    latencies.clone(),
                    errors.clone(),
                    open.clone(),
                );
                tasks.push(runtime.spawn(async move {
                    let ok = request.send(first + i).await;
                    let micros = scheduled.elapsed().as_micros() as u64;
                    open.fetch_sub(1, Ordering::Relaxed);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = latencies.lock().await.record(micros.max(1));
                }));
            }
            (tasks, dropped)
        })
    };
    let (tasks, dropped) = match schedule.await {
        Ok(scheduled) => scheduled,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    futures_util::future::join_all(tasks).await;
    let latencies = latencies.lock().await;
    let ms = |quantile: f64| latencies.value_at_quantile(quantile) as f64 / 1000.0;
    (
        OpenLoop {
            rate,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            errors: errors.load(Ordering::Relaxed),
            dropped,
        },
        total,
    )
}
