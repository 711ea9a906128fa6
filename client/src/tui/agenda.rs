//! The agenda (`A`): everything open with a date, over every kind, under four
//! headings: overdue, today, this week (the next seven days) and later. Commitment
//! and goal due dates, standard tasks' next due dates, conversation follow-ups and
//! potential reviews (`present::due_date`); done, kept, achieved and deleted records
//! are left out. Built from the row index alone, so it opens at once at any size; it
//! keeps ids and dates only and reads titles from the index when drawing.

use std::cell::Cell;

use cairn_common::RecordId;
use cairn_common::model::RecordKind;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table};

use super::index::Index;
use super::text;
use super::theme::Theme;
use super::view::window_offset;

/// Days after today that count as "this week".
const WEEK_DAYS: i64 = 7;

/// The four groups, in the order shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Overdue,
    Today,
    ThisWeek,
    Later,
}

impl Bucket {
    const ALL: [Self; 4] = [Self::Overdue, Self::Today, Self::ThisWeek, Self::Later];

    /// The group of a date seen from `today`.
    #[must_use]
    pub fn of(date: NaiveDate, today: NaiveDate) -> Self {
        match (date - today).num_days() {
            ..0 => Self::Overdue,
            0 => Self::Today,
            1..=WEEK_DAYS => Self::ThisWeek,
            _ => Self::Later,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One dated record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgendaEntry {
    pub kind: RecordKind,
    pub id: RecordId,
    pub date: NaiveDate,
}

/// A line of the agenda as drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AgendaLine {
    Heading(Bucket),
    Entry(usize),
    /// A group with nothing in it.
    Nothing,
    Blank,
}

/// The agenda's entries (by date) and the selection.
#[derive(Debug, PartialEq)]
pub struct AgendaView {
    entries: Vec<AgendaEntry>,
    /// Entries per bucket.
    counts: [usize; 4],
    today: NaiveDate,
    selected: usize,
    /// First line on screen: drawing keeps the selection in view (a cell, as drawing
    /// only reads).
    offset: Cell<usize>,
}

impl AgendaView {
    /// Collects every open, dated record from the index, soonest first; on the same
    /// date by kind (tab order), then title.
    #[must_use]
    pub fn build(index: &Index, today: NaiveDate) -> Self {
        // Sorted with the titles borrowed from the rows at hand: looking them up by
        // id inside the comparison made this three times slower at 100,000 records.
        let mut keyed = Vec::new();
        for kind in RecordKind::ALL {
            let rows = index.kind(kind);
            // In storage order, not sorted order: fewer cache misses.
            let count = u32::try_from(rows.order().len()).unwrap_or(u32::MAX);
            for row in (0..count).filter_map(|i| rows.row(i)) {
                if let Some(date) = row.open_due() {
                    keyed.push((date, kind, row.cell(0), row.id));
                }
            }
        }
        // Date, then kind in tab order (the enum's order), then title, then id.
        keyed.sort_unstable();
        let entries: Vec<AgendaEntry> = keyed
            .into_iter()
            .map(|(date, kind, _, id)| AgendaEntry { kind, id, date })
            .collect();
        let mut counts = [0; 4];
        for entry in &entries {
            counts[Bucket::of(entry.date, today).index()] += 1;
        }
        Self {
            entries,
            counts,
            today,
            selected: 0,
            offset: Cell::new(0),
        }
    }

    /// The entries, soonest first.
    #[must_use]
    pub fn entries(&self) -> &[AgendaEntry] {
        &self.entries
    }

    /// How many entries each group holds: overdue, today, this week, later.
    #[must_use]
    pub fn counts(&self) -> [usize; 4] {
        self.counts
    }

    #[must_use]
    pub fn selected(&self) -> Option<&AgendaEntry> {
        self.entries.get(self.selected)
    }

    /// Moves the selection by `delta` entries, within the agenda.
    pub fn move_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.entries.len().saturating_sub(1));
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
    }

    pub fn select_last(&mut self) {
        self.selected = self.entries.len().saturating_sub(1);
    }

    /// Lines of one bucket's block: heading, entries (or "nothing"), blank.
    fn block_lines(&self, bucket: Bucket) -> usize {
        1 + self.counts[bucket.index()].max(1) + usize::from(bucket != Bucket::Later)
    }

    fn total_lines(&self) -> usize {
        Bucket::ALL.iter().map(|&b| self.block_lines(b)).sum()
    }

    /// The line the selected entry is drawn on.
    fn selected_line(&self) -> usize {
        let mut line = 0;
        let mut first = 0;
        for bucket in Bucket::ALL {
            let count = self.counts[bucket.index()];
            if self.selected < first + count {
                return line + 1 + (self.selected - first);
            }
            line += self.block_lines(bucket);
            first += count;
        }
        0
    }

    /// What line `n` shows.
    fn line_at(&self, n: usize) -> AgendaLine {
        let mut line = 0;
        let mut first = 0;
        for bucket in Bucket::ALL {
            let count = self.counts[bucket.index()];
            let lines = self.block_lines(bucket);
            if n < line + lines {
                return match n - line {
                    0 => AgendaLine::Heading(bucket),
                    k if k <= count => AgendaLine::Entry(first + k - 1),
                    1 => AgendaLine::Nothing,
                    _ => AgendaLine::Blank,
                };
            }
            line += lines;
            first += count;
        }
        AgendaLine::Blank
    }
}

/// The record's title from the index, if it is still there.
fn title_of<'a>(index: &'a Index, entry: &AgendaEntry) -> Option<&'a str> {
    let rows = index.kind(entry.kind);
    rows.find(&entry.id)
        .and_then(|i| rows.row(i))
        .map(|row| row.cell(0))
}

/// Draws the agenda full-screen over `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &AgendaView, index: &Index, theme: &Theme) {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(text::AGENDA_TITLE).style(theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height.max(1));
    let total = view.total_lines();
    let offset = window_offset(view.offset.get(), view.selected_line(), height)
        .min(total.saturating_sub(height));
    view.offset.set(offset);
    let widths = [
        Constraint::Length(2),
        Constraint::Length(11),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(14),
        Constraint::Length(13),
    ];
    for (y, n) in (offset..total.min(offset + height)).enumerate() {
        let at = Rect {
            y: inner.y + u16::try_from(y).unwrap_or(u16::MAX),
            height: 1,
            ..inner
        };
        match view.line_at(n) {
            AgendaLine::Heading(bucket) => {
                let heading = text::agenda_heading(
                    bucket.index(),
                    view.counts[bucket.index()],
                    view.today,
                    WEEK_DAYS,
                );
                frame.render_widget(Paragraph::new(heading).style(theme.accent), at);
            }
            AgendaLine::Nothing => {
                frame.render_widget(
                    Paragraph::new(format!("  {}", text::AGENDA_NOTHING)).style(theme.dim),
                    at,
                );
            }
            AgendaLine::Blank => {}
            AgendaLine::Entry(i) => {
                let Some(entry) = view.entries.get(i) else {
                    continue;
                };
                let title = title_of(index, entry).unwrap_or(text::AGENDA_GONE);
                let days = (entry.date - view.today).num_days();
                let row = Row::new([
                    String::new(),
                    entry.kind.key().to_owned(),
                    title.to_owned(),
                    text::agenda_reason(entry.kind).to_owned(),
                    entry.date.format("%a %Y-%m-%d").to_string(),
                    text::agenda_relative(days),
                ]);
                let style = if i == view.selected {
                    theme.selected
                } else if days < 0 {
                    theme.overdue
                } else {
                    theme.text
                };
                frame.render_widget(Table::new([row.style(style)], widths).column_spacing(1), at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    /// Dates fall into overdue, today, the next seven days, and later.
    #[test]
    fn buckets_by_date() {
        let today = date("2026-11-22");
        assert_eq!(Bucket::of(date("2026-11-21"), today), Bucket::Overdue);
        assert_eq!(Bucket::of(date("2026-11-22"), today), Bucket::Today);
        assert_eq!(Bucket::of(date("2026-11-23"), today), Bucket::ThisWeek);
        assert_eq!(Bucket::of(date("2026-11-29"), today), Bucket::ThisWeek);
        assert_eq!(Bucket::of(date("2026-11-30"), today), Bucket::Later);
    }
}
