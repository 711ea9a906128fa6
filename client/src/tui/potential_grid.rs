//! The 3×3 potential grid: performance left to right, potential bottom to top, each
//! box named (Star, Core player, …) with people's names in it. Built from the rows
//! shown, so it follows the filter; `b` steps through the boxes, filtering the list
//! to the people in one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::index::Row;
use super::text;
use super::theme::Theme;

/// Names kept per cell: more than any cell can show; the rest are only counted.
const NAMES_PER_CELL: usize = 12;

/// One cell of the grid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GridCell {
    pub count: usize,
    pub names: Vec<String>,
}

/// The grid, indexed `[potential][performance]` by rating (0 low … 2 high), and how
/// many people are not rated on both axes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grid {
    pub cells: [[GridCell; 3]; 3],
    pub unrated: usize,
    /// The box the list is filtered to (`b`), `(potential, performance)`.
    pub selected: Option<(usize, usize)>,
}

impl Grid {
    /// Places each row by its ratings, in the order given.
    pub fn of<'a>(rows: impl Iterator<Item = &'a Row>) -> Self {
        let mut grid = Self::default();
        for row in rows {
            let (Some(performance), Some(potential)) = (row.performance, row.potential) else {
                grid.unrated += 1;
                continue;
            };
            let cell = &mut grid.cells[potential.index()][performance.index()];
            cell.count += 1;
            if cell.names.len() < NAMES_PER_CELL {
                cell.names.push(row.cell(0).to_owned());
            }
        }
        grid
    }
}

/// Draws the grid in `area`: potential rows (high on top) labelled on the left,
/// performance columns (high on the right) labelled below.
pub fn draw(frame: &mut Frame, area: Rect, grid: &Grid, theme: &Theme) {
    let mut title = vec![Span::styled(text::GRID_TITLE, theme.accent)];
    if grid.unrated > 0 {
        title.push(Span::styled(text::unrated(grid.unrated), theme.dim));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [body, footer] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let [labels, cells] =
        Layout::horizontal([Constraint::Length(2), Constraint::Fill(1)]).areas(body);
    let rows = Layout::vertical([Constraint::Ratio(1, 3); 3]).split(cells);
    let label_rows = Layout::vertical([Constraint::Ratio(1, 3); 3]).split(labels);
    for (line, potential) in [2usize, 1, 0].into_iter().enumerate() {
        frame.render_widget(
            Paragraph::new(Span::styled(initial(potential), theme.dim)),
            label_rows[line],
        );
        let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(rows[line]);
        for performance in 0..3 {
            draw_cell(
                frame,
                cols[performance],
                &grid.cells[potential][performance],
                text::GRID_BOXES[potential][performance],
                (
                    potential == 2 && performance == 2,
                    grid.selected == Some((potential, performance)),
                ),
                theme,
            );
        }
    }
    let [_, footer] =
        Layout::horizontal([Constraint::Length(2), Constraint::Fill(1)]).areas(footer);
    let cols = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(footer);
    for (performance, area) in cols.iter().enumerate() {
        frame.render_widget(
            Paragraph::new(Span::styled(text::RATINGS[performance], theme.dim))
                .alignment(ratatui::layout::Alignment::Center),
            *area,
        );
    }
}

/// `H`, `M`, `L`: a row's label.
fn initial(rating: usize) -> String {
    text::RATINGS[rating]
        .chars()
        .take(1)
        .flat_map(char::to_uppercase)
        .collect()
}

fn draw_cell(
    frame: &mut Frame,
    area: Rect,
    cell: &GridCell,
    name: &str,
    (top, selected): (bool, bool),
    theme: &Theme,
) {
    // The top-right cell (high potential, high performance) is the one people look
    // for first; the box the list is filtered to stands out.
    let style = if selected {
        theme.accent
    } else if top {
        theme.ok
    } else {
        theme.border
    };
    let title_style = if selected { theme.selected } else { theme.dim };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Line::from(format!("{} {name}", cell.count)).style(title_style));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let room = usize::from(inner.height);
    if room == 0 {
        return;
    }
    let shown = if cell.count > room {
        room.saturating_sub(1)
    } else {
        room
    };
    let mut lines: Vec<Line<'_>> = cell
        .names
        .iter()
        .take(shown)
        .map(|n| Line::from(n.as_str()).style(theme.text))
        .collect();
    let rest = cell.count.saturating_sub(lines.len());
    if rest > 0 {
        lines.push(Line::from(text::more(rest)).style(theme.dim));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use cairn_common::model::Rating;

    use super::*;

    /// People land in the cell of their ratings; unrated ones are counted apart.
    #[test]
    fn places_people_by_rating() {
        let rows = [
            Row::for_test_ratings("Ana", Some(Rating::High), Some(Rating::High)),
            Row::for_test_ratings("Ben", Some(Rating::Low), Some(Rating::High)),
            Row::for_test_ratings("Cy", None, Some(Rating::Low)),
        ];
        let grid = Grid::of(rows.iter());
        assert_eq!(grid.cells[2][2].names, ["Ana"]);
        assert_eq!(grid.cells[2][0].names, ["Ben"]);
        assert_eq!(grid.unrated, 1);
        assert_eq!(
            grid.cells.iter().flatten().map(|c| c.count).sum::<usize>(),
            2
        );
    }
}
