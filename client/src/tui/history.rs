//! The history popup: every change of the selected record, oldest first. One line is
//! selected (j/k); `R` makes the record show again what it showed after that change.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Row, Table};

use super::action::HistoryLine;
use super::text;
use super::theme::Theme;

/// The loaded history and the selected line (the newest at first).
#[derive(Debug, PartialEq, Eq)]
pub struct HistoryView {
    lines: Vec<HistoryLine>,
    selected: usize,
}

impl HistoryView {
    #[must_use]
    pub fn new(lines: Vec<HistoryLine>) -> Self {
        let selected = lines.len().saturating_sub(1);
        Self { lines, selected }
    }

    /// Moves the selection by `delta` lines, within the history.
    pub fn scroll_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.lines.len().saturating_sub(1));
    }

    /// The op of the selected line: the version `R` reverts to.
    #[must_use]
    pub fn selected_op(&self) -> Option<cairn_common::OpId> {
        self.lines.get(self.selected).map(|line| line.op)
    }
}

/// Draws the popup centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &HistoryView, theme: &Theme) {
    let wanted = u16::try_from(view.lines.len().max(1) + 2).unwrap_or(u16::MAX);
    let popup = super::layout::centered(area, 100, wanted);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(text::HISTORY_TITLE).style(theme.accent));
    frame.render_widget(Clear, popup);
    if view.lines.is_empty() {
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text::HISTORY_EMPTY)
                .style(theme.dim)
                .block(block),
            popup,
        );
        return;
    }
    let inner = usize::from(popup.height.saturating_sub(2)).max(1);
    // The window keeps the selected line in view.
    let first = view
        .selected
        .saturating_sub(inner - 1)
        .min(view.lines.len().saturating_sub(inner));
    let rows = view
        .lines
        .iter()
        .enumerate()
        .skip(first)
        .take(inner)
        .map(|(i, line)| {
            let row = Row::new([
                Cell::from(line.when.as_str()).style(theme.dim),
                Cell::from(line.who.as_str()).style(theme.dim),
                Cell::from(line.what.as_str()),
            ]);
            if i == view.selected {
                row.style(theme.selected)
            } else {
                row
            }
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    )
    .column_spacing(1)
    .block(block)
    .style(theme.text);
    frame.render_widget(table, popup);
}
