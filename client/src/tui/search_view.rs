//! The search popup (`ctrl-f`, `S`): the query line, how far the search got, and the
//! hits (kind, title, the field that matched and a snippet), sorted by kind and title
//! as they stream in. The state outlives the popup: after Enter jumps to a hit, `n`
//! and `N` step through the same hits, and reopening shows them again.

use std::cmp::Ordering;

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table};

use super::line_input::LineInput;
use super::query::{Query, fold_char};
use super::search::{SearchBatch, SearchHit, SearchRequest};
use super::text;
use super::theme::Theme;
use super::view::window_offset;

/// The query, its hits and the selection.
#[derive(Debug, Default, PartialEq)]
pub struct SearchView {
    pub input: LineInput,
    /// The generation of the last request sent; answers of others are dropped.
    generation: u64,
    /// Why the query cannot be read, if it cannot.
    error: Option<String>,
    /// Sorted by kind (tab order), then title, then id.
    hits: Vec<SearchHit>,
    selected: usize,
    scanned: usize,
    done: bool,
    truncated: bool,
    /// After a jump to a hit: `n`/`N` on the main screen step through the hits.
    pub stepping: bool,
}

impl SearchView {
    /// Reads the query typed and starts over: the hits of the old query go, and the
    /// request for the new one is returned. An empty or unreadable query still makes
    /// a request (with no terms, finished at once), so an older search stops.
    pub fn restart<'a>(
        &mut self,
        today: NaiveDate,
        people: impl Iterator<Item = (cairn_common::RecordId, &'a str)> + Clone,
    ) -> SearchRequest {
        self.generation += 1;
        self.hits.clear();
        self.selected = 0;
        self.scanned = 0;
        self.done = false;
        self.truncated = false;
        self.stepping = false;
        let query = match Query::parse(&self.input.text()) {
            Ok(query) => {
                self.error = None;
                query.with_people(people)
            }
            Err(e) => {
                self.error = Some(e);
                Query::default()
            }
        };
        SearchRequest {
            generation: self.generation,
            query,
            today,
        }
    }

    /// Takes in a batch of the current request (others are stale and dropped). The
    /// selected hit stays selected as new ones are sorted in around it.
    pub fn take(&mut self, batch: SearchBatch) {
        if batch.generation != self.generation {
            return;
        }
        let keep = self.hits.get(self.selected).map(|h| h.id);
        for hit in batch.hits {
            let at = self
                .hits
                .partition_point(|h| order(h, &hit) == Ordering::Less);
            self.hits.insert(at, hit);
        }
        if let Some(id) = keep
            && let Some(at) = self.hits.iter().position(|h| h.id == id)
        {
            self.selected = at;
        }
        // Batches may be handled out of order (tests drive them from a stack).
        self.scanned = self.scanned.max(batch.scanned);
        self.done |= batch.done;
        self.truncated |= batch.truncated;
        if let Some(e) = batch.error {
            self.error = Some(e);
        }
    }

    #[must_use]
    pub fn hits(&self) -> &[SearchHit] {
        &self.hits
    }

    #[must_use]
    pub fn selected(&self) -> Option<&SearchHit> {
        self.hits.get(self.selected)
    }

    /// The selected hit's place, counted from 1.
    #[must_use]
    pub fn position(&self) -> usize {
        self.selected + 1
    }

    /// Whether every record was read (so the count is final).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Moves the selection by `delta`, within the hits; whether it moved.
    pub fn move_by(&mut self, delta: isize) -> bool {
        let before = self.selected;
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.hits.len().saturating_sub(1));
        self.selected != before
    }
}

/// Kind in tab order, then title ignoring case, then id: a total order, so hits land
/// in the same place whatever batch brings them.
fn order(a: &SearchHit, b: &SearchHit) -> Ordering {
    a.kind
        .index()
        .cmp(&b.kind.index())
        .then_with(|| {
            a.title
                .chars()
                .map(fold_char)
                .cmp(b.title.chars().map(fold_char))
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// Draws the popup over `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &SearchView, theme: &Theme) {
    let popup = super::layout::centered(area, 120, area.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(text::SEARCH_TITLE).style(theme.accent))
        .title_bottom(Line::from(text::SEARCH_SYNTAX).style(theme.dim));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [input, status, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    let mut query = vec![Span::styled("> ", theme.accent)];
    query.extend(
        view.input
            .line(
                input.width.saturating_sub(2),
                theme.text,
                Some(theme.selected),
            )
            .spans,
    );
    frame.render_widget(Paragraph::new(Line::from(query)), input);
    let empty = view.input.text().trim().is_empty();
    let (line, style) = match &view.error {
        Some(e) => (e.clone(), theme.error),
        None if empty => (text::SEARCH_EMPTY.to_owned(), theme.dim),
        None => (
            text::search_status(view.hits.len(), view.scanned, view.done, view.truncated),
            theme.dim,
        ),
    };
    frame.render_widget(Paragraph::new(line).style(style), status);
    if view.hits.is_empty() {
        return;
    }
    let height = usize::from(list.height.max(1));
    let offset = window_offset(0, view.selected, height);
    let rows = view
        .hits
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, hit)| {
            // A title match needs no snippet: the title is in the next column.
            let found = if hit.found.snippet.is_empty() || hit.found.field == hit.kind.title_field()
            {
                hit.found.label.to_owned()
            } else {
                format!("{}: {}", hit.found.label, hit.found.snippet)
            };
            let row = Row::new([
                Cell::from(text::hit_kind(hit.kind, hit.deleted)).style(theme.dim),
                Cell::from(hit.title.as_str()),
                Cell::from(found).style(theme.dim),
            ]);
            if i == view.selected {
                row.style(theme.selected)
            } else {
                row
            }
        });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Percentage(40),
                Constraint::Fill(1),
            ],
        )
        .column_spacing(1)
        .style(theme.text),
        list,
    );
}
