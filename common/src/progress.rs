//! The progress both command lines show on long work (a first sync, export,
//! import, backups, restore, purge, migration): a bar with counts and rate on
//! stderr when it is a terminal, and nothing at all otherwise or with `--json`,
//! so that scripts and logs see only the result.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};

/// A progress display; every method does nothing when it is hidden.
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
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {human_pos} ({per_sec}, {elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        // An error return drops the bar unfinished: it goes, leaving the message.
        let bar = bar.with_finish(ProgressFinish::AndClear);
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
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
        bar.enable_steady_tick(Duration::from_millis(120));
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

    /// Done: the bar goes, leaving the terminal as it was for the result.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
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
}
