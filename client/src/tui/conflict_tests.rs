use cairn_common::Value;
use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyModifiers};

use super::*;
use crate::tui::test_support::{Builder, render, today};

fn press(view: &mut ConflictView, code: KeyCode) -> ConflictOutcome {
    view.handle_key(
        &KeyEvent::new(code, KeyModifiers::NONE),
        &KeyBindings::default(),
    )
}

fn ctrl(view: &mut ConflictView, c: char) -> ConflictOutcome {
    view.handle_key(
        &KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        &KeyBindings::default(),
    )
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A note whose notes (two versions) and follow-up date (two versions) are in conflict.
fn conflicted_note() -> RecordState {
    let mut b = Builder::new(RecordKind::Note);
    b.set(1, 1, "title", text("1:1 with Ana"), &[]);
    let base = b.set(1, 2, "notes", text("Ana wants to lead the migration."), &[]);
    b.set(
        1,
        3,
        "notes",
        text("Ana wants to lead the migration.\nAgreed: pairs with Ben on the rollout plan first."),
        &[base],
    );
    b.set(
        2,
        4,
        "notes",
        text("Ana wants to lead the migration.\nBudget for the training is approved."),
        &[base],
    );
    let date = b.set(1, 2, "follow_up", Value::Date(today()), &[]);
    let d = |day| Value::Date(NaiveDate::from_ymd_opt(2026, 3, day).expect("date"));
    b.set(1, 5, "follow_up", d(16), &[date]);
    b.set(2, 6, "follow_up", d(23), &[date]);
    b.state()
}

/// With no conflict there is nothing to show.
#[test]
fn no_conflicts_no_view() {
    let mut b = Builder::new(RecordKind::Goal);
    b.set(1, 1, "title", text("Ship"), &[]);
    assert!(ConflictView::new(&b.state(), today()).is_none());
}

/// Keep-left and keep-right resolve the shown field with that version's value.
#[test]
fn take_left_and_right() {
    let state = conflicted_note();
    let mut view = ConflictView::new(&state, today()).expect("conflicts");
    assert_eq!(
        view.field(),
        "follow_up",
        "form order: follow-up before notes"
    );
    let d = |day| Value::Date(NaiveDate::from_ymd_opt(2026, 3, day).expect("date"));
    assert_eq!(
        press(&mut view, KeyCode::Char('1')),
        ConflictOutcome::Resolve {
            field: "follow_up".into(),
            value: d(16)
        }
    );
    assert_eq!(
        press(&mut view, KeyCode::Char('l')),
        ConflictOutcome::Resolve {
            field: "follow_up".into(),
            value: d(23)
        }
    );
    press(&mut view, KeyCode::Tab);
    assert_eq!(view.field(), "notes");
    match press(&mut view, KeyCode::Char('h')) {
        ConflictOutcome::Resolve { field, value } => {
            assert_eq!(field, "notes");
            assert!(value.to_text().contains("pairs with Ben"));
        }
        other => panic!("expected Resolve, got {other:?}"),
    }
    assert_eq!(press(&mut view, KeyCode::Esc), ConflictOutcome::Cancelled);
}

/// Merge shows both versions between markers; saving with markers left is refused,
/// and the edited text comes back as the resolved value.
#[test]
fn merge_long_text() {
    let mut view = ConflictView::new(&conflicted_note(), today()).expect("conflicts");
    press(&mut view, KeyCode::Tab);
    assert_eq!(
        press(&mut view, KeyCode::Char('m')),
        ConflictOutcome::Consumed
    );
    let (label, merge) = view.external_editor_text().expect("merging");
    assert_eq!(label, "Notes");
    assert!(merge.starts_with("<<<<<<< version A (by 01010101, 2026-03-02T09:03:00.000Z)\n"));
    assert!(merge.contains("\n=======\n"));
    assert!(merge.contains("rollout plan first.\n=======\nAna wants"));
    assert!(merge.ends_with(">>>>>>> version B (by 02020202, 2026-03-02T09:04:00.000Z)\n"));
    assert_eq!(
        ctrl(&mut view, 's'),
        ConflictOutcome::Consumed,
        "markers left"
    );
    assert!(view.is_merging());
    view.set_external_text(
        "Ana wants to lead the migration.\nPairs with Ben; training approved.\n".into(),
    );
    assert_eq!(
        ctrl(&mut view, 's'),
        ConflictOutcome::Resolve {
            field: "notes".into(),
            value: text("Ana wants to lead the migration.\nPairs with Ben; training approved.")
        }
    );
    assert!(!view.is_merging());
}

/// A merge of a date field edits its text form and is parsed as a date; esc keeps the draft.
#[test]
fn merge_date_field() {
    let mut view = ConflictView::new(&conflicted_note(), today()).expect("conflicts");
    press(&mut view, KeyCode::Char('m'));
    ctrl(&mut view, 'z');
    view.set_external_text("not a date\n".into());
    assert_eq!(ctrl(&mut view, 's'), ConflictOutcome::Consumed, "bad date");
    assert_eq!(press(&mut view, KeyCode::Esc), ConflictOutcome::Consumed);
    assert!(!view.is_merging());
    press(&mut view, KeyCode::Char('m'));
    assert_eq!(
        view.external_editor_text().map(|(_, t)| t).as_deref(),
        Some("not a date\n"),
        "draft kept"
    );
    view.set_external_text("+3w\n".into());
    assert_eq!(
        ctrl(&mut view, 's'),
        ConflictOutcome::Resolve {
            field: "follow_up".into(),
            value: Value::Date(NaiveDate::from_ymd_opt(2026, 3, 23).expect("date"))
        }
    );
}

/// With three versions the view cycles through every pair, and keep takes the shown one.
#[test]
fn cycles_pairs_of_three() {
    let mut b = Builder::new(RecordKind::Goal);
    let base = b.set(1, 1, "title", text("Ship"), &[]);
    for (who, t) in [(1, "Ship A"), (2, "Ship B"), (3, "Ship C")] {
        b.set(who, u64::from(who) + 1, "title", text(t), &[base]);
    }
    let mut view = ConflictView::new(&b.state(), today()).expect("conflicts");
    assert_eq!(view.shown_pair(), (0, 1));
    press(&mut view, KeyCode::Char('v'));
    assert_eq!(view.shown_pair(), (0, 2));
    press(&mut view, KeyCode::Char('v'));
    assert_eq!(view.shown_pair(), (1, 2));
    assert_eq!(
        press(&mut view, KeyCode::Char('2')),
        ConflictOutcome::Resolve {
            field: "title".into(),
            value: text("Ship C")
        }
    );
    press(&mut view, KeyCode::Char('v'));
    assert_eq!(view.shown_pair(), (0, 1));
}

/// Arrows scroll the panes instead of moving to another field; the scroll stops at the end.
#[test]
fn arrows_scroll() {
    let mut view = ConflictView::new(&conflicted_note(), today()).expect("conflicts");
    press(&mut view, KeyCode::Tab);
    press(&mut view, KeyCode::Down);
    assert_eq!(view.field(), "notes");
    assert_eq!(view.scroll, 1);
    for _ in 0..100 {
        press(&mut view, KeyCode::Down);
    }
    assert!(view.scroll < 20, "{}", view.scroll);
    press(&mut view, KeyCode::PageUp);
    assert_eq!(view.scroll, 0);
}

/// Snapshot: the notes conflict of a note, two versions side by side, in 80×24.
#[test]
fn snapshot_two_versions() {
    let mut view = ConflictView::new(&conflicted_note(), today()).expect("conflicts");
    press(&mut view, KeyCode::Tab);
    let backend = render(80, 24, |frame| {
        view.draw(
            frame,
            frame.area(),
            &Theme::no_color(),
            &KeyBindings::default(),
        );
    });
    insta::assert_snapshot!(backend);
}
