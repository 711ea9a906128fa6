//! Rendering snapshots of every screen and popup on a `TestBackend`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::Fixture;
use crate::tui::action::{Action, HistoryLine};
use crate::tui::config::Config;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 30;

fn render(f: &mut Fixture, width: u16, height: u16) -> TestBackend {
    f.drive(Action::Resize { width, height });
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    terminal.backend().clone()
}

fn screen(f: &mut Fixture) -> String {
    render(f, WIDTH, HEIGHT).to_string()
}

/// Snapshots live in `tui/snapshots`. The fixture's ids and clocks are fixed, so
/// nothing needs filtering.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(true);
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

/// The goals tab: progress bars, the overdue goal, the detail pane with its gauge.
#[test]
fn goals_tab() {
    let mut f = Fixture::new();
    snapshot!("goals", screen(&mut f));
}

/// The commitments tab: the overdue commitment and the conflict marker and count.
#[test]
fn commitments_tab() {
    let mut f = Fixture::new();
    f.press("2");
    snapshot!("commitments", screen(&mut f));
}

/// The standard tasks tab.
#[test]
fn tasks_tab() {
    let mut f = Fixture::new();
    f.press("3");
    snapshot!("tasks", screen(&mut f));
}

/// The activities tab with hours per ISO week over the last 12 weeks.
#[test]
fn activities_tab() {
    let mut f = Fixture::new();
    f.press("4");
    snapshot!("activities", screen(&mut f));
}

/// The conversation notes tab, with a long text in the detail pane.
#[test]
fn notes_tab() {
    let mut f = Fixture::new();
    f.press("5");
    snapshot!("notes", screen(&mut f));
}

/// The potentials tab with the 3×3 grid.
#[test]
fn potentials_tab() {
    let mut f = Fixture::new();
    f.press("6");
    snapshot!("potentials", screen(&mut f));
}

/// The help overlay lists every binding.
#[test]
fn help_overlay() {
    let mut f = Fixture::new();
    f.press("?");
    snapshot!("help", render(&mut f, WIDTH, 48).to_string());
}

/// The command palette, narrowed by a query.
#[test]
fn palette() {
    let mut f = Fixture::new();
    f.press(":");
    f.type_text("new");
    snapshot!("palette", screen(&mut f));
}

/// The trash view of goals.
#[test]
fn trash_view() {
    let mut f = Fixture::new();
    f.press("t");
    snapshot!("trash", screen(&mut f));
}

/// A filter being typed, with the matching rows.
#[test]
fn filter_active() {
    let mut f = Fixture::new();
    f.press("4");
    f.press("/");
    f.type_text("re");
    snapshot!("filter", screen(&mut f));
}

/// An empty replica: every list says how to add the first record.
#[test]
fn empty_list() {
    let mut f = Fixture::empty();
    snapshot!("empty", screen(&mut f));
}

/// The first frame, drawn while the replica opens: every tab, a list that says the
/// records are on their way (not that there are none), "opening" in the status bar.
#[test]
fn opening_frame() {
    let app = crate::tui::App::opening(Config::default(), super::today());
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    terminal.draw(|frame| app.draw(frame)).expect("draw");
    let screen = terminal.backend().to_string();
    assert!(!screen.contains("No goals yet"), "{screen}");
    snapshot!("opening", screen);
}

/// A filter that matches nothing.
#[test]
fn filter_matches_nothing() {
    let mut f = Fixture::new();
    f.press("/");
    f.type_text("zebra");
    snapshot!("filter_nothing", screen(&mut f));
}

/// The help scrolls past the key bindings to the keys of text fields, the date
/// syntax, files and the palette's commands about the server.
#[test]
fn help_scrolls_to_text_keys_and_dates() {
    let mut f = Fixture::new();
    f.press("?");
    for _ in 0..10 {
        f.press("ctrl-d");
    }
    let shown = screen(&mut f);
    for expected in [
        "ctrl-w",
        "Dates",
        "+2w -1w",
        "tomorrow",
        "Files",
        "$OPENER",
        "On the server",
        "which mails the server sends",
        "privacy notice",
    ] {
        assert!(shown.contains(expected), "{expected} missing:\n{shown}");
    }
}

/// The history popup (lines given, so the snapshot does not depend on clocks).
#[test]
fn history_popup() {
    let mut f = Fixture::new();
    let id = f.app.selected_id().expect("selection");
    let line = |when: &str, what: &str| HistoryLine {
        op: cairn_common::OpId::new(),
        when: when.into(),
        who: "1a2b3c4d".into(),
        what: what.into(),
    };
    f.drive(Action::HistoryLoaded {
        id,
        result: Ok(vec![
            line("2026-11-01 09:00", "created the goal"),
            line("2026-11-01 09:00", "Title: — → Ship the v2 API"),
            line("2026-11-20 17:30", "Status: on track → at risk"),
        ]),
    });
    snapshot!("history", screen(&mut f));
}

/// A note with 80 lines of notes: the detail pane shows the first lines and says
/// there is more; `}` scrolls down to the last line and the marker turns to `{`.
#[test]
fn detail_pane_scrolls() {
    let f = Fixture::empty();
    let notes: Vec<String> = (1..=80).map(|n| format!("line {n} of the notes")).collect();
    let joined = notes.join("\n");
    super::create(
        &f.replica,
        cairn_common::model::RecordKind::Note,
        &[
            ("title", "Long 1:1"),
            ("date", "2026-11-02"),
            ("notes", &joined),
        ],
    );
    let mut f = Fixture::reopen(f);
    f.press("5");
    let first = screen(&mut f);
    assert!(first.contains("line 1 of the notes"), "{first}");
    assert!(!first.contains("line 80 of"), "{first}");
    assert!(
        first.contains("} more"),
        "no marker of more below:\n{first}"
    );
    for _ in 0..12 {
        f.press("}");
    }
    let last = screen(&mut f);
    assert!(last.contains("line 80 of the notes"), "{last}");
    assert!(last.contains("{ back"), "{last}");
    for _ in 0..12 {
        f.press("{");
    }
    assert!(
        screen(&mut f).contains("line 1 of the notes"),
        "back at the top"
    );
}

/// The reader renders a note's Markdown full-screen.
#[test]
fn reader_renders_markdown() {
    let f = Fixture::empty();
    super::create(
        &f.replica,
        cairn_common::model::RecordKind::Note,
        &[
            ("title", "1:1 with Ana"),
            ("date", "2026-11-02"),
            ("agenda", "# Agenda\n\n- growth\n- *training* budget"),
            (
                "notes",
                "Ana wants to **lead** the platform team.\n\n1. draft a plan\n2. review it",
            ),
        ],
    );
    let mut f = Fixture::reopen(f);
    f.press("5");
    f.press("v");
    snapshot!("reader", screen(&mut f));
}

/// The new-record form as the app opens it.
#[test]
fn form_popup() {
    let mut f = Fixture::new();
    f.press("n");
    snapshot!("form", screen(&mut f));
}

/// The conflict view as the app opens it.
#[test]
fn conflict_popup() {
    let mut f = Fixture::new();
    f.press("2");
    let title = f
        .titles()
        .into_iter()
        .find(|t| t.starts_with("Book the offsite "))
        .expect("conflicted record");
    f.select(&title);
    f.press("c");
    snapshot!("conflict", screen(&mut f));
}

/// A narrow terminal leaves out the side pane.
#[test]
fn narrow_terminal() {
    let mut f = Fixture::new();
    snapshot!("narrow", render(&mut f, 60, 16).to_string());
}

/// Under NO_COLOR no cell has a colour; emphasis is bold, reverse and underline.
#[test]
fn no_color_screen() {
    let mut f = Fixture::with_config(Config::no_color());
    f.press("2");
    let backend = render(&mut f, WIDTH, HEIGHT);
    for cell in backend.buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
    snapshot!("no_color", format!("{:?}", backend.buffer()));
}

/// The agenda: the fixture's open, dated records under overdue, today, this week, later.
#[test]
fn agenda() {
    let mut f = Fixture::new();
    f.press("A");
    f.press("j");
    snapshot!("agenda", screen(&mut f));
}

/// The search popup: hits of every kind with the field that matched and a snippet.
#[test]
fn search() {
    let mut f = Fixture::new();
    f.press("ctrl-f");
    f.type_text("ben");
    snapshot!("search", screen(&mut f));
}
