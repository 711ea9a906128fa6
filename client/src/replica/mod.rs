//! The local replica: every op this device knows, the materialized records, and the
//! outbox of local ops waiting to be pushed, in one sled tree under the data dir.
//!
//! [`Replica::commit`] is the only way local changes get in: it checks each op against
//! the schema, folds it into its record, queues it for sync, writes everything as one
//! atomic batch and makes it durable (sled flush, then a real fsync: sled's own flush
//! only calls `sync_file_range`, sled#1452) before it returns.
//!
//! The sync side (`sync.rs`) writes the same way: ops from the server, per-space
//! cursors, the known spaces with roles, the outbox drain and the first login's
//! identity change are each one atomic, durable batch.

mod drafts;
mod error;
mod keys;
mod layout;
mod set_aside;
pub mod snapshot;
mod sync;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use cairn_common::model::{RecordKind, Space, SpaceId, UserId};
use cairn_common::op::{Change, HlcClock, NodeId, Op, OpId};
use cairn_common::progress::{Quiet, Report};
use cairn_common::{RecordId, RecordState};
use cairn_common::{codec, storage};
use serde::{Deserialize, Serialize};

pub use drafts::defaults;
pub use error::ReplicaError;
pub use set_aside::{SetAside, SetAsideCounts, SetAsideKind, Undelivered};
use sync::write_states;
pub use sync::{AdoptSummary, KnownSpace, OutboxEntry, RemoteApplied, SpaceChanges};

/// Who this replica writes as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Breaks clock ties between devices.
    pub node: NodeId,
    /// The local user; replaced by the account's id at the first login.
    pub user: UserId,
    /// The space new records go to unless another is chosen.
    pub personal_space: SpaceId,
}

/// What a commit did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Ops stored now (ops already known are skipped: commits are idempotent).
    pub new_ops: usize,
    /// Records whose state changed.
    pub records: Vec<RecordId>,
}

/// A handle to the local store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Replica {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    db: sled::Db,
    tree: sled::Tree,
    /// Changes once, at the first login ([`Replica::adopt_identity`]); read often.
    identity: RwLock<Identity>,
    /// Serializes commits (read-modify-write of record states) and guards the clock.
    /// A std mutex: it is held only around synchronous sled calls, never across awaits.
    writer: Mutex<HlcClock>,
    /// Blob files already fsynced, so each commit syncs only new ones.
    synced_blobs: Mutex<std::collections::HashSet<std::ffi::OsString>>,
    /// Held for the replica's lifetime so a second `cairn` gets a clear error.
    _lock: File,
}

const SLED_DIR: &str = "replica";
/// sled's page cache. The TUI keeps its own row index, so sled's cache only serves
/// the detail pane and commits; a small one keeps 100,000 records under 150 MB.
const CACHE_BYTES: u64 = 16 << 20;
/// Largest encoded record state accepted on write; well under the codec's decode
/// limit so that everything stored can be read back.
const MAX_RECORD_BYTES: usize = 16 << 20;
/// How far ahead of this machine's clock an op may be. A peer's clock can be off by
/// minutes; one from the far future would pin this replica's clock there for good.
const MAX_CLOCK_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
const LOCK_FILE: &str = "cairn.lock";

/// Opens sled, waiting briefly for a previous handle of this same process to let go:
/// we already hold the replica's lock file, so a busy sled lock can only be a
/// just-dropped `Db` whose background flusher has not exited yet.
fn open_sled(path: &Path) -> Result<sled::Db, ReplicaError> {
    let mut attempts = 0;
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && attempts < 100 =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// A replica whose lock is held and whose storage is not open yet ([`Replica::lock`]).
/// Taking the lock is instant and tells at once whether another `cairn` has the
/// replica; opening the storage ([`Opening::open`]) is the slow part of starting
/// (sled reads its snapshot and replays its log: 0.1–0.3 s at 100,000 records), so a
/// caller can do it on another thread while it shows something.
pub struct Opening {
    dir: PathBuf,
    lock: File,
}

impl Replica {
    /// Opens (or creates) the replica in `dir`: [`Replica::lock`], then
    /// [`Opening::open`].
    ///
    /// # Errors
    /// [`ReplicaError::Locked`] if another `cairn` has it open, or an I/O or storage error.
    pub fn open(dir: &Path) -> Result<Self, ReplicaError> {
        Self::lock(dir)?.open()
    }

    /// Creates `dir` if needed and takes the replica's lock, without opening its storage.
    ///
    /// # Errors
    /// [`ReplicaError::Locked`] if another `cairn` has it open, or an I/O error.
    pub fn lock(dir: &Path) -> Result<Opening, ReplicaError> {
        let io = |source| ReplicaError::Io {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        storage::restrict_to_owner(dir).map_err(io)?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ReplicaError::Locked {
                    dir: dir.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        Ok(Opening {
            dir: dir.to_owned(),
            lock,
        })
    }
}

impl Opening {
    /// Opens the storage of the locked replica (creating it the first time).
    ///
    /// # Errors
    /// An I/O, storage or decode error.
    pub fn open(self) -> Result<Replica, ReplicaError> {
        let Self { dir, lock } = self;
        let db = open_sled(&dir.join(SLED_DIR))?;
        let tree = db.open_tree("replica")?;
        let mut identity: Identity = match tree.get(keys::meta("identity"))? {
            Some(bytes) => codec::decode(&bytes)?,
            None => Replica::initialize(&tree)?,
        };
        let mut clock = match tree.get(keys::meta("clock"))? {
            Some(bytes) => codec::decode(&bytes)?,
            None => HlcClock::new(identity.node, None),
        };
        if !identity.node.is_valid() {
            // Made before node ids were bounded: servers refuse such clocks, so this
            // device continues its clock under a new, bounded node id.
            identity.node = NodeId::random();
            clock = clock.on_node(identity.node);
            let mut batch = sled::Batch::default();
            batch.insert(keys::meta("identity"), codec::encode(&identity)?);
            batch.insert(keys::meta("clock"), codec::encode(&clock)?);
            tree.apply_batch(batch)?;
        }
        let replica = Replica {
            inner: Arc::new(Inner {
                dir,
                db,
                tree,
                identity: RwLock::new(identity),
                writer: Mutex::new(clock),
                synced_blobs: Mutex::new(std::collections::HashSet::new()),
                _lock: lock,
            }),
        };
        replica.count_outbox_once()?;
        replica.convert_layout()?;
        replica.make_durable()?;
        Ok(replica)
    }
}

impl Replica {
    /// A new replica gets its identity and personal space.
    fn initialize(tree: &sled::Tree) -> Result<Identity, ReplicaError> {
        let identity = Identity {
            node: NodeId::random(),
            user: UserId::new(),
            personal_space: SpaceId::new(),
        };
        let space = Space {
            id: identity.personal_space,
            name: "Personal".into(),
            personal: true,
        };
        let mut batch = sled::Batch::default();
        batch.insert(&keys::meta("identity")[..], codec::encode(&identity)?);
        batch.insert(&keys::space(&space.id)[..], codec::encode(&space)?);
        tree.apply_batch(batch)?;
        Ok(identity)
    }

    /// The directory this replica lives in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Who this replica writes as.
    #[must_use]
    pub fn identity(&self) -> Identity {
        *self
            .inner
            .identity
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn writer(&self) -> MutexGuard<'_, HlcClock> {
        // A panic while holding the lock leaves the clock valid (it only moves forward).
        self.inner
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stamps a new local op with the next clock.
    #[must_use]
    pub fn stamp(&self, space: SpaceId, record: RecordId, change: Change) -> Op {
        let at = self.writer().now();
        Op {
            id: OpId::new(),
            space,
            record,
            at,
            author: self.identity().user,
            change,
        }
    }

    /// Checks, applies and stores local ops atomically, queues them for sync, and returns
    /// once they are durable. Ops already stored are skipped. Nothing is written if any
    /// op is invalid.
    ///
    /// # Errors
    /// [`ReplicaError::Invalid`] naming the bad field, [`ReplicaError::UnknownRecord`]
    /// for a change to a record never created, or a storage error.
    pub fn commit(&self, ops: &[Op]) -> Result<CommitSummary, ReplicaError> {
        self.store(ops, &[], &Quiet)
    }

    /// Commits ops written elsewhere (another replica, an export), with their own ids,
    /// clocks, spaces and authors, plus the spaces they belong to that this replica
    /// does not know yet. The same checks as [`Self::commit`] apply, and the batch is
    /// just as atomic and idempotent; it is put in order first (creates before the
    /// changes that need them, then by clock), so a change may come with its record's
    /// `Create` anywhere in the batch. The ops are queued for sync like local ones.
    /// Each op checked counts one in `progress` (the batch is still written at once).
    ///
    /// # Errors
    /// As [`Self::commit`]; [`ReplicaError::UnknownRecord`] for a change whose record
    /// is neither stored nor created in the batch.
    pub fn import_ops(
        &self,
        ops: &[Op],
        spaces: &[Space],
        progress: &dyn Report,
    ) -> Result<CommitSummary, ReplicaError> {
        let mut ordered: Vec<Op> = ops.to_vec();
        ordered.sort_by_key(|op| (!matches!(op.change, Change::Create { .. }), op.at, op.id));
        self.store(&ordered, spaces, progress)
    }

    /// The one write path: checks and applies `ops`, adds unknown `spaces`, queues the
    /// new ops for sync, all in one sled batch, durable before it returns.
    fn store(
        &self,
        ops: &[Op],
        spaces: &[Space],
        progress: &dyn Report,
    ) -> Result<CommitSummary, ReplicaError> {
        let mut clock = self.writer();
        let tree = &self.inner.tree;
        let mut batch = sled::Batch::default();
        let mut states: BTreeMap<RecordId, RecordState> = BTreeMap::new();
        let mut seen = std::collections::HashSet::new();
        let mut next_seq = self.outbox_next_seq()?;
        let queued = self.outbox_len() as u64;
        let mut new_ops = 0;
        let now_ms = wall_clock_ms();
        for op in ops {
            progress.add(1);
            if !seen.insert(op.id) || tree.contains_key(keys::op(&op.record, &op.id))? {
                continue;
            }
            let state = match states.entry(op.record) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let loaded = self.record(&op.record)?;
                    e.insert(loaded.unwrap_or_else(|| RecordState::empty(op)))
                }
            };
            let kind = match (&op.change, state.kind) {
                (Change::Create { kind }, None) => *kind,
                (Change::Create { kind: new }, Some(kind)) if *new != kind => {
                    return Err(ReplicaError::KindChange {
                        record: op.record,
                        from: kind,
                        to: *new,
                    });
                }
                (_, Some(kind)) => kind,
                (_, None) => return Err(ReplicaError::UnknownRecord(op.record)),
            };
            op.validate(kind)?;
            if op.at.wall_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
                return Err(ReplicaError::ClockAhead {
                    record: op.record,
                    at: op.at,
                });
            }
            state.apply(op);
            clock.observe(op.at);
            batch.insert(&keys::op(&op.record, &op.id)[..], codec::encode(op)?);
            batch.insert(
                &keys::outbox(next_seq)[..],
                &keys::outbox_value(&op.record, &op.id)[..],
            );
            next_seq += 1;
            new_ops += 1;
        }
        let mut new_spaces = 0;
        for space in spaces {
            if !tree.contains_key(keys::space(&space.id))? {
                batch.insert(&keys::space(&space.id)[..], codec::encode(space)?);
                new_spaces += 1;
            }
        }
        if new_ops == 0 && new_spaces == 0 {
            return Ok(CommitSummary::default());
        }
        for (id, state) in &states {
            let bytes = codec::encode(state)?;
            // Whatever is written must decode again: a record past the decode limit
            // would make every later read of the replica fail.
            if bytes.len() > MAX_RECORD_BYTES {
                return Err(ReplicaError::RecordTooLarge {
                    record: *id,
                    bytes: bytes.len(),
                });
            }
            batch.insert(&keys::record(id)[..], bytes);
        }
        batch.insert(keys::meta("clock"), codec::encode(&*clock)?);
        batch.insert(keys::meta("outbox_next"), &next_seq.to_be_bytes()[..]);
        batch.insert(
            keys::meta(keys::OUTBOX_LEN),
            &(queued + new_ops as u64).to_be_bytes()[..],
        );
        tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(CommitSummary {
            new_ops,
            records: states.into_keys().collect(),
        })
    }

    /// Flushes sled and then fsyncs its data file and any new blob files: sled 0.34's
    /// flush alone does not reach the disk on power loss (sled#1452), and values over
    /// about 128 KiB live in `blobs/`, one file each, which sled never fsyncs.
    fn make_durable(&self) -> Result<(), ReplicaError> {
        self.inner.db.flush()?;
        let mut synced = self
            .inner
            .synced_blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        storage::fsync_sled_files(&self.inner.dir.join(SLED_DIR), &mut synced).map_err(|source| {
            ReplicaError::Io {
                dir: self.inner.dir.clone(),
                source,
            }
        })
    }

    fn outbox_next_seq(&self) -> Result<u64, ReplicaError> {
        match self.inner.tree.get(keys::meta("outbox_next"))? {
            None => Ok(0),
            // A damaged counter must not restart at 0 and overwrite queued ops.
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    ReplicaError::Codec(codec::CodecError::Malformed(
                        "the outbox counter is damaged".into(),
                    ))
                }),
        }
    }

    /// Number of local ops not yet pushed to a server: a counter kept in the same
    /// batches that queue and drain ops, so asking costs one read (the TUI shows it).
    #[must_use]
    pub fn outbox_len(&self) -> usize {
        let count = self
            .inner
            .tree
            .get(keys::meta(keys::OUTBOX_LEN))
            .ok()
            .flatten()
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes);
        usize::try_from(count).unwrap_or(usize::MAX)
    }

    /// Replicas made before the counter existed count their outbox once.
    fn count_outbox_once(&self) -> Result<(), ReplicaError> {
        let tree = &self.inner.tree;
        if tree.contains_key(keys::meta(keys::OUTBOX_LEN))? {
            return Ok(());
        }
        let count = tree.scan_prefix([keys::OUTBOX]).count() as u64;
        tree.insert(keys::meta(keys::OUTBOX_LEN), &count.to_be_bytes()[..])?;
        Ok(())
    }

    /// The state of one record.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn record(&self, id: &RecordId) -> Result<Option<RecordState>, ReplicaError> {
        self.inner
            .tree
            .get(keys::record(id))?
            .map(|bytes| codec::decode(&bytes))
            .transpose()
            .map_err(Into::into)
    }

    /// Every record (complete or not, live or in the trash), in id order.
    pub fn records(&self) -> impl Iterator<Item = Result<RecordState, ReplicaError>> + '_ {
        self.inner
            .tree
            .scan_prefix([keys::RECORD])
            .map(|entry| Ok(codec::decode::<RecordState>(&entry?.1)?))
    }

    /// Complete records of one kind; `trash` picks deleted ones instead of live ones.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn list(&self, kind: RecordKind, trash: bool) -> Result<Vec<RecordState>, ReplicaError> {
        let mut out = Vec::new();
        for state in self.records() {
            let state = state?;
            if state.kind == Some(kind) && state.is_deleted() == trash {
                out.push(state);
            }
        }
        Ok(out)
    }

    /// Every op of a record, oldest first: its change history.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn history(&self, record: &RecordId) -> Result<Vec<Op>, ReplicaError> {
        let mut ops = Vec::new();
        for entry in self.inner.tree.scan_prefix(keys::history_prefix(record)) {
            ops.push(codec::decode::<Op>(&entry?.1)?);
        }
        ops.sort_by_key(|op| (op.at, op.id));
        Ok(ops)
    }

    /// Every op this replica holds, record by record.
    pub fn ops(&self) -> impl Iterator<Item = Result<Op, ReplicaError>> + '_ {
        self.inner
            .tree
            .scan_prefix([keys::HISTORY])
            .map(|entry| Ok(codec::decode::<Op>(&entry?.1)?))
    }

    /// The spaces this replica knows.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn spaces(&self) -> Result<Vec<Space>, ReplicaError> {
        self.inner
            .tree
            .scan_prefix([keys::SPACE])
            .map(|entry| Ok(codec::decode::<Space>(&entry?.1)?))
            .collect()
    }

    /// Finds a record by its full id, or by a unique start or end of it (lists show the
    /// last eight digits), at least four digits long.
    ///
    /// # Errors
    /// [`ReplicaError::NotFound`] or [`ReplicaError::Ambiguous`].
    pub fn resolve(&self, text: &str) -> Result<RecordState, ReplicaError> {
        let wanted: String = text
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| *c != '-')
            .collect();
        if wanted.len() < 4 || !wanted.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ReplicaError::NotFound(text.to_owned()));
        }
        if let Ok(id) = wanted.parse::<RecordId>()
            && let Some(state) = self.record(&id)?
        {
            return Ok(state);
        }
        let mut found = Vec::new();
        for state in self.records() {
            let state = state?;
            let hex = state.id.0.simple().to_string();
            if state.is_complete() && (hex.ends_with(&wanted) || hex.starts_with(&wanted)) {
                found.push(state);
            }
        }
        match found.len() {
            0 => Err(ReplicaError::NotFound(text.to_owned())),
            1 => Ok(found.remove(0)),
            count => Err(ReplicaError::Ambiguous {
                prefix: text.to_owned(),
                count,
            }),
        }
    }
}

#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;
