//! The strings of files in the TUI: attachments in the details, the path input,
//! opening and saving elsewhere.

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
