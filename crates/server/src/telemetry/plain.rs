//! The human log format when colours are off (standard output is not a terminal, as in
//! production): the very line tracing-subscriber's `Full` format writes, written straight out
//! rather than through its colour styling, which cost about a twelfth of the token request's
//! instructions even with colours off (docs/PERFORMANCE.md). A test checks that both write the
//! same bytes.

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// `Full`'s line, colourless: timestamp, level, the spans with their fields, target, fields.
#[derive(Debug, Clone)]
pub struct Plain<T> {
    timer: T,
    /// For the lines of the `log` crate, whose target and place are in their fields.
    full: Format<Full, T>,
}

impl<T: FormatTime + Clone> Plain<T> {
    pub fn new(timer: T) -> Self {
        Self {
            full: Format::default().with_timer(timer.clone()).with_ansi(false),
            timer,
        }
    }
}

fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE ",
        Level::DEBUG => "DEBUG ",
        Level::INFO => " INFO ",
        Level::WARN => " WARN ",
        Level::ERROR => "ERROR ",
    }
}

impl<S, N, T> FormatEvent<S, N> for Plain<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        if meta.fields().field("log.target").is_some() {
            return self.full.format_event(ctx, writer, event);
        }
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_char(' ')?;
        writer.write_str(level(meta.level()))?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// A clock that always says the same, so that two formatters' lines can be compared.
    #[derive(Debug, Clone, Copy)]
    struct Fixed;

    impl FormatTime for Fixed {
        fn format_time(&self, writer: &mut Writer<'_>) -> std::fmt::Result {
            writer.write_str("2026-12-07T06:21:00.123456Z")
        }
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// What a request logs: lines outside a span and in one, fields of every kind, a route
    /// recorded late, a message that tries to break its line.
    fn log_a_request() {
        tracing::info!("started");
        let span = tracing::info_span!(
            "request",
            request_id = %"a6c1c6e0-8d3b-4a57-9d0e-2f4f4b1c9e11",
            method = %"POST",
            route = tracing::field::Empty,
        );
        let _entered = span.enter();
        tracing::warn!(error = %"the store\nfailed", count = 3, "the session store failed");
        let inner = tracing::debug_span!("inner", kind = "state");
        inner.in_scope(|| tracing::error!(ok = false, ratio = 0.5, "\u{1b}[31mred"));
        span.record("route", "/api/v1/connections/{id}/access-token");
        tracing::info!(status = 200_u16, elapsed_us = 52_u64, "request completed");
        tracing::trace!(r#type = "x", "last");
    }

    fn written<E>(format: E) -> String
    where
        E: for<'a> FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        use tracing_subscriber::Layer as _;
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .event_format(format)
                .with_writer(lines.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        );
        tracing::subscriber::with_default(subscriber, log_a_request);
        let bytes = lines.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn writes_the_same_lines_as_tracing_subscriber_s_full_format_without_colours() {
        let theirs = written(Format::default().with_timer(Fixed).with_ansi(false));
        let ours = written(Plain::new(Fixed));
        // Five events; a field shown with `%` keeps its line break in both formats.
        assert_eq!(ours.lines().count(), 6, "{ours}");
        assert_eq!(ours, theirs);
        assert!(ours.contains(
            "2026-12-07T06:21:00.123456Z  INFO request{request_id=a6c1c6e0-8d3b-4a57-9d0e-2f4f4b1c9e11 \
             method=POST route=\"/api/v1/connections/{id}/access-token\"}: "
        ));
        assert!(!ours.contains('\u{1b}'), "{ours}");
    }
}
