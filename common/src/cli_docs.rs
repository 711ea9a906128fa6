//! Shell completions and man pages for both command lines, generated from their
//! clap definitions so they never fall behind the commands (`cairn completions`,
//! `cairn-server completions`, `… man --out DIR`; the Debian packages install
//! what these write).

use std::path::Path;

use anyhow::Context;
pub use clap_complete::Shell;

/// The completion script of `command`, run as `name`, for `shell`.
#[must_use]
pub fn completion_script(mut command: clap::Command, name: &str, shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    if shell == Shell::Bash && name.contains('-') {
        // clap_complete 4.6's bash script spells a hyphenated name's state two ways
        // (clap-rs/clap#6421, open): for `cairn-server` its loop arrives at
        // `cairn__server__subcmd__user` while its case arms say
        // `cairn__subcmd__server__subcmd__user`, so nothing after the first
        // subcommand completes. Spelling the arms as the loop does repairs it; once
        // clap_complete is fixed this matches nothing.
        let (first, rest) = name.split_once('-').unwrap_or((name, ""));
        let wrong = format!("{first}__subcmd__{}", rest.replace('-', "__subcmd__"));
        let right = name.replace('-', "__");
        let text = String::from_utf8_lossy(&script).replace(&wrong, &right);
        return text.into_bytes();
    }
    script
}

/// Writes a page for `command` and one per visible subcommand, named as `man`
/// looks them up (`cairn-server-user-add.1`), into `dir` (made if missing).
///
/// # Errors
/// If the directory cannot be made or a page cannot be written.
pub fn write_man_pages(command: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
}

/// The names of `command`'s visible subcommands, nested ones included (`user
/// add`): what the scripts and pages must cover, for both command lines' tests.
#[must_use]
pub fn visible_subcommands(command: &clap::Command) -> Vec<String> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .flat_map(|c| std::iter::once(c.get_name().to_owned()).chain(visible_subcommands(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> clap::Command {
        clap::Command::new("tool-server").subcommand(
            clap::Command::new("user")
                .subcommand(clap::Command::new("add").arg(clap::Arg::new("email").long("email"))),
        )
    }

    /// The bash script of a hyphenated name completes nested subcommands: its case
    /// arms are spelled as its loop spells the state.
    #[test]
    fn bash_script_of_a_hyphenated_name_is_consistent() {
        let script = String::from_utf8(completion_script(example(), "tool-server", Shell::Bash))
            .expect("UTF-8");
        assert!(!script.contains("tool__subcmd__server"), "{script}");
        assert!(
            script.contains("tool__server__subcmd__user__subcmd__add"),
            "{script}"
        );
    }

    #[test]
    fn subcommands_are_listed_nested() {
        assert_eq!(visible_subcommands(&example()), ["user", "add"]);
    }

    #[test]
    fn pages_for_every_subcommand() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_man_pages(example(), dir.path()).expect("pages");
        for page in [
            "tool-server.1",
            "tool-server-user.1",
            "tool-server-user-add.1",
        ] {
            assert!(dir.path().join(page).is_file(), "{page} missing");
        }
    }
}
