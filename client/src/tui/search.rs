//! Search across every record, run off the UI thread. Long texts are not in the row
//! index (100,000 records must fit the memory budget), so a search reads every record
//! from the replica: on its own thread, reporting hits in batches so the first ones
//! show while the rest is read. Each request has a generation; a newer one stops the
//! scan of an older one at the next record, so typing never queues up work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cairn_common::RecordId;
use cairn_common::model::RecordKind;
use chrono::NaiveDate;

use super::query::{Found, Query};
use crate::replica::Replica;

/// Most hits a search reports: more is no list anyone reads; the person narrows it.
pub const MAX_HITS: usize = 1000;
/// A batch goes out when it holds this many hits...
const BATCH_HITS: usize = 100;
/// ...or this long after the last one, if it holds any hit or this is the first.
const BATCH_EVERY: Duration = Duration::from_millis(40);
/// Progress without hits is reported this often, so "searching…" counts up.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What to search for; `generation` tells the answers of one request from another's.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchRequest {
    pub generation: u64,
    pub query: Query,
    /// For `is:overdue`.
    pub today: NaiveDate,
}

/// One record that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub kind: RecordKind,
    pub id: RecordId,
    pub title: String,
    pub deleted: bool,
    /// Where it matched.
    pub found: Found,
}

/// Hits found since the last batch of the same request, and how far the scan is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchBatch {
    pub generation: u64,
    pub hits: Vec<SearchHit>,
    /// Records read so far.
    pub scanned: usize,
    /// The last batch of this request.
    pub done: bool,
    /// The search stopped at [`MAX_HITS`].
    pub truncated: bool,
    /// The replica could not be read; the scan stopped.
    pub error: Option<String>,
}

/// Runs `request` over every record of `replica`, handing batches to `send` (which
/// says whether anyone still listens). Stops early when `wanted` says the request was
/// superseded; the last batch sent then is not marked done, nobody reads it.
pub fn scan(
    replica: &Replica,
    request: &SearchRequest,
    wanted: impl Fn() -> bool,
    mut send: impl FnMut(SearchBatch) -> bool,
) {
    let mut batch = SearchBatch {
        generation: request.generation,
        ..SearchBatch::default()
    };
    let mut found = 0;
    let mut last_sent = Instant::now();
    let mut sent_any = false;
    if !request.query.is_empty() {
        for state in replica.records() {
            if !wanted() {
                return;
            }
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    batch.error = Some(e.to_string());
                    break;
                }
            };
            batch.scanned += 1;
            if let (Some(kind), Some(at)) =
                (state.kind, request.query.matches(&state, request.today))
            {
                batch.hits.push(SearchHit {
                    kind,
                    id: state.id,
                    title: state.title().to_owned(),
                    deleted: state.is_deleted(),
                    found: at,
                });
                found += 1;
                if found >= MAX_HITS {
                    batch.truncated = true;
                    break;
                }
            }
            let since = last_sent.elapsed();
            let due = batch.hits.len() >= BATCH_HITS
                || ((!batch.hits.is_empty() || !sent_any) && since >= BATCH_EVERY)
                || since >= PROGRESS_EVERY;
            if due {
                let scanned = batch.scanned;
                let full = std::mem::replace(
                    &mut batch,
                    SearchBatch {
                        generation: request.generation,
                        scanned,
                        ..SearchBatch::default()
                    },
                );
                if !send(full) {
                    return;
                }
                sent_any = true;
                last_sent = Instant::now();
            }
        }
    }
    batch.done = true;
    send(batch);
}

/// Runs a search on this thread and returns its batches (tests, and the driver's
/// fallback when the search thread is gone).
#[must_use]
pub fn search_now(replica: &Replica, request: &SearchRequest) -> Vec<SearchBatch> {
    let mut out = Vec::new();
    scan(
        replica,
        request,
        || true,
        |batch| {
            out.push(batch);
            true
        },
    );
    out
}

/// The search thread: one request at a time, the newest one.
pub struct Searcher {
    requests: Sender<SearchRequest>,
    /// The generation wanted now; a scan of any other stops.
    latest: Arc<AtomicU64>,
    thread: JoinHandle<()>,
}

impl Searcher {
    /// Starts the thread; it hands each batch to `deliver`, and stops a scan when
    /// `deliver` says no one listens any more.
    #[must_use]
    pub fn spawn(replica: Replica, deliver: impl Fn(SearchBatch) -> bool + Send + 'static) -> Self {
        let (requests, inbox): (Sender<SearchRequest>, Receiver<SearchRequest>) = channel();
        let latest = Arc::new(AtomicU64::new(0));
        let wanted_now = Arc::clone(&latest);
        let thread = std::thread::spawn(move || {
            while let Ok(mut request) = inbox.recv() {
                // Only the newest of the requests queued meanwhile is worth a scan.
                while let Ok(newer) = inbox.try_recv() {
                    request = newer;
                }
                let generation = request.generation;
                let wanted = || wanted_now.load(Ordering::Relaxed) == generation;
                if !wanted() {
                    continue;
                }
                scan(&replica, &request, wanted, &deliver);
            }
        });
        Self {
            requests,
            latest,
            thread,
        }
    }

    /// Starts a search; any older one still running stops. If the thread is gone,
    /// the search runs here and its batches are returned for the caller to pass on.
    #[must_use]
    pub fn search(&self, replica: &Replica, request: SearchRequest) -> Vec<SearchBatch> {
        self.latest.store(request.generation, Ordering::Relaxed);
        match self.requests.send(request) {
            Ok(()) => Vec::new(),
            Err(failed) => search_now(replica, &failed.0),
        }
    }

    /// Stops the scan in flight and waits for the thread to end.
    pub fn stop(self) {
        self.latest.store(u64::MAX, Ordering::Relaxed);
        drop(self.requests);
        // A panic on the thread has already been reported by the panic hook.
        let _ = self.thread.join();
    }
}
