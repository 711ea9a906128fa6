//! Spaces, roles and the user profile: who may see and change which records.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{SpaceId, UserId};

/// A space holds records; only its members see it. Every user has a personal space
/// from the start; shared spaces come with the sync server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    pub id: SpaceId,
    pub name: String,
    /// The owner's own space, created with the account (or the local replica).
    pub personal: bool,
}

/// What a member may do in a space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Reads only.
    Viewer,
    /// Reads and changes records.
    Editor,
    /// Also manages members and the space itself.
    Owner,
}

impl Role {
    /// Whether this role may change records.
    #[must_use]
    pub fn can_edit(self) -> bool {
        self >= Self::Editor
    }

    /// Whether this role may manage members and rename the space.
    #[must_use]
    pub fn can_manage(self) -> bool {
        self == Self::Owner
    }

    /// Reads `owner`, `editor`, `viewer`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_lowercase().as_str() {
            "owner" => Some(Self::Owner),
            "editor" => Some(Self::Editor),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Owner => "owner",
        })
    }
}

/// A person as the rest of Cairn sees them (no credentials here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    /// Login name; `admin` for the standard account.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl UserProfile {
    /// "First Last", or the e-mail when both names are empty.
    #[must_use]
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        match name.trim() {
            "" => self.email.clone(),
            name => name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Roles are ordered by power and only editors and owners may change records.
    #[test]
    fn role_powers() {
        assert!(!Role::Viewer.can_edit());
        assert!(Role::Editor.can_edit() && !Role::Editor.can_manage());
        assert!(Role::Owner.can_manage());
        assert_eq!(Role::parse("Editor"), Some(Role::Editor));
    }
}
