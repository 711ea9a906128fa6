//! The state machine, driven by actions as the driver would, on the fixture replica.

use cairn_common::model::{RecordKind, Value};

use super::{Fixture, key};
use crate::tui::action::{Action, Command, Effect, Write};
use crate::tui::config::Config;
use crate::tui::popups::Popup;

fn writes(effects: &[Effect]) -> Vec<&Write> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Write(w) => Some(w),
            _ => None,
        })
        .collect()
}

/// Number keys, `]`/`[` (wrapping) and tab switch kinds.
#[test]
fn tabs_switch_by_number_and_bracket() {
    let mut f = Fixture::new();
    assert_eq!(f.app.tab(), RecordKind::Goal);
    f.press("4");
    assert_eq!(f.app.tab(), RecordKind::Activity);
    f.press("]");
    assert_eq!(f.app.tab(), RecordKind::Note);
    f.press("tab");
    f.press("]");
    assert_eq!(f.app.tab(), RecordKind::Person);
    f.press("]");
    assert_eq!(f.app.tab(), RecordKind::File);
    f.press("]");
    assert_eq!(f.app.tab(), RecordKind::Goal, "wraps after the last tab");
    f.press("[");
    assert_eq!(f.app.tab(), RecordKind::File, "wraps before the first tab");
    f.press("2");
    assert_eq!(f.titles().len(), 2);
}

/// j/k, arrows, G/g move within bounds, and each new selection asks to load its record.
#[test]
fn navigation_moves_and_loads_the_selection() {
    let mut f = Fixture::new();
    f.press("4");
    let ids = f.app.visible_ids();
    assert_eq!(f.app.selected_id(), Some(ids[0]));
    let effects = f.app.update(Action::Key(key("j")));
    assert_eq!(effects, vec![Effect::Load(ids[1])]);
    f.press("down");
    assert_eq!(f.app.selected_id(), Some(ids[2]));
    f.press("G");
    assert_eq!(f.app.selected_id(), ids.last().copied());
    f.press("j");
    assert_eq!(f.app.selected_id(), ids.last().copied(), "stops at the end");
    f.press("g");
    f.press("k");
    assert_eq!(f.app.selected_id(), Some(ids[0]), "stops at the top");
    f.press("ctrl-d");
    assert_eq!(
        f.app.selected_id(),
        ids.last().copied(),
        "a page is more than 5 rows"
    );
    assert_eq!(
        f.app.detail().map(|s| s.id),
        ids.last().copied(),
        "the detail pane follows"
    );
}

/// The filter narrows as you type, ignores case, only matches within a cell, and esc
/// clears it; enter keeps it and gives the keys back to the list.
#[test]
fn filter_as_you_type() {
    let mut f = Fixture::new();
    f.press("4");
    f.press("/");
    f.type_text("RE");
    assert_eq!(
        f.titles(),
        ["Team retro", "Offsite prep"],
        "case-insensitive substring"
    );
    f.type_text("t");
    assert_eq!(f.titles(), ["Team retro"]);
    f.press("backspace");
    assert_eq!(f.titles().len(), 2, "backspace widens again");
    f.press("enter");
    assert_eq!(f.app.filter(), "RE", "kept as typed");
    f.press("j");
    assert_eq!(f.titles().len(), 2, "j moves again instead of typing");
    f.press("esc");
    assert_eq!(f.app.filter(), "");
    assert_eq!(f.titles().len(), 5);
    // Cells are searched one by one: text spanning two cells does not match.
    f.drive(Action::FilterChar('p'));
    f.drive(Action::FilterChar('2'));
    assert!(f.titles().is_empty(), "{:?}", f.titles());
}

/// The week chart and the potential grid follow the filter, both ways, and moving
/// the selection leaves them as they are.
#[test]
fn pictures_follow_the_filter() {
    let mut f = Fixture::new();
    f.press("4");
    let all = f.app.weeks.clone();
    f.press("/");
    f.type_text("retro");
    let retro = f.app.weeks.clone();
    assert_ne!(retro, all, "the chart sums the filtered rows only");
    f.press("enter");
    f.press("j");
    assert_eq!(f.app.weeks, retro, "a move keeps the sums");
    f.press("esc");
    assert_eq!(f.app.weeks, all, "clearing the filter sums every row again");

    f.press("6");
    let grid = f.app.grid.clone();
    f.press("/");
    f.type_text("zzz");
    assert_ne!(f.app.grid, grid, "the grid counts the filtered rows only");
    f.press("esc");
    assert_eq!(f.app.grid, grid);
}

/// `o` sorts by the next column, `O` reverses; empty cells stay last.
#[test]
fn sort_by_column_and_reverse() {
    let mut f = Fixture::new();
    f.press("4");
    assert_eq!(
        f.titles()[0],
        "Interview: backend",
        "newest first by default"
    );
    f.press("o"); // date → duration
    assert_eq!(f.titles()[0], "Offsite prep", "shortest first");
    f.press("O");
    assert_eq!(f.titles()[0], "Roadmap workshop", "longest first");
    f.press("o"); // duration → title (wraps)
    assert_eq!(f.titles()[0], "Interview: backend");
    f.press("O");
    assert_eq!(f.titles()[0], "Team retro");
    f.press("6");
    f.press("o");
    assert_eq!(
        f.titles().last().map(String::as_str),
        Some("Eve Evans"),
        "unrated last"
    );
    f.press("O");
    assert_eq!(
        f.titles().last().map(String::as_str),
        Some("Eve Evans"),
        "still last"
    );
}

/// `t` shows the trash; `r` there restores (and nowhere else); `d` moves to the trash.
#[test]
fn trash_delete_and_restore() {
    let mut f = Fixture::new();
    assert_eq!(f.titles(), ["Ship the v2 API", "Hire two engineers"]);
    let restore_outside = f.press("r");
    assert!(writes(&restore_outside).is_empty());
    f.press("t");
    assert!(f.app.in_trash());
    assert_eq!(f.titles(), ["Old reorg plan"]);
    let trashed = f.app.selected_id().expect("selection");
    let effects = f.press("r");
    assert_eq!(writes(&effects), [&Write::Restore { id: trashed }]);
    assert!(f.titles().is_empty(), "restored records leave the trash");
    f.press("t");
    assert_eq!(f.titles().len(), 3);
    f.select("Hire two engineers");
    let id = f.app.selected_id().expect("selection");
    let effects = f.press("d");
    assert_eq!(writes(&effects), [&Write::Delete { id }]);
    assert_eq!(f.titles().len(), 2);
    assert!(
        f.replica
            .record(&id)
            .expect("read")
            .expect("there")
            .is_deleted()
    );
}

/// `x` marks goals, commitments and tasks done, and refuses other kinds.
#[test]
fn done_marks_and_schedules() {
    let mut f = Fixture::new();
    f.press("3");
    f.select("Weekly status report");
    let id = f.app.selected_id().expect("selection");
    let effects = f.press("x");
    assert_eq!(
        writes(&effects),
        [&Write::Done {
            id,
            today: super::today()
        }]
    );
    let state = f.replica.record(&id).expect("read").expect("there");
    assert_eq!(
        state.get("next_due").and_then(Value::as_date),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
    );
    f.press("4");
    let effects = f.press("x");
    assert!(writes(&effects).is_empty());
    assert!(f.app.message().is_some_and(|m| m.error));
}

/// `u` undoes a done (the task's due date, completion history and status come back)
/// with new ops that sync; `ctrl-r` does it again; more `u` than changes says so.
#[test]
fn undo_and_redo_a_done() {
    let mut f = Fixture::new();
    f.press("3");
    f.select("Weekly status report");
    let id = f.app.selected_id().expect("selection");
    let before = f.replica.record(&id).expect("read").expect("there");
    let ops_before = f.replica.history(&id).expect("history").len();
    f.press("x");
    let done = f.replica.record(&id).expect("read").expect("there");
    assert_ne!(done.get("next_due"), before.get("next_due"));
    f.press("u");
    let undone = f.replica.record(&id).expect("read").expect("there");
    for field in ["next_due", "history", "title"] {
        assert_eq!(undone.get(field), before.get(field), "{field} not undone");
    }
    assert!(
        f.replica.history(&id).expect("history").len() > ops_before,
        "undo writes new ops rather than rewriting history"
    );
    assert!(f.app.message().is_some_and(|m| m.text.contains("Undone")));
    f.press("ctrl-r");
    let redone = f.replica.record(&id).expect("read").expect("there");
    assert_eq!(redone.get("next_due"), done.get("next_due"));
    assert_eq!(redone.get("history"), done.get("history"));
    f.press("u");
    f.press("u");
    assert!(
        f.app
            .message()
            .is_some_and(|m| m.text.contains("Nothing to undo"))
    );
    assert_eq!(
        f.replica
            .record(&id)
            .expect("read")
            .expect("there")
            .get("next_due"),
        before.get("next_due")
    );
}

/// In the history view, `R` on an older line makes the record show that version
/// again (new ops on top), and `u` undoes the revert.
#[test]
fn revert_to_a_version_from_history() {
    let mut f = Fixture::new();
    let id = f.app.selected_id().expect("selection");
    let original = f.replica.record(&id).expect("read").expect("there");
    let title = original.title().to_owned();
    f.commit_write(Write::Update {
        base: Box::new(original.clone()),
        fields: vec![("title".into(), Value::Text("Renamed".into()))],
    });
    f.commit_write(Write::Update {
        base: Box::new(f.replica.record(&id).expect("read").expect("there")),
        fields: vec![("title".into(), Value::Text("Renamed again".into()))],
    });
    f.press("h");
    // The newest line is selected; two up is the last change before the renames.
    f.press("k");
    f.press("k");
    f.press("R");
    let reverted = f.replica.record(&id).expect("read").expect("there");
    assert_eq!(reverted.title(), title);
    assert!(
        f.app
            .message()
            .is_some_and(|m| m.text.contains("chosen version"))
    );
    f.press("u");
    let undone = f.replica.record(&id).expect("read").expect("there");
    assert_eq!(undone.title(), "Renamed again");
}

/// Undoing a new record moves it to the trash; undoing a delete brings it back.
#[test]
fn undo_create_and_delete() {
    let mut f = Fixture::new();
    let goals = f.app.index.kind(RecordKind::Goal).live();
    let id = f.app.selected_id().expect("selection");
    f.press("d");
    assert_eq!(f.app.index.kind(RecordKind::Goal).live(), goals - 1);
    f.press("u");
    assert_eq!(f.app.index.kind(RecordKind::Goal).live(), goals);
    assert!(
        !f.replica
            .record(&id)
            .expect("read")
            .expect("there")
            .is_deleted()
    );
    let created = f.commit_write(Write::Create {
        kind: RecordKind::Goal,
        space: f.replica.identity().personal_space,
        fields: vec![("title".into(), Value::Text("Fresh".into()))],
        today: super::today(),
    });
    assert_eq!(f.app.index.kind(RecordKind::Goal).live(), goals + 1);
    f.press("u");
    assert!(
        f.replica
            .record(&created)
            .expect("read")
            .expect("there")
            .is_deleted()
    );
}

/// A write shows "saving" until the worker answers, then the index takes the new state.
#[test]
fn saving_then_saved() {
    let mut f = Fixture::new();
    let id = f.app.selected_id().expect("selection");
    let effects = f.app.update(Action::Key(key("d")));
    let [Effect::Write(write)] = effects.as_slice() else {
        panic!("one write: {effects:?}");
    };
    assert_eq!(f.app.saving, 1);
    let report = crate::tui::worker::perform_write(&f.replica, write);
    f.drive(Action::Saved(report));
    assert_eq!(f.app.saving, 0);
    assert!(!f.app.visible_ids().contains(&id));
    assert_eq!(f.app.index.kind(RecordKind::Goal).trashed(), 2);
}

/// `n` opens a form of the current kind; ctrl-s creates the record and selects it.
#[test]
fn new_record_through_the_form() {
    let mut f = Fixture::new();
    f.press("2");
    f.press("n");
    assert!(matches!(f.app.popup(), Some(Popup::Form(_))));
    f.type_text("Call the landlord");
    let effects = f.press("ctrl-s");
    let [Write::Create { kind, fields, .. }] = writes(&effects).as_slice() else {
        panic!("one create: {effects:?}");
    };
    assert_eq!(*kind, RecordKind::Commitment);
    assert!(fields.contains(&("title".to_owned(), Value::Text("Call the landlord".into()))));
    assert!(f.app.popup().is_none(), "closed once saved");
    assert_eq!(f.titles().len(), 3);
    assert_eq!(
        f.app.detail().map(|s| s.title().to_owned()).as_deref(),
        Some("Call the landlord"),
        "the new record is selected"
    );
}

/// `e` edits the selected record relative to what was shown; a failed save keeps the form.
#[test]
fn edit_record_through_the_form() {
    let mut f = Fixture::new();
    f.select("Hire two engineers");
    f.press("e");
    assert!(matches!(f.app.popup(), Some(Popup::Form(_))));
    for _ in 0..30 {
        f.press("backspace");
    }
    f.type_text("Hire three engineers");
    let effects = f.press("ctrl-s");
    let [Write::Update { base, fields }] = writes(&effects).as_slice() else {
        panic!("one update: {effects:?}");
    };
    assert_eq!(base.title(), "Hire two engineers");
    assert_eq!(
        fields,
        &[(
            "title".to_owned(),
            Value::Text("Hire three engineers".into())
        )]
    );
    assert!(f.titles().contains(&"Hire three engineers".to_owned()));
    // Editing is refused in the trash, with a message.
    f.press("t");
    f.press("e");
    assert!(f.app.popup().is_none());
}

/// `c` opens the conflict view; keeping one version commits a resolving write.
#[test]
fn conflicts_are_resolved_from_the_list() {
    let mut f = Fixture::new();
    assert_eq!(f.app.index.conflicts(), 1);
    f.press("2");
    let conflicted = f
        .titles()
        .into_iter()
        .find(|t| t.starts_with("Book the offsite "))
        .expect("conflicted record");
    f.select(&conflicted);
    f.press("c");
    assert!(matches!(f.app.popup(), Some(Popup::Conflict(_))));
    let effects = f.press("1");
    let [Write::Resolve { field, .. }] = writes(&effects).as_slice() else {
        panic!("one resolve: {effects:?}");
    };
    assert_eq!(field, "title");
    assert!(f.app.popup().is_none(), "nothing left to resolve");
    assert_eq!(f.app.index.conflicts(), 0);
    f.press("c");
    assert!(f.app.popup().is_none(), "no conflict, no view");
}

/// ctrl-e in a long-text field asks for the external editor; its text comes back in.
#[test]
fn external_editor_round_trip() {
    let mut f = Fixture::new();
    f.press("5");
    f.press("n");
    let mut opened = None;
    for _ in 0..12 {
        let effects = f.press("ctrl-e");
        if let Some(Effect::OpenEditor { label, text }) = effects.into_iter().next() {
            opened = Some((label, text));
            break;
        }
        f.press("tab");
    }
    let (label, _) = opened.expect("a long-text field asks for the editor");
    assert!(label == "Agenda" || label == "Notes", "{label}");
    f.drive(Action::EditorClosed(Ok("From the editor".into())));
    let Some(Popup::Form(popup)) = f.app.popup() else {
        panic!("form still open");
    };
    assert_eq!(
        popup.form.external_editor_text().map(|(_, t)| t).as_deref(),
        Some("From the editor")
    );
    f.drive(Action::EditorClosed(Err("vi not found".into())));
    assert!(
        f.app
            .message()
            .is_some_and(|m| m.error && m.text.contains("vi not found"))
    );
}

/// The palette finds a command by name and runs it; `?` opens help, esc closes both.
#[test]
fn palette_and_help() {
    let mut f = Fixture::new();
    f.press(":");
    assert!(matches!(f.app.popup(), Some(Popup::Palette(_))));
    f.type_text("go to pot");
    f.press("enter");
    assert!(f.app.popup().is_none());
    assert_eq!(f.app.tab(), RecordKind::Potential);
    f.press(":");
    f.type_text("new task");
    f.press("enter");
    assert!(matches!(f.app.popup(), Some(Popup::Form(p)) if p.form.kind() == RecordKind::Task));
    f.press("esc");
    assert!(f.app.popup().is_none());
    f.press("?");
    assert!(matches!(f.app.popup(), Some(Popup::Help(_))));
    f.press("j");
    f.press("esc");
    assert!(f.app.popup().is_none());
    let effects = f.drive(Action::Run(Command::Quit));
    assert_eq!(effects, [Effect::Quit]);
}

/// Bindings from the config replace the defaults in the state machine.
#[test]
fn configured_keys_apply() {
    let config = Config::parse(
        "[keys]\nquit = \"ctrl-q\"\ndown = \"n\"\n",
        std::path::Path::new("config.toml"),
        false,
    )
    .expect("config");
    let mut f = Fixture::with_config(config);
    assert!(f.press("q").is_empty(), "q no longer quits");
    let first = f.app.selected_id();
    f.press("n");
    assert_ne!(f.app.selected_id(), first, "n moves down now");
    assert_eq!(f.press("ctrl-q"), [Effect::Quit]);
}

/// `h` loads the history of the selected record into a popup.
#[test]
fn history_popup() {
    let mut f = Fixture::new();
    let effects = f.press("h");
    assert!(matches!(effects.first(), Some(Effect::LoadHistory(_))));
    assert!(matches!(f.app.popup(), Some(Popup::History(_))));
    f.press("esc");
    assert!(f.app.popup().is_none());
}

/// A record changed elsewhere (e.g. by sync) updates its row and keeps the list sorted.
#[test]
fn saved_states_update_the_index() {
    let mut f = Fixture::new();
    f.press("4");
    let id = super::create(
        &f.replica,
        RecordKind::Activity,
        &[
            ("title", "Hiring fair"),
            ("date", "2026-11-21"),
            ("duration", "4h"),
        ],
    );
    let state = f.replica.record(&id).expect("read").expect("there");
    f.drive(Action::Saved(crate::tui::action::SaveReport {
        write: crate::tui::action::WriteKind::Create,
        result: Ok(vec![state]),
        step: None,
    }));
    assert_eq!(f.titles()[0], "Hiring fair", "newest first");
    assert_eq!(f.app.weeks.minutes[11], 60 + 180 + 240);
}

/// The form closes on save, so keys go back to the list at once; if the write fails,
/// the form comes back with everything typed and the error is shown.
#[test]
fn failed_save_brings_the_form_back() {
    let mut f = Fixture::new();
    f.press("n");
    f.type_text("Keep me");
    let effects = f.app.update(Action::Key(key("ctrl-s")));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Write(Write::Create { .. })]
    ));
    assert!(f.app.popup().is_none(), "closed while saving");
    f.app.update(Action::Key(key("j")));
    f.app.update(Action::Saved(crate::tui::action::SaveReport {
        write: crate::tui::action::WriteKind::Create,
        result: Err("the disk is full; free some space and save again".into()),
        step: None,
    }));
    let Some(Popup::Form(popup)) = f.app.popup() else {
        panic!("form back after the error");
    };
    assert_eq!(popup.form.field_text("title").as_deref(), Some("Keep me"));
    assert!(
        f.app
            .message()
            .is_some_and(|m| m.error && m.text.contains("disk is full"))
    );
}

/// A click on a row selects it; a click on a tab goes to that kind.
#[test]
fn mouse_clicks_select_rows_and_tabs() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut f = Fixture::new();
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let click = |column, row| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let first = f.app.selected_id();
    // Tabs on row 0, the list's border and header on 1 and 2: rows start at 3.
    f.drive(click(10, 4));
    assert_ne!(f.app.selected_id(), first, "the second row is selected");
    f.drive(click(10, 3));
    assert_eq!(f.app.selected_id(), first);
    f.drive(click(18, 0));
    assert_eq!(f.app.tab(), RecordKind::Commitment);
}

/// At start the app draws before any record is read; chunks fill the list. A record
/// saved meanwhile keeps its newer state when an older chunk arrives, and a record
/// removed meanwhile does not come back.
#[test]
fn records_stream_in_without_undoing_newer_changes() {
    let f = Fixture::new();
    let stale: Vec<cairn_common::RecordState> =
        f.replica.records().map(|r| r.expect("record")).collect();
    let mut app = crate::tui::App::opening(crate::tui::Config::default(), super::today());
    app.opened(&f.replica).expect("opened");
    assert!(app.index.is_loading());
    assert_eq!(app.index.kind(RecordKind::Goal).live(), 0);
    let goals: Vec<_> = stale
        .iter()
        .filter(|s| s.kind == Some(RecordKind::Goal) && !s.is_deleted())
        .cloned()
        .collect();
    let renamed = crate::tui::worker::perform_write(
        &f.replica,
        &Write::Update {
            base: Box::new(goals[0].clone()),
            fields: vec![("title".into(), Value::Text("Renamed meanwhile".into()))],
        },
    );
    app.update(Action::Saved(renamed));
    app.index.remove(&goals[1].id);
    app.update(Action::IndexChunk(
        stale
            .iter()
            .map(crate::tui::index::IndexEntry::of)
            .collect(),
    ));
    app.update(Action::IndexLoaded(Ok(())));
    assert!(!app.index.is_loading());
    let rows = app.index.kind(RecordKind::Goal);
    let shown: Vec<&str> = rows
        .order()
        .iter()
        .filter_map(|&i| rows.row(i))
        .filter(|r| !r.is_deleted())
        .map(|r| r.cell(0))
        .collect();
    assert!(shown.contains(&"Renamed meanwhile"), "{shown:?}");
    assert!(!shown.contains(&goals[1].title()), "{shown:?}");
    assert!(rows.live() >= 1);
}

/// `b` on the potentials lists the people of one named box of the grid (Star
/// first), then the next box, and after the last box everyone again.
#[test]
fn grid_boxes_filter_the_list() {
    let mut f = Fixture::new();
    f.press("6");
    let everyone = f.titles().len();
    f.press("b");
    assert!(f.app.message().is_some_and(|m| m.text.contains("Star")));
    let stars = f.titles();
    assert!(stars.len() < everyone, "{stars:?}");
    let rows = f.app.index.kind(RecordKind::Potential);
    for &i in f.app.view().visible() {
        let row = rows.row(i).expect("row");
        assert_eq!(
            (
                row.potential.map(|r| r.index()),
                row.performance.map(|r| r.index())
            ),
            (Some(2), Some(2))
        );
    }
    for _ in 0..9 {
        f.press("b");
    }
    assert_eq!(f.titles().len(), everyone, "after the last box, all again");
}
