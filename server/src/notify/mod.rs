//! Notifications by choice: mail a user asked for, and nothing else. Off until the
//! user turns kinds on (`cairn account notifications on`); every such mail ends
//! with the one command and the one link that stop it. See `docs/MAIL.md`.
//!
//! # Layout
//! - this file: [`NotifySettings`] (`[notifications]`), reading and changing a
//!   user's choice, the stop link, and the mail when someone is added to a space;
//! - [`digest`]: the daily digest: which of a user's records are due, and its text;
//! - [`schedule`]: the task that sends the digest once a day at the set time.

pub mod digest;
#[cfg(test)]
mod digest_tests;
pub mod schedule;

use cairn_common::api::notifications::{NotificationSettings, SetNotifications};
use cairn_common::model::{Role, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mail::{MailError, MailKind, Mailer, OutgoingMail};
use crate::store::notifications::NotificationRecord;
use crate::store::{AuditEvent, AuditKind, Store, StoreError};

/// `[notifications]` in `cairn-server.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// When the daily digest goes out, `HH:MM` in the server's local time (its
    /// `TZ`).
    pub digest_time: String,
    /// Whether the digest names records by title. Off: by kind, short id, date and
    /// space only, so no record contents leave the server.
    pub digest_titles: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            digest_time: "07:00".to_owned(),
            digest_titles: false,
        }
    }
}

impl NotifySettings {
    /// The digest's time of day.
    ///
    /// # Errors
    /// A `digest_time` that is not `HH:MM`, saying so.
    pub fn time(&self) -> Result<chrono::NaiveTime, String> {
        chrono::NaiveTime::parse_from_str(self.digest_time.trim(), "%H:%M").map_err(|_| {
            format!(
                "[notifications] digest_time = {:?} is not a time of day; write HH:MM, \
                 e.g. \"07:00\"",
                self.digest_time
            )
        })
    }
}

/// `user`'s choice (all off if they never made one).
///
/// # Errors
/// A storage error.
pub async fn settings_of(store: &Store, user: UserId) -> Result<NotificationSettings, StoreError> {
    Ok(store
        .notifications(user)
        .await?
        .map(|r| r.settings)
        .unwrap_or_default())
}

/// Applies `change` to `user`'s choice, durably and audited; the choice after it.
///
/// # Errors
/// A storage error.
pub async fn change(
    store: &Store,
    user: UserId,
    email: &str,
    change: SetNotifications,
    now_ms: u64,
) -> Result<NotificationSettings, StoreError> {
    let before = store.notifications(user).await?;
    let record = match before {
        Some(record) => NotificationRecord {
            settings: record.settings.with(change),
            changed_ms: now_ms,
            ..record
        },
        None => NotificationRecord::new(NotificationSettings::default().with(change), now_ms),
    };
    store.set_notifications(user, &record).await?;
    store
        .audit(
            AuditEvent::new(AuditKind::NotificationsChanged)
                .actor(email)
                .detail(describe(record.settings)),
        )
        .await;
    Ok(record.settings)
}

/// What is on, for the audit log: `due, follow-ups` or `none`.
fn describe(settings: NotificationSettings) -> String {
    let on: Vec<&str> = [
        (settings.due, "due"),
        (settings.follow_ups, "follow-ups"),
        (settings.invitations, "invitations"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "now on: none".to_owned()
    } else {
        format!("now on: {}", on.join(", "))
    }
}

/// Turns all of `user`'s notifications off if `token` is their stop token; false
/// (and nothing changed) for any other user or token.
///
/// # Errors
/// A storage error.
pub async fn stop(
    store: &Store,
    user: UserId,
    token: &str,
    now_ms: u64,
) -> Result<bool, StoreError> {
    let Some(record) = store.notifications(user).await? else {
        return Ok(false);
    };
    // Compared by hash, so the time taken says nothing about the stored token.
    let given = Sha256::digest(token.trim().to_ascii_lowercase().as_bytes());
    if given != Sha256::digest(record.stop_token.as_bytes()) {
        return Ok(false);
    }
    if record.settings.any() {
        let email = store
            .user(user)
            .await?
            .map(|u| u.profile.email)
            .unwrap_or_default();
        change(store, user, &email, SetNotifications::all(false), now_ms).await?;
    }
    Ok(true)
}

/// The link in a mail that stops all of `user`'s notifications.
#[must_use]
pub fn stop_link(public_url: &str, user: UserId, token: &str) -> String {
    format!(
        "{}{}?user={user}&token={token}",
        public_url.trim_end_matches('/'),
        cairn_common::api::endpoints::STOP_MAIL
    )
}

/// The end of every notification mail: why it came, and how to stop it.
#[must_use]
pub fn footer(public_url: &str, user: UserId, token: &str) -> String {
    format!(
        "\n--\nYou get this mail because you turned on notifications in Cairn.\n\
         To stop them, run:  cairn account notifications off\n\
         or open:            {}\n",
        stop_link(public_url, user, token)
    )
}

/// Mails `member` that `owner` added them to `space_name`, if they chose to be
/// told (`invitations`) and mail is on. A failure is logged, never the caller's:
/// the membership stands either way.
pub async fn tell_added(
    store: &Store,
    mailer: &Mailer,
    public_url: &str,
    member: UserId,
    owner_name: &str,
    space_name: &str,
    role: Role,
) {
    let result: Result<(), MailError> = async {
        let Some(record) = store.notifications(member).await? else {
            return Ok(());
        };
        let Some(account) = store.user(member).await? else {
            return Ok(());
        };
        if !record.settings.invitations || account.disabled {
            return Ok(());
        }
        let role = match role {
            Role::Owner => "an owner",
            Role::Editor => "an editor",
            Role::Viewer => "a viewer",
        };
        let body = format!(
            "{owner_name} added you to the space {space_name} in Cairn, as {role}.\n\
             Run `cairn sync` (or open Cairn) to see it.\n{}",
            footer(public_url, member, &record.stop_token)
        );
        mailer
            .queue(
                store,
                OutgoingMail {
                    to: account.profile.email,
                    subject: format!("You were added to {space_name} in Cairn"),
                    body,
                    kind: MailKind::Membership,
                    user: Some(member),
                },
            )
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) | Err(MailError::Off) => {}
        Err(e) => tracing::warn!("could not queue the mail about a new membership: {e}"),
    }
}
