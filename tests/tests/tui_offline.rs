//! End-to-end: the real `cairn` binary in a pseudo-terminal, driven by keystrokes and
//! read back from the emulated screen, with no server.

use std::process::Command;
use std::time::Duration;

use cairn_tests::{binary, keys, start_tui};

const WAIT: Duration = Duration::from_secs(20);

/// A goal and a conversation note with three lines of notes, typed through the keys,
/// are there after quitting and starting again, and the CLI sees the same data.
#[test]
fn records_typed_in_the_tui_survive_a_restart_and_reach_the_cli() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;

    let mut tui = start_tui(home.path())?;
    tui.send("n")?;
    tui.wait_for("New goal", WAIT)?;
    tui.send("Quarterly hiring goal")?;
    tui.send(keys::CTRL_S)?;
    tui.wait_for("1 goal", WAIT)?;

    tui.send("5")?;
    tui.wait_for("0 conversations", WAIT)?;
    tui.send("n")?;
    tui.wait_for("New note", WAIT)?;
    tui.send("1:1 with Ana")?;
    // Title, kind, date, participants, follow-up, private, commitments, agenda: notes is ninth.
    for _ in 0..8 {
        tui.send(keys::TAB)?;
    }
    tui.send("Talked about growth")?;
    tui.send(keys::ENTER)?;
    tui.send("Wants to lead the platform team")?;
    tui.send(keys::ENTER)?;
    tui.send("Next: training budget")?;
    tui.send(keys::ESC)?;
    // A lone Esc followed at once by another key reads as Alt+key in a terminal, so
    // wait until the editor has closed before saving.
    tui.wait_for("ctrl-s save", WAIT)?;
    tui.send(keys::CTRL_S)?;
    let screen = tui.wait_for("1 conversation", WAIT)?;
    assert!(screen.contains("1:1 with Ana"), "{screen}");
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let mut tui = start_tui(home.path())?;
    let screen = tui.wait_for("Quarterly hiring goal", WAIT)?;
    assert!(screen.contains("│ 1 goal │"), "{screen}");
    tui.send("5")?;
    let screen = tui.wait_for("Next: training budget", WAIT)?;
    for line in [
        "1:1 with Ana",
        "Talked about growth",
        "Wants to lead the platform team",
    ] {
        assert!(screen.contains(line), "missing {line:?} in:\n{screen}");
    }
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let output = Command::new(binary("cairn")?)
        .args(["list", "note", "--json"])
        .env("CAIRN_HOME", home.path())
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let notes: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let note = &notes[0]["fields"];
    assert_eq!(note["title"], "1:1 with Ana");
    assert_eq!(
        note["notes"],
        "Talked about growth\nWants to lead the platform team\nNext: training budget"
    );
    let output = Command::new(binary("cairn")?)
        .args(["list", "goal", "--json"])
        .env("CAIRN_HOME", home.path())
        .output()?;
    let goals: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(goals[0]["fields"]["title"], "Quarterly hiring goal");
    Ok(())
}

/// `cairn add` and `cairn list` in another shell work while the TUI is open (they run
/// in the TUI over `tui.sock`), and the new goal appears on the TUI's screen without a
/// key being pressed.
#[test]
fn cairn_add_while_the_tui_runs_appears_in_it() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let mut tui = start_tui(home.path())?;
    tui.wait_for("No goals yet", WAIT)?;
    let cairn = |args: &[&str]| {
        Command::new(binary("cairn")?)
            .args(args)
            .env("CAIRN_HOME", home.path())
            .output()
            .map_err(anyhow::Error::from)
    };

    let added = cairn(&["add", "goal", "Added from the shell"])?;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let id = String::from_utf8(added.stdout)?.trim().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let screen = tui.wait_for("Added from the shell", WAIT)?;
    assert!(screen.contains("│ 1 goal │"), "{screen}");
    assert!(screen.contains("changed by a `cairn` command"), "{screen}");

    let listed = cairn(&["list", "goal", "--json"])?;
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let goals: serde_json::Value = serde_json::from_slice(&listed.stdout)?;
    assert_eq!(goals[0]["id"], id.as_str());
    assert_eq!(goals[0]["fields"]["title"], "Added from the shell");

    let missing = cairn(&["show", "ffffffff"])?;
    assert_eq!(missing.status.code(), Some(1));
    assert!(missing.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.starts_with("cairn: error: no record matches"),
        "{stderr}"
    );

    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");
    assert!(
        !home.path().join("data/tui.sock").exists(),
        "socket left behind"
    );
    Ok(())
}

/// A second TUI on the same data directory says so clearly and exits non-zero, while
/// the first keeps running.
#[test]
fn second_tui_on_the_same_data_gets_a_clear_error() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let mut first = start_tui(home.path())?;
    let output = Command::new(binary("cairn")?)
        .env("CAIRN_HOME", home.path())
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("another cairn is already using"),
        "{stderr}"
    );
    first.send("q")?;
    assert!(first.wait_exit(WAIT)?);
    Ok(())
}
