//! `cairn`: the TUI with no arguments, a headless command otherwise.
#![forbid(unsafe_code)]

fn main() -> anyhow::Result<()> {
    let paths = cairn_client::paths::Paths::from_env()?;
    cairn_client::tui::run(&paths)
}
