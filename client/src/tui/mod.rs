//! The terminal UI (`cairn` with no arguments).
//!
//! # Layout
//! - [`App`] (`app.rs`): the state. [`App::update`] (`update.rs`) takes an [`Action`]
//!   and returns [`Effect`]s, with no I/O; [`App::draw`] (`draw.rs`) only reads.
//! - `run.rs`: the driver: terminal events in, effects out; writes go to a worker
//!   thread (`worker.rs`) that owns a replica clone, so fsync never blocks drawing;
//!   sync runs on its own thread (`crate::sync::Background`, wired in `sync.rs`) and
//!   reports as actions. At start the first frame is drawn while the replica opens,
//!   and `loader.rs` streams the records into the index from a thread.
//! - `index.rs`, `view.rs`: the in-memory row index of every record and the filtered,
//!   sorted window of the current kind. Only the selected record is held in full.
//! - One file per component: `tabs.rs`, `list.rs`, `detail.rs`, `status_bar.rs`,
//!   `help.rs`, `palette.rs`, `history.rs`, `charts.rs`, `potential_grid.rs`; the
//!   popups `form.rs` (with `line_input.rs`, `text_editor.rs`) and `conflict.rs`
//!   report outcomes (`popup.rs`); `external_editor.rs` runs `$VISUAL`/`$EDITOR`.
//! - Files: `attachments.rs` (a record's files in the details; attach, open, save
//!   elsewhere), the popup `path_popup.rs` over `path_input.rs` (a path with Tab
//!   completion); `file_jobs.rs` fetches content on a thread of its own and
//!   `opener.rs` runs `$OPENER` or the desktop's opener.
//! - What lives only on the server: `account.rs` shows the privacy notice when a
//!   round is refused until it is accepted (`notice.rs`, the popup) and the
//!   notification settings (`notifications.rs`); `server_calls.rs` makes those calls
//!   on a thread of their own.
//! - Finding records: `agenda.rs` (every open, dated record, from the index),
//!   `search_view.rs` (the search popup) over `query.rs` (the query language) and
//!   `search.rs` (the search thread over the replica); `navigate.rs` jumps from them
//!   to a record and steps through search results.
//! - `keys.rs`, `theme.rs`, `config.rs`: bindings and colours, overridable in
//!   `config.toml` (`[keys]`, `[colors]`); `text.rs`: every user-facing string.
//!
//! # For benchmarks
//! ```no_run
//! use cairn_client::replica::Replica;
//! use cairn_client::tui::{Action, App, Config};
//! use ratatui::{Terminal, backend::TestBackend};
//!
//! fn bench(replica: &Replica, today: chrono::NaiveDate) -> anyhow::Result<()> {
//! let mut app = App::new(replica, Config::default(), today)?; // reads every record once
//! let mut terminal = Terminal::new(TestBackend::new(120, 40))?;
//! app.update(Action::Resize { width: 120, height: 40 });
//! terminal.draw(|frame| app.draw(frame))?; // one frame
//! app.update(Action::FilterChar('a')); // one filter keystroke
//! Ok(())
//! }
//! ```

mod account;
mod action;
mod agenda;
mod app;
mod attachments;
mod charts;
mod config;
pub mod conflict;
mod detail;
mod draw;
mod editing;
pub mod external_editor;
mod file_jobs;
pub mod form;
mod help;
mod history;
mod index;
pub mod keys;
mod layout;
pub mod line_input;
mod links;
mod list;
mod loader;
mod navigate;
mod notice;
mod notifications;
mod one_on_one;
mod opener;
mod palette;
pub mod path_input;
mod path_popup;
mod person;
mod picker;
pub mod popup;
mod popups;
mod potential_grid;
pub mod query;
mod reader;
mod run;
pub mod search;
mod search_view;
mod server_calls;
mod state;
mod status_bar;
mod sync;
mod tabs;
mod text;
pub mod text_editor;
pub mod theme;
mod undo;
mod update;
mod view;
mod worker;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use action::{
    Action, Command, Effect, FileJob, FileJobDone, FileJobProblem, FileJobReport, HistoryLine,
    SaveReport, ServerAnswer, ServerCall, SyncProblem, SyncReport, Synced, Write, WriteKind,
};
pub use app::{App, Message, SyncStatus};
pub use config::{Config, ConfigError};
pub use loader::spawn as spawn_loader;
pub use run::run;
pub use worker::{load, load_history, perform_write};
