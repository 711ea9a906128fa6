//! The audit log: administrative events (accounts, roles, memberships, backups,
//! restores, exports, purges, certificate reloads, mail given up), append-only and hash-chained.
//!
//! Entries are keyed by sequence number (`e` ++ seq, big-endian); each stores the
//! SHA-256 of the previous entry's bytes, and `h` holds the seq and hash of the last
//! entry, so an edited entry breaks the next one's link, a removed entry leaves a
//! gap, and a removed last entry no longer matches `h`. Retention drops the oldest
//! entries and keeps a checkpoint `c` (the seq and hash of the last dropped entry),
//! from which the chain still verifies.
//!
//! People are named by a random token, not their e-mail: `audit_subjects` maps
//! tokens to e-mails (`t` ++ token → e-mail, `m` ++ e-mail → token). A purge forgets
//! the mapping, so entries about a purged person stay (and still verify) but no
//! longer say who it was.
//!
//! Anyone who can write the data dir can rewrite the whole chain; `audit verify`
//! prints the head hash so an admin can keep it elsewhere and compare later.

use cairn_common::codec;
use cairn_common::model::SpaceId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{SledStore, StoreError};
use crate::clock::now_ms;

const ENTRY: u8 = b'e';
const HEAD: &[u8] = b"h";
const CHECKPOINT: &[u8] = b"c";
const TOKEN: u8 = b't';
const BY_EMAIL: u8 = b'm';

/// What happened. New kinds go at the end (entries are stored by variant index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditKind {
    AccountCreated,
    AccountDisabled,
    AccountEnabled,
    PasswordReset,
    RoleChanged,
    MemberAdded,
    MemberRemoved,
    Backup,
    Restore,
    Export,
    Import,
    Purge,
    CertificateReload,
    RetentionSweep,
    InvitationSent,
    InvitationRevoked,
    InvitationUsed,
    ConsentGiven,
    ConsentWithdrawn,
    /// A mail was given up after failing for `[mail] give_up_hours`.
    MailFailed,
    /// A user turned kinds of notification mail on or off (or used a stop link).
    NotificationsChanged,
    /// The daily digest went out (how many mails in the detail).
    DigestSent,
}

impl AuditKind {
    /// The kind as `audit list` prints it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::AccountCreated => "account-created",
            Self::AccountDisabled => "account-disabled",
            Self::AccountEnabled => "account-enabled",
            Self::PasswordReset => "password-reset",
            Self::RoleChanged => "role-changed",
            Self::MemberAdded => "member-added",
            Self::MemberRemoved => "member-removed",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Export => "export",
            Self::Import => "import",
            Self::Purge => "purge",
            Self::CertificateReload => "certificate-reload",
            Self::RetentionSweep => "retention-sweep",
            Self::InvitationSent => "invitation-sent",
            Self::InvitationRevoked => "invitation-revoked",
            Self::InvitationUsed => "invitation-used",
            Self::ConsentGiven => "consent-given",
            Self::ConsentWithdrawn => "consent-withdrawn",
            Self::MailFailed => "mail-failed",
            Self::NotificationsChanged => "notifications-changed",
            Self::DigestSent => "digest-sent",
        }
    }
}

/// An event to log: `store.audit(AuditEvent::new(AuditKind::Backup).detail("…"))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    /// Who did it, by e-mail; `None`: the server admin at the `cairn-server` command
    /// line, or the server itself.
    pub actor: Option<String>,
    /// Whom it concerns, by e-mail.
    pub subject: Option<String>,
    pub space: Option<SpaceId>,
    /// What else there is to say; no personal data (it is never forgotten).
    pub detail: String,
}

impl AuditEvent {
    #[must_use]
    pub fn new(kind: AuditKind) -> Self {
        Self {
            kind,
            actor: None,
            subject: None,
            space: None,
            detail: String::new(),
        }
    }

    #[must_use]
    pub fn actor(mut self, email: &str) -> Self {
        self.actor = Some(email.to_owned());
        self
    }

    #[must_use]
    pub fn subject(mut self, email: &str) -> Self {
        self.subject = Some(email.to_owned());
        self
    }

    #[must_use]
    pub fn space(mut self, space: SpaceId) -> Self {
        self.space = Some(space);
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// One entry as stored (the bytes that are hashed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    seq: u64,
    at_ms: u64,
    kind: AuditKind,
    actor: Option<[u8; 16]>,
    subject: Option<[u8; 16]>,
    space: Option<SpaceId>,
    detail: String,
    /// SHA-256 of the previous entry's bytes (or of the checkpoint; zeros first).
    prev: [u8; 32],
}

/// The seq and hash of one entry: the head, or the retention checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Link {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// One entry as `audit list` shows it; a purged person shows as `(purged)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at_ms: u64,
    pub kind: String,
    /// E-mail; `cairn-server` for the admin command line or the server itself.
    pub actor: String,
    pub subject: Option<String>,
    pub space: Option<String>,
    pub detail: String,
}

/// What `audit verify` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditVerification {
    /// Every link holds. `head` is the hex SHA-256 of the last entry.
    Intact {
        entries: u64,
        first_seq: u64,
        last_seq: u64,
        head: String,
    },
    /// The first entry (by seq) that is edited, missing or out of place.
    Broken { seq: u64, reason: String },
}

fn entry_key(seq: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = ENTRY;
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(prefix);
    key.extend_from_slice(rest);
    key
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The audit tree key of the retention checkpoint and its value for `link`.
pub(crate) fn checkpoint_entry(link: Link) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    Ok((CHECKPOINT.to_vec(), codec::encode(&link)?))
}

/// The seq of an audit entry key, `None` for the head and checkpoint keys.
pub(crate) fn entry_seq(key: &[u8]) -> Option<u64> {
    match key.split_first() {
        Some((&ENTRY, rest)) => <[u8; 8]>::try_from(rest).ok().map(u64::from_be_bytes),
        _ => None,
    }
}

/// The time of an audit entry's bytes and its hash (for retention).
pub(crate) fn entry_time_and_hash(value: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    let stored: Stored = codec::decode(value)?;
    Ok((stored.at_ms, sha(value)))
}

/// The `audit_subjects` keys that name `email` (token → e-mail and e-mail → token).
pub(crate) fn is_subject_of(key: &[u8], value: &[u8], email: &str) -> bool {
    match key.split_first() {
        Some((&TOKEN, _)) => value == email.as_bytes(),
        Some((&BY_EMAIL, rest)) => rest == email.as_bytes(),
        _ => false,
    }
}

impl SledStore {
    /// Appends an event to the audit log, durable when it returns. Logged and
    /// swallowed on failure: the action it records has already happened.
    pub fn audit(&self, event: AuditEvent) {
        self.audit_at(event, now_ms());
    }

    /// [`SledStore::audit`] at a given time (tests, and callers with their own clock).
    pub fn audit_at(&self, event: AuditEvent, at_ms: u64) {
        let kind = event.kind;
        if let Err(e) = self.try_audit(event, at_ms).and_then(|()| self.flush()) {
            tracing::error!("cannot write the audit log entry {}: {e}", kind.name());
        }
    }

    fn try_audit(&self, event: AuditEvent, at_ms: u64) -> Result<(), StoreError> {
        let _audit = self
            .inner
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let actor = event
            .actor
            .as_deref()
            .map(|e| self.token_of(e))
            .transpose()?;
        let subject = event
            .subject
            .as_deref()
            .map(|e| self.token_of(e))
            .transpose()?;
        let db = self.db();
        let last = match db.audit.get(HEAD)? {
            Some(bytes) => Some(codec::decode::<Link>(&bytes)?),
            None => match db.audit.get(CHECKPOINT)? {
                Some(bytes) => Some(codec::decode::<Link>(&bytes)?),
                None => None,
            },
        };
        let (seq, bytes, head) = next_entry(last, event, actor, subject, at_ms)?;
        let mut batch = sled::Batch::default();
        batch.insert(&entry_key(seq)[..], bytes);
        batch.insert(HEAD, codec::encode(&head)?);
        db.audit.apply_batch(batch)?;
        drop(db);
        self.wrote();
        Ok(())
    }

    /// The token that names `email` in the audit log (made on first use).
    fn token_of(&self, email: &str) -> Result<[u8; 16], StoreError> {
        let email = super::users::normalize_email(email);
        let db = self.db();
        let by_email = prefixed(BY_EMAIL, email.as_bytes());
        if let Some(token) = db.audit_subjects.get(&by_email)? {
            return super::id_at(&token, 0).ok_or_else(|| {
                codec::CodecError::Malformed("a damaged audit subject".into()).into()
            });
        }
        let token = *uuid::Uuid::new_v4().as_bytes();
        let mut batch = sled::Batch::default();
        batch.insert(by_email, &token[..]);
        batch.insert(prefixed(TOKEN, &token), email.as_bytes());
        db.audit_subjects.apply_batch(batch)?;
        Ok(token)
    }

    /// The e-mail a token stands for; `None` once the person was purged.
    fn name_of(&self, token: [u8; 16]) -> Result<Option<String>, StoreError> {
        Ok(self
            .db()
            .audit_subjects
            .get(prefixed(TOKEN, &token))?
            .map(|email| String::from_utf8_lossy(&email).into_owned()))
    }

    /// Every entry, oldest first.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().audit.scan_prefix([ENTRY]) {
            let (_, value) = entry?;
            out.push(shown_entry(&value, |token| self.name_of(token))?);
        }
        Ok(out)
    }

    /// Checks every link of the chain, from the checkpoint (or the start) to the head.
    ///
    /// # Errors
    /// A storage error (damaged entries are reported as [`AuditVerification::Broken`]).
    pub fn audit_verify(&self) -> Result<AuditVerification, StoreError> {
        let db = self.db();
        let broken = |seq: u64, reason: &str| {
            Ok(AuditVerification::Broken {
                seq,
                reason: reason.to_owned(),
            })
        };
        let checkpoint = match db.audit.get(CHECKPOINT)? {
            Some(bytes) => match codec::decode::<Link>(&bytes) {
                Ok(link) => Some(link),
                Err(_) => return broken(0, "the retention checkpoint is damaged"),
            },
            None => None,
        };
        let head = match db.audit.get(HEAD)? {
            Some(bytes) => match codec::decode::<Link>(&bytes) {
                Ok(link) => Some(link),
                Err(_) => return broken(0, "the head record is damaged"),
            },
            None => None,
        };
        let entries = db.audit.scan_prefix([ENTRY]).map(|entry| {
            let (key, value) = entry?;
            Ok((entry_seq(&key), value.to_vec()))
        });
        verify_chain(checkpoint, head, entries)
    }
}

/// The next entry after `last` (the head, or the retention checkpoint): its seq,
/// its bytes (what the next entry's link hashes) and the new head.
pub(crate) fn next_entry(
    last: Option<Link>,
    event: AuditEvent,
    actor: Option<[u8; 16]>,
    subject: Option<[u8; 16]>,
    at_ms: u64,
) -> Result<(u64, Vec<u8>, Link), StoreError> {
    let stored = Stored {
        seq: last.map_or(1, |l| l.seq + 1),
        at_ms,
        kind: event.kind,
        actor,
        subject,
        space: event.space,
        detail: event.detail,
        prev: last.map_or([0; 32], |l| l.hash),
    };
    let bytes = codec::encode(&stored)?;
    let head = Link {
        seq: stored.seq,
        hash: sha(&bytes),
    };
    Ok((stored.seq, bytes, head))
}

/// An entry's bytes as `audit list` shows it; `name_of` gives the e-mail of a
/// token (`None` once purged).
pub(crate) fn shown_entry(
    bytes: &[u8],
    name_of: impl Fn([u8; 16]) -> Result<Option<String>, StoreError>,
) -> Result<AuditEntry, StoreError> {
    let stored: Stored = codec::decode(bytes)?;
    let name = |token: Option<[u8; 16]>| -> Result<Option<String>, StoreError> {
        match token {
            Some(token) => Ok(Some(
                name_of(token)?.unwrap_or_else(|| "(purged)".to_owned()),
            )),
            None => Ok(None),
        }
    };
    Ok(AuditEntry {
        seq: stored.seq,
        at_ms: stored.at_ms,
        kind: stored.kind.name().to_owned(),
        actor: name(stored.actor)?.unwrap_or_else(|| "cairn-server".to_owned()),
        subject: name(stored.subject)?,
        space: stored.space.map(|s| s.to_string()),
        detail: stored.detail,
    })
}

/// Checks every link of a chain: `entries` are (seq from the key, bytes) in key
/// order, from the checkpoint (or the start) to `head`.
///
/// # Errors
/// A storage error while reading the entries.
pub(crate) fn verify_chain(
    checkpoint: Option<Link>,
    head: Option<Link>,
    entries: impl Iterator<Item = Result<(Option<u64>, Vec<u8>), StoreError>>,
) -> Result<AuditVerification, StoreError> {
    let broken = |seq: u64, reason: &str| {
        Ok(AuditVerification::Broken {
            seq,
            reason: reason.to_owned(),
        })
    };
    let mut expected = checkpoint.map_or(1, |c| c.seq + 1);
    let first_seq = expected;
    let mut prev = checkpoint.map_or([0; 32], |c| c.hash);
    let mut count = 0u64;
    for entry in entries {
        let (seq, value) = entry?;
        let Some(seq) = seq else {
            return broken(expected, "an entry has a damaged key");
        };
        if seq != expected {
            return broken(
                expected,
                &format!("the entry is missing (the next one is {seq})"),
            );
        }
        let Ok(stored) = codec::decode::<Stored>(&value) else {
            return broken(seq, "the entry is damaged (it does not decode)");
        };
        if stored.seq != seq {
            return broken(seq, "the entry was moved (its own seq differs)");
        }
        if stored.prev != prev {
            // The link breaks at the entry after the edited one.
            let edited = if seq > first_seq { seq - 1 } else { seq };
            return broken(
                edited,
                &format!("the entry was edited (entry {seq} no longer links to it)"),
            );
        }
        prev = sha(&value);
        expected += 1;
        count += 1;
    }
    let last_seq = expected - 1;
    match head {
        Some(h) if h.seq != last_seq => broken(
            last_seq + 1,
            &format!(
                "entries up to {} were written, the log ends at {last_seq}",
                h.seq
            ),
        ),
        Some(h) if h.hash != prev => broken(last_seq, "the last entry was edited"),
        None if count > 0 => broken(0, "the head record is missing"),
        _ => Ok(AuditVerification::Intact {
            entries: count,
            first_seq,
            last_seq,
            head: hex::encode(prev),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::temp_store;
    use super::*;

    fn three(store: &SledStore) {
        store.audit_at(
            AuditEvent::new(AuditKind::AccountCreated).subject("ann@example.com"),
            1_000,
        );
        store.audit_at(
            AuditEvent::new(AuditKind::RoleChanged)
                .actor("bob@example.com")
                .subject("ann@example.com")
                .detail("editor -> owner"),
            2_000,
        );
        store.audit_at(AuditEvent::new(AuditKind::Backup).detail("nightly"), 3_000);
    }

    fn broken_at(store: &SledStore) -> u64 {
        match store.audit_verify().expect("verify runs") {
            AuditVerification::Broken { seq, .. } => seq,
            intact => panic!("tampering not detected: {intact:?}"),
        }
    }

    /// Entries list with names resolved; an intact chain verifies with its head.
    #[test]
    fn list_and_verify_intact() {
        let (_dir, store) = temp_store();
        three(&store);
        let entries = store.audit_entries().expect("list");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].kind, "role-changed");
        assert_eq!(entries[1].actor, "bob@example.com");
        assert_eq!(entries[1].subject.as_deref(), Some("ann@example.com"));
        assert_eq!(entries[2].actor, "cairn-server");
        assert!(matches!(
            store.audit_verify().expect("verify"),
            AuditVerification::Intact {
                entries: 3,
                last_seq: 3,
                ..
            }
        ));
    }

    /// An edited entry is named: its successor no longer links to it.
    #[test]
    fn edited_entry_is_detected() {
        let (_dir, store) = temp_store();
        three(&store);
        let key = entry_key(2);
        let mut stored: Stored =
            codec::decode(&store.db().audit.get(key).expect("get").expect("entry 2"))
                .expect("decode");
        stored.detail = "viewer -> owner".into();
        store
            .db()
            .audit
            .insert(key, codec::encode(&stored).expect("encode"))
            .expect("tamper");
        assert_eq!(broken_at(&store), 2);
    }

    /// A removed entry in the middle and a removed last entry are both detected.
    #[test]
    fn removed_entries_are_detected() {
        let (_dir, store) = temp_store();
        three(&store);
        let middle = store.db().audit.remove(entry_key(2)).expect("remove");
        assert_eq!(broken_at(&store), 2);
        store
            .db()
            .audit
            .insert(entry_key(2), middle.expect("was there"))
            .expect("put back");
        assert!(matches!(
            store.audit_verify().expect("verify"),
            AuditVerification::Intact { .. }
        ));
        store.db().audit.remove(entry_key(3)).expect("remove last");
        assert_eq!(broken_at(&store), 3);
    }
}
