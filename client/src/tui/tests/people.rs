//! The person screen and the 1:1 prepared from it.

use cairn_common::model::RecordKind;

use super::{Fixture, create};
use crate::tui::action::Action;

/// Ana, with a commitment she made, one made to her, a goal she owns, a potential
/// and a conversation whose notes leave an open point.
fn ana() -> Fixture {
    let f = Fixture::empty();
    let r = &f.replica;
    create(
        r,
        RecordKind::Person,
        &[
            ("name", "Ana Lind"),
            ("job_title", "Engineer"),
            ("team", "Platform"),
        ],
    );
    create(
        r,
        RecordKind::Commitment,
        &[
            ("title", "Write the API guide"),
            ("by", "Ana Lind"),
            ("to", "Me"),
            ("due", "2026-11-20"),
        ],
    );
    create(
        r,
        RecordKind::Commitment,
        &[
            ("title", "Approve the training"),
            ("by", "Me"),
            ("to", "ana lind"),
            ("due", "2026-12-10"),
        ],
    );
    create(
        r,
        RecordKind::Goal,
        &[
            ("title", "Ship search"),
            ("owner", "Ana Lind"),
            ("due", "2026-11-01"),
            ("progress", "30"),
        ],
    );
    create(
        r,
        RecordKind::Potential,
        &[
            ("person", "Ana Lind"),
            ("performance", "high"),
            ("potential", "medium"),
        ],
    );
    create(
        r,
        RecordKind::Note,
        &[
            ("title", "1:1 with Ana"),
            ("date", "2026-11-15"),
            ("participants", "Ana Lind, Me"),
            ("notes", "- [x] done\n- [ ] send the training budget"),
        ],
    );
    create(
        r,
        RecordKind::Goal,
        &[("title", "Someone else's goal"), ("owner", "Ben")],
    );
    Fixture::reopen(f)
}

/// Ana's fixture after `C` on her 1:1 recorded "Send the budget by Friday"; the
/// note's id.
fn with_commitment_from_note() -> (Fixture, cairn_common::RecordId) {
    let mut f = ana();
    f.press("5");
    f.select("1:1 with Ana");
    let note = f.app.selected_id().expect("note");
    f.press("C");
    f.type_text("Send the budget by Friday");
    f.press("ctrl-s");
    (f, note)
}

fn screen(f: &mut Fixture) -> String {
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    terminal.backend().to_string()
}

/// `p` on a person shows what is open with them, grouped, and nothing of others.
#[test]
fn person_screen_groups_what_is_open() {
    let mut f = ana();
    f.press("7");
    f.press("p");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(true);
    let shown = screen(&mut f);
    assert!(!shown.contains("Someone else"), "{shown}");
    settings.bind(|| insta::assert_snapshot!("person", shown));
}

/// `p` on a record that names a person opens that person; Enter on a row jumps to
/// its record.
#[test]
fn person_from_a_record_and_jump_back() {
    let mut f = ana();
    f.press("2");
    f.select("Write the API guide");
    f.press("p");
    assert!(screen(&mut f).contains("Their open commitments"));
    f.press("j");
    f.press("j");
    f.press("enter");
    assert_eq!(f.app.tab(), RecordKind::Goal);
    let selected = f.app.selected_id().expect("selected");
    assert_eq!(
        f.replica
            .record(&selected)
            .expect("read")
            .expect("there")
            .title(),
        "Ship search"
    );
}

/// `n` on the person screen opens a new 1:1 note with their name and an agenda of
/// the open commitments, overdue goal and the last conversation's open point; saving
/// it stores that agenda.
#[test]
fn one_on_one_prepared_from_a_person() {
    let mut f = ana();
    f.press("7");
    f.press("p");
    f.press("n");
    f.press("ctrl-s");
    let notes = f.replica.list(RecordKind::Note, false).expect("notes");
    let new = notes
        .iter()
        .find(|n| n.text("date") != "2026-11-15" && n.title() == "1:1 with Ana Lind")
        .or_else(|| notes.iter().find(|n| n.title() == "1:1 with Ana Lind"))
        .expect("the new 1:1 note");
    let agenda = new.text("agenda");
    for expected in [
        "Write the API guide",
        "Approve the training",
        "Ship search",
        "send the training budget",
    ] {
        assert!(
            agenda.contains(expected),
            "{expected} missing from:\n{agenda}"
        );
    }
    assert!(!agenda.contains("done"), "{agenda}");
}

/// `C` on a conversation records a commitment agreed in it: made to its first
/// participant, with the note as its source, and added to the note's commitments.
#[test]
fn commitment_recorded_from_a_conversation_is_linked() {
    let (f, note) = with_commitment_from_note();
    let commitments = f.replica.list(RecordKind::Commitment, false).expect("list");
    let made = commitments
        .iter()
        .find(|c| c.title() == "Send the budget by Friday")
        .expect("the new commitment");
    assert_eq!(
        made.get("to")
            .and_then(cairn_common::Value::names)
            .as_deref(),
        Some("Ana Lind")
    );
    assert_eq!(made.get("source"), Some(&cairn_common::Value::Ref(note)));
    let note = f.replica.record(&note).expect("read").expect("note");
    assert_eq!(
        note.get("commitments"),
        Some(&cairn_common::Value::Refs(vec![made.id]))
    );
}

/// A link field takes a short id or a title, and the details show the linked
/// record's title rather than its id.
#[test]
fn links_by_short_id_or_title_show_titles() {
    let mut f = ana();
    let people = f.replica.list(RecordKind::Person, false).expect("people");
    let ana = people[0].id;
    let short = ana.short();
    f.press("7");
    f.press("n");
    f.type_text("Ben Ode");
    for _ in 0..4 {
        f.press("tab");
    }
    assert_eq!(f.app_form_focus(), Some("manager"));
    f.type_text(&short);
    f.press("ctrl-s");
    let ben = f
        .replica
        .list(RecordKind::Person, false)
        .expect("people")
        .into_iter()
        .find(|p| p.title() == "Ben Ode")
        .expect("Ben saved: the short id was accepted");
    assert_eq!(ben.get("manager"), Some(&cairn_common::Value::Ref(ana)));
    let shown = screen(&mut f);
    assert!(shown.contains("Manager       Ana Lind"), "{shown}");

    f.press("n");
    f.type_text("Cleo Park");
    for _ in 0..4 {
        f.press("tab");
    }
    f.type_text("ana lind");
    f.press("ctrl-s");
    let cleo = f
        .replica
        .list(RecordKind::Person, false)
        .expect("people")
        .into_iter()
        .find(|p| p.title() == "Cleo Park")
        .expect("Cleo saved: the title was accepted");
    assert_eq!(cleo.get("manager"), Some(&cairn_common::Value::Ref(ana)));
}

/// Done records (a kept commitment) are hidden until `H` shows them; `H` hides
/// them again.
#[test]
fn done_records_hidden_until_shown() {
    let mut f = ana();
    f.press("2");
    f.select("Write the API guide");
    f.press("x");
    assert!(!f.titles().contains(&"Write the API guide".to_owned()));
    f.press("H");
    assert!(f.titles().contains(&"Write the API guide".to_owned()));
    f.press("H");
    assert!(!f.titles().contains(&"Write the API guide".to_owned()));
}

/// The details of a record show what links to it (a commitment recorded from a
/// conversation shows up under the note it came from, by title).
#[test]
fn details_show_backlinks() {
    let (mut f, _) = with_commitment_from_note();
    f.press("5");
    f.select("1:1 with Ana");
    let shown = screen(&mut f);
    assert!(shown.contains("Linked from"), "{shown}");
    assert!(shown.contains("Send the budget by Friday"), "{shown}");
}

/// `L` lists a record's links and backlinks; Enter follows one (the note's
/// commitment, then back from the commitment to the note).
#[test]
fn links_popup_follows_links_both_ways() {
    let (mut f, note) = with_commitment_from_note();
    f.press("5");
    f.select("1:1 with Ana");
    f.press("L");
    assert!(screen(&mut f).contains("Send the budget by Friday"));
    f.press("enter");
    assert_eq!(f.app.tab(), RecordKind::Commitment);
    let commitment = f.app.selected_id().expect("commitment");
    assert_eq!(
        f.replica
            .record(&commitment)
            .expect("read")
            .expect("there")
            .title(),
        "Send the budget by Friday"
    );
    f.press("L");
    f.press("enter");
    assert_eq!(f.app.tab(), RecordKind::Note);
    assert_eq!(f.app.selected_id(), Some(note));
}

/// The overview of a person is read on one thread that answers the newest of the
/// requests waiting: asked for Ana, then Ben, then Ana again, the last answer is
/// Ana's, and no more answers come than requests were made.
#[test]
fn the_people_reader_answers_the_newest_request() {
    let f = ana();
    let ben = create(&f.replica, RecordKind::Person, &[("name", "Ben Brandt")]);
    let ana = f
        .replica
        .records()
        .map(|s| s.expect("read"))
        .find(|s| s.title() == "Ana Lind")
        .expect("ana")
        .id;
    let (replies, answers) = std::sync::mpsc::channel();
    let worker = crate::tui::worker::Worker::spawn(f.replica.clone(), replies);
    for id in [ana, ben, ana] {
        assert!(
            worker.load_person(&f.replica, id, super::today()).is_none(),
            "the reader thread takes it"
        );
    }
    let mut people = Vec::new();
    // Every answer that comes within a second of the last one.
    while let Ok(answer) = answers.recv_timeout(std::time::Duration::from_secs(1)) {
        if let Action::PersonLoaded(overview) = answer {
            people.push(overview.expect("overview").person);
        }
    }
    assert!(!people.is_empty() && people.len() <= 3, "{people:?}");
    assert_eq!(people.last(), Some(&ana));
}
