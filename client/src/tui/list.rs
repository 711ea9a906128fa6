//! The record list: a windowed table of the current kind. Only the rows on screen are
//! formatted; overdue records are highlighted, records in conflict marked, and goals
//! carry a small progress bar.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use chrono::NaiveDate;

use super::index::{KindIndex, Row as IndexRow};
use super::theme::Theme;
use super::view::{ListView, window_offset};
use super::{layout, text};
use crate::present;

/// The progress column is widened to this so the bar is worth looking at.
const PROGRESS_WIDTH: u16 = 12;
/// Columns are left out rather than squeeze the title below this.
const MIN_TITLE: u16 = 20;

/// What the list pane draws from.
pub struct ListProps<'a> {
    pub kind: RecordKind,
    /// The rows of the kind and the view over them (filter, order, selection).
    pub index: &'a KindIndex,
    pub view: &'a ListView,
    /// Records are still streaming in (an empty list means "not yet").
    pub loading: bool,
    pub trash: bool,
    /// Overdue is before this day.
    pub today: NaiveDate,
    pub theme: &'a Theme,
}

/// Draws the list pane of one kind.
pub fn draw(frame: &mut Frame, area: Rect, props: &ListProps<'_>) {
    let theme = props.theme;
    let kind = props.kind;
    let view = props.view;
    let index = props.index;
    let filter_line = view.editing || !view.filter().is_empty();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(text::list_title(kind, props.trash)).style(theme.accent));
    frame.render_widget(block, area);
    let (filter_area, header_area, body) = layout::list_parts(area, filter_line);
    if let Some(filter_area) = filter_area {
        let mut spans = vec![
            Span::styled(text::FILTER_PROMPT, theme.accent),
            Span::raw(view.filter()),
        ];
        if view.editing {
            spans.push(Span::styled("▏", theme.accent));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), filter_area);
    }
    if view.visible().is_empty() {
        // While records stream in, an empty list only means they have not come yet.
        let empty = if props.loading {
            text::LIST_LOADING.to_owned()
        } else {
            text::empty_list(kind, props.trash, view.filter())
        };
        frame.render_widget(Paragraph::new(empty).style(theme.dim), body);
        return;
    }
    let columns = present::columns(kind);
    let shown = shown_columns(kind, body.width, index.sort.column);
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(1))
        .chain(shown.iter().map(|&i| match column_width(kind, i) {
            0 => Constraint::Fill(1),
            w => Constraint::Length(w),
        }))
        .collect();
    let sort = index.sort;
    let header = Row::new(
        std::iter::once(Cell::from("")).chain(shown.iter().map(|&i| {
            let c = &columns[i];
            if i == sort.column {
                let arrow = if sort.reverse { "▼" } else { "▲" };
                Cell::from(format!("{}{arrow}", c.label)).style(theme.accent)
            } else {
                Cell::from(c.label)
            }
        })),
    )
    .style(theme.dim);
    let height = usize::from(body.height);
    let offset = window_offset(view.offset, view.selected, height);
    let rows = view
        .visible()
        .iter()
        .skip(offset)
        .take(height)
        .filter_map(|&i| index.row(i))
        .map(|row| table_row(row, kind, &shown, props));
    let table = Table::new(rows, widths.clone())
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .style(theme.text);
    let mut state = TableState::default().with_selected(Some(view.selected - offset));
    frame.render_widget(Table::new([header], widths).column_spacing(1), header_area);
    frame.render_stateful_widget(table, body, &mut state);
}

/// Width a column asks for (0: takes what is left).
fn column_width(kind: RecordKind, column: usize) -> u16 {
    match present::columns(kind).get(column) {
        Some(c) if kind == RecordKind::Goal && c.field == "progress" => PROGRESS_WIDTH,
        Some(c) => c.width,
        None => 0,
    }
}

/// The columns that fit in `width`, in order: the title always, then the sorted
/// column, then the others from the left, each only if the title keeps at least
/// [`MIN_TITLE`] cells.
fn shown_columns(kind: RecordKind, width: u16, sorted: usize) -> Vec<usize> {
    // The marker column and its spacing.
    let mut used = 2;
    let mut shown = vec![0];
    let others = (1..present::columns(kind).len()).filter(|&i| i != sorted);
    for i in std::iter::once(sorted).filter(|&i| i != 0).chain(others) {
        let w = column_width(kind, i) + 1;
        if width.saturating_sub(used + w) >= MIN_TITLE {
            used += w;
            shown.push(i);
        }
    }
    shown.sort_unstable();
    shown
}

fn table_row<'a>(
    row: &'a IndexRow,
    kind: RecordKind,
    shown: &[usize],
    props: &ListProps<'_>,
) -> Row<'a> {
    let theme = props.theme;
    let marker = if row.in_conflict() {
        Cell::from(text::CONFLICT_MARK).style(theme.conflict)
    } else {
        Cell::from("")
    };
    let columns = present::columns(kind);
    let cells = row
        .cells()
        .zip(columns)
        .enumerate()
        .filter(|(i, _)| shown.contains(i))
        .map(|(_, (cell, column))| {
            if kind == RecordKind::Goal && column.field == "progress" {
                Cell::from(progress_bar(
                    row.progress,
                    usize::from(PROGRESS_WIDTH),
                    theme,
                ))
            } else {
                Cell::from(cell)
            }
        });
    let style = if row.is_overdue(props.today) && !props.trash {
        theme.overdue
    } else if props.trash {
        theme.dim
    } else {
        Style::new()
    };
    Row::new(std::iter::once(marker).chain(cells)).style(style)
}

/// A bar of eighth blocks and the percentage, `width` cells in all: `█████▍  72%`.
#[must_use]
pub fn progress_bar(percent: u8, width: usize, theme: &Theme) -> Line<'static> {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let percent = usize::from(percent.min(100));
    let bar_width = width.saturating_sub(5);
    let eighths = percent * bar_width * 8 / 100;
    let mut bar = "█".repeat(eighths / 8);
    bar.push_str(EIGHTHS[eighths % 8]);
    let filled = bar.chars().count();
    let empty = if theme.colored { " " } else { "·" };
    let rest = empty.repeat(bar_width.saturating_sub(filled));
    Line::from(vec![
        Span::styled(bar, theme.chart),
        Span::styled(rest, theme.dim),
        Span::raw(format!("{percent:>4}%")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bar fills in proportion and always takes the same width.
    #[test]
    fn progress_bar_fills_in_proportion() {
        let theme = Theme::default();
        let text = |p| {
            progress_bar(p, 12, &theme)
                .spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        assert_eq!(text(0), format!("{}   0%", " ".repeat(7)));
        assert_eq!(text(100), "███████ 100%");
        assert_eq!(text(50), "███▌     50%");
        for p in [0, 7, 33, 99, 100] {
            assert_eq!(text(p).chars().count(), 12, "{p}");
        }
    }
}
