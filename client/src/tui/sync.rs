//! The TUI's side of sync: the app's reaction to rounds (rows updated, spaces and the
//! status bar), switching the space new records go to, and the glue that turns the
//! background thread's events into actions. Also `tui.sock`, which serves `cairn sync`
//! and the other shells' `cairn` commands: what they change shows at once.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use cairn_common::{RecordId, RecordState};

use super::action::{Action, Effect, SyncProblem, SyncReport, Synced};
use super::app::{App, SyncStatus};
use super::text;
use crate::cli::Served;
use crate::paths::Paths;
use crate::replica::Replica;
use crate::socket::Listener;
use crate::sync::{Background, Event};

impl App {
    /// A round began on the sync thread.
    pub(super) fn on_sync_started(&mut self) {
        self.sync = SyncStatus::Syncing;
    }

    /// A round ended: changed records go into the row index (conflicts that arrived
    /// show in the list, the count and the conflict view), removed ones leave it. A
    /// round refused for a changed privacy notice fetches the notice to show it.
    pub(super) fn on_synced(&mut self, report: SyncReport) -> Vec<Effect> {
        self.pending = report.pending;
        self.set_aside = report.set_aside;
        match report.result {
            Ok(synced) => {
                // A round may have downloaded or tidied away content: look again.
                self.detail.checked.clear();
                self.apply_synced(synced);
                self.sync = SyncStatus::Synced;
                self.notice_no_longer_needed();
            }
            Err(SyncProblem::NotLoggedIn) => self.sync = SyncStatus::Off,
            Err(SyncProblem::Offline) => self.sync = SyncStatus::Offline,
            Err(SyncProblem::ConsentRequired) => {
                self.sync = SyncStatus::ConsentRequired;
                return self.fetch_notice(false);
            }
            Err(SyncProblem::Failed(reason)) => self.sync = SyncStatus::Failed(reason),
        }
        Vec::new()
    }

    fn apply_synced(&mut self, synced: Synced) {
        let Synced {
            states,
            removed,
            spaces,
            spaces_added,
            spaces_dropped,
            newly_set_aside,
        } = synced;
        self.apply_changes(&states, &removed);
        if !spaces.is_empty() {
            self.set_spaces(spaces);
        }
        if let Some(message) = text::spaces_changed(&spaces_added, &spaces_dropped) {
            self.info(message);
        }
        if newly_set_aside > 0 {
            self.error(text::set_aside_now(newly_set_aside));
        }
    }

    /// A `cairn` command in another shell changed records: they show at once.
    pub(super) fn on_records_changed(&mut self, states: &[RecordState]) {
        if states.is_empty() {
            return;
        }
        self.apply_changes(states, &[]);
        self.info(text::changed_from_shell(states.len()));
    }

    /// Puts records changed elsewhere (sync, another shell) into the row index and the
    /// detail pane; `removed` ones leave them.
    fn apply_changes(&mut self, states: &[RecordState], removed: &[RecordId]) {
        if states.is_empty() && removed.is_empty() {
            return;
        }
        self.index.update_many(states);
        for id in removed {
            self.index.remove(id);
        }
        for view in &mut self.views {
            view.stale = true;
        }
        if let Some(state) = self
            .detail
            .id
            .and_then(|id| states.iter().find(|s| s.id == id))
        {
            self.detail.state = Some(state.clone());
        }
        if self.detail.id.is_some_and(|id| removed.contains(&id)) {
            self.detail.state = None;
        }
        self.refresh_view();
    }

    /// The `s` key: sync now (the thread re-reads the session, so a login made in
    /// another shell counts).
    pub(super) fn request_sync(&mut self) -> Vec<Effect> {
        if self.sync == SyncStatus::Off {
            self.info(text::NOT_LOGGED_IN.to_owned());
        }
        vec![Effect::Sync]
    }

    /// The spaces new records may go to: those the user may edit.
    pub(super) fn writable_spaces(&self) -> Vec<(cairn_common::model::SpaceId, String)> {
        self.spaces
            .iter()
            .filter(|k| k.role.can_edit())
            .map(|k| (k.space.id, k.space.name.clone()))
            .collect()
    }

    /// New records go to the next writable space, in the order of the space list.
    pub(super) fn next_space(&mut self) {
        let writable = self.writable_spaces();
        if writable.len() < 2 {
            self.info(text::ONLY_ONE_SPACE.to_owned());
            return;
        }
        let at = writable.iter().position(|(id, _)| *id == self.space);
        let (id, _) = &writable[at.map_or(0, |i| (i + 1) % writable.len())];
        self.choose_space(*id);
    }

    /// New records go to `space`, if the user may write there.
    pub(super) fn choose_space(&mut self, space: cairn_common::model::SpaceId) {
        let Some(known) = self.spaces.iter().find(|k| k.space.id == space) else {
            return;
        };
        if !known.role.can_edit() {
            let message = text::space_read_only(&known.space.name);
            self.error(message);
            return;
        }
        self.space = space;
        self.space_name.clone_from(&known.space.name);
        self.info(text::space_chosen(&self.space_name));
    }
}

/// Starts the sync thread on `replica`; its events arrive on `actions`.
pub fn start(
    replica: &Replica,
    interval: std::time::Duration,
    actions: Sender<Action>,
) -> Background {
    let reader = replica.clone();
    Background::start(replica.clone(), interval, move |event| {
        let action = match event {
            Event::NoSession => Action::Synced(SyncReport {
                result: Err(SyncProblem::NotLoggedIn),
                pending: reader.outbox_len(),
                set_aside: reader.set_aside_counts().unwrap_or_default(),
            }),
            Event::Started => Action::SyncStarted,
            Event::Finished(result) => Action::Synced(report(&reader, result)),
        };
        // The UI is gone when this fails; the round's work is saved all the same.
        let _ = actions.send(action);
    })
}

/// Serves `tui.sock`: `cairn sync` gets a round from `sync`, other `cairn` commands
/// run on `replica` on the socket's threads, and the records they change reach the app
/// as [`Action::RecordsChanged`]. `None` when the socket cannot be created: the TUI
/// runs on, and other shells are told to close it.
pub fn serve_socket(
    paths: &Paths,
    replica: &Replica,
    sync: &Background,
    actions: Sender<Action>,
) -> Option<Listener> {
    let reader = replica.clone();
    let changed = move |ids: Vec<RecordId>| {
        // A record that cannot be read now is shown by the next change or restart;
        // the command's work is saved either way.
        let states = ids
            .iter()
            .filter_map(|id| reader.record(id).ok().flatten())
            .collect();
        // The UI is gone when these fail; nothing is lost.
        let _ = actions.send(Action::RecordsChanged(states));
        let _ = actions.send(Action::Pending(reader.outbox_len()));
    };
    let served = Served::new(paths.clone(), replica.clone(), sync.handle(), changed);
    Listener::start(&paths.data_dir, Arc::new(served)).ok()
}

/// Reads what the app needs of a finished round: the changed records' states and the
/// spaces. Runs on the sync thread, so the screen never waits for it.
fn report(
    replica: &Replica,
    result: Result<crate::sync::SyncSummary, crate::sync::SyncError>,
) -> SyncReport {
    let pending = replica.outbox_len();
    let result = match result {
        Ok(summary) => {
            let mut states = Vec::with_capacity(summary.changed.len());
            let mut failed = None;
            for id in &summary.changed {
                match replica.record(id) {
                    Ok(Some(state)) => states.push(state),
                    Ok(None) => {}
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            match (failed, replica.known_spaces()) {
                (None, Ok(spaces)) => Ok(Synced {
                    states,
                    removed: summary.removed,
                    spaces,
                    spaces_added: summary.spaces_added,
                    spaces_dropped: summary.spaces_dropped,
                    newly_set_aside: summary.undelivered + summary.quarantined,
                }),
                (Some(e), _) => Err(SyncProblem::Failed(e)),
                (None, Err(e)) => Err(SyncProblem::Failed(e.to_string())),
            }
        }
        Err(e) => Err(super::server_calls::problem_of(&e)),
    };
    // A failure to count is shown as nothing set aside; the next round counts again.
    let set_aside = replica.set_aside_counts().unwrap_or_default();
    SyncReport {
        result,
        pending,
        set_aside,
    }
}
