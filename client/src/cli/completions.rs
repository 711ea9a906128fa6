//! `cairn completions SHELL` and `cairn man --out DIR`: the shell completion script
//! and the man pages, both generated from the clap definitions so they never fall
//! behind the commands. Neither needs a data dir.
//!
//! `man` is a visible command, not a hidden one for packaging only: clap_complete's
//! scripts offer hidden subcommands too, and people who install with cargo want the
//! pages as well.

use std::path::PathBuf;

use anyhow::Context;
use cairn_common::cli_docs::{self, Shell};
use clap::CommandFactory;

use super::Cli;

/// Print the shell completion script for `cairn`.
///
/// The Debian package installs them already; by hand, for example:
/// bash: `cairn completions bash > ~/.local/share/bash-completion/completions/cairn`;
/// zsh: `cairn completions zsh > ~/.zfunc/_cairn` (with `fpath+=~/.zfunc` before
/// `compinit`); fish: `cairn completions fish > ~/.config/fish/completions/cairn.fish`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  cairn completions bash > ~/.local/share/bash-completion/completions/cairn"
)]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Write the man pages of `cairn` and each of its subcommands.
///
/// The Debian package installs them already; by hand, for example into
/// ~/.local/share/man/man1, which `man` searches.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cairn man --out ~/.local/share/man/man1")]
pub struct ManArgs {
    /// The directory the pages go to (made if missing): cairn.1, cairn-add.1, ….
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// The completion script for `shell`.
///
/// # Errors
/// If the generated script is not UTF-8 (clap_complete writes only UTF-8).
pub fn script(args: &Args) -> anyhow::Result<String> {
    let script = cli_docs::completion_script(Cli::command(), "cairn", args.shell);
    String::from_utf8(script).context("the completion script is not UTF-8")
}

/// Writes the man pages into `args.out`.
///
/// # Errors
/// If the directory cannot be made or a page cannot be written.
pub fn man(args: &ManArgs) -> anyhow::Result<String> {
    cli_docs::write_man_pages(Cli::command(), &args.out)?;
    Ok(format!("wrote the man pages into {}\n", args.out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shell's script names every visible subcommand, nested ones too.
    #[test]
    fn scripts_name_every_subcommand() {
        let names = cli_docs::visible_subcommands(&Cli::command());
        for needed in [
            "add",
            "sync",
            "files",
            "spaces",
            "completions",
            "add-member",
        ] {
            assert!(
                names.iter().any(|n| n == needed),
                "{needed} not in {names:?}"
            );
        }
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(&Args { shell }).expect("script");
            for name in &names {
                assert!(script.contains(name.as_str()), "{shell}: {name} missing");
            }
        }
    }

    /// One page for `cairn` and one per subcommand, named as `man` looks them up
    /// (`cairn-spaces-create.1`).
    #[test]
    fn man_pages_for_every_subcommand() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("man");
        man(&ManArgs { out: out.clone() }).expect("man");
        let page = std::fs::read_to_string(out.join("cairn.1")).expect("cairn.1");
        assert!(page.contains(".TH cairn 1"), "{page}");
        for page in [
            "cairn-add.1",
            "cairn-spaces-create.1",
            "cairn-completions.1",
        ] {
            assert!(out.join(page).is_file(), "{page} missing");
        }
    }
}
