//! The human log format when colours are off (standard output is not a terminal, as in
//! production): the very line tracing-subscriber's `Full` format writes, with its fields as
//! its `DefaultFields` writes them, written straight out rather than through its colour
//! styling, which it goes through even with colours off: with the timestamp's change
//! (`clock.rs`), a tenth of the token request's instructions (docs/PERFORMANCE.md). A test
//! checks that both write the same bytes.

use std::fmt::Debug;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Format, Full, Writer};
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

/// `DefaultFields`' `name=value`, colourless, written straight out. The message (which
/// `DefaultVisitor` writes with terminal escape sequences neutralised), errors (with their
/// sources), raw identifiers (`r#type`) and the `log` crate's fields go to `DefaultVisitor`
/// itself, so that they stay exactly as tracing-subscriber writes them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainFields;

impl<'a> MakeVisitor<Writer<'a>> for PlainFields {
    type Visitor = PlainVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> Self::Visitor {
        PlainVisitor {
            writer,
            empty: true,
            result: Ok(()),
        }
    }
}

/// Writes one event's or span's fields for [`PlainFields`].
pub struct PlainVisitor<'a> {
    writer: Writer<'a>,
    /// Nothing written yet: no space before the next field.
    empty: bool,
    result: std::fmt::Result,
}

impl PlainVisitor<'_> {
    /// Whether `DefaultVisitor` writes this field other than as `name=value`.
    fn special(field: &Field) -> bool {
        let name = field.name();
        name == "message" || name.starts_with("r#") || name.starts_with("log.")
    }

    /// Has `DefaultVisitor` write a field, with the spacing so far.
    fn delegate(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_err() {
            return;
        }
        let mut default = DefaultVisitor::new(self.writer.by_ref(), self.empty);
        record(&mut default);
        self.result = default.finish();
        // It writes every field but the `log` crate's, which it leaves out.
        if !field.name().starts_with("log.") {
            self.empty = false;
        }
    }

    /// A space before every field but the first.
    fn separate(&mut self) -> std::fmt::Result {
        if self.empty {
            self.empty = false;
            Ok(())
        } else {
            self.writer.write_char(' ')
        }
    }

    /// `name=`, after a space unless it is the first field.
    fn name(&mut self, field: &Field) -> std::fmt::Result {
        self.separate()?;
        self.writer.write_str(field.name())?;
        self.writer.write_char('=')
    }

    /// `name=` and `value` as it is, for values whose `Debug` text is what `DefaultVisitor`
    /// writes (numbers, booleans), without the formatting machinery.
    fn verbatim(&mut self, field: &Field, value: &str) {
        if Self::special(field) {
            self.delegate(field, |default| {
                default.record_debug(field, &format_args!("{value}"))
            });
        } else if self.result.is_ok() {
            self.result = self.name(field).and_then(|()| self.writer.write_str(value));
        }
    }

    fn plain(&mut self, field: &Field, value: &dyn Debug) {
        if self.result.is_ok() {
            self.result = self
                .name(field)
                .and_then(|()| self.writer.write_fmt(format_args!("{value:?}")));
        }
    }
}

/// Whether `message` holds no control character at all, so that `DefaultVisitor` would write
/// it as it is. It neutralises ESC, BEL, BS, FF, DEL and the C1 controls (U+0080 to U+009F,
/// whose UTF-8 starts with the byte 0xC2); any C0 control, DEL or 0xC2 sends the message to it.
fn needs_no_escaping(message: &str) -> bool {
    !message
        .bytes()
        .any(|byte| matches!(byte, 0x00..=0x1f | 0x7f | 0xc2))
}

/// Whether a string's `Debug` text is the string itself between quotes: printable ASCII without
/// a quote or a backslash, which `{:?}` leaves alone.
fn needs_no_quoting(value: &str) -> bool {
    value
        .bytes()
        .all(|byte| matches!(byte, b' '..=b'~') && byte != b'"' && byte != b'\\')
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if Self::special(field) {
            if field.name() == "message" && needs_no_escaping(value) {
                // What `DefaultVisitor` writes for it: the text itself, no name, no quotes.
                if self.result.is_ok() {
                    self.result = self.separate().and_then(|()| self.writer.write_str(value));
                }
            } else {
                self.delegate(field, |default| default.record_str(field, value));
            }
        } else if needs_no_quoting(value) {
            // What `{:?}` writes for it, without its escaping pass over each character.
            if self.result.is_ok() {
                self.result = self.name(field).and_then(|()| {
                    self.writer.write_char('"')?;
                    self.writer.write_str(value)?;
                    self.writer.write_char('"')
                });
            }
        } else {
            self.plain(field, &value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.verbatim(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.verbatim(field, itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.verbatim(field, if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.delegate(field, |default| default.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if Self::special(field) {
            self.delegate(field, |default| default.record_debug(field, value));
        } else {
            self.plain(field, value);
        }
    }
}

impl VisitOutput<std::fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> std::fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn std::fmt::Write {
        &mut self.writer
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

    #[derive(Debug, thiserror::Error)]
    #[error("the store failed")]
    struct StoreFailed(#[source] std::fmt::Error);

    #[derive(Debug)]
    #[allow(dead_code)] // Read by its `Debug`.
    struct Shown {
        kind: &'static str,
    }

    /// What a request logs: lines outside a span and in one, fields of every kind, a field
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
        let error = StoreFailed(std::fmt::Error);
        tracing::warn!(
            error = &error as &(dyn std::error::Error + 'static),
            display = %"the store\nfailed",
            quote = "say \"hi\"",
            backslash = "a \\ b",
            tab = "a\tb",
            combining = "cafe\u{301}",
            accent = "caf\u{e9}",
            count = 3,
            below = -4_i64,
            "the session store failed"
        );
        let inner =
            tracing::debug_span!("inner", kind = "state", shown = ?Shown { kind: "a \"b\"" });
        inner.in_scope(|| tracing::error!(ok = false, ratio = 0.5, whole = 1.0, "\u{1b}[31mred"));
        span.record("route", "/api/v1/connections/{id}/access-token");
        tracing::info!(
            route = "/api/v1/connections/{id}/access-token",
            status = 200_u16,
            elapsed_us = 52_u64,
            "request completed"
        );
        tracing::info!(
            message = "request completed",
            route = "/api/v1/connections/{id}/access-token",
            status = 200_u16,
            elapsed_us = 52_u64,
        );
        tracing::trace!(r#type = "x", r#loop = 7_u64, "last");
        tracing::info!(message = "only a message");
        tracing::info!(status = 1_u64, message = "a message after a field");
        tracing::info!(message = "\u{1b}[31mred, given as a string");
        tracing::info!(
            message = "a C1 control: \u{9b}31m, and an \u{e9}",
            n = 2_u64
        );
        for control in ["\u{7}", "\u{8}", "\u{c}", "\u{7f}", "\r"] {
            tracing::info!(message = format!("a control: {control}!").as_str());
        }
        tracing::info!(status = 204_u16);
    }

    fn written<N, E>(fields: N, format: E) -> String
    where
        N: for<'a> FormatFields<'a> + Send + Sync + 'static,
        E: FormatEvent<tracing_subscriber::Registry, N> + Send + Sync + 'static,
    {
        use tracing_subscriber::Layer as _;
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .fmt_fields(fields)
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
        let theirs = written(
            tracing_subscriber::fmt::format::DefaultFields::new(),
            Format::default().with_timer(Fixed).with_ansi(false),
        );
        let ours = written(PlainFields, Plain::new(Fixed));
        // Sixteen events; a field shown with `%` keeps its line break in both formats.
        assert_eq!(ours.lines().count(), 17, "{ours}");
        assert_eq!(ours, theirs);
        assert!(ours.contains(
            "2026-12-07T06:21:00.123456Z  INFO request{request_id=a6c1c6e0-8d3b-4a57-9d0e-2f4f4b1c9e11 \
             method=POST route=\"/api/v1/connections/{id}/access-token\"}: "
        ));
        assert!(ours.contains(
            "request completed route=\"/api/v1/connections/{id}/access-token\" status=200 elapsed_us=52\n"
        ));
        assert!(ours.contains("error=the store failed error.sources=[an error occurred when formatting an argument]"), "{ours}");
        assert!(!ours.contains('\u{1b}'), "{ours}");
        assert!(!ours.contains('\u{9b}'), "{ours}");
    }
}
