//! The server's data. [`Store`] is the one interface the rest of the server uses,
//! over sled ([`SledStore`], the default, described below) or PostgreSQL
//! ([`postgres::PgStore`], several servers on one database; see `docs/POSTGRES.md`).
//! The rules that are the same on both (checking e-mails and names, auditing member
//! changes) live in the facade ([`facade`]); `push_plan` decides what a push does for
//! both.
//!
//! # The sled store
//! This module and its files other than `postgres/` are the only code of the
//! server that talks to sled.
//!
//! # Trees
//! - `users`: user id → [`UserRecord`]; `emails`: lowercase e-mail → user id.
//! - `sessions`: SHA-256 of the token → [`SessionRecord`]; `user_sessions`:
//!   user ++ token hash → (), to list and revoke a user's sessions.
//! - `spaces`: space id → [`Space`](cairn_common::model::Space); `members`:
//!   space ++ user → role; `user_spaces`: user ++ space → role.
//! - `oplog`: per-space op logs (`o` ++ space ++ seq, big-endian), the op-id index
//!   (`i` ++ op id), the record index (`r` ++ space ++ record: kind and value sizes;
//!   `k` ++ record: its one space) and the seq counters (`s` ++ space), in one tree so
//!   that one sled batch appends atomically.
//! - `throttle`: failed-login counters per account and per client address.
//! - `telemetry`: anonymous usage statistics, day ++ endpoint → counts.
//! - `meta`: the store's [`Epoch`](cairn_common::api::Epoch) (see [`epoch`]); not
//!   backed up, so a restored store gets a new one.
//! - `logins`: user ++ time ++ nonce → [`LoginRecord`] (every login, kept per
//!   `[retention] login_records_days`).
//! - `consents`, `consent_current`: acceptances and withdrawals of the privacy
//!   notice ([`consent`]).
//! - `invitations`, `invitation_codes`: invitations and their codes' hashes
//!   ([`invitations`]).
//! - `audit`: the hash-chained log of administrative events ([`audit`]);
//!   `audit_subjects`: the e-mails its entries name, kept apart so a purge can
//!   forget them without breaking the chain.
//! - `mail`: mail id → [`QueuedMail`], the outbox ([`mail`]); not backed up, so a
//!   restore does not send again what was sent.
//! - `notifications`: user → [`notifications::NotificationRecord`], which mails
//!   the user chose.
//!
//! [`SledStore::rewrite_planned`] copies every tree into a fresh database and swaps it in
//! (purge, retention): sled keeps removed values in its files, a rewrite does not.
//!
//! Values are encoded with [`cairn_common::codec`]. Account changes made through the
//! admin API (`create_user`, `set_disabled`, `reset_password`) are durable when they
//! return; writes made for a client request are made durable by
//! [`SledStore::commit_durable`], a group commit that covers every write before it.

pub mod audit;
mod backup;
mod consent;
mod copy;
mod durability;
mod epoch;
mod error;
mod export;
mod facade;
pub mod invitations;
mod logins;
pub mod mail;
mod mail_sled;
pub mod migrate;
pub mod notifications;
mod oplog;
pub mod postgres;
mod purge;
mod push_plan;
mod records;
mod rewrite;
mod sessions;
mod spaces;
mod telemetry;
mod throttle;
pub(crate) mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use audit::{AuditEntry, AuditEvent, AuditKind, AuditVerification};
pub use backup::{BACKED_UP_TREES, Cut, TreeEntries};
pub use copy::AuditChain;
pub use error::StoreError;
pub use export::ImportTarget;
#[cfg(test)]
pub(crate) use facade::Blocking;
pub use facade::{Store, block_on, wait};
pub use logins::{LoginRecord, truncate_address};
pub use mail::{MailId, MailKind, MailOutcome, MailState, OutgoingMail, QueuedMail};
pub use oplog::{Heads, PullPage, PushOutcome};
pub use postgres::PgStore;
pub use purge::{PurgeOutcome, PurgeTarget, RetentionCutoffs, SweepOutcome};
pub use push_plan::refuse_record;
pub use records::RecordLimits;
pub use sessions::{SessionLookup, SessionRecord};
pub use spaces::SPACE_NOT_FOUND;
pub use telemetry::{BUCKET_BOUNDS_US, BUCKETS, CLASSES, DayCounts, TelemetryEntry};
pub use throttle::{ThrottleDecision, ThrottleState};
pub use users::{NewUser, UserAccount, UserRecord};

/// sled's page cache; the OS caches the rest of the file.
const CACHE_BYTES: u64 = 256 << 20;

/// Name of the personal space every account gets.
pub const PERSONAL_SPACE_NAME: &str = "Personal";

/// The store on sled. Cheap to clone: clones share one sled database.
///
/// The database itself sits behind a lock so that [`SledStore::rewrite_planned`] can swap in a
/// freshly written copy while the server runs (purge, retention): every store call
/// holds a read guard of it ([`SledStore::db`]) for the duration of one statement, the
/// swap holds the write side.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    /// The open database. `None` only inside [`SledStore::rewrite_planned`], between closing the
    /// old database and opening the new one, while the write lock is held.
    trees: parking_lot::RwLock<Option<Trees>>,
    /// Serializes account and membership changes, whose checks (the e-mail is free,
    /// an owner remains) read before they write. A std mutex: held only around
    /// short sled calls, never across an await.
    accounts: Mutex<()>,
    /// Serializes appends to the op logs and caches each space's last seq, so that
    /// the duplicate check, the seq allocation and the write are one step.
    appends: Mutex<oplog::SeqCache>,
    /// Serializes appends to the audit log (each entry hashes the one before).
    audit: Mutex<()>,
    /// Serializes claims and outcomes of mails (each reads, then writes, an entry).
    mail: Mutex<()>,
    durability: durability::Durability,
    /// Held by a backup's [`Cut`] while it reads the ops up to it, and by a rewrite
    /// (which swaps the database under such reads) for its whole run. A std mutex:
    /// held by blocking code only.
    cuts: Mutex<()>,
    /// The epoch, read on every pull; changed only by [`SledStore::renew_epoch`].
    epoch: parking_lot::RwLock<cairn_common::api::Epoch>,
}

/// The sled database and its trees. New trees get a field here and one line in
/// [`Trees::open`]; [`SledStore::rewrite_planned`] copies every tree of the database, named
/// here or not.
pub(crate) struct Trees {
    db: sled::Db,
    users: sled::Tree,
    emails: sled::Tree,
    sessions: sled::Tree,
    user_sessions: sled::Tree,
    spaces: sled::Tree,
    members: sled::Tree,
    user_spaces: sled::Tree,
    oplog: sled::Tree,
    throttle: sled::Tree,
    telemetry: sled::Tree,
    logins: sled::Tree,
    audit: sled::Tree,
    audit_subjects: sled::Tree,
    meta: sled::Tree,
    consents: sled::Tree,
    consent_current: sled::Tree,
    invitations: sled::Tree,
    invitation_codes: sled::Tree,
    mail: sled::Tree,
    notifications: sled::Tree,
}

impl Trees {
    fn open(db: sled::Db) -> Result<Self, StoreError> {
        Ok(Self {
            users: db.open_tree("users")?,
            emails: db.open_tree("emails")?,
            sessions: db.open_tree("sessions")?,
            user_sessions: db.open_tree("user_sessions")?,
            spaces: db.open_tree("spaces")?,
            members: db.open_tree("members")?,
            user_spaces: db.open_tree("user_spaces")?,
            oplog: db.open_tree("oplog")?,
            throttle: db.open_tree("throttle")?,
            telemetry: db.open_tree("telemetry")?,
            logins: db.open_tree("logins")?,
            audit: db.open_tree("audit")?,
            audit_subjects: db.open_tree("audit_subjects")?,
            meta: db.open_tree("meta")?,
            consents: db.open_tree("consents")?,
            consent_current: db.open_tree("consent_current")?,
            invitations: db.open_tree("invitations")?,
            invitation_codes: db.open_tree("invitation_codes")?,
            mail: db.open_tree("mail")?,
            notifications: db.open_tree("notifications")?,
            db,
        })
    }
}

thread_local! {
    /// How many read guards of the database this thread holds: a nested store call
    /// must not wait behind a rewrite that waits for the outer call (deadlock).
    static DB_GUARDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A read guard of the open database (see [`SledStore::db`]).
pub(crate) struct Db<'a> {
    guard: parking_lot::MappedRwLockReadGuard<'a, Trees>,
}

impl std::ops::Deref for Db<'_> {
    type Target = Trees;
    fn deref(&self) -> &Trees {
        &self.guard
    }
}

impl Drop for Db<'_> {
    fn drop(&mut self) {
        DB_GUARDS.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

/// Opens sled, waiting briefly for a handle of this process that was just dropped
/// (its background flusher lets go of the lock a moment later); any longer means
/// another process, most likely a running server, has it.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut attempts = 0;
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if attempts >= 50 {
                    return Err(StoreError::Locked {
                        dir: dir.to_owned(),
                    });
                }
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in `db_dir` (sled's own directory).
    ///
    /// # Errors
    /// [`StoreError::Locked`] if a running server holds it, or an I/O or storage error.
    pub fn open(db_dir: &Path) -> Result<Self, StoreError> {
        let io = |source| StoreError::Io {
            dir: db_dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(db_dir).map_err(io)?;
        cairn_common::storage::restrict_to_owner(db_dir).map_err(io)?;
        let trees = Trees::open(open_sled(db_dir)?)?;
        let store = Self {
            inner: Arc::new(Inner {
                dir: db_dir.to_owned(),
                trees: parking_lot::RwLock::new(Some(trees)),
                accounts: Mutex::new(()),
                appends: Mutex::new(oplog::SeqCache::default()),
                audit: Mutex::new(()),
                mail: Mutex::new(()),
                durability: durability::Durability::default(),
                cuts: Mutex::new(()),
                epoch: parking_lot::RwLock::new(cairn_common::api::Epoch::new()),
            }),
        };
        store.reload_epoch()?;
        store.migrate_record_index()?;
        store.flush()?;
        Ok(store)
    }

    /// The directory sled lives in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The open database, for one statement (or one loop): hold the guard no longer.
    /// Nested calls on the same thread never wait (a waiting rewrite would otherwise
    /// deadlock with the outer guard).
    pub(crate) fn db(&self) -> Db<'_> {
        let nested = DB_GUARDS.with(|n| {
            let held = n.get();
            n.set(held + 1);
            held > 0
        });
        let lock = if nested {
            self.inner.trees.read_recursive()
        } else {
            self.inner.trees.read()
        };
        // The slot is empty only while a rewrite holds the write lock, so a reader
        // never sees it empty; if reopening after a failed rewrite failed too, every
        // call fails loudly rather than touching a half-swapped store.
        let guard = parking_lot::RwLockReadGuard::map(lock, |slot| match slot {
            Some(trees) => trees,
            None => panic!("the store could not be reopened after a rewrite; restart the server"),
        });
        Db { guard }
    }

    fn cuts_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded data is `()`; see `accounts_lock`.
        self.inner
            .cuts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn accounts_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic while holding it leaves nothing half-done
        // that the next holder could see (sled writes are atomic batches).
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `a ++ b` as a sled key.
fn key2(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(a.len() + b.len());
    key.extend_from_slice(a);
    key.extend_from_slice(b);
    key
}

/// The 16 bytes at `at` of a key as an array; `None` for a short (damaged) key.
fn id_at(key: &[u8], at: usize) -> Option<[u8; 16]> {
    key.get(at..at + 16)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
}

#[cfg(test)]
pub(crate) mod conformance;
#[cfg(test)]
mod migrate_tests;
#[cfg(test)]
mod purge_tests;

#[cfg(test)]
pub(crate) mod test_support {
    use super::{NewUser, SledStore};
    use cairn_common::model::UserProfile;

    /// A store in a fresh temporary directory (kept alive by the returned guard).
    pub fn temp_store() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SledStore::open(&dir.path().join("db")).expect("open store");
        (dir, store)
    }

    /// The account `<name>@example.com` with password `password-of-<name>`.
    pub fn new_user(name: &str) -> NewUser {
        NewUser {
            email: format!("{name}@example.com"),
            first_name: name.into(),
            last_name: "Test".into(),
            password_hash: crate::auth::password::hash(&format!("password-of-{name}"))
                .expect("hash"),
            must_change_password: false,
            server_admin: false,
        }
    }

    /// A user with password `password-of-<name>`.
    pub fn user(store: &SledStore, name: &str) -> UserProfile {
        store.create_user(new_user(name)).expect("create user")
    }

    /// The facade over a sled store in a fresh temporary directory.
    pub fn temp_facade() -> (tempfile::TempDir, super::Store) {
        let (dir, store) = temp_store();
        (dir, store.into())
    }

    /// [`user`] through the facade, from async tests too (see [`super::Blocking`]).
    pub fn facade_user(store: &super::Store, name: &str) -> UserProfile {
        use super::Blocking as _;
        store
            .create_user(new_user(name))
            .wait()
            .expect("create user")
    }

    /// Records that `user` accepted the built-in privacy notice (what the test
    /// servers serve), as joining or `cairn account consent` would.
    pub fn accept_built_in_notice(store: &super::Store, user: &UserProfile) {
        use super::Blocking as _;
        store
            .record_consent(&cairn_common::api::consent::ConsentEntry {
                user: user.id,
                email: user.email.clone(),
                version: crate::privacy::notice::BUILT_IN_VERSION.to_owned(),
                action: cairn_common::api::consent::ConsentAction::Accepted,
                at_ms: 1,
                address: String::new(),
            })
            .wait()
            .expect("consent");
    }
}
