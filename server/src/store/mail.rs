//! The mail outbox: mails waiting to be sent, and for a few days what became of
//! them. Its types, the rules every mail must keep (checked here once for both
//! backends), and the [`Store`] methods the sender and the admin commands use.
//! Sending itself is not the store's business: see [`crate::mail`].
//!
//! A mail's life: [`Store::queue_mail`] stores it durably (sled: group commit;
//! PostgreSQL: committed); a sender claims it ([`Store::claim_mail`]) for a lease,
//! so that of several servers on one database only one sends it, and one that dies
//! mid-send lets another take it over after the lease; the sender then records the
//! outcome ([`Store::finish_mail`]): sent, failed and due again later, or given up.
//! A sent or given-up mail keeps its metadata (recipient, kind, times, attempts,
//! last error) for `mail list`, but not its subject or body, until retention removes
//! it (`[retention] mail_days`). A purge of a user removes that user's mail.

use cairn_common::model::UserId;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::clock::now_ms;

/// What a mail is for. Stored by variant index on sled and by [`MailKind::name`]
/// on PostgreSQL: append new kinds at the end only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MailKind {
    Invitation,
    PasswordReset,
    Digest,
    ConsentWithdrawn,
    Other,
    /// Someone was added to a space (a notification they chose).
    Membership,
}

impl MailKind {
    /// Every kind, in stored order.
    pub const ALL: [MailKind; 6] = [
        Self::Invitation,
        Self::PasswordReset,
        Self::Digest,
        Self::ConsentWithdrawn,
        Self::Other,
        Self::Membership,
    ];

    /// The kind as `mail list` prints it and PostgreSQL stores it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password-reset",
            Self::Digest => "digest",
            Self::ConsentWithdrawn => "consent-withdrawn",
            Self::Other => "other",
            Self::Membership => "membership",
        }
    }

    /// The kind named `name`; a name this server does not know (a newer server
    /// wrote it) reads as [`MailKind::Other`], so the mail is still sent.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or(Self::Other)
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A mail to send: plain text, UTF-8. Mails carry the minimum: a short subject and
/// a body that says what happened and where to look (a link to the server), never
/// note text, ratings or other record contents; the data stays on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// One address, `name@example.com`.
    pub to: String,
    pub subject: String,
    pub body: String,
    pub kind: MailKind,
    /// Whose mail this is: a purge of that user removes it (as it removes any
    /// mail to the user's address).
    pub user: Option<UserId>,
}

/// A mail's id: a UUIDv7, so ids sort by the time they were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MailId(pub uuid::Uuid);

impl MailId {
    #[must_use]
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for MailId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for MailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a mail is. Stored by variant index: append new states at the end only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailState {
    /// Waiting to be sent (again) at `next_attempt_ms`.
    Queued,
    Sent,
    /// Given up after failing for too long.
    Failed,
}

impl MailState {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// A mail in the outbox with its delivery state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    pub id: MailId,
    /// Subject and body are emptied once the mail is sent or given up.
    pub mail: OutgoingMail,
    pub created_ms: u64,
    pub state: MailState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When a queued mail is due (again).
    pub next_attempt_ms: u64,
    /// What the last failed attempt said (the whole message, for the admin).
    pub last_error: Option<String>,
    /// When it was sent or given up.
    pub finished_ms: Option<u64>,
    /// The sender that holds it, until `claimed_until_ms`.
    pub claimed_by: Option<uuid::Uuid>,
    pub claimed_until_ms: u64,
}

impl QueuedMail {
    /// A new mail, due at once.
    #[must_use]
    pub fn new(mail: OutgoingMail, now_ms: u64) -> Self {
        Self {
            id: MailId::new(),
            mail,
            created_ms: now_ms,
            state: MailState::Queued,
            attempts: 0,
            next_attempt_ms: now_ms,
            last_error: None,
            finished_ms: None,
            claimed_by: None,
            claimed_until_ms: 0,
        }
    }

    /// Whether a sender may claim it at `now_ms`: queued, due, and no live claim.
    #[must_use]
    pub fn is_due(&self, now_ms: u64) -> bool {
        self.state == MailState::Queued
            && self.next_attempt_ms <= now_ms
            && self.claimed_until_ms <= now_ms
    }

    /// The mail after `outcome` at `now_ms` (see [`Store::finish_mail`]).
    #[must_use]
    pub fn finished(mut self, outcome: &MailOutcome, now_ms: u64) -> Self {
        self.attempts = self.attempts.saturating_add(1);
        self.claimed_by = None;
        self.claimed_until_ms = 0;
        match outcome {
            MailOutcome::Sent => {
                self.state = MailState::Sent;
                self.finished_ms = Some(now_ms);
            }
            MailOutcome::Retry {
                error,
                next_attempt_ms,
            } => {
                self.last_error = Some(error.clone());
                self.next_attempt_ms = *next_attempt_ms;
            }
            MailOutcome::GaveUp { error } => {
                self.state = MailState::Failed;
                self.last_error = Some(error.clone());
                self.finished_ms = Some(now_ms);
            }
        }
        if self.state != MailState::Queued {
            // Only what `mail list` shows stays; the text goes with the attempt.
            self.mail.subject.clear();
            self.mail.body.clear();
        }
        self
    }
}

/// What became of one attempt to send a claimed mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    /// It failed; try again at `next_attempt_ms`.
    Retry {
        error: String,
        next_attempt_ms: u64,
    },
    /// It failed for too long: stop trying.
    GaveUp {
        error: String,
    },
}

/// The longest subject, in characters: a subject says what happened in a line.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest body, in bytes: a few paragraphs and a link, never record contents.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Checks a mail before it is queued: one valid address, a one-line subject, a
/// body of plain text within the limits.
///
/// # Errors
/// [`StoreError::InvalidEmail`] or [`StoreError::InvalidInput`] naming the problem.
pub fn check_mail(mail: &OutgoingMail) -> Result<(), StoreError> {
    if mail.to.parse::<lettre::Address>().is_err() || mail.to.contains(['<', '>', ',']) {
        return Err(StoreError::InvalidEmail(mail.to.clone()));
    }
    if mail.subject.trim().is_empty() {
        return Err(StoreError::InvalidInput("a mail needs a subject".into()));
    }
    if mail.subject.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(
            "a mail's subject must be one line without control characters".into(),
        ));
    }
    if mail.subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(StoreError::InvalidInput(format!(
            "a mail's subject may have at most {MAX_SUBJECT_CHARS} characters"
        )));
    }
    if mail.body.len() > MAX_BODY_BYTES {
        return Err(StoreError::InvalidInput(format!(
            "a mail's body may have at most {MAX_BODY_BYTES} bytes: mails carry a short \
             notice and a link, never record contents"
        )));
    }
    if mail
        .body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(StoreError::InvalidInput(
            "a mail's body must be plain text (no control characters but line breaks and tabs)"
                .into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Checks `mail` and queues it, durably, due at once; its id. Callers usually
    /// go through [`crate::mail::Mailer::queue`], which also refuses while mail is
    /// off and wakes the sender.
    ///
    /// # Errors
    /// [`StoreError::InvalidEmail`] / [`StoreError::InvalidInput`] for a mail that
    /// breaks [`check_mail`], or a storage or database error (nothing is queued).
    pub async fn queue_mail(&self, mail: OutgoingMail) -> Result<MailId, StoreError> {
        self.queue_mail_at(mail, now_ms()).await
    }

    /// [`Store::queue_mail`] at a given time (tests, and callers with a clock).
    ///
    /// # Errors
    /// As [`Store::queue_mail`].
    pub async fn queue_mail_at(
        &self,
        mail: OutgoingMail,
        now_ms: u64,
    ) -> Result<MailId, StoreError> {
        check_mail(&mail)?;
        let queued = QueuedMail::new(mail, now_ms);
        match self {
            Self::Sled(s) => s.queue_mail(&queued)?,
            Self::Postgres(p) => p.queue_mail(&queued).await?,
        }
        self.commit_durable().await?;
        Ok(queued.id)
    }

    /// Claims the due mail that waited longest for `holder` until `now_ms +
    /// lease_ms`; `None` if no mail is due. A claimed mail is not handed to anyone
    /// else until its lease ends, whichever server asks.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn claim_mail(
        &self,
        holder: uuid::Uuid,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<Option<QueuedMail>, StoreError> {
        let claimed = match self {
            Self::Sled(s) => s.claim_mail(holder, now_ms, lease_ms)?,
            Self::Postgres(p) => p.claim_mail(holder, now_ms, lease_ms).await?,
        };
        // A claim need not survive a crash (the lease ends anyway), so no commit.
        Ok(claimed)
    }

    /// Records the outcome of `holder`'s attempt at mail `id`, durably. False (and
    /// nothing recorded) if `holder` no longer holds it: its lease ended and
    /// another sender took it over, or it was purged meanwhile.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn finish_mail(
        &self,
        id: MailId,
        holder: uuid::Uuid,
        outcome: &MailOutcome,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let recorded = match self {
            Self::Sled(s) => s.finish_mail(id, holder, outcome, now_ms)?,
            Self::Postgres(p) => p.finish_mail(id, holder, outcome, now_ms).await?,
        };
        self.commit_durable().await?;
        Ok(recorded)
    }

    /// Every mail in the outbox (queued, and sent or failed ones retention has
    /// not removed yet), oldest first.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn mail_list(&self) -> Result<Vec<QueuedMail>, StoreError> {
        match self {
            Self::Sled(s) => s.mail_list(),
            Self::Postgres(p) => p.mail_list().await,
        }
    }
}
