//! Every user-facing string of the TUI, in one place, so wording stays consistent and
//! can be reviewed (or translated) without reading the drawing code. What is about
//! the server's own matters (privacy notice, notifications) is in `server.rs`, what
//! is about files (attachments, paths, opening) in `files.rs`.

mod files;
mod server;

pub use files::*;
pub use server::*;

use cairn_common::model::RecordKind;

use super::action::{Command, WriteKind};

// Panes and titles.
pub const DETAIL_TITLE: &str = "Details";
pub const HELP_TITLE: &str = " Keys — esc closes, j/k scroll ";
pub const PALETTE_TITLE: &str = " Commands — type to search, enter runs, esc closes ";
pub const HISTORY_TITLE: &str = " History — j/k select, R reverts to it, esc closes ";
pub const WEEKS_TITLE: &str = "Hours per week (last 12 weeks)";
pub const GRID_TITLE: &str = " Potential ↑  Performance → ";
pub const FILTER_PROMPT: &str = "/";
pub const NO_SELECTION: &str = "Nothing selected.";
pub const LOADING: &str = "Loading…";
pub const IN_TRASH: &str = "In the trash — r restores it.";
pub const EMPTY_VALUE: &str = "—";
pub const CONFLICT_MARK: &str = "!";
pub const HELP_HEADER: (&str, &str, &str) = ("Keys", "Does", "[keys] name");
pub const PALETTE_EMPTY: &str = "No command matches.";
pub const HISTORY_EMPTY: &str = "No history.";
pub const RATINGS: [&str; 3] = ["low", "medium", "high"];
/// The boxes of the potential grid, `[potential][performance]`, low to high.
pub const GRID_BOXES: [[&str; 3]; 3] = [
    ["Risk", "Effective", "Trusted pro"],
    ["Inconsistent", "Core player", "High performer"],
    ["Rough diamond", "Future star", "Star"],
];

/// After `b` on the potentials: which box the list shows now.
#[must_use]
pub fn grid_box_filter(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("Showing the box {name}. b: next box."),
        None => "Showing every box.".to_owned(),
    }
}
pub const PROGRESS_LABEL: &str = "Progress";

// Status bar.
pub const SAVED: &str = "saved";
pub const UNSAVED: &str = "unsaved";
pub const SAVING: &str = "saving…";
pub const TRASH_MODE: &str = "trash";
pub const SYNCED: &str = "synced";
pub const SYNCING: &str = "syncing…";
pub const OFFLINE: &str = "offline";

// Messages.
pub const NOTHING_TO_RESTORE: &str = "Restore works in the trash view: press t to open it.";
pub const ALREADY_IN_TRASH: &str = "This record is already in the trash; r restores it.";
pub const NO_CONFLICTS: &str = "This record has no conflicts.";
pub const NOT_LOADED: &str = "The record is still loading; try again in a moment.";
pub const NOTHING_CHANGED: &str = "Nothing changed.";
pub const EDIT_IN_TRASH: &str = "Restore the record first (r) to edit it.";
pub const NOT_LOGGED_IN: &str =
    "Not connected to a server; run `cairn login https://SERVER --email YOU` in a shell.";
pub const ONLY_ONE_SPACE: &str = "There is only one space you can write to.";

#[must_use]
pub fn pending(count: usize) -> String {
    format!("pending {count}")
}

/// The status bar's note of changes kept out of sync.
#[must_use]
pub fn set_aside(count: usize) -> String {
    format!("{count} set aside")
}

/// The message after a `cairn` command in another shell changed records.
#[must_use]
pub fn changed_from_shell(count: usize) -> String {
    if count == 1 {
        "1 record changed by a `cairn` command".to_owned()
    } else {
        format!("{count} records changed by a `cairn` command")
    }
}

/// The message after a round set changes aside.
#[must_use]
pub fn set_aside_now(count: usize) -> String {
    format!("{count} change(s) could not sync; `cairn undelivered` lists them")
}

#[must_use]
pub fn sync_error(reason: &str) -> String {
    format!("sync error: {reason}")
}

#[must_use]
pub fn space_chosen(name: &str) -> String {
    format!("New records go to the space {name}.")
}

#[must_use]
pub fn space_read_only(name: &str) -> String {
    format!("You can only read the space {name}; new records cannot go there.")
}

/// What the status bar says after a round that changed the spaces.
#[must_use]
pub fn spaces_changed(added: &[String], dropped: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("New space: {}.", added.join(", ")));
    }
    if !dropped.is_empty() {
        parts.push(format!(
            "No longer shared with you, removed here: {}.",
            dropped.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The list's title: the kind, or its trash.
#[must_use]
pub fn list_title(kind: RecordKind, trash: bool) -> String {
    if trash {
        format!(" Trash: {} ", kind.title())
    } else {
        format!(" {} ", kind.title())
    }
}

/// What an empty list says.
#[must_use]
pub fn empty_list(kind: RecordKind, trash: bool, filter: &str) -> String {
    if !filter.is_empty() {
        format!("Nothing matches “{filter}”. Esc clears the filter.")
    } else if trash {
        format!("No {} in the trash. Press t to go back.", plural(kind))
    } else {
        format!("No {} yet. Press n to add one.", plural(kind))
    }
}

/// `goals`, `standard tasks`, …
#[must_use]
pub fn plural(kind: RecordKind) -> String {
    kind.title().to_lowercase()
}

/// One record of a kind, as in "1 goal".
#[must_use]
pub fn singular(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Task => "standard task",
        RecordKind::Note => "conversation",
        other => other.key(),
    }
}

/// `12 of 340 goals`, `340 goals` or `1 goal`.
#[must_use]
pub fn counts(kind: RecordKind, shown: usize, total: usize) -> String {
    let noun = if total == 1 {
        singular(kind).to_owned()
    } else {
        plural(kind)
    };
    if shown == total {
        format!("{total} {noun}")
    } else {
        format!("{shown} of {total} {noun}")
    }
}

#[must_use]
pub fn space(name: &str) -> String {
    format!("space: {name}")
}

#[must_use]
pub fn conflicts(count: usize) -> String {
    if count == 1 {
        "1 conflict".to_owned()
    } else {
        format!("{count} conflicts")
    }
}

#[must_use]
pub fn field_conflict(values: usize) -> String {
    format!("conflict: {values} values, press c to resolve")
}

#[must_use]
pub fn unrated(count: usize) -> String {
    format!("({count} not rated) ")
}

#[must_use]
pub fn more(count: usize) -> String {
    format!("+{count} more")
}

/// What the status bar says after a write.
#[must_use]
/// After a save that names people who have no person record.
pub fn not_people_yet(saved: &str, names: &[String]) -> String {
    let (who, verb) = match names {
        [one] => (format!("\"{one}\""), "has"),
        many => (
            many.iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", "),
            "have",
        ),
    };
    format!(
        "{saved} {who} {verb} no person record yet: add them in People (7) or run \
         `cairn people suggest --create`."
    )
}

pub fn saved(write: WriteKind) -> &'static str {
    match write {
        WriteKind::Create => "Created.",
        WriteKind::Update => "Saved.",
        WriteKind::Delete => "Moved to the trash. Press t to see it, r there restores it.",
        WriteKind::Restore => "Restored.",
        WriteKind::Done => "Marked done.",
        WriteKind::Resolve => "Conflict resolved.",
        WriteKind::Undo => "Undone. ctrl-r redoes it.",
        WriteKind::Redo => "Redone.",
        WriteKind::Link => "Linked to the conversation.",
        WriteKind::RevertTo => "Back to the chosen version (new changes on top). u undoes it.",
        WriteKind::AddFile => "File added; the next sync uploads it. u takes it back.",
    }
}

pub const READER_KEYS: &str = "j/k scroll, space page, g/G ends, esc closes";
pub const READER_EMPTY: &str = "This record has no long text to read.";
/// The detail pane's note that it scrolls.
pub const DETAIL_MORE: &str = " } more ";
pub const DETAIL_SCROLLED: &str = " { back ";

pub const PERSON_KEYS: &str = "j/k move, enter opens, n starts the next 1:1, esc closes";
pub const PERSON_COMMITMENTS_BY: &str = "Their open commitments";
pub const PERSON_COMMITMENTS_TO: &str = "Open commitments to them";
pub const PERSON_GOALS: &str = "Goals";
pub const PERSON_FOLLOW_UPS: &str = "Follow-ups due";
pub const PERSON_CONVERSATIONS: &str = "Conversations";
pub const PERSON_POTENTIAL: &str = "Potential";
pub const PERSON_OPEN_POINTS: &str = "Open from the last conversation";
pub const PERSON_NOTHING: &str = "Nothing names this person yet.";

/// `p` on a record that names nobody known.
#[must_use]
pub fn no_person(name: &str) -> String {
    if name.is_empty() {
        "Select a person (7) or a record that names one, then press p.".to_owned()
    } else {
        format!("There is no person named {name:?}; add them on the People tab (7, then n).")
    }
}

#[must_use]
pub fn one_on_one_title(name: &str) -> String {
    format!("1:1 with {name}")
}

pub const COMMITMENT_NEEDS_NOTE: &str =
    "Select a conversation (5) first: C records a commitment agreed in it.";

/// After `H`.
#[must_use]
pub fn done_shown(shown: bool) -> &'static str {
    if shown {
        "Done records shown (achieved goals, kept commitments). H hides them."
    } else {
        "Done records hidden. H shows them."
    }
}

pub const HELP_TEXT_KEYS_HEADING: &str = "Typing in a field";
pub const HELP_TEXT_KEYS: &[(&str, &str)] = &[
    (
        "any key",
        "on a prefilled field: replaces its text (← → first to edit it)",
    ),
    ("←/→ home/end", "move in the text (ctrl-a: start)"),
    ("ctrl-w", "delete the word before the cursor"),
    ("ctrl-u/ctrl-k", "delete to the start / to the end"),
    (
        "←/→ space, a letter",
        "choice fields (status, kind, rating, yes/no): choose",
    ),
    (
        "enter",
        "long texts: open the editor (esc closes it, ctrl-e: $EDITOR)",
    ),
    (
        "paste",
        "stays in the field: line breaks in long texts, spaces in others",
    ),
    (
        "links, people",
        "type a title, name or short id: matching records drop down",
    ),
    (
        "↓/↑ enter esc",
        "in that list: choose, take the record, close the list",
    ),
];
pub const HELP_DATES_HEADING: &str = "Dates";
pub const HELP_DATES: &[(&str, &str)] = &[
    ("2026-12-31", "a day, YYYY-MM-DD"),
    ("today", "also tomorrow, yesterday"),
    ("+3d -1d", "days from today"),
    ("+2w -1w", "weeks from today"),
    ("+1m -6m", "months from today"),
];

/// The status bar while records still stream in at start.
pub const LOADING_RECORDS: &str = "loading records…";
/// The status bar of the first frame, while the replica is being opened.
pub const OPENING_REPLICA: &str = "opening the replica…";
/// An empty list while records still stream in: they may be on their way.
pub const LIST_LOADING: &str = "Loading records…";

pub const LINKS_TITLE: &str = " Links — j/k move, enter follows, esc closes ";
pub const LINKS_TO: &str = "links to";
pub const NO_LINKS: &str = "This record has no links, and nothing links to it.";

/// The details' label of the records that link to this one.
pub const LINKED_FROM: &str = "Linked from";

/// After the help key in the status bar.
pub const HELP_HINT: &str = "help";

pub const NOTHING_TO_UNDO: &str = "Nothing to undo: no record was changed here yet.";
pub const NOTHING_TO_REDO: &str = "Nothing to redo.";

/// What the status bar says when a write failed: the error says what to do.
#[must_use]
pub fn save_failed(error: &str) -> String {
    format!("Not saved: {error}")
}

#[must_use]
pub fn load_failed(error: &str) -> String {
    format!("Could not read the record: {error}")
}

#[must_use]
pub fn editor_failed(error: &str) -> String {
    format!("The external editor failed: {error}")
}

#[must_use]
pub fn cannot_be_done(kind: RecordKind) -> String {
    format!(
        "{} cannot be marked done; only goals, commitments and standard tasks can.",
        kind.title()
    )
}

#[must_use]
pub fn sorted_by(label: &str, reverse: bool) -> String {
    let direction = if reverse { "descending" } else { "ascending" };
    format!("Sorted by {label}, {direction}.")
}

/// The palette's name for a command.
#[must_use]
pub fn command(command: Command) -> String {
    match command {
        Command::Quit => "quit".into(),
        Command::Help => "help: show every key".into(),
        Command::Palette => "command palette".into(),
        Command::Filter => "filter the list".into(),
        Command::ClearFilter => "clear the filter".into(),
        Command::NextTab => "next kind".into(),
        Command::PrevTab => "previous kind".into(),
        Command::GoTo(kind) => format!("go to {}", plural(kind)),
        Command::Up => "move up".into(),
        Command::Down => "move down".into(),
        Command::PageUp => "page up".into(),
        Command::PageDown => "page down".into(),
        Command::Top => "first record".into(),
        Command::Bottom => "last record".into(),
        Command::New => "new record of this kind".into(),
        Command::NewOf(kind) => format!("new {}", kind.key()),
        Command::Edit => "edit the selected record".into(),
        Command::Delete => "delete: move to the trash".into(),
        Command::Restore => "restore from the trash".into(),
        Command::Done => "done: mark the selected record done".into(),
        Command::ToggleTrash => "trash: show or leave the trash".into(),
        Command::ToggleDone => "done: show or hide done records".into(),
        Command::NextGridBox => "potentials: next box of the grid".into(),
        Command::SortNext => "sort by the next column".into(),
        Command::SortReverse => "reverse the sort".into(),
        Command::Conflicts => "resolve conflicts of the selected record".into(),
        Command::History => "history of the selected record".into(),
        Command::Read => "read: the record's long texts full-screen".into(),
        Command::Person => "person: everything about the selected person".into(),
        Command::Links => "links: follow a link or backlink of the selected record".into(),
        Command::CommitmentFromNote => "commitment agreed in the selected conversation".into(),
        Command::DetailDown => "scroll the details down".into(),
        Command::DetailUp => "scroll the details up".into(),
        Command::UndoChange => "undo the last change of a record".into(),
        Command::RedoChange => "redo the change undone".into(),
        Command::Sync => "sync with the server now".into(),
        Command::NextSpace => "next space: where new records go".into(),
        Command::Space(_) => "space".into(),
        Command::Agenda => "agenda: overdue, today, this week, later".into(),
        Command::Search => "search every record (all kinds, all fields)".into(),
        Command::PrivacyNotice => "privacy notice: read and accept the server's notice".into(),
        Command::Notifications => "notifications: which mails the server sends you".into(),
        Command::Attach => "attach a file to the selected record (path, tab completes)".into(),
        Command::NextAttachment => "next attachment of the selected record".into(),
        Command::OpenFile => "open the selected file or attachment".into(),
        Command::SaveFile => "save the selected file or attachment elsewhere".into(),
    }
}

// History.
pub const HISTORY_DELETED: &str = "moved to the trash";
pub const HISTORY_RESTORED: &str = "restored";

#[must_use]
pub fn history_created(kind: cairn_common::model::RecordKind) -> String {
    format!("created the {}", kind.key())
}

/// `Title: Draft → Final`; several old values (a conflict resolved) are joined
/// with ` | `, none (the field was unset) shows as `—`, an empty new one as cleared.
#[must_use]
pub fn history_set(label: &str, old: &[String], new: &str) -> String {
    let new = if new.is_empty() { "(cleared)" } else { new };
    let old = if old.is_empty() {
        EMPTY_VALUE.to_owned()
    } else {
        old.join(" | ")
    };
    format!("{label}: {old} → {new}")
}

// Agenda.
pub const AGENDA_TITLE: &str = " Agenda — j/k move, enter jumps to the record, esc closes ";
pub const AGENDA_NOTHING: &str = "nothing";
/// A record the agenda listed that is gone since (synced away).
pub const AGENDA_GONE: &str = "(no longer here)";
pub const GONE: &str = "That record is no longer here (deleted or synced away).";

/// The heading of agenda group `bucket` (overdue, today, this week, later) with its
/// count; "this week" says the last day it covers.
#[must_use]
pub fn agenda_heading(
    bucket: usize,
    count: usize,
    today: chrono::NaiveDate,
    week_days: i64,
) -> String {
    let week_end = today
        .checked_add_signed(chrono::TimeDelta::days(week_days))
        .unwrap_or(today)
        .format("%a %-d %b");
    match bucket {
        0 => format!("Overdue ({count})"),
        1 => format!("Today ({count})"),
        2 => format!("This week, to {week_end} ({count})"),
        _ => format!("Later ({count})"),
    }
}

/// What the date of a kind is: `due`, `next due`, `follow-up`, `review`.
#[must_use]
pub fn agenda_reason(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Goal | RecordKind::Commitment => "due",
        RecordKind::Task => "next due",
        RecordKind::Note => "follow-up",
        RecordKind::Potential => "review",
        RecordKind::Activity | RecordKind::Person | RecordKind::File => "",
    }
}

/// A date relative to today: `3 days late`, `yesterday`, `today`, `tomorrow`, `in 5 days`.
#[must_use]
pub fn agenda_relative(days: i64) -> String {
    match days {
        -1 => "yesterday".into(),
        0 => "today".into(),
        1 => "tomorrow".into(),
        ..0 => format!("{} days late", -days),
        _ => format!("in {days} days"),
    }
}

// Search.
pub const SEARCH_TITLE: &str = " Search every record — ↑↓ select, enter jumps, esc closes ";
pub const SEARCH_SYNTAX: &str =
    " words  field:value  \"a phrase\"  is:overdue is:done is:conflict is:note  -term  @name ";
pub const SEARCH_EMPTY: &str = "Type to search all kinds and all fields, long texts included (e.g. tags:hiring -is:done @ana).";
pub const SEARCH_LAST: &str = "That was the last result; N goes back, ctrl-f shows them all.";
pub const SEARCH_FIRST: &str = "That was the first result; n goes on, ctrl-f shows them all.";
pub const SEARCH_STEPPING_ENDED: &str = "Search closed; n adds a record again.";

/// The search popup's status line.
#[must_use]
pub fn search_status(found: usize, scanned: usize, done: bool, truncated: bool) -> String {
    if truncated {
        format!("The first {found} results; add words to narrow the search.")
    } else if !done {
        format!("{found} found so far, searching… ({scanned} records read)")
    } else if found == 0 {
        format!("Nothing matches in {scanned} records.")
    } else {
        format!("{found} found in {scanned} records.")
    }
}

/// The status bar after a jump to a search result.
#[must_use]
pub fn search_stepping(at: usize, total: usize, done: bool) -> String {
    let more = if done { "" } else { "+" };
    format!("Result {at} of {total}{more}: n next, N previous, ctrl-f the list, esc stops.")
}

/// The kind column of a search hit (`goal`, `goal (trash)`).
#[must_use]
pub fn hit_kind(kind: RecordKind, deleted: bool) -> String {
    if deleted {
        format!("{} (trash)", kind.key())
    } else {
        kind.key().to_owned()
    }
}
