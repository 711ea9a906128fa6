//! One sync round: push the outbox in chunks, then pull every space until the server
//! has nothing more, applying each page and its cursors as one batch.
//!
//! Push is idempotent by op id, so a round that failed halfway is simply run again:
//! only what the server acknowledged is drained, and only what was applied moves a
//! cursor. A refusal concerns one space or record: what can never be delivered is
//! set aside (`cairn undelivered`), what may pass later stays queued, and the rest
//! of the round goes on.
//!
//! Every answer carries the server's epoch. When it is not the one this replica's
//! cursors belong to, the server's history was replaced (restored from a backup,
//! imported): the round starts over ([`Replica::start_over`]): every cursor back to
//! 0, every op this user wrote queued again, pushed, and everything pulled again.

use std::collections::{HashMap, HashSet};

use cairn_common::RecordId;
use cairn_common::api::{
    Cursor, Epoch, MAX_PULL_OPS, MAX_PUSH_OPS, PullRequest, PullResponse, PushRequest,
    PushResponse, RefusalReason, endpoints,
};
use cairn_common::model::SpaceId;
use serde::{Deserialize, Serialize};

use super::SyncError;
use super::client::Client;
use cairn_common::progress::Progress;

use crate::replica::{Replica, SetAsideCounts};

/// Most pull pages in one round: a server that keeps saying "more" without sending
/// anything must not keep a client busy forever.
const MAX_PAGES: usize = 100_000;

/// What a round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
    /// Files whose content went to the server in this round.
    #[serde(default)]
    pub files_uploaded: usize,
    /// Files the server refused for good (too large, the space full), and why.
    #[serde(default)]
    pub files_refused: Vec<String>,
    /// Local ops the server stored now.
    pub pushed: usize,
    /// Local ops the server already had (an earlier push got through).
    pub duplicates: usize,
    /// Ops from the server that were new here.
    pub pulled: usize,
    /// Names of spaces that appeared.
    pub spaces_added: Vec<String>,
    /// Names of spaces taken away, dropped here.
    pub spaces_dropped: Vec<String>,
    /// Records in conflict now, if counted (a full scan; the TUI counts its own).
    pub conflicts: Option<usize>,
    /// Local ops still waiting (0 after a complete round).
    pub pending: usize,
    /// Local ops kept back because their space is read-only for this user now (they
    /// stay queued, and go out if the role comes back).
    pub held: usize,
    /// Local ops the server refused for now (a clock ahead of the server's, a
    /// record its author has not pushed yet); they stay queued and go out later.
    pub waiting: usize,
    /// Local ops set aside in this round: the server will never take them.
    pub undelivered: usize,
    /// Ops from the server set aside in this round: this replica will not merge them.
    pub quarantined: usize,
    /// Everything set aside so far (`cairn undelivered` lists it).
    pub set_aside: SetAsideCounts,
    /// Why ops were refused or set aside in this round, for a person.
    pub notices: Vec<String>,
    /// Set when the server's history was replaced and this round started over.
    pub recovery: Option<Recovery>,
    /// Records whose state changed.
    #[serde(skip)]
    pub changed: Vec<RecordId>,
    /// Records removed with dropped spaces.
    #[serde(skip)]
    pub removed: Vec<RecordId>,
}

/// What starting over after a replaced server history did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// The server's new epoch.
    pub epoch: String,
    /// Ops of this user queued again.
    pub requeued: usize,
    /// Of those, the ones the server had lost and took back.
    pub restored: usize,
}

/// How a pull ended.
enum Pulled {
    Done,
    /// The server's history is another one now: start over.
    NewEpoch(Epoch),
}

/// Runs one round against the server. `count_conflicts` scans every record at the end.
///
/// # Errors
/// A [`SyncError`]; what was done before it stays done (drained pushes, applied pages).
pub fn sync_round(
    replica: &Replica,
    client: &Client,
    count_conflicts: bool,
) -> Result<SyncSummary, SyncError> {
    sync_round_showing(replica, client, count_conflicts, &Progress::hidden())
}

/// [`sync_round`], counting the changes pulled on `progress` (a first sync of a
/// large space takes a while).
///
/// # Errors
/// As [`sync_round`].
pub fn sync_round_showing(
    replica: &Replica,
    client: &Client,
    count_conflicts: bool,
    progress: &Progress,
) -> Result<SyncSummary, SyncError> {
    let mut summary = SyncSummary::default();
    // Content first: the ops that name a file go out once the server has it.
    let uploads = crate::files::upload_pending(replica, client)?;
    summary.files_uploaded = uploads.done;
    summary.files_refused = uploads.notices;
    if let Some(epoch) = push(replica, client, &mut summary)? {
        check_epoch(replica, client, epoch, &mut summary)?;
    }
    if let Pulled::NewEpoch(epoch) = pull(replica, client, &mut summary, progress)? {
        start_over(replica, client, epoch, &mut summary)?;
        if let Pulled::NewEpoch(_) = pull(replica, client, &mut summary, progress)? {
            return Err(SyncError::BadResponse {
                status: 200,
                detail: "the server's history changed again during this sync; run sync again"
                    .into(),
            });
        }
    }
    summary.pending = replica.outbox_len();
    summary.set_aside = replica.set_aside_counts()?;
    // Content of files purged or of spaces gone leaves this device too.
    if let Err(e) = crate::files::tidy(replica, u64::MAX) {
        summary
            .notices
            .push(format!("the local file cache could not be tidied: {e}"));
    }
    // And so does their data in this device's local backups.
    if let Err(e) = crate::backup::forget_gone(replica, summary.recovery.is_some()) {
        summary.notices.push(format!(
            "local backups holding data that was deleted could not be deleted: {e:#}"
        ));
    }
    summary.notices.sort();
    summary.notices.dedup();
    if count_conflicts {
        let mut conflicts = 0;
        for state in replica.records() {
            let state = state?;
            conflicts += usize::from(!state.is_deleted() && !state.conflicts().is_empty());
        }
        summary.conflicts = Some(conflicts);
    }
    Ok(summary)
}

/// Acts on the epoch a push answer carried.
fn check_epoch(
    replica: &Replica,
    client: &Client,
    epoch: Epoch,
    summary: &mut SyncSummary,
) -> Result<(), SyncError> {
    if replica.epoch()? == Some(epoch) {
        return Ok(());
    }
    if replica.has_pulled()? {
        start_over(replica, client, epoch, summary)
    } else {
        Ok(replica.set_epoch(epoch)?)
    }
}

/// The server's history was replaced: queue again what this user wrote, forget the
/// cursors, push. The pull that follows fetches everything again.
fn start_over(
    replica: &Replica,
    client: &Client,
    epoch: Epoch,
    summary: &mut SyncSummary,
) -> Result<(), SyncError> {
    if summary.recovery.is_some() {
        return Err(SyncError::BadResponse {
            status: 200,
            detail: "the server's history changed again during this sync; run sync again".into(),
        });
    }
    let requeued = replica.start_over(epoch)?;
    let before = summary.pushed;
    summary.recovery = Some(Recovery {
        epoch: epoch.to_string(),
        requeued,
        restored: 0,
    });
    push(replica, client, summary)?;
    if let Some(recovery) = summary.recovery.as_mut() {
        recovery.restored = summary.pushed - before;
    }
    Ok(())
}

/// Pushes the outbox in chunks; returns the epoch the server answered with, if it
/// was asked anything.
fn push(
    replica: &Replica,
    client: &Client,
    summary: &mut SyncSummary,
) -> Result<Option<Epoch>, SyncError> {
    let mut epoch = None;
    let mut from = 0;
    loop {
        let read_only: HashSet<SpaceId> = replica
            .known_spaces()?
            .into_iter()
            .filter(|k| !k.role.can_edit())
            .map(|k| k.space.id)
            .collect();
        let entries = replica.outbox_from(from, MAX_PUSH_OPS)?;
        let Some(last) = entries.last() else {
            return Ok(epoch);
        };
        let next = last.seq + 1;
        let (held, entries): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|e| read_only.contains(&e.op.space));
        summary.held += held.len();
        from = next;
        if entries.is_empty() {
            continue;
        }
        let request = PushRequest {
            ops: entries.iter().map(|e| e.op.clone()).collect(),
        };
        let answer: PushResponse = client.call::<endpoints::Push>(&request)?;
        epoch = Some(answer.epoch);
        summary.pushed += answer.stored as usize;
        summary.duplicates += answer.duplicates as usize;
        let seq_of: HashMap<_, _> = entries.iter().map(|e| (e.op.id, e.seq)).collect();
        let mut kept: HashSet<u64> = HashSet::new();
        for refusal in &answer.refused {
            let seqs: Vec<u64> = refusal
                .ops
                .iter()
                .filter_map(|id| seq_of.get(id).copied())
                .collect();
            kept.extend(&seqs);
            match refusal.reason {
                RefusalReason::ReadOnly => summary.held += seqs.len(),
                RefusalReason::UnknownRecord | RefusalReason::ClockAhead => {
                    summary.waiting += seqs.len();
                    summary.notices.push(refusal.message.clone());
                }
                RefusalReason::NotMember | RefusalReason::Invalid => {
                    let why = match refusal.reason {
                        RefusalReason::NotMember => {
                            let name = replica
                                .spaces()?
                                .into_iter()
                                .find(|s| s.id == refusal.space)
                                .map_or_else(|| refusal.space.to_string(), |s| s.name);
                            format!("not delivered: you are no longer a member of {name}")
                        }
                        _ => format!("not delivered: {}", refusal.message),
                    };
                    let undelivered = replica.undeliver(&seqs, &why)?;
                    summary.undelivered += undelivered.ops;
                    summary.changed.extend(undelivered.changed);
                    summary.removed.extend(undelivered.removed);
                    summary.notices.push(why);
                }
            }
        }
        let delivered: Vec<u64> = entries
            .iter()
            .map(|e| e.seq)
            .filter(|seq| !kept.contains(seq))
            .collect();
        replica.drain_outbox(&delivered)?;
    }
}

/// Pulls pages until the server has nothing more. The next page is requested (and
/// decoded) on a second thread while this one applies the current page: its cursors
/// are the ones the current page moves to, and it is only used once that page is
/// applied, so pages still go in one at a time, in order, each with its cursors.
fn pull(
    replica: &Replica,
    client: &Client,
    summary: &mut SyncSummary,
    progress: &Progress,
) -> Result<Pulled, SyncError> {
    // A start-over pulls everything again and keeps what the server sent, so that
    // ops the server lost for good leave this replica too.
    let recovering = replica.is_recovering()?;
    if recovering {
        replica.reset_cursors()?;
    }
    let mut confirmed: HashSet<cairn_common::OpId> = HashSet::new();
    let first = replica
        .cursors()?
        .into_iter()
        .map(|(space, seq)| Cursor { space, seq })
        .collect();
    let mut epoch = replica.epoch()?;
    let mut page = fetch(client, epoch, first)?;
    if epoch != Some(page.epoch) {
        if epoch.is_none() && !replica.has_pulled()? {
            // The first pull: the cursors (all 0) were honoured.
            replica.set_epoch(page.epoch)?;
            epoch = Some(page.epoch);
        } else {
            return Ok(Pulled::NewEpoch(page.epoch));
        }
    }
    std::thread::scope(|scope| {
        for _ in 0..MAX_PAGES {
            if Some(page.epoch) != epoch {
                return Ok(Pulled::NewEpoch(page.epoch));
            }
            apply_spaces(replica, &page.spaces, summary)?;
            let listed = |space| page.spaces.iter().any(|s| s.space.id == space);
            let mut ops = Vec::new();
            let mut cursors = Vec::new();
            for batch in std::mem::take(&mut page.batches) {
                // Ops of a space not listed would come back as an orphan space.
                if listed(batch.space) {
                    cursors.push((batch.space, batch.cursor));
                    ops.extend(batch.ops);
                }
            }
            let progressed = !ops.is_empty();
            let next = if page.more && progressed {
                let mut after = replica.cursors()?;
                for (space, seq) in &cursors {
                    match after.iter_mut().find(|(s, _)| s == space) {
                        Some(known) => known.1 = *seq,
                        None => after.push((*space, *seq)),
                    }
                }
                let after = after
                    .into_iter()
                    .map(|(space, seq)| Cursor { space, seq })
                    .collect();
                Some(scope.spawn(move || fetch(client, epoch, after)))
            } else {
                None
            };
            if recovering {
                confirmed.extend(ops.iter().map(|op| op.id));
            }
            // On an error here the prefetched page is dropped with the scope.
            let applied = replica.apply_remote(&ops, &cursors)?;
            summary.pulled += applied.new_ops;
            progress.set(summary.pulled as u64);
            summary.changed.extend(applied.records);
            summary.quarantined += applied.quarantined.len();
            summary.notices.extend(
                applied.quarantined.iter().map(|(op, why)| {
                    format!("a change of record {} was set aside: {why}", op.record)
                }),
            );
            if !page.more {
                if recovering {
                    let swept = replica.finish_recovery(&confirmed)?;
                    summary.changed.extend(swept.changed);
                    summary.removed.extend(swept.removed);
                }
                summary.changed.sort_unstable();
                summary.changed.dedup();
                return Ok(Pulled::Done);
            }
            let Some(next) = next else {
                return Err(SyncError::BadResponse {
                    status: 200,
                    detail: "the server said more ops wait but sent none".into(),
                });
            };
            page = next.join().map_err(|_| SyncError::BadResponse {
                status: 200,
                detail: "reading the next page failed unexpectedly; run sync again".into(),
            })??;
        }
        Err(SyncError::BadResponse {
            status: 200,
            detail: format!("the server kept sending pages after {MAX_PAGES}"),
        })
    })
}

fn fetch(
    client: &Client,
    epoch: Option<Epoch>,
    cursors: Vec<Cursor>,
) -> Result<PullResponse, SyncError> {
    client.call::<endpoints::Pull>(&PullRequest {
        epoch,
        cursors,
        max_ops: MAX_PULL_OPS,
    })
}

fn apply_spaces(
    replica: &Replica,
    spaces: &[cairn_common::api::SpaceInfo],
    summary: &mut SyncSummary,
) -> Result<(), SyncError> {
    let listed: Vec<_> = spaces.iter().map(|s| (s.space.clone(), s.role)).collect();
    let changes = replica.sync_spaces(&listed)?;
    summary
        .spaces_added
        .extend(changes.added.into_iter().map(|s| s.name));
    summary
        .spaces_dropped
        .extend(changes.dropped.into_iter().map(|s| s.name));
    summary.changed.retain(|id| !changes.removed.contains(id));
    summary.removed.extend(changes.removed);
    Ok(())
}

impl SyncSummary {
    /// One line for people: what moved and what is left.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "pushed {}, pulled {}",
            self.pushed + self.duplicates,
            self.pulled
        )];
        if self.files_uploaded > 0 {
            parts.push(format!("uploaded {} file(s)", self.files_uploaded));
        }
        parts.extend(self.files_refused.iter().cloned());
        if !self.spaces_added.is_empty() {
            parts.push(format!("new spaces: {}", self.spaces_added.join(", ")));
        }
        if !self.spaces_dropped.is_empty() {
            parts.push(format!(
                "spaces no longer shared with you, removed here: {}",
                self.spaces_dropped.join(", ")
            ));
        }
        if let Some(conflicts) = self.conflicts.filter(|c| *c > 0) {
            parts.push(format!(
                "{conflicts} record{} in conflict (resolve with c in the TUI)",
                if conflicts == 1 { "" } else { "s" }
            ));
        }
        if let Some(recovery) = &self.recovery {
            parts.push(format!(
                "the server's data was replaced (restored from a backup?): sent again {} of your \
                 changes it had lost, and fetched everything again",
                recovery.restored
            ));
        }
        if self.undelivered > 0 {
            parts.push(format!(
                "{} change(s) could not be delivered and were set aside (`cairn undelivered` lists them)",
                self.undelivered
            ));
        }
        if self.quarantined > 0 {
            parts.push(format!(
                "{} change(s) from the server were set aside, not applied (`cairn undelivered` lists them)",
                self.quarantined
            ));
        }
        if self.waiting > 0 {
            parts.push(format!(
                "{} change(s) wait to be sent: {}",
                self.waiting,
                self.notices.join("; ")
            ));
        }
        if self.held > 0 {
            parts.push(format!(
                "{} change(s) in spaces you can now only read stay here unsent (an owner can make you an editor again)",
                self.held
            ));
        }
        let unsent = self.pending.saturating_sub(self.held + self.waiting);
        if unsent > 0 {
            parts.push(format!("{unsent} changes still pending"));
        }
        format!("Synced: {}\n", parts.join("; "))
    }
}
