//! The person screen (`p`): everything about one person in the groups a 1:1 is
//! prepared from: open commitments both ways, goals with progress, follow-ups due,
//! the potential assessment, and conversations newest first. j/k move, Enter jumps
//! to the record, `n` starts the next 1:1 note with an agenda built from it all.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::text;
use super::theme::Theme;
use crate::people::{Item, Overview};

/// The loaded overview and the selected row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonView {
    pub overview: Overview,
    /// `(section title, item)` in screen order.
    rows: Vec<(&'static str, Item)>,
    selected: usize,
}

impl PersonView {
    #[must_use]
    pub fn new(overview: Overview) -> Self {
        let mut rows = Vec::new();
        let sections: [(&'static str, &Vec<Item>); 5] = [
            (text::PERSON_COMMITMENTS_BY, &overview.commitments_by),
            (text::PERSON_COMMITMENTS_TO, &overview.commitments_to),
            (text::PERSON_GOALS, &overview.goals),
            (text::PERSON_FOLLOW_UPS, &overview.follow_ups),
            (text::PERSON_CONVERSATIONS, &overview.conversations),
        ];
        for (title, items) in sections {
            rows.extend(items.iter().map(|i| (title, i.clone())));
        }
        if let Some(potential) = &overview.potential {
            rows.push((text::PERSON_POTENTIAL, potential.clone()));
        }
        Self {
            overview,
            rows,
            selected: 0,
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.rows.len().saturating_sub(1));
    }

    /// The record of the selected row.
    #[must_use]
    pub fn selected(&self) -> Option<&Item> {
        self.rows.get(self.selected).map(|(_, item)| item)
    }
}

/// Draws the screen over `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &PersonView, theme: &Theme) {
    let o = &view.overview;
    let title = if o.about.is_empty() {
        format!(" {} — {} ", o.name, text::PERSON_KEYS)
    } else {
        format!(" {} ({}) — {} ", o.name, o.about, text::PERSON_KEYS)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title).style(theme.accent));
    let inner = block.inner(area);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut selected_line = 0;
    let mut section = "";
    for (i, (title, item)) in view.rows.iter().enumerate() {
        if *title != section {
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(title.to_string(), theme.accent));
            section = title;
        }
        if i == view.selected {
            selected_line = lines.len();
        }
        let style = if i == view.selected {
            theme.selected
        } else if item.overdue {
            theme.overdue
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {}", item.title), style),
            Span::styled(
                if item.detail.is_empty() {
                    String::new()
                } else {
                    format!("  {}", item.detail)
                },
                theme.dim,
            ),
        ]));
    }
    if view.rows.is_empty() {
        lines.push(Line::styled(text::PERSON_NOTHING, theme.dim));
    }
    if !o.open_points.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled(text::PERSON_OPEN_POINTS, theme.accent));
        lines.extend(
            o.open_points
                .iter()
                .map(|p| Line::styled(format!("  {p}"), theme.text)),
        );
    }
    let room = usize::from(inner.height);
    let scroll = selected_line.saturating_sub(room.saturating_sub(2));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}
