use cairn_common::model::{GoalStatus, NoteKind, PersonRef};
use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::test_support::{Builder, render, today};

fn press(form: &mut RecordForm, code: KeyCode) -> FormOutcome {
    form.handle_key(
        &KeyEvent::new(code, KeyModifiers::NONE),
        &KeyBindings::default(),
    )
}

fn ctrl(form: &mut RecordForm, c: char) -> FormOutcome {
    form.handle_key(
        &KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        &KeyBindings::default(),
    )
}

fn type_str(form: &mut RecordForm, text: &str) {
    for c in text.chars() {
        assert_eq!(
            press(form, KeyCode::Char(c)),
            FormOutcome::Consumed,
            "{c:?}"
        );
    }
}

/// Moves the focus to `field` with tab.
fn focus(form: &mut RecordForm, field: &str) {
    for _ in 0..form.fields.len() {
        if form.focused_field() == Some(field) {
            return;
        }
        press(form, KeyCode::Tab);
    }
    panic!("no field {field}");
}

fn saved(outcome: FormOutcome) -> Vec<(String, Value)> {
    match outcome {
        FormOutcome::Save(values) => values,
        other => panic!("expected Save, got {other:?}"),
    }
}

/// A note with a title, date, participants and notes; `notes` is in conflict.
fn note() -> RecordState {
    let mut b = Builder::new(RecordKind::Note);
    b.set(1, 1, "title", Value::Text("1:1 with Ana".into()), &[]);
    b.set(1, 1, "date", Value::Date(today()), &[]);
    b.set(
        1,
        1,
        "participants",
        Value::List(vec!["Ana".into(), "Ben".into()]),
        &[],
    );
    let base = b.set(1, 2, "notes", Value::Text("base".into()), &[]);
    b.set(1, 3, "notes", Value::Text("from A".into()), &[base]);
    b.set(2, 4, "notes", Value::Text("from B".into()), &[base]);
    b.state()
}

/// Typed text lands in the focused field; tab, shift-tab and enter move between fields.
#[test]
fn typing_and_navigation() {
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    assert_eq!(form.focused_field(), Some("title"));
    type_str(&mut form, "Ship v2");
    press(&mut form, KeyCode::Enter);
    assert_eq!(form.focused_field(), Some("status"));
    press(&mut form, KeyCode::Down);
    assert_eq!(form.focused_field(), Some("owner"));
    press(&mut form, KeyCode::BackTab);
    press(&mut form, KeyCode::Up);
    assert_eq!(form.focused_field(), Some("title"));
    press(&mut form, KeyCode::Up);
    assert_eq!(form.focused_field(), Some("description"), "wraps around");
    assert_eq!(form.field_text("title").as_deref(), Some("Ship v2"));
}

/// Saving a new record gives every non-empty field, parsed, defaults included.
#[test]
fn save_carries_parsed_values() {
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    type_str(&mut form, "Ship v2");
    focus(&mut form, "due");
    type_str(&mut form, "+2w");
    focus(&mut form, "tags");
    type_str(&mut form, "q2, product");
    let values = saved(ctrl(&mut form, 's'));
    let get = |k: &str| values.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
    assert_eq!(get("title"), Some(Value::Text("Ship v2".into())));
    assert_eq!(
        get("due"),
        Some(Value::Date(
            NaiveDate::from_ymd_opt(2026, 3, 16).expect("date")
        ))
    );
    assert_eq!(
        get("tags"),
        Some(Value::List(vec!["q2".into(), "product".into()]))
    );
    assert_eq!(get("status"), Some(Value::GoalStatus(GoalStatus::Open)));
    assert_eq!(get("owner"), None, "empty fields are not sent");
}

/// A bad value keeps the form open, shows the error, focuses the field and keeps the text.
#[test]
fn validation_error_keeps_form_open() {
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    type_str(&mut form, "Ship v2");
    focus(&mut form, "due");
    type_str(&mut form, "next friday");
    focus(&mut form, "progress");
    press(&mut form, KeyCode::Backspace);
    type_str(&mut form, "150");
    focus(&mut form, "title");
    assert_eq!(ctrl(&mut form, 's'), FormOutcome::Consumed);
    assert_eq!(form.focused_field(), Some("due"), "first bad field focused");
    let due_error = form.field_error("due").expect("due error");
    assert!(due_error.contains("YYYY-MM-DD"), "{due_error}");
    assert!(form.field_error("progress").is_some());
    assert_eq!(form.field_error("title"), None);
    assert_eq!(form.field_text("due").as_deref(), Some("next friday"));
    assert_eq!(form.field_text("progress").as_deref(), Some("150"));
    // Editing a field clears its error; fixing both lets the form save.
    for _ in 0.."next friday".len() {
        press(&mut form, KeyCode::Backspace);
    }
    assert_eq!(form.field_error("due"), None);
    type_str(&mut form, "2026-04-01");
    focus(&mut form, "progress");
    ctrl(&mut form, 'u');
    type_str(&mut form, "40");
    let values = saved(ctrl(&mut form, 's'));
    assert!(values.contains(&("progress".to_owned(), Value::Int(40))));
}

/// A new record without its required title is refused with a message saying so.
#[test]
fn required_field_is_enforced() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    assert_eq!(ctrl(&mut form, 's'), FormOutcome::Consumed);
    assert!(
        form.field_error("title")
            .expect("title error")
            .contains("required")
    );
}

/// The edit form shows current values and saves only what changed; untouched conflicts stay.
#[test]
fn edit_prefills_and_saves_changes_only() {
    let state = note();
    let mut form = RecordForm::edit(&state, today());
    assert_eq!(form.record_id(), Some(state.id));
    assert_eq!(form.field_text("title").as_deref(), Some("1:1 with Ana"));
    assert_eq!(form.field_text("date").as_deref(), Some("2026-03-02"));
    assert_eq!(form.field_text("participants").as_deref(), Some("Ana, Ben"));
    assert_eq!(
        form.field_text("notes").as_deref(),
        Some("from B"),
        "newest version"
    );
    focus(&mut form, "participants");
    // End keeps the text for editing (typing at once would replace it).
    press(&mut form, KeyCode::End);
    type_str(&mut form, ", Cleo");
    let values = saved(ctrl(&mut form, 's'));
    assert_eq!(
        values,
        vec![(
            "participants".to_owned(),
            Value::People(vec![
                PersonRef::named("Ana"),
                PersonRef::named("Ben"),
                PersonRef::named("Cleo")
            ])
        )]
    );
}

/// Typing into a prefilled field replaces its text (no "040" from typing 40 over
/// 0); ←/→ first keep it for editing; backspace on it clears it.
#[test]
fn typing_replaces_a_prefilled_field() {
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    focus(&mut form, "progress");
    assert_eq!(form.field_text("progress").as_deref(), Some("0"));
    type_str(&mut form, "40");
    assert_eq!(form.field_text("progress").as_deref(), Some("40"));
    type_str(&mut form, "5");
    assert_eq!(
        form.field_text("progress").as_deref(),
        Some("405"),
        "then it edits"
    );
    focus(&mut form, "title");
    focus(&mut form, "progress");
    press(&mut form, KeyCode::Left);
    type_str(&mut form, "1");
    assert_eq!(form.field_text("progress").as_deref(), Some("4015"));
    focus(&mut form, "title");
    focus(&mut form, "progress");
    press(&mut form, KeyCode::Backspace);
    assert_eq!(form.field_text("progress").as_deref(), Some(""));
}

/// A paste with line breaks stays in its field: spaces in a one-line field, lines
/// in a long text; the fields after it are untouched.
#[test]
fn paste_stays_in_its_field() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    focus(&mut form, "title");
    form.paste("1:1 with Ana\r\nand Ben\n");
    assert_eq!(
        form.field_text("title").as_deref(),
        Some("1:1 with Ana and Ben ")
    );
    assert_eq!(
        form.field_text("kind").as_deref(),
        Some("1:1"),
        "next field untouched"
    );
    focus(&mut form, "kind");
    form.paste("feedback");
    assert_eq!(form.field_text("kind").as_deref(), Some("feedback"));
    form.paste("openpaste");
    assert_eq!(
        form.field_text("kind").as_deref(),
        Some("feedback"),
        "not a choice"
    );
    focus(&mut form, "notes");
    form.paste("first line\nsecond line");
    ctrl(&mut form, 's');
    assert_eq!(
        form.field_text("notes").as_deref(),
        Some("first line\nsecond line")
    );
}

/// Saving an edit form with nothing changed just closes it.
#[test]
fn unchanged_edit_save_closes() {
    let mut form = RecordForm::edit(&note(), today());
    assert_eq!(ctrl(&mut form, 's'), FormOutcome::Cancelled);
}

/// Choice fields cycle with right/space and left, including back to empty when optional.
#[test]
fn choice_cycling() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    focus(&mut form, "kind");
    assert_eq!(form.field_text("kind").as_deref(), Some("1:1"));
    press(&mut form, KeyCode::Right);
    assert_eq!(form.field_text("kind").as_deref(), Some("appraisal"));
    press(&mut form, KeyCode::Char(' '));
    assert_eq!(form.field_text("kind").as_deref(), Some("feedback"));
    press(&mut form, KeyCode::Left);
    press(&mut form, KeyCode::Left);
    press(&mut form, KeyCode::Left);
    assert_eq!(
        form.field_text("kind").as_deref(),
        Some(""),
        "optional: empty"
    );
    press(&mut form, KeyCode::Left);
    assert_eq!(form.field_text("kind").as_deref(), Some("other"));
    focus(&mut form, "private");
    press(&mut form, KeyCode::Char(' '));
    assert_eq!(form.field_text("private").as_deref(), Some("yes"));
    // A letter picks the choice that starts with it; others are not typed in.
    focus(&mut form, "kind");
    press(&mut form, KeyCode::Char('f'));
    assert_eq!(form.field_text("kind").as_deref(), Some("feedback"));
    press(&mut form, KeyCode::Char('z'));
    assert_eq!(form.field_text("kind").as_deref(), Some("feedback"));
    focus(&mut form, "title");
    type_str(&mut form, "Retro");
    let values = saved(ctrl(&mut form, 's'));
    assert!(values.contains(&("kind".to_owned(), Value::NoteKind(NoteKind::Feedback))));
    assert!(values.contains(&("private".to_owned(), Value::Bool(true))));
}

/// Esc on an untouched form cancels; on a changed one it asks first, and only esc or y discards.
#[test]
fn cancel_confirms_when_changed() {
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Cancelled);
    let mut form = RecordForm::new_record(RecordKind::Goal, today());
    type_str(&mut form, "Draft");
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Consumed);
    assert_eq!(press(&mut form, KeyCode::Char('n')), FormOutcome::Consumed);
    assert_eq!(
        form.field_text("title").as_deref(),
        Some("Draft"),
        "n is not typed"
    );
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Consumed);
    assert_eq!(press(&mut form, KeyCode::Char('y')), FormOutcome::Cancelled);
    type_str(&mut form, "!");
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Consumed);
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Cancelled);
}

/// Enter opens the multi-line editor on a long text; esc returns keeping the text.
#[test]
fn long_text_in_the_editor() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    focus(&mut form, "agenda");
    press(&mut form, KeyCode::Enter);
    assert!(form.is_editing_text());
    type_str(&mut form, "one");
    press(&mut form, KeyCode::Enter);
    type_str(&mut form, "two");
    assert_eq!(
        form.external_editor_text(),
        Some(("Agenda", "one\ntwo".to_owned()))
    );
    assert_eq!(press(&mut form, KeyCode::Esc), FormOutcome::Consumed);
    assert!(!form.is_editing_text());
    assert_eq!(form.field_text("agenda").as_deref(), Some("one\ntwo"));
    assert!(form.is_changed());
    // Typing on a long-text field opens the editor with what was typed.
    focus(&mut form, "notes");
    type_str(&mut form, "q");
    assert!(form.is_editing_text());
    assert_eq!(form.field_text("notes").as_deref(), Some("q"));
}

/// `$EDITOR` is offered for long texts only, and its text comes back into the field.
#[test]
fn external_editor_round_trip() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    assert_eq!(form.external_editor_text(), None, "title is one line");
    focus(&mut form, "notes");
    assert_eq!(ctrl(&mut form, 'e'), FormOutcome::OpenExternalEditor);
    assert_eq!(form.external_editor_text(), Some(("Notes", String::new())));
    form.set_external_text("from vim\n".to_owned());
    assert_eq!(form.field_text("notes").as_deref(), Some("from vim\n"));
    press(&mut form, KeyCode::Enter);
    assert_eq!(ctrl(&mut form, 'e'), FormOutcome::OpenExternalEditor);
    form.set_external_text("again".to_owned());
    press(&mut form, KeyCode::Esc);
    assert_eq!(form.field_text("notes").as_deref(), Some("again"));
}

/// Text from `$EDITOR` with Windows (and old Mac) line endings is saved with plain
/// newlines, never with a `\r` the schema would refuse.
#[test]
fn external_editor_line_endings_are_saved_plain() {
    let mut form = RecordForm::edit(&note(), today());
    focus(&mut form, "notes");
    assert_eq!(ctrl(&mut form, 'e'), FormOutcome::OpenExternalEditor);
    form.set_external_text("one\r\ntwo\rthree\r\n".to_owned());
    let values = saved(ctrl(&mut form, 's'));
    let notes = values
        .iter()
        .find(|(key, _)| key == "notes")
        .map(|(_, value)| value.clone());
    assert_eq!(notes, Some(Value::Text("one\ntwo\nthree\n".into())));
}

/// Snapshot: the new-goal form in an 80×24 terminal.
#[test]
fn snapshot_new_goal() {
    let form = RecordForm::new_record(RecordKind::Goal, today());
    let backend = render(80, 24, |frame| {
        form.draw(
            frame,
            frame.area(),
            &Theme::no_color(),
            &KeyBindings::default(),
        );
    });
    insta::assert_snapshot!(backend);
}

/// Snapshot: editing a note in 80×24 with a bad date shown under its field and a conflict note.
#[test]
fn snapshot_edit_note_with_error() {
    let mut form = RecordForm::edit(&note(), today());
    focus(&mut form, "follow_up");
    type_str(&mut form, "someday");
    ctrl(&mut form, 's');
    let backend = render(80, 24, |frame| {
        form.draw(
            frame,
            frame.area(),
            &Theme::no_color(),
            &KeyBindings::default(),
        );
    });
    insta::assert_snapshot!(backend);
}

/// A long form in a short terminal scrolls so the focused field stays visible.
#[test]
fn scrolls_to_focused_field() {
    let mut form = RecordForm::new_record(RecordKind::Note, today());
    focus(&mut form, "notes");
    let backend = render(60, 10, |frame| {
        form.draw(
            frame,
            frame.area(),
            &Theme::no_color(),
            &KeyBindings::default(),
        );
    });
    let screen = format!("{backend}");
    assert!(screen.contains("› Notes"), "{screen}");
    assert!(!screen.contains("Title *"), "{screen}");
}

/// A file's form offers what people may change (name, the record it belongs to,
/// description), never what comes from its content (size, SHA-256, type).
#[test]
fn a_files_form_leaves_its_content_fields_out() {
    let mut b = Builder::new(RecordKind::File);
    b.set(1, 1, "name", Value::Text("plan.pdf".into()), &[]);
    b.set(1, 1, "size", Value::Int(10), &[]);
    b.set(1, 1, "sha256", Value::Text("a".repeat(64)), &[]);
    b.set(1, 1, "type", Value::Text("application/pdf".into()), &[]);
    let form = RecordForm::edit(&b.state(), today());
    assert_eq!(form.field_text("name").as_deref(), Some("plan.pdf"));
    for key in ["size", "sha256", "type"] {
        assert_eq!(form.field_text(key), None, "{key} is in the form");
    }
}
