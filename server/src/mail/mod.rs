//! Mail to people: invitations, password resets, digests, notices. Everything
//! that sends mail queues it in the store's durable outbox and wakes the sender;
//! the sender, a task of `serve`, delivers it through the SMTP server of `[mail]`
//! and retries with backoff while that fails. See `docs/MAIL.md`.
//!
//! For code that sends mail, the whole API is:
//!
//! ```ignore
//! let id = mailer
//!     .queue(&store, OutgoingMail { to, subject, body, kind: MailKind::Invitation, user })
//!     .await?; // MailError::Off while mail is off
//! ```
//!
//! [`Mailer::queue`] checks that mail is on, queues durably
//! ([`Store::queue_mail`]) and wakes the sender ([`Mailer::notify`]). A mail carries
//! the minimum: what happened and a link to the server, never note text, ratings
//! or other record contents (see [`OutgoingMail`]).
//!
//! # Layout
//! - [`settings`]: `[mail]`: SMTP server, security, login, sender, retry schedule.
//! - [`transport`]: the SMTP connection (lettre over rustls with ring) and how a
//!   mail becomes a message; failures summed up without addresses.
//! - [`outbox`]: the sender task: claims due mail, sends it, records the outcome.
//! - [`health`]: how the last attempt went, for `/healthz` and `mail list`.
//! - this file: [`Mailer`], the handle the rest of the server holds.

pub mod health;
pub mod outbox;
pub mod settings;
#[cfg(test)]
mod smtp_tests;
pub mod transport;

use std::path::Path;
use std::sync::Arc;

pub use crate::store::{MailId, MailKind, MailState, OutgoingMail, QueuedMail};
pub use health::{MailFailure, MailHealth};
pub use settings::{MailSecurity, MailSettings};

use crate::store::{Store, StoreError};

/// Why a mail could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "mail is off: this server sends no mail; to turn it on, set enabled = true, host \
         and from under [mail] in cairn-server.toml and restart the server (docs/MAIL.md)"
    )]
    Off,
    /// The data dir's config could not be read (an admin command on a stopped dir).
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The handle to this server's mail: queueing, waking the sender, its health.
/// Cheap to clone: clones share one state. The running server has one (in the
/// API's state and its control socket); an admin command on a stopped data dir
/// makes its own, whose mail the server sends when it starts.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    /// The `[mail]` settings, or why the data dir's config could not be read: the
    /// error waits for a command that needs mail.
    config: Result<MailSettings, String>,
    /// Wakes the sender of this process at once.
    wake: tokio::sync::Notify,
    health: health::HealthCell,
}

impl Mailer {
    /// A mailer with these settings (the running server's, or a test's).
    #[must_use]
    pub fn new(settings: MailSettings) -> Self {
        Self::with_config(Ok(settings))
    }

    /// Mail off: queueing is refused.
    #[must_use]
    pub fn off() -> Self {
        Self::new(MailSettings::default())
    }

    /// The mailer of the data dir `root` as its config says, for an admin command
    /// on a stopped data dir.
    #[must_use]
    pub fn of_data_dir(root: &Path) -> Self {
        let config = crate::settings::Settings::load(root, std::env::vars())
            .map(|settings| settings.mail)
            .map_err(|e| e.to_string());
        Self::with_config(config)
    }

    fn with_config(config: Result<MailSettings, String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                wake: tokio::sync::Notify::new(),
                health: health::HealthCell::default(),
            }),
        }
    }

    /// The settings, if mail is on.
    ///
    /// # Errors
    /// [`MailError::Off`], or [`MailError::Config`] if the config could not be read.
    pub fn settings(&self) -> Result<&MailSettings, MailError> {
        match &self.inner.config {
            Ok(settings) if settings.enabled => Ok(settings),
            Ok(_) => Err(MailError::Off),
            Err(e) => Err(MailError::Config(e.clone())),
        }
    }

    /// Whether mail is on.
    #[must_use]
    pub fn is_on(&self) -> bool {
        self.settings().is_ok()
    }

    /// Queues `mail` (durably) and wakes the sender: the one call that code
    /// sending mail needs.
    ///
    /// # Errors
    /// [`MailError::Off`] while mail is off; the store's refusal of a bad address,
    /// subject or body ([`crate::store::mail::check_mail`]); or a storage error.
    pub async fn queue(&self, store: &Store, mail: OutgoingMail) -> Result<MailId, MailError> {
        self.settings()?;
        let id = store.queue_mail(mail).await?;
        self.notify();
        Ok(id)
    }

    /// Wakes this process's sender, for a caller that queued with
    /// [`Store::queue_mail`] itself. Without it the mail goes out within 30 s.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// Waits for [`Mailer::notify`] (the sender).
    pub(crate) async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    /// How the last attempts went.
    #[must_use]
    pub fn health(&self) -> MailHealth {
        self.inner.health.get()
    }

    /// Records an attempt's outcome: a success clears an earlier failure.
    pub fn record(&self, outcome: Result<u64, MailFailure>) {
        self.inner.health.record(outcome);
    }
}

impl Default for Mailer {
    fn default() -> Self {
        Self::off()
    }
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("on", &self.is_on())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_facade;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: "ann@example.com".into(),
            subject: "You are invited".into(),
            body: "Open https://cairn.example.com to join.".into(),
            kind: MailKind::Invitation,
            user: None,
        }
    }

    /// Off, queueing says so and stores nothing; on, the mail is queued and due.
    #[tokio::test]
    async fn queueing_is_refused_while_mail_is_off() {
        let (_dir, store) = temp_facade();
        let err = Mailer::off()
            .queue(&store, mail())
            .await
            .expect_err("mail is off");
        assert!(matches!(err, MailError::Off));
        assert!(err.to_string().contains("[mail]"), "{err}");
        assert!(store.mail_list().await.expect("list").is_empty());
        let on = Mailer::new(MailSettings {
            enabled: true,
            host: "smtp.example.com".into(),
            from: "cairn@example.com".into(),
            ..MailSettings::default()
        });
        let id = on.queue(&store, mail()).await.expect("queued");
        let list = store.mail_list().await.expect("list");
        assert_eq!((list.len(), list[0].id), (1, id));
        assert_eq!(list[0].state, MailState::Queued);
    }

    /// A config that does not load is the answer of whatever needs mail.
    #[test]
    fn a_broken_config_is_told() {
        let dir = tempfile::tempdir().expect("dir");
        let mailer = Mailer::of_data_dir(dir.path());
        assert!(matches!(mailer.settings(), Err(MailError::Config(_))));
    }
}
