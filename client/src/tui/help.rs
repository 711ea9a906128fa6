//! The help overlay: every key binding, as configured, with what it does and its name
//! in `[keys]`, straight from [`KeyBindings::describe`], so it can never go stale;
//! then the keys of text fields, how dates are written, files (paths, `$OPENER`)
//! and the palette's commands about the server. It scrolls (j/k, pages).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Row, Table};

use super::keys::KeyBindings;
use super::text;
use super::theme::Theme;

/// The overlay's scroll position.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HelpView {
    pub scroll: usize,
}

impl HelpView {
    /// Scrolls by `delta` lines (clamped when drawn).
    pub fn scroll_by(&mut self, delta: isize) {
        self.scroll = self.scroll.saturating_add_signed(delta);
    }
}

/// Draws the overlay centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &HelpView, keys: &KeyBindings, theme: &Theme) {
    let bindings = keys.describe();
    let key_width = bindings
        .iter()
        .map(|(_, b, _)| b.to_string().chars().count())
        .max()
        .unwrap_or(4)
        .max(text::HELP_HEADER.0.len());
    let name_width = bindings.iter().map(|(n, _, _)| n.len()).max().unwrap_or(4);
    // Every row: the bindings, then the text keys and the date syntax.
    let mut all: Vec<Row<'_>> = bindings
        .iter()
        .map(|(name, binding, help)| {
            Row::new([
                Cell::from(binding.to_string()).style(theme.accent),
                Cell::from(*help),
                Cell::from(*name).style(theme.dim),
            ])
        })
        .collect();
    for (heading, rows) in [
        (text::HELP_TEXT_KEYS_HEADING, text::HELP_TEXT_KEYS),
        (text::HELP_DATES_HEADING, text::HELP_DATES),
        (text::HELP_FILES_HEADING, text::HELP_FILES),
        (text::HELP_SERVER_HEADING, text::HELP_SERVER),
    ] {
        all.push(Row::new([Cell::from(""), Cell::from(""), Cell::from("")]));
        all.push(Row::new([
            Cell::from(""),
            Cell::from(heading).style(theme.accent),
            Cell::from(""),
        ]));
        all.extend(rows.iter().map(|(keys, what)| {
            Row::new([
                Cell::from(*keys).style(theme.accent),
                Cell::from(*what),
                Cell::from(""),
            ])
        }));
    }
    let total = all.len();
    let rows_needed = u16::try_from(total + 3).unwrap_or(u16::MAX);
    let popup = super::layout::centered(area, 90, rows_needed);
    let inner_rows = usize::from(popup.height.saturating_sub(3));
    let scroll = view.scroll.min(total.saturating_sub(inner_rows));
    let rows = all.into_iter().skip(scroll).take(inner_rows);
    let widths = [
        Constraint::Length(u16::try_from(key_width).unwrap_or(12)),
        Constraint::Fill(1),
        Constraint::Length(u16::try_from(name_width).unwrap_or(16)),
    ];
    let (k, d, n) = text::HELP_HEADER;
    let table = Table::new(rows, widths)
        .header(Row::new([k, d, n]).style(theme.dim))
        .column_spacing(2)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Line::from(text::HELP_TITLE).style(theme.accent)),
        )
        .style(theme.text);
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
