//! The work behind effects. Writes run on a worker thread that owns a replica clone,
//! because a commit waits for fsync and the screen must not; the worker answers with
//! [`Action::Saved`] over a channel. Reads of one record are fast (sled's cache) and run
//! on the caller's thread.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use cairn_common::model::spec_of;
use cairn_common::op::Op;
use cairn_common::{RecordId, RecordState};

use super::action::{Action, ChangeStep, HistoryLine, SaveReport, Write, WriteKind};
use super::text;
use crate::change_log::{self, What};
use crate::present;
use crate::replica::{Replica, ReplicaError};

/// Turns a write into ops with the replica's draft functions and commits them. The
/// record's state before and after make the step that undo goes back from.
#[must_use]
pub fn perform_write(replica: &Replica, write: &Write) -> SaveReport {
    let before = write
        .record()
        .and_then(|id| replica.record(&id).ok().flatten())
        .map(Box::new);
    let result = ops_for(replica, write)
        .and_then(|ops| Ok(replica.commit(&ops)?))
        .and_then(|summary| {
            let mut states = Vec::with_capacity(summary.records.len());
            for id in &summary.records {
                if let Some(state) = replica.record(id)? {
                    states.push(state);
                }
            }
            Ok(states)
        })
        .map_err(|e| e.to_string());
    let step = match &result {
        Ok(states) if states.len() == 1 => Some(ChangeStep {
            id: states[0].id,
            before,
            after: Box::new(states[0].clone()),
        }),
        _ => None,
    };
    SaveReport {
        write: WriteKind::from(write),
        result,
        step,
    }
}

/// Why a write's ops could not be made or committed.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// A file to add could not be read or copied into the cache.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}

fn ops_for(replica: &Replica, write: &Write) -> Result<Vec<Op>, WriteError> {
    let current = |id: &RecordId| {
        replica
            .record(id)?
            .ok_or_else(|| ReplicaError::NotFound(id.short()))
    };
    match write {
        Write::Create {
            kind,
            space,
            fields,
            today,
        } => Ok(replica.create_ops(*kind, *space, fields.clone(), *today)?.1),
        // Copying the content (hashing it on the way) is the slow part, and it is
        // here, on the worker, like the commit.
        Write::AddFile {
            path,
            space,
            record,
            today,
        } => Ok(crate::files::add(
            replica,
            &super::file_jobs::expand(path),
            *space,
            *record,
            *today,
        )?
        .1),
        Write::Update { base, fields } => Ok(replica.update_ops(base, fields.clone())?),
        Write::Delete { id } => Ok(vec![replica.delete_op(&current(id)?)]),
        Write::Restore { id } => Ok(vec![replica.restore_op(&current(id)?)]),
        Write::Done { id, today } => Ok(replica.done_ops(&current(id)?, *today)?),
        Write::Resolve { base, field, value } => {
            Ok(vec![replica.set_op(base, field, value.clone())?])
        }
        Write::Revert { id, to, .. } => Ok(replica.revert_ops(&current(id)?, to.as_deref())?),
        Write::Link { id, field, target } => {
            let state = current(id)?;
            let mut links = match state.get(field) {
                Some(cairn_common::Value::Refs(links)) => links.clone(),
                _ => Vec::new(),
            };
            if links.contains(target) {
                return Ok(Vec::new());
            }
            links.push(*target);
            Ok(vec![replica.set_op(
                &state,
                field,
                cairn_common::Value::Refs(links),
            )?])
        }
        Write::RevertTo { id, version } => {
            let history = replica.history(id)?;
            let Some(at) = history
                .iter()
                .find(|op| op.id == *version)
                .map(|op| (op.at, op.id))
            else {
                return Err(ReplicaError::NotFound(version.to_string()).into());
            };
            // History is in clock order: the version is every op up to this one.
            let upto = history.iter().filter(|op| (op.at, op.id) <= at);
            let target = cairn_common::merge::materialize(upto).remove(id);
            Ok(replica.revert_ops(&current(id)?, target.as_ref())?)
        }
    }
}

/// Reads one record for the detail pane.
#[must_use]
pub fn load(replica: &Replica, id: RecordId) -> Action {
    Action::Loaded {
        id,
        result: replica.record(&id).map_err(|e| e.to_string()),
    }
}

/// Gathers everything about a person for the person screen (one pass over the
/// replica's records).
#[must_use]
pub fn load_person(replica: &Replica, id: RecordId, today: chrono::NaiveDate) -> Action {
    let result = replica
        .record(&id)
        .and_then(|state| {
            let state = state.ok_or_else(|| ReplicaError::NotFound(id.short()))?;
            crate::people::overview(replica, &state, today)
        })
        .map_err(|e| e.to_string());
    Action::PersonLoaded(result)
}

/// Reads a record's history as lines for the history popup.
#[must_use]
pub fn load_history(replica: &Replica, id: RecordId) -> Action {
    let result = replica
        .record(&id)
        .and_then(|state| Ok((state, replica.history(&id)?)))
        .map(|(state, ops)| {
            change_log::entries(&ops)
                .iter()
                .map(|entry| history_line(state.as_ref(), entry))
                .collect()
        })
        .map_err(|e| e.to_string());
    Action::HistoryLoaded { id, result }
}

fn history_line(state: Option<&RecordState>, entry: &change_log::Entry) -> HistoryLine {
    let kind = state.and_then(|s| s.kind);
    let what = match &entry.what {
        What::Created(kind) => text::history_created(*kind),
        What::Set { field, old, new } => {
            let label = kind
                .and_then(|k| spec_of(k, field).ok())
                .map_or(field.as_str(), |s| s.label);
            let old: Vec<String> = old.iter().map(|v| present::short_text(field, v)).collect();
            text::history_set(label, &old, &present::short_text(field, new))
        }
        What::Deleted => text::HISTORY_DELETED.to_owned(),
        What::Restored => text::HISTORY_RESTORED.to_owned(),
    };
    let when = present::timestamp(entry.at);
    HistoryLine {
        op: entry.op,
        when: when.get(..16).unwrap_or(&when).replace('T', " "),
        who: entry.author.short(),
        what,
    }
}

/// The thread that reads people's overviews: of the requests waiting when it is
/// free, only the newest is read (the others were overtaken by it). It ends when
/// the worker is dropped.
fn spawn_people_reader(replica: Replica, replies: Sender<Action>) -> Sender<PersonRequest> {
    let (requests, inbox) = channel::<PersonRequest>();
    std::thread::spawn(move || {
        while let Ok(mut request) = inbox.recv() {
            while let Ok(newer) = inbox.try_recv() {
                request = newer;
            }
            let (id, today) = request;
            if replies.send(load_person(&replica, id, today)).is_err() {
                // The UI is gone: nobody is waiting for overviews any more.
                return;
            }
        }
    });
    requests
}

/// The thread that commits writes, in the order they were asked for.
pub struct Worker {
    writes: Sender<Write>,
    thread: JoinHandle<()>,
    /// Requests for a person's overview, read by one thread of their own that
    /// answers only the newest of those waiting (pressing `p` fast reads once).
    people: Sender<PersonRequest>,
}

/// A person whose overview is wanted, and the day it is for.
type PersonRequest = (RecordId, chrono::NaiveDate);

impl Worker {
    /// Starts the worker; it answers each write on `replies`.
    #[must_use]
    pub fn spawn(replica: Replica, replies: Sender<Action>) -> Self {
        let people = spawn_people_reader(replica.clone(), replies.clone());
        let (writes, inbox): (Sender<Write>, Receiver<Write>) = channel();
        let thread = std::thread::spawn(move || {
            for write in inbox {
                let report = perform_write(&replica, &write);
                if replies.send(Action::Saved(report)).is_err() {
                    // The UI is gone; keep committing what was asked, nothing is lost.
                    continue;
                }
                // One read of a counter: the status bar's "pending N".
                let _ = replies.send(Action::Pending(replica.outbox_len()));
            }
        });
        Self {
            writes,
            thread,
            people,
        }
    }

    /// Gathers a person's overview on the people reader's thread (it reads every
    /// record), answering with [`Action::PersonLoaded`], so the screen never waits
    /// for it. If that thread is gone, the overview is read here and returned.
    #[must_use]
    pub fn load_person(
        &self,
        replica: &Replica,
        id: RecordId,
        today: chrono::NaiveDate,
    ) -> Option<Action> {
        match self.people.send((id, today)) {
            Ok(()) => None,
            Err(_) => Some(load_person(replica, id, today)),
        }
    }

    /// Queues a write. If the worker died, the write is done here so nothing is lost,
    /// and its report is returned for the caller to pass on.
    #[must_use]
    pub fn send(&self, write: Write, replica: &Replica) -> Option<SaveReport> {
        match self.writes.send(write) {
            Ok(()) => None,
            Err(failed) => Some(perform_write(replica, &failed.0)),
        }
    }

    /// Waits until every queued write is committed.
    pub fn finish(self) {
        drop(self.writes);
        // A panic on the worker has already been reported by the panic hook.
        let _ = self.thread.join();
    }
}
