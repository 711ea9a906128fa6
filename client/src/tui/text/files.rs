//! The strings of files in the TUI: attachments in the details, the path input,
//! opening and saving elsewhere.

use std::path::Path;

// The details.
pub const ATTACHMENTS: &str = "Attachments";
/// The details of a file: the label of whether its content is here.
pub const CONTENT_LABEL: &str = "Content";

/// Whether a file's content is here (`None`: not checked yet).
#[must_use]
pub fn on_device(here: Option<bool>) -> &'static str {
    match here {
        Some(true) => "on this device",
        Some(false) => "not downloaded yet",
        None => "checking…",
    }
}

// The path popup.
pub const ADD_FILE_TITLE: &str = " Add a file ";
pub const PATH_EMPTY: &str = "Type a path first (tab completes it).";
pub const ADDING: &str = "adding…";
pub const SAVING_FILE: &str = "fetching and saving…";
pub const COMPLETE_HINT: &str = "complete";
pub const ATTACH_HINT: &str = "add";
pub const SAVE_HINT: &str = "save";
pub const CANCEL_HINT: &str = "cancel";

#[must_use]
pub fn attach_title(record: &str) -> String {
    format!(" Attach a file to “{record}” ")
}

#[must_use]
pub fn save_title(name: &str) -> String {
    format!(" Save “{name}” elsewhere ")
}

#[must_use]
pub fn attach_prompt(space: &str) -> String {
    format!("File to add to the space {space} (the next sync uploads it):")
}

pub const SAVE_PROMPT: &str = "Save to (a folder keeps the file's name):";

/// After a Tab that matched nothing.
#[must_use]
pub fn path_no_match(dir: &str, prefix: &str) -> String {
    let dir = if dir.is_empty() { "this folder" } else { dir };
    if prefix.is_empty() {
        format!("Nothing to complete in {dir}.")
    } else {
        format!("Nothing in {dir} starts with “{prefix}”.")
    }
}

#[must_use]
pub fn cannot_list(dir: &str, error: &std::io::Error) -> String {
    let dir = if dir.is_empty() { "." } else { dir };
    format!("Cannot read the folder {dir}: {error}.")
}

#[must_use]
pub fn more_candidates(count: usize) -> String {
    format!("… and {count} more: type to narrow")
}

/// Saving found a file in the way.
#[must_use]
pub fn exists(path: &Path) -> String {
    format!(
        "{} exists: enter again overwrites it, or change the path.",
        path.display()
    )
}

#[must_use]
pub fn not_added(error: &str) -> String {
    format!("Not added: {error}")
}

// Messages.
pub const NOT_A_FILE: &str = "That record is not a file, or no longer here.";
pub const NO_OPEN_DIR: &str = "Could not make a private temporary folder for opened files; \
     save the file elsewhere (W) instead.";
pub const FILE_JOBS_GONE: &str =
    "the thread that fetches files stopped (a bug: please report it); restart cairn";
pub const NO_ATTACHMENTS: &str = "This record has no attached files; f attaches one.";

#[must_use]
pub fn cannot_copy_to_open(error: &std::io::Error) -> String {
    format!("Could not make a copy to open: {error}.")
}

#[must_use]
pub fn cannot_save_to(target: &Path, error: &std::io::Error) -> String {
    format!(
        "Could not save to {}: {error}; choose another path.",
        target.display()
    )
}

#[must_use]
pub fn opener_cannot_start(program: &str, reason: &str) -> String {
    format!(
        "Could not start the opener {program:?} ({reason}); set $OPENER to a program \
         that opens files, e.g. OPENER=less."
    )
}

#[must_use]
pub fn opener_failed(program: &str, status: &str) -> String {
    format!("The opener {program:?} failed ({status}); set $OPENER to a program that opens files.")
}

#[must_use]
pub fn opening(name: &str) -> String {
    format!("Opening {name}…")
}

#[must_use]
pub fn opened(name: &str, program: &str) -> String {
    format!("Opened {name} with {program}.")
}

#[must_use]
pub fn opener_closed(name: &str) -> String {
    format!("Back from {name}.")
}

#[must_use]
pub fn not_opened(name: &str, error: &str) -> String {
    if name.is_empty() {
        format!("Not opened: {error}")
    } else {
        format!("{name} not opened: {error}")
    }
}

#[must_use]
pub fn saved_to(name: &str, path: &Path) -> String {
    format!("Saved {name} to {}.", path.display())
}

#[must_use]
pub fn not_saved_elsewhere(name: &str, error: &str) -> String {
    format!("{name} not saved: {error}")
}

/// After `F`: which attachment the file keys act on now.
#[must_use]
pub fn attachment_selected(name: &str, at: usize, of: usize) -> String {
    format!("{name} ({at} of {of}): ctrl-o opens it, W saves it elsewhere.")
}

// Help.
pub const HELP_FILES_HEADING: &str = "Files";
pub const HELP_FILES: &[(&str, &str)] = &[
    ("n on Files", "add a file by path; the next sync uploads it"),
    ("~/", "in a path: your home folder"),
    (
        "$OPENER",
        "opens files in the terminal (less); else xdg-open",
    ),
];
