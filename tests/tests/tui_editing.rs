//! End-to-end: editing in the real `cairn` TUI, in a pseudo-terminal: a paste into
//! a form, and undo of a record change.

use std::time::Duration;

use cairn_tests::{cairn_in, keys, start_tui};

const WAIT: Duration = Duration::from_secs(20);

/// Text pasted into the title of a new goal (a bracketed paste with a line break,
/// as terminals send it) stays in the title as one line; the status after it is
/// untouched ("open", not "openpaste").
#[test]
fn a_paste_stays_in_its_field() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let mut tui = start_tui(home.path())?;
    tui.send("n")?;
    tui.wait_for("New goal", WAIT)?;
    tui.send("\x1b[200~Quarterly\r\nhiring goal\x1b[201~")?;
    tui.send(keys::CTRL_S)?;
    tui.wait_for("1 goal", WAIT)?;
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");
    let goals: serde_json::Value =
        serde_json::from_str(&cairn_in(home.path(), &["list", "goal", "--json"])?)?;
    assert_eq!(
        goals[0]["fields"]["title"], "Quarterly hiring goal",
        "{goals}"
    );
    assert_eq!(goals[0]["fields"]["status"], "open", "{goals}");
    Ok(())
}

/// `x` on a weekly task moves its due date a week on and records the completion;
/// `u` takes both back, and what the CLI reads afterwards is the state before.
#[test]
fn undo_of_a_done_in_the_tui() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let id = cairn_in(
        home.path(),
        &[
            "add",
            "task",
            "Weekly report",
            "--field",
            "recurrence=every week",
            "--field",
            "next_due=2026-12-07",
        ],
    )?;
    let id = id.trim().to_owned();
    let mut tui = start_tui(home.path())?;
    tui.send("3")?;
    tui.wait_for("Weekly report", WAIT)?;
    tui.send("x")?;
    tui.wait_for("Marked done", WAIT)?;
    tui.send("u")?;
    tui.wait_for("Undone", WAIT)?;
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let shown: serde_json::Value =
        serde_json::from_str(&cairn_in(home.path(), &["show", &id, "--json"])?)?;
    assert_eq!(shown["fields"]["next_due"], "2026-12-07", "{shown}");
    assert_eq!(
        shown["fields"]["history"],
        serde_json::Value::Null,
        "{shown}"
    );
    let history = cairn_in(home.path(), &["history", &id, "--json"])?;
    assert!(
        history.matches("\"set\"").count() >= 4,
        "undo wrote no ops: {history}"
    );
    Ok(())
}

/// A 1:1 prepared from a person: `p` on Ana shows her open commitment, `n` starts the
/// note with an agenda built from it, and `C` on the saved note records a commitment
/// agreed in it, linked both ways; the CLI reads the same.
#[test]
fn one_on_one_prepared_from_a_person_with_a_linked_commitment() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    cairn_in(
        home.path(),
        &["add", "person", "Ana Lind", "--field", "team=Platform"],
    )?;
    cairn_in(
        home.path(),
        &[
            "add",
            "commitment",
            "Write the API guide",
            "--field",
            "by=Ana Lind",
            "--field",
            "to=Me",
        ],
    )?;
    let mut tui = start_tui(home.path())?;
    tui.send("7")?;
    tui.wait_for("Ana Lind", WAIT)?;
    tui.send("p")?;
    tui.wait_for("Their open commitments", WAIT)?;
    tui.send("n")?;
    tui.wait_for("New note", WAIT)?;
    tui.send(keys::CTRL_S)?;
    tui.wait_for("1:1 with Ana Lind", WAIT)?;
    tui.send("C")?;
    tui.wait_for("New commitment", WAIT)?;
    tui.send("Send the budget by Friday")?;
    tui.send(keys::CTRL_S)?;
    tui.wait_for("Linked to the conversation", WAIT)?;
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let notes: serde_json::Value =
        serde_json::from_str(&cairn_in(home.path(), &["list", "note", "--json"])?)?;
    let note = &notes[0];
    assert_eq!(note["fields"]["title"], "1:1 with Ana Lind", "{notes}");
    assert!(
        note["fields"]["agenda"]
            .as_str()
            .is_some_and(|a| a.contains("Write the API guide")),
        "{notes}"
    );
    let commitments: serde_json::Value =
        serde_json::from_str(&cairn_in(home.path(), &["list", "commitment", "--json"])?)?;
    let made = commitments
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|c| c["fields"]["title"] == "Send the budget by Friday")
        })
        .ok_or_else(|| anyhow::anyhow!("no new commitment: {commitments}"))?;
    assert_eq!(made["fields"]["to"]["name"], "Ana Lind", "{made}");
    assert!(
        made["fields"]["to"]["id"].is_string(),
        "linked to her record: {made}"
    );
    assert_eq!(made["fields"]["source"], note["id"], "{made}");
    assert_eq!(note["fields"]["commitments"][0], made["id"], "{notes}");
    Ok(())
}

/// A link chosen with the picker and followed: in a new commitment, "ana" in
/// "Committed to" offers Ana Lind and "1:1" in "From" offers the conversation;
/// Enter takes each. Saved, `L` lists the links and Enter follows the one to the
/// conversation, whose details show the commitment as a backlink. The CLI reads
/// both links by id.
#[test]
fn a_link_chosen_with_the_picker_and_followed() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let ana = cairn_in(home.path(), &["add", "person", "Ana Lind"])?;
    let note = cairn_in(
        home.path(),
        &["add", "note", "1:1 with Ana", "--field", "date=2026-11-30"],
    )?;
    let mut tui = start_tui(home.path())?;
    tui.send("2")?;
    tui.wait_for("No commitments yet", WAIT)?;
    tui.send("n")?;
    tui.wait_for("New commitment", WAIT)?;
    tui.send("Send the notes")?;
    for _ in 0..3 {
        tui.send(keys::TAB)?;
    }
    tui.send("ana")?;
    tui.wait_for("▸ Ana Lind", WAIT)?;
    tui.send(keys::ENTER)?;
    tui.send(keys::TAB)?;
    tui.send(keys::TAB)?;
    tui.send("1:1")?;
    tui.wait_for("▸ 1:1 with Ana", WAIT)?;
    tui.send(keys::ENTER)?;
    tui.send(keys::CTRL_S)?;
    tui.wait_for("1 commitment", WAIT)?;
    tui.send("L")?;
    tui.wait_for("enter follows", WAIT)?;
    tui.send(keys::ENTER)?;
    tui.wait_for("Linked from", WAIT)?;
    let screen = tui.screen();
    assert!(screen.contains("Send the notes"), "{screen}");
    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");

    let commitments: serde_json::Value =
        serde_json::from_str(&cairn_in(home.path(), &["list", "commitment", "--json"])?)?;
    let made = &commitments[0];
    assert_eq!(made["fields"]["source"], note.trim(), "{made}");
    assert_eq!(made["fields"]["to"]["id"], ana.trim(), "{made}");
    assert_eq!(made["fields"]["to"]["name"], "Ana Lind", "{made}");
    Ok(())
}
