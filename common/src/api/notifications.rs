//! Wire types of notifications by choice: which mails a user wants. Everything is
//! off until the user turns it on.

use serde::{Deserialize, Serialize};

/// Which mails the caller gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// The daily digest lists the caller's commitments and standard tasks due today
    /// or overdue.
    pub due: bool,
    /// The daily digest lists the caller's conversation follow-ups due today or
    /// overdue (never private notes).
    pub follow_ups: bool,
    /// A mail when an owner adds the caller to a space. (An invitation by e-mail
    /// always goes: it carries the code.)
    pub invitations: bool,
}

impl NotificationSettings {
    /// Everything on.
    pub const ALL: Self = Self {
        due: true,
        follow_ups: true,
        invitations: true,
    };

    /// Whether any mail is wanted.
    #[must_use]
    pub fn any(self) -> bool {
        self.due || self.follow_ups || self.invitations
    }

    /// Whether the daily digest has anything to list.
    #[must_use]
    pub fn wants_digest(self) -> bool {
        self.due || self.follow_ups
    }

    /// These settings with `change` applied.
    #[must_use]
    pub fn with(self, change: SetNotifications) -> Self {
        Self {
            due: change.due.unwrap_or(self.due),
            follow_ups: change.follow_ups.unwrap_or(self.follow_ups),
            invitations: change.invitations.unwrap_or(self.invitations),
        }
    }
}

/// One kind of notification mail, in the order the client shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    Due,
    FollowUps,
    Invitations,
}

impl NotificationKind {
    pub const ALL: [Self; 3] = [Self::Due, Self::FollowUps, Self::Invitations];

    /// Its name, as `cairn account notifications` and the TUI show it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::FollowUps => "follow-ups",
            Self::Invitations => "invitations",
        }
    }

    /// What it sends, in a few words.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Due => "daily digest: your commitments and standard tasks due or overdue",
            Self::FollowUps => "daily digest: your conversation follow-ups due or overdue",
            Self::Invitations => "a mail when an owner adds you to a space",
        }
    }

    /// Whether `settings` have it on.
    #[must_use]
    pub fn is_on(self, settings: NotificationSettings) -> bool {
        match self {
            Self::Due => settings.due,
            Self::FollowUps => settings.follow_ups,
            Self::Invitations => settings.invitations,
        }
    }

    /// The change that turns this kind, and only this kind, on or off.
    #[must_use]
    pub fn set(self, on: bool) -> SetNotifications {
        let mut change = SetNotifications::default();
        match self {
            Self::Due => change.due = Some(on),
            Self::FollowUps => change.follow_ups = Some(on),
            Self::Invitations => change.invitations = Some(on),
        }
        change
    }
}

/// Turn kinds of mail on or off; `None` leaves a kind as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetNotifications {
    pub due: Option<bool>,
    pub follow_ups: Option<bool>,
    pub invitations: Option<bool>,
}

impl SetNotifications {
    /// Every kind set to `on`.
    #[must_use]
    pub fn all(on: bool) -> Self {
        Self {
            due: Some(on),
            follow_ups: Some(on),
            invitations: Some(on),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_touches_only_what_it_names() {
        let start = NotificationSettings {
            due: true,
            ..NotificationSettings::default()
        };
        let changed = start.with(SetNotifications {
            invitations: Some(true),
            ..SetNotifications::default()
        });
        assert_eq!(
            changed,
            NotificationSettings {
                due: true,
                follow_ups: false,
                invitations: true
            }
        );
        assert_eq!(
            changed.with(SetNotifications::all(false)),
            NotificationSettings::default()
        );
        assert!(!NotificationSettings::default().any());
        assert!(
            NotificationSettings {
                invitations: true,
                ..Default::default()
            }
            .any()
        );
        assert!(
            !NotificationSettings {
                invitations: true,
                ..Default::default()
            }
            .wants_digest()
        );
    }
}
