//! The closed sets of choices: statuses, note kinds and ratings. Never free strings.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! choice_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $key:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every variant, in display order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The stable key used on the command line, in config and in exports.
            #[must_use]
            pub fn key(self) -> &'static str {
                match self {
                    $(Self::$variant => $key,)+
                }
            }

            /// The words shown to people.
            #[must_use]
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }

            /// Parses a key or label, ignoring case, spaces, `-` and `_`.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                let wanted = normalize(text);
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| normalize(v.key()) == wanted || normalize(v.label()) == wanted)
            }

            /// The accepted keys, for error messages.
            #[must_use]
            pub fn keys() -> String {
                Self::ALL.iter().map(|v| v.key()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | ':'))
        .flat_map(char::to_lowercase)
        .collect()
}

choice_enum!(
    /// Where a goal stands.
    GoalStatus {
        Open => "open", "open";
        OnTrack => "on-track", "on track";
        AtRisk => "at-risk", "at risk";
        Achieved => "achieved", "achieved";
        Dropped => "dropped", "dropped";
    }
);

choice_enum!(
    /// Whether a commitment was kept.
    CommitmentStatus {
        Open => "open", "open";
        Kept => "kept", "kept";
        Missed => "missed", "missed";
        Withdrawn => "withdrawn", "withdrawn";
    }
);

choice_enum!(
    /// What kind of conversation a note records.
    NoteKind {
        OneOnOne => "1:1", "1:1";
        Appraisal => "appraisal", "appraisal";
        Feedback => "feedback", "feedback";
        Other => "other", "other";
    }
);

choice_enum!(
    /// One axis of the 3×3 performance/potential grid.
    Rating {
        Low => "low", "low";
        Medium => "medium", "medium";
        High => "high", "high";
    }
);

impl GoalStatus {
    /// Whether the goal is finished one way or another.
    #[must_use]
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Achieved | Self::Dropped)
    }
}

impl CommitmentStatus {
    /// Whether the commitment still waits to be kept.
    #[must_use]
    pub fn is_open(self) -> bool {
        self == Self::Open
    }
}

impl Rating {
    /// 0, 1 or 2: the row or column in the 3×3 grid.
    #[must_use]
    pub fn index(self) -> usize {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys and labels parse back to the same variant, whatever the case and separators.
    #[test]
    fn parses_keys_and_labels() {
        for s in GoalStatus::ALL {
            assert_eq!(GoalStatus::parse(s.key()), Some(*s));
            assert_eq!(GoalStatus::parse(&s.label().to_uppercase()), Some(*s));
        }
        assert_eq!(GoalStatus::parse("on_track"), Some(GoalStatus::OnTrack));
        assert_eq!(NoteKind::parse("1:1"), Some(NoteKind::OneOnOne));
        assert_eq!(NoteKind::parse("11"), Some(NoteKind::OneOnOne));
        assert_eq!(Rating::parse("bogus"), None);
    }
}
