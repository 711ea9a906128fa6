//! The real binaries' shell completions and man pages: generated without a home
//! directory, loaded into bash and asked to complete, and rendered by groff.

use std::path::Path;
use std::process::Command;

use cairn_tests::binary;

/// `BIN completions SHELL`, run with no HOME (packaging runs it so).
fn completions(bin: &str, shell: &str) -> String {
    let output = Command::new(binary(bin).expect("binary"))
        .args(["completions", shell])
        .env_remove("HOME")
        .env_remove("CAIRN_HOME")
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{bin} completions {shell}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// What bash's completion offers for the command line `words` (the last word is the
/// one being completed), with the script `bin completions bash` printed loaded.
fn bash_complete(bin: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("completion.bash");
    std::fs::write(&script, completions(bin, "bash")).expect("write");
    let function = format!("_{}", bin.replace('-', "__"));
    let words = words.join(" ");
    let program = format!(
        "source {script}\nCOMP_WORDS=({words})\nCOMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         {function} {bin} \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display()
    );
    let output = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Bash completes the subcommands, nested subcommands and their options of both
/// binaries from the generated script (`cairn-server` past its first subcommand
/// needs the repair in its `completion_script`).
#[test]
fn bash_completes_subcommands() {
    assert_eq!(bash_complete("cairn", &["cairn", "sp"]), ["spaces"]);
    let spaces = bash_complete("cairn", &["cairn", "spaces", "add"]);
    assert_eq!(spaces, ["add-member"], "{spaces:?}");
    let server = bash_complete("cairn-server", &["cairn-server", "us"]);
    assert_eq!(server, ["user"]);
    let user = bash_complete("cairn-server", &["cairn-server", "user", "reset"]);
    assert_eq!(user, ["reset-password"]);
    let restore = bash_complete("cairn-server", &["cairn-server", "backup", "restore", "--"]);
    assert!(restore.iter().any(|o| o == "--from"), "{restore:?}");
    let sync = bash_complete("cairn", &["cairn", "sync", "--"]);
    assert!(sync.iter().any(|o| o == "--json"), "{sync:?}");
}

/// The zsh and fish scripts are each shell's own format and name the subcommands
/// (neither shell is on the test machine to load them).
#[test]
fn zsh_and_fish_scripts_name_the_subcommands() {
    for (bin, names) in [
        ("cairn", ["spaces", "add-member", "undelivered"]),
        ("cairn-server", ["serve", "reset-password", "restore"]),
    ] {
        let zsh = completions(bin, "zsh");
        assert!(zsh.starts_with(&format!("#compdef {bin}")), "{zsh}");
        let fish = completions(bin, "fish");
        assert!(fish.contains(&format!("complete -c {bin} ")), "{fish}");
        for name in names {
            assert!(zsh.contains(&format!("'{name}:")), "zsh: {name}");
            assert!(fish.contains(&format!("-a \"{name}\"")), "fish: {name}");
        }
    }
}

/// Renders a man page as `man` would; the warnings groff printed.
fn groff_warnings(page: &Path) -> String {
    let output = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff runs");
    assert!(
        output.status.success(),
        "groff failed on {}",
        page.display()
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `man --out DIR` writes a page per command and subcommand, each of which groff
/// renders without a warning; without groff the roff text is checked.
#[test]
fn man_pages_render() {
    let have_groff = Command::new("groff").arg("--version").output().is_ok();
    for (bin, pages) in [
        (
            "cairn",
            ["cairn.1", "cairn-spaces-add-member.1", "cairn-sync.1"],
        ),
        (
            "cairn-server",
            [
                "cairn-server.1",
                "cairn-server-serve.1",
                "cairn-server-user-add.1",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("man1");
        let status = Command::new(binary(bin).expect("binary"))
            .args(["man", "--out"])
            .arg(&out)
            .env_remove("HOME")
            .status()
            .expect("runs");
        assert!(status.success());
        let written = std::fs::read_dir(&out).expect("dir").count();
        assert!(written > 10, "{bin}: only {written} pages");
        for page in pages {
            let path = out.join(page);
            let text = std::fs::read_to_string(&path).expect(page);
            let name = page.trim_end_matches(".1");
            assert!(text.contains(&format!(".TH {name} 1")), "{page}: {text}");
            assert!(
                text.contains(".SH NAME") && text.contains(".SH SYNOPSIS"),
                "{page}"
            );
            if have_groff {
                let warnings = groff_warnings(&path);
                assert!(warnings.is_empty(), "{page}: {warnings}");
            }
        }
    }
}
