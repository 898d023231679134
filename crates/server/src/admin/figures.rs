//! The overview's figures for each app over a window, from the database alone (so they cover
//! every replica and outlive restarts): installs completed, cancelled, abandoned and
//! uninstalled and grants revoked from the events; installs started and failed (by reason) from
//! the funnel's counts; connections by status and the webhook backlog as they are now. The
//! console's overview and `installgate admin overview` both print these.

use std::collections::BTreeMap;
use std::time::Duration;

use installgate_core::{Timestamp, VaultError};
use installgate_store::{ActivityCounts, Overview};

use crate::activity::{FAILED, REFRESH_FAILED, STARTED};

/// The period the overview covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
    Week,
}

impl Window {
    pub const ALL: [Self; 3] = [Self::Hour, Self::Day, Self::Week];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hour" => Some(Self::Hour),
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    pub fn length(self) -> Duration {
        Duration::from_secs(match self {
            Self::Hour => 3600,
            Self::Day => 24 * 3600,
            Self::Week => 7 * 24 * 3600,
        })
    }

    /// The chart's bars: how long each covers.
    pub fn bucket(self) -> Duration {
        Duration::from_secs(match self {
            Self::Hour => 5 * 60,
            Self::Day => 3600,
            Self::Week => 6 * 3600,
        })
    }
}

/// One app's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFigures {
    pub app: String,
    pub provider: String,
    pub started: i64,
    pub completed: i64,
    /// Failed installs by the funnel's reason.
    pub failed: BTreeMap<String, i64>,
    pub cancelled: i64,
    pub abandoned: i64,
    pub uninstalled: i64,
    /// Grants the marketplace no longer honoured at a refresh.
    pub revoked: i64,
    /// Token refreshes that failed, by outcome (`timeout`, `error_status`, `invalid_grant`, …).
    pub refresh_failed: BTreeMap<String, i64>,
    /// Connections by status, now.
    pub connections: BTreeMap<String, i64>,
    /// Events waiting for delivery (some after failed attempts), now.
    pub deliveries_waiting: i64,
    /// Events given up, waiting for an operator's retry, now.
    pub deliveries_failed: i64,
}

impl AppFigures {
    pub fn failed_total(&self) -> i64 {
        self.failed.values().sum()
    }

    pub fn refresh_failed_total(&self) -> i64 {
        self.refresh_failed.values().sum()
    }
}

/// The figures of every app in `apps` (id and provider), since `since`.
pub async fn figures(
    apps: &[(String, String)],
    activity: &ActivityCounts,
    overview: &Overview,
    since: Timestamp,
) -> Result<Vec<AppFigures>, VaultError> {
    let mut by_app: BTreeMap<(String, String), AppFigures> = apps
        .iter()
        .map(|(app, provider)| {
            let figures = AppFigures {
                app: app.clone(),
                provider: provider.clone(),
                ..AppFigures::default()
            };
            ((app.clone(), provider.clone()), figures)
        })
        .collect();
    fn entry<'a>(
        by_app: &'a mut BTreeMap<(String, String), AppFigures>,
        app: &str,
        provider: &str,
    ) -> &'a mut AppFigures {
        by_app
            .entry((app.to_owned(), provider.to_owned()))
            .or_insert_with(|| AppFigures {
                app: app.to_owned(),
                provider: provider.to_owned(),
                ..AppFigures::default()
            })
    }
    for event in overview.events_since(since).await? {
        let figures = entry(&mut by_app, &event.app, &event.provider);
        match event.name.as_str() {
            "installation.completed" => figures.completed += event.count,
            "installation.cancelled" => figures.cancelled += event.count,
            "installation.abandoned" => figures.abandoned += event.count,
            "installation.uninstalled" => figures.uninstalled += event.count,
            "connection.revoked" => figures.revoked += event.count,
            _ => {}
        }
    }
    for count in activity.since(since).await? {
        let figures = entry(&mut by_app, &count.app, &count.provider);
        if count.step == STARTED {
            figures.started += count.count;
        } else if count.step == FAILED {
            *figures.failed.entry(count.reason).or_default() += count.count;
        } else if count.step == REFRESH_FAILED {
            *figures.refresh_failed.entry(count.reason).or_default() += count.count;
        }
    }
    for status in overview.connection_statuses().await? {
        *entry(&mut by_app, &status.app, &status.provider)
            .connections
            .entry(status.name)
            .or_default() += status.count;
    }
    for delivery in overview.deliveries().await? {
        let figures = entry(&mut by_app, &delivery.app, &delivery.provider);
        if delivery.name == "failed" {
            figures.deliveries_failed += delivery.count;
        } else {
            figures.deliveries_waiting += delivery.count;
        }
    }
    Ok(by_app.into_values().collect())
}

/// One bar of an app's chart: from `start`, installs completed and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub start: i64,
    pub completed: i64,
    pub failed: i64,
}

/// An app's completed and failed installs per bucket of the window ending at `now`.
pub async fn bars(
    app: &str,
    activity: &ActivityCounts,
    overview: &Overview,
    window: Window,
    now: Timestamp,
) -> Result<Vec<Bar>, VaultError> {
    let bucket = i64::try_from(window.bucket().as_millis()).unwrap_or(i64::MAX);
    let length = i64::try_from(window.length().as_millis()).unwrap_or(0);
    // One bar more than the window holds, so that the first one starts at or before the
    // window's start; what the bars count is the window's alone, as the table's figures are.
    let count = length / bucket + 1;
    let last = now.as_millis().div_euclid(bucket) * bucket;
    let first = last - (count - 1) * bucket;
    let mut bars: Vec<Bar> = (0..count)
        .map(|index| Bar {
            start: first + index * bucket,
            completed: 0,
            failed: 0,
        })
        .collect();
    let slot = |at: i64| -> Option<usize> { usize::try_from((at - first).div_euclid(bucket)).ok() };
    let since = Timestamp::from_millis(now.as_millis() - length);
    for (start, completed) in overview
        .event_series(app, "installation.completed", since, bucket)
        .await?
    {
        if let Some(bar) = slot(start).and_then(|index| bars.get_mut(index)) {
            bar.completed += completed;
        }
    }
    for (minute, failed) in activity.per_minute(app, FAILED, since).await? {
        if let Some(bar) = slot(minute * 60_000).and_then(|index| bars.get_mut(index)) {
            bar.failed += failed;
        }
    }
    Ok(bars)
}
