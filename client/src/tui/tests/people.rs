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
