//! The log lines' timestamp, `2026-12-07T06:21:00.123456Z` as tracing-subscriber's
//! `SystemTime` writes it, with the date and time to the second formatted once a second per
//! thread: formatting the whole of it for every line was about 4% of the token request's
//! instructions (docs/PERFORMANCE.md).

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// UTC to the microsecond, the date and time to the second remembered per thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CachedSecondClock;

/// The second last formatted on this thread, and its text up to and with the `.`.
struct Second {
    at: u64,
    text: String,
}

thread_local! {
    static SECOND: RefCell<Second> = const {
        RefCell::new(Second { at: u64::MAX, text: String::new() })
    };
}

/// `2026-12-07T06:21:00.` for `seconds` after the epoch.
fn to_the_second(seconds: u64) -> Option<String> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].");
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).ok()?).ok()?;
    at.format(&format).ok()
}

/// Writes `since_epoch` as the clock does.
fn write_at(since_epoch: Duration, writer: &mut Writer<'_>) -> std::fmt::Result {
    let seconds = since_epoch.as_secs();
    SECOND.with_borrow_mut(|second| {
        if second.at != seconds {
            second.text = to_the_second(seconds).ok_or(std::fmt::Error)?;
            second.at = seconds;
        }
        writer.write_str(&second.text)
    })?;
    let micros = since_epoch.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for digit in digits.iter_mut().rev() {
        // `rest % 10` is a single digit.
        *digit = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    writer.write_str(std::str::from_utf8(&digits).map_err(|_| std::fmt::Error)?)?;
    writer.write_char('Z')
}

impl FormatTime for CachedSecondClock {
    fn format_time(&self, writer: &mut Writer<'_>) -> std::fmt::Result {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| std::fmt::Error)?;
        write_at(since_epoch, writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(since_epoch: Duration) -> String {
        let mut text = String::new();
        write_at(since_epoch, &mut Writer::new(&mut text)).unwrap();
        text
    }

    #[test]
    fn writes_utc_to_the_microsecond_across_seconds_days_and_years() {
        assert_eq!(
            written(Duration::new(1_796_624_460, 123_456_789)),
            "2026-12-07T06:21:00.123456Z"
        );
        // The same second again, from the remembered text; then the next one.
        assert_eq!(
            written(Duration::new(1_796_624_460, 7_000)),
            "2026-12-07T06:21:00.000007Z"
        );
        assert_eq!(
            written(Duration::new(1_796_624_461, 0)),
            "2026-12-07T06:21:01.000000Z"
        );
        assert_eq!(
            written(Duration::new(1_798_761_599, 999_999_999)),
            "2026-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            written(Duration::new(1_798_761_600, 0)),
            "2027-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn has_the_shape_of_tracing_subscriber_s_own_clock() {
        let mut ours = String::new();
        let mut theirs = String::new();
        CachedSecondClock
            .format_time(&mut Writer::new(&mut ours))
            .unwrap();
        tracing_subscriber::fmt::time::SystemTime
            .format_time(&mut Writer::new(&mut theirs))
            .unwrap();
        assert_eq!(ours.len(), theirs.len(), "{ours} against {theirs}");
        // The same up to the minute, unless the minute turned between the two readings.
        assert!(
            ours[..16] == theirs[..16] || ours[17..19] == *"00",
            "{ours} against {theirs}"
        );
    }
}
