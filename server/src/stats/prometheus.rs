//! The stored statistics as Prometheus text (exposition format 0.0.4): per UTC day
//! and endpoint, `cairn_http_requests_total` per status class and the histogram
//! `cairn_http_request_duration_seconds`. Each day's series stops growing when
//! the day ends and goes when the day is swept.

use std::fmt::Write;

use crate::store::{BUCKET_BOUNDS_US, CLASSES, TelemetryEntry};

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `YYYY-MM-DD` of a day since 1970.
fn date(day: u32) -> String {
    chrono::DateTime::from_timestamp(i64::from(day) * 86_400, 0)
        .map_or_else(|| day.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// A label value with `\`, `"` and newlines escaped as the format asks.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Seconds from microseconds, as Prometheus wants them.
fn seconds(us: u64) -> f64 {
    // Exact below 2^53 µs (285 years): the precision lost above that is irrelevant.
    #[allow(clippy::cast_precision_loss)]
    let us = us as f64;
    us / 1e6
}

/// The text of every entry.
#[must_use]
pub fn render(entries: &[TelemetryEntry]) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, entries);
    out
}

fn write_all(out: &mut String, entries: &[TelemetryEntry]) -> std::fmt::Result {
    writeln!(
        out,
        "# HELP cairn_http_requests_total Requests answered, per UTC day, endpoint and status class."
    )?;
    writeln!(out, "# TYPE cairn_http_requests_total counter")?;
    for e in entries {
        let labels = format!(
            "day=\"{}\",endpoint=\"{}\"",
            date(e.day),
            escape(&e.endpoint)
        );
        for (class, n) in CLASSES.iter().zip(e.counts.classes) {
            writeln!(
                out,
                "cairn_http_requests_total{{{labels},class=\"{class}\"}} {n}"
            )?;
        }
    }
    writeln!(
        out,
        "# HELP cairn_http_request_duration_seconds Time to answer a request, per UTC day and endpoint."
    )?;
    writeln!(out, "# TYPE cairn_http_request_duration_seconds histogram")?;
    for e in entries {
        let labels = format!(
            "day=\"{}\",endpoint=\"{}\"",
            date(e.day),
            escape(&e.endpoint)
        );
        let mut cumulative = 0u64;
        for (i, n) in e.counts.buckets.iter().enumerate() {
            cumulative = cumulative.saturating_add(*n);
            let le = BUCKET_BOUNDS_US
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |us| seconds(*us).to_string());
            writeln!(
                out,
                "cairn_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
            )?;
        }
        writeln!(
            out,
            "cairn_http_request_duration_seconds_sum{{{labels}}} {}",
            seconds(e.counts.sum_us)
        )?;
        writeln!(
            out,
            "cairn_http_request_duration_seconds_count{{{labels}}} {cumulative}"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DayCounts;

    /// Buckets are cumulative, `le` in seconds, the count equals +Inf, and labels
    /// carry the date and the escaped endpoint.
    #[test]
    fn renders_cumulative_histogram() {
        let mut counts = DayCounts {
            classes: [3, 0, 1, 0],
            ..DayCounts::default()
        };
        counts.buckets[0] = 2;
        counts.buckets[2] = 1;
        counts.buckets[14] = 1;
        counts.sum_us = 20_001_500;
        let text = render(&[TelemetryEntry {
            day: 19_675,
            endpoint: "a\"b".into(),
            counts,
        }]);
        let labels = "day=\"2023-11-14\",endpoint=\"a\\\"b\"";
        for line in [
            format!("cairn_http_requests_total{{{labels},class=\"2xx\"}} 3"),
            format!("cairn_http_requests_total{{{labels},class=\"4xx\"}} 1"),
            format!("cairn_http_request_duration_seconds_bucket{{{labels},le=\"0.0005\"}} 2"),
            format!("cairn_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}} 2"),
            format!("cairn_http_request_duration_seconds_bucket{{{labels},le=\"0.0025\"}} 3"),
            format!("cairn_http_request_duration_seconds_bucket{{{labels},le=\"10\"}} 3"),
            format!("cairn_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"),
            format!("cairn_http_request_duration_seconds_sum{{{labels}}} 20.0015"),
            format!("cairn_http_request_duration_seconds_count{{{labels}}} 4"),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
