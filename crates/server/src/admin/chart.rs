//! A small bar chart of an app's installs, drawn on the server as inline SVG (no chart library,
//! no script): completed and failed installs side by side in each bucket, with a text
//! alternative that says the totals.

use maud::{Markup, html};

use super::figures::Bar;

const WIDTH: i64 = 480;
const HEIGHT: i64 = 120;
const COMPLETED: &str = "#1f6f43";
const FAILED: &str = "#b3261e";

pub fn installs(app: &str, bars: &[Bar], period: &str) -> Markup {
    let completed: i64 = bars.iter().map(|bar| bar.completed).sum();
    let failed: i64 = bars.iter().map(|bar| bar.failed).sum();
    let top = bars
        .iter()
        .map(|bar| bar.completed.max(bar.failed))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / i64::try_from(bars.len().max(1)).unwrap_or(1);
    let bar_width = (slot / 2 - 1).max(1);
    let height = |value: i64| value * (HEIGHT - 10) / top;
    let label = format!("{app}: {completed} installs completed and {failed} failed in this period");
    html! {
        svg class="chart" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT + 16) viewBox=(format!("0 0 {WIDTH} {}", HEIGHT + 16)) role="img" aria-label=(label) {
            title { (label) }
            line x1="0" y1=(HEIGHT) x2=(WIDTH) y2=(HEIGHT) stroke="#6b7280" {}
            text x="0" y=(HEIGHT + 13) font-size="11" fill="#4b5563" { (period) " ago" }
            text x=(WIDTH) y=(HEIGHT + 13) font-size="11" fill="#4b5563" text-anchor="end" { "now" }
            @for (index, bar) in bars.iter().enumerate() {
                @let x = i64::try_from(index).unwrap_or(0) * slot;
                @if bar.completed > 0 {
                    rect x=(x) y=(HEIGHT - height(bar.completed)) width=(bar_width) height=(height(bar.completed)) fill=(COMPLETED) {}
                }
                @if bar.failed > 0 {
                    rect x=(x + bar_width + 1) y=(HEIGHT - height(bar.failed)) width=(bar_width) height=(height(bar.failed)) fill=(FAILED) {}
                }
            }
        }
        p class="hint" {
            svg width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(COMPLETED) {} }
            " completed  "
            svg width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(FAILED) {} }
            " failed"
        }
    }
}
