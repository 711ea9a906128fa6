//! The strings of files in the TUI: attachments in the details, the path input,
//! opening and saving elsewhere.

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
