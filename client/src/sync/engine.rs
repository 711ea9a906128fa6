//! One sync round: push the outbox in chunks, then pull every space until the server
//! has nothing more, applying each page and its cursors as one batch.
//!
//! Push is idempotent by op id, so a round that failed halfway is simply run again:
//! only what the server acknowledged is drained, and only what was applied moves a
//! cursor.

use cairn_common::RecordId;
use cairn_common::api::{
    Cursor, Empty, MAX_PULL_OPS, MAX_PUSH_OPS, PullRequest, PullResponse, PushRequest,
    PushResponse, SpaceList,
};
use std::collections::HashSet;

use cairn_common::model::SpaceId;
use serde::{Deserialize, Serialize};

use super::SyncError;
use super::client::{Client, endpoint};
use crate::replica::Replica;

/// Most pull pages in one round: a server that keeps saying "more" without sending
/// anything must not keep a client busy forever.
const MAX_PAGES: usize = 100_000;

/// What a round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
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
    /// Records whose state changed.
    #[serde(skip)]
    pub changed: Vec<RecordId>,
    /// Records removed with dropped spaces.
    #[serde(skip)]
    pub removed: Vec<RecordId>,
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
    let mut summary = SyncSummary::default();
    push(replica, client, &mut summary)?;
    pull(replica, client, &mut summary)?;
    summary.pending = replica.outbox_len();
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

fn push(replica: &Replica, client: &Client, summary: &mut SyncSummary) -> Result<(), SyncError> {
    let mut refreshed = false;
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
            return Ok(());
        };
        let next = last.seq + 1;
        let (held, entries): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|e| read_only.contains(&e.op.space));
        if entries.is_empty() {
            summary.held += held.len();
            from = next;
            continue;
        }
        let request = PushRequest {
            ops: entries.iter().map(|e| e.op.clone()).collect(),
        };
        match client.call::<_, PushResponse>(endpoint::PUSH, &request) {
            Ok(answer) => {
                let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
                replica.drain_outbox(&seqs)?;
                summary.pushed += answer.stored as usize;
                summary.duplicates += answer.duplicates as usize;
                summary.held += held.len();
                from = next;
            }
            // A space taken away or made read-only refuses the whole push: learn the
            // spaces once (lost ones are dropped with their queued ops, read-only
            // ones are held back) and retry.
            Err(SyncError::Refused { status: 403, .. }) if !refreshed => {
                refreshed = true;
                let list: SpaceList = client.call(endpoint::SPACES, &Empty)?;
                apply_spaces(replica, &list.spaces, summary)?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Pulls pages until the server has nothing more. The next page is requested (and
/// decoded) on a second thread while this one applies the current page: its cursors
/// are the ones the current page moves to, and it is only used once that page is
/// applied, so pages still go in one at a time, in order, each with its cursors.
fn pull(replica: &Replica, client: &Client, summary: &mut SyncSummary) -> Result<(), SyncError> {
    let first = replica
        .cursors()?
        .into_iter()
        .map(|(space, seq)| Cursor { space, seq })
        .collect();
    let mut page = fetch(client, first)?;
    std::thread::scope(|scope| {
        for _ in 0..MAX_PAGES {
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
                Some(scope.spawn(move || fetch(client, after)))
            } else {
                None
            };
            // On an error here the prefetched page is dropped with the scope.
            let applied = replica.apply_remote(&ops, &cursors)?;
            summary.pulled += applied.new_ops;
            summary.changed.extend(applied.records);
            if !page.more {
                summary.changed.sort_unstable();
                summary.changed.dedup();
                return Ok(());
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

fn fetch(client: &Client, cursors: Vec<Cursor>) -> Result<PullResponse, SyncError> {
    client.call(
        endpoint::PULL,
        &PullRequest {
            cursors,
            max_ops: MAX_PULL_OPS,
        },
    )
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
        if self.held > 0 {
            parts.push(format!(
                "{} change(s) in spaces you can now only read stay here unsent (an owner can make you an editor again)",
                self.held
            ));
        }
        if self.pending > self.held {
            parts.push(format!(
                "{} changes still pending",
                self.pending - self.held
            ));
        }
        format!("Synced: {}\n", parts.join("; "))
    }
}
