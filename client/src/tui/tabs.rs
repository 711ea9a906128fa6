//! The tab bar: every kind, each with its key and its number of live records; a
//! click on a tab goes there.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Tabs;

use unicode_width::UnicodeWidthStr;

use super::index::Index;
use super::keys::KeyBindings;
use super::theme::Theme;

/// The key shown before a tab's title: the first key of its binding.
fn key_of(kind: RecordKind, keys: &KeyBindings) -> String {
    let binding = match kind {
        RecordKind::Goal => &keys.tab_goals,
        RecordKind::Commitment => &keys.tab_commitments,
        RecordKind::Task => &keys.tab_tasks,
        RecordKind::Activity => &keys.tab_activities,
        RecordKind::Note => &keys.tab_notes,
        RecordKind::Potential => &keys.tab_potentials,
        RecordKind::Person => &keys.tab_people,
        RecordKind::File => &keys.tab_files,
    };
    binding
        .0
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A kind's name on a narrow tab bar.
fn short_title(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Task => "Tasks",
        RecordKind::Note => "Notes",
        other => other.title(),
    }
}

/// The tab titles for a bar `room` cells wide: the long form when it fits ("3
/// Standard tasks (12)"), else the short names with counts, else the short names
/// alone, so every tab stays visible. No counts while records still stream in: they
/// would be too low.
fn titles(room: usize, index: &Index, keys: &KeyBindings) -> [String; RecordKind::ALL.len()] {
    let count = |kind: RecordKind| {
        if index.is_loading() {
            String::new()
        } else {
            format!(" ({})", index.kind(kind).live())
        }
    };
    let long = |kind: RecordKind| format!("{} {}{}", key_of(kind, keys), kind.title(), count(kind));
    let short = |kind: RecordKind| {
        format!(
            "{} {}{}",
            key_of(kind, keys),
            short_title(kind),
            count(kind)
        )
    };
    let bare = |kind: RecordKind| format!("{} {}", key_of(kind, keys), short_title(kind));
    let width = |title: &dyn Fn(RecordKind) -> String| -> usize {
        RecordKind::ALL.iter().map(|k| title(*k).width() + 3).sum()
    };
    let pick: &dyn Fn(RecordKind) -> String = if width(&long) <= room {
        &long
    } else if width(&short) <= room {
        &short
    } else {
        &bare
    };
    RecordKind::ALL.map(pick)
}

/// The kind whose tab is at column `x` of a bar drawn in `area` (a mouse click).
#[must_use]
pub fn tab_at(x: u16, area: Rect, index: &Index, keys: &KeyBindings) -> Option<RecordKind> {
    let mut left = usize::from(area.x);
    let x = usize::from(x);
    for (kind, title) in RecordKind::ALL
        .iter()
        .zip(titles(usize::from(area.width), index, keys))
    {
        // Padding, title, padding, then the divider.
        let right = left + title.width() + 2;
        if (left..right).contains(&x) {
            return Some(*kind);
        }
        left = right + 1;
    }
    None
}

/// Draws the tabs with `current` highlighted.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    current: RecordKind,
    index: &Index,
    keys: &KeyBindings,
    theme: &Theme,
) {
    let titles = titles(usize::from(area.width), index, keys).map(Line::from);
    let tabs =
        Tabs::new(titles)
            .select(current.index())
            .style(theme.dim)
            .highlight_style(theme.accent.patch(
                ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
            ))
            .divider("│")
            .padding(" ", " ");
    frame.render_widget(tabs, area);
}
