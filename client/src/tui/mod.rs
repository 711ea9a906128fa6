//! The terminal UI. (Being built: the `tui` branch replaces this placeholder.)

pub mod conflict;
pub mod external_editor;
pub mod form;
pub mod keys;
pub mod line_input;
pub mod popup;
pub mod text_editor;
pub mod theme;

#[cfg(test)]
mod test_support;

use crate::paths::Paths;

/// Runs the TUI on the local replica until the user quits.
///
/// # Errors
/// When the terminal or the replica cannot be opened.
pub fn run(paths: &Paths) -> anyhow::Result<()> {
    anyhow::bail!("the TUI is not built yet (data dir {:?})", paths.data_dir)
}
