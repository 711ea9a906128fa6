//! End-to-end: files in the real `cairn` TUI, in a pseudo-terminal: a file attached
//! to a record by a path typed with Tab completion, listed in its details, opened
//! with `$OPENER` and saved elsewhere.

use std::path::Path;
use std::time::{Duration, Instant};

use cairn_tests::{cairn_in, keys, start_tui_with};

const WAIT: Duration = Duration::from_secs(20);
const AGENDA: &str = "1. hiring\n2. budget\n";

/// Waits until `path` holds `content`.
fn wait_for_file(path: &Path, content: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if std::fs::read_to_string(path).is_ok_and(|c| c == content) {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "{} never held {content:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An `$OPENER` that copies the file it is given to `to`: a single program, as
/// the TUI runs `$OPENER` with the path as its last word.
#[cfg(unix)]
fn copying_opener(dir: &Path, to: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncp \"$1\" '{}'\n", to.display()),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(script.display().to_string())
}

/// On a conversation, `f` and a path completed with Tab (a folder, then the file)
/// attach the file; the details list it as on this device; `ctrl-o` hands a copy
/// to `$OPENER`; `W` saves it into another folder under its name; the CLI lists
/// the file as attached to the conversation.
#[cfg(unix)]
#[test]
fn a_file_attached_by_a_completed_path_opened_and_saved() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    let docs = work.path().join("docs");
    std::fs::create_dir_all(docs.join("plans"))?;
    std::fs::write(docs.join("plans/agenda.txt"), AGENDA)?;
    std::fs::write(docs.join("readme.md"), "other")?;
    let out = work.path().join("out");
    std::fs::create_dir(&out)?;
    let opened = work.path().join("opened-copy");
    let opener = copying_opener(work.path(), &opened)?;
    let note = cairn_in(
        home.path(),
        &["add", "note", "1:1 with Ana", "--field", "date=2026-11-30"],
    )?;

    let mut tui = start_tui_with(home.path(), &[("OPENER", &opener)])?;
    tui.send("5")?;
    tui.wait_for("1:1 with Ana", WAIT)?;
    tui.send("f")?;
    tui.wait_for("Attach a file to “1:1 with Ana”", WAIT)?;
    tui.send(&format!("{}/pl", docs.display()))?;
    tui.send(keys::TAB)?;
    tui.wait_for(&format!("{}/plans/", docs.display()), WAIT)?;
    tui.send("ag")?;
    tui.send(keys::TAB)?;
    tui.wait_for(&format!("{}/plans/agenda.txt", docs.display()), WAIT)?;
    tui.send(keys::ENTER)?;
    tui.wait_for("File added", WAIT)?;
    let screen = tui.wait_for("on this device", WAIT)?;
    assert!(
        screen.contains("Attachments") && screen.contains("agenda.txt"),
        "{screen}"
    );

    tui.send(keys::CTRL_O)?;
    wait_for_file(&opened, AGENDA)?;
    tui.wait_for("Back from agenda.txt", WAIT)?;

    tui.send("W")?;
    tui.wait_for("Save “agenda.txt” elsewhere", WAIT)?;
    tui.send(keys::CTRL_U)?;
    tui.send(&format!("{}/", out.display()))?;
    tui.send(keys::ENTER)?;
    tui.wait_for("Saved agenda.txt to", WAIT)?;
    wait_for_file(&out.join("agenda.txt"), AGENDA)?;
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let files: serde_json::Value = serde_json::from_str(&cairn_in(
        home.path(),
        &["files", "list", "--record", note.trim(), "--json"],
    )?)?;
    assert_eq!(files[0]["name"], "agenda.txt", "{files}");
    assert_eq!(files[0]["record"], note.trim(), "{files}");
    assert_eq!(files[0]["on_this_device"], true, "{files}");
    Ok(())
}
