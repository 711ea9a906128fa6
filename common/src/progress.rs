//! The progress both command lines show on long work (a first sync, export,
//! import, backups, restore, purge, migration): a bar with counts and rate on
//! stderr when it is a terminal, and nothing at all otherwise or with `--json`,
//! so that scripts and logs see only the result.
//!
//! The work itself reports through [`Report`]: named steps, each with a total if
//! one is known cheaply, counted in items or bytes. [`Progress`] draws them;
//! [`Quiet`] drops them (tests, the HTTP API). `cairn-server` commands that run
//! inside a running server report into its control socket, which forwards the
//! latest state to the command line's [`Progress`].

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
use serde::{Deserialize, Serialize};

/// What a step counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Things (ops, spaces, files), shown as `1,234/5,000 (812/s)`.
    #[default]
    Items,
    /// Bytes, shown as `12.5 MiB/80 MiB (9.1 MiB/s)`.
    Bytes,
}

/// Where long work says how far it is. Cheap to call per item: an implementation
/// must not block or format anything in [`Report::add`].
pub trait Report: Send + Sync {
    /// A new step named `what` (a few words, e.g. "exporting: ops") of `total`
    /// `unit`s if known; its count starts at 0.
    fn step(&self, what: &str, total: Option<u64>, unit: Unit);
    /// `n` more done in the current step.
    fn add(&self, n: u64);
}

/// A [`Report`] that drops everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Report for Quiet {
    fn step(&self, _what: &str, _total: Option<u64>, _unit: Unit) {}
    fn add(&self, _n: u64) {}
}

/// How often a shown display is redrawn even without news (spinners, rates).
const TICK: Duration = Duration::from_millis(120);

fn style(total: Option<u64>, unit: Unit) -> ProgressStyle {
    let (template, fallback) = match (total, unit) {
        (Some(_), Unit::Items) => (
            "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
            ProgressStyle::default_bar(),
        ),
        (Some(_), Unit::Bytes) => (
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
            ProgressStyle::default_bar(),
        ),
        (None, Unit::Items) => (
            "{spinner} {msg} {human_pos} ({per_sec}, {elapsed})",
            ProgressStyle::default_spinner(),
        ),
        (None, Unit::Bytes) => (
            "{spinner} {msg} {bytes} ({bytes_per_sec}, {elapsed})",
            ProgressStyle::default_spinner(),
        ),
    };
    ProgressStyle::with_template(template)
        .unwrap_or(fallback)
        .progress_chars("=> ")
}

/// A progress display; every method does nothing when it is hidden. Counts are
/// drawn by a steady tick, and at once when a step begins or ends (also by
/// [`Progress::finish`]).
#[derive(Clone, Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Progress of `what` over `total` items (a spinner with a count when the
    /// total is unknown), shown only on a terminal and when not `quiet`.
    #[must_use]
    pub fn new(what: &str, total: Option<u64>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self::hidden();
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        }
        .with_style(style(total, Unit::Items));
        // An error return drops the bar unfinished: it goes, leaving the message.
        let bar = bar.with_finish(ProgressFinish::AndClear);
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(TICK);
        Self { bar }
    }

    /// Work whose size is not known and not counted here (it runs elsewhere, e.g.
    /// in the server behind its control socket): a spinner with the time taken.
    #[must_use]
    pub fn working(what: &str, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self::hidden();
        }
        let bar = ProgressBar::new_spinner()
            .with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
            .with_finish(ProgressFinish::AndClear);
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(TICK);
        Self { bar }
    }

    /// A display that shows nothing.
    #[must_use]
    pub fn hidden() -> Self {
        Self {
            bar: ProgressBar::hidden(),
        }
    }

    /// Whether anything is shown.
    #[must_use]
    pub fn is_shown(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// `n` more items done.
    pub fn add(&self, n: u64) {
        self.bar.inc(n);
    }

    /// `done` items done in all.
    pub fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// The total became known or changed.
    pub fn set_total(&self, total: u64) {
        self.bar.set_length(total);
    }

    /// Another step of the work, named.
    pub fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
    }

    /// Done: the bar goes, leaving the terminal as it was for the result. Its last
    /// state is drawn first (between ticks, counts are not drawn at once).
    pub fn finish(&self) {
        if !self.bar.is_hidden() {
            self.bar.force_draw();
        }
        self.bar.finish_and_clear();
    }
}

impl Report for Progress {
    /// Resets the count and the rate, and shows a bar if `total` is known, else a
    /// counter.
    fn step(&self, what: &str, total: Option<u64>, unit: Unit) {
        if self.bar.is_hidden() {
            return;
        }
        // The step that ends is drawn as it ended, so its final count shows.
        self.bar.force_draw();
        self.bar.set_style(style(total, unit));
        self.bar.reset();
        match total {
            Some(total) => self.bar.set_length(total),
            None => self.bar.unset_length(),
        }
        self.bar.set_message(what.to_owned());
        // Drawn now, past the rate limit: a step is rare, and even a short one shows.
        self.bar.force_draw();
    }

    fn add(&self, n: u64) {
        self.bar.inc(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Off a terminal (as in tests) or quiet, nothing is shown and every call is
    /// harmless.
    #[test]
    fn hidden_off_a_terminal() {
        let progress = Progress::new("exporting", Some(10), false);
        assert!(!progress.is_shown() || std::io::stderr().is_terminal());
        let quiet = Progress::new("exporting", None, true);
        assert!(!quiet.is_shown());
        quiet.add(3);
        quiet.set(5);
        quiet.set_total(9);
        quiet.step("files");
        quiet.finish();
    }

    /// The hidden display and [`Quiet`] take every report, in any order, without
    /// a step first or with counts past the total.
    #[test]
    fn hidden_reporters_are_harmless() {
        let hidden = Progress::hidden();
        for report in [&hidden as &dyn Report, &Quiet] {
            report.add(7);
            report.step("copying", Some(3), Unit::Bytes);
            report.add(10);
            report.step("checking", None, Unit::Items);
            report.add(u64::MAX);
        }
        assert!(!hidden.is_shown());
        hidden.finish();
    }
}
