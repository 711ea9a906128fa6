//! Link fields in forms: the picker, titles instead of ids, and people.

use cairn_common::model::{PersonRef, RecordKind};
use cairn_common::{RecordId, Value};

use super::{Fixture, create};
use crate::tui::action::Action;

/// Two notes, one goal and a person to link to.
fn records() -> (Fixture, RecordId, RecordId) {
    let f = Fixture::empty();
    let r = &f.replica;
    let ana = create(r, RecordKind::Person, &[("name", "Ana Lind")]);
    create(r, RecordKind::Person, &[("name", "Ben Brandt")]);
    let note = create(
        r,
        RecordKind::Note,
        &[("title", "1:1 with Ana"), ("date", "2026-11-15")],
    );
    create(
        r,
        RecordKind::Note,
        &[("title", "Budget talk"), ("date", "2026-11-16")],
    );
    create(r, RecordKind::Goal, &[("title", "Ship search")]);
    (Fixture::reopen(f), ana, note)
}

fn screen(f: &mut Fixture) -> String {
    f.drive(Action::Resize {
        width: 100,
        height: 30,
    });
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    terminal.backend().to_string()
}

/// Tabs through the open form to `field`.
fn focus(f: &mut Fixture, field: &str) {
    for _ in 0..20 {
        if f.app_form_focus() == Some(field) {
            return;
        }
        f.press("tab");
    }
    panic!("the form has no field {field}");
}

fn record(f: &Fixture, title: &str, kind: RecordKind) -> cairn_common::RecordState {
    f.replica
        .records()
        .map(|s| s.expect("read"))
        .find(|s| s.kind == Some(kind) && s.title() == title)
        .unwrap_or_else(|| panic!("no {kind} {title:?}"))
}

/// Typing into a link field drops down the records that match fuzzily; ↓ and
/// Enter take one, which is shown by title and saved as its id.
#[test]
fn picker_offers_matching_records_and_takes_one() {
    let (mut f, _, note) = records();
    f.press("2");
    f.press("n");
    f.type_text("Send the notes");
    focus(&mut f, "source");
    f.type_text("11ana");
    let shown = screen(&mut f);
    assert!(shown.contains("▸ 1:1 with Ana"), "{shown}");
    assert!(!shown.contains("Budget talk"), "{shown}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(true);
    settings.bind(|| insta::assert_snapshot!("link_picker", shown));
    f.press("enter");
    assert!(
        !screen(&mut f).contains("▸ 1:1 with Ana"),
        "the list closes"
    );
    assert_eq!(f.app_form_focus(), Some("source"), "Enter took the record");
    f.press("ctrl-s");
    let made = record(&f, "Send the notes", RecordKind::Commitment);
    assert_eq!(made.get("source"), Some(&Value::Ref(note)));
    // The details show the title, and the edit form too, never the id.
    f.select("Send the notes");
    assert!(screen(&mut f).contains("1:1 with Ana"));
    f.press("e");
    focus(&mut f, "source");
    let form = screen(&mut f);
    assert!(form.contains("1:1 with Ana"), "{form}");
    assert!(!form.contains(&note.to_string()), "{form}");
}

/// Esc closes the list without closing the form; typing opens it again.
#[test]
fn esc_closes_the_picker_not_the_form() {
    let (mut f, _, _) = records();
    f.press("1");
    f.press("n");
    focus(&mut f, "owner");
    f.type_text("ben");
    assert!(screen(&mut f).contains("▸ Ben Brandt"));
    f.press("esc");
    assert!(!screen(&mut f).contains("▸ Ben Brandt"));
    assert_eq!(f.app_form_focus(), Some("owner"), "the form stays open");
    f.type_text(" b");
    assert!(screen(&mut f).contains("▸ Ben Brandt"));
}

/// Two records with the same title: typing the title alone cannot say which one
/// is meant and the form says so; the picker takes the one chosen.
#[test]
fn the_picker_tells_records_with_the_same_title_apart() {
    let (mut f, _, first) = records();
    let second = create(
        &f.replica,
        RecordKind::Note,
        &[("title", "1:1 with Ana"), ("date", "2026-11-29")],
    );
    f = Fixture::reopen(f);
    f.press("2");
    f.press("n");
    f.type_text("Book the room");
    focus(&mut f, "source");
    f.type_text("1:1 with Ana");
    f.press("esc");
    f.press("ctrl-s");
    let shown = screen(&mut f);
    assert!(
        shown.contains("names no note or goal, or more than one"),
        "{shown}"
    );
    assert_eq!(
        f.app_form_focus(),
        Some("source"),
        "the save went to the field"
    );
    for _ in 0.."1:1 with Ana".len() {
        f.press("backspace");
    }
    f.type_text("1:1 with Ana");
    f.press("down");
    f.press("enter");
    f.press("ctrl-s");
    let made = record(&f, "Book the room", RecordKind::Commitment);
    let Some(Value::Ref(source)) = made.get("source") else {
        panic!("no source: {made:?}");
    };
    assert!([first, second].contains(source));
}

/// A person field links a person picked or typed by name, keeps a name that is
/// no person's as a name, and shows the person's current name after a rename.
#[test]
fn person_fields_link_people_and_keep_other_names() {
    let (mut f, ana, _) = records();
    f.press("1");
    f.press("n");
    f.type_text("Grow the team");
    focus(&mut f, "owner");
    f.type_text("ana");
    f.press("enter");
    f.press("ctrl-s");
    let goal = record(&f, "Grow the team", RecordKind::Goal);
    assert_eq!(
        goal.get("owner"),
        Some(&Value::People(vec![PersonRef::linked("Ana Lind", ana)]))
    );
    f.press("n");
    f.type_text("Hire a designer");
    focus(&mut f, "owner");
    f.type_text("Zed Zimmer");
    f.press("ctrl-s");
    let other = record(&f, "Hire a designer", RecordKind::Goal);
    assert_eq!(
        other.get("owner"),
        Some(&Value::People(vec![PersonRef::named("Zed Zimmer")]))
    );
    // The name is offered as a person to create.
    let said = f.app.message().expect("a message").text.clone();
    assert!(
        said.contains("\"Zed Zimmer\" has no person record") && said.contains("suggest --create"),
        "{said}"
    );
    // Typed in full, without the picker, a person's name links too.
    f.press("n");
    f.type_text("Mentor Ben");
    focus(&mut f, "owner");
    f.type_text("ben brandt");
    f.press("esc");
    f.press("ctrl-s");
    let typed = record(&f, "Mentor Ben", RecordKind::Goal);
    assert!(
        matches!(typed.get("owner"), Some(Value::People(p)) if p[0].id.is_some()),
        "{typed:?}"
    );
    // Ana is renamed: her goal shows the new name in the details and the form.
    f.press("7");
    f.select("Ana Lind");
    f.press("e");
    f.type_text("Ana Berg");
    f.press("ctrl-s");
    f.press("1");
    f.select("Grow the team");
    assert!(screen(&mut f).contains("Ana Berg"));
    f.press("e");
    focus(&mut f, "owner");
    assert!(screen(&mut f).contains("Ana Berg"));
    f.press("ctrl-s");
    let goal = record(&f, "Grow the team", RecordKind::Goal);
    assert!(
        matches!(goal.get("owner"), Some(Value::People(p))
            if p[0].id == Some(ana) && p[0].name == "Ana Lind"),
        "unchanged, so still written with the old name: {goal:?}"
    );
    // `@berg` finds the records that link her, though they were written as "Ana Lind".
    f.press("ctrl-f");
    f.type_text("@berg is:goal");
    let hits: Vec<String> = f
        .app
        .search
        .hits()
        .iter()
        .map(|h| h.title.clone())
        .collect();
    assert_eq!(hits, ["Grow the team"]);
}
