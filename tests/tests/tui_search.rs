//! End-to-end: finding records in the real `cairn` TUI, in a pseudo-terminal: the
//! search over every record (a word only in a note's long text, a tag) and the
//! agenda, each jumping to the record with Enter.

use std::time::{Duration, Instant};

use cairn_tests::{Tui, cairn_in, keys, start_tui};

const WAIT: Duration = Duration::from_secs(20);
const CTRL_F: &str = "\x06";
const CTRL_U: &str = "\x15";

/// Waits until the screen shows every one of `wanted` and none of `gone`.
fn wait_until(tui: &Tui, wanted: &[&str], gone: &[&str]) -> anyhow::Result<String> {
    let start = Instant::now();
    loop {
        let screen = tui.screen();
        if wanted.iter().all(|w| screen.contains(w)) && !gone.iter().any(|g| screen.contains(g)) {
            return Ok(screen);
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "timed out waiting for {wanted:?} without {gone:?}; the screen was:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// CLI-made records are found by a word of a note's text and by a tag; Enter shows each.
#[test]
fn search_finds_long_text_and_tags_and_opens_the_record() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    cairn_in(
        home.path(),
        &[
            "add",
            "note",
            "Quarterly planning",
            "--field",
            "notes=Budget first.\nThen the xylophone question for the band.",
        ],
    )?;
    cairn_in(home.path(), &["add", "note", "Coffee with Ben"])?;
    cairn_in(
        home.path(),
        &["add", "goal", "Grow the team", "--field", "tags=hiring, q1"],
    )?;
    cairn_in(home.path(), &["add", "goal", "Ship the release"])?;

    let mut tui = start_tui(home.path())?;
    tui.send(CTRL_F)?;
    tui.wait_for("Search every record", WAIT)?;
    tui.send("xylophone")?;
    wait_until(&tui, &["1 found in 4 records", "Quarterly planning"], &[])?;
    tui.send(keys::ENTER)?;
    let screen = wait_until(
        &tui,
        &["Conversations", "Quarterly planning", "xylophone"],
        &["Search every record"],
    )?;
    assert!(screen.contains("Result 1 of 1"), "{screen}");

    tui.send(CTRL_F)?;
    tui.wait_for("Search every record", WAIT)?;
    tui.send(CTRL_U)?;
    tui.send("tags:hiring")?;
    wait_until(&tui, &["Tags: hiring, q1", "Grow the team"], &["xylophone"])?;
    tui.send(keys::ENTER)?;
    let screen = wait_until(
        &tui,
        &["Grow the team", "Tags", "hiring, q1"],
        &["Search every record"],
    )?;
    assert!(
        screen.contains("Ship the release"),
        "the goals tab: {screen}"
    );
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");
    Ok(())
}

/// The agenda lists an overdue goal and a commitment due today; Enter opens the commitment.
#[test]
fn agenda_lists_due_records_and_opens_one() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    cairn_in(
        home.path(),
        &["add", "goal", "Late goal", "--field", "due=-3d"],
    )?;
    cairn_in(
        home.path(),
        &[
            "add",
            "commitment",
            "Call the recruiter",
            "--field",
            "due=today",
        ],
    )?;
    let mut tui = start_tui(home.path())?;
    tui.send("A")?;
    let screen = wait_until(&tui, &["Overdue (1)", "Today (1)", "Late goal"], &[])?;
    assert!(screen.contains("3 days late"), "{screen}");
    tui.send("j")?;
    tui.send(keys::ENTER)?;
    wait_until(
        &tui,
        &["Commitments", "Call the recruiter", "Committed by"],
        &["Overdue (1)"],
    )?;
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");
    Ok(())
}
