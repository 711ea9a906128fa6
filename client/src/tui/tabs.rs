//! The tab bar: the six kinds, each with its key and its number of live records.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Tabs;

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
    };
    binding
        .0
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
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
    let titles = RecordKind::ALL.map(|kind| {
        let live = index.kind(kind).live();
        Line::from(format!("{} {} ({live})", key_of(kind, keys), kind.title()))
    });
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
