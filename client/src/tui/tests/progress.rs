//! A goal's progress in the list and the details follows the one rule (the mean of
//! its key results, not the figure entered).

use cairn_common::model::RecordKind;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{Fixture, create, today};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::config::Config;

/// A goal with key results at 40% and 80% and 10% entered shows 60% in its list row,
/// in the detail pane's gauge and in its Progress line, and 10% nowhere.
#[test]
fn goal_with_key_results_shows_their_mean() {
    let mut f = Fixture::empty();
    create(
        &f.replica,
        RecordKind::Goal,
        &[
            ("title", "Grow the team"),
            ("progress", "10"),
            ("key_results", "Hires: 4/10 people; Budget: 8/10"),
        ],
    );
    f.app = App::new(&f.replica, Config::default(), today()).expect("app");
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    let lines: Vec<String> = (0..30)
        .map(|y| (0..120).map(|x| buffer[(x, y)].symbol()).collect())
        .collect();
    let screen = lines.join("\n");
    let row = lines
        .iter()
        .find(|l| l.contains("Grow the team") && l.contains('%'))
        .unwrap_or_else(|| panic!("no list row with a progress:\n{screen}"));
    assert!(row.contains("60%"), "{row}");
    let progress_lines: Vec<&String> = lines.iter().filter(|l| l.contains("Progress")).collect();
    assert!(
        progress_lines.iter().filter(|l| l.contains("60%")).count() >= 2,
        "gauge and Progress line:\n{screen}"
    );
    assert!(!screen.contains("10%"), "{screen}");
}
