//! Standard output written in batches by a thread of its own: workers append each formatted
//! line to a shared buffer (a short lock, no system call, no wake-up), and the writer thread
//! writes what gathered every [`FLUSH_EVERY`], or sooner once [`FLUSH_AT`] bytes wait, in one
//! `write`. A handover per line (a channel the writer thread waits on) costs a wake-up of that
//! thread and a `write` for nearly every request under load; see docs/PERFORMANCE.md. No line
//! is dropped: past [`MAX_WAITING`] bytes (a stalled log pipe) workers wait for the writer.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Bytes waiting that make the writer thread write at once.
pub const FLUSH_AT: usize = 256 * 1024;
/// Bytes waiting past which workers wait for the writer.
pub const MAX_WAITING: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Waiting {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    waiting: Mutex<Waiting>,
    /// Told when enough waits, or at close.
    full: Condvar,
    /// Told after each write, for workers waiting on a stalled pipe.
    written: Condvar,
}

/// Hands out writers to the shared buffer; cheap to clone.
#[derive(Clone)]
pub struct BatchedWriter(Arc<Shared>);

/// Stops the writer thread, after it wrote everything, when dropped.
pub struct BatchedGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for BatchedGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchedGuard").finish_non_exhaustive()
    }
}

/// A writer to `out` and its guard, with the writer thread started.
pub fn batched(out: Box<dyn Write + Send>) -> std::io::Result<(BatchedWriter, BatchedGuard)> {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name("installgate-log".into())
        .spawn({
            let shared = shared.clone();
            move || write_until_closed(&shared, out)
        })?;
    Ok((
        BatchedWriter(shared.clone()),
        BatchedGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_until_closed(shared: &Shared, mut out: Box<dyn Write + Send>) {
    let mut spare = Vec::new();
    loop {
        let (batch, closed) = {
            let mut waiting = shared
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if waiting.bytes.len() < FLUSH_AT && !waiting.closed {
                waiting = shared
                    .full
                    .wait_timeout(waiting, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let batch = std::mem::replace(&mut waiting.bytes, std::mem::take(&mut spare));
            (batch, waiting.closed)
        };
        if !batch.is_empty() {
            // A failing standard output has nowhere to report to; the lines are dropped.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            shared.written.notify_all();
        }
        spare = batch;
        spare.clear();
        if closed {
            let waiting = shared
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if waiting.bytes.is_empty() {
                return;
            }
        }
    }
}

impl Drop for BatchedGuard {
    fn drop(&mut self) {
        self.shared
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.full.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for BatchedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut waiting = shared
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while waiting.bytes.len() >= MAX_WAITING && !waiting.closed {
            waiting = shared
                .written
                .wait_timeout(waiting, FLUSH_EVERY)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        waiting.bytes.extend_from_slice(bytes);
        if waiting.bytes.len() >= FLUSH_AT {
            shared.full.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard output's stand-in: what was written, and in how many writes.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Recorded {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut recorded = self.0.lock().unwrap();
            recorded.0.extend_from_slice(bytes);
            recorded.1 += 1;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_in_few_writes_and_all_by_the_guard_s_drop() {
        let recorded = Recorded::default();
        let (writer, guard) = batched(Box::new(recorded.clone())).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for line in 0..5_000 {
                        writer
                            .write_all(format!("thread {thread} line {line}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let (bytes, writes) = recorded.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        for thread in 0..4 {
            let own: Vec<&&str> = lines
                .iter()
                .filter(|line| line.starts_with(&format!("thread {thread} ")))
                .collect();
            assert_eq!(own.len(), 5_000);
            assert_eq!(*own[4_999], format!("thread {thread} line 4999"));
        }
        assert!(writes < 200, "{writes} writes for 20,000 lines");
    }
}
