//! The history popup: every change of the selected record, oldest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Row, Table};

use super::action::HistoryLine;
use super::text;
use super::theme::Theme;

/// The loaded history and its scroll position.
#[derive(Debug, PartialEq, Eq)]
pub struct HistoryView {
    lines: Vec<HistoryLine>,
    scroll: usize,
}

impl HistoryView {
    #[must_use]
    pub fn new(lines: Vec<HistoryLine>) -> Self {
        Self { lines, scroll: 0 }
    }

    /// Scrolls by `delta` lines (clamped when drawn).
    pub fn scroll_by(&mut self, delta: isize) {
        self.scroll = self
            .scroll
            .saturating_add_signed(delta)
            .min(self.lines.len().saturating_sub(1));
    }
}

/// Draws the popup centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &HistoryView, theme: &Theme) {
    let wanted = u16::try_from(view.lines.len().max(1) + 2).unwrap_or(u16::MAX);
    let popup = super::draw::centered(area, 100, wanted);
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
    let inner = usize::from(popup.height.saturating_sub(2));
    let rows = view
        .lines
        .iter()
        .skip(view.scroll.min(view.lines.len().saturating_sub(inner)))
        .take(inner)
        .map(|line| {
            Row::new([
                Cell::from(line.when.as_str()).style(theme.dim),
                Cell::from(line.who.as_str()).style(theme.dim),
                Cell::from(line.what.as_str()),
            ])
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
